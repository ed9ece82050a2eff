//! The recording state of a recordable disc, kept beside its image as JSON
//! (`<image>.tcmu-mmc.json`). Written atomically (temporary file, fsync, rename, fsync of the
//! directory), so after a crash the state is exactly the last one the drive acknowledged.
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::mmc::{Medium, MediumKind, Track};

const FORMAT: &str = "tcmu-mmc-disc";
const VERSION: u32 = 1;

/// Where the state of `image` lives.
pub fn state_path(image: &Path) -> PathBuf {
    let mut name = image.file_name().unwrap_or_default().to_os_string();
    name.push(".tcmu-mmc.json");
    image.with_file_name(name)
}

#[derive(Debug, Serialize, Deserialize)]
struct DiscRecord {
    format: String,
    version: u32,
    medium: String,
    capacity: u32,
    finalized: bool,
    #[serde(default, skip_serializing_if = "is_zero")]
    formatted: u32,
    tracks: Vec<TrackRecord>,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

#[derive(Debug, Serialize, Deserialize)]
struct TrackRecord {
    number: u8,
    session: u8,
    start: u32,
    recorded: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    reserved: Option<u32>,
    closed: bool,
}

/// The name of a medium kind in the state file and in configuration strings.
pub fn kind_name(kind: MediumKind) -> &'static str {
    match kind {
        MediumKind::DvdRom => "dvd-rom",
        MediumKind::DvdPlusR => "dvd+r",
        MediumKind::DvdPlusRDualLayer => "dvd+r-dl",
        MediumKind::DvdPlusRw => "dvd+rw",
        MediumKind::DvdRam => "dvd-ram",
        MediumKind::DvdRw => "dvd-rw",
        MediumKind::CdRw => "cd-rw",
    }
}

pub fn kind_from_name(name: &str) -> Option<MediumKind> {
    MediumKind::ALL.into_iter().find(|&k| kind_name(k) == name)
}

/// Read the state at `path`; `Ok(None)` if there is none.
pub fn load(path: &Path) -> Result<Option<Medium>, String> {
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    parse(&text)
        .map(Some)
        .map_err(|e| format!("{}: {e}", path.display()))
}

pub fn parse(text: &str) -> Result<Medium, String> {
    let r: DiscRecord = serde_json::from_str(text).map_err(|e| format!("not a disc state: {e}"))?;
    if r.format != FORMAT || r.version != VERSION {
        return Err(format!(
            "unknown format {:?} version {}",
            r.format, r.version
        ));
    }
    let kind = kind_from_name(&r.medium).ok_or(format!("unknown medium {:?}", r.medium))?;
    let m = Medium {
        kind,
        capacity: r.capacity,
        finalized: r.finalized,
        formatted: r.formatted,
        tracks: r
            .tracks
            .iter()
            .map(|t| Track {
                number: t.number,
                session: t.session,
                start: t.start,
                recorded: t.recorded,
                reserved: t.reserved,
                closed: t.closed,
            })
            .collect(),
    };
    validate(&m)?;
    Ok(m)
}

/// The invariants every recorded disc keeps; a state that breaks one is refused, not guessed at.
pub fn validate(m: &Medium) -> Result<(), String> {
    if m.capacity == 0 {
        return Err("capacity 0".into());
    }
    let mut end = 0u64;
    let mut prev: Option<&Track> = None;
    for t in &m.tracks {
        let size = u64::from(t.reserved.map_or(t.recorded, |r| r.max(t.recorded)));
        if u64::from(t.start) < end || u64::from(t.start) + size > u64::from(m.capacity) {
            return Err(format!(
                "track {} at {}+{} overlaps or exceeds the disc",
                t.number, t.start, size
            ));
        }
        if let Some(p) = prev {
            if t.number != p.number + 1 || t.session < p.session || t.session > p.session + 1 {
                return Err(format!(
                    "track {} does not follow track {}",
                    t.number, p.number
                ));
            }
            if !p.closed && t.session != p.session {
                return Err(format!("track {} is open in a closed session", p.number));
            }
        } else if t.number != 1 || t.session != 1 || t.start != 0 {
            return Err("the first track is not track 1 of session 1 at block 0".into());
        }
        // An open track without a reservation runs to the end of the disc: only the last.
        let is_last = std::ptr::eq(t, m.tracks.last().expect("in the loop"));
        if !t.closed && t.reserved.is_none() && !is_last {
            return Err(format!(
                "open track {} without a reservation is not the last",
                t.number
            ));
        }
        if t.reserved.is_some_and(|r| t.recorded > r) {
            return Err(format!(
                "track {} holds more than its reservation",
                t.number
            ));
        }
        end = u64::from(t.start) + size;
        prev = Some(t);
    }
    if m.finalized && m.tracks.iter().any(|t| !t.closed) {
        return Err("a finalized disc with an open track".into());
    }
    if m.formatted > m.capacity || (m.formatted > 0 && !m.kind.is_overwritable()) {
        return Err(format!(
            "formatted size {} does not fit the disc",
            m.formatted
        ));
    }
    // A disc written in place is unformatted and empty, or one closed track over exactly its
    // formatted area: writes go anywhere in that area, so it must all be readable.
    if m.kind.is_overwritable() {
        let layout_ok = match m.tracks.as_slice() {
            [] => m.formatted == 0,
            [t] => *t == Track::closed(1, 1, 0, m.formatted) && m.formatted > 0,
            _ => false,
        };
        if !layout_ok || m.finalized {
            return Err(format!(
                "a rewritable disc formatted to {} blocks with other tracks",
                m.formatted
            ));
        }
    }
    Ok(())
}

/// The JSON text [`save`] writes for `m` (what [`parse`] reads back).
pub fn to_json(m: &Medium) -> String {
    let r = DiscRecord {
        format: FORMAT.into(),
        version: VERSION,
        medium: kind_name(m.kind).into(),
        capacity: m.capacity,
        finalized: m.finalized,
        formatted: m.formatted,
        tracks: m
            .tracks
            .iter()
            .map(|t| TrackRecord {
                number: t.number,
                session: t.session,
                start: t.start,
                recorded: t.recorded,
                reserved: t.reserved,
                closed: t.closed,
            })
            .collect(),
    };
    let mut s = serde_json::to_string_pretty(&r).expect("a disc record always serializes");
    s.push('\n');
    s
}

/// Write the state atomically.
pub fn save(path: &Path, m: &Medium) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(".tmp");
    let tmp = path.with_file_name(tmp_name);
    {
        let mut f = File::create(&tmp)?;
        f.write_all(to_json(m).as_bytes())?;
        f.sync_all()?;
    }
    fs::rename(&tmp, path)?;
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_keeps_every_field() {
        let mut m = Medium::blank(MediumKind::DvdPlusR, 10_000);
        m.reserve_track(100).unwrap();
        m.commit_write(0, 50);
        m.close_track(1).unwrap();
        m.commit_write(112, 16);
        m.close_session().unwrap();
        let back = parse(&to_json(&m)).unwrap();
        assert_eq!(back, m);
    }

    #[test]
    fn rewritable_kinds_round_trip() {
        for kind in [
            MediumKind::DvdPlusRw,
            MediumKind::DvdRam,
            MediumKind::DvdRw,
            MediumKind::CdRw,
        ] {
            let mut m = Medium::blank(kind, kind.default_capacity());
            assert_eq!(parse(&to_json(&m)).unwrap(), m);
            m.format(kind.default_capacity());
            assert_eq!(parse(&to_json(&m)).unwrap(), m);
            assert_eq!(kind_from_name(kind_name(kind)), Some(kind));
        }
    }

    #[test]
    fn broken_states_are_refused() {
        let m = Medium::blank(MediumKind::DvdPlusR, 100);
        let good = to_json(&m);
        assert!(parse(&good).is_ok());
        assert!(parse(&good.replace("\"dvd+r\"", "\"floppy\"")).is_err());
        assert!(parse(&good.replace("\"capacity\": 100", "\"capacity\": 0")).is_err());
        assert!(parse("{}").is_err());
        assert!(parse("not json").is_err());
        let mut bad = m.clone();
        bad.tracks[0].recorded = 200;
        assert!(validate(&bad).is_err());
    }

    /// Found by the disc_state fuzz target: a DVD+RW formatted to 65536 blocks whose track
    /// covered 32768 was accepted; the drive then acknowledged writes past block 32768 that
    /// did not read back (and were cut from the image at the next load).
    #[test]
    fn rewritable_layout_must_match_the_formatted_area() {
        let mut m = Medium::blank(MediumKind::DvdPlusRw, 65536);
        m.format(65536);
        assert!(validate(&m).is_ok());
        let mut short = m.clone();
        short.tracks[0].recorded = 32768;
        assert!(validate(&short).is_err());
        assert!(parse(&to_json(&short)).is_err());
        let mut open = m.clone();
        open.tracks[0].closed = false;
        assert!(validate(&open).is_err());
        let mut unformatted_with_track = Medium::blank(MediumKind::CdRw, 1000);
        unformatted_with_track.tracks = m.tracks.clone();
        assert!(validate(&unformatted_with_track).is_err());
        let mut finalized = m.clone();
        finalized.finalized = true;
        assert!(validate(&finalized).is_err());
        assert!(validate(&Medium::blank(MediumKind::DvdRw, 1000)).is_ok());
    }

    /// Found by the disc_state fuzz target: an empty open track without a reservation in
    /// front of another track (or a first track not at block 0) was accepted; CLOSE SESSION
    /// then dropped it and left a disc whose first track was track 2.
    #[test]
    fn only_the_last_open_track_may_be_unreserved() {
        let mut m = Medium::blank(MediumKind::DvdPlusR, 1000);
        m.reserve_track(496).unwrap();
        assert!(validate(&m).is_ok());
        let mut bad = m.clone();
        bad.tracks[0].reserved = None;
        assert!(validate(&bad).is_err());
        let mut moved = Medium::blank(MediumKind::DvdPlusR, 1000);
        moved.tracks[0].start = 1;
        assert!(validate(&moved).is_err());
    }

    #[test]
    fn save_is_atomic_and_loadable() {
        let dir = std::env::temp_dir().join(format!("tcmu-mmc-state-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let img = dir.join("disc.iso");
        let path = state_path(&img);
        assert_eq!(path, dir.join("disc.iso.tcmu-mmc.json"));
        assert_eq!(load(&path).unwrap(), None);
        let m = Medium::blank(MediumKind::DvdPlusRDualLayer, 4_173_824);
        save(&path, &m).unwrap();
        assert_eq!(load(&path).unwrap(), Some(m));
        assert!(!dir.join("disc.iso.tcmu-mmc.json.tmp").exists());
        fs::remove_dir_all(&dir).unwrap();
    }
}
