//! One drive's event loop, on its own thread: a slow image on one drive never stalls another.
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;

use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token, Waker};

use super::attach::{self, UioMapping};
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

/// A running drive thread.
pub struct DriveHandle {
    pub uio: UioDevice,
    waker: Arc<Waker>,
    control: mpsc::Sender<Control>,
    thread: Option<JoinHandle<()>>,
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

    /// Ask the thread to finish and wait for it.
    pub fn stop(mut self) {
        let _ = self.control.send(Control::Stop);
        let _ = self.waker.wake();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }

    pub fn is_finished(&self) -> bool {
        self.thread.as_ref().is_none_or(|t| t.is_finished())
    }
}

/// Where the daemon finds the kernel's files (overridable for tests).
#[derive(Debug, Clone)]
pub struct Paths {
    pub configfs: PathBuf,
    /// Where media may be opened from.
    pub roots: Arc<media::MediaRoots>,
}

/// Start serving `uio` on a new thread.
pub fn spawn(uio: UioDevice, paths: &Paths) -> io::Result<DriveHandle> {
    let poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), STOP)?);
    let configfs_dir = uio.name.configfs_dir(&paths.configfs);
    let thread_uio = uio.clone();
    let roots = paths.roots.clone();
    let (control, inbox) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name(format!("drive-{}", uio.name.device))
        .spawn(move || {
            let label = thread_uio.name.label();
            if let Err(e) = run(thread_uio, poll, configfs_dir, inbox, &roots) {
                log::error!("drive {label}: {e}");
            }
        })?;
    Ok(DriveHandle {
        uio,
        waker,
        control,
        thread: Some(thread),
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
) -> io::Result<()> {
    let label = uio.name.label();
    let size = uio
        .map_size
        .ok_or_else(|| io::Error::other("map0 size unknown"))?;
    // Take over the ring as tcmu-runner does on (re)open: whatever a previous handler left in
    // flight is failed back to the initiator as BUSY, which it retries.
    attach::action(&configfs_dir, "block_dev", "1");
    attach::action(&configfs_dir, "reset_ring", "1");
    let opened = attach::open_and_map(&uio.dev_path(), size);
    attach::action(&configfs_dir, "block_dev", "0");
    let (mut file, mapping) = opened?;
    let mut ring = Ring::new(mapping).map_err(io::Error::other)?;

    let dev_config = attach::read_dev_config(&configfs_dir).unwrap_or(uio.name.config.clone());
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
    let mut gone = !serve(&mut device, &mut ring, &mut file, &label);
    while !gone {
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
                            Control::Stop => gone = true,
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
                        gone = true;
                    }
                }
            }
        }
        if gone {
            break;
        }
        // Consume the event count so the next notification is a new edge.
        let mut count = [0u8; 4];
        match file.read(&mut count) {
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
            Err(e) => {
                log::info!("drive {label}: uio read: {e}; detaching");
                break;
            }
        }
        gone = !serve(&mut device, &mut ring, &mut file, &label);
    }
    // Clean detach: everything fetched has been completed (commands are answered in line).
    attach::action(&configfs_dir, "block_dev", "1");
    drop(ring);
    drop(file);
    attach::action(&configfs_dir, "block_dev", "0");
    log::info!("drive {label}: detached");
    Ok(())
}

/// Serve the ring and kick the kernel. False when the device is no longer usable.
fn serve(device: &mut Device, ring: &mut Ring<UioMapping>, file: &mut File, label: &str) -> bool {
    loop {
        match device.serve(ring) {
            Ok(false) => return true,
            Ok(true) => {
                if let Err(e) = file.write(&1u32.to_ne_bytes()) {
                    log::info!("drive {label}: kick failed: {e}; detaching");
                    return false;
                }
                if !ring.has_pending() {
                    return true;
                }
            }
            Err(e) => {
                log::error!("drive {label}: {e}");
                return false;
            }
        }
    }
}
