//! Attaching to one TCMU device: opening its uio node and mapping the shared region.
use std::fs::{File, OpenOptions};
use std::io;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use memmap2::{MmapOptions, MmapRaw};

use crate::ring::RingMemory;

/// The device's shared region, mapped from its uio node.
pub struct UioMapping {
    map: MmapRaw,
}

// SAFETY: `MmapRaw` keeps the mapping alive for its own lifetime; it is page-aligned and exactly
// the size the kernel published for map0.
unsafe impl RingMemory for UioMapping {
    fn base(&self) -> *mut u8 {
        self.map.as_mut_ptr()
    }
    fn len(&self) -> usize {
        self.map.len()
    }
}

/// Open `/dev/uioN` (exclusive: the kernel allows one opener) and map exactly `size` bytes.
pub fn open_and_map(dev: &Path, size: usize) -> io::Result<(File, UioMapping)> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_CLOEXEC)
        .open(dev)
        .map_err(|e| io::Error::new(e.kind(), format!("open {}: {e}", dev.display())))?;
    let map = MmapOptions::new().len(size).map_raw(&file).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("mmap {} ({size} bytes): {e}", dev.display()),
        )
    })?;
    Ok((file, UioMapping { map }))
}
