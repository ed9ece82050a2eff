//! Media store: the configuration string that names a backing file, the image files, and the
//! recording state kept beside a recordable disc's image.
pub mod config;
pub mod identity;
pub mod image;
pub mod roots;
pub mod state;

pub mod store;

use std::io;
use std::path::PathBuf;

pub use config::{ConfigError, MediaConfig};
pub use image::Image;
pub use roots::MediaRoots;
pub use store::{Disc, StoreError};
#[cfg(any(test, feature = "testing"))]
pub use store::{Fault, FaultKind};

use crate::mmc::{Medium, MediumKind};

/// What a configuration puts in the drive.
pub enum Loaded {
    /// Nothing in the tray, and why (for the log and `status`).
    Empty(String),
    Disc(Box<Disc>),
}

impl Loaded {
    /// The disc's recording state, which the store owns and lends to the drive model.
    pub fn medium(&self) -> Option<&Medium> {
        self.disc().map(Disc::medium)
    }

    pub fn disc(&self) -> Option<&Disc> {
        match self {
            Loaded::Empty(_) => None,
            Loaded::Disc(d) => Some(d),
        }
    }

    pub fn disc_mut(&mut self) -> Option<&mut Disc> {
        match self {
            Loaded::Empty(_) => None,
            Loaded::Disc(d) => Some(d),
        }
    }

    pub fn image(&self) -> Option<&Image> {
        self.disc().map(Disc::image)
    }
}

/// Open the medium `cfg` names. Following the seed: no path or no file is an empty tray; an
/// empty file is a blank recordable disc; a file with data is a DVD-ROM of that many 2048-byte
/// blocks, unless a recording state beside it says it is a (possibly finalized) recordable disc.
pub fn load(cfg: &MediaConfig) -> Loaded {
    load_within(cfg, &MediaRoots::anywhere())
}

/// [`load`], for a drive that may only open media under `roots`.
pub fn load_within(cfg: &MediaConfig, roots: &MediaRoots) -> Loaded {
    let Some(path) = &cfg.image else {
        return Loaded::Empty("no image configured".into());
    };
    if let Err(why) = roots.admit(path) {
        return Loaded::Empty(why);
    }
    if cfg.offline {
        return Loaded::Empty(format!("offline (image {} kept)", path.display()));
    }
    match open_disc(cfg, path) {
        Ok(d) => Loaded::Disc(Box::new(d)),
        Err(why) => Loaded::Empty(why),
    }
}

/// Blocks of a `len`-byte image; a partial last block counts (it reads back zero-padded).
fn blocks_of(len: u64) -> u32 {
    u32::try_from(len.div_ceil(crate::scsi::BLOCK_SIZE as u64)).unwrap_or(u32::MAX)
}

/// The disc an image file holds, found without opening anything for writing: its recorded
/// state, a blank disc for an empty file, else a DVD-ROM. The second value says whether a
/// recording state exists beside it.
fn examine(cfg: &MediaConfig, path: &std::path::Path) -> Result<Examined, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => format!("{shown}: no such file"),
        _ => format!("{shown}: {e}"),
    })?;
    if !meta.is_file() {
        return Err(format!("{shown}: not a regular file"));
    }
    let state_path = state::state_path(path);
    let mut recorded = state::load(&state_path).map_err(|e| e.to_string())?;
    let mut stale = None;
    if let Some(why) = recorded
        .as_ref()
        .and_then(|r| stale_because(r, &meta, path, cfg))
    {
        stale = Some(Stale {
            state: state_path.clone(),
            why,
        });
        recorded = None;
    }
    if let Some(r) = &recorded {
        contradicted_by(cfg, &r.medium, &state_path)?;
    }
    let medium = match &recorded {
        Some(r) => r.medium.clone(),
        None if meta.len() == 0 && cfg.kind.is_pressed() => {
            return Err(format!(
                "{shown} is empty, and type={} is a pressed disc: give it a data image, or \
                 a blank type ({})",
                state::kind_name(cfg.kind),
                config::blank_type_names()
            ))
        }
        None if meta.len() == 0 => Medium::blank(cfg.kind, cfg.blank_capacity),
        None => {
            let blocks = blocks_of(meta.len());
            Medium::pressed(pressed_kind(cfg, blocks), blocks)
        }
    };
    Ok(Examined {
        medium,
        recorded,
        stale,
    })
}

/// What a data image of `blocks` blocks without recording state is pressed as: what
/// `type=dvd-rom|bd-rom|cd-rom` says, else a DVD-ROM when it fits on a DVD (up to a DVD+R DL's
/// 8.5 GB) and a BD-ROM when it does not: no real drive shows a larger DVD.
fn pressed_kind(cfg: &MediaConfig, blocks: u32) -> MediumKind {
    if cfg.kind.is_pressed() {
        cfg.kind
    } else if blocks > crate::mmc::medium::DVD_PLUS_R_DL_BLOCKS {
        MediumKind::BdRom
    } else {
        MediumKind::DvdRom
    }
}

/// What an image holds, as [`examine`] found it.
struct Examined {
    medium: Medium,
    /// Its recording state, when one belongs to it.
    recorded: Option<state::Recorded>,
    /// A state beside it that belongs to another file (or another configuration).
    stale: Option<Stale>,
}

/// A state file that does not apply to the image beside it.
pub struct Stale {
    pub state: PathBuf,
    pub why: String,
}

/// Why the state `r` beside the image (`meta`) does not apply to it, if it does not: it was
/// written for another file, or it describes a blank disc of another type than `cfg` asks
/// for (a blank disc is what the configuration makes of an empty file).
fn stale_because(
    r: &state::Recorded,
    meta: &std::fs::Metadata,
    path: &std::path::Path,
    cfg: &MediaConfig,
) -> Option<String> {
    if let Some(image) = &r.image {
        // An erase that was made durable empties the image on purpose.
        let image = identity::ImageIdentity {
            size: if r.erase_pending { 0 } else { image.size },
            ..image.clone()
        };
        if let Err(why) = identity::check(&image, meta, &identity::read_disc_id(path)) {
            return Some(why);
        }
    }
    let blank = meta.len() == 0 && r.medium.status() == crate::mmc::medium::DiscStatus::Empty;
    let asks_other = (cfg.type_given && cfg.kind != r.medium.kind())
        || (cfg.capacity_given && cfg.blank_capacity != r.medium.capacity());
    (blank && asks_other).then(|| {
        format!(
            "it describes a blank {} of {} blocks, the configuration asks for a {} of {}",
            state::kind_name(r.medium.kind()),
            r.medium.capacity(),
            state::kind_name(cfg.kind),
            cfg.blank_capacity
        )
    })
}

/// A `type=` or `capacity=` that contradicts the recorded disc is an error, never ignored.
fn contradicted_by(
    cfg: &MediaConfig,
    m: &Medium,
    state_path: &std::path::Path,
) -> Result<(), String> {
    if cfg.type_given && cfg.kind != m.kind() {
        return Err(format!(
            "type={} contradicts the recorded {} disc in {} (remove the option, or the state file to start a new blank)",
            state::kind_name(cfg.kind),
            state::kind_name(m.kind()),
            state_path.display()
        ));
    }
    if cfg.capacity_given && cfg.blank_capacity != m.capacity() {
        return Err(format!(
            "capacity={} contradicts the recorded disc of {} blocks in {}",
            cfg.blank_capacity,
            m.capacity(),
            state_path.display()
        ));
    }
    Ok(())
}

/// Set a stale state file aside (renamed, never deleted), saying so.
fn set_aside(stale: &Stale) -> Result<PathBuf, String> {
    let stamp = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let name = stale
        .state
        .file_name()
        .unwrap_or_default()
        .to_string_lossy();
    let aside = (0..)
        .map(|n| match n {
            0 => stale.state.with_file_name(format!("{name}.stale-{stamp}")),
            n => stale
                .state
                .with_file_name(format!("{name}.stale-{stamp}.{n}")),
        })
        .find(|p| !p.exists())
        .expect("an unused name");
    std::fs::rename(&stale.state, &aside).map_err(|e| {
        format!(
            "{}: cannot set the stale state aside: {e}",
            stale.state.display()
        )
    })?;
    log::warn!(
        "{} does not belong to its image ({}): set aside as {}",
        stale.state.display(),
        stale.why,
        aside.display()
    );
    Ok(aside)
}

/// What `cfg` would put in the drive, without opening the image for writing or changing
/// anything (for `status` and configuration checks): the medium, or why the tray is empty.
pub fn inspect(cfg: &MediaConfig) -> Result<Medium, String> {
    inspect_with_stale(cfg).map(|(m, _)| m)
}

/// [`inspect`], and the state beside the image that a load would set aside, if any.
pub fn inspect_with_stale(cfg: &MediaConfig) -> Result<(Medium, Option<Stale>), String> {
    let Some(path) = &cfg.image else {
        return Err("no image configured".into());
    };
    if cfg.offline {
        return Err(format!("offline (image {} kept)", path.display()));
    }
    let examined = examine(cfg, path)?;
    // Reading must be possible for any disc; writing is checked when the drive loads it.
    std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok((examined.medium, examined.stale))
}

fn open_disc(cfg: &MediaConfig, path: &std::path::Path) -> Result<Disc, String> {
    let shown = path.display();
    let Examined {
        medium,
        recorded,
        stale,
    } = examine(cfg, path)?;
    if let Some(stale) = &stale {
        set_aside(stale)?;
    }
    if recorded.is_none() && medium.kind().is_pressed() {
        let img = Image::open(path).map_err(|e| format!("{shown}: {e}"))?;
        return Ok(Disc::pressed(img, medium.kind()));
    }
    let erase_pending = recorded.as_ref().is_some_and(|r| r.erase_pending);
    state::remove_stale_temporaries(&state::state_path(path));
    let mut state = state::StateFile::new(path, recorded);
    let mut write_protected = false;
    let image = if medium.is_writable() || erase_pending {
        match Image::open_writable(path) {
            Ok(img) => {
                let keep = if erase_pending {
                    // A FORMAT UNIT or BLANK was acknowledged (its state is durable) but the
                    // daemon stopped before the image was emptied: finish it.
                    log::warn!("{shown}: finishing an interrupted erase");
                    0
                } else {
                    // Bytes past the recorded end were never acknowledged (no SYNCHRONIZE
                    // CACHE or CLOSE covered them): drop them, so the image is the disc.
                    u64::from(medium.readable_blocks()) * crate::scsi::BLOCK_SIZE as u64
                };
                if img.size() > keep {
                    if !erase_pending {
                        log::warn!(
                            "{shown}: dropping {} unacknowledged bytes",
                            img.size() - keep
                        );
                    }
                    img.truncate(keep)
                        .and_then(|()| img.sync_all())
                        .map_err(|e| format!("{shown}: truncate: {e}"))?;
                }
                if erase_pending {
                    state
                        .save(&medium, false)
                        .map_err(|e| format!("{}: {e}", state.path().display()))?;
                }
                img
            }
            Err(e) if is_read_only_error(&e) && !erase_pending => {
                log::warn!("{shown}: {e}: the disc is write-protected");
                write_protected = true;
                Image::open(path).map_err(|e| format!("{shown}: {e}"))?
            }
            Err(e) => return Err(format!("{shown}: {e}")),
        }
    } else {
        Image::open(path).map_err(|e| format!("{shown}: {e}"))?
    };
    Ok(Disc::recordable(
        image,
        medium,
        state,
        cfg.finalize_on_close,
        write_protected,
    ))
}

/// An open-for-writing failure that means "this file may be read but not written".
fn is_read_only_error(e: &io::Error) -> bool {
    e.kind() == io::ErrorKind::PermissionDenied
        || matches!(
            e.raw_os_error(),
            Some(libc::EROFS | libc::EPERM | libc::ETXTBSY)
        )
}

/// Create a blank disc of `kind` at `path`: an empty image plus its recording state, so the
/// type survives restarts. An existing image is never overwritten.
pub fn create_blank(
    path: &std::path::Path,
    kind: crate::mmc::MediumKind,
    capacity: Option<u32>,
) -> Result<Medium, String> {
    if !kind.is_recordable() {
        return Err(format!(
            "{} is not a blank medium type (use one of {})",
            state::kind_name(kind),
            config::blank_type_names()
        ));
    }
    let capacity = capacity.unwrap_or(kind.default_capacity());
    let medium = Medium::blank(kind, capacity);
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    state::StateFile::new(path, None)
        .save(&medium, false)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(medium)
}

/// One line describing a disc image and its state, for `tcmu-mmc disc info`. Read-only.
pub fn describe(path: &std::path::Path) -> Result<String, String> {
    let cfg = MediaConfig {
        image: Some(path.to_owned()),
        ..MediaConfig::default()
    };
    let (m, stale) = inspect_with_stale(&cfg)?;
    let stale = stale.map_or(String::new(), |s| {
        format!(
            " (state {} does not belong to this image: {}; a drive sets it aside)",
            s.state.display(),
            s.why
        )
    });
    Ok(format!(
        "{}: {} profile {:04x} status {:?}{} capacity {} readable {} formatted {} sessions {} tracks {}{stale}",
        path.display(),
        state::kind_name(m.kind()),
        m.profile(),
        m.status(),
        if m.finalized() { " finalized" } else { "" },
        m.capacity(),
        m.readable_blocks(),
        m.formatted(),
        m.closed_sessions(),
        m.tracks().len()
    ))
}

/// Check a full `dev_config` value before it is given to the kernel (targetcli's CheckConfig,
/// `ChangeMedium`): `Ok` says what the drive will show, `Err` names the problem. A missing
/// image is accepted (the tray shows empty, as the seed defines) when its directory exists.
pub fn check_config(dev_config: &str, roots: &MediaRoots) -> Result<String, String> {
    let cfg = MediaConfig::parse(dev_config).map_err(|e| e.0)?;
    let Some(path) = &cfg.image else {
        return Ok("empty tray".into());
    };
    roots.admit(path)?;
    if !path.exists() {
        let dir = path.parent().unwrap_or(std::path::Path::new("/"));
        if !dir.is_dir() {
            return Err(format!(
                "{}: directory {} does not exist",
                path.display(),
                dir.display()
            ));
        }
        return Ok(format!("{}: no such file yet: empty tray", path.display()));
    }
    if cfg.offline {
        return Ok(format!("offline, image {} kept", path.display()));
    }
    let m = inspect(&cfg)?;
    Ok(format!(
        "{}: {}{}, {} of {} blocks recorded",
        path.display(),
        state::kind_name(m.kind()),
        if m.finalized() { " (finalized)" } else { "" },
        m.readable_blocks(),
        m.capacity()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn check_config_any(cfg: &str) -> Result<String, String> {
        check_config(cfg, &MediaRoots::anywhere())
    }

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tcmu-mmc-media-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn inspect_reads_without_changing_the_image() {
        let dir = scratch("inspect");
        let img = dir.join("b.iso");
        create_blank(&img, crate::mmc::MediumKind::DvdPlusR, Some(1000)).unwrap();
        // Unacknowledged bytes past the recorded end: load() would drop them, inspect() not.
        std::fs::write(&img, vec![7u8; 4096]).unwrap();
        // Read-only file: inspect must not need write access.
        std::fs::set_permissions(&img, std::fs::Permissions::from_mode(0o444)).unwrap();
        let cfg = MediaConfig::parse(&format!("mmc/{}", img.display())).unwrap();
        let m = inspect(&cfg).unwrap();
        assert_eq!(
            (m.kind(), m.capacity(), m.readable_blocks()),
            (crate::mmc::MediumKind::DvdPlusR, 1000, 0)
        );
        assert_eq!(std::fs::metadata(&img).unwrap().len(), 4096);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn check_config_names_the_problem() {
        let dir = scratch("check");
        let iso = dir.join("d.iso");
        std::fs::write(&iso, vec![0u8; 2048 * 3]).unwrap();
        let ok = check_config_any(&format!("mmc/{}", iso.display())).unwrap();
        assert!(ok.contains("dvd-rom") && ok.contains("3 of 3"), "{ok}");
        assert_eq!(check_config_any("mmc/").unwrap(), "empty tray");
        let later = check_config_any(&format!("mmc/{}/new.iso", dir.display())).unwrap();
        assert!(later.contains("empty tray"), "{later}");
        let e = check_config_any("mmc//no/such/dir/x.iso").unwrap_err();
        assert!(
            e.contains("/no/such/dir") && e.contains("does not exist"),
            "{e}"
        );
        let e = check_config_any(&format!("mmc/{}", dir.display())).unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
        let e = check_config_any(&format!("mmc/{};type=floppy", iso.display())).unwrap_err();
        assert!(e.contains("type="), "{e}");
        let e = check_config_any("file/x").unwrap_err();
        assert!(e.contains("mmc/"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A data image is pressed as a DVD-ROM when it fits on a DVD and as a BD-ROM when it
    /// does not, or as `type=` says; a pressed type cannot make a blank disc.
    #[test]
    fn a_data_image_is_pressed_as_what_fits_or_what_type_says() {
        use crate::mmc::MediumKind::{BdRom, DvdRom};
        let dir = scratch("pressed");
        let small = dir.join("small.iso");
        std::fs::write(&small, vec![1u8; 2048 * 3]).unwrap();
        let large = dir.join("large.iso");
        let f = std::fs::File::create(&large).unwrap();
        // One block more than a DVD+R DL holds, sparse.
        f.set_len((u64::from(crate::mmc::medium::DVD_PLUS_R_DL_BLOCKS) + 1) * 2048)
            .unwrap();
        let kind =
            |img: &std::path::Path, opts: &str| inspect(&config(img, opts)).map(|m| m.kind());
        assert_eq!(kind(&small, ""), Ok(DvdRom));
        assert_eq!(kind(&large, ""), Ok(BdRom));
        assert_eq!(kind(&small, ";type=bd-rom"), Ok(BdRom));
        assert_eq!(kind(&large, ";type=dvd-rom"), Ok(DvdRom));
        assert_eq!(
            kind(&small, ";type=cd-rom"),
            Ok(crate::mmc::MediumKind::CdRom)
        );
        match load(&config(&large, "")) {
            Loaded::Disc(d) => assert_eq!(d.medium().profile(), crate::mmc::profile::BD_ROM),
            Loaded::Empty(why) => panic!("{why}"),
        }
        let empty = dir.join("empty.iso");
        std::fs::write(&empty, b"").unwrap();
        let e = kind(&empty, ";type=bd-rom").unwrap_err();
        assert!(
            e.contains("empty") && e.contains("type=bd-rom") && e.contains("dvd+r"),
            "{e}"
        );
        assert!(
            !state::state_path(&empty).exists(),
            "nothing written for a refused type"
        );
        let e = check_config_any(&format!("mmc/{};type=bd", small.display())).unwrap_err();
        assert!(e.contains("bd-rom") && e.contains("dvd-rom"), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A DVD+R at `img` with one closed session of 16 blocks, recorded as the drive does.
    fn burned(img: &std::path::Path) -> Medium {
        create_blank(img, crate::mmc::MediumKind::DvdPlusR, Some(1000)).unwrap();
        let mut m = Medium::blank(crate::mmc::MediumKind::DvdPlusR, 1000);
        m.commit_write(0, 16);
        m.close_session().unwrap();
        std::fs::write(img, vec![9u8; 16 * 2048]).unwrap();
        let recorded = state::load(&state::state_path(img)).unwrap();
        state::StateFile::new(img, recorded)
            .save(&m, false)
            .unwrap();
        m
    }

    fn config(img: &std::path::Path, options: &str) -> MediaConfig {
        MediaConfig::parse(&format!("mmc/{}{options}", img.display())).unwrap()
    }

    fn set_aside_files(dir: &std::path::Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.contains(".stale-"))
            .collect()
    }

    /// tgt's example 3: `rm disc.iso; touch disc.iso` gives a blank disc, whatever the old
    /// state said; the old state is set aside, not deleted, and `disc info` says so first.
    #[test]
    fn rm_and_touch_gives_a_blank_disc() {
        let dir = scratch("rm-touch");
        let img = dir.join("empty-disk.iso");
        let m = burned(&img);
        assert_eq!(inspect(&config(&img, "")).unwrap(), m);
        std::fs::remove_file(&img).unwrap();
        std::fs::write(&img, b"").unwrap();
        let info = describe(&img).unwrap();
        assert!(
            info.contains("status Empty") && info.contains("sets it aside"),
            "{info}"
        );
        let Loaded::Disc(d) = load(&config(&img, "")) else {
            panic!("no disc")
        };
        assert_eq!(
            *d.medium(),
            Medium::blank(
                crate::mmc::MediumKind::DvdPlusR,
                crate::mmc::medium::DVD_PLUS_R_BLOCKS
            )
        );
        assert_eq!(set_aside_files(&dir).len(), 1);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A re-created empty file with `;type=cd-rw` is a blank CD-RW, not the old disc.
    #[test]
    fn a_stale_state_does_not_override_the_configured_type() {
        let dir = scratch("stale-type");
        let img = dir.join("d.img");
        burned(&img);
        std::fs::remove_file(&img).unwrap();
        std::fs::write(&img, b"").unwrap();
        let Loaded::Disc(d) = load(&config(&img, ";type=cd-rw")) else {
            panic!("no disc")
        };
        assert_eq!(d.medium().kind(), crate::mmc::MediumKind::CdRw);
        assert_eq!(set_aside_files(&dir).len(), 1);
        // A blank recorded disc of another type gives way to the configuration too.
        let img2 = dir.join("e.img");
        create_blank(&img2, crate::mmc::MediumKind::DvdPlusRw, None).unwrap();
        assert_eq!(
            inspect(&config(&img2, ";type=dvd-ram")).unwrap().kind(),
            crate::mmc::MediumKind::DvdRam
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// `;type=` or `capacity=` against a recorded non-empty disc is refused, naming both.
    #[test]
    fn options_contradicting_a_recorded_disc_are_refused() {
        let dir = scratch("contradict");
        let img = dir.join("d.img");
        burned(&img);
        let e = check_config_any(&format!("mmc/{};type=cd-rw", img.display())).unwrap_err();
        assert!(
            e.contains("type=cd-rw") && e.contains("dvd+r") && e.contains(".tcmu-mmc.json"),
            "{e}"
        );
        let e = check_config_any(&format!("mmc/{};capacity=2000", img.display())).unwrap_err();
        assert!(e.contains("capacity=2000") && e.contains("1000"), "{e}");
        assert!(check_config_any(&format!("mmc/{};type=dvd+r", img.display())).is_ok());
        assert!(matches!(
            load(&config(&img, ";type=cd-rw")),
            Loaded::Empty(_)
        ));
        assert!(set_aside_files(&dir).is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// `mv` of the image with its state keeps the disc; truncating the image to empty makes
    /// it a new blank.
    #[test]
    fn a_move_keeps_the_disc_and_a_truncation_does_not() {
        let dir = scratch("mv");
        let a = dir.join("a.iso");
        let b = dir.join("b.iso");
        let m = burned(&a);
        std::fs::rename(&a, &b).unwrap();
        std::fs::rename(state::state_path(&a), state::state_path(&b)).unwrap();
        assert_eq!(inspect(&config(&b, "")).unwrap(), m);
        std::fs::write(&b, b"").unwrap();
        let (blank, stale) = inspect_with_stale(&config(&b, "")).unwrap();
        assert_eq!(blank.status(), crate::mmc::medium::DiscStatus::Empty);
        assert!(stale.unwrap().why.contains("empty"));
        let _ = std::fs::remove_dir_all(&dir);
    }
}
