//! The kernel's side of a TCMU ring, in ordinary memory, for tests and benchmarks.
//!
//! It lays entries out the way `target_core_user.c` does (`queue_cmd_ring`): each entry is
//! zeroed, sized `max(offsetof(iov[n]), 112) + round_up(cdb_len, 8)`, preceded by a PAD entry
//! when it would not fit before the end of the ring, with the CDB right after the iovecs and
//! data in blocks of the data area. `kick` plays `tcmu_handle_completions`: it walks from the
//! last cleaned entry to `cmd_tail`, matches completions by `cmd_id`, and notices a broken ring.
//!
//! Benchmarks use [`FakeKernel::queue_raw`]: the caller places the data buffer itself and the
//! completion is only counted ([`FakeKernel::tally`]), so the kernel side allocates nothing
//! and copies nothing per command, and what is measured is the handler.
use std::alloc::{alloc_zeroed, dealloc, Layout};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use tcmu_abi::offsets as off;
use tcmu_abi::{
    TCMU_MAILBOX_VERSION, TCMU_OP_CMD, TCMU_OP_MASK, TCMU_OP_PAD, TCMU_OP_TMR,
    TCMU_SENSE_BUFFERSIZE, TCMU_UFLAG_READ_LEN, TCMU_UFLAG_UNKNOWN_OP,
};

use super::RingMemory;

/// A zeroed, page-aligned allocation shared by the fake kernel and the ring under test.
struct Region {
    ptr: *mut u8,
    layout: Layout,
}

// SAFETY: the region is plain memory; all access goes through raw pointers and the users
// (fake kernel and ring) follow the ring protocol, as the real kernel and daemon do.
unsafe impl Send for Region {}
// SAFETY: see above.
unsafe impl Sync for Region {}

impl Drop for Region {
    fn drop(&mut self) {
        // SAFETY: allocated in `FakeKernel::new` with this layout.
        unsafe { dealloc(self.ptr, self.layout) }
    }
}

/// The fake region, handed to [`super::Ring::new`].
#[derive(Clone)]
pub struct FakeMemory(Arc<Region>);

// SAFETY: the region is `layout.size()` bytes, page-aligned, and lives while any clone does.
unsafe impl RingMemory for FakeMemory {
    fn base(&self) -> *mut u8 {
        self.0.ptr
    }
    fn len(&self) -> usize {
        self.0.layout.size()
    }
}

/// Geometry of a fake region.
#[derive(Debug, Clone, Copy)]
pub struct Geometry {
    pub cmdr_size: usize,
    pub data_size: usize,
    pub block_size: usize,
}

impl Default for Geometry {
    fn default() -> Self {
        // Small enough to wrap quickly in tests; the kernel's default ring is 8 MiB - 128.
        Geometry {
            cmdr_size: 64 * 1024 - 128,
            data_size: 4 << 20,
            block_size: 4096,
        }
    }
}

/// A command the kernel has queued and not seen completed.
struct InFlight {
    blocks: Vec<usize>,
    segs: Vec<(usize, usize)>,
    data_in_len: usize,
}

/// A completion as the kernel saw it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub cmd_id: u16,
    pub status: u8,
    /// All 96 sense bytes of the entry.
    pub sense: Vec<u8>,
    pub read_len: Option<u32>,
    pub unknown_op: bool,
    /// Data-In as the initiator would get it: the whole buffer, or `read_len` bytes of it.
    pub data: Vec<u8>,
}

/// Where a queued entry went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Queued {
    pub cmd_id: u16,
    /// Offset of the entry from the start of the mapping.
    pub entry_offset: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FakeError {
    RingFull,
    DataAreaFull,
}

/// Completions of [`FakeKernel::queue_raw`] commands, counted as the kernel cleaned them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub completed: u64,
    /// Completions with a status other than GOOD.
    pub failed: u64,
}

/// A set of command ids, one bit each (allocated once).
struct IdSet(Box<[u64]>);

impl IdSet {
    fn new() -> Self {
        IdSet(vec![0u64; 65536 / 64].into_boxed_slice())
    }
    fn contains(&self, id: u16) -> bool {
        self.0[usize::from(id) / 64] & (1 << (id % 64)) != 0
    }
    fn insert(&mut self, id: u16) {
        self.0[usize::from(id) / 64] |= 1 << (id % 64);
    }
    /// Remove `id`; whether it was there.
    fn remove(&mut self, id: u16) -> bool {
        let had = self.contains(id);
        self.0[usize::from(id) / 64] &= !(1 << (id % 64));
        had
    }
}

/// Options for one queued command.
#[derive(Debug, Clone, Default)]
pub struct QueueOptions<'a> {
    /// Data-Out bytes copied into the data area before queueing.
    pub data_out: &'a [u8],
    /// Size of the Data-In buffer.
    pub data_in_len: usize,
    /// Split the buffer into iovecs of at most this many bytes (a multiple of the block size).
    pub max_iov_len: Option<usize>,
}

pub struct FakeKernel {
    mem: FakeMemory,
    geo: Geometry,
    cmdr_off: usize,
    data_off: usize,
    head: usize,
    last_cleaned: usize,
    free_blocks: Vec<usize>,
    next_id: u16,
    inflight: BTreeMap<u16, InFlight>,
    /// Ids of commands queued with `queue_raw` and not completed.
    raw: IdSet,
    tally: Tally,
    completions: Vec<Completion>,
    /// Set when a completion named an id that was not in flight ("ring is broken").
    pub broken: Option<String>,
}

impl FakeKernel {
    pub fn new(geo: Geometry) -> Self {
        let cmdr_off = off::MB_SIZE;
        let data_off = (cmdr_off + geo.cmdr_size).next_multiple_of(4096);
        let layout = Layout::from_size_align(data_off + geo.data_size, 4096).expect("layout");
        // SAFETY: the layout has a non-zero size.
        let ptr = unsafe { alloc_zeroed(layout) };
        assert!(!ptr.is_null(), "allocation of the fake region failed");
        let mem = FakeMemory(Arc::new(Region { ptr, layout }));
        let blocks = geo.data_size / geo.block_size;
        let k = FakeKernel {
            mem,
            geo,
            cmdr_off,
            data_off,
            head: 0,
            last_cleaned: 0,
            free_blocks: (0..blocks).rev().collect(),
            next_id: 1,
            inflight: BTreeMap::new(),
            raw: IdSet::new(),
            tally: Tally::default(),
            completions: Vec::new(),
            broken: None,
        };
        k.write_u16(off::MB_VERSION, TCMU_MAILBOX_VERSION);
        k.write_u16(off::MB_FLAGS, 0xf);
        k.write_u32(off::MB_CMDR_OFF, cmdr_off as u32);
        k.write_u32(off::MB_CMDR_SIZE, (data_off - cmdr_off) as u32);
        k
    }

    /// The memory to build a [`super::Ring`] over.
    pub fn memory(&self) -> FakeMemory {
        self.mem.clone()
    }

    fn cmdr_size(&self) -> usize {
        self.data_off - self.cmdr_off
    }

    /// Ring bytes free, keeping one byte unused as the kernel does.
    fn ring_free(&self) -> usize {
        let size = self.cmdr_size();
        (self.last_cleaned + size - self.head - 1) % size
    }

    /// Queue a command with no data.
    pub fn queue(&mut self, cdb: &[u8]) -> Result<Queued, FakeError> {
        self.queue_with(cdb, &QueueOptions::default())
    }

    /// Queue a command whose Data-In buffer is `len` bytes.
    pub fn queue_read(&mut self, cdb: &[u8], len: usize) -> Result<Queued, FakeError> {
        self.queue_with(
            cdb,
            &QueueOptions {
                data_in_len: len,
                ..Default::default()
            },
        )
    }

    /// Queue a command carrying `data` as Data-Out.
    pub fn queue_write(&mut self, cdb: &[u8], data: &[u8]) -> Result<Queued, FakeError> {
        self.queue_with(
            cdb,
            &QueueOptions {
                data_out: data,
                ..Default::default()
            },
        )
    }

    pub fn queue_with(&mut self, cdb: &[u8], o: &QueueOptions<'_>) -> Result<Queued, FakeError> {
        let len = o.data_out.len().max(o.data_in_len);
        let nblocks = len.div_ceil(self.geo.block_size);
        if nblocks > self.free_blocks.len() {
            return Err(FakeError::DataAreaFull);
        }
        let blocks: Vec<usize> = (0..nblocks)
            .map(|_| self.free_blocks.pop().unwrap())
            .collect();
        // Consecutive blocks make one iovec, as `new_block_to_iov` does; `max_iov_len` splits.
        let max_iov = o.max_iov_len.unwrap_or(usize::MAX);
        let mut segs: Vec<(usize, usize)> = Vec::new();
        let mut left = len;
        for &b in &blocks {
            let n = left.min(self.geo.block_size);
            left -= n;
            let at = self.data_off + b * self.geo.block_size;
            match segs.last_mut() {
                Some((s, l)) if *s + *l == at && *l + n <= max_iov => *l += n,
                _ => segs.push((at, n)),
            }
        }
        let iov_end = off::REQ_IOV + segs.len() * off::IOV_SIZE;
        let entry_len = iov_end.max(off::CMD_ENTRY_MIN) + cdb.len().next_multiple_of(8);
        let entry_offset = match self.reserve(entry_len) {
            Ok(at) => at,
            Err(e) => {
                self.free_blocks.extend(blocks);
                return Err(e);
            }
        };
        let id = self.alloc_id();
        let abs = self.cmdr_off + entry_offset;
        self.write_u32(abs + off::HDR_LEN_OP, entry_len as u32 | TCMU_OP_CMD);
        self.write_u16(abs + off::HDR_CMD_ID, id);
        self.write_u32(abs + off::REQ_IOV_CNT, segs.len() as u32);
        let cdb_at = abs + iov_end.max(off::CMD_ENTRY_MIN);
        self.write_u64(abs + off::REQ_CDB_OFF, cdb_at as u64);
        for (i, &(s, l)) in segs.iter().enumerate() {
            let iov = abs + off::REQ_IOV + i * off::IOV_SIZE;
            self.write_u64(iov, s as u64);
            self.write_u64(iov + 8, l as u64);
        }
        self.poke(cdb_at, cdb);
        let mut done = 0;
        for &(s, l) in &segs {
            let n = l.min(o.data_out.len().saturating_sub(done));
            self.poke(s, &o.data_out[done..done + n]);
            done += n;
        }
        self.inflight.insert(
            id,
            InFlight {
                blocks,
                segs,
                data_in_len: o.data_in_len,
            },
        );
        self.publish_head();
        Ok(Queued {
            cmd_id: id,
            entry_offset: abs,
        })
    }

    /// Queue a command whose data buffer is `data_len` bytes at `data_at` in the data area,
    /// split into iovecs of at most `max_iov_len` bytes, without allocating anything: for
    /// benchmarks. The caller owns that part of the data area (it must not overlap the blocks of
    /// commands queued otherwise) and fills it for a Data-Out command. The completion is counted
    /// in [`FakeKernel::tally`], not recorded.
    pub fn queue_raw(
        &mut self,
        cdb: &[u8],
        data_at: usize,
        data_len: usize,
        max_iov_len: usize,
    ) -> Result<Queued, FakeError> {
        if data_at
            .checked_add(data_len)
            .is_none_or(|end| end > self.geo.data_size)
        {
            return Err(FakeError::DataAreaFull);
        }
        let max_iov = max_iov_len.max(1);
        let nsegs = data_len.div_ceil(max_iov);
        let iov_end = off::REQ_IOV + nsegs * off::IOV_SIZE;
        let entry_len = iov_end.max(off::CMD_ENTRY_MIN) + cdb.len().next_multiple_of(8);
        let entry_offset = self.reserve(entry_len)?;
        let id = self.alloc_id();
        let abs = self.cmdr_off + entry_offset;
        self.write_u32(abs + off::HDR_LEN_OP, entry_len as u32 | TCMU_OP_CMD);
        self.write_u16(abs + off::HDR_CMD_ID, id);
        self.write_u32(abs + off::REQ_IOV_CNT, nsegs as u32);
        let cdb_at = abs + iov_end.max(off::CMD_ENTRY_MIN);
        self.write_u64(abs + off::REQ_CDB_OFF, cdb_at as u64);
        for i in 0..nsegs {
            let start = i * max_iov;
            let iov = abs + off::REQ_IOV + i * off::IOV_SIZE;
            self.write_u64(iov, (self.data_off + data_at + start) as u64);
            self.write_u64(iov + 8, max_iov.min(data_len - start) as u64);
        }
        self.poke(cdb_at, cdb);
        self.raw.insert(id);
        self.publish_head();
        Ok(Queued {
            cmd_id: id,
            entry_offset: abs,
        })
    }

    /// How many `queue_raw` commands completed so far, and how many of them failed.
    pub fn tally(&self) -> Tally {
        self.tally
    }

    /// Offset of the data area from the start of the mapping.
    pub fn data_area_offset(&self) -> usize {
        self.data_off
    }

    /// Queue a task management entry naming `ids`.
    pub fn queue_tmr(&mut self, tmr_type: u8, ids: &[u16]) -> Result<usize, FakeError> {
        let len = (off::TMR_CMD_IDS + ids.len() * 2).next_multiple_of(8);
        let at = self.reserve(len)?;
        let abs = self.cmdr_off + at;
        self.write_u32(abs + off::HDR_LEN_OP, len as u32 | TCMU_OP_TMR);
        self.poke(abs + off::TMR_TYPE, &[tmr_type]);
        self.write_u32(abs + off::TMR_CMD_CNT, ids.len() as u32);
        for (i, id) in ids.iter().enumerate() {
            self.write_u16(abs + off::TMR_CMD_IDS + 2 * i, *id);
        }
        self.publish_head();
        Ok(abs)
    }

    /// Pad the ring from `head` to its end, so the next entry lands at offset 0.
    pub fn pad_to_end(&mut self) -> Result<(), FakeError> {
        let pad = self.cmdr_size() - self.head;
        if pad > self.ring_free() {
            return Err(FakeError::RingFull);
        }
        self.write_pad(pad);
        self.publish_head();
        Ok(())
    }

    /// Bytes between the head and the end of the ring.
    pub fn room_before_wrap(&self) -> usize {
        self.cmdr_size() - self.head
    }

    /// Make room for an entry of `len` bytes (padding to the ring's end first if it would not
    /// fit there) and return its ring offset. The entry is zeroed.
    fn reserve(&mut self, len: usize) -> Result<usize, FakeError> {
        let pad = if self.head + len > self.cmdr_size() {
            self.cmdr_size() - self.head
        } else {
            0
        };
        if pad + len > self.ring_free() {
            return Err(FakeError::RingFull);
        }
        if pad > 0 {
            self.write_pad(pad);
        }
        let at = self.head;
        self.fill(self.cmdr_off + at, len, 0);
        self.head = (self.head + len) % self.cmdr_size();
        Ok(at)
    }

    fn write_pad(&mut self, pad: usize) {
        let abs = self.cmdr_off + self.head;
        self.fill(abs, pad.min(off::HDR_SIZE), 0);
        self.write_u32(abs + off::HDR_LEN_OP, pad as u32 | TCMU_OP_PAD);
        self.head = (self.head + pad) % self.cmdr_size();
    }

    fn alloc_id(&mut self) -> u16 {
        loop {
            let id = self.next_id;
            self.next_id = if id == u16::MAX { 1 } else { id + 1 };
            if !self.inflight.contains_key(&id) && !self.raw.contains(id) {
                return id;
            }
        }
    }

    fn publish_head(&self) {
        self.atomic(off::MB_CMD_HEAD)
            .store(self.head as u32, Ordering::Release);
    }

    /// Process completions up to `cmd_tail`, as the kernel does when the uio fd is written.
    pub fn kick(&mut self) {
        let tail = self.atomic(off::MB_CMD_TAIL).load(Ordering::Acquire) as usize;
        while self.last_cleaned != tail {
            let abs = self.cmdr_off + self.last_cleaned;
            let len_op = self.read_u32(abs + off::HDR_LEN_OP);
            let len = (len_op & !TCMU_OP_MASK) as usize;
            if len == 0 {
                self.broken = Some(format!("zero-length entry at {}", self.last_cleaned));
                return;
            }
            if len_op & TCMU_OP_MASK == TCMU_OP_CMD {
                let id = self.read_u16(abs + off::HDR_CMD_ID);
                if self.raw.remove(id) {
                    self.tally.completed += 1;
                    if self.read_u8(abs + off::RSP_SCSI_STATUS) != 0 {
                        self.tally.failed += 1;
                    }
                    self.last_cleaned = (self.last_cleaned + len) % self.cmdr_size();
                    continue;
                }
                let Some(f) = self.inflight.remove(&id) else {
                    self.broken = Some(format!("cmd_id {id} not found, ring is broken"));
                    return;
                };
                let uflags = self.peek(abs + off::HDR_UFLAGS, 1)[0];
                let status = self.peek(abs + off::RSP_SCSI_STATUS, 1)[0];
                let raw_len = self.read_u32(abs + off::RSP_READ_LEN);
                let read_len = (uflags & TCMU_UFLAG_READ_LEN != 0).then_some(raw_len);
                let sense = self.peek(abs + off::RSP_SENSE, TCMU_SENSE_BUFFERSIZE);
                let mut data: Vec<u8> = Vec::new();
                for &(s, l) in &f.segs {
                    data.extend_from_slice(&self.peek(s, l));
                }
                data.truncate(f.data_in_len);
                if let Some(n) = read_len.filter(|&n| n != 0) {
                    data.truncate(n as usize);
                }
                if status != 0 && read_len.is_none() {
                    data.clear();
                }
                self.completions.push(Completion {
                    cmd_id: id,
                    status,
                    sense,
                    read_len,
                    unknown_op: uflags & TCMU_UFLAG_UNKNOWN_OP != 0,
                    data,
                });
                self.free_blocks.extend(f.blocks);
            }
            self.last_cleaned = (self.last_cleaned + len) % self.cmdr_size();
        }
    }

    /// Completions seen so far, oldest first (and forget them).
    pub fn take_completions(&mut self) -> Vec<Completion> {
        std::mem::take(&mut self.completions)
    }

    /// Commands queued and not completed.
    pub fn in_flight(&self) -> usize {
        self.inflight.len()
            + self
                .raw
                .0
                .iter()
                .map(|w| w.count_ones() as usize)
                .sum::<usize>()
    }

    /// Current producer index.
    pub fn head(&self) -> usize {
        self.head
    }

    /// Write raw bytes anywhere in the region (to corrupt entries in tests).
    pub fn poke(&self, at: usize, bytes: &[u8]) {
        assert!(at + bytes.len() <= self.mem.len());
        // SAFETY: bounds checked above.
        unsafe {
            std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.mem.base().add(at), bytes.len())
        }
    }

    /// Read raw bytes from the region.
    pub fn peek(&self, at: usize, len: usize) -> Vec<u8> {
        assert!(at + len <= self.mem.len());
        let mut v = vec![0u8; len];
        // SAFETY: bounds checked above.
        unsafe { std::ptr::copy_nonoverlapping(self.mem.base().add(at), v.as_mut_ptr(), len) }
        v
    }

    fn fill(&self, at: usize, len: usize, byte: u8) {
        assert!(at + len <= self.mem.len());
        // SAFETY: bounds checked above.
        unsafe { std::ptr::write_bytes(self.mem.base().add(at), byte, len) }
    }

    fn atomic(&self, at: usize) -> &AtomicU32 {
        // SAFETY: mailbox offsets 12 and 64 are 4-aligned inside the page-aligned region.
        unsafe { &*(self.mem.base().add(at) as *const AtomicU32) }
    }

    pub fn write_u16(&self, at: usize, v: u16) {
        self.poke(at, &v.to_ne_bytes());
    }
    pub fn write_u32(&self, at: usize, v: u32) {
        self.poke(at, &v.to_ne_bytes());
    }
    pub fn write_u64(&self, at: usize, v: u64) {
        self.poke(at, &v.to_ne_bytes());
    }
    /// Copy `N` bytes out of the region (no allocation).
    fn read_array<const N: usize>(&self, at: usize) -> [u8; N] {
        assert!(at + N <= self.mem.len());
        let mut v = [0u8; N];
        // SAFETY: bounds checked above.
        unsafe { std::ptr::copy_nonoverlapping(self.mem.base().add(at), v.as_mut_ptr(), N) }
        v
    }
    fn read_u8(&self, at: usize) -> u8 {
        self.read_array::<1>(at)[0]
    }
    fn read_u16(&self, at: usize) -> u16 {
        u16::from_ne_bytes(self.read_array(at))
    }
    fn read_u32(&self, at: usize) -> u32 {
        u32::from_ne_bytes(self.read_array(at))
    }
}
