//! Ring benchmark: the fake kernel feeds the real dispatch path (ring → drive model → image →
//! ring) on one thread, with no VM and no root.
//!
//! It prints, for each case, commands/s and MB/s (1 MB = 10^6 bytes, as dd and fio print), the
//! median and best of several timed rounds, and heap allocations per command (a counting
//! global allocator wraps the system one in this binary). It also measures the machine's
//! memcpy bandwidth in the same run, with the same access pattern as a 1 MiB READ (1 MiB from a
//! large source into the data area), and the ratio of the 1 MiB READ rate to it.
//!
//! Run: `cargo bench --bench ring`. Environment: `BENCH_ROUNDS` (timed rounds per case,
//! default 7), `BENCH_ROUND_MS` (length of a round, default 300), `BENCH_IMAGE_MB` (page-cached
//! image the READs cycle through, default 256).
use std::alloc::{GlobalAlloc, Layout, System};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

use tcmu_mmc::device::Device;
use tcmu_mmc::media::{self, MediaConfig};
use tcmu_mmc::mmc::MediumKind;
use tcmu_mmc::ring::fake::{FakeKernel, FakeMemory, Geometry};
use tcmu_mmc::ring::Ring;
use tcmu_mmc::scsi::spc::Identity;

// ---------------------------------------------------------------- counting allocator

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);
static LIVE_BYTES: AtomicU64 = AtomicU64::new(0);

// SAFETY: every call is forwarded unchanged to the system allocator; the counters are only
// statistics.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        LIVE_BYTES.fetch_add(layout.size() as u64, Relaxed);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        LIVE_BYTES.fetch_add(layout.size() as u64, Relaxed);
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE_BYTES.fetch_sub(layout.size() as u64, Relaxed);
        // SAFETY: `ptr` came from this allocator with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Relaxed);
        LIVE_BYTES.fetch_add(new_size as u64, Relaxed);
        LIVE_BYTES.fetch_sub(layout.size() as u64, Relaxed);
        // SAFETY: `ptr` came from this allocator with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

// ---------------------------------------------------------------- set-up

const BLOCK: usize = 2048;
const TUR: [u8; 6] = [0; 6];

fn env_num(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn cdb10(op: u8, lba: u32, blocks: u16) -> [u8; 10] {
    let l = lba.to_be_bytes();
    let b = blocks.to_be_bytes();
    [op, 0, l[0], l[1], l[2], l[3], 0, b[0], b[1], 0]
}

/// Files the benchmark made, removed on drop.
struct Scratch(Vec<PathBuf>);

impl Drop for Scratch {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn scratch_path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tcmu-mmc-bench-{tag}-{}.iso", std::process::id()))
}

/// A DVD-ROM image of `mb` MiB with non-zero data, read once so it sits in the page cache.
fn rom_image(scratch: &mut Scratch, mb: usize) -> PathBuf {
    let path = scratch_path("rom");
    let mut f = std::fs::File::create(&path).expect("create image");
    let chunk: Vec<u8> = (0..1 << 20).map(|i| (i * 7 + 3) as u8).collect();
    for _ in 0..mb {
        f.write_all(&chunk).expect("write image");
    }
    drop(f);
    let _ = std::fs::read(&path).expect("warm image");
    scratch.0.push(path.clone());
    path
}

struct Rig {
    kernel: FakeKernel,
    ring: Ring<FakeMemory>,
    device: Device,
}

impl Rig {
    fn new(image: &Path, data_size: usize) -> Self {
        // The kernel's default ring is 8 MiB; 1 MiB holds thousands of entries, plenty here.
        let kernel = FakeKernel::new(Geometry {
            cmdr_size: (1 << 20) - 128,
            data_size,
            block_size: 4096,
        });
        let ring = Ring::new(kernel.memory()).expect("ring");
        let cfg = MediaConfig::parse(&format!("mmc/{}", image.display())).expect("config");
        let loaded = media::load(&cfg);
        assert!(loaded.disc().is_some(), "image did not load");
        let id = Identity::new("TCMU-MMC", "Virtual DVD-RW", "0001", "BENCH");
        Rig {
            kernel,
            ring,
            device: Device::new(id, loaded),
        }
    }

    /// Serve everything queued, kick once, and let the fake kernel clean up.
    fn serve(&mut self) {
        if self.device.serve(&mut self.ring).expect("serve") {
            self.kernel.kick();
        }
    }
}

/// Queues the i-th command of a batch, the n-th overall.
type QueueFn = Box<dyn FnMut(&mut FakeKernel, usize, u64)>;

/// One kind of command, queued `batch` at a time (the queue depth the handler sees).
struct Case {
    name: &'static str,
    batch: usize,
    /// Bytes each command moves (0 for no data).
    bytes: usize,
    queue: QueueFn,
}

struct Measured {
    /// Commands per second, one per round, sorted.
    rates: Vec<f64>,
    allocs_per_cmd: f64,
}

impl Measured {
    fn median(&self) -> f64 {
        self.rates[self.rates.len() / 2]
    }
    fn best(&self) -> f64 {
        *self.rates.last().unwrap()
    }
}

fn run_case(rig: &mut Rig, case: &mut Case, rounds: u64, round: Duration) -> Measured {
    let mut n: u64 = 0;
    let batch = |rig: &mut Rig, case: &mut Case, n: &mut u64| {
        for i in 0..case.batch {
            (case.queue)(&mut rig.kernel, i, *n);
            *n += 1;
        }
        rig.serve();
    };
    // Warm up: buffers reach their final size, the image and the data area are faulted in.
    let warm = Instant::now();
    while warm.elapsed() < round / 2 {
        batch(rig, case, &mut n);
    }
    let mut rates = Vec::new();
    let (mut cmds, mut allocs) = (0u64, 0u64);
    for _ in 0..rounds {
        let before = rig.kernel.tally().completed;
        let a0 = ALLOCS.load(Relaxed);
        let t0 = Instant::now();
        let mut elapsed = Duration::ZERO;
        while elapsed < round {
            for _ in 0..16 {
                batch(rig, case, &mut n);
            }
            elapsed = t0.elapsed();
        }
        let a1 = ALLOCS.load(Relaxed);
        let done = rig.kernel.tally().completed - before;
        rates.push(done as f64 / elapsed.as_secs_f64());
        cmds += done;
        allocs += a1 - a0;
    }
    let tally = rig.kernel.tally();
    assert_eq!(tally.failed, 0, "{}: commands failed", case.name);
    assert_eq!(
        rig.kernel.in_flight(),
        0,
        "{}: commands left over",
        case.name
    );
    rates.sort_by(f64::total_cmp);
    Measured {
        rates,
        allocs_per_cmd: allocs as f64 / cmds as f64,
    }
}

/// memcpy bandwidth with the access pattern of 1 MiB READs: 1 MiB pieces from a source as big
/// as the image into a destination as big as the data area the READs use. MB/s per round.
fn memcpy_rates(src_len: usize, dst_len: usize, rounds: u64, round: Duration) -> Vec<f64> {
    const PIECE: usize = 1 << 20;
    let src: Vec<u8> = (0..src_len).map(|i| (i * 13) as u8).collect();
    let mut dst = vec![0u8; dst_len];
    let (mut s, mut d) = (0usize, 0usize);
    let mut step = |s: &mut usize, d: &mut usize| {
        dst[*d..*d + PIECE].copy_from_slice(&src[*s..*s + PIECE]);
        *s = (*s + PIECE) % src_len;
        *d = (*d + PIECE) % dst_len;
    };
    let warm = Instant::now();
    while warm.elapsed() < round / 2 {
        step(&mut s, &mut d);
    }
    let mut rates = Vec::new();
    for _ in 0..rounds {
        let t0 = Instant::now();
        let mut bytes = 0usize;
        let mut elapsed = Duration::ZERO;
        while elapsed < round {
            for _ in 0..16 {
                step(&mut s, &mut d);
                bytes += PIECE;
            }
            elapsed = t0.elapsed();
        }
        rates.push(bytes as f64 / 1e6 / elapsed.as_secs_f64());
    }
    std::hint::black_box(&dst);
    rates.sort_by(f64::total_cmp);
    rates
}

/// Heap bytes a drive holds: after set-up and after serving `reads` 1 MiB READs. Returns
/// (after set-up, after the reads).
fn drive_heap(image: &Path, reads: u64) -> (u64, u64) {
    let base = LIVE_BYTES.load(Relaxed);
    let mut rig = Rig::new(image, 4 << 20);
    // The fake region is the kernel's memory, not the drive's.
    let region = (4 << 20) + (1 << 20);
    let set_up = LIVE_BYTES.load(Relaxed) - base - region;
    let blocks = 512u64;
    let disc_blocks = rig.device.loaded().image().map_or(0, |i| i.blocks()) as u64;
    for n in 0..reads {
        let lba = (n * blocks) % (disc_blocks - blocks + 1);
        rig.kernel
            .queue_raw(&cdb10(0x28, lba as u32, blocks as u16), 0, 1 << 20, 1 << 20)
            .expect("queue");
        rig.serve();
    }
    assert_eq!(rig.kernel.tally().failed, 0);
    let after = LIVE_BYTES.load(Relaxed) - base - region;
    (set_up, after)
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn main() {
    // `cargo bench` passes `--bench`; any other argument is a filter nobody needs here.
    let rounds = env_num("BENCH_ROUNDS", 7).max(1);
    let round = Duration::from_millis(env_num("BENCH_ROUND_MS", 300).max(10));
    let image_mb = env_num("BENCH_IMAGE_MB", 256).max(8) as usize;
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "ring benchmark: {} ({cpus} CPUs), one thread; {rounds} rounds of {} ms per case, median (best)",
        cpu_model(),
        round.as_millis()
    );

    let mut scratch = Scratch(Vec::new());
    let rom = rom_image(&mut scratch, image_mb);
    let disc_blocks = (image_mb << 20) / BLOCK;

    // 1. No-data commands.
    let mut rig = Rig::new(&rom, 4 << 20);
    let mut tur = Case {
        name: "TEST UNIT READY",
        batch: 64,
        bytes: 0,
        queue: Box::new(|k, _, _| {
            k.queue_raw(&TUR, 0, 0, 1).expect("queue");
        }),
    };
    let m = run_case(&mut rig, &mut tur, rounds, round);
    println!(
        "  {:<34} {:>12.0} cmds/s ({:.0})  allocs/cmd {:.3}  [batch {}]",
        tur.name,
        m.median(),
        m.best(),
        m.allocs_per_cmd,
        tur.batch
    );

    // 2. READs from the page-cached image, sequential through it.
    let read_case = |name: &'static str, len: usize, batch: usize, iov: usize| {
        let blocks = len / BLOCK;
        Case {
            name,
            batch,
            bytes: len,
            queue: Box::new(move |k, i, n| {
                let lba = ((n as usize * blocks) % (disc_blocks - blocks + 1)) as u32;
                k.queue_raw(&cdb10(0x28, lba, blocks as u16), i * len, len, iov)
                    .expect("queue");
            }),
        }
    };
    let mut read_cases = [
        read_case("READ(10) 64 KiB", 64 << 10, 16, usize::MAX),
        read_case("READ(10) 1 MiB", 1 << 20, 4, usize::MAX),
        read_case("READ(10) 1 MiB in 4 KiB iovecs", 1 << 20, 4, 4096),
    ];
    let mut read_1m = 0.0;
    for case in &mut read_cases {
        let mut rig = Rig::new(&rom, case.batch * case.bytes);
        let m = run_case(&mut rig, case, rounds, round);
        let mbps = |r: f64| r * case.bytes as f64 / 1e6;
        println!(
            "  {:<34} {:>12.0} cmds/s  {:>8.0} MB/s ({:.0})  allocs/cmd {:.3}  [batch {}]",
            case.name,
            m.median(),
            mbps(m.median()),
            mbps(m.best()),
            m.allocs_per_cmd,
            case.batch
        );
        if case.name == "READ(10) 1 MiB" {
            read_1m = mbps(m.median());
        }
    }

    // 3. WRITEs to a formatted DVD-RAM (overwritten in place, in the page cache).
    let ram = scratch_path("ram");
    let _ = std::fs::remove_file(&ram);
    let _ = std::fs::remove_file(media::state::state_path(&ram));
    let ram_blocks = 64u32 << 20 >> 11;
    media::create_blank(&ram, MediumKind::DvdRam, Some(ram_blocks)).expect("DVD-RAM image");
    scratch.0.push(ram.clone());
    scratch.0.push(media::state::state_path(&ram));
    {
        let len = 64 << 10;
        let blocks = len / BLOCK;
        let mut case = Case {
            name: "WRITE(10) 64 KiB to a DVD-RAM",
            batch: 16,
            bytes: len,
            queue: Box::new(move |k, i, n| {
                let lba = ((n as usize * blocks) % (ram_blocks as usize - blocks + 1)) as u32;
                k.queue_raw(&cdb10(0x2a, lba, blocks as u16), i * len, len, usize::MAX)
                    .expect("queue");
            }),
        };
        let mut rig = Rig::new(&ram, case.batch * case.bytes);
        let m = run_case(&mut rig, &mut case, rounds, round);
        let mbps = |r: f64| r * len as f64 / 1e6;
        println!(
            "  {:<34} {:>12.0} cmds/s  {:>8.0} MB/s ({:.0})  allocs/cmd {:.3}  [batch {}]",
            case.name,
            m.median(),
            mbps(m.median()),
            mbps(m.best()),
            m.allocs_per_cmd,
            case.batch
        );
    }

    // 4. memcpy with the 1 MiB READ pattern, in the same run.
    let mc = memcpy_rates(image_mb << 20, 4 << 20, rounds, round);
    let memcpy = mc[mc.len() / 2];
    println!(
        "  {:<34} {:>12} {:>15.0} MB/s ({:.0})  [1 MiB pieces, {image_mb} MiB → 4 MiB]",
        "memcpy",
        "",
        memcpy,
        mc.last().unwrap()
    );
    println!(
        "  1 MiB READ / memcpy: {:.2} (target ≥ 0.50); TEST UNIT READY: target ≥ 1,000,000 cmds/s",
        read_1m / memcpy
    );

    // 5. A drive's heap does not grow with the disc's size or the data moved.
    let small = rom_image_sized(&mut scratch, "small", 16 << 20);
    let big = sparse_image(&mut scratch, "big", 4 << 30);
    let (s0, s1) = drive_heap(&small, 64);
    let (b0, b1) = drive_heap(&big, 1024);
    println!(
        "  drive heap: 16 MiB disc {s0} B after set-up, {s1} B after 64 MiB read; \
         4 GiB disc {b0} B after set-up, {b1} B after 1 GiB read"
    );
}

/// An image of `len` bytes of data, page-cached.
fn rom_image_sized(scratch: &mut Scratch, tag: &str, len: usize) -> PathBuf {
    let path = scratch_path(tag);
    std::fs::write(&path, vec![0x5au8; len]).expect("write image");
    scratch.0.push(path.clone());
    path
}

/// A sparse image of `len` bytes (reads of holes return zeros without disk I/O).
fn sparse_image(scratch: &mut Scratch, tag: &str, len: u64) -> PathBuf {
    let path = scratch_path(tag);
    let f = std::fs::File::create(&path).expect("create image");
    f.set_len(len).expect("size image");
    scratch.0.push(path.clone());
    path
}
