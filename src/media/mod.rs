//! Media store: the configuration string that names a backing file, the image files, and the
//! recording state kept beside a recordable disc's image.
pub mod config;
pub mod image;
pub mod state;

use std::io;
use std::path::PathBuf;

pub use config::{ConfigError, MediaConfig};
pub use image::Image;

use crate::mmc::Medium;

/// A disc in the drive: its image, the model's view of it, and where its recording state is
/// kept (recordable discs only).
pub struct Disc {
    pub image: Image,
    pub medium: Medium,
    pub state_path: Option<PathBuf>,
    /// tgt's morph-on-close (`morph=close` in the configuration).
    pub finalize_on_close: bool,
    /// Whether the state file exists. A blank disc loaded from a bare empty image has none
    /// until the first write, which records it first: otherwise a crash before any
    /// SYNCHRONIZE CACHE would leave a non-empty image without state, i.e. a DVD-ROM.
    state_recorded: std::cell::Cell<bool>,
}

impl Disc {
    /// Make what the drive acknowledged durable: the image's data, then the recording state.
    pub fn persist(&self, medium: &Medium) -> io::Result<()> {
        self.image.sync_data()?;
        if let Some(path) = &self.state_path {
            state::save(path, medium)?;
            self.state_recorded.set(true);
        }
        Ok(())
    }

    /// Before the first write to a disc without a state file, record its state as it is.
    pub fn record_state_before_writing(&self, medium: &Medium) -> io::Result<()> {
        match &self.state_path {
            Some(path) if !self.state_recorded.get() => {
                state::save(path, medium)?;
                self.state_recorded.set(true);
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

/// What a configuration puts in the drive.
pub enum Loaded {
    /// Nothing in the tray, and why (for the log and `status`).
    Empty(String),
    Disc(Disc),
}

impl Loaded {
    /// The drive model's view of the medium.
    pub fn medium(&self) -> Option<Medium> {
        match self {
            Loaded::Empty(_) => None,
            Loaded::Disc(d) => Some(d.medium.clone()),
        }
    }

    pub fn disc(&self) -> Option<&Disc> {
        match self {
            Loaded::Empty(_) => None,
            Loaded::Disc(d) => Some(d),
        }
    }

    pub fn image(&self) -> Option<&Image> {
        self.disc().map(|d| &d.image)
    }
}

/// Open the medium `cfg` names. Following the seed: no path or no file is an empty tray; an
/// empty file is a blank recordable disc; a file with data is a DVD-ROM of that many 2048-byte
/// blocks, unless a recording state beside it says it is a (possibly finalized) recordable disc.
pub fn load(cfg: &MediaConfig) -> Loaded {
    let Some(path) = &cfg.image else {
        return Loaded::Empty("no image configured".into());
    };
    if cfg.offline {
        return Loaded::Empty(format!("offline (image {} kept)", path.display()));
    }
    match open_disc(cfg, path) {
        Ok(d) => Loaded::Disc(d),
        Err(why) => Loaded::Empty(why),
    }
}

fn open_disc(cfg: &MediaConfig, path: &std::path::Path) -> Result<Disc, String> {
    let shown = path.display();
    let meta = std::fs::metadata(path).map_err(|e| match e.kind() {
        io::ErrorKind::NotFound => format!("{shown}: no such file"),
        _ => format!("{shown}: {e}"),
    })?;
    if !meta.is_file() {
        return Err(format!("{shown}: not a regular file"));
    }
    let state_path = state::state_path(path);
    let recorded = state::load(&state_path)?;
    let state_recorded = recorded.is_some();
    let medium = match recorded {
        Some(m) => m,
        None if meta.len() == 0 => Medium::blank(cfg.blank_kind, cfg.blank_capacity),
        None => {
            let img = Image::open(path).map_err(|e| format!("{shown}: {e}"))?;
            return Ok(Disc {
                medium: Medium::dvd_rom(img.blocks()),
                image: img,
                state_path: None,
                finalize_on_close: false,
                state_recorded: std::cell::Cell::new(false),
            });
        }
    };
    let image = if medium.is_writable() {
        let img = Image::open_writable(path).map_err(|e| format!("{shown}: {e}"))?;
        // Bytes past the recorded end were never acknowledged (no SYNCHRONIZE CACHE or CLOSE
        // covered them): drop them, so the image is the disc.
        let recorded_bytes = u64::from(medium.readable_blocks()) * crate::scsi::BLOCK_SIZE as u64;
        if img.size() > recorded_bytes {
            log::warn!(
                "{shown}: dropping {} unacknowledged bytes",
                img.size() - recorded_bytes
            );
            img.truncate(recorded_bytes)
                .map_err(|e| format!("{shown}: truncate: {e}"))?;
        }
        img
    } else {
        Image::open(path).map_err(|e| format!("{shown}: {e}"))?
    };
    Ok(Disc {
        image,
        medium,
        state_path: Some(state_path),
        finalize_on_close: cfg.finalize_on_close,
        state_recorded: std::cell::Cell::new(state_recorded),
    })
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

/// One line describing a disc image and its state, for `tcmu-mmc disc info`.
pub fn describe(path: &std::path::Path) -> Result<String, String> {
    let cfg = MediaConfig {
        image: Some(path.to_owned()),
        ..MediaConfig::default()
    };
    match load(&cfg) {
        Loaded::Empty(why) => Err(why),
        Loaded::Disc(d) => {
            let m = &d.medium;
            Ok(format!(
                "{}: {} profile {:04x} status {:?}{} capacity {} readable {} formatted {} sessions {} tracks {}",
                path.display(),
                state::kind_name(m.kind),
                m.profile(),
                m.status(),
                if m.finalized { " finalized" } else { "" },
                m.capacity,
                m.readable_blocks(),
                m.formatted,
                m.closed_sessions(),
                m.tracks.len()
            ))
        }
    }
}
