//! The names a drive answers INQUIRY with, from its backstore's configfs `wwn/` group:
//! `vendor_id`, `product_id`, `revision`, `vpd_unit_serial` and `company_id`, which targetcli,
//! rtslib and `mmc-drive create --vendor ...` set. For a TCMU device the kernel answers no
//! INQUIRY itself (it passes every CDB through), so the handler must serve them.
//!
//! What "unset" means, from what Linux 6.1 puts there for a new `user` backstore
//! (`target_alloc_device`): `vendor_id` is `LIO-ORG` (the kernel's fill-in for every backstore),
//! `product_id` and `revision` are empty (the TCMU backend has no `inquiry_prod`/`inquiry_rev`),
//! `vpd_unit_serial` is empty until someone writes one (rtslib writes a UUID after enabling).
//! An unset name keeps tcmu-mmc's own: `TCMU-MMC`, `Virtual DVD-RW`, `0001` and a serial made
//! from the device's name. (`product_id` holds the backstore's name once
//! `attrib/emulate_model_alias` is 1; that is a choice, and is used.)
//!
//! The kernel refuses to change any of these while the device is exported (`export_count`),
//! so the names an initiator sees can only change before it finds the LUN, and every initiator
//! starts with INQUIRY: the drive therefore re-reads them before every INQUIRY (a few small
//! configfs reads, a handful of times per LUN discovery), at attach and on every medium change.
use std::io;
use std::path::PathBuf;

use super::configfs::{wwn, Backstore};
use crate::scsi::spc::{Identity, LIO_COMPANY_ID};

/// tcmu-mmc's own names, for what the backstore leaves unset.
pub const DEFAULT_VENDOR: &str = "TCMU-MMC";
pub const DEFAULT_PRODUCT: &str = "Virtual DVD-RW";
pub const DEFAULT_REVISION: &str = "0001";

/// What the kernel writes into `vendor_id` of every new backstore.
const KERNEL_DEFAULT_VENDOR: &str = "LIO-ORG";
/// `vpd_unit_serial` reads back with this in front of the value.
const SERIAL_PREFIX: &str = "T10 VPD Unit Serial Number:";

/// The `wwn/` names of one backstore; `None` where unset.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WwnNames {
    pub vendor: Option<String>,
    pub product: Option<String>,
    pub revision: Option<String>,
    pub serial: Option<String>,
    pub company_id: Option<u32>,
}

impl WwnNames {
    /// Read the backstore's `wwn/` group. A missing file (older kernels, no group) is unset; a
    /// missing backstore is an error.
    pub fn read(backstore: &Backstore) -> io::Result<Self> {
        if !backstore.exists() {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("{} is gone", backstore.dir().display()),
            ));
        }
        let read = |name: &str| backstore.read_wwn(name);
        Ok(WwnNames {
            vendor: read(wwn::VENDOR_ID)?.and_then(|s| parse_vendor(&s)),
            product: read(wwn::PRODUCT_ID)?.and_then(|s| parse_name(&s)),
            revision: read(wwn::REVISION)?.and_then(|s| parse_name(&s)),
            serial: read(wwn::VPD_UNIT_SERIAL)?.and_then(|s| parse_serial(&s)),
            company_id: read(wwn::COMPANY_ID)?.and_then(|s| parse_company_id(&s)),
        })
    }

    /// The identity these names give, tcmu-mmc's own names where unset.
    pub fn identity(&self, default_serial: &str) -> Identity {
        Identity::new(
            self.vendor.as_deref().unwrap_or(DEFAULT_VENDOR),
            self.product.as_deref().unwrap_or(DEFAULT_PRODUCT),
            self.revision.as_deref().unwrap_or(DEFAULT_REVISION),
            self.serial.as_deref().unwrap_or(default_serial),
        )
        .with_company_id(self.company_id.unwrap_or(LIO_COMPANY_ID))
    }
}

/// A name as configfs shows it (one line); empty is unset.
fn parse_name(shown: &str) -> Option<String> {
    let name = shown.trim_end_matches('\n');
    (!name.is_empty()).then(|| name.to_owned())
}

/// `vendor_id`: the kernel's own `LIO-ORG` counts as unset.
fn parse_vendor(shown: &str) -> Option<String> {
    parse_name(shown).filter(|v| v != KERNEL_DEFAULT_VENDOR)
}

/// `vpd_unit_serial` shows `T10 VPD Unit Serial Number: <serial>`.
fn parse_serial(shown: &str) -> Option<String> {
    let line = shown.trim_end_matches('\n');
    let serial = line.strip_prefix(SERIAL_PREFIX).unwrap_or(line).trim();
    (!serial.is_empty()).then(|| serial.to_owned())
}

/// `company_id` shows `0x001405` (`%#08x`).
fn parse_company_id(shown: &str) -> Option<u32> {
    let s = shown.trim();
    let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    u32::from_str_radix(hex, 16)
        .ok()
        .filter(|&v| v < 0x100_0000)
}

/// A stable serial number for a device whose backstore sets none: FNV-1a over its
/// "<hba>/<device>" label, so the same LUN keeps its serial across restarts.
pub fn default_serial(label: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in label.bytes() {
        h = (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("MMC{:012X}", h & 0xffff_ffff_ffff)
}

/// Reads one drive's names again whenever asked, and says when they changed.
pub struct IdentityReader {
    backstore: Backstore,
    label: String,
    default_serial: String,
    current: Identity,
}

impl IdentityReader {
    /// Read the names for the first time (tcmu-mmc's own where unreadable).
    pub fn new(configfs_dir: PathBuf, label: &str) -> Self {
        let default_serial = default_serial(label);
        let backstore = Backstore::at(configfs_dir);
        let names = WwnNames::read(&backstore).unwrap_or_else(|e| {
            log::warn!("drive {label}: cannot read its wwn names ({e}); using tcmu-mmc's own");
            WwnNames::default()
        });
        let current = names.identity(&default_serial);
        log::info!("drive {label}: INQUIRY {}", describe(&current));
        IdentityReader {
            backstore,
            label: label.to_owned(),
            default_serial,
            current,
        }
    }

    pub fn current(&self) -> &Identity {
        &self.current
    }

    /// Read the names again: the new identity if it differs from the last one. A failed read
    /// (the backstore going away) keeps the last one.
    pub fn reread(&mut self) -> Option<Identity> {
        let names = match WwnNames::read(&self.backstore) {
            Ok(n) => n,
            Err(e) => {
                log::debug!("drive {}: wwn names not re-read: {e}", self.label);
                return None;
            }
        };
        let fresh = names.identity(&self.default_serial);
        if fresh == self.current {
            return None;
        }
        log::info!(
            "drive {}: INQUIRY names changed to {}",
            self.label,
            describe(&fresh)
        );
        self.current = fresh.clone();
        Some(fresh)
    }
}

/// `vendor/product/revision serial S` for the log.
fn describe(id: &Identity) -> String {
    let text = |f: &[u8]| String::from_utf8_lossy(f).trim_end().to_owned();
    format!(
        "{}/{}/{} serial {}",
        text(&id.vendor),
        text(&id.product),
        text(&id.revision),
        id.serial
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::configfs::fake;
    use std::fs;

    /// A backstore directory with an empty wwn group.
    fn scratch(tag: &str) -> Backstore {
        fake::wwn_group(&fake::root(&format!("wwn-{tag}")))
    }

    /// A backstore's wwn group as Linux 6.1 shows it, with these names.
    fn backstore(store: &Backstore, [vendor, product, revision, serial, company]: [&str; 5]) {
        fake::write_wwn(store, wwn::VENDOR_ID, &format!("{vendor}\n"));
        fake::write_wwn(store, wwn::PRODUCT_ID, &format!("{product}\n"));
        fake::write_wwn(store, wwn::REVISION, &format!("{revision}\n"));
        fake::write_wwn(
            store,
            wwn::VPD_UNIT_SERIAL,
            &format!("T10 VPD Unit Serial Number: {serial}\n"),
        );
        fake::write_wwn(store, wwn::COMPANY_ID, &format!("{company}\n"));
    }

    /// What Linux 6.1 shows for a fresh `user` backstore.
    fn fresh_backstore(store: &Backstore) {
        backstore(store, ["LIO-ORG", "", "", "", "0x001405"]);
    }

    #[test]
    fn a_fresh_backstore_keeps_tcmu_mmcs_names() {
        let store = scratch("fresh");
        fresh_backstore(&store);
        let names = WwnNames::read(&store).unwrap();
        assert_eq!(
            names,
            WwnNames {
                company_id: Some(0x1405),
                ..WwnNames::default()
            }
        );
        let id = names.identity("MMC0000000000AB");
        assert_eq!(&id.vendor, b"TCMU-MMC");
        assert_eq!(&id.product, b"Virtual DVD-RW  ");
        assert_eq!(&id.revision, b"0001");
        assert_eq!(id.serial, "MMC0000000000AB");
        let _ = fs::remove_dir_all(store.dir());
    }

    #[test]
    fn set_names_are_what_inquiry_says() {
        let store = scratch("set");
        backstore(&store, ["STGT_DVD", "DVD101", "0010", "XYZ123", "0x123456"]);
        let id = WwnNames::read(&store).unwrap().identity("unused");
        assert_eq!(&id.vendor, b"STGT_DVD");
        assert_eq!(&id.product, b"DVD101          ");
        assert_eq!(&id.revision, b"0010");
        assert_eq!(id.serial, "XYZ123");
        assert_eq!(id.company_id, 0x12_3456);
        let _ = fs::remove_dir_all(store.dir());
    }

    #[test]
    fn without_a_wwn_group_the_defaults_hold() {
        let store = scratch("none");
        fake::remove_wwn_group(&store);
        let id = WwnNames::read(&store).unwrap().identity("MMCX");
        assert_eq!((&id.vendor, id.serial.as_str()), (b"TCMU-MMC", "MMCX"));
        assert_eq!(id.company_id, LIO_COMPANY_ID);
        let _ = fs::remove_dir_all(store.dir());
    }

    #[test]
    fn shown_values_parse() {
        assert_eq!(parse_vendor("LIO-ORG\n"), None);
        assert_eq!(parse_vendor("LIO-ORG2\n").as_deref(), Some("LIO-ORG2"));
        assert_eq!(parse_name("\n"), None);
        assert_eq!(
            parse_name("Name with spaces\n").as_deref(),
            Some("Name with spaces")
        );
        assert_eq!(parse_serial("T10 VPD Unit Serial Number: \n"), None);
        assert_eq!(
            parse_serial("T10 VPD Unit Serial Number: 3c0b-11\n").as_deref(),
            Some("3c0b-11")
        );
        assert_eq!(parse_company_id("0x001405\n"), Some(0x1405));
        assert_eq!(parse_company_id("1405\n"), None);
        assert_eq!(parse_company_id("0x1000000\n"), None);
    }

    #[test]
    fn the_reader_reports_a_change_once() {
        let store = scratch("reader");
        fresh_backstore(&store);
        let mut reader = IdentityReader::new(store.dir().to_owned(), "3/dvd");
        assert_eq!(reader.current().serial, default_serial("3/dvd"));
        assert_eq!(reader.reread(), None);
        // rtslib writes the serial after enabling, i.e. after the daemon attached.
        fake::write_wwn(
            &store,
            wwn::VPD_UNIT_SERIAL,
            "T10 VPD Unit Serial Number: XYZ123\n",
        );
        let changed = reader.reread().expect("a new serial is a change");
        assert_eq!(changed.serial, "XYZ123");
        assert_eq!(reader.current(), &changed);
        assert_eq!(reader.reread(), None);
        // The backstore going away keeps the last names.
        fs::remove_dir_all(store.dir()).unwrap();
        assert_eq!(reader.reread(), None);
        assert_eq!(reader.current().serial, "XYZ123");
    }

    #[test]
    fn default_serials_are_stable_and_distinct() {
        assert_eq!(default_serial("1/d0"), default_serial("1/d0"));
        assert_ne!(default_serial("1/d0"), default_serial("2/d0"));
        assert_eq!(default_serial("1/d0").len(), 15);
    }
}
