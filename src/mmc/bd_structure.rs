//! READ DISC STRUCTURE (ADh) for media type 1 (BD): formats 00h (disc information) and FFh
//! (list). Media type 0 (DVD) is in `dvd_structure`.
use super::dvd_structure::{finish, put_format_list};
use super::{Context, Medium, MediumKind};
use crate::scsi::reply::ReplyBuf;
use crate::scsi::{CmdResult, Sense};

const DISC_INFORMATION: u8 = 0x00;
const LIST: u8 = 0xff;
/// Bytes of one disc information (DI) unit of a BD-ROM.
const DI_UNIT: u16 = 64;

/// The BD part of READ DISC STRUCTURE, with the CDB's layer, format and allocation length
/// (`dvd_structure` decodes the command and hands media type 1 here).
pub fn read_bd_structure(
    d: &Context,
    layer: u8,
    format: u8,
    alloc: usize,
    out: &mut Vec<u8>,
) -> CmdResult {
    let m = d.require_medium()?;
    if !m.is_bd() {
        return Err(Sense::CANNOT_READ_INCOMPATIBLE_FORMAT);
    }
    out.put_u16(0);
    out.put_u16(0);
    match format {
        DISC_INFORMATION if layer == 0 => disc_information(m, out),
        LIST => put_format_list(out, &[(DISC_INFORMATION, 4 + DI_UNIT)]),
        _ => return Err(Sense::INVALID_FIELD_IN_CDB),
    }
    finish(out, alloc)
}

/// The first DI unit of the disc's permanent information: its identifier "DI", format 1,
/// unit 0 of one, the disc type ("BDO" read-only, "BDR", "BDW"), one layer of a 120 mm disc, and the last
/// user block. Fields that only a recorder reads (strategies, the media maker) are zero.
fn disc_information(m: &Medium, out: &mut Vec<u8>) {
    let start = out.len();
    out.extend_from_slice(b"DI");
    out.put_u8(1); // DI format
    out.put_u8(0x08); // unit 0, one unit in the block (bits 3-5)
    out.put_zeros(4);
    // Disc type: read-only, write-once, rewritable.
    out.extend_from_slice(match m.kind() {
        MediumKind::BdR => b"BDR",
        MediumKind::BdRe => b"BDW",
        _ => b"BDO",
    });
    out.put_u8(0x00); // 120 mm, class 0, version 0
    out.put_u8(0x11); // one layer (bits 4-7), this is layer 0
    out.put_zeros(3);
    out.put_u32(m.capacity().saturating_sub(1)); // last user block
    out.resize(start + usize::from(DI_UNIT), 0);
}
