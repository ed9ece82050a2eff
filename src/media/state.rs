//! The recording state of a recordable disc, kept beside its image as JSON
//! (`<image>.tcmu-mmc.json`). Written atomically (temporary file, fsync, rename, fsync of the
//! directory), so after a crash the state is exactly the last one the drive acknowledged.
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};

use super::identity::{self, ImageIdentity};
use crate::mmc::{InvalidMedium, Medium, MediumKind, Track};

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
    /// A BD-R formatted for pseudo-overwrite (SRM+POW).
    #[serde(default, skip_serializing_if = "is_false")]
    pow: bool,
    /// FORMAT UNIT or BLANK made this state durable but may not have emptied the image yet:
    /// whoever loads it empties the image first.
    #[serde(default, skip_serializing_if = "is_false")]
    erase_pending: bool,
    /// The image this state was written for (absent in states of older versions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    image: Option<ImageIdentity>,
    tracks: Vec<TrackRecord>,
}

fn is_zero(v: &u32) -> bool {
    *v == 0
}

fn is_false(v: &bool) -> bool {
    !*v
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
        MediumKind::BdRom => "bd-rom",
        MediumKind::BdR => "bd-r",
        MediumKind::BdRe => "bd-re",
        MediumKind::CdRom => "cd-rom",
        MediumKind::DvdPlusR => "dvd+r",
        MediumKind::DvdPlusRDualLayer => "dvd+r-dl",
        MediumKind::DvdPlusRw => "dvd+rw",
        MediumKind::DvdRam => "dvd-ram",
        MediumKind::DvdRw => "dvd-rw",
        MediumKind::CdRw => "cd-rw",
        MediumKind::DvdMinusR => "dvd-r",
        MediumKind::DvdMinusRDualLayer => "dvd-r-dl",
    }
}

pub fn kind_from_name(name: &str) -> Option<MediumKind> {
    MediumKind::ALL.into_iter().find(|&k| kind_name(k) == name)
}

/// Why a state file's text is not a disc state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StateError {
    /// Not JSON of the expected shape (serde's message names the field and position).
    Syntax(String),
    /// Another format or version.
    Format {
        format: String,
        version: u32,
    },
    UnknownMedium(String),
    /// A disc the drive could never have produced.
    Invalid(InvalidMedium),
}

impl fmt::Display for StateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StateError::Syntax(e) => write!(f, "not a disc state: {e}"),
            StateError::Format { format, version } => {
                write!(f, "unknown format {format:?} version {version}")
            }
            StateError::UnknownMedium(m) => write!(f, "medium: unknown medium {m:?}"),
            StateError::Invalid(e) => e.fmt(f),
        }
    }
}

impl std::error::Error for StateError {}

/// A state file that could not be read, naming the file.
#[derive(Debug)]
pub struct LoadError {
    pub path: PathBuf,
    pub kind: LoadErrorKind,
}

#[derive(Debug)]
pub enum LoadErrorKind {
    Read(io::Error),
    Parse(StateError),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            LoadErrorKind::Read(e) => write!(f, "{}: {e}", self.path.display()),
            LoadErrorKind::Parse(e) => write!(f, "{}: {e}", self.path.display()),
        }
    }
}

impl std::error::Error for LoadError {}

/// A disc state as read from its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recorded {
    pub medium: Medium,
    /// An erase was made durable and may not have reached the image yet.
    pub erase_pending: bool,
    /// The image it was written for.
    pub image: Option<ImageIdentity>,
}

/// Read the state at `path`; `Ok(None)` if there is none.
pub fn load(path: &Path) -> Result<Option<Recorded>, LoadError> {
    let fail = |kind| LoadError {
        path: path.to_owned(),
        kind,
    };
    let text = match fs::read_to_string(path) {
        Ok(t) => t,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(LoadErrorKind::Read(e))),
    };
    parse_recorded(&text)
        .map(Some)
        .map_err(|e| fail(LoadErrorKind::Parse(e)))
}

/// The disc a state file's text describes.
pub fn parse(text: &str) -> Result<Medium, StateError> {
    parse_recorded(text).map(|r| r.medium)
}

fn parse_recorded(text: &str) -> Result<Recorded, StateError> {
    let r: DiscRecord =
        serde_json::from_str(text).map_err(|e| StateError::Syntax(e.to_string()))?;
    if r.format != FORMAT || r.version != VERSION {
        return Err(StateError::Format {
            format: r.format,
            version: r.version,
        });
    }
    let kind = kind_from_name(&r.medium).ok_or(StateError::UnknownMedium(r.medium))?;
    let tracks = r
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
        .collect();
    let medium = Medium::from_parts(kind, r.capacity, tracks, r.finalized, r.formatted)
        .and_then(|m| m.with_pseudo_overwrite(r.pow))
        .map_err(StateError::Invalid)?;
    Ok(Recorded {
        medium,
        erase_pending: r.erase_pending,
        image: r.image,
    })
}

/// The JSON text [`save`] writes for `m` (what [`parse`] reads back).
pub fn to_json(m: &Medium) -> String {
    record_json(m, false, None)
}

fn record_json(m: &Medium, erase_pending: bool, image: Option<ImageIdentity>) -> String {
    let r = DiscRecord {
        format: FORMAT.into(),
        version: VERSION,
        medium: kind_name(m.kind()).into(),
        capacity: m.capacity(),
        finalized: m.finalized(),
        formatted: m.formatted(),
        pow: m.pseudo_overwrite(),
        erase_pending,
        image,
        tracks: m
            .tracks()
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

/// Temporary files of concurrent writers (two drives, two daemons) never share a name.
static TEMP_COUNTER: AtomicU64 = AtomicU64::new(0);

/// Write `text` atomically: a temporary file of its own name, fsync, rename over `path`,
/// fsync of the directory.
fn write_atomically(path: &Path, text: &str) -> io::Result<()> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut tmp_name = path.file_name().unwrap_or_default().to_os_string();
    tmp_name.push(format!(
        ".tmp.{}.{}",
        std::process::id(),
        TEMP_COUNTER.fetch_add(1, Ordering::Relaxed)
    ));
    let tmp = path.with_file_name(tmp_name);
    let written = (|| {
        let mut f = File::create(&tmp)?;
        f.write_all(text.as_bytes())?;
        f.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if written.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    written?;
    File::open(dir)?.sync_all()
}

/// Remove temporary files a writer of `path` left when it died before its rename (their names
/// carry the writer's pid; those of a live process are left alone).
pub fn remove_stale_temporaries(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!("{}.tmp.", name.to_string_lossy());
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|n| n.strip_prefix(&prefix)) else {
            continue;
        };
        let pid = rest.split('.').next().and_then(|p| p.parse::<u32>().ok());
        let alive = pid.is_some_and(|p| Path::new(&format!("/proc/{p}")).exists());
        if pid.is_some() && !alive {
            log::info!(
                "removing {} (left by a writer that died)",
                entry.path().display()
            );
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// The state file of one disc, and what it holds now: written only when that changes.
#[derive(Debug)]
pub struct StateFile {
    path: PathBuf,
    /// The image the state belongs to, whose identity each save records.
    image: PathBuf,
    /// What the file holds; `None` while there is no file.
    saved: Option<Recorded>,
    /// The disc id the image carries (see [`identity`]); `None` until the first save.
    disc_id: Option<String>,
}

impl StateFile {
    /// The state file of `image`, which holds `saved` (`None`: no file yet).
    pub fn new(image: &Path, saved: Option<Recorded>) -> Self {
        let disc_id = saved
            .as_ref()
            .and_then(|r| r.image.as_ref())
            .and_then(|i| i.disc_id.clone());
        StateFile {
            path: state_path(image),
            image: image.to_owned(),
            saved,
            disc_id,
        }
    }

    /// The image's identity now, its disc id attribute written first if it has none yet.
    fn image_identity(&mut self) -> io::Result<ImageIdentity> {
        let id = match &self.disc_id {
            Some(id) => Some(id.clone()),
            None => {
                let id = identity::new_disc_id();
                identity::write_disc_id(&self.image, &id).then_some(id)
            }
        };
        self.disc_id.clone_from(&id);
        Ok(identity::of(&fs::metadata(&self.image)?, id))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn exists(&self) -> bool {
        self.saved.is_some()
    }

    /// Whether the file already says exactly this (no erase pending).
    pub fn holds(&self, m: &Medium) -> bool {
        // A state of an older version, without the image's identity, is written again.
        self.saved
            .as_ref()
            .is_some_and(|r| !r.erase_pending && r.medium == *m.durable() && r.image.is_some())
    }

    /// Whether the file still carries an erase mark (its clearing after the erase failed).
    pub fn erase_pending(&self) -> bool {
        self.saved.as_ref().is_some_and(|r| r.erase_pending)
    }

    /// What the file holds now, to [`StateFile::restore`] it later.
    pub fn saved(&self) -> Option<&Recorded> {
        self.saved.as_ref()
    }

    /// Put the file back to what [`StateFile::saved`] said (no file: removed).
    pub fn restore(&mut self, previous: Option<Recorded>) -> io::Result<()> {
        match previous {
            Some(r) => {
                let text = record_json(&r.medium, r.erase_pending, r.image.clone());
                write_atomically(&self.path, &text)?;
                self.saved = Some(r);
                Ok(())
            }
            None => {
                match fs::remove_file(&self.path) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                    Err(e) => return Err(e),
                }
                self.saved = None;
                let dir = self.path.parent().filter(|d| !d.as_os_str().is_empty());
                File::open(dir.unwrap_or(Path::new(".")))?.sync_all()
            }
        }
    }

    /// Make `m` the durable state (with `erase_pending`, see [`Recorded`]): its
    /// [`Medium::durable`] form.
    pub fn save(&mut self, m: &Medium, erase_pending: bool) -> io::Result<()> {
        let m = &*m.durable();
        let image = self.image_identity()?;
        write_atomically(
            &self.path,
            &record_json(m, erase_pending, Some(image.clone())),
        )?;
        self.saved = Some(Recorded {
            medium: m.clone(),
            erase_pending,
            image: Some(image),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A medium from `m`'s parts with its tracks changed by `edit`.
    fn edited(m: &Medium, edit: impl FnOnce(&mut Vec<Track>)) -> Result<Medium, InvalidMedium> {
        let mut tracks = m.tracks().to_vec();
        edit(&mut tracks);
        Medium::from_parts(m.kind(), m.capacity(), tracks, m.finalized(), m.formatted())
    }

    #[test]
    fn a_pseudo_overwrite_bd_r_keeps_its_format_across_a_save() {
        let mut m = Medium::blank(MediumKind::BdR, 65_536);
        m.format_with_spare(63_488, true).unwrap();
        m.commit_write(0, 40);
        let json = to_json(&m);
        assert!(
            json.contains("\"pow\": true") && json.contains("\"formatted\": 63488"),
            "{json}"
        );
        let back = parse(&json).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.recordable_capacity(), 63_488);
        let e = parse(&json.replace("\"medium\": \"bd-r\"", "\"medium\": \"dvd+r\""));
        assert!(e.is_err(), "POW on a DVD+R is refused");
    }

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
        assert!(matches!(
            parse(&good.replace("\"dvd+r\"", "\"floppy\"")),
            Err(StateError::UnknownMedium(_))
        ));
        let e = parse(&good.replace("\"capacity\": 100", "\"capacity\": 0")).unwrap_err();
        assert!(e.to_string().starts_with("capacity:"), "{e}");
        assert!(matches!(parse("{}"), Err(StateError::Syntax(_))));
        assert!(parse("not json").is_err());
        let e = edited(&m, |t| t[0].recorded = 200).unwrap_err();
        assert_eq!(e.field, "tracks[0].start", "{e}");
    }

    /// Numbers at the edges of their types never wrap or panic: each is refused, naming the
    /// field.
    #[test]
    fn out_of_range_numbers_are_refused_by_field() {
        let mut m = Medium::blank(MediumKind::DvdPlusR, 10_000);
        m.commit_write(0, 16);
        m.close_session().unwrap();
        let json = to_json(&m);
        for (from, to, field) in [
            ("\"start\": 16", "\"start\": 4294967295", "tracks[1].start"),
            (
                "\"recorded\": 16",
                "\"recorded\": 4294967295",
                "tracks[0].start",
            ),
            ("\"number\": 2", "\"number\": 0", "tracks[1].number"),
            ("\"session\": 2", "\"session\": 255", "tracks[1].session"),
        ] {
            assert!(json.contains(from), "{from} not in {json}");
            let e = parse(&json.replacen(from, to, 1)).unwrap_err();
            assert!(
                matches!(&e, StateError::Invalid(i) if i.field == field),
                "{from} -> {to}: {e}"
            );
        }
        // Beyond the field's type: serde names the field.
        let e = parse(&json.replacen("\"number\": 2", "\"number\": 256", 1)).unwrap_err();
        assert!(matches!(e, StateError::Syntax(_)), "{e}");
        let e = parse(&json.replacen("\"capacity\": 10000", "\"capacity\": -1", 1)).unwrap_err();
        assert!(matches!(e, StateError::Syntax(_)), "{e}");
    }

    /// A state file of 255 tracks is the most a disc holds; a track after track 255 (which
    /// would need number 256) is refused instead of overflowing.
    #[test]
    fn a_full_disc_of_255_tracks_loads_and_no_more() {
        let mut m = Medium::blank(MediumKind::DvdPlusR, 100_000);
        for _ in 0..255 {
            let nwa = m.tracks().last().unwrap().nwa();
            m.commit_write(nwa, 16);
            if m.close_track(m.last_track()).is_err() {
                break;
            }
        }
        let full = parse(&to_json(&m)).unwrap();
        assert_eq!(full.tracks().len(), 255);
        let e = edited(&full, |t| {
            let last = *t.last().unwrap();
            t.push(Track {
                number: 1,
                start: last.start + 1000,
                ..last
            });
        })
        .unwrap_err();
        assert!(e.field == "tracks" || e.field.ends_with(".number"), "{e}");
    }

    /// Found by the disc_state fuzz target: a DVD+RW formatted to 65536 blocks whose track
    /// covered 32768 was accepted; the drive then acknowledged writes past block 32768 that
    /// did not read back (and were cut from the image at the next load).
    #[test]
    fn rewritable_layout_must_match_the_formatted_area() {
        let mut m = Medium::blank(MediumKind::DvdPlusRw, 65536);
        m.format(65536);
        assert!(edited(&m, |_| {}).is_ok());
        assert!(edited(&m, |t| t[0].recorded = 32768).is_err());
        let mut short = m.tracks().to_vec();
        short[0].recorded = 32768;
        assert!(edited(&m, |t| t[0].closed = false).is_err());
        let unformatted = Medium::blank(MediumKind::CdRw, 1000);
        assert!(Medium::from_parts(MediumKind::CdRw, 1000, m.tracks().to_vec(), false, 0).is_err());
        assert!(edited(&unformatted, |_| {}).is_ok());
        let finalized = Medium::from_parts(
            m.kind(),
            m.capacity(),
            m.tracks().to_vec(),
            true,
            m.formatted(),
        );
        assert!(finalized.is_err());
        assert!(edited(&Medium::blank(MediumKind::DvdRw, 1000), |_| {}).is_ok());
    }

    /// Found by the disc_state fuzz target: an empty open track without a reservation in
    /// front of another track (or a first track not at block 0) was accepted; CLOSE SESSION
    /// then dropped it and left a disc whose first track was track 2.
    #[test]
    fn only_the_last_open_track_may_be_unreserved() {
        let mut m = Medium::blank(MediumKind::DvdPlusR, 1000);
        m.reserve_track(496).unwrap();
        assert!(edited(&m, |_| {}).is_ok());
        assert!(edited(&m, |t| t[0].reserved = None).is_err());
        let moved = Medium::blank(MediumKind::DvdPlusR, 1000);
        assert!(edited(&moved, |t| t[0].start = 1).is_err());
    }

    #[test]
    fn temporaries_of_dead_writers_are_removed_and_live_ones_kept() {
        let dir = std::env::temp_dir().join(format!("tcmu-mmc-stale-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        let path = state_path(&dir.join("d.iso"));
        // No process has pid 4194304 (above the kernel's pid_max limit).
        let dead = dir.join("d.iso.tcmu-mmc.json.tmp.4194304.0");
        let live = dir.join(format!("d.iso.tcmu-mmc.json.tmp.{}.7", std::process::id()));
        let other = dir.join("e.iso.tcmu-mmc.json.tmp.4194304.0");
        for f in [&dead, &live, &other] {
            fs::write(f, "{}").unwrap();
        }
        remove_stale_temporaries(&path);
        assert!(!dead.exists());
        assert!(live.exists() && other.exists());
        fs::remove_dir_all(&dir).unwrap();
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
        write_atomically(&path, &to_json(&m)).unwrap();
        let back = load(&path).unwrap().unwrap();
        assert_eq!((back.medium, back.erase_pending), (m.clone(), false));
        fs::write(&img, b"").unwrap();
        let mut file = StateFile::new(&img, None);
        assert!(!file.holds(&m));
        file.save(&m, true).unwrap();
        assert!(!file.holds(&m), "an erase is still pending");
        assert!(load(&path).unwrap().unwrap().erase_pending);
        file.save(&m, false).unwrap();
        assert!(file.holds(&m));
        let leftovers: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().contains(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
