//! The TCMU configuration string of a drive: `mmc/<path>` (targetcli writes `mmc//<abs path>`).
use std::path::{Component, PathBuf};

use super::state::kind_from_name;
use crate::mmc::medium::DVD_PLUS_R_BLOCKS;
use crate::mmc::MediumKind;

/// The handler subtype, the part of `dev_config` before the first `/`.
pub const SUBTYPE: &str = "mmc";

/// A parsed configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaConfig {
    /// The backing image; `None` means an empty tray.
    pub image: Option<PathBuf>,
    /// The disc `type=` names (default DVD+R): for a recordable kind, the blank disc an empty
    /// image becomes (of `blank_capacity` blocks); for a pressed one (DVD-ROM, BD-ROM, CD-ROM),
    /// what a data image without recording state is.
    pub kind: MediumKind,
    pub blank_capacity: u32,
    /// `morph=close`: tgt's behaviour, where closing a track or session of a DVD+R finalizes
    /// it into a DVD-ROM. The default (`morph=finalize`) finalizes only on CLOSE 5/6.
    pub finalize_on_close: bool,
    /// `offline`: the drive shows an empty tray but keeps the image's name, so `online` (the
    /// same string without it) brings the disc back (tgt's "online No").
    pub offline: bool,
    /// Whether `type=` / `capacity=` were given (not the defaults): they must then agree
    /// with a recorded disc.
    pub type_given: bool,
    pub capacity_given: bool,
}

impl Default for MediaConfig {
    fn default() -> Self {
        MediaConfig {
            image: None,
            kind: MediumKind::DvdPlusR,
            blank_capacity: DVD_PLUS_R_BLOCKS,
            finalize_on_close: false,
            offline: false,
            type_given: false,
            capacity_given: false,
        }
    }
}

/// The names of the blank disc types, for messages.
pub fn blank_type_names() -> String {
    type_names(MediumKind::is_recordable)
}

fn type_names(which: fn(MediumKind) -> bool) -> String {
    MediumKind::ALL
        .into_iter()
        .filter(|&k| which(k))
        .map(super::state::kind_name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A capacity: a number of 2048-byte blocks, or a size with a K, M or G suffix (powers of
/// 1024) that is a whole number of blocks.
fn parse_capacity(v: &str) -> Option<u32> {
    let (num, unit) = match v.as_bytes().last()? {
        b'K' | b'k' => (&v[..v.len() - 1], 1u64 << 10),
        b'M' | b'm' => (&v[..v.len() - 1], 1 << 20),
        b'G' | b'g' => (&v[..v.len() - 1], 1 << 30),
        _ => (v, 0),
    };
    let n: u64 = num.parse().ok()?;
    let blocks = if unit == 0 {
        n
    } else {
        let bytes = n.checked_mul(unit)?;
        if bytes % 2048 != 0 {
            return None;
        }
        bytes / 2048
    };
    u32::try_from(blocks).ok().filter(|&b| b > 0)
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
    /// Parse a full `dev_config` value, `mmc/<path>[;option=value...]`. The path is absolute
    /// whether written with one slash or two; an empty path is an empty tray. Options describe
    /// the blank disc an empty image becomes: `type=dvd+r|dvd+r-dl|dvd-r|dvd-r-dl|dvd+rw|dvd-ram|dvd-rw|cd-rw|bd-r|bd-re`,
    /// or the pressed disc a data image is: `type=dvd-rom|bd-rom|cd-rom`,
    /// `capacity=<blocks>|<n>M|<n>G`,
    /// and when a DVD+R turns into a DVD-ROM: `morph=finalize|close`.
    pub fn parse(dev_config: &str) -> Result<Self, ConfigError> {
        let Some(rest) = dev_config
            .strip_prefix(SUBTYPE)
            .and_then(|r| r.strip_prefix('/'))
        else {
            return Err(ConfigError(format!(
                "config {dev_config:?} does not start with \"{SUBTYPE}/\""
            )));
        };
        if let Some(c) = rest.chars().find(|c| c.is_control()) {
            return Err(ConfigError(format!(
                "config {dev_config:?} contains the control character {c:?}"
            )));
        }
        let mut parts = rest.split(';');
        let path_part = parts.next().unwrap_or("").trim_start_matches('/');
        let mut cfg = MediaConfig::default();
        let mut capacity = None;
        for opt in parts.filter(|o| !o.is_empty()) {
            let (key, value) = opt.split_once('=').unwrap_or((opt, ""));
            match key {
                "type" => {
                    cfg.type_given = true;
                    cfg.kind = kind_from_name(value).ok_or_else(|| {
                        ConfigError(format!(
                            "type={value:?}: blank media types are {}; pressed ones (for a \
                             data image) {}",
                            blank_type_names(),
                            type_names(MediumKind::is_pressed)
                        ))
                    })?;
                }
                "capacity" => {
                    capacity = Some(parse_capacity(value).ok_or_else(|| {
                        ConfigError(format!(
                            "capacity={value:?}: give blocks of 2048 bytes, or a size like 100M"
                        ))
                    })?);
                }
                "offline" if value.is_empty() => cfg.offline = true,
                "morph" => {
                    cfg.finalize_on_close = match value {
                        "close" => true,
                        "finalize" => false,
                        _ => {
                            return Err(ConfigError(format!(
                                "morph={value:?}: use morph=close (tgt) or morph=finalize"
                            )))
                        }
                    }
                }
                _ => {
                    return Err(ConfigError(format!(
                        "unknown option {key:?} in {dev_config:?} (known: type, capacity, morph, offline)"
                    )))
                }
            }
        }
        cfg.capacity_given = capacity.is_some();
        cfg.blank_capacity = capacity.unwrap_or(cfg.kind.default_capacity());
        if path_part.is_empty() {
            return Ok(cfg);
        }
        let path = PathBuf::from(format!("/{path_part}"));
        if path.components().any(|c| c == Component::ParentDir) {
            return Err(ConfigError(format!(
                "image path {} contains \"..\"",
                path.display()
            )));
        }
        cfg.image = Some(path);
        Ok(cfg)
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
    fn blank_media_options() {
        let c = MediaConfig::parse("mmc//srv/blank.iso").unwrap();
        assert_eq!(
            (c.kind, c.blank_capacity),
            (MediumKind::DvdPlusR, 2_295_104)
        );
        let c = MediaConfig::parse("mmc//srv/blank.iso;type=dvd+r-dl").unwrap();
        assert_eq!(
            (c.kind, c.blank_capacity),
            (MediumKind::DvdPlusRDualLayer, 4_173_824)
        );
        let c = MediaConfig::parse("mmc//srv/b.iso;capacity=100M").unwrap();
        assert_eq!(c.blank_capacity, 51_200);
        assert_eq!(c.image, Some(PathBuf::from("/srv/b.iso")));
        assert_eq!(
            MediaConfig::parse("mmc/x;capacity=1000")
                .unwrap()
                .blank_capacity,
            1000
        );
        for bad in [
            "mmc/x;capacity=0",
            "mmc/x;capacity=1K",
            "mmc/x;capacity=abc",
            "mmc/x;type=cd",
            "mmc/x;type=bd",
            "mmc/x;speed=4",
        ] {
            let e = MediaConfig::parse(bad).unwrap_err();
            assert!(!e.0.is_empty(), "{bad}");
        }
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
