//! Attaching to one TCMU device: the configfs actions around it, and the uio mapping.
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

/// Write one of the device's `action/` files (`block_dev`, `reset_ring`). Failures are logged
/// and ignored: kernels without the action directory, or a device being removed, still work.
pub fn action(configfs_dir: &Path, name: &str, value: &str) {
    let path = configfs_dir.join("action").join(name);
    if let Err(e) = std::fs::write(&path, value) {
        log::debug!("{}={value}: {e}", path.display());
    }
}

/// Read the device's `attrib/dev_config`, the authoritative configuration (the uio name may be
/// cut short).
pub fn read_dev_config(configfs_dir: &Path) -> Option<String> {
    std::fs::read_to_string(configfs_dir.join("attrib/dev_config"))
        .ok()
        .map(|s| s.trim_end_matches('\n').to_owned())
}

/// Whether the kernel waits for a netlink reply to this device's events: its
/// `attrib/nl_reply_supported` is above 0 (set from the kernel's global reply mode when the
/// device was made, unless its `control` said otherwise).
pub fn waits_for_netlink_replies(configfs_dir: &Path) -> bool {
    std::fs::read_to_string(configfs_dir.join("attrib/nl_reply_supported"))
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .is_some_and(|v| v > 0)
}
