//! A command's data buffer: a list of segments of the shared data area, addressed as one
//! contiguous byte range.
use std::marker::PhantomData;

use super::DataSeg;

/// The Data-In or Data-Out buffer of one command. Borrowed from the ring, so it cannot outlive
/// the mapping; the kernel does not touch these pages while the command is ours.
pub struct DataBuffer<'a> {
    base: *mut u8,
    segs: &'a [DataSeg],
    len: usize,
    _ring: PhantomData<&'a mut [u8]>,
}

impl<'a> DataBuffer<'a> {
    /// # Safety
    /// Every segment must lie inside the mapping that starts at `base` and that mapping must
    /// outlive `'a`.
    pub(crate) unsafe fn new(base: *mut u8, segs: &'a [DataSeg]) -> Self {
        let len = segs.iter().map(|s| s.len).sum();
        DataBuffer {
            base,
            segs,
            len,
            _ring: PhantomData,
        }
    }

    /// Total bytes in the buffer (the fabric's transfer length).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Visit the pieces of `start..start + len` (clamped to the buffer) as raw (pointer, length)
    /// pairs, in order.
    pub fn for_each_chunk(&self, start: usize, len: usize, mut f: impl FnMut(*mut u8, usize)) {
        let end = start.saturating_add(len).min(self.len);
        let mut pos = 0;
        for seg in self.segs {
            let (seg_start, seg_end) = (pos, pos + seg.len);
            pos = seg_end;
            if seg_end <= start {
                continue;
            }
            if seg_start >= end {
                break;
            }
            let from = start.max(seg_start) - seg_start;
            let to = end.min(seg_end) - seg_start;
            // SAFETY: `from..to` lies inside this segment, which lies inside the mapping.
            f(unsafe { self.base.add(seg.offset + from) }, to - from);
        }
    }

    /// Copy `src` into the buffer at `at`; returns the bytes copied (less at the buffer's end).
    pub fn write_at(&mut self, at: usize, src: &[u8]) -> usize {
        let mut done = 0;
        self.for_each_chunk(at, src.len(), |p, n| {
            // SAFETY: `p..p+n` is inside a segment we own; `src[done..done+n]` is in bounds
            // because the chunks of `at..at+src.len()` add up to at most `src.len()`.
            unsafe { std::ptr::copy_nonoverlapping(src.as_ptr().add(done), p, n) };
            done += n;
        });
        done
    }

    /// Copy from the buffer at `at` into `dst`; returns the bytes copied.
    pub fn read_at(&self, at: usize, dst: &mut [u8]) -> usize {
        let mut done = 0;
        self.for_each_chunk(at, dst.len(), |p, n| {
            // SAFETY: as in `write_at`, in the other direction.
            unsafe { std::ptr::copy_nonoverlapping(p, dst.as_mut_ptr().add(done), n) };
            done += n;
        });
        done
    }

    /// Zero `len` bytes from `at` (clamped to the buffer).
    pub fn zero(&mut self, at: usize, len: usize) {
        self.for_each_chunk(at, len, |p, n| {
            // SAFETY: `p..p+n` is inside a segment we own.
            unsafe { std::ptr::write_bytes(p, 0, n) };
        });
    }

    /// Append the pieces of `start..start + len` to `iov` for `preadv`/`pwritev`.
    pub fn io_vectors(&self, start: usize, len: usize, iov: &mut Vec<libc::iovec>) {
        self.for_each_chunk(start, len, |p, n| {
            iov.push(libc::iovec {
                iov_base: p.cast(),
                iov_len: n,
            });
        });
    }
}
