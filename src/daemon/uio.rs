//! TCMU devices as the kernel lists them under /sys/class/uio.
use std::fs;
use std::path::{Path, PathBuf};

use crate::media::config::SUBTYPE;

/// The parts of a TCMU UIO name, `tcm-user/<hba>/<device>/<dev_config>`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TcmuName {
    pub hba: u32,
    pub device: String,
    /// The whole `dev_config` (`mmc/<path>`), empty if none was set.
    pub config: String,
}

impl TcmuName {
    pub fn parse(name: &str) -> Option<Self> {
        let rest = name.strip_prefix("tcm-user/")?;
        let mut parts = rest.splitn(3, '/');
        let hba = parts.next()?.parse().ok()?;
        let device = parts.next().filter(|d| !d.is_empty())?.to_owned();
        let config = parts.next().unwrap_or("").to_owned();
        Some(TcmuName {
            hba,
            device,
            config,
        })
    }

    /// Whether the device is for this handler (`dev_config` subtype `mmc`).
    pub fn is_mmc(&self) -> bool {
        self.config
            .strip_prefix(SUBTYPE)
            .is_some_and(|rest| rest.starts_with('/'))
    }

    /// The device's directory in configfs.
    pub fn configfs_dir(&self, configfs: &Path) -> PathBuf {
        super::configfs::backstore(configfs, self.hba, &self.device).into_dir()
    }

    /// A stable label for logs: `<hba>/<device>`.
    pub fn label(&self) -> String {
        format!("{}/{}", self.hba, self.device)
    }
}

/// One UIO device of TCMU.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UioDevice {
    /// `uioN`.
    pub node: String,
    pub name: TcmuName,
    /// Size of map0, once the kernel has published it.
    pub map_size: Option<usize>,
}

impl UioDevice {
    pub fn dev_path(&self) -> PathBuf {
        Path::new("/dev").join(&self.node)
    }
}

/// Every TCMU UIO device under `sysfs_uio` (normally /sys/class/uio).
pub fn scan(sysfs_uio: &Path) -> Vec<UioDevice> {
    let Ok(dir) = fs::read_dir(sysfs_uio) else {
        return Vec::new();
    };
    let mut found: Vec<UioDevice> = dir
        .filter_map(Result::ok)
        .filter_map(|e| {
            let node = e.file_name().to_string_lossy().into_owned();
            let raw = fs::read_to_string(e.path().join("name")).ok()?;
            let name = TcmuName::parse(raw.trim_end_matches('\n'))?;
            let map_size = fs::read_to_string(e.path().join("maps/map0/size"))
                .ok()
                .and_then(|s| parse_size(s.trim()));
            Some(UioDevice {
                node,
                name,
                map_size,
            })
        })
        .collect();
    found.sort_by(|a, b| a.node.cmp(&b.node));
    found
}

/// sysfs prints the map size in hex (`0x...`).
fn parse_size(s: &str) -> Option<usize> {
    match s.strip_prefix("0x") {
        Some(hex) => usize::from_str_radix(hex, 16).ok(),
        None => s.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        let n = TcmuName::parse("tcm-user/0/dvd0/mmc//srv/a.iso").unwrap();
        assert_eq!(
            (n.hba, n.device.as_str(), n.config.as_str()),
            (0, "dvd0", "mmc//srv/a.iso")
        );
        assert!(n.is_mmc());
        assert!(TcmuName::parse("tcm-user/3/dvd1/mmc/").unwrap().is_mmc());
        assert!(!TcmuName::parse("tcm-user/0/disk/file//x.img")
            .unwrap()
            .is_mmc());
        assert!(!TcmuName::parse("tcm-user/0/disk/mmcfoo/x")
            .unwrap()
            .is_mmc());
        assert!(!TcmuName::parse("tcm-user/0/disk").unwrap().is_mmc());
        assert!(TcmuName::parse("uio_pdrv").is_none());
        assert!(TcmuName::parse("tcm-user/x/dvd0/mmc/").is_none());
        assert_eq!(
            n.configfs_dir(Path::new("/sys/kernel/config")),
            Path::new("/sys/kernel/config/target/core/user_0/dvd0")
        );
    }

    #[test]
    fn scan_reads_sysfs_layout() {
        let dir = std::env::temp_dir().join(format!("tcmu-mmc-uio-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        for (node, name, size) in [
            ("uio0", "tcm-user/0/dvd0/mmc//a.iso\n", Some("0x40801000\n")),
            ("uio1", "tcm-user/0/disk0/file//b\n", Some("0x1000\n")),
            ("uio2", "tcm-user/1/dvd1/mmc/\n", None),
            ("uio3", "other\n", None),
        ] {
            fs::create_dir_all(dir.join(node).join("maps/map0")).unwrap();
            fs::write(dir.join(node).join("name"), name).unwrap();
            if let Some(s) = size {
                fs::write(dir.join(node).join("maps/map0/size"), s).unwrap();
            }
        }
        let found = scan(&dir);
        fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found.len(), 3);
        assert_eq!(found[0].map_size, Some(0x4080_1000));
        assert!(found[0].name.is_mmc() && !found[1].name.is_mmc());
        assert_eq!(found[2].map_size, None);
        assert_eq!(found[2].dev_path(), Path::new("/dev/uio2"));
    }
}
