//! The `dev_config` parser: any string, with and without the `mmc/` prefix.
//!
//! Invariants: no panic; what it accepts starts with `mmc/`, has no control character, names
//! an absolute image path without `..` (or none), a pressed kind or a recordable one and a
//! non-zero capacity whose blank disc is a valid state; and writing the parsed configuration
//! out again parses to the same configuration.
use std::path::Component;

use tcmu_mmc::media::state;
use tcmu_mmc::media::MediaConfig;
use tcmu_mmc::mmc::Medium;

pub fn run(data: &[u8]) {
    let s = String::from_utf8_lossy(data);
    check(&s);
    check(&format!("mmc/{s}"));
}

fn check(s: &str) {
    let c = match MediaConfig::parse(s) {
        Ok(c) => c,
        Err(e) => {
            assert!(!e.0.is_empty(), "an error without a reason");
            return;
        }
    };
    assert!(
        s.starts_with("mmc/"),
        "{s:?} accepted without the mmc/ prefix"
    );
    assert!(
        !s.chars().any(char::is_control),
        "{s:?}: control character accepted"
    );
    let mut rebuilt = String::from("mmc/");
    if let Some(p) = &c.image {
        assert!(p.is_absolute(), "{s:?}: relative image path {p:?}");
        assert!(
            !p.components().any(|c| c == Component::ParentDir),
            "{s:?}: image path with .."
        );
        let text = p.to_str().expect("a path parsed from a string is a string");
        assert!(!text.contains(';'), "{s:?}: option separator in the path");
        rebuilt.push_str(text);
    }
    assert!(c.blank_capacity > 0, "{s:?}: capacity 0");
    rebuilt.push_str(&format!(
        ";type={};capacity={}",
        state::kind_name(c.kind),
        c.blank_capacity
    ));
    if c.finalize_on_close {
        rebuilt.push_str(";morph=close");
    }
    if c.offline {
        rebuilt.push_str(";offline");
    }
    // The rebuilt string names type and capacity even where the original left them out.
    let back = MediaConfig::parse(&rebuilt).map(|b| MediaConfig {
        type_given: c.type_given,
        capacity_given: c.capacity_given,
        ..b
    });
    assert_eq!(back.as_ref(), Ok(&c), "{s:?} rebuilt as {rebuilt:?}");
    // A recordable type names the blank disc of an empty image, a pressed one (DVD-ROM,
    // BD-ROM, CD-ROM) what a data image is.
    if c.kind.is_recordable() {
        let m = Medium::blank(c.kind, c.blank_capacity);
        m.validate()
            .unwrap_or_else(|e| panic!("{s:?}: blank disc invalid: {e}"));
    } else {
        assert!(c.kind.is_pressed(), "{s:?}: kind {:?}", c.kind);
    }
}
