//! The daemon: finds TCMU devices of subtype `mmc` at start-up and as they come and go, runs
//! one event loop per drive, and exits cleanly on SIGTERM/SIGINT.
pub mod attach;
pub mod configfs;
pub mod dbus;
pub mod drive_loop;
pub mod identity;
pub mod netlink;
pub mod notify;
pub mod saveconfig;
pub mod status;
pub mod supervise;
pub mod uevent;
pub mod uio;

use std::collections::HashMap;
use std::io;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};
use nix::sys::signal::{SigSet, Signal};
use nix::sys::signalfd::{SfdFlags, SignalFd};

use drive_loop::{DriveHandle, Exit, Paths};
use supervise::DownDrive;
use uio::UioDevice;

const SIGNALS: Token = Token(0);
const UEVENTS: Token = Token(1);
const NETLINK: Token = Token(2);
const CONTROL: Token = Token(3);
/// A drive thread ended.
const REAP: Token = Token(4);

/// How long SIGTERM waits for the drive threads to detach before the daemon exits anyway.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

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

/// Whether tcmu-runner runs on this host (it answers every TCMU device's netlink events).
fn other_handler_running() -> bool {
    let Ok(procs) = std::fs::read_dir("/proc") else {
        return false;
    };
    procs.filter_map(Result::ok).any(|p| {
        std::fs::read_to_string(p.path().join("comm")).is_ok_and(|c| c.trim_end() == "tcmu-runner")
    })
}

/// The pid file's path inside `run_dir`.
pub fn pid_file(run_dir: &Path) -> PathBuf {
    run_dir.join("tcmu-mmc.pid")
}

/// A configured drive, by its uio node.
enum Slot {
    Served(DriveHandle),
    /// Its thread ended; it is restarted at `retry_at`.
    Down(DownDrive),
}

impl Slot {
    fn uio(&self) -> &UioDevice {
        match self {
            Slot::Served(h) => &h.uio,
            Slot::Down(d) => &d.uio,
        }
    }

    fn asker(&self) -> status::Asker {
        match self {
            Slot::Served(h) => h.asker(),
            Slot::Down(d) => d.asker(),
        }
    }
}

struct Daemon {
    opts: Options,
    paths: Paths,
    drives: HashMap<String, Slot>,
    /// Threads asked to stop that have not finished yet (never waited for on the main loop).
    stopping: Vec<DriveHandle>,
    /// Woken by every drive thread as it ends.
    reaper: Arc<Waker>,
    /// A device of ours whose map was not published yet: look again shortly.
    rescan_soon: bool,
    /// The TCM-USER netlink group, once target_core_user is loaded.
    netlink: Option<netlink::TcmuNetlink>,
    /// Whether each of our backstores (hba, name) waits for netlink replies, as read while
    /// its ADDED or RECONFIG event was answered: a REMOVED event must be answered without
    /// reading configfs, whose `rmdir` holds the directory until the answer comes.
    reply_modes: HashMap<(u32, String), bool>,
    /// A re-read of every drive's dev_config under way on a thread of its own (it reads
    /// configfs, which a removal waiting for a reply holds): (uio node, dev_config).
    resync: Option<mpsc::Receiver<Vec<(String, String)>>>,
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
    let reaper = Arc::new(Waker::new(poll.registry(), REAP)?);
    let mut daemon = Daemon::new(opts, roots.clone(), reaper);
    daemon.reconcile(Instant::now());
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
        let timeout = daemon.next_timeout(Instant::now());
        if let Err(e) = poll.poll(&mut events, timeout) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        let mut rescan = events.is_empty() && timeout.is_some();
        for ev in events.iter() {
            match ev.token() {
                SIGNALS => {
                    if let Ok(Some(sig)) = signals.read_signal() {
                        log::info!("signal {}: shutting down", sig.ssi_signo);
                        break 'main;
                    }
                }
                NETLINK => daemon.handle_netlink(),
                CONTROL => {
                    if let Some(c) = &control {
                        c.accept_all(|| daemon.drives.values().map(Slot::asker).collect());
                    }
                }
                REAP => {
                    daemon.reap(Instant::now());
                    daemon.finish_resync();
                    rescan = true;
                }
                _ => {
                    for e in monitor.drain() {
                        log::debug!("uevent {} {}", e.action, e.devpath);
                        if e.action == uevent::OVERFLOW {
                            // Some uevents are lost: so may be the dev_config changes of a
                            // device that came and went meanwhile.
                            daemon.resync_configs("uevents were lost");
                        }
                        rescan = true;
                    }
                }
            }
        }
        if rescan {
            daemon.reconcile(Instant::now());
            daemon.join_netlink(&poll);
        }
    }
    notify::notify("STOPPING=1");
    daemon.shut_down();
    let _ = std::fs::remove_file(&pid_path);
    log::info!("tcmu-mmc stopped");
    Ok(())
}

impl Daemon {
    fn new(opts: Options, roots: Arc<crate::media::MediaRoots>, reaper: Arc<Waker>) -> Self {
        Daemon {
            paths: Paths {
                configfs: opts.configfs.clone(),
                roots,
            },
            opts,
            drives: HashMap::new(),
            stopping: Vec::new(),
            reaper,
            rescan_soon: false,
            netlink: None,
            reply_modes: HashMap::new(),
            resync: None,
        }
    }

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
                if other_handler_running() {
                    log::warn!(
                        "tcmu-runner is running too: it answers the netlink events of every \
                         TCMU device, so tcmu-mmc backstores need nl_reply_supported=-1 in \
                         their control (configfs-scripts/mmc-drive sets it; with targetcli: \
                         create ... control=nl_reply_supported=-1)"
                    );
                }
                self.netlink = Some(nl);
            }
            Err(e) => log::debug!("TCM-USER netlink not available yet: {e}"),
        }
    }

    /// Deliver the kernel's device events: a RECONFIG to its drive, and to a device of ours
    /// that waits for it, the `*_DONE` reply (see [`netlink`]). When the socket overflowed,
    /// events are lost: every drive's `dev_config` is read again from configfs instead.
    fn handle_netlink(&mut self) {
        let Some(nl) = self.netlink.as_mut() else {
            return;
        };
        let drained = nl.drain();
        for ev in drained.events {
            let name = ev.device.as_deref().and_then(uio::TcmuName::parse);
            let node = ev.minor.map(|m| format!("uio{m}"));
            let served = self.drives.values_mut().find_map(|slot| match slot {
                Slot::Served(h)
                    if Some(&h.uio.node) == node.as_ref() || name.as_ref() == Some(&h.uio.name) =>
                {
                    Some(h)
                }
                _ => None,
            });
            let ours = served.as_ref().is_some_and(|h| h.uio.name.is_mmc())
                || name.as_ref().is_some_and(uio::TcmuName::is_mmc);
            if !ours {
                log::debug!("{:?} for a device that is not ours: {node:?}", ev.kind);
                continue;
            }
            if let (netlink::EventKind::Reconfig, Some(cfg)) = (ev.kind, &ev.dev_config) {
                match served {
                    Some(h) => h.reconfigure(cfg),
                    // A drive that is down reads dev_config from configfs when it restarts.
                    None => log::info!("reconfiguration of {node:?}, not served now: {cfg:?}"),
                }
            }
            let Some(name) = name else { continue };
            let key = (name.hba, name.device.clone());
            let waits = match ev.kind {
                // The writer of `enable` or `dev_config` holds no directory: configfs may be
                // read now.
                netlink::EventKind::Added | netlink::EventKind::Reconfig => {
                    let waits = configfs::Backstore::at(name.configfs_dir(&self.paths.configfs))
                        .waits_for_netlink_replies();
                    self.reply_modes.insert(key, waits);
                    waits
                }
                // `rmdir` holds the backstore's directory until it is answered: never read
                // it here. Unknown (made before the daemon started): answer; if the kernel
                // was not waiting, it only logs that it expected nothing.
                netlink::EventKind::Removed => self.reply_modes.remove(&key).unwrap_or(true),
            };
            if !waits {
                continue;
            }
            if ev.kind == netlink::EventKind::Added && other_handler_running() {
                log::error!(
                    "drive {}: tcmu-runner is running and answers this device's netlink \
                     events too; the first answer wins, and it refuses subtypes it does not \
                     serve. Create tcmu-mmc backstores with nl_reply_supported=-1 in their \
                     control (configfs-scripts/mmc-drive does)",
                    name.label()
                );
            }
            match nl.reply(&ev, 0) {
                Ok(()) => log::info!("drive {}: answered {:?}", name.label(), ev.kind),
                Err(e) => log::error!(
                    "drive {}: cannot answer {:?} (the kernel is waiting for it): {e}",
                    name.label(),
                    ev.kind
                ),
            }
        }
        if drained.lost {
            self.resync_configs("the TCM-USER netlink socket overflowed (ENOBUFS)");
        }
    }

    /// Give every served drive the `dev_config` configfs names now, where it differs from
    /// the one the drive was last given (`why`: how events were lost). configfs is read on a
    /// thread of its own ([`Daemon::finish_resync`] takes its answer): a removal that waits
    /// for a reply whose event was lost holds its directory, and must not stop the main loop.
    fn resync_configs(&mut self, why: &str) {
        log::warn!("{why}: reading every drive's dev_config again");
        if self.resync.is_some() {
            log::info!("a re-read is already under way");
            return;
        }
        let drives: Vec<(String, PathBuf, String)> = self
            .drives
            .iter()
            .filter_map(|(node, slot)| match slot {
                Slot::Served(h) => Some((
                    node.clone(),
                    h.uio.name.configfs_dir(&self.paths.configfs),
                    h.uio.name.config.clone(),
                )),
                Slot::Down(_) => None,
            })
            .collect();
        let (tx, rx) = mpsc::channel();
        let wake = self.reaper.clone();
        let spawned = std::thread::Builder::new()
            .name("resync".into())
            .spawn(move || {
                let changed = drives
                    .into_iter()
                    .filter_map(|(node, dir, config)| {
                        configfs::Backstore::at(dir)
                            .dev_config()
                            .filter(|now| *now != config)
                            .map(|now| (node, now))
                    })
                    .collect();
                let _ = tx.send(changed);
                let _ = wake.wake();
            });
        match spawned {
            Ok(_) => self.resync = Some(rx),
            Err(e) => log::error!("cannot start the dev_config re-read: {e}"),
        }
    }

    /// Hand the drives what a finished [`Daemon::resync_configs`] found.
    fn finish_resync(&mut self) {
        let Some(rx) = &self.resync else { return };
        let changed = match rx.try_recv() {
            Ok(changed) => changed,
            Err(mpsc::TryRecvError::Empty) => return,
            Err(mpsc::TryRecvError::Disconnected) => Vec::new(),
        };
        self.resync = None;
        for (node, cfg) in changed {
            if let Some(Slot::Served(h)) = self.drives.get_mut(&node) {
                if h.uio.name.config != cfg {
                    log::info!(
                        "drive {}: configfs names {cfg:?}, not {:?}: reconfiguring",
                        h.uio.name.label(),
                        h.uio.name.config
                    );
                    h.reconfigure(&cfg);
                }
            }
        }
    }

    /// How long the main loop may sleep: until a pending rescan or the next restart.
    fn next_timeout(&self, now: Instant) -> Option<Duration> {
        let rescan = self.rescan_soon.then_some(Duration::from_millis(50));
        let restart = self
            .drives
            .values()
            .filter_map(|slot| match slot {
                Slot::Down(d) => Some(d.retry_at.saturating_duration_since(now)),
                Slot::Served(_) => None,
            })
            .min();
        rescan.into_iter().chain(restart).min()
    }

    /// Collect the threads that ended: stopped ones are forgotten, the others' drives are
    /// down until their restart.
    fn reap(&mut self, now: Instant) {
        let (ended, still): (Vec<_>, Vec<_>) = std::mem::take(&mut self.stopping)
            .into_iter()
            .partition(DriveHandle::is_finished);
        self.stopping = still;
        for h in ended {
            let label = h.uio.name.label();
            log::debug!("drive {label}: thread ended ({:?})", h.exit());
        }
        let finished: Vec<String> = self
            .drives
            .iter()
            .filter(|(_, slot)| matches!(slot, Slot::Served(h) if h.is_finished()))
            .map(|(node, _)| node.clone())
            .collect();
        for node in finished {
            let Some(Slot::Served(h)) = self.drives.remove(&node) else {
                continue;
            };
            let ran = now.saturating_duration_since(h.started);
            let earlier = h.failures_before;
            let uio = h.uio.clone();
            let why = match h.exit() {
                Exit::Failed(why) => why,
                Exit::Removed => "the kernel removed the device".into(),
                Exit::Stopped => "stopped".into(),
            };
            let down = DownDrive::new(uio, why, earlier, ran, now);
            log::error!(
                "drive {}: {}; restart {} in {:.0?}",
                down.uio.name.label(),
                down.why,
                down.failures,
                down.retry_at.saturating_duration_since(now)
            );
            self.drives.insert(node, Slot::Down(down));
        }
    }

    /// Ask every thread to stop and give them [`SHUTDOWN_GRACE`] to detach.
    fn shut_down(&mut self) {
        for (_, slot) in self.drives.drain() {
            if let Slot::Served(h) = slot {
                h.stop();
                self.stopping.push(h);
            }
        }
        let deadline = Instant::now() + SHUTDOWN_GRACE;
        while !self.stopping.is_empty() && Instant::now() < deadline {
            self.reap(Instant::now());
            std::thread::sleep(Duration::from_millis(20));
        }
        for h in &self.stopping {
            log::error!(
                "drive {}: did not detach within {SHUTDOWN_GRACE:?}; exiting without it",
                h.uio.name.label()
            );
        }
    }

    /// Start a thread for `u`, counting `failures_before` failures in a row.
    fn start(&mut self, u: UioDevice, failures_before: u32, now: Instant) {
        let node = u.node.clone();
        let slot = match drive_loop::spawn(u.clone(), &self.paths, self.reaper.clone()) {
            Ok(mut h) => {
                h.failures_before = failures_before;
                Slot::Served(h)
            }
            Err(e) => Slot::Down(DownDrive::new(
                u,
                format!("cannot start a thread: {e}"),
                failures_before,
                Duration::ZERO,
                now,
            )),
        };
        self.drives.insert(node, slot);
    }

    /// Attach every `mmc` device we do not serve yet, restart the down ones that are due, and
    /// drop those that went away or changed.
    fn reconcile(&mut self, now: Instant) {
        let present: Vec<UioDevice> = uio::scan(&self.opts.sysfs_uio)
            .into_iter()
            .filter(|u| u.name.is_mmc())
            .collect();
        self.rescan_soon = false;
        // Stop drives whose device vanished or was renamed (a new configuration).
        let stale: Vec<String> = self
            .drives
            .iter()
            .filter(|(node, slot)| {
                !present
                    .iter()
                    .any(|u| &u.node == *node && u.name == slot.uio().name)
            })
            .map(|(node, _)| node.clone())
            .collect();
        for node in stale {
            match self.drives.remove(&node) {
                Some(Slot::Served(h)) => {
                    log::info!("{node} ({}) is gone", h.uio.name.label());
                    h.stop();
                    self.stopping.push(h);
                }
                Some(Slot::Down(d)) => {
                    log::info!("{node} ({}) is gone (it was down)", d.uio.name.label())
                }
                None => {}
            }
        }
        for u in present {
            let failures_before = match self.drives.get(&u.node) {
                Some(Slot::Served(_)) => continue,
                Some(Slot::Down(d)) if !d.due(now) => continue,
                Some(Slot::Down(d)) => d.failures,
                None => 0,
            };
            // The node's previous thread still holds it open: wait for it to let go.
            if u.map_size.is_none() || self.stopping.iter().any(|h| h.uio.node == u.node) {
                self.rescan_soon = true;
                continue;
            }
            if failures_before > 0 {
                log::info!("drive {}: restarting", u.name.label());
            }
            self.start(u, failures_before, now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A daemon over a fake sysfs and configfs under `dir`, with one `mmc` device `uio_node`
    /// (a node that does not exist in /dev, so every thread for it fails to open it).
    fn daemon_with_one_device(dir: &Path, uio_node: &str, config: &str) -> (Daemon, Poll) {
        let _ = fs::remove_dir_all(dir);
        let sysfs = dir.join("uio");
        fs::create_dir_all(sysfs.join(uio_node).join("maps/map0")).unwrap();
        fs::write(
            sysfs.join(uio_node).join("name"),
            format!("tcm-user/7/d0/{config}\n"),
        )
        .unwrap();
        fs::write(sysfs.join(uio_node).join("maps/map0/size"), "0x100000\n").unwrap();
        let configfs = dir.join("cfs");
        let attrib = configfs.join("target/core/user_7/d0/attrib");
        fs::create_dir_all(&attrib).unwrap();
        fs::write(attrib.join("dev_config"), format!("{config}\n")).unwrap();
        let poll = Poll::new().unwrap();
        let reaper = Arc::new(Waker::new(poll.registry(), REAP).unwrap());
        let opts = Options {
            run_dir: dir.join("run"),
            sysfs_uio: sysfs,
            configfs,
            dbus: false,
            media_dirs: Vec::new(),
        };
        let roots = Arc::new(crate::media::MediaRoots::new(&[]).unwrap());
        (Daemon::new(opts, roots, reaper), poll)
    }

    /// A daemon over a fresh fake tree named after `test`, that has started its one drive's
    /// thread and seen it end (it cannot open its node).
    fn daemon_after_a_failed_start(
        test: &str,
        node: &str,
        config: &str,
    ) -> (Daemon, Poll, PathBuf) {
        let dir = std::env::temp_dir().join(format!("tcmu-mmc-{test}-{}", std::process::id()));
        let (mut daemon, mut poll) = daemon_with_one_device(&dir, node, config);
        daemon.reconcile(Instant::now());
        wait_for_reap(&mut poll);
        (daemon, poll, dir)
    }

    /// Wait for the reaper's wake-up (a drive thread ended).
    fn wait_for_reap(poll: &mut Poll) {
        let mut events = Events::with_capacity(4);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            poll.poll(&mut events, Some(Duration::from_millis(100)))
                .unwrap();
            if events.iter().any(|e| e.token() == REAP) {
                return;
            }
        }
        panic!("no drive thread ended within 10 s");
    }

    #[test]
    fn a_drive_whose_thread_fails_is_down_with_the_reason_then_restarted_after_its_pause() {
        let dir = std::env::temp_dir().join(format!("tcmu-mmc-sup-{}", std::process::id()));
        let node = "uio4000000";
        let (mut daemon, mut poll) = daemon_with_one_device(&dir, node, "mmc/");
        let t0 = Instant::now();
        daemon.reconcile(t0);
        assert!(matches!(daemon.drives.get(node), Some(Slot::Served(_))));
        wait_for_reap(&mut poll);
        daemon.reap(t0);
        let Some(Slot::Down(down)) = daemon.drives.get(node) else {
            panic!("the failed drive is not down");
        };
        assert!(down.why.contains(&format!("/dev/{node}")), "{}", down.why);
        assert_eq!(down.failures, 1);
        assert_eq!(daemon.next_timeout(t0), Some(supervise::FIRST_RETRY));
        // Its status says why, without asking a thread that no longer exists.
        let st = (daemon.drives[node].asker().ask)().unwrap().recv().unwrap();
        assert!(!st.served);
        assert!(st.note.unwrap().starts_with("down: open /dev/"));

        // Before its pause is over, a rescan leaves it down; after, it is started again.
        daemon.reconcile(t0 + supervise::FIRST_RETRY / 2);
        assert!(matches!(daemon.drives.get(node), Some(Slot::Down(_))));
        let t1 = t0 + supervise::FIRST_RETRY;
        daemon.reconcile(t1);
        assert!(matches!(daemon.drives.get(node), Some(Slot::Served(_))));
        wait_for_reap(&mut poll);
        daemon.reap(t1);
        let Some(Slot::Down(down)) = daemon.drives.get(node) else {
            panic!("the failed drive is not down again");
        };
        assert_eq!(down.failures, 2);
        assert_eq!(down.retry_at, t1 + supervise::FIRST_RETRY * 2);

        // A device that goes away is forgotten, down or not.
        fs::remove_dir_all(dir.join("uio").join(node)).unwrap();
        daemon.reconcile(t1);
        assert!(daemon.drives.is_empty());
        assert_eq!(daemon.next_timeout(t1), None);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn after_lost_events_a_drive_gets_the_configuration_configfs_names() {
        let node = "uio4000001";
        let (mut daemon, mut poll, dir) = daemon_after_a_failed_start("resync", node, "mmc//a.iso");
        let name = |d: &Daemon| d.drives[node].uio().name.config.clone();
        // The thread has ended but is not reaped: the slot still serves the old config.
        let resync = |d: &mut Daemon, poll: &mut Poll| {
            d.resync_configs("test");
            wait_for_reap(poll);
            d.finish_resync();
            assert!(d.resync.is_none(), "the re-read has answered");
        };
        resync(&mut daemon, &mut poll);
        assert_eq!(name(&daemon), "mmc//a.iso");
        fs::write(
            dir.join("cfs/target/core/user_7/d0/attrib/dev_config"),
            "mmc//b.iso\n",
        )
        .unwrap();
        resync(&mut daemon, &mut poll);
        assert_eq!(name(&daemon), "mmc//b.iso");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn stopping_a_drive_does_not_wait_for_its_thread() {
        let node = "uio4000002";
        let (mut daemon, _poll, dir) = daemon_after_a_failed_start("stop", node, "mmc/");
        let t0 = Instant::now();
        // The device is renamed (a new configuration): the old thread is only asked to stop,
        // and the node is taken again once it has let go.
        fs::write(
            dir.join("uio").join(node).join("name"),
            "tcm-user/7/d1/mmc/\n",
        )
        .unwrap();
        daemon.reconcile(t0);
        assert_eq!(daemon.stopping.len(), 1);
        assert!(daemon.drives.is_empty());
        assert!(
            daemon.rescan_soon,
            "the node is still held: look again soon"
        );
        daemon.reap(t0);
        assert!(daemon.stopping.is_empty());
        daemon.reconcile(t0);
        assert_eq!(daemon.drives[node].uio().name.device, "d1");
        fs::remove_dir_all(&dir).unwrap();
    }
}
