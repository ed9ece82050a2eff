//! Property tests of the media state machines: random sequences of writes, closes,
//! finalizes, formats, blanks, ejects, loads and daemon restarts, sent as CDBs through the
//! real path (fake kernel ring → device → drive model → image file and state file in a temp
//! dir), checked after every step against a simple model of the disc: which commands succeed,
//! and that every block reads back as the model says it was written (zeros where nothing
//! was). Restarts reload the disc from its files, so what the drive made durable (SYNCHRONIZE
//! CACHE, CLOSE, FORMAT, BLANK) survives and, on write-once media, what it did not is gone.
//!
//! `PROPTEST_CASES` sets the cases per property (default 32 here); proptest shrinks a failing
//! sequence to a minimal one and prints it.
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use tcmu_mmc::device::Device;
use tcmu_mmc::media::{self, MediaConfig};
use tcmu_mmc::ring::fake::{Completion, FakeKernel, FakeMemory, Geometry};
use tcmu_mmc::ring::Ring;
use tcmu_mmc::scsi::spc::Identity;

const BLOCK: usize = 2048;
/// Small discs, so that writing past the end is reachable.
const CAPACITY: u32 = 640;

#[derive(Debug, Clone)]
enum Op {
    /// WRITE(10) of `blocks` at the model's next writable address (sequential media) or at
    /// `lba` (rewritable media), of data derived from `seed`.
    Write {
        lba: u16,
        blocks: u8,
        seed: u8,
    },
    /// WRITE(10) at an arbitrary address.
    WriteAt {
        lba: u16,
        blocks: u8,
        seed: u8,
    },
    Sync,
    CloseTrack,
    CloseSession,
    Finalize,
    Format,
    Blank,
    Eject,
    Load,
    Restart,
    ReadBack,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        8 => (0u16..700, 1u8..=48, any::<u8>())
            .prop_map(|(lba, blocks, seed)| Op::Write { lba, blocks, seed }),
        1 => (0u16..700, 1u8..=48, any::<u8>())
            .prop_map(|(lba, blocks, seed)| Op::WriteAt { lba, blocks, seed }),
        2 => Just(Op::Sync),
        2 => Just(Op::CloseTrack),
        2 => Just(Op::CloseSession),
        1 => Just(Op::Finalize),
        2 => Just(Op::Format),
        1 => Just(Op::Blank),
        1 => Just(Op::Eject),
        1 => Just(Op::Load),
        2 => Just(Op::Restart),
        2 => Just(Op::ReadBack),
    ]
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(32)
}

// ------------------------------------------------------------------ the drive under test

static NEXT: AtomicUsize = AtomicUsize::new(0);

struct Rig {
    dir: PathBuf,
    config: String,
    kernel: FakeKernel,
    ring: Ring<FakeMemory>,
    device: Device,
}

impl Drop for Rig {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Rig {
    /// A drive on a new, empty image file: `options` say what blank disc it is.
    fn new(options: &str) -> Rig {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("tcmu-mmc-prop-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let image = dir.join("disc.img");
        std::fs::write(&image, b"").unwrap();
        let config = format!("mmc/{};{options};capacity={CAPACITY}", image.display());
        let kernel = FakeKernel::new(Geometry::default());
        let ring = Ring::new(kernel.memory()).unwrap();
        let device = Self::device(&config);
        Rig {
            dir,
            config,
            kernel,
            ring,
            device,
        }
    }

    fn device(config: &str) -> Device {
        let loaded = media::load(&MediaConfig::parse(config).unwrap());
        assert!(loaded.disc().is_some(), "the disc did not load");
        Device::new(
            Identity::new("TCMU-MMC", "Virtual DVD-RW", "0001", "PROP"),
            loaded,
        )
    }

    /// The daemon stops and starts again: the disc is loaded from its files.
    fn restart(&mut self) {
        self.device = Self::device(&self.config);
    }

    fn serve(&mut self) -> Completion {
        if self.device.serve(&mut self.ring).unwrap() {
            self.kernel.kick();
        }
        let mut c = self.kernel.take_completions();
        assert_eq!(c.len(), 1);
        c.pop().unwrap()
    }

    fn run(&mut self, cdb: &[u8]) -> Completion {
        self.kernel.queue(cdb).unwrap();
        self.serve()
    }

    fn read(&mut self, cdb: &[u8], len: usize) -> Completion {
        self.kernel.queue_read(cdb, len).unwrap();
        self.serve()
    }

    fn write_data(&mut self, cdb: &[u8], data: &[u8]) -> Completion {
        self.kernel.queue_write(cdb, data).unwrap();
        self.serve()
    }
}

fn key(c: &Completion) -> u8 {
    if c.status == 0 {
        0
    } else {
        c.sense[2] & 0x0f
    }
}

fn cdb10(op: u8, lba: u32, blocks: u16) -> [u8; 10] {
    let l = lba.to_be_bytes();
    let b = blocks.to_be_bytes();
    [op, 0, l[0], l[1], l[2], l[3], 0, b[0], b[1], 0]
}

fn pattern(lba: u32, blocks: u8, seed: u8) -> Vec<u8> {
    (0..usize::from(blocks) * BLOCK)
        .map(|i| {
            let block = lba as usize + i / BLOCK;
            (block as u8) ^ (i as u8).wrapping_mul(seed | 1) ^ seed
        })
        .collect()
}

const REQUEST_SENSE: [u8; 6] = [0x03, 0, 0, 0, 18, 0];
const SYNC: [u8; 10] = [0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const EJECT: [u8; 6] = [0x1b, 0, 0, 0, 0x02, 0];
const LOAD: [u8; 6] = [0x1b, 0, 0, 0, 0x03, 0];

fn close(function: u8, track: u8) -> [u8; 10] {
    [0x5b, 0, function, 0, 0, track, 0, 0, 0, 0]
}

/// Read blocks 0..readable and compare with `data` (zeros where it is short); a read at
/// `readable` must fail.
fn read_back(rig: &mut Rig, readable: u32, data: &[u8]) -> Result<(), TestCaseError> {
    let mut lba = 0;
    while lba < readable {
        let n = (readable - lba).min(64);
        let c = rig.read(&cdb10(0x28, lba, n as u16), n as usize * BLOCK);
        prop_assert_eq!(c.status, 0, "READ {}+{} of {} readable", lba, n, readable);
        let from = lba as usize * BLOCK;
        let mut want = data.get(from..).unwrap_or(&[]).to_vec();
        want.resize(n as usize * BLOCK, 0);
        prop_assert!(
            c.data == want,
            "blocks {}+{} differ from what was written",
            lba,
            n
        );
        lba += n;
    }
    let c = rig.read(&cdb10(0x28, readable, 1), BLOCK);
    prop_assert_eq!(
        (key(&c), c.sense[12]),
        (5, 0x21),
        "READ at the recorded end {}",
        readable
    );
    Ok(())
}

// ------------------------------------------------------------------ write-once (DVD+R)

/// What a sequential DVD+R holds, as simply as it can be said.
#[derive(Debug, Clone, Default)]
struct WriteOnce {
    /// The disc's bytes up to its recorded end (zeros where nothing was written).
    data: Vec<u8>,
    nwa: u32,
    /// Number of the open track (or of the track after the last, with none open).
    track: u8,
    /// A track is open (the disc is not finalized, and not full after a close).
    open: bool,
    track_has_data: bool,
    /// The open session has closed tracks.
    session_has_tracks: bool,
    finalized: bool,
}

impl WriteOnce {
    fn new() -> Self {
        WriteOnce {
            track: 1,
            open: true,
            ..Default::default()
        }
    }

    fn readable(&self) -> u32 {
        (self.data.len() / BLOCK) as u32
    }

    fn has_open_track(&self) -> bool {
        !self.finalized && self.open
    }

    /// The open track closes; the next starts on the next ECC block, if the disc has one.
    fn close_open_track(&mut self) {
        self.nwa = self.nwa.next_multiple_of(16);
        self.track += 1;
        self.open = self.nwa < CAPACITY;
        self.track_has_data = false;
        self.session_has_tracks = true;
    }
}

/// Page 05h as growisofs sets it for a DVD-R: Incremental Streaming, next session allowed (a
/// drive starts with its defaults, so after every restart too).
fn set_incremental_recording(rig: &mut Rig) -> Result<(), TestCaseError> {
    let sense = [0x5a, 0x08, 0x05, 0, 0, 0, 0, 0, 0xff, 0];
    let mut c = rig.read(&sense, 255);
    if c.status != 0 {
        c = rig.read(&sense, 255); // the unit attention of a fresh drive, taken
    }
    prop_assert_eq!(c.status, 0, "MODE SENSE page 05");
    let mut page = c.data.clone();
    page[0] = 0;
    page[1] = 0;
    page[8 + 2] &= 0xf0; // write type 0
    page[8 + 3] |= 0xc0; // next session allowed
    let select = [0x55, 0x10, 0, 0, 0, 0, 0, 0, page.len() as u8, 0];
    prop_assert_eq!(
        rig.write_data(&select, &page).status,
        0,
        "MODE SELECT page 05"
    );
    Ok(())
}

fn write_once(option: &str, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut rig = Rig::new(option);
    let page05 = option == "type=dvd-r";
    if page05 {
        set_incremental_recording(&mut rig)?;
    }
    let mut m = WriteOnce::new();
    // What the state file says: a restart goes back to it (the image is cut to its end).
    let mut saved = m.clone();
    let mut state_recorded = false;
    let mut tray_open = false;
    for (step, op) in ops.into_iter().enumerate() {
        let ctx = format!(
            "step {step}: {op:?}, model {:?}",
            (m.nwa, m.track, m.finalized)
        );
        let not_ready = |c: &Completion| key(c) == 2;
        match op {
            Op::Write { lba, blocks, seed } | Op::WriteAt { lba, blocks, seed } => {
                let lba = if matches!(op, Op::Write { .. }) {
                    m.nwa
                } else {
                    u32::from(lba)
                };
                let c = rig.write_data(
                    &cdb10(0x2a, lba, u16::from(blocks)),
                    &pattern(lba, blocks, seed),
                );
                let fits = lba + u32::from(blocks) <= CAPACITY;
                if tray_open {
                    prop_assert!(not_ready(&c), "{}", ctx);
                } else if m.has_open_track() && lba == m.nwa && fits {
                    prop_assert_eq!(c.status, 0, "{}", ctx);
                    if !state_recorded {
                        saved = m.clone();
                        state_recorded = true;
                    }
                    m.data.resize(lba as usize * BLOCK, 0);
                    m.data.extend(pattern(lba, blocks, seed));
                    m.nwa += u32::from(blocks);
                    m.track_has_data = true;
                } else {
                    prop_assert_eq!(key(&c), 5, "{}", ctx);
                }
            }
            Op::Sync => {
                // What the drive accepted is flushed even with the tray open: the disc is
                // still in the drive, as a real drive's cache is.
                prop_assert_eq!(rig.run(&SYNC).status, 0, "{}", ctx);
                saved = m.clone();
                state_recorded = true;
            }
            Op::CloseTrack | Op::CloseSession | Op::Finalize => {
                let function = match op {
                    Op::CloseTrack => 1,
                    Op::CloseSession => 2,
                    _ => 6,
                };
                let c = rig.run(&close(function, m.track));
                if tray_open {
                    prop_assert!(not_ready(&c), "{}", ctx);
                    continue;
                }
                if m.finalized {
                    prop_assert_eq!(c.status, 0, "{}", ctx);
                    continue;
                }
                let ok = match function {
                    1 => m.has_open_track() && m.track_has_data,
                    2 => true,
                    _ => m.track_has_data || m.session_has_tracks || m.track > 1,
                };
                if !ok {
                    prop_assert_eq!(key(&c), 5, "{}", ctx);
                    continue;
                }
                prop_assert_eq!(c.status, 0, "{}", ctx);
                match function {
                    1 => m.close_open_track(),
                    2 => {
                        if m.track_has_data {
                            m.close_open_track();
                        }
                        m.session_has_tracks = false;
                    }
                    _ => {
                        m.finalized = true;
                        let c = rig.read(&REQUEST_SENSE, 18);
                        if page05 {
                            // A closed DVD-R stays a DVD-R: a media event, no unit attention.
                            prop_assert_ne!(c.data[2] & 0x0f, 6, "{}", ctx);
                        } else {
                            // Now a DVD-ROM: the host is told with a unit attention.
                            let sense = (c.data[2] & 0x0f, c.data[12]);
                            prop_assert_eq!(sense, (6, 0x28), "{}", ctx);
                        }
                    }
                }
                saved = m.clone();
                state_recorded = true;
            }
            Op::Format | Op::Blank => {
                let c = if op_is_format(&op) {
                    format_unit(&mut rig, 0x26, 0)
                } else {
                    rig.run(&BLANK)
                };
                let want = if tray_open { 2 } else { 5 };
                prop_assert_eq!(key(&c), want, "{}: a DVD+R cannot be erased", ctx);
            }
            Op::Eject => {
                prop_assert_eq!(rig.run(&EJECT).status, 0, "{}", ctx);
                tray_open = true;
            }
            Op::Load => {
                prop_assert_eq!(rig.run(&LOAD).status, 0, "{}", ctx);
                if tray_open {
                    let c = rig.read(&REQUEST_SENSE, 18);
                    prop_assert_eq!(c.data[2] & 0x0f, 6, "{}: unit attention", ctx);
                }
                tray_open = false;
            }
            Op::Restart => {
                rig.restart();
                if page05 {
                    set_incremental_recording(&mut rig)?;
                }
                tray_open = false;
                let readable = saved.readable() as usize;
                m = saved.clone();
                m.data.truncate(readable * BLOCK);
            }
            Op::ReadBack => {
                if !tray_open {
                    read_back(&mut rig, m.readable(), &m.data)?;
                }
            }
        }
    }
    if tray_open {
        rig.run(&LOAD);
        rig.read(&REQUEST_SENSE, 18);
    }
    read_back(&mut rig, m.readable(), &m.data)?;
    rig.restart();
    let readable = saved.readable();
    read_back(&mut rig, readable, &m.data[..readable as usize * BLOCK])
}

fn op_is_format(op: &Op) -> bool {
    matches!(op, Op::Format)
}

const BLANK: [u8; 12] = [0xa1, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];

fn format_unit(rig: &mut Rig, format: u8, param: u32) -> Completion {
    let mut d = vec![0, 0x82, 0, 8];
    d.extend_from_slice(&u32::MAX.to_be_bytes());
    d.push(format << 2);
    d.extend_from_slice(&param.to_be_bytes()[1..]);
    rig.write_data(&[0x04, 0x11, 0, 0, 0, 0], &d)
}

// ------------------------------------------------------------------ rewritable media

#[derive(Debug, Clone, Copy)]
struct Kind {
    option: &'static str,
    format: u8,
    param: u32,
    packet: u32,
    /// BLANK works (CD-RW, DVD-RW).
    blankable: bool,
    /// Sold formatted, and keeps its data when formatted again (DVD-RAM).
    ram: bool,
    /// Recorded sequentially until formatted (DVD-RW): this model formats it at the start and
    /// after every BLANK, and covers it only while it is written in place.
    sequential_when_blank: bool,
}

const KINDS: [Kind; 4] = [
    Kind {
        option: "type=dvd+rw",
        format: 0x26,
        param: 0,
        packet: 0,
        blankable: false,
        ram: false,
        sequential_when_blank: false,
    },
    Kind {
        option: "type=dvd-ram",
        format: 0x00,
        param: 2048,
        packet: 0,
        blankable: false,
        ram: true,
        sequential_when_blank: false,
    },
    Kind {
        option: "type=dvd-rw",
        format: 0x10,
        param: 16,
        packet: 16,
        blankable: true,
        ram: false,
        sequential_when_blank: true,
    },
    Kind {
        option: "type=cd-rw",
        format: 0x10,
        param: 32,
        packet: 32,
        blankable: true,
        ram: false,
        sequential_when_blank: false,
    },
];

fn rewritable(kind: Kind, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let mut rig = Rig::new(kind.option);
    let size = match kind.packet {
        0 => CAPACITY,
        p => CAPACITY - CAPACITY % p,
    };
    // The formatted area's bytes (empty while unformatted). Formats and blanks are made
    // durable at once and writes land in the image in place, so restarts change nothing.
    let mut data: Vec<u8> = if kind.ram {
        vec![0; size as usize * BLOCK]
    } else {
        Vec::new()
    };
    let mut tray_open = false;
    // A DVD-RW becomes a disc written in place once formatted.
    let format_for_overwrite = |rig: &mut Rig, data: &mut Vec<u8>| -> Result<(), TestCaseError> {
        let c = format_unit(rig, kind.format, kind.param);
        prop_assert_eq!(
            c.status,
            0,
            "formatting {} for restricted overwrite",
            kind.option
        );
        *data = vec![0; size as usize * BLOCK];
        Ok(())
    };
    if kind.sequential_when_blank {
        format_for_overwrite(&mut rig, &mut data)?;
    }
    for (step, op) in ops.into_iter().enumerate() {
        let formatted = !data.is_empty();
        let ctx = format!("step {step}: {op:?}, formatted {formatted}");
        match op {
            Op::Write { lba, blocks, seed } | Op::WriteAt { lba, blocks, seed } => {
                let (mut lba, mut blocks) = (u32::from(lba), blocks);
                if matches!(op, Op::Write { .. }) && kind.packet != 0 {
                    // Mostly whole packets, as pktcdvd writes.
                    lba -= lba % kind.packet;
                    blocks = kind.packet as u8;
                }
                let c = rig.write_data(
                    &cdb10(0x2a, lba, u16::from(blocks)),
                    &pattern(lba, blocks, seed),
                );
                let end = lba + u32::from(blocks);
                let aligned = kind.packet == 0
                    || (lba % kind.packet == 0 && u32::from(blocks) % kind.packet == 0);
                if tray_open {
                    prop_assert_eq!(key(&c), 2, "{}", ctx);
                } else if formatted && end <= size && aligned {
                    prop_assert_eq!(c.status, 0, "{}", ctx);
                    let at = lba as usize * BLOCK;
                    data[at..at + usize::from(blocks) * BLOCK]
                        .copy_from_slice(&pattern(lba, blocks, seed));
                } else {
                    prop_assert_eq!(key(&c), 5, "{}", ctx);
                }
            }
            Op::Sync => prop_assert_eq!(rig.run(&SYNC).status, 0, "{}", ctx),
            Op::CloseTrack | Op::CloseSession | Op::Finalize => {
                let function = match op {
                    Op::CloseTrack => 1,
                    Op::CloseSession => 2,
                    _ => 6,
                };
                let c = rig.run(&close(function, 1));
                let want = if tray_open { 2 } else { 0 };
                prop_assert_eq!(key(&c), want, "{}: closing is a no-op", ctx);
            }
            Op::Format => {
                let c = format_unit(&mut rig, kind.format, kind.param);
                if tray_open {
                    prop_assert_eq!(key(&c), 2, "{}", ctx);
                } else {
                    prop_assert_eq!(c.status, 0, "{}", ctx);
                    if !(kind.ram && formatted) {
                        data = vec![0; size as usize * BLOCK];
                    }
                }
            }
            Op::Blank => {
                let c = rig.run(&BLANK);
                if tray_open {
                    prop_assert_eq!(key(&c), 2, "{}", ctx);
                } else if kind.blankable {
                    prop_assert_eq!(c.status, 0, "{}", ctx);
                    data.clear();
                    if kind.sequential_when_blank {
                        format_for_overwrite(&mut rig, &mut data)?;
                    }
                } else {
                    prop_assert_eq!(key(&c), 5, "{}", ctx);
                }
            }
            Op::Eject => {
                prop_assert_eq!(rig.run(&EJECT).status, 0, "{}", ctx);
                tray_open = true;
            }
            Op::Load => {
                prop_assert_eq!(rig.run(&LOAD).status, 0, "{}", ctx);
                if tray_open {
                    rig.read(&REQUEST_SENSE, 18);
                }
                tray_open = false;
            }
            Op::Restart => {
                rig.restart();
                tray_open = false;
            }
            Op::ReadBack => {
                if !tray_open {
                    read_back(&mut rig, (data.len() / BLOCK) as u32, &data)?;
                }
            }
        }
    }
    if tray_open {
        rig.run(&LOAD);
        rig.read(&REQUEST_SENSE, 18);
    }
    read_back(&mut rig, (data.len() / BLOCK) as u32, &data)?;
    rig.restart();
    read_back(&mut rig, (data.len() / BLOCK) as u32, &data)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    /// DVD+R: writes only at the next writable address; what is recorded never changes and
    /// reads back; closes and finalize follow the disc's state; restarts keep exactly what
    /// was made durable.
    #[test]
    fn write_once_disc_follows_the_model(ops in prop::collection::vec(op(), 1..40)) {
        write_once("type=dvd+r", ops)?;
    }

    /// DVD-R recorded incrementally with a next session allowed (growisofs' page 05h): the
    /// same model as DVD+R.
    #[test]
    fn dvd_minus_r_recorded_incrementally_follows_the_model(
        ops in prop::collection::vec(op(), 1..40),
    ) {
        write_once("type=dvd-r", ops)?;
    }

    /// DVD+RW, DVD-RAM, DVD-RW and CD-RW: writes anywhere in the formatted area (whole
    /// packets where the disc has them), formats and blanks erase (but a DVD-RAM reformat),
    /// everything reads back, also after restarts.
    #[test]
    fn rewritable_discs_follow_the_model(
        kind in 0..KINDS.len(),
        ops in prop::collection::vec(op(), 1..40),
    ) {
        rewritable(KINDS[kind], ops)?;
    }
}
