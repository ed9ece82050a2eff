//! `tcmu-mmc status`: what every drive holds. The daemon answers for the drives it serves over
//! a Unix socket in its run directory (one request line, one JSON reply); the command adds the
//! drives configfs knows but nobody serves, inspected read-only, and where each is exported.
mod control;
mod table;

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::configfs;
use crate::device::Device;
use crate::media::{self, Loaded, MediaConfig};
use crate::mmc::medium::DiscStatus;
use crate::mmc::{profile, Medium};

pub use control::{query_daemon, socket_path, Asker, ControlSocket};
pub use table::table;

/// One drive, as `status` shows it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DriveStatus {
    /// The backstore's name (its storage object's directory in configfs).
    pub name: String,
    pub hba: u32,
    /// The kernel's `dev_config`.
    pub config: String,
    /// Whether the daemon serves the drive's ring now.
    pub served: bool,
    /// `uioN` while served.
    pub uio: Option<String>,
    /// Block devices and exports: `/dev/srN` (tcm_loop), `iscsi:<iqn>:lun<N>`.
    pub exports: Vec<String>,
    /// `closed` (a disc or an empty closed tray), `open`, or `unknown` when not served.
    pub tray: String,
    /// PREVENT ALLOW MEDIUM REMOVAL is in force.
    pub locked: bool,
    /// The disc is recordable but its image is read-only.
    #[serde(default)]
    pub write_protected: bool,
    /// Current profile by name (`DVD+R`, `DVD-ROM` ...), `none` for an empty tray.
    pub profile: String,
    /// `none`, `read-only`, `blank`, `appendable`, `finalized`, `unformatted`, `formatted`.
    pub disc: String,
    pub image: Option<String>,
    pub capacity_blocks: u32,
    pub used_blocks: u32,
    /// Why the tray is empty, when it is.
    pub note: Option<String>,
}

fn disc_state(m: &Medium) -> &'static str {
    if m.kind().is_pressed() {
        return "read-only";
    }
    if m.is_overwritable() {
        return if m.formatted() > 0 {
            "formatted"
        } else {
            "unformatted"
        };
    }
    match (m.finalized(), m.status()) {
        (true, _) => "finalized",
        (false, DiscStatus::Empty) => "blank",
        _ => "appendable",
    }
}

/// Fill the medium fields from a medium (or an empty tray and why).
fn describe_medium(st: &mut DriveStatus, medium: Option<&Medium>, why_empty: Option<&str>) {
    match medium {
        Some(m) => {
            st.profile = profile::name(m.profile()).into();
            st.disc = disc_state(m).into();
            st.capacity_blocks = m.capacity();
            st.used_blocks = m.readable_blocks();
        }
        None => {
            st.profile = profile::name(profile::NONE).into();
            st.disc = "none".into();
            st.note = why_empty.map(str::to_owned);
        }
    }
}

/// A served drive's live state, taken on its own thread.
pub fn live(device: &Device) -> DriveStatus {
    let drive = device.drive();
    let mut st = DriveStatus {
        served: true,
        tray: if drive.tray_open() { "open" } else { "closed" }.into(),
        locked: drive.removal_prevented(),
        write_protected: drive.write_protected(),
        image: device
            .loaded()
            .image()
            .map(|i| i.path().display().to_string()),
        ..DriveStatus::default()
    };
    let why = match device.loaded() {
        Loaded::Empty(why) => Some(why.as_str()),
        Loaded::Disc(_) if drive.tray_open() => Some("tray open"),
        Loaded::Disc(_) => None,
    };
    describe_medium(&mut st, device.medium(), why);
    st
}

/// A drive nobody serves, from its configuration and its files, read-only.
fn offline_view(hba: u32, name: &str, config: &str) -> DriveStatus {
    let mut st = DriveStatus {
        name: name.into(),
        hba,
        config: config.into(),
        tray: "unknown".into(),
        ..DriveStatus::default()
    };
    match MediaConfig::parse(config) {
        Ok(cfg) => {
            st.image = cfg.image.as_ref().map(|p| p.display().to_string());
            match media::inspect(&cfg) {
                Ok(m) => describe_medium(&mut st, Some(&m), None),
                Err(why) => describe_medium(&mut st, None, Some(&why)),
            }
        }
        Err(e) => describe_medium(&mut st, None, Some(&format!("bad configuration: {e}"))),
    }
    if st.note.is_none() {
        st.note = Some("not served (is the daemon running and the backstore enabled?)".into());
    }
    st
}

/// Every `mmc` backstore in configfs: (hba, name, dev_config).
fn configured_drives(configfs: &Path) -> Vec<(u32, String, String)> {
    let mut found = Vec::new();
    for (n, name, store) in configfs::user_backstores(configfs) {
        let config = store.dev_config().unwrap_or_default();
        if config.split('/').next() == Some(media::config::SUBTYPE) {
            found.push((n, name, config));
        }
    }
    found.sort();
    found
}

/// Every configured drive: live from the daemon where it serves it, else read-only.
pub fn collect(run_dir: &Path, configfs: &Path) -> (Vec<DriveStatus>, bool) {
    let live = query_daemon(run_dir).unwrap_or_else(|e| {
        log::warn!("{e}");
        None
    });
    let daemon_up = live.is_some();
    let live = live.unwrap_or_default();
    let mut all = Vec::new();
    for (hba, name, config) in configured_drives(configfs) {
        let mut st = live
            .iter()
            .find(|d| d.hba == hba && d.name == name)
            .cloned()
            .unwrap_or_else(|| offline_view(hba, &name, &config));
        st.exports = configfs::exports_of(configfs, &configfs::backstore(configfs, hba, &name));
        all.push(st);
    }
    (all, daemon_up)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn unserved_drives_are_read_from_configfs_and_their_files() {
        let root = configfs::fake::root("status");
        let iso = root.join("disc.iso");
        let cfs = root.join("cfs");
        fs::create_dir_all(&root).unwrap();
        fs::write(&iso, vec![1u8; 2048 * 5]).unwrap();
        configfs::fake::backstore(&cfs, 3, "dvd0", &format!("mmc/{}\n", iso.display()));
        // Another handler's backstore is not ours.
        configfs::fake::backstore(&cfs, 4, "fo", "file_optical//x\n");

        let (drives, up) = collect(&root.join("run"), &cfs);
        assert!(!up);
        assert_eq!(drives.len(), 1, "{drives:?}");
        let d = &drives[0];
        assert_eq!((d.hba, d.name.as_str(), d.served), (3, "dvd0", false));
        assert_eq!(
            (d.profile.as_str(), d.disc.as_str()),
            ("DVD-ROM", "read-only")
        );
        assert_eq!((d.capacity_blocks, d.used_blocks), (5, 5));
        assert_eq!(d.image.as_deref(), Some(iso.to_str().unwrap()));
        let t = table(&drives, up);
        assert!(t.contains("not running"), "{t}");
        let row = t.lines().find(|l| l.starts_with("3/dvd0")).unwrap();
        for cell in ["DVD-ROM", "unknown", "read-only", "5", "disc.iso"] {
            assert!(row.contains(cell), "{cell} missing in {row}");
        }
        let _ = fs::remove_dir_all(&root);
    }

    #[test]
    fn disc_states_by_kind() {
        use crate::mmc::MediumKind;
        let mut r = Medium::blank(MediumKind::DvdPlusR, 100);
        assert_eq!(disc_state(&r), "blank");
        r.commit_write(0, 10);
        assert_eq!(disc_state(&r), "appendable");
        assert_eq!(disc_state(&Medium::dvd_rom(9)), "read-only");
        let mut rw = Medium::blank(MediumKind::DvdPlusRw, 100);
        assert_eq!(disc_state(&rw), "unformatted");
        rw.format(100);
        assert_eq!(disc_state(&rw), "formatted");
    }

    #[test]
    fn drives_carry_their_exports() {
        let root = configfs::fake::root("exports");
        let cfs = root.join("cfs");
        let so = configfs::fake::backstore(&cfs, 1, "tc0", "mmc/\n");
        configfs::fake::lun(&cfs, "loopback", "naa.500140511", 1, 3, Some(&so));
        configfs::fake::lun(&cfs, "iscsi", "iqn.2026-11.test:dvd", 1, 7, Some(&so));

        let (drives, _) = collect(&root.join("run"), &cfs);
        assert_eq!(drives.len(), 1);
        assert_eq!(drives[0].exports, configfs::exports_of(&cfs, &so));
        assert_eq!(drives[0].exports.len(), 2);
        let _ = fs::remove_dir_all(&root);
    }
}
