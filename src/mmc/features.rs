//! GET CONFIGURATION (46h): the profile list and the feature descriptors, with currency that
//! follows the medium.
use super::{profile, Context, MediumKind};
use crate::scsi::cdb::{be16, byte};
use crate::scsi::reply::ReplyBuf;
use crate::scsi::{CmdResult, Outcome, Sense, BLOCK_SIZE};

pub const PROFILE_LIST: u16 = 0x0000;
pub const CORE: u16 = 0x0001;
pub const MORPHING: u16 = 0x0002;
pub const REMOVABLE_MEDIUM: u16 = 0x0003;
pub const RANDOM_READABLE: u16 = 0x0010;
pub const MULTI_READ: u16 = 0x001d;
pub const CD_READ: u16 = 0x001e;
pub const DVD_READ: u16 = 0x001f;
pub const RANDOM_WRITABLE: u16 = 0x0020;
pub const INCREMENTAL_STREAMING_WRITABLE: u16 = 0x0021;
pub const FORMATTABLE: u16 = 0x0023;
pub const HARDWARE_DEFECT_MANAGEMENT: u16 = 0x0024;
pub const RESTRICTED_OVERWRITE: u16 = 0x0026;
pub const DVD_PLUS_RW: u16 = 0x002a;
pub const DVD_PLUS_R: u16 = 0x002b;
pub const RIGID_RESTRICTED_OVERWRITE: u16 = 0x002c;
pub const DVD_R_RW_WRITE: u16 = 0x002f;
pub const LAYER_JUMP_RECORDING: u16 = 0x0033;
pub const BD_R_PSEUDO_OVERWRITE: u16 = 0x0038;
pub const DVD_PLUS_R_DL: u16 = 0x003b;
pub const BD_READ: u16 = 0x0040;
pub const BD_WRITE: u16 = 0x0041;
pub const POWER_MANAGEMENT: u16 = 0x0100;
pub const REAL_TIME_STREAMING: u16 = 0x0107;
pub const DRIVE_SERIAL_NUMBER: u16 = 0x0108;

/// Link size of DVD-R incremental recording, in blocks (one ECC block).
const LINK_SIZE: u8 = 16;

/// Every feature the drive has, ascending (GET CONFIGURATION lists them in this order).
const DRIVE_FEATURES: &[u16] = &[
    PROFILE_LIST,
    CORE,
    MORPHING,
    REMOVABLE_MEDIUM,
    RANDOM_READABLE,
    MULTI_READ,
    CD_READ,
    DVD_READ,
    // Listed with no disc too: Linux reads it at probe to decide the block device is writable.
    RANDOM_WRITABLE,
    INCREMENTAL_STREAMING_WRITABLE,
    FORMATTABLE,
    HARDWARE_DEFECT_MANAGEMENT,
    RESTRICTED_OVERWRITE,
    DVD_PLUS_RW,
    DVD_PLUS_R,
    RIGID_RESTRICTED_OVERWRITE,
    DVD_R_RW_WRITE,
    LAYER_JUMP_RECORDING,
    BD_R_PSEUDO_OVERWRITE,
    DVD_PLUS_R_DL,
    BD_READ,
    BD_WRITE,
    POWER_MANAGEMENT,
    REAL_TIME_STREAMING,
    DRIVE_SERIAL_NUMBER,
];

/// Features that are always current, whatever the medium.
fn persistent(code: u16) -> bool {
    matches!(
        code,
        PROFILE_LIST | CORE | MORPHING | REMOVABLE_MEDIUM | POWER_MANAGEMENT | DRIVE_SERIAL_NUMBER
    )
}

/// Whether feature `code` is current with the drive as it is now.
pub fn is_current(d: &Context, code: u16) -> bool {
    if persistent(code) {
        return true;
    }
    let Some(m) = d.medium() else { return false };
    match code {
        RANDOM_READABLE => m.readable_blocks() > 0,
        MULTI_READ | CD_READ => m.kind().is_cd(),
        DVD_READ => m.is_dvd(),
        BD_READ => m.is_bd(),
        REAL_TIME_STREAMING => m.is_dvd() || m.is_bd(),
        RANDOM_WRITABLE | HARDWARE_DEFECT_MANAGEMENT => {
            m.kind() == MediumKind::DvdRam || (m.kind() == MediumKind::BdRe && m.formatted() > 0)
        }
        // A blank or sequential DVD-RW can be formatted for restricted overwrite; a blank
        // BD-R can be given spare areas.
        FORMATTABLE => m.kind().is_overwritable() || m.spare_formattable(),
        // A BD-R formatted for SRM+POW, while it can be written.
        BD_R_PSEUDO_OVERWRITE => m.pseudo_overwrite() && m.is_writable(),
        // Recording a BD-R, or a BD-RE (formatting it first if need be).
        BD_WRITE => m.is_bd() && m.is_writable(),
        RESTRICTED_OVERWRITE => m.kind() == MediumKind::CdRw,
        DVD_PLUS_RW => m.kind() == MediumKind::DvdPlusRw,
        RIGID_RESTRICTED_OVERWRITE => m.profile() == profile::DVD_RW_RESTRICTED_OVERWRITE,
        // Sequential recording of the DVD-R family, while the disc is open.
        INCREMENTAL_STREAMING_WRITABLE => {
            m.kind().follows_write_parameters() && !m.is_overwritable() && m.is_writable()
        }
        DVD_R_RW_WRITE => m.kind().follows_write_parameters(),
        // Layer jump recording is not offered: the feature is listed, never current.
        LAYER_JUMP_RECORDING => false,
        DVD_PLUS_R => m.profile() == profile::DVD_PLUS_R,
        DVD_PLUS_R_DL => m.profile() == profile::DVD_PLUS_R_DL,
        _ => false,
    }
}

/// Blocking factor of the loaded medium (a DVD's without one).
fn blocking(d: &Context) -> u16 {
    d.medium().map_or(16, |m| m.blocking_factor())
}

/// GET CONFIGURATION: RT 0 (all features from the starting one), 1 (current ones), 2 (just the
/// starting feature).
pub fn get_configuration(d: &Context, cdb: &[u8], out: &mut Vec<u8>) -> CmdResult {
    let rt = byte(cdb, 1) & 0x03;
    let start = be16(cdb, 2);
    let alloc = usize::from(be16(cdb, 7));
    if rt == 3 {
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    out.put_u32(0); // data length, patched below
    out.put_u16(0);
    out.put_u16(d.current_profile());
    for &code in DRIVE_FEATURES {
        let wanted = match rt {
            2 => code == start,
            1 => code >= start && is_current(d, code),
            _ => code >= start,
        };
        if wanted {
            append_feature(d, code, out);
        }
    }
    let len = (out.len() - 4) as u32;
    out.set_u32(0, len);
    out.limit(alloc);
    Ok(Outcome::Good)
}

fn header(out: &mut Vec<u8>, code: u16, version: u8, current: bool, additional: u8) {
    out.put_u16(code);
    let persistent = persistent(code);
    out.put_u8((version << 2) | (u8::from(persistent) << 1) | u8::from(current));
    out.put_u8(additional);
}

fn append_feature(d: &Context, code: u16, out: &mut Vec<u8>) {
    let current = is_current(d, code);
    match code {
        PROFILE_LIST => {
            header(out, code, 0, current, (profile::SUPPORTED.len() * 4) as u8);
            for &p in profile::SUPPORTED {
                out.put_u16(p);
                out.put_u8(u8::from(p == d.current_profile()));
                out.put_u8(0);
            }
        }
        CORE => {
            header(out, code, 2, current, 8);
            out.put_u32(1); // physical interface: SCSI family
            out.put_u8(0x03); // INQ2, DBE
            out.put_zeros(3);
        }
        MORPHING => {
            header(out, code, 1, current, 4);
            out.put_u8(0x02); // OCEvent: operational change events; polled only (no ASYNC)
            out.put_zeros(3);
        }
        REMOVABLE_MEDIUM => {
            header(out, code, 0, current, 4);
            // Tray loading mechanism, Load, Eject, Lock.
            out.put_u8((1 << 5) | 0x10 | 0x08 | 0x01);
            out.put_zeros(3);
        }
        RANDOM_READABLE => {
            header(out, code, 0, current, 8);
            out.put_u32(BLOCK_SIZE as u32);
            out.put_u16(blocking(d));
            out.put_u8(0x01); // PP: page present
            out.put_u8(0);
        }
        MULTI_READ => header(out, code, 0, current, 0),
        CD_READ => {
            header(out, code, 2, current, 4);
            out.put_zeros(4); // no CD-DA, C2 or CD-Text
        }
        RANDOM_WRITABLE => {
            header(out, code, 1, current, 12);
            let last = d
                .medium()
                .filter(|_| current)
                .map_or(0, |m| m.formatted().saturating_sub(1));
            out.put_u32(last);
            out.put_u32(BLOCK_SIZE as u32);
            out.put_u16(blocking(d));
            out.put_u8(0x01); // PP
            out.put_u8(0);
        }
        INCREMENTAL_STREAMING_WRITABLE => {
            header(out, code, 1, current, 8);
            out.put_u16(1 << 8); // data block type 8: Mode 1, 2048 bytes
            out.put_u8(0x01 | 0x02); // BUF (no underrun), ARSV (RESERVE TRACK by size)
            out.put_u8(1); // one link size
            out.put_u8(LINK_SIZE);
            out.put_zeros(3);
        }
        DVD_R_RW_WRITE => {
            header(out, code, 1, current, 4);
            // BUF, RDL (dual-layer DVD-R), DVD-RW SL; no test write.
            out.put_u8(0x40 | 0x08 | 0x02);
            out.put_zeros(3);
        }
        LAYER_JUMP_RECORDING => {
            header(out, code, 0, current, 8);
            out.put_zeros(3);
            out.put_u8(1); // one link size
            out.put_u8(LINK_SIZE);
            out.put_zeros(3);
        }
        FORMATTABLE => {
            header(out, code, 1, current, 8);
            // RENoSA: a BD-RE can be formatted without spare areas (31h); no certification
            // options; no BD-R RRM.
            out.put_u8(0x01);
            out.put_zeros(7);
        }
        HARDWARE_DEFECT_MANAGEMENT => {
            header(out, code, 1, current, 4);
            out.put_zeros(4); // no spare area information
        }
        RESTRICTED_OVERWRITE => header(out, code, 0, current, 0),
        DVD_PLUS_RW => {
            header(out, code, 1, current, 4);
            out.put_u8(0x01); // Write
            out.put_u8(0x00); // background format stops only with CLOSE; no quick start
            out.put_zeros(2);
        }
        RIGID_RESTRICTED_OVERWRITE => {
            header(out, code, 1, current, 4);
            out.put_u8(0x01 | 0x02); // Blank, Intermediate
            out.put_zeros(3);
        }
        BD_R_PSEUDO_OVERWRITE => {
            header(out, code, 0, current, 4);
            out.put_zeros(4);
        }
        DVD_READ => {
            header(out, code, 1, current, 4);
            out.put_zeros(4);
        }
        BD_READ => {
            header(out, code, 0, current, 28);
            out.put_zeros(4);
            // Read support bitmaps (a bit per version) of classes 0-3 of BD-RE, BD-R and
            // BD-ROM, in that order: the drive reads class 0 of each, any version.
            put_bd_class0_bitmaps(out, 3);
        }
        BD_WRITE => {
            header(out, code, 1, current, 20);
            out.put_zeros(4); // SVNR 0: writes are verified
                              // Write support bitmaps of classes 0-3 of BD-RE, then of BD-R.
            put_bd_class0_bitmaps(out, 2);
        }
        DVD_PLUS_R | DVD_PLUS_R_DL => {
            header(out, code, 0, current, 4);
            out.put_u8(0x01); // Write: the drive records this medium
            out.put_zeros(3);
        }
        POWER_MANAGEMENT => header(out, code, 0, current, 0),
        REAL_TIME_STREAMING => {
            header(out, code, 3, current, 4);
            // SET CD SPEED, write speed in GET PERFORMANCE, stream writing (SET STREAMING).
            out.put_u8(0x08 | 0x02 | 0x01);
            out.put_zeros(3);
        }
        DRIVE_SERIAL_NUMBER => {
            let serial = d.identity().serial.as_bytes();
            let padded = serial.len().next_multiple_of(4);
            header(out, code, 0, current, padded as u8);
            out.extend_from_slice(serial);
            out.resize(out.len() + padded - serial.len(), b' ');
        }
        _ => unreachable!("feature {code:#06x} is not in DRIVE_FEATURES"),
    }
}

/// `families` groups of four class bitmaps (classes 0-3) of a BD feature: every version of
/// class 0, nothing of classes 1-3.
fn put_bd_class0_bitmaps(out: &mut Vec<u8>, families: usize) {
    for _ in 0..families {
        out.put_u16(0xffff);
        out.put_zeros(6);
    }
}
