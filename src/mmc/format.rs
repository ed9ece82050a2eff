//! Rewritable media preparation: READ FORMAT CAPACITIES (23h), FORMAT UNIT (04h), BLANK (A1h).
//! Formatting and blanking finish at once (an image file has nothing to de-ice), so IMMED
//! changes nothing and the next TEST UNIT READY already finds the drive ready.
use super::block_io::{not_writable, record_error};
use super::medium::SpareSize;
use super::{Context, DiscChange, Medium, MediumKind, Notice};
use crate::scsi::cdb::{be16, be24, be32, byte};
use crate::scsi::reply::ReplyBuf;
use crate::scsi::{CmdResult, Outcome, Sense, BLOCK_SIZE};

/// Format types (MMC FORMAT UNIT descriptor byte 4 bits 7-2).
pub const FULL: u8 = 0x00; // DVD-RAM full format
pub const SPARE_EXPANSION: u8 = 0x01; // DVD-RAM: spare area expansion
pub const FULL_PACKET: u8 = 0x10; // CD-RW / DVD-RW full format, fixed packets
pub const QUICK: u8 = 0x15; // DVD-RW quick format
pub const DVD_PLUS_RW: u8 = 0x26; // DVD+RW basic format
pub const BD_RE_SPARE: u8 = 0x30; // BD-RE with spare areas
pub const BD_RE_NO_SPARE: u8 = 0x31; // BD-RE without spare areas
pub const BD_R_SRM_SPARE: u8 = 0x32; // BD-R for sequential recording, with spare areas
/// Format subtypes of a BD-R's format 32h.
const SRM_WITH_POW: u8 = 0;
const SRM_WITHOUT_POW: u8 = 1;

/// Descriptor types of the current/maximum capacity descriptor.
const UNFORMATTED: u8 = 0x01;
const FORMATTED: u8 = 0x02;
const NO_MEDIUM: u8 = 0x03;

/// One format descriptor of READ FORMAT CAPACITIES: what FORMAT UNIT can be asked to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Offer {
    format: u8,
    /// User blocks the disc holds once formatted so.
    blocks: u32,
    /// The type dependent parameter (a packet size, a block size, a spare size code).
    param: u32,
}

impl Offer {
    /// A format of the whole disc (cut to its packet size).
    fn whole(m: &Medium, format: u8, param: u32) -> Offer {
        let packet = m.kind().packet_alignment();
        let blocks = m.capacity() - m.capacity().checked_rem(packet).unwrap_or(0);
        Offer {
            format,
            blocks,
            param,
        }
    }

    /// A BD format with spare areas of `size` (the parameter codes the spare size the way
    /// real drives list it for BD-RE; BD-R lists 0).
    fn spare(m: &Medium, format: u8, size: SpareSize) -> Offer {
        let param = match (format, size) {
            (BD_R_SRM_SPARE, _) => 0,
            (_, SpareSize::Default) => 0x3000,
            (_, SpareSize::Minimum) => 0x1000,
            (_, SpareSize::Maximum) => 0x5000,
        };
        Offer {
            format,
            blocks: size.user_blocks(m.capacity()),
            param,
        }
    }

    /// Whether a descriptor asking for `format` and `blocks` selects this offer. A BD's
    /// spare formats are told apart by their size; every other format covers the whole disc
    /// whatever size is asked (a DVD+RW restart gives 0), as every client expects.
    fn selected_by(&self, format: u8, blocks: u32) -> bool {
        self.format == format
            && (!matches!(format, BD_RE_SPARE | BD_R_SRM_SPARE) || self.blocks == blocks)
    }
}

/// The formats the disc in the tray offers now, the drive's default first (none that would
/// leave no user blocks: a disc too small for spare areas offers only the formats without).
fn offered(m: &Medium) -> Vec<Offer> {
    let mut offers = match m.kind() {
        MediumKind::DvdPlusRw => vec![Offer::whole(m, DVD_PLUS_RW, 0)],
        MediumKind::DvdRam => vec![
            Offer::whole(m, FULL, BLOCK_SIZE as u32),
            Offer::whole(m, SPARE_EXPANSION, BLOCK_SIZE as u32),
        ],
        MediumKind::DvdRw => vec![Offer::whole(m, FULL_PACKET, 16), Offer::whole(m, QUICK, 16)],
        MediumKind::CdRw => vec![Offer::whole(m, FULL_PACKET, 32)],
        MediumKind::BdRe => {
            let mut list = vec![Offer::spare(m, FULL, SpareSize::Default)];
            list.extend(SpareSize::ALL.map(|size| Offer::spare(m, BD_RE_SPARE, size)));
            list.push(Offer::whole(m, BD_RE_NO_SPARE, BLOCK_SIZE as u32));
            list
        }
        MediumKind::BdR if m.spare_formattable() => SpareSize::ALL
            .map(|size| Offer::spare(m, BD_R_SRM_SPARE, size))
            .to_vec(),
        _ => Vec::new(),
    };
    offers.retain(|o| o.blocks > 0);
    offers
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
            // A DVD-RW recorded sequentially is not formatted for overwriting; a BD-R is
            // formatted once it has spare areas.
            let (blocks, kind) = if m.kind().is_formattable() && m.formatted() == 0 {
                (m.capacity(), UNFORMATTED)
            } else if m.kind().is_formattable() {
                (m.formatted(), FORMATTED)
            } else {
                (m.readable_blocks(), FORMATTED)
            };
            out.put_u32(blocks);
            out.put_u8(kind);
            out.put_u24(BLOCK_SIZE as u32);
            for offer in offered(m) {
                out.put_u32(offer.blocks);
                out.put_u8(offer.format << 2);
                out.put_u24(offer.param);
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
    let offers = offered(m);
    if !m.kind().is_overwritable() && offers.is_empty() {
        return Err(not_writable());
    }
    let (offer, param, subtype) = if !fmt_data {
        // Format with the drive's defaults (a BD-R: SRM without pseudo-overwrite).
        let offer = *offers.first().ok_or(Sense::INVALID_FIELD_IN_CDB)?;
        (offer, offer.param, SRM_WITHOUT_POW)
    } else {
        if code != 1 && !(code == 7 && m.kind() == MediumKind::CdRw) {
            return Err(Sense::INVALID_FIELD_IN_CDB);
        }
        if data.len() < 12 || usize::from(be16(data, 2)) < 8 {
            return Err(Sense::PARAMETER_LIST_LENGTH_ERROR);
        }
        let descriptor = &data[4..12];
        // The low two bits of byte 4 are a BD's format subtype: a BD-R's chooses SRM with
        // pseudo-overwrite (0) or without (1; RRM, 2, is not offered); a BD-RE's kinds of
        // certification all format alike here (an image has nothing to certify).
        let format = if code == 7 {
            FULL_PACKET
        } else {
            descriptor[4] >> 2
        };
        let blocks = be32(descriptor, 0);
        let offer = offers
            .iter()
            .find(|o| o.selected_by(format, blocks))
            .ok_or(Sense::INVALID_FIELD_IN_PARAMETER_LIST)?;
        (*offer, be24(descriptor, 5), descriptor[4] & 0x03)
    };
    if offer.format == FULL_PACKET && param != 0 && param != offer.param {
        // Only the drive's own packet size can be formatted.
        return Err(Sense::INVALID_FIELD_IN_PARAMETER_LIST);
    }
    let mut next = m.clone();
    if m.kind() == MediumKind::BdR {
        // Spare areas on a blank BD-R: it stays blank, with less to record on.
        let pseudo_overwrite = match subtype {
            SRM_WITH_POW => true,
            SRM_WITHOUT_POW => false,
            _ => return Err(Sense::INVALID_FIELD_IN_PARAMETER_LIST),
        };
        next.format_with_spare(offer.blocks, pseudo_overwrite)
            .map_err(record_error)?;
        return Ok(DiscChange::record(next).announcing(Notice::NewContents));
    }
    // Re-formatting a formatted DVD-RAM keeps its data (it only re-certifies); every other
    // format starts from an empty disc.
    let keeps_data = m.kind() == MediumKind::DvdRam && m.formatted() > 0;
    next.format(offer.blocks);
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
