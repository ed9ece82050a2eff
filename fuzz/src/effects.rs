//! The effect path as the daemon runs it: commands through the fake kernel's ring into
//! `Device`, onto a real image and state file, with a store step failing or the daemon dying
//! at any step (injected), and restarts that load whatever the files hold.
//!
//! Input layout:
//!
//! ```text
//! byte 0      configuration (index into CONFIGS, modulo its length)
//! byte 1      capacity: 32 + (byte & 63) blocks
//! records:    0xE0..=0xE9  the next command meets a store failure at step (n - 0xE0) % 5
//!             0xEA..=0xF3  the daemon dies at step (n - 0xEA) % 5 of the next command
//!             0xF4..=0xF7  restart: the daemon stops, the next one loads the files
//!             0xF8..=0xFF  WRITE(10): one byte, 1 + (byte & 15) blocks, at the next writable
//!                          address of the last track (odd n) or at a 16-bit LBA (even n,
//!                          then two bytes), data a pattern of the record's position
//!             n < 0xE0     a command: 6, 10, 12 or 16 CDB bytes (n & 3) from the input, then
//!                          a 16-bit Data-Out length (modulo 4097) and that many bytes
//! ```
//!
//! Invariants (besides those of every CHECK CONDITION, see [`crate::mmc::check_sense`]):
//!
//! * every command completes once, and the kernel's ring stays sound;
//! * a step that fails answers 03/0C/00 and leaves the drive's disc, the image and the state
//!   file exactly as they were (a failed clearing of the erase mark is the one step after
//!   which the change stands, answered GOOD);
//! * a daemon that died before a step left the image and the state file as they were, unless
//!   the step came after the new state was durable (the erase steps): then the image is empty;
//! * a non-empty image always has its state file (it would load as a pressed DVD-ROM);
//! * after a GOOD SYNCHRONIZE CACHE everything acknowledged is inside the recorded area of
//!   the state file; a restart loads the very disc the state file holds (never set aside as
//!   another image's), and everything acknowledged inside its recorded area reads back byte
//!   for byte, through the ring, as the initiator wrote it.
use std::path::{Path, PathBuf};

use tcmu_mmc::device::Device;
use tcmu_mmc::media::{self, state, Fault, FaultKind, MediaConfig};
use tcmu_mmc::mmc::commands::opcode as op;
use tcmu_mmc::mmc::Medium;
use tcmu_mmc::ring::fake::{Completion, FakeKernel, FakeMemory, Geometry};
use tcmu_mmc::ring::Ring;
use tcmu_mmc::scsi::cdb::{be16, be32, byte};
use tcmu_mmc::scsi::spc::Identity;
use tcmu_mmc::scsi::{Sense, BLOCK_SIZE};

use crate::input::Input;
use crate::mmc::{check_sense, memory_only_from, recorded, Extents};

/// What an empty image is configured as (the index is byte 0 of an input).
pub const CONFIGS: &[&str] = &[
    "type=dvd+r",
    "type=dvd+rw",
    "type=dvd-ram",
    "type=dvd-rw",
    "type=cd-rw",
    "type=dvd+r-dl",
    "type=dvd+r;morph=close",
    "type=bd-r",
    "type=bd-re",
];

const STEPS: [Fault; 5] = [
    Fault::FlushData,
    Fault::SaveState,
    Fault::Erase,
    Fault::ClearErase,
    Fault::WriteData,
];

const WRITE_ERROR: (u8, u8, u8) = (3, 0x0c, 0x00);

/// The image and its state file, in a directory of this process (tmpfs where there is one).
struct Files {
    image: PathBuf,
    state: PathBuf,
}

impl Files {
    fn fresh() -> Files {
        let base = if Path::new("/dev/shm").is_dir() {
            PathBuf::from("/dev/shm")
        } else {
            std::env::temp_dir()
        };
        let dir = base.join(format!("tcmu-mmc-fuzz-effects-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch directory");
        let image = dir.join("disc.iso");
        std::fs::write(&image, b"").expect("empty image");
        let state = state::state_path(&image);
        Files { image, state }
    }

    fn image_bytes(&self) -> Vec<u8> {
        std::fs::read(&self.image).expect("image readable")
    }

    fn state_bytes(&self) -> Option<Vec<u8>> {
        std::fs::read(&self.state).ok()
    }

    /// The disc the state file describes (none without a state file).
    fn state_medium(&self) -> Option<Medium> {
        let bytes = self.state_bytes()?;
        let text = String::from_utf8(bytes).expect("state file is text");
        Some(state::parse(&text).unwrap_or_else(|e| panic!("state file refused: {e}\n{text}")))
    }
}

/// The daemon's side of one drive: a fake kernel's ring and the device on it.
struct Daemon {
    kernel: FakeKernel,
    ring: Ring<FakeMemory>,
    device: Device,
}

impl Daemon {
    fn start(config: &str) -> Daemon {
        let cfg = MediaConfig::parse(config).expect("harness configuration parses");
        let loaded = media::load(&cfg);
        if let media::Loaded::Empty(why) = &loaded {
            panic!("{config}: the disc did not load: {why}");
        }
        let kernel = FakeKernel::new(Geometry {
            // Under malloc's mmap threshold: a fresh ring per run must not cost page faults.
            cmdr_size: 16 * 1024 - 128,
            data_size: 96 * 1024,
            block_size: 4096,
        });
        let ring = Ring::new(kernel.memory()).expect("fake ring");
        let id = Identity::new("TCMU-MMC", "Virtual DVD-RW", "0001", "FUZZ0002");
        Daemon {
            kernel,
            ring,
            device: Device::new(id, loaded),
        }
    }

    /// Send one command; the queue refuses what the ring cannot carry (then `None`).
    fn send(&mut self, cdb: &[u8], data_out: &[u8], data_in: usize) -> Option<Completion> {
        let queued = if data_out.is_empty() && write_extent(cdb).is_none() {
            self.kernel.queue_read(cdb, data_in)
        } else {
            self.kernel.queue_write(cdb, data_out)
        };
        queued.ok()?;
        let kick = self.device.serve(&mut self.ring).expect("ring serves");
        if kick {
            self.kernel.kick();
        }
        assert!(self.kernel.broken.is_none(), "{:?}", self.kernel.broken);
        let mut done = self.kernel.take_completions();
        assert_eq!(done.len(), 1, "cdb {cdb:02x?}: completions {done:?}");
        done.pop()
    }

    fn medium(&self) -> Option<Medium> {
        self.device.medium().cloned()
    }
}

fn triple(c: &Completion) -> Option<(u8, u8, u8)> {
    (c.status == 2).then(|| (c.sense[2] & 0xf, c.sense[12], c.sense[13]))
}

/// A block that names where and by which record it was written (filled by memset: the
/// harness's own loops would cost more than the code under test).
fn pattern(seed: u32, lba: u64) -> Vec<u8> {
    let mut block = vec![(seed as u8) ^ (lba as u8).wrapping_mul(29); BLOCK_SIZE];
    block[..8].copy_from_slice(&(lba | u64::from(seed) << 40).to_le_bytes());
    block
}

fn write10(lba: u32, blocks: u16) -> [u8; 10] {
    let l = lba.to_be_bytes();
    let b = blocks.to_be_bytes();
    [0x2a, 0, l[0], l[1], l[2], l[3], 0, b[0], b[1], 0]
}

/// Where a GOOD WRITE put its data, from its CDB.
fn write_extent(cdb: &[u8]) -> Option<(u64, u64)> {
    let (lba, blocks) = match byte(cdb, 0) {
        op::WRITE_10 | op::WRITE_AND_VERIFY_10 => (be32(cdb, 2), u32::from(be16(cdb, 7))),
        op::WRITE_12 => (be32(cdb, 2), be32(cdb, 6)),
        _ => return None,
    };
    Some((u64::from(lba), u64::from(lba) + u64::from(blocks)))
}

struct Harness {
    files: Files,
    config: String,
    daemon: Daemon,
    /// What the initiator was told is written, block by block (`None`: nothing acknowledged).
    acknowledged: Vec<Option<Vec<u8>>>,
    armed: Option<(Fault, FaultKind)>,
}

impl Harness {
    fn new(config_index: u8, capacity_byte: u8) -> Harness {
        let files = Files::fresh();
        let capacity = 32 + u32::from(capacity_byte & 63);
        let config = format!(
            "mmc/{};{};capacity={capacity}",
            files.image.display(),
            CONFIGS[usize::from(config_index) % CONFIGS.len()]
        );
        let daemon = Daemon::start(&config);
        Harness {
            files,
            config,
            daemon,
            acknowledged: vec![None; capacity as usize],
            armed: None,
        }
    }

    fn acknowledged_extents(&self) -> Extents {
        let mut x = Extents::default();
        for (lba, b) in self.acknowledged.iter().enumerate() {
            if b.is_some() {
                x.insert(lba as u64, lba as u64 + 1);
            }
        }
        x
    }

    /// Run one command with whatever fault is armed, and check what the fault allows.
    fn command(&mut self, cdb: &[u8], data_out: &[u8], data_in: usize) {
        let armed = self.armed.take();
        let before = armed.map(|_| {
            (
                self.daemon.medium(),
                self.files.image_bytes(),
                self.files.state_bytes(),
            )
        });
        if let (Some((step, kind)), Some(disc)) = (armed, self.daemon.device.disc_mut()) {
            disc.inject_fault(step, kind);
        }
        let Some(c) = self.daemon.send(cdb, data_out, data_in) else {
            return;
        };
        if c.status == 2 {
            let t = triple(&c).expect("sense");
            check_sense(&Sense::new(t.0, t.1, t.2), cdb);
        }
        let reached = match self.daemon.device.disc_mut() {
            Some(disc) => disc.take_fault().is_none() && armed.is_some(),
            None => false,
        };
        if reached {
            let (step, kind) = armed.expect("armed");
            let (medium, image, state) = before.expect("taken when armed");
            let what = format!("cdb {cdb:02x?} with {kind:?} at {step:?}");
            match kind {
                FaultKind::Fail if step == Fault::ClearErase => {
                    assert_eq!(c.status, 0, "{what}: the erase stands");
                }
                FaultKind::Fail => {
                    assert_eq!(triple(&c), Some(WRITE_ERROR), "{what}");
                    assert_eq!(self.daemon.medium(), medium, "{what}: the disc changed");
                    assert!(
                        self.files.image_bytes() == image,
                        "{what}: the image changed"
                    );
                    self.check_state_unchanged(&state, &medium, step, &what);
                }
                FaultKind::Crash => {
                    if matches!(step, Fault::Erase | Fault::ClearErase) {
                        // The new state (the erased disc) was durable: the old data is gone.
                        self.acknowledged.iter_mut().for_each(|b| *b = None);
                        self.restart();
                        assert!(
                            self.files.image_bytes().is_empty(),
                            "{what}: the erase was not finished on load"
                        );
                    } else {
                        assert!(
                            self.files.image_bytes() == image,
                            "{what}: the image changed"
                        );
                        self.check_state_unchanged(&state, &medium, step, &what);
                        self.restart();
                    }
                    return;
                }
            }
        }
        if c.status != 0 {
            return;
        }
        match byte(cdb, 0) {
            op::WRITE_10 | op::WRITE_AND_VERIFY_10 | op::WRITE_12 => {
                let (start, end) = write_extent(cdb).expect("a write");
                for (i, lba) in (start..end).enumerate() {
                    let block = data_out[i * BLOCK_SIZE..(i + 1) * BLOCK_SIZE].to_vec();
                    self.acknowledged[lba as usize] = Some(block);
                }
            }
            op::SYNCHRONIZE_CACHE_10 => {
                let on_file = self
                    .files
                    .state_medium()
                    .map(|m| recorded(&m))
                    .unwrap_or_default();
                let mut acked = self.acknowledged_extents();
                if let Some(start) = self.daemon.medium().as_ref().and_then(memory_only_from) {
                    acked.clip(u64::from(start));
                }
                assert!(
                    acked.inside(&on_file),
                    "after SYNCHRONIZE CACHE acknowledged {acked:?} not in the state file's {on_file:?}"
                );
            }
            op::FORMAT_UNIT | op::BLANK if self.files.image_bytes().is_empty() => {
                self.acknowledged.iter_mut().for_each(|b| *b = None);
            }
            _ => {}
        }
        if let Some(m) = self.daemon.medium() {
            let acked = self.acknowledged_extents();
            assert!(
                acked.inside(&recorded(&m)),
                "cdb {cdb:02x?}: acknowledged {acked:?} outside the disc's recorded {:?}",
                recorded(&m)
            );
        }
    }

    /// The state file is as it was before a failed or interrupted step, or — a blank disc's
    /// first write records the blank's state before the data, so that a written image never
    /// lacks one — it now holds that same disc.
    fn check_state_unchanged(
        &self,
        before: &Option<Vec<u8>>,
        medium: &Option<Medium>,
        step: Fault,
        what: &str,
    ) {
        if before.is_some() || step != Fault::WriteData {
            assert_eq!(&self.files.state_bytes(), before, "{what}: state changed");
        } else if let Some(on_file) = self.files.state_medium() {
            assert_eq!(&Some(on_file), medium, "{what}: state changed");
        }
    }

    /// The daemon stops (or died); the next one loads the files.
    fn restart(&mut self) {
        let image_len = self.files.image_bytes().len();
        let on_file = self.files.state_medium();
        assert!(
            image_len == 0 || on_file.is_some(),
            "a {image_len}-byte image without a state file"
        );
        // Only what the state file records survives: the load cuts the rest off.
        let keep = on_file.as_ref().map(recorded).unwrap_or_default();
        for (lba, b) in self.acknowledged.iter_mut().enumerate() {
            if !keep.overlaps(lba as u64, lba as u64 + 1) {
                *b = None;
            }
        }
        self.daemon = Daemon::start(&self.config);
        if let Some(m) = on_file {
            assert_eq!(
                self.daemon.medium().as_ref(),
                Some(&m),
                "the load did not give the disc the state file holds"
            );
        }
        self.check_read_back();
    }

    /// Everything acknowledged that is still on the disc reads back as it was written.
    fn check_read_back(&mut self) {
        for _ in 0..4 {
            match self.daemon.send(&[0, 0, 0, 0, 0, 0], &[], 0) {
                Some(c) if c.status == 0 => break,
                _ => continue,
            }
        }
        if self.daemon.medium().is_none() {
            // The tray is open: close it, and take the news it brings.
            self.daemon.send(&[0x1b, 0, 0, 0, 0x03, 0], &[], 0);
            self.daemon.send(&[0, 0, 0, 0, 0, 0], &[], 0);
        }
        let Some(m) = self.daemon.medium() else {
            return;
        };
        let readable = u64::from(m.readable_blocks());
        for lba in 0..self.acknowledged.len() {
            let Some(want) = self.acknowledged[lba].clone() else {
                continue;
            };
            assert!(
                (lba as u64) < readable,
                "acknowledged block {lba} unreadable"
            );
            let c = self
                .daemon
                .send(&read10(lba as u32), &[], BLOCK_SIZE)
                .expect("a one-block read fits the ring");
            assert_eq!(
                c.status,
                0,
                "READ of acknowledged block {lba}: {:?}",
                triple(&c)
            );
            assert!(
                c.data == want,
                "acknowledged block {lba} reads back other data"
            );
        }
    }
}

fn read10(lba: u32) -> [u8; 10] {
    let mut c = write10(lba, 1);
    c[0] = 0x28;
    c
}

/// One fuzz input.
pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let config = input.u8();
    let capacity = input.u8();
    let mut h = Harness::new(config, capacity);
    let mut commands = 0u32;
    while !input.is_empty() && commands < 256 {
        let n = input.u8();
        match n {
            0xe0..=0xe9 => h.armed = Some((STEPS[usize::from(n - 0xe0) % 5], FaultKind::Fail)),
            0xea..=0xf3 => h.armed = Some((STEPS[usize::from(n - 0xea) % 5], FaultKind::Crash)),
            0xf4..=0xf7 => h.restart(),
            0xf8..=0xff => {
                let blocks = 1 + u16::from(input.u8() & 15);
                let lba = if n & 1 == 1 {
                    h.daemon
                        .medium()
                        .and_then(|m| m.tracks().last().map(|t| t.nwa()))
                        .unwrap_or(0)
                } else {
                    u32::from(input.u16())
                };
                let data = (0..u64::from(blocks))
                    .map(|i| pattern(commands, u64::from(lba) + i))
                    .collect::<Vec<_>>()
                    .concat();
                h.command(&write10(lba, blocks), &data, 0);
                commands += 1;
            }
            _ => {
                let len = [6, 10, 12, 16][usize::from(n & 3)];
                let cdb = input.bytes(len).to_vec();
                let out_len = usize::from(input.u16()) % 4097;
                let data_out = input.bytes(out_len).to_vec();
                h.command(&cdb, &data_out, 4096);
                commands += 1;
            }
        }
    }
    h.restart();
}
