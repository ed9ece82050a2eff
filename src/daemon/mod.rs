//! The daemon: finds TCMU devices of subtype `mmc` at start-up and as they come and go, runs
//! one event loop per drive, and exits cleanly on SIGTERM/SIGINT.
pub mod attach;
pub mod configfs;
pub mod dbus;
pub mod drive_loop;
pub mod identity;
pub mod netlink;
pub mod notify;
pub mod status;
pub mod uevent;
pub mod uio;

use std::collections::HashMap;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use drive_loop::{DriveHandle, Paths};
use uio::UioDevice;

const SIGNALS: Token = Token(0);
const UEVENTS: Token = Token(1);
const NETLINK: Token = Token(2);
const CONTROL: Token = Token(3);

/// Daemon settings.
#[derive(Debug, Clone)]
pub struct Options {
    /// Where the pid file goes.
    pub run_dir: PathBuf,
    /// /sys/class/uio.
    pub sysfs_uio: PathBuf,
    /// The configfs mount point.
    pub configfs: PathBuf,
    /// Offer targetcli's `user:mmc` over the system D-Bus.
    pub dbus: bool,
    /// Directories media may be opened from (empty: anywhere).
    pub media_dirs: Vec<PathBuf>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            run_dir: PathBuf::from("/run/tcmu-mmc"),
            sysfs_uio: PathBuf::from("/sys/class/uio"),
            configfs: PathBuf::from("/sys/kernel/config"),
            dbus: true,
            media_dirs: Vec::new(),
        }
    }
}

/// The pid file's path inside `run_dir`.
pub fn pid_file(run_dir: &Path) -> PathBuf {
    run_dir.join("tcmu-mmc.pid")
}

struct Daemon {
    opts: Options,
    paths: Paths,
    drives: HashMap<String, DriveHandle>,
    /// A device of ours whose map was not published yet: look again shortly.
    rescan_soon: bool,
    /// The TCM-USER netlink group, once target_core_user is loaded.
    netlink: Option<netlink::TcmuNetlink>,
}

/// Run until SIGTERM or SIGINT.
pub fn run(opts: Options) -> io::Result<()> {
    // Block the signals in every thread; the main loop reads them from a signalfd.
    let mut mask = SigSet::empty();
    mask.add(Signal::SIGTERM);
    mask.add(Signal::SIGINT);
    mask.thread_block().map_err(io::Error::from)?;
    let signals = SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)?;

    let roots = crate::media::MediaRoots::new(&opts.media_dirs).map_err(io::Error::other)?;
    if roots.is_confined() {
        let dirs: Vec<String> = roots
            .dirs()
            .iter()
            .map(|d| d.display().to_string())
            .collect();
        log::info!("media confined to {}", dirs.join(", "));
    } else {
        log::info!("media may be opened anywhere (no --media-dir given)");
    }
    let roots = std::sync::Arc::new(roots);
    let mut poll = Poll::new()?;
    let mut monitor = uevent::UeventMonitor::open()
        .map_err(|e| io::Error::new(e.kind(), format!("uevent socket: {e}")))?;
    poll.registry().register(
        &mut SourceFd(&signals.as_raw_fd()),
        SIGNALS,
        Interest::READABLE,
    )?;
    poll.registry().register(
        &mut SourceFd(&monitor.raw_fd()),
        UEVENTS,
        Interest::READABLE,
    )?;

    if !configfs::has_target(&opts.configfs) {
        log::warn!(
            "{} has no target/ directory: is configfs mounted and target_core_user loaded?",
            opts.configfs.display()
        );
    }
    let mut daemon = Daemon {
        paths: Paths {
            configfs: opts.configfs.clone(),
            roots: roots.clone(),
        },
        opts,
        drives: HashMap::new(),
        rescan_soon: false,
        netlink: None,
    };
    daemon.reconcile();
    daemon.join_netlink(&poll);
    std::fs::create_dir_all(&daemon.opts.run_dir)?;
    // `tcmu-mmc status` asks here; a run dir that cannot hold a socket (9p, say) only costs
    // the live part of that answer.
    let control = match status::ControlSocket::bind(&daemon.opts.run_dir) {
        Ok(c) => {
            poll.registry().register(
                &mut SourceFd(&c.listener().as_raw_fd()),
                CONTROL,
                Interest::READABLE,
            )?;
            Some(c)
        }
        Err(e) => {
            log::warn!(
                "control socket {}: {e}; `tcmu-mmc status` will not see live drive state",
                status::socket_path(&daemon.opts.run_dir).display()
            );
            None
        }
    };
    if daemon.opts.dbus {
        dbus::spawn(daemon.opts.configfs.clone(), roots);
    }
    let pid_path = pid_file(&daemon.opts.run_dir);
    std::fs::write(&pid_path, format!("{}\n", std::process::id()))?;
    log::info!(
        "tcmu-mmc {} serving; pid file {}",
        env!("CARGO_PKG_VERSION"),
        pid_path.display()
    );
    // Every drive present at start is served by now: systemd may start target.service.
    notify::notify(&format!(
        "READY=1\nMAINPID={}\nSTATUS=serving {} drive(s)",
        std::process::id(),
        daemon.drives.len()
    ));

    let mut events = Events::with_capacity(16);
    'main: loop {
        let timeout = daemon.rescan_soon.then_some(Duration::from_millis(50));
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        let mut rescan = events.is_empty() && daemon.rescan_soon;
        for ev in events.iter() {
            match ev.token() {
                SIGNALS => {
                    if let Ok(Some(sig)) = signals.read_signal() {
                        log::info!("signal {}: shutting down", sig.ssi_signo);
                        break 'main;
                    }
                }
                NETLINK => daemon.reconfigure_from_netlink(),
                CONTROL => {
                    if let Some(c) = &control {
                        c.accept_all(|| daemon.drives.values().map(DriveHandle::asker).collect());
                    }
                }
                _ => {
                    for e in monitor.drain() {
                        log::debug!("uevent {} {}", e.action, e.devpath);
                        rescan = true;
                    }
                }
            }
        }
        if rescan || daemon.drives.values().any(DriveHandle::is_finished) {
            daemon.reconcile();
            daemon.join_netlink(&poll);
        }
    }
    notify::notify("STOPPING=1");
    for (_, d) in daemon.drives.drain() {
        d.stop();
    }
    let _ = std::fs::remove_file(&pid_path);
    log::info!("tcmu-mmc stopped");
    Ok(())
}

impl Daemon {
    /// Join the TCM-USER config group if not done yet (it exists once target_core_user is
    /// loaded). Without it, writing a live device's dev_config fails in the kernel.
    fn join_netlink(&mut self, poll: &Poll) {
        if self.netlink.is_some() {
            return;
        }
        match netlink::TcmuNetlink::open() {
            Ok(nl) => {
                if let Err(e) = poll.registry().register(
                    &mut SourceFd(&nl.raw_fd()),
                    NETLINK,
                    Interest::READABLE,
                ) {
                    log::warn!("cannot watch the TCM-USER netlink socket: {e}");
                    return;
                }
                log::info!("listening for TCMU reconfiguration (netlink TCM-USER/config)");
                self.netlink = Some(nl);
            }
            Err(e) => log::debug!("TCM-USER netlink not available yet: {e}"),
        }
    }

    /// Deliver RECONFIG_DEVICE events to their drives.
    fn reconfigure_from_netlink(&mut self) {
        let Some(nl) = self.netlink.as_mut() else {
            return;
        };
        for ev in nl.drain() {
            let Some(cfg) = ev.dev_config else { continue };
            let node = ev.minor.map(|m| format!("uio{m}"));
            let drive = self.drives.values_mut().find(|h| {
                Some(&h.uio.node) == node.as_ref()
                    || ev.device.as_deref().and_then(uio::TcmuName::parse).as_ref()
                        == Some(&h.uio.name)
            });
            match drive {
                Some(h) if h.uio.name.is_mmc() => h.reconfigure(&cfg),
                Some(_) => {}
                None => log::debug!("reconfiguration for a device we do not serve: {node:?}"),
            }
        }
    }

    /// Attach every `mmc` device we do not serve yet, and drop those that went away or changed.
    fn reconcile(&mut self) {
        let present: Vec<UioDevice> = uio::scan(&self.opts.sysfs_uio)
            .into_iter()
            .filter(|u| u.name.is_mmc())
            .collect();
        self.rescan_soon = false;
        // Stop drives whose device vanished or was renamed (a new configuration).
        let stale: Vec<String> = self
            .drives
            .iter()
            .filter(|(node, h)| {
                !present
                    .iter()
                    .any(|u| &u.node == *node && u.name == h.uio.name)
            })
            .map(|(node, _)| node.clone())
            .collect();
        for node in stale {
            if let Some(h) = self.drives.remove(&node) {
                log::info!("{node} ({}) is gone", h.uio.name.label());
                h.stop();
            }
        }
        for u in present {
            if self.drives.contains_key(&u.node) {
                continue;
            }
            if u.map_size.is_none() {
                self.rescan_soon = true;
                continue;
            }
            match drive_loop::spawn(u.clone(), &self.paths) {
                Ok(h) => {
                    self.drives.insert(u.node.clone(), h);
                }
                Err(e) => log::error!("cannot start a thread for {}: {e}", u.node),
            }
        }
    }
}
