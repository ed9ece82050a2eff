//! READ DVD STRUCTURE (ADh): formats 00h (physical format), 01h (copyright), 10h (a DVD-R's
//! or DVD-RW's pre-recorded physical format), 20h (a DVD+R DL's layer boundary), C0h (DVD-RAM
//! write protection), FFh (list). Media type 1 (BD) goes to `bd_structure`.
use super::{Context, Medium, MediumKind};
use crate::scsi::cdb::{be16, byte};
use crate::scsi::reply::ReplyBuf;
use crate::scsi::{CmdResult, Outcome, Sense};

const PHYSICAL: u8 = 0x00;
const COPYRIGHT: u8 = 0x01;
const PRE_RECORDED_PHYSICAL: u8 = 0x10;
const LAYER_BOUNDARY: u8 = 0x20;
const WRITE_PROTECTION: u8 = 0xc0;
const LIST: u8 = 0xff;
/// First physical sector number of the data zone of a DVD.
const DATA_ZONE_START_PSN: u32 = 0x0003_0000;

pub fn read_dvd_structure(d: &Context, cdb: &[u8], out: &mut Vec<u8>) -> CmdResult {
    let media_type = byte(cdb, 1) & 0x0f;
    let layer = byte(cdb, 6);
    let format = byte(cdb, 7);
    let alloc = usize::from(be16(cdb, 8));
    match media_type {
        0 => {}
        1 => return super::bd_structure::read_bd_structure(d, layer, format, alloc, out),
        _ => return Err(Sense::INVALID_FIELD_IN_CDB),
    }
    let m = d.require_medium()?;
    if !m.is_dvd() {
        return Err(Sense::CANNOT_READ_INCOMPATIBLE_FORMAT);
    }
    out.put_u16(0);
    out.put_u16(0);
    match format {
        PHYSICAL if layer == 0 => physical_format(m, out),
        COPYRIGHT if layer == 0 => out.extend_from_slice(&[0, 0, 0, 0]), // no CSS, all regions
        // What the pre-pits of a DVD-R or DVD-RW say, blank or not: growisofs reads a DVD-R
        // DL's layer 0 size from it.
        PRE_RECORDED_PHYSICAL if layer == 0 && has_pre_pits(m) => physical_format(m, out),
        // DVD+R DL layer boundary: layer 0's data zone capacity, which this drive fixes at
        // half the disc (InitStatus 1: it can no longer be set). growisofs -dvd-compat then
        // leaves the layer break as it is instead of sending one; dvd+rw-mediainfo shows it.
        LAYER_BOUNDARY if layer == 0 && m.kind() == MediumKind::DvdPlusRDualLayer => {
            out.extend_from_slice(&[0x80, 0, 0, 0]);
            out.put_u32(layer0_blocks(m).unwrap_or(0));
        }
        // Write protection status (udev's cdrom_id asks DVD-RAM): not protected.
        WRITE_PROTECTION if m.kind() == MediumKind::DvdRam => out.extend_from_slice(&[0, 0, 0, 0]),
        LIST => {
            let mut formats = vec![(PHYSICAL, 2048u16 + 4), (COPYRIGHT, 8)];
            if has_pre_pits(m) {
                formats.push((PRE_RECORDED_PHYSICAL, 2048 + 4));
            }
            if m.kind() == MediumKind::DvdPlusRDualLayer {
                formats.push((LAYER_BOUNDARY, 12));
            }
            if m.kind() == MediumKind::DvdRam {
                formats.push((WRITE_PROTECTION, 8));
            }
            put_format_list(out, &formats);
        }
        _ => return Err(Sense::INVALID_FIELD_IN_CDB),
    }
    finish(out, alloc)
}

/// The FFh list: each format with the length of its reply, then the list itself.
pub(super) fn put_format_list(out: &mut Vec<u8>, formats: &[(u8, u16)]) {
    let own = (LIST, 4 + 4 * (formats.len() as u16 + 1));
    for &(code, len) in formats.iter().chain([&own]) {
        out.put_u8(code);
        out.put_u8(0x40); // readable (RDS), not sendable
        out.put_u16(len);
    }
}

/// Fill in the reply's data length and cut it to the allocation length.
pub(super) fn finish(out: &mut Vec<u8>, alloc: usize) -> CmdResult {
    let len = (out.len() - 2) as u16;
    out.set_u16(0, len);
    out.limit(alloc);
    Ok(Outcome::Good)
}

/// Whether the disc carries pre-recorded physical format information (land pre-pits): the
/// DVD-R family.
fn has_pre_pits(m: &Medium) -> bool {
    matches!(
        m.kind(),
        MediumKind::DvdMinusR | MediumKind::DvdMinusRDualLayer | MediumKind::DvdRw
    )
}

/// Blocks of layer 0 of a dual-layer disc: half of it, on an ECC block boundary.
fn layer0_blocks(m: &Medium) -> Option<u32> {
    matches!(
        m.kind(),
        MediumKind::DvdPlusRDualLayer | MediumKind::DvdMinusRDualLayer
    )
    .then(|| m.capacity().div_ceil(2).next_multiple_of(16))
}

/// The 2048-byte physical format information of layer 0.
fn physical_format(m: &Medium, out: &mut Vec<u8>) {
    let start = out.len();
    // Book type and part version; number of layers and layer type.
    let (book, layers, layer_type) = match m.kind() {
        MediumKind::DvdRom => (0x01, 0x00, 0x01), // DVD-ROM, embossed
        MediumKind::DvdPlusR => (0xa1, 0x00, 0x02), // DVD+R, recordable
        MediumKind::DvdPlusRDualLayer => (0xe1, 0x20, 0x02), // DVD+R DL, two layers
        MediumKind::DvdMinusR => (0x25, 0x00, 0x02), // DVD-R, recordable
        MediumKind::DvdMinusRDualLayer => (0x26, 0x20, 0x02), // DVD-R DL, two layers
        MediumKind::DvdPlusRw => (0x92, 0x00, 0x04), // DVD+RW, rewritable
        MediumKind::DvdRam => (0x16, 0x00, 0x04), // DVD-RAM 4.7 GB, rewritable
        MediumKind::DvdRw => (0x32, 0x00, 0x04),  // DVD-RW, rewritable
        // Not DVDs: refused before this.
        MediumKind::CdRw
        | MediumKind::CdRom
        | MediumKind::BdRom
        | MediumKind::BdR
        | MediumKind::BdRe => (0x00, 0x00, 0x00),
    };
    out.put_u8(book);
    out.put_u8(0x02); // 120 mm, maximum rate 10.08 Mbit/s
                      // Two layers are recorded on opposite track paths (OTP), as on every DL disc sold.
    let track_path = if layers != 0 { 0x10 } else { 0x00 };
    out.put_u8(layers | track_path | layer_type);
    out.put_u8(0x00); // densities: 0.267 um/bit, 0.74 um/track
                      // A recordable disc's data zone spans its whole capacity; a pressed one, its data.
    let end = if m.kind().is_recordable() {
        m.capacity()
    } else {
        m.readable_blocks()
    };
    out.put_u32(DATA_ZONE_START_PSN);
    match layer0_blocks(m) {
        Some(l0) => {
            // OTP: layer 1 counts on from the complement of layer 0's last sector.
            let l0_end = DATA_ZONE_START_PSN + l0 - 1;
            let l1_start = !l0_end & 0x00ff_ffff;
            out.put_u32(l1_start + end.saturating_sub(l0).saturating_sub(1));
            out.put_u32(l0_end);
        }
        None => {
            // Saturating: a configured capacity near 2^32 blocks has no 32-bit end sector.
            out.put_u32(DATA_ZONE_START_PSN.saturating_add(end.saturating_sub(1)));
            out.put_u32(0); // end sector in layer 0: one layer
        }
    }
    out.put_u8(0); // no BCA
    out.resize(start + 2048, 0);
}
