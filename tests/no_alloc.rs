//! Serving TEST UNIT READY, READ and WRITE allocates nothing once a drive is warm: the fake
//! kernel feeds the real dispatch path (ring → drive model → image → ring) and a counting global
//! allocator counts what this thread allocates while it serves.
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::path::PathBuf;

use tcmu_mmc::device::Device;
use tcmu_mmc::media::{self, MediaConfig};
use tcmu_mmc::mmc::MediumKind;
use tcmu_mmc::ring::fake::{FakeKernel, FakeMemory, Geometry};
use tcmu_mmc::ring::Ring;
use tcmu_mmc::scsi::spc::Identity;

struct Counting;

thread_local! {
    /// Allocations made by this thread while `COUNTING` is set.
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

fn note_alloc() {
    // `try_with`: thread-local storage may already be gone while a thread exits.
    let _ = COUNTING.try_with(|on| {
        if on.get() {
            let _ = ALLOCS.try_with(|n| n.set(n.get() + 1));
        }
    });
}

// SAFETY: every call is forwarded unchanged to the system allocator; the thread-local counters
// are const-initialized and need no allocation themselves.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_alloc();
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note_alloc();
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from this allocator with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note_alloc();
        // SAFETY: `ptr` came from this allocator with `layout`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations `f` makes on this thread.
fn allocations(f: impl FnOnce()) -> u64 {
    ALLOCS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCS.with(|n| n.get())
}

struct Scratch(Vec<PathBuf>);

impl Drop for Scratch {
    fn drop(&mut self) {
        for p in &self.0 {
            let _ = std::fs::remove_file(p);
        }
    }
}

fn path(tag: &str) -> PathBuf {
    std::env::temp_dir().join(format!("tcmu-mmc-noalloc-{tag}-{}.iso", std::process::id()))
}

struct Rig {
    kernel: FakeKernel,
    ring: Ring<FakeMemory>,
    device: Device,
}

impl Rig {
    fn new(image: &std::path::Path) -> Self {
        let kernel = FakeKernel::new(Geometry {
            cmdr_size: (256 << 10) - 128,
            data_size: 4 << 20,
            block_size: 4096,
        });
        let ring = Ring::new(kernel.memory()).unwrap();
        let loaded = media::load(&MediaConfig::parse(&format!("mmc/{}", image.display())).unwrap());
        assert!(loaded.disc().is_some());
        let id = Identity::new("TCMU-MMC", "Virtual DVD-RW", "0001", "NOALLOC");
        Rig {
            kernel,
            ring,
            device: Device::new(id, loaded),
        }
    }

    fn serve(&mut self) {
        if self.device.serve(&mut self.ring).unwrap() {
            self.kernel.kick();
        }
    }
}

fn cdb10(op: u8, lba: u32, blocks: u16) -> [u8; 10] {
    let l = lba.to_be_bytes();
    let b = blocks.to_be_bytes();
    [op, 0, l[0], l[1], l[2], l[3], 0, b[0], b[1], 0]
}

/// Queue `batch` commands made by `cdb(n)` (each with a 64 KiB buffer in 16 KiB iovecs) and
/// serve them, `rounds` times.
fn run(rig: &mut Rig, rounds: u32, n: &mut u32, cdb: &dyn Fn(u32) -> [u8; 10], len: usize) {
    for _ in 0..rounds {
        for i in 0..8 {
            let iov = if len == 0 { 1 } else { 16 << 10 };
            rig.kernel
                .queue_raw(&cdb(*n), i * (64 << 10), len, iov)
                .unwrap();
            *n += 1;
        }
        rig.serve();
    }
}

#[test]
fn steady_state_tur_read_and_write_allocate_nothing() {
    assert!(
        allocations(|| drop(std::hint::black_box(vec![0u8; 16]))) > 0,
        "the counter sees allocations"
    );
    let mut scratch = Scratch(Vec::new());

    // A DVD-ROM: TEST UNIT READY and READ(10) of 64 KiB.
    let rom = path("rom");
    scratch.0.push(rom.clone());
    let data: Vec<u8> = (0..8 << 20).map(|i| (i * 31) as u8).collect();
    std::fs::write(&rom, &data).unwrap();
    let mut rig = Rig::new(&rom);
    let mut n = 0;
    let read = |n: u32| cdb10(0x28, (n * 32) % 4064, 32);
    let tur = |_| [0u8; 10];
    run(&mut rig, 4, &mut n, &read, 64 << 10);
    run(&mut rig, 4, &mut n, &tur, 0);
    assert_eq!(
        allocations(|| run(&mut rig, 500, &mut n, &tur, 0)),
        0,
        "TUR"
    );
    assert_eq!(
        allocations(|| run(&mut rig, 200, &mut n, &read, 64 << 10)),
        0,
        "READ"
    );
    assert_eq!(rig.kernel.tally().failed, 0);
    assert_eq!(rig.kernel.in_flight(), 0);

    // A formatted DVD-RAM: WRITE(10) of 64 KiB, in place.
    let ram = path("ram");
    scratch.0.push(ram.clone());
    scratch.0.push(media::state::state_path(&ram));
    let _ = std::fs::remove_file(&ram);
    media::create_blank(&ram, MediumKind::DvdRam, Some(16384)).unwrap();
    let mut rig = Rig::new(&ram);
    let mut n = 0;
    let write = |n: u32| cdb10(0x2a, (n * 32) % 16352, 32);
    run(&mut rig, 4, &mut n, &write, 64 << 10);
    assert_eq!(
        allocations(|| run(&mut rig, 200, &mut n, &write, 64 << 10)),
        0,
        "WRITE DVD-RAM"
    );
    assert_eq!(rig.kernel.tally().failed, 0);

    // A blank DVD+R: sequential WRITE(10) at the next writable address, as growisofs burns.
    let dvdr = path("dvdr");
    scratch.0.push(dvdr.clone());
    scratch.0.push(media::state::state_path(&dvdr));
    let _ = std::fs::remove_file(&dvdr);
    media::create_blank(&dvdr, MediumKind::DvdPlusR, Some(65536)).unwrap();
    let mut rig = Rig::new(&dvdr);
    let mut n = 0;
    let burn = |n: u32| cdb10(0x2a, n * 32, 32);
    run(&mut rig, 4, &mut n, &burn, 64 << 10);
    assert_eq!(
        allocations(|| run(&mut rig, 200, &mut n, &burn, 64 << 10)),
        0,
        "WRITE DVD+R"
    );
    assert_eq!(rig.kernel.tally().failed, 0);
    assert_eq!(rig.kernel.tally().completed, u64::from(n));
}
