//! Recording a sequential disc: RESERVE TRACK, CLOSE TRACK/SESSION, SYNCHRONIZE CACHE,
//! READ BUFFER CAPACITY, SEND OPC INFORMATION.
use super::block_io::{not_writable, record_error};
use super::{Drive, MediumKind};
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

/// RESERVE TRACK (53h), by size (ARSV=0).
pub fn reserve_track(d: &mut Drive, cdb: &[u8]) -> CmdResult {
    if byte(cdb, 1) & 0x01 != 0 {
        // Reservation by end address is a BD-R feature.
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    let size = be32(cdb, 5);
    let m = d.require_medium_mut()?;
    if size == 0 {
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    m.reserve_track(size).map_err(record_error)?;
    d.persist = true;
    Ok(Outcome::Good)
}

/// CLOSE TRACK/SESSION (5Bh): functions 1 (track), 2 (session), 5 and 6 (finalize).
pub fn close_track_session(d: &mut Drive, cdb: &[u8]) -> CmdResult {
    let function = byte(cdb, 2) & 0x07;
    let track = be16(cdb, 4);
    let finalize_on_close = d.finalize_on_close;
    let m = d.require_medium_mut()?;
    if !m.kind.is_recordable() {
        return Err(not_writable());
    }
    if m.is_overwritable() {
        // Nothing to close on a disc written in place. Function 0 stops a DVD+RW background
        // format (which here is always finished already); the others are accepted as no-ops,
        // as the kernel sends 0 and 2 when it releases a written DVD+RW.
        return match function {
            STOP_BACKGROUND_FORMAT if m.kind != MediumKind::DvdPlusRw => {
                Err(Sense::INVALID_FIELD_IN_CDB)
            }
            STOP_BACKGROUND_FORMAT
            | CLOSE_TRACK
            | CLOSE_SESSION
            | FINALIZE_MINIMUM_RADIUS
            | FINALIZE => {
                d.persist = true;
                Ok(Outcome::Good)
            }
            _ => Err(Sense::INVALID_FIELD_IN_CDB),
        };
    }
    if !matches!(
        function,
        CLOSE_TRACK | CLOSE_SESSION | FINALIZE_MINIMUM_RADIUS | FINALIZE
    ) {
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    if m.finalized {
        // Closing a complete disc again changes nothing.
        return Ok(Outcome::Good);
    }
    let sessions_before = m.closed_sessions();
    match function {
        CLOSE_TRACK => {
            let number = u8::try_from(track).map_err(|_| Sense::INVALID_FIELD_IN_CDB)?;
            m.close_track(number).map_err(record_error)?;
        }
        CLOSE_SESSION => {
            m.close_session().map_err(record_error)?;
        }
        _ => m.finalize().map_err(record_error)?,
    }
    if finalize_on_close && !m.finalized {
        m.finalize().map_err(record_error)?;
    }
    let morphed = m.finalized;
    let session_closed = m.closed_sessions() != sessions_before;
    d.persist = true;
    if morphed {
        // Now a DVD-ROM: make the host read the disc again (media event and unit attention).
        d.medium_changed_in_place();
    } else if session_closed {
        d.announce_new_contents();
    }
    Ok(Outcome::Good)
}

/// SYNCHRONIZE CACHE (35h): everything written so far becomes durable before GOOD.
pub fn synchronize_cache(d: &mut Drive) -> CmdResult {
    if d.medium().is_some() {
        d.persist = true;
    }
    Ok(Outcome::Good)
}

/// READ BUFFER CAPACITY (5Ch). Writes go straight to the image, so the buffer is always empty.
pub fn read_buffer_capacity(d: &Drive, cdb: &[u8], out: &mut Vec<u8>) -> CmdResult {
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
