//! Raw mirror of the Linux TCMU userspace ABI (`include/uapi/linux/target_core_user.h`).
//!
//! Only `#[repr(C)]` structures, constants and compile-time layout checks live here; the safe
//! view of the shared ring is built on top of it by the `tcmu-mmc` crate. Offsets are those of
//! x86_64 (and every other 64-bit Linux target): the header packs the outer structs, but the
//! anonymous `req`/`rsp` structs inside the entry union keep their natural alignment, so
//! `cdb_off` sits at 24 and the iovec array at 48.
#![no_std]
#![allow(non_camel_case_types)]

use core::mem::{offset_of, size_of};

/// `TCMU_VERSION`, the handler ABI version string.
pub const TCMU_VERSION: &str = "2.0";
/// `TCMU_MAILBOX_VERSION`: the value of `tcmu_mailbox::version` this layout describes.
pub const TCMU_MAILBOX_VERSION: u16 = 2;
/// `ALIGN_SIZE`: alignment of the completion index `cmd_tail`.
pub const ALIGN_SIZE: usize = 64;

/// Mailbox capability flags (`tcmu_mailbox::flags`).
pub const TCMU_MAILBOX_FLAG_CAP_OOOC: u16 = 1 << 0;
pub const TCMU_MAILBOX_FLAG_CAP_READ_LEN: u16 = 1 << 1;
pub const TCMU_MAILBOX_FLAG_CAP_TMR: u16 = 1 << 2;
pub const TCMU_MAILBOX_FLAG_CAP_KEEP_BUF: u16 = 1 << 3;

/// Entry opcodes, in the low bits of `tcmu_cmd_entry_hdr::len_op`.
pub const TCMU_OP_PAD: u32 = 0;
pub const TCMU_OP_CMD: u32 = 1;
pub const TCMU_OP_TMR: u32 = 2;
pub const TCMU_OP_MASK: u32 = 0x7;
/// Entries are multiples of this many bytes; `len_op & !TCMU_OP_MASK` is the length.
pub const TCMU_OP_ALIGN_SIZE: usize = 8;

/// Userspace flags (`tcmu_cmd_entry_hdr::uflags`).
pub const TCMU_UFLAG_UNKNOWN_OP: u8 = 0x1;
pub const TCMU_UFLAG_READ_LEN: u8 = 0x2;
pub const TCMU_UFLAG_KEEP_BUF: u8 = 0x4;

/// `TCMU_SENSE_BUFFERSIZE`: bytes of sense data in a response.
pub const TCMU_SENSE_BUFFERSIZE: usize = 96;

/// Task management function types (`enum tcmu_tmr_type`).
pub const TCMU_TMR_UNKNOWN: u8 = 0;
pub const TCMU_TMR_ABORT_TASK: u8 = 1;
pub const TCMU_TMR_ABORT_TASK_SET: u8 = 2;
pub const TCMU_TMR_CLEAR_ACA: u8 = 3;
pub const TCMU_TMR_CLEAR_TASK_SET: u8 = 4;
pub const TCMU_TMR_LUN_RESET: u8 = 5;
pub const TCMU_TMR_TARGET_WARM_RESET: u8 = 6;
pub const TCMU_TMR_TARGET_COLD_RESET: u8 = 7;
pub const TCMU_TMR_LUN_RESET_PRO: u8 = 128;

/// `struct tcmu_mailbox` (packed in C; the explicit reserved fields give the same offsets).
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tcmu_mailbox {
    pub version: u16,
    pub flags: u16,
    pub cmdr_off: u32,
    pub cmdr_size: u32,
    /// Producer index, written by the kernel with release semantics.
    pub cmd_head: u32,
    pub _reserved0: [u8; 48],
    /// Completion index, written by userspace (`__aligned__(ALIGN_SIZE)` in C).
    pub cmd_tail: u32,
    pub _reserved1: [u8; 60],
}

/// `struct tcmu_cmd_entry_hdr`.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default)]
pub struct tcmu_cmd_entry_hdr {
    pub len_op: u32,
    pub cmd_id: u16,
    pub kflags: u8,
    pub uflags: u8,
}

/// `struct iovec` as the kernel writes it into the ring: `iov_base` is an offset from the start
/// of the mapping, not a pointer.
#[repr(C)]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct tcmu_iovec {
    pub iov_base: u64,
    pub iov_len: u64,
}

/// The request half of the entry union.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tcmu_cmd_entry_req {
    pub iov_cnt: u32,
    pub iov_bidi_cnt: u32,
    pub iov_dif_cnt: u32,
    /// Offset of the CDB from the start of the mapping.
    pub cdb_off: u64,
    pub __pad1: u64,
    pub __pad2: u64,
    /// `iov_cnt + iov_bidi_cnt` entries follow.
    pub iov: [tcmu_iovec; 0],
}

/// The response half of the entry union.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tcmu_cmd_entry_rsp {
    pub scsi_status: u8,
    pub __pad1: u8,
    pub __pad2: u16,
    pub read_len: u32,
    pub sense_buffer: [u8; TCMU_SENSE_BUFFERSIZE],
}

#[repr(C)]
#[derive(Clone, Copy)]
pub union tcmu_cmd_entry_body {
    pub req: tcmu_cmd_entry_req,
    pub rsp: tcmu_cmd_entry_rsp,
}

/// `struct tcmu_cmd_entry`.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct tcmu_cmd_entry {
    pub hdr: tcmu_cmd_entry_hdr,
    pub body: tcmu_cmd_entry_body,
}

/// `struct tcmu_tmr_entry`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct tcmu_tmr_entry {
    pub hdr: tcmu_cmd_entry_hdr,
    pub tmr_type: u8,
    pub __pad1: u8,
    pub __pad2: u16,
    pub cmd_cnt: u32,
    pub __pad3: u64,
    pub __pad4: u64,
    /// `cmd_cnt` ids follow.
    pub cmd_ids: [u16; 0],
}

/// Generic netlink family of TCMU device events.
pub const TCMU_GENL_FAMILY_NAME: &str = "TCM-USER";
pub const TCMU_GENL_FAMILY_VERSION: u8 = 2;
pub const TCMU_GENL_MCGRP_CONFIG: &str = "config";

/// `enum tcmu_genl_cmd`.
pub const TCMU_CMD_UNSPEC: u8 = 0;
pub const TCMU_CMD_ADDED_DEVICE: u8 = 1;
pub const TCMU_CMD_REMOVED_DEVICE: u8 = 2;
pub const TCMU_CMD_RECONFIG_DEVICE: u8 = 3;
pub const TCMU_CMD_ADDED_DEVICE_DONE: u8 = 4;
pub const TCMU_CMD_REMOVED_DEVICE_DONE: u8 = 5;
pub const TCMU_CMD_RECONFIG_DEVICE_DONE: u8 = 6;
pub const TCMU_CMD_SET_FEATURES: u8 = 7;

/// `enum tcmu_genl_attr`.
pub const TCMU_ATTR_UNSPEC: u16 = 0;
pub const TCMU_ATTR_DEVICE: u16 = 1;
pub const TCMU_ATTR_MINOR: u16 = 2;
pub const TCMU_ATTR_PAD: u16 = 3;
pub const TCMU_ATTR_DEV_CFG: u16 = 4;
pub const TCMU_ATTR_DEV_SIZE: u16 = 5;
pub const TCMU_ATTR_WRITECACHE: u16 = 6;
pub const TCMU_ATTR_CMD_STATUS: u16 = 7;
pub const TCMU_ATTR_DEVICE_ID: u16 = 8;
pub const TCMU_ATTR_SUPP_KERN_CMD_REPLY: u16 = 9;

// Layout checks against the offsets verified by compiling the kernel header.
const _: () = {
    assert!(size_of::<tcmu_mailbox>() == 128);
    assert!(offset_of!(tcmu_mailbox, version) == 0);
    assert!(offset_of!(tcmu_mailbox, flags) == 2);
    assert!(offset_of!(tcmu_mailbox, cmdr_off) == 4);
    assert!(offset_of!(tcmu_mailbox, cmdr_size) == 8);
    assert!(offset_of!(tcmu_mailbox, cmd_head) == 12);
    assert!(offset_of!(tcmu_mailbox, cmd_tail) == 64);

    assert!(size_of::<tcmu_cmd_entry_hdr>() == 8);
    assert!(offset_of!(tcmu_cmd_entry_hdr, len_op) == 0);
    assert!(offset_of!(tcmu_cmd_entry_hdr, cmd_id) == 4);
    assert!(offset_of!(tcmu_cmd_entry_hdr, kflags) == 6);
    assert!(offset_of!(tcmu_cmd_entry_hdr, uflags) == 7);

    assert!(size_of::<tcmu_iovec>() == 16);
    assert!(size_of::<tcmu_cmd_entry>() == 112);
    assert!(offset_of!(tcmu_cmd_entry, body) == 8);
    assert!(offset_of!(tcmu_cmd_entry, body.req.iov_cnt) == 8);
    assert!(offset_of!(tcmu_cmd_entry, body.req.iov_bidi_cnt) == 12);
    assert!(offset_of!(tcmu_cmd_entry, body.req.iov_dif_cnt) == 16);
    assert!(offset_of!(tcmu_cmd_entry, body.req.cdb_off) == 24);
    assert!(offset_of!(tcmu_cmd_entry, body.req.iov) == 48);
    assert!(offset_of!(tcmu_cmd_entry, body.rsp.scsi_status) == 8);
    assert!(offset_of!(tcmu_cmd_entry, body.rsp.read_len) == 12);
    assert!(offset_of!(tcmu_cmd_entry, body.rsp.sense_buffer) == 16);
    assert!(size_of::<tcmu_cmd_entry>() % TCMU_OP_ALIGN_SIZE == 0);

    assert!(size_of::<tcmu_tmr_entry>() == 32);
    assert!(offset_of!(tcmu_tmr_entry, tmr_type) == 8);
    assert!(offset_of!(tcmu_tmr_entry, cmd_cnt) == 12);
    assert!(offset_of!(tcmu_tmr_entry, cmd_ids) == 32);
};

/// Byte offsets of the fields the ring code reads and writes, for code that works on raw bytes.
pub mod offsets {
    use super::*;
    pub const MB_VERSION: usize = offset_of!(tcmu_mailbox, version);
    pub const MB_FLAGS: usize = offset_of!(tcmu_mailbox, flags);
    pub const MB_CMDR_OFF: usize = offset_of!(tcmu_mailbox, cmdr_off);
    pub const MB_CMDR_SIZE: usize = offset_of!(tcmu_mailbox, cmdr_size);
    pub const MB_CMD_HEAD: usize = offset_of!(tcmu_mailbox, cmd_head);
    pub const MB_CMD_TAIL: usize = offset_of!(tcmu_mailbox, cmd_tail);
    pub const MB_SIZE: usize = size_of::<tcmu_mailbox>();

    pub const HDR_LEN_OP: usize = offset_of!(tcmu_cmd_entry_hdr, len_op);
    pub const HDR_CMD_ID: usize = offset_of!(tcmu_cmd_entry_hdr, cmd_id);
    pub const HDR_KFLAGS: usize = offset_of!(tcmu_cmd_entry_hdr, kflags);
    pub const HDR_UFLAGS: usize = offset_of!(tcmu_cmd_entry_hdr, uflags);
    pub const HDR_SIZE: usize = size_of::<tcmu_cmd_entry_hdr>();

    pub const REQ_IOV_CNT: usize = offset_of!(tcmu_cmd_entry, body.req.iov_cnt);
    pub const REQ_IOV_BIDI_CNT: usize = offset_of!(tcmu_cmd_entry, body.req.iov_bidi_cnt);
    pub const REQ_CDB_OFF: usize = offset_of!(tcmu_cmd_entry, body.req.cdb_off);
    pub const REQ_IOV: usize = offset_of!(tcmu_cmd_entry, body.req.iov);
    pub const IOV_SIZE: usize = size_of::<tcmu_iovec>();

    pub const RSP_SCSI_STATUS: usize = offset_of!(tcmu_cmd_entry, body.rsp.scsi_status);
    pub const RSP_READ_LEN: usize = offset_of!(tcmu_cmd_entry, body.rsp.read_len);
    pub const RSP_SENSE: usize = offset_of!(tcmu_cmd_entry, body.rsp.sense_buffer);
    /// The smallest CMD entry, even with no iovecs.
    pub const CMD_ENTRY_MIN: usize = size_of::<tcmu_cmd_entry>();

    pub const TMR_TYPE: usize = offset_of!(tcmu_tmr_entry, tmr_type);
    pub const TMR_CMD_CNT: usize = offset_of!(tcmu_tmr_entry, cmd_cnt);
    pub const TMR_CMD_IDS: usize = offset_of!(tcmu_tmr_entry, cmd_ids);
}
