//! Which image file a recording state belongs to. tgt's users make a new blank with
//! `rm disc.iso; touch disc.iso`: the state beside the old file must not apply to the new one.
//!
//! A state file records the identity of its image when it is written: a random disc id that
//! is also stored in an extended attribute of the image (`trusted.tcmu-mmc.disc`, or
//! `user.` where trusted attributes cannot be set), the inode number, the birth time where the
//! filesystem has one, and the image's size. At load:
//! - both carry a disc id: they belong together exactly when the ids are equal (this follows
//!   the file through `mv`, and through `cp -a` with its state);
//! - the state has an id and the filesystem keeps attributes but the image has none: a new
//!   file (`rm` + `touch`);
//! - otherwise (no attributes here, e.g. NFS before 4.2): the inode and the birth time must
//!   match. ext4 reuses an inode number at once, which the birth time tells apart;
//! - and in every case, an image that is empty while its state was written for a non-empty
//!   one was truncated (`: > disc.iso`): the state no longer applies.
use std::ffi::CString;
use std::fs::Metadata;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::UNIX_EPOCH;

use serde::{Deserialize, Serialize};

/// The attribute names tried, in order.
const ATTRIBUTES: [&str; 2] = ["trusted.tcmu-mmc.disc", "user.tcmu-mmc.disc"];

/// What a state file says about the image it was written for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImageIdentity {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disc_id: Option<String>,
    pub inode: u64,
    /// Birth time in nanoseconds since the epoch, where the filesystem records one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub born_ns: Option<u64>,
    pub size: u64,
}

/// The disc id attribute of an image, as far as the filesystem lets us know.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiscIdAttribute {
    Present(String),
    /// The filesystem keeps attributes, and this file has none: it was never recorded here.
    Absent,
    /// The filesystem keeps no attributes (or not for us).
    Unsupported,
}

fn c_path(path: &Path) -> Option<CString> {
    CString::new(path.as_os_str().as_bytes()).ok()
}

/// Read the disc id attribute of `path`.
pub fn read_disc_id(path: &Path) -> DiscIdAttribute {
    let Some(cpath) = c_path(path) else {
        return DiscIdAttribute::Unsupported;
    };
    let mut absent = false;
    for name in ATTRIBUTES {
        let cname = CString::new(name).expect("no NUL in the name");
        let mut buf = [0u8; 64];
        // SAFETY: both strings are NUL-terminated and `buf` is valid for `buf.len()` bytes.
        let n = unsafe {
            libc::getxattr(
                cpath.as_ptr(),
                cname.as_ptr(),
                buf.as_mut_ptr().cast(),
                buf.len(),
            )
        };
        if n >= 0 {
            let id = String::from_utf8_lossy(&buf[..n as usize]).into_owned();
            return DiscIdAttribute::Present(id);
        }
        if std::io::Error::last_os_error().raw_os_error() == Some(libc::ENODATA) {
            absent = true;
        }
    }
    if absent {
        DiscIdAttribute::Absent
    } else {
        DiscIdAttribute::Unsupported
    }
}

/// Store `id` as the disc id attribute of `path`; false where the filesystem will not.
pub fn write_disc_id(path: &Path, id: &str) -> bool {
    let Some(cpath) = c_path(path) else {
        return false;
    };
    ATTRIBUTES.iter().any(|name| {
        let cname = CString::new(*name).expect("no NUL in the name");
        // SAFETY: both strings are NUL-terminated and `id` is valid for `id.len()` bytes.
        unsafe {
            libc::setxattr(
                cpath.as_ptr(),
                cname.as_ptr(),
                id.as_ptr().cast(),
                id.len(),
                0,
            ) == 0
        }
    })
}

/// A fresh random disc id (32 hex digits).
pub fn new_disc_id() -> String {
    let mut b = [0u8; 16];
    // SAFETY: `b` is valid for 16 bytes; getrandom fills at most that many.
    let n = unsafe { libc::getrandom(b.as_mut_ptr().cast(), b.len(), 0) };
    if n != b.len() as isize {
        // No entropy source: the time and pid still tell two discs apart.
        let t = std::time::SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        b = (t ^ (u128::from(std::process::id()) << 96)).to_be_bytes();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn born_ns(meta: &Metadata) -> Option<u64> {
    let t = meta.created().ok()?;
    u64::try_from(t.duration_since(UNIX_EPOCH).ok()?.as_nanos()).ok()
}

/// The identity of the image at `path` now, with `disc_id` as its attribute holds it.
pub fn of(meta: &Metadata, disc_id: Option<String>) -> ImageIdentity {
    ImageIdentity {
        disc_id,
        inode: meta.ino(),
        born_ns: born_ns(meta),
        size: meta.len(),
    }
}

/// Whether a state written for `recorded` applies to the image whose metadata is `meta` and
/// whose attribute is `attribute`; `Err` says why not.
pub fn check(
    recorded: &ImageIdentity,
    meta: &Metadata,
    attribute: &DiscIdAttribute,
) -> Result<(), String> {
    if recorded.size > 0 && meta.len() == 0 {
        return Err(format!(
            "the image is empty, the state was written for {} bytes",
            recorded.size
        ));
    }
    match (&recorded.disc_id, attribute) {
        (Some(want), DiscIdAttribute::Present(got)) if want == got => return Ok(()),
        (Some(want), DiscIdAttribute::Present(got)) => {
            return Err(format!(
                "the image is disc {got}, the state is for disc {want}"
            ))
        }
        (Some(want), DiscIdAttribute::Absent) => {
            return Err(format!(
                "the image carries no disc id (a new file), the state is for disc {want}"
            ))
        }
        _ => {}
    }
    if recorded.inode != meta.ino() {
        return Err(format!(
            "the image is inode {}, the state was written for inode {}",
            meta.ino(),
            recorded.inode
        ));
    }
    match (recorded.born_ns, born_ns(meta)) {
        (Some(a), Some(b)) if a != b => Err(format!(
            "the image was created at {b} ns, the state's at {a} ns (a new file)"
        )),
        _ => Ok(()),
    }
}
