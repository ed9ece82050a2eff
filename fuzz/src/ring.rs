//! The TCMU ring parser against a buggy or hostile kernel: any mailbox, any entries, and
//! memory that changes between fetch and completion.
//!
//! Input layout:
//!
//! ```text
//! byte 0      flags: bit 0 mailbox fields taken raw from the input (else consistent ones)
//! bytes 1-2   ring size selector; byte 3 data area size selector
//! [raw mailbox: version u16, cmdr_off u32, cmdr_size u32, cmd_tail u32]
//! byte        number of entries to lay out as the kernel does (CMD, PAD, TMR, unknown)
//! entries:    kind u8, cmd_id u16, CDB length u8 + bytes, iovec count u8 + (offset u16,
//!             length u16) each, relative to the data area (so they may point anywhere)
//! script:     0 fetch, 1 complete the oldest fetched (status u8, read_len u16), 2 publish,
//!             3 poke (offset u16, value u8) anywhere in the mapping, 4 set cmd_head (u16)
//! ```
//!
//! Invariants: no panic and no hang; nothing outside the mapping is touched (guard bytes
//! around it); every data segment lies in the data area; using a command's buffer touches
//! only that buffer's bytes; fetching, completing and publishing write nothing outside the
//! command ring but `cmd_tail`; the ring never completes more commands than it fetched.
use std::sync::Arc;

use tcmu_abi::offsets as off;
use tcmu_abi::{TCMU_MAILBOX_VERSION, TCMU_OP_CMD, TCMU_OP_PAD, TCMU_OP_TMR};
use tcmu_mmc::ring::{Command, Fetched, Response, Ring, RingMemory};

use crate::input::Input;

const GUARD: usize = 256;
const GUARD_BYTE: u8 = 0xa5;

/// A mapping with guard bytes on both sides.
struct Region {
    words: Box<[u64]>,
    len: usize,
}

impl Region {
    fn new(len: usize) -> Self {
        let words = (len + 2 * GUARD).div_ceil(8);
        let mut r = Region {
            words: vec![0u64; words].into_boxed_slice(),
            len,
        };
        let all = r.all_mut();
        let n = all.len();
        all[..GUARD].fill(GUARD_BYTE);
        all[GUARD + len..n].fill(GUARD_BYTE);
        r
    }

    fn all_mut(&mut self) -> &mut [u8] {
        let n = self.words.len() * 8;
        // SAFETY: the words are plain memory of n bytes.
        unsafe { std::slice::from_raw_parts_mut(self.words.as_mut_ptr().cast(), n) }
    }

    fn base(&self) -> *mut u8 {
        // SAFETY: GUARD is inside the allocation.
        unsafe { (self.words.as_ptr() as *mut u8).add(GUARD) }
    }
}

#[derive(Clone)]
struct Mem(Arc<Region>);

// SAFETY: `len` bytes from `base` stay allocated while any clone lives; base is 8-aligned
// (GUARD is a multiple of 8).
unsafe impl RingMemory for Mem {
    fn base(&self) -> *mut u8 {
        self.0.base()
    }
    fn len(&self) -> usize {
        self.0.len
    }
}

impl Mem {
    fn snapshot(&self) -> Vec<u8> {
        let mut v = vec![0u8; self.0.len];
        // SAFETY: the mapping is len bytes; nobody else runs concurrently.
        unsafe { std::ptr::copy_nonoverlapping(self.0.base(), v.as_mut_ptr(), v.len()) };
        v
    }

    fn poke(&self, at: usize, bytes: &[u8]) {
        let at = at.min(self.0.len);
        let n = bytes.len().min(self.0.len - at);
        // SAFETY: at..at+n is inside the mapping.
        unsafe { std::ptr::copy_nonoverlapping(bytes.as_ptr(), self.0.base().add(at), n) };
    }

    fn check_guards(&self) {
        let total = self.0.words.len() * 8;
        // SAFETY: reading the whole allocation as bytes.
        let all: &[u8] =
            unsafe { std::slice::from_raw_parts(self.0.words.as_ptr().cast::<u8>(), total) };
        assert!(
            all[..GUARD].iter().all(|&b| b == GUARD_BYTE),
            "write before the mapping"
        );
        assert!(
            all[GUARD + self.0.len..].iter().all(|&b| b == GUARD_BYTE),
            "write after the mapping"
        );
    }
}

/// Bytes that differ between two snapshots, outside the allowed ranges.
fn changed_outside(before: &[u8], after: &[u8], allowed: &[(usize, usize)]) -> Option<usize> {
    before
        .iter()
        .zip(after)
        .enumerate()
        .find(|&(i, (a, b))| a != b && !allowed.iter().any(|&(s, e)| s <= i && i < e))
        .map(|(i, _)| i)
}

pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let flags = input.u8();
    let cmdr_size = 8 * (28 + usize::from(input.u16() % 2048));
    let data_size = 8 * usize::from(input.u8());
    let cmdr_off = off::MB_SIZE;
    let data_off = cmdr_off + cmdr_size;
    let len = data_off + data_size;
    let mem = Mem(Arc::new(Region::new(len)));
    let put32 = |at: usize, v: u32| mem.poke(at, &v.to_ne_bytes());
    if flags & 1 != 0 {
        let version = input.u16();
        mem.poke(off::MB_VERSION, &version.to_ne_bytes());
        put32(off::MB_CMDR_OFF, input.u32());
        put32(off::MB_CMDR_SIZE, input.u32());
        put32(off::MB_CMD_TAIL, input.u32());
    } else {
        mem.poke(off::MB_VERSION, &TCMU_MAILBOX_VERSION.to_ne_bytes());
        put32(off::MB_CMDR_OFF, cmdr_off as u32);
        put32(off::MB_CMDR_SIZE, cmdr_size as u32);
    }
    mem.poke(off::MB_FLAGS, &0x0fu16.to_ne_bytes());

    // Lay entries out from offset 0 as the kernel does; head ends after the last one.
    let mut head = 0usize;
    for _ in 0..input.u8() % 16 {
        let kind = input.u8();
        let id = input.u16();
        let cdb_len = usize::from(input.u8() % 32);
        let cdb = input.bytes(cdb_len).to_vec();
        let n_iov = usize::from(input.u8() % 8);
        let iovs: Vec<(u64, u64)> = (0..n_iov)
            .map(|_| {
                let o = u64::from(input.u16());
                let l = u64::from(input.u16());
                ((data_off as u64).wrapping_add(o), l)
            })
            .collect();
        let abs = cmdr_off + head;
        let entry_len = match kind % 4 {
            0 => {
                let iov_end = off::REQ_IOV + n_iov * off::IOV_SIZE;
                let cdb_at = iov_end.max(off::CMD_ENTRY_MIN);
                let entry_len = cdb_at + cdb.len().next_multiple_of(8);
                if head + entry_len > cmdr_size {
                    break;
                }
                put32(abs + off::HDR_LEN_OP, entry_len as u32 | TCMU_OP_CMD);
                mem.poke(abs + off::HDR_CMD_ID, &id.to_ne_bytes());
                put32(abs + off::REQ_IOV_CNT, n_iov as u32);
                mem.poke(
                    abs + off::REQ_CDB_OFF,
                    &((abs + cdb_at) as u64).to_ne_bytes(),
                );
                for (i, (b, l)) in iovs.iter().enumerate() {
                    let at = abs + off::REQ_IOV + i * off::IOV_SIZE;
                    mem.poke(at, &b.to_ne_bytes());
                    mem.poke(at + 8, &l.to_ne_bytes());
                }
                mem.poke(abs + cdb_at, &cdb);
                entry_len
            }
            1 => {
                let pad = (8 * (1 + usize::from(id % 64))).min(cmdr_size - head);
                put32(abs + off::HDR_LEN_OP, pad as u32 | TCMU_OP_PAD);
                pad
            }
            2 => {
                let n = usize::from(id % 8);
                let l = (off::TMR_CMD_IDS + 2 * n).next_multiple_of(8);
                if head + l > cmdr_size {
                    break;
                }
                put32(abs + off::HDR_LEN_OP, l as u32 | TCMU_OP_TMR);
                mem.poke(abs + off::TMR_TYPE, &[cdb_len as u8]);
                put32(abs + off::TMR_CMD_CNT, n as u32);
                l
            }
            _ => {
                let l = 8 * (1 + usize::from(id % 32));
                if head + l > cmdr_size {
                    break;
                }
                put32(abs + off::HDR_LEN_OP, l as u32 | (3 + u32::from(kind % 5)));
                l
            }
        };
        head = (head + entry_len) % cmdr_size;
        if head == 0 {
            break;
        }
    }
    put32(off::MB_CMD_HEAD, head as u32);

    let Ok(mut ring) = Ring::new(mem.clone()) else {
        mem.check_guards();
        return;
    };
    // What Ring::new accepted: the data area starts after the ring it found.
    let snap = mem.snapshot();
    let mb = |at: usize| u32::from_ne_bytes(snap[at..at + 4].try_into().unwrap()) as usize;
    let (ring_off, ring_size) = (mb(off::MB_CMDR_OFF), mb(off::MB_CMDR_SIZE));
    let ring_area = (ring_off, ring_off + ring_size);
    let data_area = ring_off + ring_size;
    let tail_word = (off::MB_CMD_TAIL, off::MB_CMD_TAIL + 4);

    let mut cmd = Command::default();
    let mut fetched: Vec<u16> = Vec::new();
    let mut completed = 0usize;
    let mut steps = 0;
    while !input.is_empty() && steps < 256 {
        steps += 1;
        match input.u8() % 5 {
            0 => {
                let before = mem.snapshot();
                let r = ring.fetch(&mut cmd);
                let after = mem.snapshot();
                if let Some(i) = changed_outside(&before, &after, &[ring_area]) {
                    panic!("fetch wrote byte {i} outside the ring");
                }
                if let Some(Ok(Fetched::Command)) = r {
                    assert!(cmd.cdb().len() <= tcmu_mmc::scsi::cdb::MAX_CDB_LEN);
                    for s in cmd.data_segs() {
                        assert!(
                            s.offset >= data_area && s.offset + s.len <= len,
                            "segment {s:?} outside the data area {data_area}..{len}"
                        );
                    }
                    use_buffer(&ring, &cmd, &mem);
                    fetched.push(cmd.cmd_id);
                }
            }
            1 => {
                let status = input.u8();
                let read_len = input.u16();
                let sense = [0x70u8, 0, 5, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x20, 0];
                let rsp = Response {
                    status,
                    sense: if status == 2 { &sense } else { &[] },
                    read_len: (read_len != 0).then_some(u32::from(read_len)),
                    unknown_op: false,
                };
                let id = fetched.first().copied().unwrap_or(0);
                let before = mem.snapshot();
                let r = ring.complete(id, &rsp);
                let after = mem.snapshot();
                if let Some(i) = changed_outside(&before, &after, &[ring_area]) {
                    panic!("complete wrote byte {i} outside the ring");
                }
                if r.is_ok() {
                    assert!(!fetched.is_empty(), "completed a command never fetched");
                    fetched.remove(0);
                    completed += 1;
                }
            }
            2 => {
                let before = mem.snapshot();
                ring.publish();
                let after = mem.snapshot();
                if let Some(i) = changed_outside(&before, &after, &[tail_word]) {
                    panic!("publish wrote byte {i} outside cmd_tail");
                }
            }
            3 => {
                let at = usize::from(input.u16()) % len.max(1);
                mem.poke(at, &[input.u8()]);
            }
            _ => {
                let h = u32::from(input.u16());
                mem.poke(off::MB_CMD_HEAD, &h.to_ne_bytes());
            }
        }
        assert_eq!(ring.outstanding(), fetched.len(), "outstanding count");
        mem.check_guards();
    }
    let _ = completed;
    mem.check_guards();
}

/// Read and fill a command's buffer as the device would; only its own bytes may change.
fn use_buffer(ring: &Ring<Mem>, cmd: &Command, mem: &Mem) {
    let before = mem.snapshot();
    let mut buf = ring.buffer(cmd);
    let n = buf.len();
    let mut copy = vec![0u8; n.min(1 << 20)];
    let got = buf.read_at(0, &mut copy);
    assert_eq!(got, copy.len());
    for b in copy.iter_mut() {
        *b = !*b;
    }
    assert_eq!(buf.write_at(0, &copy), copy.len());
    buf.zero(n / 2, n);
    let mut iov = Vec::new();
    buf.io_vectors(0, n, &mut iov);
    let total: usize = iov.iter().map(|v| v.iov_len).sum();
    assert_eq!(total, n, "io vectors cover the buffer");
    let after = mem.snapshot();
    let allowed: Vec<(usize, usize)> = if cmd.malformed.is_some() {
        Vec::new()
    } else {
        cmd.data_segs()
            .iter()
            .map(|s| (s.offset, s.offset + s.len))
            .collect()
    };
    if let Some(i) = changed_outside(&before, &after, &allowed) {
        panic!("buffer use wrote byte {i} outside the command's segments");
    }
}
