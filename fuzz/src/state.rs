//! The disc state file parser (`<image>.tcmu-mmc.json`), and the drive on whatever it loads.
//!
//! Input: state text, then optionally a NUL byte and a command script in the layout of
//! [`crate::mmc`] (its records only: no header).
//!
//! Invariants: no panic; an accepted state passes validation and writes out to text that
//! parses back to the same disc; a drive holding it keeps every invariant of
//! [`crate::mmc`] under a fixed set of probing commands and then the script.
use tcmu_mmc::media::state;

use crate::input::Input;
use crate::mmc::{run_script, Harness};

/// Commands every loaded disc is probed with: capacity, TOC formats, disc and track
/// information (first, invisible, by LBA 0), GET CONFIGURATION, format capacities, the DVD
/// structure, then a write at LBA 0, a session close and a finalize.
const PROBES: &[&[u8]] = &[
    &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    &[0x43, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0],
    &[0x43, 0x02, 1, 0, 0, 0, 0, 0xff, 0xff, 0],
    &[0x43, 0x02, 2, 0, 0, 0, 0, 0xff, 0xff, 0],
    &[0x43, 0, 4, 0, 0, 0, 0, 0xff, 0xff, 0],
    &[0x51, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0],
    &[0x52, 1, 0, 0, 0, 1, 0, 0xff, 0xff, 0],
    &[0x52, 1, 0, 0, 0, 0xff, 0, 0xff, 0xff, 0],
    &[0x52, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0],
    &[0x52, 2, 0, 0, 0, 1, 0, 0xff, 0xff, 0],
    &[0x46, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0],
    &[0x23, 0, 0, 0, 0, 0, 0, 0xff, 0xfc, 0],
    &[0xad, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0],
    &[0x2a, 0, 0, 0, 0, 0, 0, 0, 16, 0],
    &[0x5b, 0, 2, 0, 0, 0, 0, 0, 0, 0],
    &[0x5b, 0, 6, 0, 0, 0, 0, 0, 0, 0],
];

pub fn run(data: &[u8]) {
    let (text, script) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(m) = state::parse(text) else {
        return;
    };
    m.validate()
        .expect("parse returned a state that does not validate");
    let json = state::to_json(&m);
    assert_eq!(
        state::parse(&json).as_ref(),
        Ok(&m),
        "state does not round-trip:\n{json}"
    );
    let mut h = Harness::new(Some(m), false, false);
    for cdb in PROBES {
        h.command(cdb, &[]);
    }
    run_script(&mut h, &mut Input::new(script));
}
