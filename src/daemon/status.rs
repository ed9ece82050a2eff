//! `tcmu-mmc status`: what every drive holds. The daemon answers for the drives it serves over
//! a Unix socket in its run directory (one request line, one JSON reply); the command adds the
//! drives configfs knows but nobody serves, inspected read-only, and where each is exported.
use std::fs;
use std::io::{self, BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::configfs;
use crate::device::Device;
use crate::media::{self, Loaded, MediaConfig};
use crate::mmc::medium::DiscStatus;
use crate::mmc::{profile, Medium};

/// The control socket's path inside the run directory.
pub fn socket_path(run_dir: &Path) -> PathBuf {
    run_dir.join("control.sock")
}

/// How long a drive thread may take to describe itself (it may be inside a slow write).
const DRIVE_ANSWER_TIMEOUT: Duration = Duration::from_secs(2);

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
    if m.kind() == crate::mmc::MediumKind::DvdRom {
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

/// A drive thread the control socket can ask.
pub struct Asker {
    pub hba: u32,
    pub name: String,
    pub uio: String,
    pub config: String,
    pub ask: Box<dyn Fn() -> Option<mpsc::Receiver<DriveStatus>> + Send>,
}

/// The daemon's end of the control socket.
pub struct ControlSocket {
    listener: UnixListener,
    path: PathBuf,
}

impl ControlSocket {
    /// Bind `<run_dir>/control.sock`, replacing a stale socket of a previous run.
    pub fn bind(run_dir: &Path) -> io::Result<Self> {
        let path = socket_path(run_dir);
        let _ = fs::remove_file(&path);
        let listener = UnixListener::bind(&path)?;
        listener.set_nonblocking(true)?;
        Ok(ControlSocket { listener, path })
    }

    pub fn listener(&self) -> &UnixListener {
        &self.listener
    }

    /// Answer every waiting client on its own thread; `askers` makes one set of drive
    /// handles per client.
    pub fn accept_all(&self, mut askers: impl FnMut() -> Vec<Asker>) {
        loop {
            match self.listener.accept() {
                Ok((stream, _)) => {
                    let drives = askers();
                    let spawned =
                        std::thread::Builder::new()
                            .name("control".into())
                            .spawn(move || {
                                if let Err(e) = answer(stream, drives) {
                                    log::debug!("control client: {e}");
                                }
                            });
                    if let Err(e) = spawned {
                        log::warn!("control socket: cannot start a thread: {e}");
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(e) => {
                    log::warn!("control socket: {e}");
                    return;
                }
            }
        }
    }
}

impl Drop for ControlSocket {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.path);
    }
}

/// Serve one client: it sends `status`, it gets a JSON array of the served drives.
fn answer(stream: UnixStream, drives: Vec<Asker>) -> io::Result<()> {
    stream.set_nonblocking(false)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut request = String::new();
    BufReader::new(&stream).read_line(&mut request)?;
    log::debug!(
        "control: request {:?} for {} drive(s)",
        request.trim(),
        drives.len()
    );
    let mut out = &stream;
    if request.trim() != "status" {
        writeln!(
            out,
            "{{\"error\":\"unknown request {:?}\"}}",
            request.trim()
        )?;
        return Ok(());
    }
    let pending: Vec<_> = drives.into_iter().map(|a| ((a.ask)(), a)).collect();
    let mut list = Vec::with_capacity(pending.len());
    for (reply, a) in pending {
        let mut st = match reply.and_then(|r| r.recv_timeout(DRIVE_ANSWER_TIMEOUT).ok()) {
            Some(st) => st,
            None => DriveStatus {
                served: true,
                tray: "unknown".into(),
                note: Some("busy: the drive did not answer in time".into()),
                ..DriveStatus::default()
            },
        };
        st.hba = a.hba;
        st.name = a.name;
        st.uio = Some(a.uio);
        st.config = a.config;
        list.push(st);
    }
    log::debug!("control: answering with {} drive(s)", list.len());
    serde_json::to_writer(out, &list).map_err(io::Error::other)?;
    writeln!(out)?;
    Ok(())
}

/// Ask a running daemon for its drives. `Ok(None)`: no daemon listens on `run_dir`'s socket.
pub fn query_daemon(run_dir: &Path) -> Result<Option<Vec<DriveStatus>>, String> {
    let path = socket_path(run_dir);
    let Ok(stream) = UnixStream::connect(&path) else {
        return Ok(None);
    };
    let failed = |what: &str, e: &dyn std::fmt::Display| {
        format!("daemon on {}: {what}: {e}", path.display())
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| failed("socket", &e))?;
    (&stream)
        .write_all(b"status\n")
        .map_err(|e| failed("sending the request", &e))?;
    let mut line = String::new();
    BufReader::new(&stream)
        .read_line(&mut line)
        .map_err(|e| failed("reading the answer", &e))?;
    serde_json::from_str(&line)
        .map(Some)
        .map_err(|e| failed(&format!("unreadable answer {:?}", line.trim_end()), &e))
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

/// The human table.
pub fn table(drives: &[DriveStatus], daemon_up: bool) -> String {
    let mut s = String::new();
    if !daemon_up {
        s.push_str("tcmu-mmc daemon: not running (no answer on its control socket)\n");
    }
    if drives.is_empty() {
        s.push_str("no mmc drives configured\n");
        return s;
    }
    let rows: Vec<[String; 9]> = drives
        .iter()
        .map(|d| {
            [
                format!("{}/{}", d.hba, d.name),
                if d.exports.is_empty() {
                    "-".into()
                } else {
                    d.exports.join(",")
                },
                d.profile.clone(),
                format!("{}{}", d.tray, if d.locked { ",locked" } else { "" }),
                format!(
                    "{}{}",
                    d.disc,
                    if d.write_protected { ",protected" } else { "" }
                ),
                d.capacity_blocks.to_string(),
                d.used_blocks.to_string(),
                d.image.clone().unwrap_or_else(|| "-".into()),
                d.note.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let head = [
        "DRIVE", "DEVICE", "PROFILE", "TRAY", "DISC", "CAPACITY", "USED", "IMAGE", "NOTE",
    ];
    let mut width = head.map(str::len);
    for r in &rows {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let mut line = |cells: &[&str]| {
        let mut l = String::new();
        for (i, c) in cells.iter().enumerate() {
            if i + 1 == cells.len() {
                l.push_str(c);
            } else {
                l.push_str(&format!("{c:<w$}  ", w = width[i]));
            }
        }
        s.push_str(l.trim_end());
        s.push('\n');
    };
    line(&head);
    for r in &rows {
        line(&r.each_ref().map(String::as_str));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unserved_drives_are_read_from_configfs_and_their_files() {
        let root = std::env::temp_dir().join(format!("tcmu-mmc-status-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
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
}

#[cfg(test)]
mod export_tests {
    use super::*;

    #[test]
    fn drives_carry_their_exports() {
        let root = std::env::temp_dir().join(format!("tcmu-mmc-exports-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
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
