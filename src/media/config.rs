//! The TCMU configuration string of a drive: `mmc/<path>` (targetcli writes `mmc//<abs path>`).
use std::path::{Component, PathBuf};

/// The handler subtype, the part of `dev_config` before the first `/`.
pub const SUBTYPE: &str = "mmc";

/// A parsed configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaConfig {
    /// The backing image; `None` means an empty tray.
    pub image: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError(pub String);

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ConfigError {}

impl MediaConfig {
    /// Parse a full `dev_config` value, `mmc/<path>`. The path is absolute whether written with
    /// one slash or two; an empty path is an empty tray.
    pub fn parse(dev_config: &str) -> Result<Self, ConfigError> {
        let Some(rest) = dev_config.strip_prefix(SUBTYPE).and_then(|r| r.strip_prefix('/')) else {
            return Err(ConfigError(format!(
                "config {dev_config:?} does not start with \"{SUBTYPE}/\""
            )));
        };
        if let Some(c) = rest.chars().find(|c| c.is_control()) {
            return Err(ConfigError(format!(
                "config {dev_config:?} contains the control character {c:?}"
            )));
        }
        let rest = rest.trim_start_matches('/');
        if rest.is_empty() {
            return Ok(MediaConfig { image: None });
        }
        let path = PathBuf::from(format!("/{rest}"));
        if path.components().any(|c| c == Component::ParentDir) {
            return Err(ConfigError(format!("image path {} contains \"..\"", path.display())));
        }
        Ok(MediaConfig { image: Some(path) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_slash_forms_name_an_absolute_path() {
        for s in ["mmc//srv/media/disc.iso", "mmc/srv/media/disc.iso"] {
            let c = MediaConfig::parse(s).unwrap();
            assert_eq!(c.image, Some(PathBuf::from("/srv/media/disc.iso")));
        }
    }

    #[test]
    fn empty_path_is_an_empty_tray() {
        assert_eq!(MediaConfig::parse("mmc/").unwrap().image, None);
        assert_eq!(MediaConfig::parse("mmc//").unwrap().image, None);
    }

    #[test]
    fn bad_strings_are_refused_with_a_reason() {
        let e = MediaConfig::parse("file//x.img").unwrap_err();
        assert!(e.0.contains("mmc/"), "{e}");
        assert!(MediaConfig::parse("mmc").is_err());
        assert!(MediaConfig::parse("mmcx/a").is_err());
        let e = MediaConfig::parse("mmc//srv/../etc/shadow").unwrap_err();
        assert!(e.0.contains(".."), "{e}");
        assert!(MediaConfig::parse("mmc//a\nb").is_err());
    }
}
