//! READ DISC INFORMATION (51h) and READ TRACK INFORMATION (52h).
use super::{Drive, Track};
use crate::scsi::cdb::{be16, be32, byte};
use crate::scsi::reply::ReplyBuf;
use crate::scsi::{CmdResult, Outcome, Sense};

/// Disc status (byte 2, bits 1-0) and state of the last session (bits 3-2).
const DISC_COMPLETE: u8 = 0x02;
const LAST_SESSION_COMPLETE: u8 = 0x03 << 2;

pub fn read_disc_information(d: &Drive, cdb: &[u8], out: &mut Vec<u8>) -> CmdResult {
    if byte(cdb, 1) & 0x07 != 0 {
        // Only standard disc information (data type 000b).
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    let alloc = usize::from(be16(cdb, 7));
    let m = d.require_medium()?;
    let first_in_last = m.last_session_tracks().next().map_or(1, |t| t.number);
    out.put_u16(32); // length after this field: 34-byte disc information
    out.put_u8(LAST_SESSION_COMPLETE | DISC_COMPLETE);
    out.put_u8(m.first_track());
    out.put_u8(m.sessions());
    out.put_u8(first_in_last);
    out.put_u8(m.last_track());
    out.put_u8(0x20); // URU: unrestricted use
    out.put_u8(0x00); // disc type: data
    out.put_zeros(3); // MSBs of the session/track numbers
    out.put_u32(0); // disc identification
    out.put_u32(0xffff_ffff); // last session lead-in: none (disc complete)
    out.put_u32(0xffff_ffff); // last possible lead-out: none (disc complete)
    out.put_zeros(8); // bar code
    out.put_u8(0); // application code
    out.put_u8(0); // OPC tables
    out.limit(alloc);
    Ok(Outcome::Good)
}

/// The track an address of READ TRACK INFORMATION names.
fn addressed_track(d: &Drive, kind: u8, value: u32) -> Result<Track, Sense> {
    let m = d.require_medium()?;
    let found = match kind {
        0 => {
            let lba = value;
            return m.track_at(lba).copied().ok_or(Sense::LBA_OUT_OF_RANGE);
        }
        1 => u8::try_from(value).ok().and_then(|n| m.track(n)),
        2 => u8::try_from(value)
            .ok()
            .and_then(|s| m.tracks.iter().find(|t| t.session == s)),
        _ => None,
    };
    found.copied().ok_or(Sense::INVALID_FIELD_IN_CDB)
}

pub fn read_track_information(d: &Drive, cdb: &[u8], out: &mut Vec<u8>) -> CmdResult {
    let kind = byte(cdb, 1) & 0x03;
    let value = be32(cdb, 2);
    let alloc = usize::from(be16(cdb, 7));
    let t = addressed_track(d, kind, value)?;
    out.put_u16(46); // length after this field: 48 bytes
    out.put_u8(t.number);
    out.put_u8(t.session);
    out.put_u8(0);
    out.put_u8(0x04); // track mode: data, recorded uninterrupted
    out.put_u8(0x01); // data mode 1; not blank, not packet
    out.put_u8(0x02); // LRA_V; no next writable address on a closed track
    out.put_u32(t.start);
    out.put_u32(0); // next writable address
    out.put_u32(0); // free blocks
    out.put_u32(16); // blocking factor of a DVD
    out.put_u32(t.size);
    out.put_u32(t.end().saturating_sub(1)); // last recorded address
    out.put_u8(0); // track number MSB
    out.put_u8(0); // session number MSB
    out.put_u16(0);
    out.put_u32(0); // read compatibility LBA
    out.put_u32(0); // next layer jump address
    out.put_u32(0); // last layer jump address
    out.limit(alloc);
    Ok(Outcome::Good)
}
