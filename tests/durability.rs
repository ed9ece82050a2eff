//! Every command that changes a disc, with each step of the media store failing or the daemon
//! dying just before it (injected): a failure answers 03/0C/00 and leaves the drive, the image
//! and the state file exactly as they were; a crash leaves files that load as the old disc or
//! as the new one, never a mix. Real commands through the fake kernel, real files.
mod common;

use common::*;
use tcmu_mmc::media::{self, Fault, FaultKind, MediaConfig};
use tcmu_mmc::mmc::Medium;
use tcmu_mmc::ring::fake::Completion;

const SYNC: [u8; 10] = [0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const READ_DISC_INFO: [u8; 10] = [0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0];
const READ_TRACK_INFO_1: [u8; 10] = [0x52, 1, 0, 0, 0, 1, 0, 0, 40, 0];
const READ_CAPACITY: [u8; 10] = [0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const FORMAT_WITH_DATA: [u8; 6] = [0x04, 0x11, 0, 0, 0, 0];
const BLANK_MINIMAL: [u8; 12] = [0xa1, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

fn close(function: u8, track: u8) -> [u8; 10] {
    [0x5b, 0, function, 0, 0, track, 0, 0, 0, 0]
}

fn reserve(blocks: u32) -> [u8; 10] {
    let b = blocks.to_be_bytes();
    [0x53, 0, 0, 0, 0, b[0], b[1], b[2], b[3], 0]
}

/// FORMAT UNIT's parameter list: one descriptor of `format` type with its parameter.
fn format_list(format: u8, param: u32) -> Vec<u8> {
    let p = param.to_be_bytes();
    vec![
        0,
        0x02,
        0,
        8,
        0xff,
        0xff,
        0xff,
        0xff,
        format << 2,
        p[1],
        p[2],
        p[3],
    ]
}

/// One command that changes the disc, and how the disc gets to where it is sent.
struct Case {
    name: &'static str,
    config: &'static str,
    /// Commands (CDB, Data-Out) that bring the disc to the state under test, each GOOD.
    prepare: Vec<(Vec<u8>, Vec<u8>)>,
    command: Vec<u8>,
    data: Vec<u8>,
    erases: bool,
}

fn pattern(blocks: usize, seed: u8) -> Vec<u8> {
    (0..blocks * 2048)
        .map(|i| seed ^ (i as u8).wrapping_mul(7))
        .collect()
}

fn cases() -> Vec<Case> {
    let w = |lba: u32, blocks: u16, seed: u8| {
        (write10(lba, blocks).to_vec(), pattern(blocks.into(), seed))
    };
    let sync = || (SYNC.to_vec(), vec![]);
    let fmt = |format: u8, param: u32| (FORMAT_WITH_DATA.to_vec(), format_list(format, param));
    vec![
        Case {
            name: "dvd+r sync",
            config: "type=dvd+r;capacity=4096",
            prepare: vec![w(0, 16, 1)],
            command: SYNC.to_vec(),
            data: vec![],
            erases: false,
        },
        Case {
            name: "dvd+r reserve track",
            config: "type=dvd+r;capacity=4096",
            prepare: vec![],
            command: reserve(64).to_vec(),
            data: vec![],
            erases: false,
        },
        Case {
            name: "dvd+r close track",
            config: "type=dvd+r;capacity=4096",
            prepare: vec![w(0, 16, 2), sync()],
            command: close(1, 1).to_vec(),
            data: vec![],
            erases: false,
        },
        Case {
            name: "dvd+r close session",
            config: "type=dvd+r;capacity=4096",
            prepare: vec![w(0, 32, 3)],
            command: close(2, 0).to_vec(),
            data: vec![],
            erases: false,
        },
        Case {
            name: "dvd+r finalize",
            config: "type=dvd+r;capacity=4096",
            prepare: vec![w(0, 16, 4), (close(2, 0).to_vec(), vec![])],
            command: close(6, 0).to_vec(),
            data: vec![],
            erases: false,
        },
        Case {
            name: "dvd+rw format",
            config: "type=dvd+rw;capacity=4096",
            prepare: vec![],
            command: FORMAT_WITH_DATA.to_vec(),
            data: format_list(0x26, 0),
            erases: true,
        },
        Case {
            name: "dvd+rw re-format with data",
            config: "type=dvd+rw;capacity=4096",
            prepare: vec![fmt(0x26, 0), w(100, 8, 5), w(7, 1, 6), sync()],
            command: FORMAT_WITH_DATA.to_vec(),
            data: format_list(0x26, 0),
            erases: true,
        },
        Case {
            name: "cd-rw blank",
            config: "type=cd-rw;capacity=4096",
            prepare: vec![fmt(0x10, 32), w(0, 32, 7), w(64, 32, 8), sync()],
            command: BLANK_MINIMAL.to_vec(),
            data: vec![],
            erases: true,
        },
        Case {
            name: "dvd-rw format",
            config: "type=dvd-rw;capacity=4096",
            prepare: vec![],
            command: FORMAT_WITH_DATA.to_vec(),
            data: format_list(0x10, 16),
            erases: true,
        },
        Case {
            name: "dvd-rw blank",
            config: "type=dvd-rw;capacity=4096",
            prepare: vec![fmt(0x10, 16), w(16, 16, 9), sync()],
            command: BLANK_MINIMAL.to_vec(),
            data: vec![],
            erases: true,
        },
    ]
}

/// Everything an initiator and the files can tell about the disc.
#[derive(PartialEq, Eq)]
struct Snapshot {
    image: Vec<u8>,
    state: Option<Vec<u8>>,
    medium: Option<Medium>,
    answers: Vec<(u8, Vec<u8>)>,
}

impl std::fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sum = |b: &[u8]| {
            b.iter()
                .fold(0u64, |h, &x| h.wrapping_mul(31).wrapping_add(x.into()))
        };
        f.debug_struct("Snapshot")
            .field("image", &(self.image.len(), sum(&self.image)))
            .field("state", &self.state.as_deref().map(String::from_utf8_lossy))
            .field("medium", &self.medium)
            .field("answers", &self.answers)
            .finish()
    }
}

fn run(rig: &mut Rig, cdb: &[u8], data: &[u8]) -> Completion {
    if data.is_empty() {
        rig.one(cdb, 0)
    } else {
        rig.kernel.queue_write(cdb, data).unwrap();
        let mut c = rig.serve();
        assert_eq!(c.len(), 1);
        c.pop().unwrap()
    }
}

fn snapshot(rig: &mut Rig, img: &TempImage, state: &TempImage) -> Snapshot {
    // A unit attention the change raised is the host's news, not the disc's: take it first.
    rig.one(&[0x03, 0, 0, 0, 18, 0], 18);
    let answers = [&READ_DISC_INFO[..], &READ_TRACK_INFO_1, &READ_CAPACITY]
        .iter()
        .map(|cdb| {
            let c = rig.one(cdb, 64);
            (c.status, c.data)
        })
        .collect();
    Snapshot {
        image: std::fs::read(&img.0).unwrap(),
        state: std::fs::read(&state.0).ok(),
        medium: rig.device.medium().cloned(),
        answers,
    }
}

/// A fresh disc for `case`, prepared; the rig, the image and its state file.
fn prepared(case: &Case, tag: &str) -> (Rig, TempImage, TempImage, String) {
    let (img, state) = blank_image(tag);
    let config = format!("mmc/{};{}", img.0.display(), case.config);
    let mut rig = Rig::new(&config);
    for (cdb, data) in &case.prepare {
        let c = run(&mut rig, cdb, data);
        assert_eq!(c.status, 0, "{}: preparing with {cdb:02x?}", case.name);
    }
    (rig, img, state, config)
}

fn reload(config: &str) -> Rig {
    Rig::with(media::load(&MediaConfig::parse(config).unwrap()))
}

/// The steps a change of this case goes through.
fn steps(case: &Case) -> Vec<Fault> {
    let mut steps = vec![Fault::FlushData, Fault::SaveState];
    if case.erases {
        steps.extend([Fault::Erase, Fault::ClearErase]);
    }
    steps
}

#[test]
fn a_failed_step_leaves_everything_as_it_was() {
    for case in cases() {
        for step in steps(&case) {
            let tag = format!("fail-{}-{step:?}", case.name.replace([' ', '+'], "_"));
            let (mut rig, img, state, config) = prepared(&case, &tag);
            let before = snapshot(&mut rig, &img, &state);
            rig.device
                .disc_mut()
                .unwrap()
                .inject_fault(step, FaultKind::Fail);
            let c = run(&mut rig, &case.command, &case.data);
            let what = format!("{} with {step:?} failing", case.name);
            if step == Fault::ClearErase {
                // The erase is done and the new state durable; only the mark stays: the
                // change stands, and the disc loads as the new one.
                assert_eq!(c.status, 0, "{what}");
                let after = snapshot(&mut rig, &img, &state);
                let mut again = reload(&config);
                assert_eq!(after.medium, again.device.medium().cloned(), "{what}");
                assert_eq!(after.answers, snapshot(&mut again, &img, &state).answers);
                continue;
            }
            assert_eq!(sense_triple(&c), (3, 0x0c, 0x00), "{what}");
            assert_eq!(snapshot(&mut rig, &img, &state), before, "{what}: changed");
            // The drive goes on: the same command now succeeds and is what a reload finds.
            let c = run(&mut rig, &case.command, &case.data);
            assert_eq!(c.status, 0, "{what}: retry");
            let after = snapshot(&mut rig, &img, &state);
            assert_ne!(after, before, "{what}: the retry changed nothing");
            let mut again = reload(&config);
            assert_eq!(
                snapshot(&mut again, &img, &state),
                after,
                "{what}: a reload differs from what the drive acknowledged"
            );
        }
    }
}

#[test]
fn a_crash_at_any_step_loads_as_the_old_disc_or_the_new_one() {
    for case in cases() {
        // What the disc looks like after the command went through and a reload.
        let tag = format!("new-{}", case.name.replace([' ', '+'], "_"));
        let (mut rig, img, state, config) = prepared(&case, &tag);
        let c = run(&mut rig, &case.command, &case.data);
        assert_eq!(c.status, 0, "{}", case.name);
        let mut loaded = reload(&config);
        let new = snapshot(&mut loaded, &img, &state);
        drop((rig, loaded, img, state));
        // What the files held before the command (a load drops what was not acknowledged).
        let tag = format!("old-{}", case.name.replace([' ', '+'], "_"));
        let (rig, img, state, config) = prepared(&case, &tag);
        drop(rig);
        let old = snapshot(&mut reload(&config), &img, &state);
        drop((img, state));
        for step in steps(&case) {
            let tag = format!("crash-{}-{step:?}", case.name.replace([' ', '+'], "_"));
            let (mut rig, img, state, config) = prepared(&case, &tag);
            rig.device
                .disc_mut()
                .unwrap()
                .inject_fault(step, FaultKind::Crash);
            let _ = run(&mut rig, &case.command, &case.data);
            assert!(rig.device.disc_mut().unwrap().crashed(), "{step:?} reached");
            drop(rig);
            let mut after = reload(&config);
            let found = snapshot(&mut after, &img, &state);
            let what = format!("{} crashed before {step:?}", case.name);
            // The state file's bytes may differ (an erase mark left behind is cleared when
            // the disc is loaded); what the drive shows must be one of the two discs.
            let is = |s: &Snapshot| {
                (s.image.as_slice(), &s.medium, &s.answers)
                    == (found.image.as_slice(), &found.medium, &found.answers)
            };
            assert!(
                is(&old) || is(&new),
                "{what}: neither the old disc nor the new"
            );
            if case.erases && matches!(step, Fault::Erase | Fault::ClearErase) {
                assert!(is(&new), "{what}: the new state was durable");
                assert!(found.image.is_empty(), "{what}: the erase was not finished");
            }
            if matches!(step, Fault::FlushData | Fault::SaveState) {
                assert!(is(&old), "{what}: nothing was durable yet");
            }
        }
    }
}

/// The state file is written when the state changes, not on every SYNCHRONIZE CACHE (every
/// write to a DVD-RAM ends with one).
#[test]
fn the_state_file_is_written_only_when_the_state_changes() {
    let case = Case {
        name: "dvd-ram",
        config: "type=dvd-ram;capacity=4096",
        prepare: vec![],
        command: vec![],
        data: vec![],
        erases: false,
    };
    let (mut rig, img, state, _) = prepared(&case, "unchanged-state");
    let c = burn(&mut rig, 10, &pattern(2, 1));
    assert_eq!(c.status, 0);
    assert_eq!(run(&mut rig, &SYNC, &[]).status, 0);
    let first = std::fs::metadata(&state.0).unwrap();
    let inode = std::os::unix::fs::MetadataExt::ino(&first);
    for i in 0..5 {
        assert_eq!(burn(&mut rig, 20 + i, &pattern(1, 2)).status, 0);
        // A failing state write would fail the command: nothing may be written.
        rig.device
            .disc_mut()
            .unwrap()
            .inject_fault(Fault::SaveState, FaultKind::Fail);
        assert_eq!(run(&mut rig, &SYNC, &[]).status, 0, "sync {i}");
    }
    let now = std::fs::metadata(&state.0).unwrap();
    assert_eq!(
        std::os::unix::fs::MetadataExt::ino(&now),
        inode,
        "rewritten"
    );
    let _ = img;
}

/// An erase whose mark could not be cleared stands (GOOD), but the mark in the state file
/// would make the next load erase the image again: what is written after it must survive a
/// restart all the same (found by the disc_effects fuzz target).
#[test]
fn a_write_after_an_uncleared_erase_mark_survives_a_restart() {
    let (img, _state) = blank_image("uncleared-erase-mark");
    let config = format!("mmc/{};type=dvd+rw;capacity=4096", img.0.display());
    let mut rig = Rig::new(&config);
    let format = format_list(0x26, 0);
    assert_eq!(run(&mut rig, &FORMAT_WITH_DATA, &format).status, 0);
    rig.device
        .disc_mut()
        .unwrap()
        .inject_fault(Fault::ClearErase, FaultKind::Fail);
    assert_eq!(run(&mut rig, &FORMAT_WITH_DATA, &format).status, 0);
    let data = pattern(16, 0x5a);
    assert_eq!(
        burn(&mut rig, 0, &data).status,
        0,
        "the write is acknowledged"
    );
    drop(rig);
    let mut again = reload(&config);
    let c = again.one(&read10(0, 16), data.len());
    assert_eq!(c.status, 0);
    assert!(c.data == data, "acknowledged data lost by the restart");
}

/// MODE SELECT of page 05h with `write_type` (2: Disc-At-Once), as growisofs -dvd-compat
/// sends it.
fn select_write_type(rig: &mut Rig, write_type: u8) {
    let mut page = rig
        .one(&[0x5a, 0x08, 0x05, 0, 0, 0, 0, 0, 0xff, 0], 255)
        .data;
    page[0] = 0;
    page[1] = 0;
    page[8 + 2] = (page[8 + 2] & 0xf0) | write_type;
    let c = run(
        rig,
        &[0x55, 0x10, 0, 0, 0, 0, 0, 0, page.len() as u8, 0],
        &page,
    );
    assert_eq!(c.status, 0, "MODE SELECT page 05h");
}

/// A Disc-At-Once recording is the disc's only once it is complete: a real drive holds the
/// reservation in its memory. The daemon dying in the middle (even after a SYNCHRONIZE
/// CACHE) leaves a blank disc that burns again; a complete one survives the restart.
#[test]
fn a_cut_disc_at_once_recording_leaves_a_blank_disc() {
    let (img, _state) = blank_image("dao-cut");
    let config = format!("mmc/{};type=dvd-r;capacity=4096", img.0.display());
    let mut rig = Rig::new(&config);
    select_write_type(&mut rig, 2);
    assert_eq!(run(&mut rig, &reserve(64), &[]).status, 0);
    assert_eq!(burn(&mut rig, 0, &pattern(32, 7)).status, 0);
    assert_eq!(run(&mut rig, &SYNC, &[]).status, 0);
    drop(rig);

    let mut again = reload(&config);
    let info = again.one(&READ_DISC_INFO, 34);
    assert_eq!(
        info.data[2] & 0x03,
        0,
        "the cut recording left a blank disc"
    );
    assert_eq!(
        std::fs::metadata(&img.0).unwrap().len(),
        0,
        "its data dropped"
    );
    select_write_type(&mut again, 2);
    let data = pattern(64, 9);
    assert_eq!(run(&mut again, &reserve(64), &[]).status, 0);
    assert_eq!(burn(&mut again, 0, &data).status, 0);
    assert_eq!(run(&mut again, &SYNC, &[]).status, 0, "closes the disc");
    drop(again);

    let mut done = reload(&config);
    let info = done.one(&READ_DISC_INFO, 34);
    assert_eq!(info.data[2] & 0x03, 2, "the complete recording is durable");
    let c = done.one(&read10(0, 64), data.len());
    assert_eq!(c.status, 0);
    assert!(c.data == data, "the recorded data");
}
