//! What the fake-kernel tests share: temporary images, and a drive on a ring served by the
//! fake kernel.
#![allow(dead_code)] // each test file uses its own part

use std::io::Write;
use std::path::PathBuf;

use tcmu_mmc::device::Device;
use tcmu_mmc::media::{self, MediaConfig};
use tcmu_mmc::ring::fake::{Completion, FakeKernel, Geometry};
use tcmu_mmc::ring::Ring;
use tcmu_mmc::scsi::spc::Identity;

pub struct TempImage(pub PathBuf);

impl Drop for TempImage {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// An image whose every byte is a function of its offset, `len` bytes long.
pub fn image(tag: &str, len: usize) -> (TempImage, Vec<u8>) {
    let path = std::env::temp_dir().join(format!("tcmu-mmc-{tag}-{}.iso", std::process::id()));
    let data: Vec<u8> = (0..len)
        .map(|i| ((i / 2048) as u8) ^ (i as u8).wrapping_mul(31))
        .collect();
    std::fs::File::create(&path)
        .unwrap()
        .write_all(&data)
        .unwrap();
    (TempImage(path), data)
}

/// An empty image (a blank disc) and its state file beside it, both removed on drop: the
/// image, the state file's guard (its path in `.0`).
pub fn blank_image(tag: &str) -> (TempImage, TempImage) {
    let (img, _) = image(tag, 0);
    let state = img.0.with_file_name(format!(
        "{}.tcmu-mmc.json",
        img.0.file_name().unwrap().to_str().unwrap()
    ));
    (img, TempImage(state))
}

pub struct Rig {
    pub kernel: FakeKernel,
    pub ring: Ring<tcmu_mmc::ring::fake::FakeMemory>,
    pub device: Device,
}

impl Rig {
    pub fn new(config: &str) -> Self {
        Rig::with(media::load(&MediaConfig::parse(config).unwrap()))
    }

    /// A drive holding what `loaded` put in it.
    pub fn with(loaded: media::Loaded) -> Self {
        let kernel = FakeKernel::new(Geometry::default());
        let ring = Ring::new(kernel.memory()).unwrap();
        let id = Identity::new("TCMU-MMC", "Virtual DVD-RW", "0001", "MMCTEST");
        Rig {
            kernel,
            ring,
            device: Device::new(id, loaded),
        }
    }

    /// Serve whatever is queued and return the completions.
    pub fn serve(&mut self) -> Vec<Completion> {
        let kick = self.device.serve(&mut self.ring).unwrap();
        if kick {
            self.kernel.kick();
        }
        assert!(self.kernel.broken.is_none(), "{:?}", self.kernel.broken);
        self.kernel.take_completions()
    }

    pub fn one(&mut self, cdb: &[u8], data_in: usize) -> Completion {
        self.kernel.queue_read(cdb, data_in).unwrap();
        let mut c = self.serve();
        assert_eq!(c.len(), 1);
        c.pop().unwrap()
    }
}

pub fn sense_triple(c: &Completion) -> (u8, u8, u8) {
    assert_eq!(c.status, 2, "CHECK CONDITION expected");
    (c.sense[2] & 0xf, c.sense[12], c.sense[13])
}

pub fn read10(lba: u32, blocks: u16) -> [u8; 10] {
    let l = lba.to_be_bytes();
    let b = blocks.to_be_bytes();
    [0x28, 0, l[0], l[1], l[2], l[3], 0, b[0], b[1], 0]
}

pub fn write10(lba: u32, blocks: u16) -> [u8; 10] {
    let mut c = read10(lba, blocks);
    c[0] = 0x2a;
    c
}

pub fn burn(rig: &mut Rig, lba: u32, data: &[u8]) -> Completion {
    let blocks = (data.len() / 2048) as u16;
    rig.kernel.queue_write(&write10(lba, blocks), data).unwrap();
    let mut c = rig.serve();
    c.pop().unwrap()
}
