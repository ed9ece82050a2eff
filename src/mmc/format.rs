//! Rewritable media preparation: READ FORMAT CAPACITIES (23h), FORMAT UNIT (04h), BLANK (A1h).
//! Formatting and blanking finish at once (an image file has nothing to de-ice), so IMMED
//! changes nothing and the next TEST UNIT READY already finds the drive ready.
use super::block_io::not_writable;
use super::{Context, DiscChange, MediumKind, Notice};
use crate::scsi::cdb::{be16, be24, be32, byte};
use crate::scsi::reply::ReplyBuf;
use crate::scsi::{CmdResult, Outcome, Sense, BLOCK_SIZE};

/// Format types (MMC FORMAT UNIT descriptor byte 4 bits 7-2).
pub const FULL: u8 = 0x00; // DVD-RAM full format
pub const SPARE_EXPANSION: u8 = 0x01; // DVD-RAM: spare area expansion
pub const FULL_PACKET: u8 = 0x10; // CD-RW / DVD-RW full format, fixed packets
pub const QUICK: u8 = 0x15; // DVD-RW quick format
pub const DVD_PLUS_RW: u8 = 0x26; // DVD+RW basic format

/// Descriptor types of the current/maximum capacity descriptor.
const UNFORMATTED: u8 = 0x01;
const FORMATTED: u8 = 0x02;
const NO_MEDIUM: u8 = 0x03;

/// The format types a kind of disc offers, with their type-dependent parameter.
fn offered(kind: MediumKind) -> &'static [(u8, u32)] {
    match kind {
        MediumKind::DvdPlusRw => &[(DVD_PLUS_RW, 0)],
        MediumKind::DvdRam => &[
            (FULL, BLOCK_SIZE as u32),
            (SPARE_EXPANSION, BLOCK_SIZE as u32),
        ],
        MediumKind::DvdRw => &[(FULL_PACKET, 16), (QUICK, 16)],
        MediumKind::CdRw => &[(FULL_PACKET, 32)],
        _ => &[],
    }
}

pub fn read_format_capacities(d: &Context, cdb: &[u8], out: &mut Vec<u8>) -> CmdResult {
    let alloc = usize::from(be16(cdb, 7));
    out.put_u24(0);
    out.put_u8(0); // list length, patched below
    match d.medium() {
        None => {
            // Current/maximum descriptor "no medium": the largest disc the drive handles.
            out.put_u32(MediumKind::DvdRw.default_capacity());
            out.put_u8(NO_MEDIUM);
            out.put_u24(BLOCK_SIZE as u32);
        }
        Some(m) => {
            // A DVD-RW recorded sequentially is not formatted for overwriting.
            let (blocks, kind) = if m.kind().is_overwritable() && m.formatted() == 0 {
                (m.capacity(), UNFORMATTED)
            } else if m.kind().is_overwritable() {
                (m.formatted(), FORMATTED)
            } else {
                (m.readable_blocks(), FORMATTED)
            };
            out.put_u32(blocks);
            out.put_u8(kind);
            out.put_u24(BLOCK_SIZE as u32);
            for &(format, param) in offered(m.kind()) {
                let mut blocks = m.capacity();
                let packet = m.kind().packet_alignment();
                if packet != 0 {
                    blocks -= blocks % packet;
                }
                out.put_u32(blocks);
                out.put_u8(format << 2);
                out.put_u24(param);
            }
        }
    }
    out[3] = (out.len() - 4) as u8;
    out.limit(alloc);
    Ok(Outcome::Good)
}

/// FORMAT UNIT: FmtData with format code 1 and one format descriptor (or cdrwtool's legacy
/// format code 7 for CD-RW).
pub fn format_unit(d: &Context, cdb: &[u8], data: &[u8]) -> Result<DiscChange, Sense> {
    let fmt_data = byte(cdb, 1) & 0x10 != 0;
    let code = byte(cdb, 1) & 0x07;
    let m = d.require_medium()?;
    if !m.kind().is_overwritable() {
        return Err(not_writable());
    }
    let (format, blocks, param) = if !fmt_data {
        // Format with the drive's defaults.
        match offered(m.kind()).first() {
            Some(&(format, param)) => (format, m.capacity(), param),
            None => return Err(Sense::INVALID_FIELD_IN_CDB),
        }
    } else {
        if code != 1 && !(code == 7 && m.kind() == MediumKind::CdRw) {
            return Err(Sense::INVALID_FIELD_IN_CDB);
        }
        if data.len() < 12 || usize::from(be16(data, 2)) < 8 {
            return Err(Sense::PARAMETER_LIST_LENGTH_ERROR);
        }
        let descriptor = &data[4..12];
        let format = if code == 7 {
            FULL_PACKET
        } else {
            descriptor[4] >> 2
        };
        (format, be32(descriptor, 0), be24(descriptor, 5))
    };
    let Some(&(_, packet)) = offered(m.kind()).iter().find(|&&(f, _)| f == format) else {
        return Err(Sense::INVALID_FIELD_IN_PARAMETER_LIST);
    };
    if format == FULL_PACKET && param != 0 && param != packet {
        // Only the drive's own packet size can be formatted.
        return Err(Sense::INVALID_FIELD_IN_PARAMETER_LIST);
    }
    // Whatever size is asked (a DVD+RW restart gives 0), the whole disc is formatted: that
    // is what every client asks for in practice, and a partial format has no use here.
    let _ = blocks;
    // Re-formatting a formatted DVD-RAM keeps its data (it only re-certifies); every other
    // format starts from an empty disc.
    let keeps_data = m.kind() == MediumKind::DvdRam && m.formatted() > 0;
    let mut next = m.clone();
    next.format(m.capacity());
    let change = DiscChange::record(next).announcing(Notice::NewContents);
    Ok(if keeps_data { change } else { change.erasing() })
}

/// BLANK: make a CD-RW or DVD-RW blank again (full or minimal blanking alike).
pub fn blank(d: &Context, cdb: &[u8]) -> Result<DiscChange, Sense> {
    let blanking_type = byte(cdb, 1) & 0x07;
    let m = d.require_medium()?;
    if !matches!(m.kind(), MediumKind::CdRw | MediumKind::DvdRw) {
        return Err(not_writable());
    }
    // 0: whole disc, 1: minimal; the track and session variants are not offered.
    if blanking_type > 1 {
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    let mut next = m.clone();
    next.blank_out();
    Ok(DiscChange::record(next)
        .erasing()
        .announcing(Notice::NewContents))
}
