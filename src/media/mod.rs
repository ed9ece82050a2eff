//! Media store: the configuration string that names a backing file, and the image files
//! themselves.
pub mod config;
pub mod image;

pub use config::{ConfigError, MediaConfig};
pub use image::Image;

use crate::mmc::Medium;

/// What a configuration puts in the drive.
pub enum Loaded {
    /// Nothing in the tray, and why (for the log and `status`).
    Empty(String),
    /// A read-only disc backed by an image.
    Rom(Image),
}

impl Loaded {
    /// The drive model's view of the medium.
    pub fn medium(&self) -> Option<Medium> {
        match self {
            Loaded::Empty(_) => None,
            Loaded::Rom(img) => Some(Medium::dvd_rom(img.blocks())),
        }
    }

    pub fn image(&self) -> Option<&Image> {
        match self {
            Loaded::Empty(_) => None,
            Loaded::Rom(img) => Some(img),
        }
    }
}

/// Open the medium `cfg` names, following the seed's rules: no path or no file is an empty
/// tray; a file with data is a DVD-ROM of that many 2048-byte blocks.
pub fn load(cfg: &MediaConfig) -> Loaded {
    let Some(path) = &cfg.image else {
        return Loaded::Empty("no image configured".into());
    };
    match Image::open(path) {
        Ok(img) if img.size() == 0 => Loaded::Empty(format!(
            "{}: blank media not supported yet (an empty file will be a blank DVD+R)",
            path.display()
        )),
        Ok(img) => Loaded::Rom(img),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            Loaded::Empty(format!("{}: no such file", path.display()))
        }
        Err(e) => Loaded::Empty(format!("{}: {e}", path.display())),
    }
}
