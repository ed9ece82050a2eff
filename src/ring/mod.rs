//! A safe view of one TCMU device's shared region: `[mailbox][command ring][data area]`.
//!
//! The kernel produces entries at `cmd_head` (we load it with Acquire); we fetch them at a
//! private cursor, copy the CDB and iovec list out, and complete commands by writing responses
//! at `cmd_tail` ("stealing" the oldest entry, so completions need not follow fetch order) and
//! storing `cmd_tail` with Release. The owner then writes 4 bytes to the uio fd to kick the
//! kernel. Every offset read from shared memory is bounds-checked before use: the kernel is
//! trusted to follow the protocol, but a bug there must not make us touch memory outside the
//! mapping.
pub mod buffer;
#[cfg(any(test, feature = "testing"))]
pub mod fake;

use std::sync::atomic::{AtomicU32, Ordering};

use tcmu_abi::offsets as off;
use tcmu_abi::{
    TCMU_MAILBOX_VERSION, TCMU_OP_CMD, TCMU_OP_MASK, TCMU_OP_PAD, TCMU_OP_TMR,
    TCMU_SENSE_BUFFERSIZE, TCMU_UFLAG_READ_LEN, TCMU_UFLAG_UNKNOWN_OP,
};

pub use buffer::DataBuffer;

use crate::scsi::cdb::{command_size, MAX_CDB_LEN};

/// Memory that holds a TCMU region.
///
/// # Safety
/// `base()` must point to `len()` bytes that stay mapped, readable and writable for as long as
/// the value lives, aligned to at least 8 bytes. The memory is shared with another party (the
/// kernel), so it is only ever accessed through raw pointers.
pub unsafe trait RingMemory {
    fn base(&self) -> *mut u8;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Why a region or an entry cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RingError {
    /// The mailbox is not version 2, or its ring lies outside the mapping.
    BadMailbox(String),
    /// An entry header the ring cannot be walked past (zero length, runs off the ring, a CMD
    /// entry shorter than the minimum). The ring is unusable until the kernel resets it.
    Broken(String),
}

impl std::fmt::Display for RingError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RingError::BadMailbox(s) => write!(f, "bad mailbox: {s}"),
            RingError::Broken(s) => write!(f, "ring broken: {s}"),
        }
    }
}

impl std::error::Error for RingError {}

/// One stretch of a command's data buffer: an offset into the mapping and a length, both
/// already checked to lie in the data area.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DataSeg {
    pub offset: usize,
    pub len: usize,
}

/// A command copied out of the ring. The caller keeps one and passes it to [`Ring::fetch`]
/// again and again, so fetching allocates nothing once its iovec list has grown.
#[derive(Debug, Clone)]
pub struct Command {
    pub cmd_id: u16,
    cdb: [u8; MAX_CDB_LEN],
    cdb_len: usize,
    /// Data-Out (or Data-In) segments, then any bidirectional ones.
    segs: Vec<DataSeg>,
    iov_cnt: usize,
    /// Set when the entry could be walked past but its contents were unusable (CDB or iovec
    /// outside the region); such a command must be failed without touching its buffers.
    pub malformed: Option<&'static str>,
}

impl Default for Command {
    fn default() -> Self {
        Command {
            cmd_id: 0,
            cdb: [0; MAX_CDB_LEN],
            cdb_len: 0,
            segs: Vec::new(),
            iov_cnt: 0,
            malformed: None,
        }
    }
}

impl Command {
    pub fn cdb(&self) -> &[u8] {
        &self.cdb[..self.cdb_len]
    }
    /// The segments of the command's (single-direction) data buffer.
    pub fn data_segs(&self) -> &[DataSeg] {
        &self.segs[..self.iov_cnt]
    }
    pub fn data_len(&self) -> usize {
        self.data_segs().iter().map(|s| s.len).sum()
    }
}

/// What [`Ring::fetch`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fetched {
    /// A command, copied into the caller's [`Command`]; it must be completed exactly once.
    Command,
    /// A task management notification (only sent with `tmr_notification=1`). Commands it names
    /// still get their normal completion, which is all the kernel waits for.
    TaskManagement { tmr_type: u8, cmd_count: u32 },
}

/// How a command ends.
#[derive(Debug, Clone, Copy)]
pub struct Response<'a> {
    pub status: u8,
    /// Sense bytes (at most 96), for CHECK CONDITION.
    pub sense: &'a [u8],
    /// Bytes of Data-In actually produced, when fewer than the buffer holds.
    pub read_len: Option<u32>,
    /// Mark the entry as one we could not parse (the kernel turns this into NOT READY 08/00).
    pub unknown_op: bool,
}

impl Response<'_> {
    pub const GOOD: Response<'static> = Response {
        status: 0,
        sense: &[],
        read_len: None,
        unknown_op: false,
    };
}

/// The safe view of one mapped region.
pub struct Ring<M: RingMemory> {
    mem: M,
    cmdr_off: usize,
    cmdr_size: usize,
    data_off: usize,
    /// Next entry to fetch, relative to the ring start.
    cursor: usize,
    /// Our copy of `cmd_tail`: the oldest entry not yet completed.
    tail: usize,
    /// Commands fetched and not yet completed.
    outstanding: usize,
    tail_dirty: bool,
    broken: Option<String>,
}

impl<M: RingMemory> Ring<M> {
    /// Check the mailbox and take over the ring at its current `cmd_tail` (0 after a reset).
    pub fn new(mem: M) -> Result<Self, RingError> {
        let len = mem.len();
        if len < off::MB_SIZE || mem.base() as usize % 8 != 0 {
            return Err(RingError::BadMailbox(format!(
                "mapping of {len} bytes is too small"
            )));
        }
        let mut ring = Ring {
            mem,
            cmdr_off: 0,
            cmdr_size: 0,
            data_off: 0,
            cursor: 0,
            tail: 0,
            outstanding: 0,
            tail_dirty: false,
            broken: None,
        };
        let version = ring.read_u16(off::MB_VERSION);
        if version != TCMU_MAILBOX_VERSION {
            return Err(RingError::BadMailbox(format!(
                "mailbox version {version}, want 2"
            )));
        }
        let cmdr_off = ring.read_u32(off::MB_CMDR_OFF) as usize;
        let cmdr_size = ring.read_u32(off::MB_CMDR_SIZE) as usize;
        let end = cmdr_off.checked_add(cmdr_size).filter(|&e| e <= len);
        if cmdr_off < off::MB_SIZE
            || cmdr_off % 8 != 0
            || cmdr_size % 8 != 0
            || cmdr_size < off::CMD_ENTRY_MIN * 2
            || end.is_none()
        {
            return Err(RingError::BadMailbox(format!(
                "ring at {cmdr_off}+{cmdr_size} does not fit a mapping of {len} bytes"
            )));
        }
        ring.cmdr_off = cmdr_off;
        ring.cmdr_size = cmdr_size;
        ring.data_off = cmdr_off + cmdr_size;
        let tail = ring.tail_index().load(Ordering::Acquire) as usize;
        if tail >= cmdr_size || tail % 8 != 0 {
            return Err(RingError::BadMailbox(format!(
                "cmd_tail {tail} is not in the ring"
            )));
        }
        ring.tail = tail;
        ring.cursor = tail;
        Ok(ring)
    }

    /// Mailbox capability flags.
    pub fn flags(&self) -> u16 {
        self.read_u16(off::MB_FLAGS)
    }

    pub fn memory(&self) -> &M {
        &self.mem
    }

    /// Whether the kernel has queued entries we have not fetched.
    pub fn has_pending(&self) -> bool {
        self.broken.is_none() && self.head() != Some(self.cursor)
    }

    /// Why the ring stopped, if it did.
    pub fn broken(&self) -> Option<&str> {
        self.broken.as_deref()
    }

    /// Commands fetched and not completed yet.
    pub fn outstanding(&self) -> usize {
        self.outstanding
    }

    fn head(&self) -> Option<usize> {
        let head = self.head_index().load(Ordering::Acquire) as usize;
        (head < self.cmdr_size && head % 8 == 0).then_some(head)
    }

    /// Fetch the next entry, skipping PAD entries. `None` when the ring is empty (or broken).
    pub fn fetch(&mut self, cmd: &mut Command) -> Option<Result<Fetched, RingError>> {
        if let Some(why) = &self.broken {
            return Some(Err(RingError::Broken(why.clone())));
        }
        // Entries between the cursor and the head span less than the ring: a walk longer than
        // that never meets the head (a corrupt PAD or unknown entry) and would spin forever.
        let mut walked = 0usize;
        loop {
            let Some(head) = self.head() else {
                return Some(Err(self.mark_broken("cmd_head outside the ring".into())));
            };
            if head == self.cursor {
                return None;
            }
            if walked >= self.cmdr_size {
                return Some(Err(self.mark_broken(format!(
                    "entries from {} never reach cmd_head",
                    self.cursor
                ))));
            }
            let (op, len) = match self.entry_header(self.cursor) {
                Ok(h) => h,
                Err(e) => return Some(Err(self.mark_broken(e))),
            };
            let at = self.cursor;
            match op {
                TCMU_OP_PAD => {
                    self.cursor = (at + len) % self.cmdr_size;
                    walked += len;
                    continue;
                }
                TCMU_OP_CMD => {
                    if len < off::CMD_ENTRY_MIN {
                        return Some(Err(
                            self.mark_broken(format!("CMD entry of {len} bytes at {at}"))
                        ));
                    }
                    self.copy_command(at, len, cmd);
                    self.cursor = (at + len) % self.cmdr_size;
                    self.outstanding += 1;
                    return Some(Ok(Fetched::Command));
                }
                TCMU_OP_TMR => {
                    let abs = self.cmdr_off + at;
                    let tmr_type = if len > off::TMR_TYPE {
                        self.read_u8(abs + off::TMR_TYPE)
                    } else {
                        0
                    };
                    let cmd_count = if len >= off::TMR_CMD_IDS {
                        self.read_u32(abs + off::TMR_CMD_CNT)
                    } else {
                        0
                    };
                    self.cursor = (at + len) % self.cmdr_size;
                    return Some(Ok(Fetched::TaskManagement {
                        tmr_type,
                        cmd_count,
                    }));
                }
                _ => {
                    // Unknown entry type: flag it for the kernel and walk past it.
                    let abs = self.cmdr_off + at;
                    let uflags = self.read_u8(abs + off::HDR_UFLAGS);
                    self.write_u8(abs + off::HDR_UFLAGS, uflags | TCMU_UFLAG_UNKNOWN_OP);
                    self.cursor = (at + len) % self.cmdr_size;
                    walked += len;
                    continue;
                }
            }
        }
    }

    /// Complete a fetched command: its response goes into the oldest uncompleted CMD entry,
    /// which then carries this command's id. Published by [`Ring::publish`].
    pub fn complete(&mut self, cmd_id: u16, rsp: &Response<'_>) -> Result<(), RingError> {
        if self.outstanding == 0 {
            return Err(RingError::Broken(format!(
                "completion of {cmd_id} with none outstanding"
            )));
        }
        // Entries between tail and cursor were validated when fetched, but the kernel may have
        // changed them since: never walk past the cursor, nor answer in an entry too short.
        let pending = match (self.cursor + self.cmdr_size - self.tail) % self.cmdr_size {
            0 => self.cmdr_size,
            n => n,
        };
        let mut walked = 0usize;
        loop {
            let (op, len) = self.entry_header(self.tail).map_err(RingError::Broken)?;
            walked += len;
            if walked > pending {
                return Err(self.mark_broken(format!(
                    "no command entry between cmd_tail and {}",
                    self.cursor
                )));
            }
            if op == TCMU_OP_CMD {
                if len < off::CMD_ENTRY_MIN {
                    return Err(
                        self.mark_broken(format!("CMD entry of {len} bytes at {}", self.tail))
                    );
                }
                self.write_response(self.tail, cmd_id, rsp);
                self.tail = (self.tail + len) % self.cmdr_size;
                self.outstanding -= 1;
                self.tail_dirty = true;
                return Ok(());
            }
            self.tail = (self.tail + len) % self.cmdr_size;
        }
    }

    /// Store `cmd_tail` (Release) if anything completed; true if the kernel should be kicked.
    /// Entries that need no completion (PAD, TMR) right behind the last completion are released
    /// too, so the kernel can reuse their space.
    pub fn publish(&mut self) -> bool {
        if self.outstanding == 0 && self.tail != self.cursor {
            self.tail = self.cursor;
            self.tail_dirty = true;
        }
        if !self.tail_dirty {
            return false;
        }
        self.tail_index().store(self.tail as u32, Ordering::Release);
        self.tail_dirty = false;
        true
    }

    /// The data buffer of a fetched command.
    pub fn buffer<'a>(&'a self, cmd: &'a Command) -> DataBuffer<'a> {
        let segs = if cmd.malformed.is_some() {
            &[][..]
        } else {
            cmd.data_segs()
        };
        // SAFETY: every segment was checked against the data area of this mapping when the
        // command was fetched, and the mapping lives as long as `self`.
        unsafe { DataBuffer::new(self.mem.base(), segs) }
    }

    fn mark_broken(&mut self, why: String) -> RingError {
        log::error!("TCMU ring unusable: {why}");
        self.broken = Some(why.clone());
        RingError::Broken(why)
    }

    /// Opcode and length of the entry at ring offset `at`.
    fn entry_header(&self, at: usize) -> Result<(u32, usize), String> {
        if at % 8 != 0 || at + off::HDR_SIZE > self.cmdr_size {
            return Err(format!("entry offset {at} is outside the ring"));
        }
        let len_op = self.read_u32(self.cmdr_off + at + off::HDR_LEN_OP);
        let len = (len_op & !TCMU_OP_MASK) as usize;
        if len == 0 || at + len > self.cmdr_size {
            return Err(format!("entry at {at} has length {len}"));
        }
        Ok((len_op & TCMU_OP_MASK, len))
    }

    /// Copy the CDB and the iovec list of the CMD entry at `at` (of `len` bytes) into `cmd`.
    fn copy_command(&self, at: usize, len: usize, cmd: &mut Command) {
        let abs = self.cmdr_off + at;
        cmd.cmd_id = self.read_u16(abs + off::HDR_CMD_ID);
        cmd.malformed = None;
        cmd.cdb_len = 0;
        cmd.segs.clear();
        cmd.iov_cnt = 0;
        let iov_cnt = self.read_u32(abs + off::REQ_IOV_CNT) as usize;
        let bidi_cnt = self.read_u32(abs + off::REQ_IOV_BIDI_CNT) as usize;
        let iov_bytes = iov_cnt
            .checked_add(bidi_cnt)
            .and_then(|n| n.checked_mul(off::IOV_SIZE))
            .and_then(|b| b.checked_add(off::REQ_IOV));
        if iov_bytes.is_none_or(|end| end > len) {
            cmd.malformed = Some("iovec list runs past its entry");
            return;
        }
        let map_len = self.mem.len();
        for i in 0..iov_cnt + bidi_cnt {
            let iov_at = abs + off::REQ_IOV + i * off::IOV_SIZE;
            let base = self.read_u64(iov_at);
            let ilen = self.read_u64(iov_at + 8);
            let ok = usize::try_from(base)
                .ok()
                .zip(usize::try_from(ilen).ok())
                .filter(|&(b, l)| {
                    b >= self.data_off && b.checked_add(l).is_some_and(|e| e <= map_len)
                });
            match ok {
                Some((offset, len)) => cmd.segs.push(DataSeg { offset, len }),
                None => {
                    cmd.malformed = Some("iovec outside the data area");
                    cmd.segs.clear();
                    return;
                }
            }
        }
        cmd.iov_cnt = iov_cnt;
        let cdb_off = self.read_u64(abs + off::REQ_CDB_OFF);
        let entry = (abs as u64)..((abs + len) as u64);
        if !entry.contains(&cdb_off) {
            cmd.malformed = Some("CDB outside its entry");
            return;
        }
        let cdb_at = cdb_off as usize;
        let first = self.read_u8(cdb_at);
        let second = if cdb_at + 8 < abs + len {
            self.read_u8(cdb_at + 7)
        } else {
            0
        };
        let cdb_len = command_size(first, second).min(MAX_CDB_LEN);
        if cdb_at + cdb_len > abs + len {
            cmd.malformed = Some("CDB runs past its entry");
            return;
        }
        // SAFETY: `cdb_at..cdb_at + cdb_len` lies inside this entry, which lies inside the ring
        // and therefore inside the mapping; `cmd.cdb` holds MAX_CDB_LEN >= cdb_len bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.mem.base().add(cdb_at),
                cmd.cdb.as_mut_ptr(),
                cdb_len,
            );
        }
        cmd.cdb_len = cdb_len;
    }

    fn write_response(&self, at: usize, cmd_id: u16, rsp: &Response<'_>) {
        let abs = self.cmdr_off + at;
        self.write_u16(abs + off::HDR_CMD_ID, cmd_id);
        let mut uflags = self.read_u8(abs + off::HDR_UFLAGS);
        if rsp.unknown_op {
            uflags |= TCMU_UFLAG_UNKNOWN_OP;
        }
        let read_len = rsp.read_len.unwrap_or(0);
        if rsp.read_len.is_some() {
            uflags |= TCMU_UFLAG_READ_LEN;
        }
        self.write_u8(abs + off::HDR_UFLAGS, uflags);
        self.write_u8(abs + off::RSP_SCSI_STATUS, rsp.status);
        self.write_u32(abs + off::RSP_READ_LEN, read_len);
        let mut sense = [0u8; TCMU_SENSE_BUFFERSIZE];
        let n = rsp.sense.len().min(TCMU_SENSE_BUFFERSIZE);
        sense[..n].copy_from_slice(&rsp.sense[..n]);
        // SAFETY: the entry is at least CMD_ENTRY_MIN (112) bytes, so the sense buffer at
        // 16..112 lies inside it and inside the mapping.
        unsafe {
            std::ptr::copy_nonoverlapping(
                sense.as_ptr(),
                self.mem.base().add(abs + off::RSP_SENSE),
                TCMU_SENSE_BUFFERSIZE,
            );
        }
    }

    fn head_index(&self) -> &AtomicU32 {
        // SAFETY: the mailbox (128 bytes) is inside the mapping, the base is 8-aligned so offset
        // 12 is 4-aligned, and the kernel only ever accesses this word atomically.
        unsafe { &*(self.mem.base().add(off::MB_CMD_HEAD) as *const AtomicU32) }
    }

    fn tail_index(&self) -> &AtomicU32 {
        // SAFETY: as for `head_index`; offset 64 is 4-aligned.
        unsafe { &*(self.mem.base().add(off::MB_CMD_TAIL) as *const AtomicU32) }
    }

    fn check(&self, at: usize, n: usize) {
        assert!(
            at + n <= self.mem.len(),
            "ring access {at}+{n} outside the mapping"
        );
    }

    fn read_u8(&self, at: usize) -> u8 {
        self.check(at, 1);
        // SAFETY: bounds checked above.
        unsafe { self.mem.base().add(at).read_volatile() }
    }

    fn read_u16(&self, at: usize) -> u16 {
        self.check(at, 2);
        // SAFETY: bounds checked above; unaligned access is allowed by read_unaligned.
        u16::from_ne_bytes(unsafe { (self.mem.base().add(at) as *const [u8; 2]).read_volatile() })
    }

    fn read_u32(&self, at: usize) -> u32 {
        self.check(at, 4);
        // SAFETY: bounds checked above; a byte array has no alignment requirement.
        u32::from_ne_bytes(unsafe { (self.mem.base().add(at) as *const [u8; 4]).read_volatile() })
    }

    fn read_u64(&self, at: usize) -> u64 {
        self.check(at, 8);
        // SAFETY: bounds checked above; a byte array has no alignment requirement.
        u64::from_ne_bytes(unsafe { (self.mem.base().add(at) as *const [u8; 8]).read_volatile() })
    }

    fn write_u8(&self, at: usize, v: u8) {
        self.check(at, 1);
        // SAFETY: bounds checked above.
        unsafe { self.mem.base().add(at).write_volatile(v) }
    }

    fn write_u16(&self, at: usize, v: u16) {
        self.check(at, 2);
        // SAFETY: bounds checked above; a byte array has no alignment requirement.
        unsafe { (self.mem.base().add(at) as *mut [u8; 2]).write_volatile(v.to_ne_bytes()) }
    }

    fn write_u32(&self, at: usize, v: u32) {
        self.check(at, 4);
        // SAFETY: bounds checked above; a byte array has no alignment requirement.
        unsafe { (self.mem.base().add(at) as *mut [u8; 4]).write_volatile(v.to_ne_bytes()) }
    }
}

#[cfg(test)]
mod fuzz_regressions;
#[cfg(test)]
mod tests;
