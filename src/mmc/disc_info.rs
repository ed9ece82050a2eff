//! READ DISC INFORMATION (51h) and READ TRACK INFORMATION (52h): always the truth about the
//! disc as recorded so far.
use super::medium::{DiscStatus, Medium, MediumKind};
use super::toc::msf;
use super::{Context, Track};
use crate::scsi::cdb::{be16, be32, byte};
use crate::scsi::reply::ReplyBuf;
use crate::scsi::{CmdResult, Outcome, Sense};

/// Track number that READ TRACK INFORMATION uses for "the invisible/incomplete track".
const INVISIBLE_TRACK: u32 = 0xff;

pub fn read_disc_information(d: &Context, cdb: &[u8], out: &mut Vec<u8>) -> CmdResult {
    if byte(cdb, 1) & 0x07 != 0 {
        // Only standard disc information (data type 000b).
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    let alloc = usize::from(be16(cdb, 7));
    let m = d.require_medium()?;
    let status = m.status();
    // State of the last session: empty (0), incomplete (1) or complete (3).
    let last_session_state = match status {
        DiscStatus::Complete => 3,
        _ if m
            .last_session_tracks()
            .all(|t| t.recorded == 0 && t.reserved.is_none()) =>
        {
            0
        }
        _ => 1,
    };
    let first_in_last = m.last_session_tracks().next().map_or(1, |t| t.number);
    let last_session_start = m.last_session_tracks().next().map_or(0, |t| t.start);
    let erasable = if m.kind().is_erasable() { 0x10 } else { 0 };
    out.put_u16(32); // length after this field: 34-byte disc information
    out.put_u8(erasable | (last_session_state << 2) | status as u8);
    out.put_u8(m.first_track());
    out.put_u8(m.sessions());
    out.put_u8(first_in_last);
    out.put_u8(m.last_track());
    // URU (unrestricted use); for a DVD+RW the background format status (3: complete).
    let background_format = match m.kind() {
        MediumKind::DvdPlusRw if m.formatted() > 0 => 0x03,
        _ => 0,
    };
    out.put_u8(0x20 | background_format);
    out.put_u8(0x00); // disc type: data
    out.put_zeros(3); // MSBs of the session/track numbers
    out.put_u32(0); // disc identification
    if status == DiscStatus::Complete {
        out.put_u32(0xffff_ffff); // last session lead-in: none
        out.put_u32(0xffff_ffff); // last possible lead-out: none
    } else if m.kind().is_cd() {
        // CD addresses are MSF here (cdrwtool reads the lead-out from bytes 21-23).
        out.put_u8(0);
        out.extend_from_slice(&msf(last_session_start));
        out.put_u8(0);
        out.extend_from_slice(&msf(m.capacity()));
    } else {
        out.put_u32(last_session_start);
        out.put_u32(m.recordable_capacity());
    }
    out.put_zeros(8); // bar code
    out.put_u8(0); // application code
    out.put_u8(0); // OPC tables
    out.limit(alloc);
    Ok(Outcome::Good)
}

/// The track an address of READ TRACK INFORMATION names.
fn addressed_track(m: &Medium, kind: u8, value: u32) -> Result<Track, Sense> {
    let found = match kind {
        0 => return m.track_at(value).copied().ok_or(Sense::LBA_OUT_OF_RANGE),
        1 if value == INVISIBLE_TRACK => m.tracks().last().filter(|t| !t.closed),
        1 => u8::try_from(value).ok().and_then(|n| m.track(n)),
        2 => u8::try_from(value)
            .ok()
            .and_then(|s| m.tracks().iter().find(|t| t.session == s)),
        _ => None,
    };
    found.copied().ok_or(Sense::INVALID_FIELD_IN_CDB)
}

pub fn read_track_information(d: &Context, cdb: &[u8], out: &mut Vec<u8>) -> CmdResult {
    let kind = byte(cdb, 1) & 0x03;
    let value = be32(cdb, 2);
    let alloc = usize::from(be16(cdb, 7));
    let m = d.require_medium()?;
    if m.is_overwritable() {
        return overwritable_track_information(m, kind, value, alloc, out);
    }
    let t = addressed_track(m, kind, value)?;
    let blank = t.recorded == 0;
    let nwa_valid = !t.closed && m.is_writable();
    out.put_u16(46); // length after this field: 48 bytes
    out.put_u8(t.number);
    out.put_u8(t.session);
    out.put_u8(0);
    // Track mode: data, recorded uninterrupted (closed) or incrementally (open on DVD+R).
    out.put_u8(if t.closed { 0x04 } else { 0x07 });
    out.put_u8(if blank { 0x41 } else { 0x01 }); // Blank, data mode 1
    out.put_u8(u8::from(nwa_valid) | if blank { 0 } else { 0x02 }); // NWA_V, LRA_V
    out.put_u32(t.start);
    out.put_u32(if nwa_valid { t.nwa() } else { 0 });
    out.put_u32(m.free_blocks(&t));
    out.put_u32(u32::from(m.blocking_factor()));
    out.put_u32(m.track_size(&t));
    out.put_u32(if blank { 0 } else { t.end() - 1 }); // last recorded address
    out.put_u8(0); // track number MSB
    out.put_u8(0); // session number MSB
    out.put_u16(0);
    out.put_u32(0); // read compatibility LBA
    out.put_u32(0); // next layer jump address
    out.put_u32(0); // last layer jump address
    out.limit(alloc);
    Ok(Outcome::Good)
}

/// Track information of a disc written in place: one track over the formatted area, written
/// in fixed packets (or, unformatted, one blank track over the whole disc).
fn overwritable_track_information(
    m: &Medium,
    kind: u8,
    value: u32,
    alloc: usize,
    out: &mut Vec<u8>,
) -> CmdResult {
    let size = if m.formatted() > 0 {
        m.formatted()
    } else {
        m.capacity()
    };
    let valid = match kind {
        0 => {
            if value >= size {
                return Err(Sense::LBA_OUT_OF_RANGE);
            }
            true
        }
        1 => value == 1 || value == INVISIBLE_TRACK,
        2 => value == 1,
        _ => false,
    };
    if !valid {
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    let blank = m.formatted() == 0;
    let packet = match m.kind().packet_alignment() {
        0 => 16,
        p => p,
    };
    out.put_u16(46);
    out.put_u8(1); // track 1
    out.put_u8(1); // session 1
    out.put_u8(0);
    out.put_u8(0x07); // data track, recorded incrementally (packets)
                      // Packet/Inc and FP (fixed packets) once formatted; data mode 1.
    out.put_u8(if blank { 0x41 } else { 0x30 | 0x01 });
    out.put_u8(0); // no NWA, no LRA: the whole track is written in place
    out.put_u32(0); // track start
    out.put_u32(0); // next writable address
    out.put_u32(0); // free blocks
    out.put_u32(packet);
    out.put_u32(size);
    out.put_u32(0); // last recorded address
    out.put_zeros(16);
    out.limit(alloc);
    Ok(Outcome::Good)
}
