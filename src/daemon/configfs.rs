//! LIO's configfs layout, known here and nowhere else: where a TCMU backstore lives
//! (`target/core/user_<hba>/<name>`), its `attrib/`, `action/` and `wwn/` groups, and where
//! the fabrics export it (`target/{loopback,iscsi}/<wwn>/tpgt_<N>/lun/lun_<N>`, each LUN a
//! link to its backstore).
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Below the configfs mount, once target_core_mod is loaded.
const TARGET: &str = "target";
/// `target/core/<hba>/<backstore>`.
const CORE: &str = "core";
/// TCMU's HBAs are `user_<N>`.
const USER_HBA: &str = "user_";
const ATTRIB: &str = "attrib";
const ACTION: &str = "action";
const WWN: &str = "wwn";
/// The fabrics whose LUNs `exports_of` looks through.
const LOOPBACK: &str = "loopback";
const ISCSI: &str = "iscsi";
/// `<fabric>/<wwn>/tpgt_<N>/lun/lun_<N>`.
const TPG: &str = "tpgt_";
const LUNS: &str = "lun";
const LUN: &str = "lun_";
/// A tcm_loop TPG's `host:channel:target`.
const TPG_ADDRESS: &str = "address";
/// Where sysfs lists SCSI devices by `host:channel:target:lun`.
const SCSI_DEVICES: &str = "/sys/bus/scsi/devices";

/// The backstore attributes tcmu-mmc reads or writes (`attrib/<name>`).
pub mod attrib {
    /// The handler's configuration, `mmc/<path>[;option...]`.
    pub const DEV_CONFIG: &str = "dev_config";
    /// The device's size in bytes.
    pub const DEV_SIZE: &str = "dev_size";
    /// Above 0 when the kernel waits for a netlink reply to the device's events.
    pub const NL_REPLY_SUPPORTED: &str = "nl_reply_supported";
}

/// TCMU's `action/` files.
pub mod action {
    /// 1 holds the kernel's commands back, 0 lets them through.
    pub const BLOCK_DEV: &str = "block_dev";
    /// 1 resets the command ring.
    pub const RESET_RING: &str = "reset_ring";
}

/// The INQUIRY names of a backstore (`wwn/<name>`).
pub mod wwn {
    pub const VENDOR_ID: &str = "vendor_id";
    pub const PRODUCT_ID: &str = "product_id";
    pub const REVISION: &str = "revision";
    pub const VPD_UNIT_SERIAL: &str = "vpd_unit_serial";
    pub const COMPANY_ID: &str = "company_id";
}

/// One backstore's directory in configfs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backstore {
    dir: PathBuf,
}

impl Backstore {
    /// The backstore whose directory is `dir`.
    pub fn at(dir: impl Into<PathBuf>) -> Self {
        Backstore { dir: dir.into() }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn into_dir(self) -> PathBuf {
        self.dir
    }

    /// Whether the backstore is there (it goes away when removed).
    pub fn exists(&self) -> bool {
        self.dir.is_dir()
    }

    /// Whether it has an `attrib/` group, as every storage object has.
    pub fn has_attribs(&self) -> bool {
        self.dir.join(ATTRIB).is_dir()
    }

    /// One attribute as the kernel shows it.
    pub fn read_attrib(&self, name: &str) -> io::Result<String> {
        fs::read_to_string(self.dir.join(ATTRIB).join(name))
    }

    /// Write one attribute; the kernel's refusal is the error.
    pub fn write_attrib(&self, name: &str, value: &str) -> io::Result<()> {
        fs::write(self.dir.join(ATTRIB).join(name), value)
    }

    /// Read the device's `attrib/dev_config`, the authoritative configuration (the uio name
    /// may be cut short).
    pub fn dev_config(&self) -> Option<String> {
        self.read_attrib(attrib::DEV_CONFIG)
            .ok()
            .map(|s| s.trim_end_matches('\n').to_owned())
    }

    /// Whether the kernel waits for a netlink reply to this device's events: its
    /// `attrib/nl_reply_supported` is above 0 (set from the kernel's global reply mode when the
    /// device was made, unless its `control` said otherwise).
    pub fn waits_for_netlink_replies(&self) -> bool {
        self.read_attrib(attrib::NL_REPLY_SUPPORTED)
            .ok()
            .and_then(|s| s.trim().parse::<i32>().ok())
            .is_some_and(|v| v > 0)
    }

    /// Write one of the device's `action/` files (`block_dev`, `reset_ring`). Failures are
    /// logged and ignored: kernels without the action directory, or a device being removed,
    /// still work.
    pub fn action(&self, name: &str, value: &str) {
        let path = self.dir.join(ACTION).join(name);
        if let Err(e) = fs::write(&path, value) {
            log::debug!("{}={value}: {e}", path.display());
        }
    }

    /// One name of the `wwn/` group. A missing file (older kernels, no group) is `None`.
    pub fn read_wwn(&self, name: &str) -> io::Result<Option<String>> {
        let path = self.dir.join(WWN).join(name);
        match fs::read_to_string(&path) {
            Ok(s) => Ok(Some(s)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io::Error::new(e.kind(), format!("{}: {e}", path.display()))),
        }
    }
}

/// Whether configfs has LIO's `target/` (configfs mounted, target_core_mod loaded).
pub fn has_target(root: &Path) -> bool {
    root.join(TARGET).exists()
}

/// The backstore `name` of TCMU's HBA `hba`.
pub fn backstore(root: &Path, hba: u32, name: &str) -> Backstore {
    Backstore::at(core(root).join(format!("{USER_HBA}{hba}")).join(name))
}

fn core(root: &Path) -> PathBuf {
    root.join(TARGET).join(CORE)
}

/// TCMU's HBA directories: (what follows `user_`, the directory).
fn user_hbas(root: &Path) -> Vec<(String, PathBuf)> {
    fs::read_dir(core(root))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter_map(|h| {
            let n = h
                .file_name()
                .to_string_lossy()
                .strip_prefix(USER_HBA)?
                .to_owned();
            Some((n, h.path()))
        })
        .collect()
}

/// Every TCMU storage object: (hba, name, backstore), in directory order.
pub fn user_backstores(root: &Path) -> Vec<(u32, String, Backstore)> {
    let mut found = Vec::new();
    for (n, hba) in user_hbas(root) {
        let Ok(n) = n.parse::<u32>() else {
            continue;
        };
        let Ok(devs) = fs::read_dir(hba) else {
            continue;
        };
        for dev in devs.filter_map(Result::ok) {
            let store = Backstore::at(dev.path());
            if store.has_attribs() {
                found.push((n, dev.file_name().to_string_lossy().into_owned(), store));
            }
        }
    }
    found
}

/// Where `name` would be in each TCMU HBA (whether or not it is there).
pub fn backstores_named(root: &Path, name: &str) -> Vec<Backstore> {
    user_hbas(root)
        .into_iter()
        .map(|(_, hba)| Backstore::at(hba.join(name)))
        .collect()
}

/// Where a backstore is exported: tcm_loop LUNs as their block device, iSCSI LUNs by IQN.
pub fn exports_of(root: &Path, backstore: &Backstore) -> Vec<String> {
    let mut out = Vec::new();
    let Ok(want) = fs::canonicalize(backstore.dir()) else {
        return out;
    };
    for fabric in [LOOPBACK, ISCSI] {
        let Ok(targets) = fs::read_dir(root.join(TARGET).join(fabric)) else {
            continue;
        };
        for target in targets.filter_map(Result::ok).filter(|t| t.path().is_dir()) {
            let Ok(tpgs) = fs::read_dir(target.path()) else {
                continue;
            };
            for tpg in tpgs.filter_map(Result::ok) {
                if !tpg.file_name().to_string_lossy().starts_with(TPG) {
                    continue;
                }
                let Ok(luns) = fs::read_dir(tpg.path().join(LUNS)) else {
                    continue;
                };
                for lun in luns.filter_map(Result::ok) {
                    let lun_name = lun.file_name().to_string_lossy().into_owned();
                    let linked = fs::read_dir(lun.path()).into_iter().flatten().any(|l| {
                        l.ok()
                            .and_then(|l| fs::canonicalize(l.path()).ok())
                            .as_ref()
                            == Some(&want)
                    });
                    if !linked {
                        continue;
                    }
                    let n = lun_name.trim_start_matches(LUN);
                    let iqn = target.file_name().to_string_lossy().into_owned();
                    out.push(match fabric {
                        LOOPBACK => loop_block_device(&tpg.path(), n)
                            .unwrap_or_else(|| format!("loopback:{iqn}:lun{n}")),
                        _ => format!("iscsi:{iqn}:lun{n}"),
                    });
                }
            }
        }
    }
    out
}

/// The block device of a tcm_loop LUN: its TPG's `address` is `host:channel:target`.
fn loop_block_device(tpg: &Path, lun: &str) -> Option<String> {
    let addr = fs::read_to_string(tpg.join(TPG_ADDRESS)).ok()?;
    let dir = Path::new(SCSI_DEVICES).join(format!("{}:{lun}", addr.trim()));
    let block = fs::read_dir(dir.join("block")).ok()?.next()?.ok()?;
    Some(format!("/dev/{}", block.file_name().to_string_lossy()))
}

/// Fake configfs trees for tests, laid out as the kernel lays them out.
#[cfg(test)]
pub mod fake {
    use super::*;

    /// A fresh, empty scratch directory `tcmu-mmc-<tag>-<pid>` for a fake configfs root (and
    /// whatever the test keeps beside it).
    pub fn root(tag: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("tcmu-mmc-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        root
    }

    /// A TCMU storage object `user_<hba>/<name>` under `root` with this `dev_config` (as the
    /// kernel shows it, newline included where wanted).
    pub fn backstore(root: &Path, hba: u32, name: &str, dev_config: &str) -> Backstore {
        let store = super::backstore(root, hba, name);
        fs::create_dir_all(store.dir().join(ATTRIB)).unwrap();
        store.write_attrib(attrib::DEV_CONFIG, dev_config).unwrap();
        store
    }

    /// A bare directory as a backstore with an empty `wwn/` group.
    pub fn wwn_group(dir: &Path) -> Backstore {
        fs::create_dir_all(dir.join(WWN)).unwrap();
        Backstore::at(dir)
    }

    /// Remove the backstore's `wwn/` group (older kernels have none).
    pub fn remove_wwn_group(store: &Backstore) {
        fs::remove_dir_all(store.dir().join(WWN)).unwrap();
    }

    /// Show `shown` as the wwn name `name`.
    pub fn write_wwn(store: &Backstore, name: &str, shown: &str) {
        fs::write(store.dir().join(WWN).join(name), shown).unwrap();
    }

    /// LUN `lun` of TPG `tpgt` of the fabric's target `target`, linked to `to` if given; its
    /// directory.
    pub fn lun(
        root: &Path,
        fabric: &str,
        target: &str,
        tpgt: u32,
        lun: u32,
        to: Option<&Backstore>,
    ) -> PathBuf {
        let dir = root
            .join(TARGET)
            .join(fabric)
            .join(target)
            .join(format!("{TPG}{tpgt}"))
            .join(LUNS)
            .join(format!("{LUN}{lun}"));
        fs::create_dir_all(&dir).unwrap();
        if let Some(store) = to {
            std::os::unix::fs::symlink(store.dir(), dir.join("a1b2c3")).unwrap();
        }
        dir
    }

    /// Give a tcm_loop TPG (the one holding `lun`, a directory from [`lun`]) its address.
    pub fn tpg_address(lun: &Path, address: &str) {
        let tpg = lun.parent().unwrap().parent().unwrap();
        fs::write(tpg.join(TPG_ADDRESS), address).unwrap();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backstores_are_where_lio_puts_them() {
        let root = Path::new("/sys/kernel/config");
        assert_eq!(
            backstore(root, 0, "dvd0").dir(),
            Path::new("/sys/kernel/config/target/core/user_0/dvd0")
        );
    }

    #[test]
    fn user_backstores_are_tcmus_storage_objects() {
        let root = fake::root("configfs-list");
        let dvd = fake::backstore(&root, 3, "dvd0", "mmc/\n");
        // Not a storage object (no attrib/), another backstore's HBA, a HBA without a number.
        fs::create_dir_all(root.join("target/core/user_3/stray")).unwrap();
        fs::create_dir_all(root.join("target/core/fileio_0/f0/attrib")).unwrap();
        fs::create_dir_all(root.join("target/core/user_x/d1/attrib")).unwrap();
        assert_eq!(
            user_backstores(&root),
            vec![(3, "dvd0".to_string(), dvd.clone())]
        );
        assert_eq!(dvd.dev_config().as_deref(), Some("mmc/"));
        let mut named: Vec<PathBuf> = backstores_named(&root, "d1")
            .into_iter()
            .map(Backstore::into_dir)
            .collect();
        named.sort();
        assert_eq!(
            named,
            vec![
                root.join("target/core/user_3/d1"),
                root.join("target/core/user_x/d1")
            ]
        );
        assert!(has_target(&root) && !has_target(&root.join("nothing")));
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn loopback_and_iscsi_luns_are_found_through_their_links() {
        let root = fake::root("configfs-exports");
        let so = fake::backstore(&root, 1, "tc0", "mmc/\n");
        let lun = fake::lun(&root, LOOPBACK, "naa.500140511", 1, 3, Some(&so));
        fs::write(lun.join("alua_tg_pt_gp"), "x").unwrap();
        fake::tpg_address(&lun, "9:0:1\n");
        fake::lun(&root, LOOPBACK, "naa.500140522", 1, 0, None);
        fake::lun(&root, ISCSI, "iqn.2026-11.test:dvd", 1, 7, Some(&so));

        let ex = exports_of(&root, &so);
        // No /sys/bus/scsi device 9:0:1:3 here: the LUN is named by its target.
        assert_eq!(
            ex,
            vec![
                "loopback:naa.500140511:lun3".to_string(),
                "iscsi:iqn.2026-11.test:dvd:lun7".to_string()
            ]
        );
        let _ = fs::remove_dir_all(&root);
    }
}
