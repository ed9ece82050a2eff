//! Building Data-In replies in a reusable buffer: big-endian pushes and length patching.

/// Extension methods for the reply buffer (a `Vec<u8>` reused across commands, so building a
/// reply does not allocate once the buffer has grown to its working size).
pub trait ReplyBuf {
    fn put_u8(&mut self, v: u8);
    fn put_u16(&mut self, v: u16);
    fn put_u24(&mut self, v: u32);
    fn put_u32(&mut self, v: u32);
    fn put_zeros(&mut self, n: usize);
    /// Store `v` big-endian at `at` (which must already exist).
    fn set_u16(&mut self, at: usize, v: u16);
    fn set_u32(&mut self, at: usize, v: u32);
    /// Cut the reply to the initiator's allocation length.
    fn limit(&mut self, alloc: usize);
}

impl ReplyBuf for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u24(&mut self, v: u32) {
        self.extend_from_slice(&v.to_be_bytes()[1..]);
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_zeros(&mut self, n: usize) {
        self.resize(self.len() + n, 0);
    }
    fn set_u16(&mut self, at: usize, v: u16) {
        self[at..at + 2].copy_from_slice(&v.to_be_bytes());
    }
    fn set_u32(&mut self, at: usize, v: u32) {
        self[at..at + 4].copy_from_slice(&v.to_be_bytes());
    }
    fn limit(&mut self, alloc: usize) {
        self.truncate(alloc);
    }
}

/// Pad `s` with spaces (or cut it) to exactly `N` bytes, as INQUIRY's ASCII fields want.
pub fn ascii_field<const N: usize>(s: &str) -> [u8; N] {
    let mut f = [b' '; N];
    for (d, c) in f.iter_mut().zip(s.bytes()) {
        *d = if c.is_ascii_graphic() || c == b' ' {
            c
        } else {
            b'_'
        };
    }
    f
}
