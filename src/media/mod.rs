//! Media store: the configuration string that names a backing file, the image files, and the
//! recording state kept beside a recordable disc's image.
pub mod config;
pub mod image;
pub mod roots;
pub mod state;

pub mod store;

use std::io;
#[cfg(test)]
use std::path::PathBuf;

pub use config::{ConfigError, MediaConfig};
pub use image::Image;
pub use roots::MediaRoots;
pub use store::{Disc, StoreError};
#[cfg(any(test, feature = "testing"))]
pub use store::{Fault, FaultKind};

use crate::mmc::Medium;

/// What a configuration puts in the drive.
pub enum Loaded {
    /// Nothing in the tray, and why (for the log and `status`).
    Empty(String),
    Disc(Disc),
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
        Ok(d) => Loaded::Disc(d),
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
fn examine(
    cfg: &MediaConfig,
    path: &std::path::Path,
) -> Result<(Medium, Option<state::Recorded>), String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => format!("{shown}: no such file"),
        _ => format!("{shown}: {e}"),
    })?;
    if !meta.is_file() {
        return Err(format!("{shown}: not a regular file"));
    }
    let recorded = state::load(&state::state_path(path)).map_err(|e| e.to_string())?;
    Ok(match recorded {
        Some(r) => (r.medium.clone(), Some(r)),
        None if meta.len() == 0 => (Medium::blank(cfg.blank_kind, cfg.blank_capacity), None),
        None => (Medium::dvd_rom(blocks_of(meta.len())), None),
    })
}

/// What `cfg` would put in the drive, without opening the image for writing or changing
/// anything (for `status` and configuration checks): the medium, or why the tray is empty.
pub fn inspect(cfg: &MediaConfig) -> Result<Medium, String> {
    let Some(path) = &cfg.image else {
        return Err("no image configured".into());
    };
    if cfg.offline {
        return Err(format!("offline (image {} kept)", path.display()));
    }
    let (medium, _) = examine(cfg, path)?;
    // Reading must be possible for any disc; writing is checked when the drive loads it.
    std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(medium)
}

fn open_disc(cfg: &MediaConfig, path: &std::path::Path) -> Result<Disc, String> {
    let shown = path.display();
    let (medium, recorded) = examine(cfg, path)?;
    if recorded.is_none() && medium.kind() == crate::mmc::MediumKind::DvdRom {
        let img = Image::open(path).map_err(|e| format!("{shown}: {e}"))?;
        return Ok(Disc::pressed(img));
    }
    let erase_pending = recorded.as_ref().is_some_and(|r| r.erase_pending);
    state::remove_stale_temporaries(&state::state_path(path));
    let mut state = state::StateFile::new(state::state_path(path), recorded);
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
    state::save(&state::state_path(path), &medium)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(medium)
}

/// One line describing a disc image and its state, for `tcmu-mmc disc info`. Read-only.
pub fn describe(path: &std::path::Path) -> Result<String, String> {
    let cfg = MediaConfig {
        image: Some(path.to_owned()),
        ..MediaConfig::default()
    };
    let m = inspect(&cfg)?;
    Ok(format!(
        "{}: {} profile {:04x} status {:?}{} capacity {} readable {} formatted {} sessions {} tracks {}",
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
}
