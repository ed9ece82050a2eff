//! The invariants every medium keeps. The recording operations keep them by construction; a
//! medium built from recorded parts ([`Medium::from_parts`]) is checked here, with arithmetic
//! that never wraps, whatever numbers the parts hold.
use std::fmt;

use super::{Medium, MediumKind, Track};

/// Why a set of parts is not a medium the drive could have produced: the field at fault and
/// what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidMedium {
    /// The field, as the state file names it (`capacity`, `tracks[2].start`, ...).
    pub field: String,
    pub problem: String,
}

impl InvalidMedium {
    fn new(field: impl Into<String>, problem: impl Into<String>) -> Self {
        InvalidMedium {
            field: field.into(),
            problem: problem.into(),
        }
    }

    fn track(i: usize, field: &str, problem: impl Into<String>) -> Self {
        Self::new(format!("tracks[{i}].{field}"), problem)
    }
}

impl fmt::Display for InvalidMedium {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.problem)
    }
}

impl std::error::Error for InvalidMedium {}

impl Medium {
    /// Check every invariant; the first one broken is named.
    pub fn validate(&self) -> Result<(), InvalidMedium> {
        if self.capacity == 0 {
            return Err(InvalidMedium::new("capacity", "0 blocks"));
        }
        if self.tracks.len() > usize::from(u8::MAX) {
            return Err(InvalidMedium::new(
                "tracks",
                format!("{} tracks (a disc holds at most 255)", self.tracks.len()),
            ));
        }
        let capacity = u64::from(self.recordable_capacity());
        let mut end = 0u64;
        let mut prev: Option<&Track> = None;
        for (i, t) in self.tracks.iter().enumerate() {
            if t.reserved.is_some_and(|r| t.recorded > r) {
                return Err(InvalidMedium::track(
                    i,
                    "recorded",
                    format!("{} exceeds the reservation", t.recorded),
                ));
            }
            if t.closed && t.reserved.is_some_and(|r| t.recorded < r) {
                return Err(InvalidMedium::track(
                    i,
                    "recorded",
                    format!(
                        "a closed track records all of its reservation, not {}",
                        t.recorded
                    ),
                ));
            }
            let size = u64::from(t.reserved.unwrap_or(t.recorded));
            let start = u64::from(t.start);
            if start < end {
                return Err(InvalidMedium::track(
                    i,
                    "start",
                    format!("{start} overlaps the track before (ends at {end})"),
                ));
            }
            if start + size > capacity {
                return Err(InvalidMedium::track(
                    i,
                    "start",
                    format!("{start}+{size} exceeds the disc ({capacity} blocks)"),
                ));
            }
            match prev {
                None if t.number != 1 || t.session != 1 || t.start != 0 => {
                    return Err(InvalidMedium::track(
                        i,
                        "number",
                        "the first track is not track 1 of session 1 at block 0",
                    ));
                }
                None => {}
                Some(p) => {
                    if Some(t.number) != p.number.checked_add(1) {
                        return Err(InvalidMedium::track(
                            i,
                            "number",
                            format!("{} does not follow track {}", t.number, p.number),
                        ));
                    }
                    if t.session < p.session || Some(t.session) > p.session.checked_add(1) {
                        return Err(InvalidMedium::track(
                            i,
                            "session",
                            format!("{} does not follow session {}", t.session, p.session),
                        ));
                    }
                    if !p.closed && t.session != p.session {
                        return Err(InvalidMedium::track(
                            i - 1,
                            "closed",
                            "an open track in a closed session",
                        ));
                    }
                }
            }
            // An open track without a reservation runs to the end of the disc: only the last.
            if !t.closed && t.reserved.is_none() && i + 1 != self.tracks.len() {
                return Err(InvalidMedium::track(
                    i,
                    "reserved",
                    "an open track without a reservation is not the last",
                ));
            }
            end = start + size;
            prev = Some(t);
        }
        if self.finalized && self.tracks.iter().any(|t| !t.closed) {
            return Err(InvalidMedium::new(
                "finalized",
                "a finalized disc with an open track",
            ));
        }
        if !self.kind.is_recordable() && !self.finalized {
            return Err(InvalidMedium::new(
                "finalized",
                "a pressed disc is always complete",
            ));
        }
        if self.pseudo_overwrite && !(self.kind == MediumKind::BdR && self.formatted > 0) {
            return Err(InvalidMedium::new(
                "pow",
                "pseudo-overwrite needs a BD-R formatted with spare areas",
            ));
        }
        // A BD-R formatted with spare areas keeps the blocks left for recording.
        if self.formatted > self.capacity || (self.formatted > 0 && !self.kind.is_formattable()) {
            return Err(InvalidMedium::new(
                "formatted",
                format!("{} blocks do not fit this disc", self.formatted),
            ));
        }
        // A disc written in place is unformatted and empty, or one closed track over exactly
        // its formatted area: writes go anywhere in that area, so it must all be readable.
        if self.is_overwritable() {
            let layout_ok = match self.tracks.as_slice() {
                [] => self.formatted == 0,
                [t] => *t == Track::closed(1, 1, 0, self.formatted) && self.formatted > 0,
                _ => false,
            };
            if !layout_ok {
                return Err(InvalidMedium::new(
                    "tracks",
                    format!(
                        "a rewritable disc formatted to {} blocks holds other tracks",
                        self.formatted
                    ),
                ));
            }
            if self.finalized {
                return Err(InvalidMedium::new(
                    "finalized",
                    "a rewritable disc is never finalized",
                ));
            }
            let packet = self.kind.packet_alignment();
            if packet != 0 && self.formatted % packet != 0 {
                return Err(InvalidMedium::new(
                    "formatted",
                    format!(
                        "{} is not a multiple of the {packet}-block packet",
                        self.formatted
                    ),
                ));
            }
        }
        Ok(())
    }
}
