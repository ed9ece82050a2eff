//! One drive's event loop, on its own thread: a slow image on one drive never stalls another.
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::Instant;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};

use super::attach::{self, UioMapping};
use super::configfs::{action, Backstore};
use super::identity::IdentityReader;
use super::uio::UioDevice;
use crate::device::Device;
use crate::media::{self, MediaConfig};
use crate::ring::Ring;

const UIO: Token = Token(0);
const STOP: Token = Token(1);

/// What the daemon asks of a drive thread.
#[derive(Debug)]
pub enum Control {
    /// A new `dev_config` arrived (RECONFIG_DEVICE): load the medium it names.
    Reconfigure(String),
    /// Describe the drive (for `tcmu-mmc status`).
    Status(mpsc::Sender<super::status::DriveStatus>),
    Stop,
}

/// Why a drive thread ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// The daemon asked it to stop.
    Stopped,
    /// The kernel removed the device.
    Removed,
    /// It could not go on serving the device: the open or the map failed, the ring broke, the
    /// kernel refused a kick, or the thread panicked. The text says which.
    Failed(String),
}

/// Wakes the daemon's main loop when a drive thread ends, however it ends (also when it
/// unwinds from a panic): the daemon reaps it at once instead of calling it busy. The flag
/// is set first, so the woken loop knows the thread is ending even if it has not quite
/// returned yet.
struct WakeOnExit {
    waker: Arc<Waker>,
    ended: Arc<AtomicBool>,
}

impl Drop for WakeOnExit {
    fn drop(&mut self) {
        self.ended.store(true, Ordering::Release);
        let _ = self.waker.wake();
    }
}

/// A running drive thread.
pub struct DriveHandle {
    pub uio: UioDevice,
    waker: Arc<Waker>,
    control: mpsc::Sender<Control>,
    thread: JoinHandle<Exit>,
    /// Set as the thread ends (see [`WakeOnExit`]).
    ended: Arc<AtomicBool>,
    /// When the thread started (a thread that served for long before failing restarts its
    /// backoff).
    pub started: Instant,
    /// Failures in a row before this thread started.
    pub failures_before: u32,
}

impl DriveHandle {
    /// Hand the drive a new configuration (its medium changes, and the host is told).
    pub fn reconfigure(&mut self, dev_config: &str) {
        self.uio.name.config = dev_config.to_owned();
        let _ = self
            .control
            .send(Control::Reconfigure(dev_config.to_owned()));
        let _ = self.waker.wake();
    }

    /// Something that asks the drive thread for its state, usable from another thread.
    pub fn asker(&self) -> super::status::Asker {
        let (control, waker) = (self.control.clone(), self.waker.clone());
        super::status::Asker {
            hba: self.uio.name.hba,
            name: self.uio.name.device.clone(),
            uio: self.uio.node.clone(),
            config: self.uio.name.config.clone(),
            ask: Box::new(move || {
                let (tx, rx) = mpsc::channel();
                control.send(Control::Status(tx)).ok()?;
                waker.wake().ok()?;
                Some(rx)
            }),
        }
    }

    /// Ask the thread to finish, without waiting for it: a thread stuck in uninterruptible
    /// I/O must not hold up the daemon's main loop. Reap it with [`DriveHandle::exit`] once
    /// [`DriveHandle::is_finished`].
    pub fn stop(&self) {
        let _ = self.control.send(Control::Stop);
        let _ = self.waker.wake();
    }

    /// Whether the thread has ended or is ending: past its last work, so
    /// [`DriveHandle::exit`] returns at once.
    pub fn is_finished(&self) -> bool {
        self.ended.load(Ordering::Acquire) || self.thread.is_finished()
    }

    /// How the thread ended. Blocks until it has: call it once [`DriveHandle::is_finished`].
    pub fn exit(self) -> Exit {
        self.thread.join().unwrap_or_else(|panic| {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown payload".into());
            Exit::Failed(format!("the drive thread panicked: {what}"))
        })
    }
}

/// Where the daemon finds the kernel's files (overridable for tests).
#[derive(Debug, Clone)]
pub struct Paths {
    pub configfs: PathBuf,
    /// Where media may be opened from.
    pub roots: Arc<media::MediaRoots>,
}

/// Start serving `uio` on a new thread; `on_exit` is woken when the thread ends.
pub fn spawn(uio: UioDevice, paths: &Paths, on_exit: Arc<Waker>) -> io::Result<DriveHandle> {
    let poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), STOP)?);
    let configfs_dir = uio.name.configfs_dir(&paths.configfs);
    let thread_uio = uio.clone();
    let roots = paths.roots.clone();
    let (control, inbox) = mpsc::channel();
    let ended = Arc::new(AtomicBool::new(false));
    let wake = WakeOnExit {
        waker: on_exit,
        ended: ended.clone(),
    };
    let thread = std::thread::Builder::new()
        .name(format!("drive-{}", uio.name.device))
        .spawn(move || {
            let _wake = wake;
            run(thread_uio, poll, configfs_dir, inbox, &roots)
                .unwrap_or_else(|e| Exit::Failed(e.to_string()))
        })?;
    Ok(DriveHandle {
        uio,
        waker,
        control,
        thread,
        ended,
        started: Instant::now(),
        failures_before: 0,
    })
}

/// Load the medium a configuration string names, logging what it is.
fn load_medium(label: &str, dev_config: &str, roots: &media::MediaRoots) -> media::Loaded {
    let loaded = match MediaConfig::parse(dev_config) {
        Ok(cfg) => media::load_within(&cfg, roots),
        Err(e) => media::Loaded::Empty(format!("bad configuration: {e}")),
    };
    match &loaded {
        media::Loaded::Empty(why) => log::warn!("drive {label}: empty tray: {why}"),
        media::Loaded::Disc(disc) => log::info!(
            "drive {label}: {} profile {:04x} in {} ({} of {} blocks recorded{})",
            media::state::kind_name(disc.medium().kind()),
            disc.medium().profile(),
            disc.image().path().display(),
            disc.medium().readable_blocks(),
            disc.medium().capacity(),
            if disc.medium().finalized() {
                ", finalized"
            } else {
                ""
            },
        ),
    }
    loaded
}

fn run(
    uio: UioDevice,
    mut poll: Poll,
    configfs_dir: PathBuf,
    inbox: mpsc::Receiver<Control>,
    roots: &media::MediaRoots,
) -> io::Result<Exit> {
    let label = uio.name.label();
    let backstore = Backstore::at(configfs_dir.clone());
    let size = uio
        .map_size
        .ok_or_else(|| io::Error::other("map0 size unknown"))?;
    // Take over the ring as tcmu-runner does on (re)open: whatever a previous handler left in
    // flight is failed back to the initiator as BUSY, which it retries. The ring is reset
    // only once the node is ours: a device another process holds open (the kernel allows one
    // opener) keeps its ring.
    backstore.action(action::BLOCK_DEV, "1");
    let opened = attach::open_and_map(&uio.dev_path(), size);
    if opened.is_ok() {
        backstore.action(action::RESET_RING, "1");
    }
    backstore.action(action::BLOCK_DEV, "0");
    let (mut file, mapping) = opened?;
    let mut ring = Ring::new(mapping).map_err(io::Error::other)?;

    let dev_config = backstore.dev_config().unwrap_or(uio.name.config.clone());
    let loaded = load_medium(&label, &dev_config, roots);
    let mut names = IdentityReader::new(configfs_dir.clone(), &label);
    let mut device = Device::new(names.current().clone(), loaded);
    device.set_identity_source(Box::new(move || names.reread()));
    device.set_label(&label);
    log::info!(
        "drive {label}: attached {} ({} byte ring map)",
        uio.node,
        size
    );

    let fd = file.as_raw_fd();
    poll.registry()
        .register(&mut SourceFd(&fd), UIO, Interest::READABLE)?;
    let mut events = Events::with_capacity(8);
    // Commands queued before we opened the device raised no event we will ever see.
    let mut exit = serve(&mut device, &mut ring, &mut file).err();
    while exit.is_none() {
        if let Err(e) = poll.poll(&mut events, None) {
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        for ev in events.iter() {
            match ev.token() {
                STOP => {
                    for msg in inbox.try_iter() {
                        match msg {
                            Control::Stop => exit = Some(Exit::Stopped),
                            Control::Reconfigure(cfg) => {
                                log::info!("drive {label}: new configuration {cfg:?}");
                                device.change_medium(load_medium(&label, &cfg, roots));
                                device.refresh_identity();
                            }
                            Control::Status(reply) => {
                                let _ = reply.send(super::status::live(&device));
                            }
                        }
                    }
                }
                _ => {
                    if ev.is_error() {
                        log::info!("drive {label}: device removed");
                        exit = Some(Exit::Removed);
                    }
                }
            }
        }
        if exit.is_some() {
            break;
        }
        // Consume the event count so the next notification is a new edge.
        let mut count = [0u8; 4];
        match file.read(&mut count) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => {
                exit = Some(Exit::Failed(format!("read of {}: {e}", uio.node)));
                break;
            }
        }
        exit = serve(&mut device, &mut ring, &mut file).err();
    }
    // Clean detach: everything fetched has been completed (commands are answered in line).
    backstore.action(action::BLOCK_DEV, "1");
    drop(ring);
    drop(file);
    backstore.action(action::BLOCK_DEV, "0");
    log::info!("drive {label}: detached");
    Ok(exit.unwrap_or(Exit::Stopped))
}

/// Serve the ring and kick the kernel; the error says why the device cannot be served on.
fn serve(device: &mut Device, ring: &mut Ring<UioMapping>, file: &mut File) -> Result<(), Exit> {
    loop {
        match device.serve(ring) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                if let Err(e) = file.write(&1u32.to_ne_bytes()) {
                    return Err(Exit::Failed(format!("kick: {e}")));
                }
                if !ring.has_pending() {
                    return Ok(());
                }
            }
            Err(e) => return Err(Exit::Failed(format!("ring: {e}"))),
        }
    }
}
