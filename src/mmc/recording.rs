//! Recording a sequential disc: RESERVE TRACK, CLOSE TRACK/SESSION, SYNCHRONIZE CACHE,
//! READ BUFFER CAPACITY, SEND OPC INFORMATION.
use super::block_io::{not_writable, record_error};
use super::mode_pages::write_type;
use super::{Context, DiscChange, Medium, MediumKind, Notice};
use crate::scsi::cdb::{be16, be32, byte};
use crate::scsi::reply::ReplyBuf;
use crate::scsi::{CmdResult, Outcome, Sense};

/// CLOSE TRACK/SESSION functions (MMC; wodim's CL_TYPE_*).
const STOP_BACKGROUND_FORMAT: u8 = 0;
const CLOSE_TRACK: u8 = 1;
const CLOSE_SESSION: u8 = 2;
const FINALIZE_MINIMUM_RADIUS: u8 = 5;
const FINALIZE: u8 = 6;

/// The drive's write buffer, reported by READ BUFFER CAPACITY.
const BUFFER_BYTES: u32 = 2 * 1024 * 1024;

/// Whether this disc is being recorded Disc-At-Once: a DVD-R or sequential DVD-RW with write
/// type 2 in page 05h.
pub fn disc_at_once(d: &Context, m: &Medium) -> bool {
    m.kind().follows_write_parameters()
        && !m.is_overwritable()
        && d.write_type() == write_type::DISC_AT_ONCE
}

/// How the host learns of `next` replacing `m`: a disc that now presents another profile (a
/// finalized DVD+R reads as a DVD-ROM) is changed in place; a new session or a closed disc
/// is new contents.
fn notice_between(m: &Medium, next: &Medium) -> Notice {
    if next.profile() != m.profile() {
        Notice::ChangedInPlace
    } else if next.closed_sessions() != m.closed_sessions() || next.finalized() != m.finalized() {
        Notice::NewContents
    } else {
        Notice::Silent
    }
}

/// SYNCHRONIZE CACHE (35h): everything written is made durable. A Disc-At-Once recording of
/// a DVD-R whose reservation is written to its end is closed now, as a real drive closes it
/// (growisofs and wodim send no CLOSE after DAO).
pub fn synchronize_cache(d: &Context) -> Result<DiscChange, Sense> {
    let Some(m) = d.medium() else {
        return Ok(DiscChange::flush());
    };
    if !(m.is_writable() && disc_at_once(d, m) && m.dao_recording_done()) {
        return Ok(DiscChange::flush());
    }
    let mut next = m.clone();
    next.finalize().map_err(record_error)?;
    let notice = notice_between(m, &next);
    Ok(DiscChange::record(next).announcing(notice))
}

/// RESERVE TRACK (53h), by size (ARSV=0). For a Disc-At-Once recording the size is exact.
pub fn reserve_track(d: &Context, cdb: &[u8]) -> Result<DiscChange, Sense> {
    if byte(cdb, 1) & 0x01 != 0 {
        // Reservation by end address is a BD-R feature.
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    let size = be32(cdb, 5);
    if size == 0 {
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    let m = d.require_medium()?;
    let mut next = m.clone();
    if disc_at_once(d, m) {
        next.reserve_track_exact(size)
    } else {
        next.reserve_track(size)
    }
    .map_err(record_error)?;
    Ok(DiscChange::record(next))
}

/// CLOSE TRACK/SESSION (5Bh): functions 1 (track), 2 (session), 5 and 6 (finalize).
pub fn close_track_session(d: &Context, cdb: &[u8]) -> Result<DiscChange, Sense> {
    let function = byte(cdb, 2) & 0x07;
    let track = be16(cdb, 4);
    let m = d.require_medium()?;
    if !m.kind().is_recordable() {
        return Err(not_writable());
    }
    if m.is_overwritable() {
        // Nothing to close on a disc written in place. Function 0 stops a DVD+RW background
        // format (which here is always finished already); the others are accepted as no-ops,
        // as the kernel sends 0 and 2 when it releases a written DVD+RW.
        return match function {
            STOP_BACKGROUND_FORMAT if m.kind() != MediumKind::DvdPlusRw => {
                Err(Sense::INVALID_FIELD_IN_CDB)
            }
            STOP_BACKGROUND_FORMAT
            | CLOSE_TRACK
            | CLOSE_SESSION
            | FINALIZE_MINIMUM_RADIUS
            | FINALIZE => Ok(DiscChange::flush()),
            _ => Err(Sense::INVALID_FIELD_IN_CDB),
        };
    }
    if !matches!(
        function,
        CLOSE_TRACK | CLOSE_SESSION | FINALIZE_MINIMUM_RADIUS | FINALIZE
    ) {
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    if m.finalized() {
        // Closing a complete disc again changes nothing.
        return Ok(DiscChange::flush());
    }
    let mut next = m.clone();
    match function {
        CLOSE_TRACK => {
            let number = u8::try_from(track).map_err(|_| Sense::INVALID_FIELD_IN_CDB)?;
            next.close_track(number).map_err(record_error)?;
        }
        CLOSE_SESSION => {
            next.close_session().map_err(record_error)?;
            // DVD-R: a session (border) closed with "no next session" in page 05h closes the
            // disc.
            let closes_disc = m.kind().follows_write_parameters() && !d.next_session_allowed();
            if closes_disc && next.tracks().iter().any(|t| t.closed) {
                next.finalize().map_err(record_error)?;
            }
        }
        _ => next.finalize().map_err(record_error)?,
    }
    if d.finalize_on_close && !next.finalized() {
        next.finalize().map_err(record_error)?;
    }
    let notice = notice_between(m, &next);
    Ok(DiscChange::record(next).announcing(notice))
}

/// READ BUFFER CAPACITY (5Ch). Writes go straight to the image, so the buffer is always empty.
pub fn read_buffer_capacity(d: &Context, cdb: &[u8], out: &mut Vec<u8>) -> CmdResult {
    let block = byte(cdb, 1) & 0x01 != 0;
    let alloc = usize::from(be16(cdb, 7));
    let m = d.require_medium()?;
    if !m.is_writable() {
        // 05/30/02: nothing to record on this medium.
        return Err(Sense::new(
            crate::scsi::sense::key::ILLEGAL_REQUEST,
            0x30,
            0x02,
        ));
    }
    out.put_u16(10);
    out.put_u8(0);
    if block {
        out.put_u8(0x01);
        out.put_u32(0);
        out.put_u32(BUFFER_BYTES / crate::scsi::BLOCK_SIZE as u32);
    } else {
        out.put_u8(0);
        out.put_u32(BUFFER_BYTES);
        out.put_u32(BUFFER_BYTES);
    }
    out.limit(alloc);
    Ok(Outcome::Good)
}
