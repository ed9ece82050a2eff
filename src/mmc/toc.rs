//! READ TOC/PMA/ATIP (43h): formats 0 (TOC), 1 (session info) and 2 (full TOC), in LBA or MSF.
use super::{Context, Medium, MediumKind};
use crate::scsi::cdb::{be16, byte};
use crate::scsi::reply::ReplyBuf;
use crate::scsi::{CmdResult, Outcome, Sense};

/// ADR 1 (Q sub-channel position), control 4 (data track, recorded uninterrupted).
const ADR_CONTROL_DATA: u8 = 0x14;
/// The lead-out's track number.
pub const LEAD_OUT: u8 = 0xaa;

/// MSF address of `lba` (with the 150-frame pre-gap), saturating at the largest encodable time.
pub fn msf(lba: u32) -> [u8; 3] {
    let frames = u64::from(lba) + 150;
    if frames >= 256 * 60 * 75 {
        return [0xff, 59, 74];
    }
    [
        (frames / (60 * 75)) as u8,
        (frames / 75 % 60) as u8,
        (frames % 75) as u8,
    ]
}

fn put_address(out: &mut Vec<u8>, lba: u32, use_msf: bool) {
    if use_msf {
        out.put_u8(0);
        out.extend_from_slice(&msf(lba));
    } else {
        out.put_u32(lba);
    }
}

pub fn read_toc(d: &Context, cdb: &[u8], out: &mut Vec<u8>) -> CmdResult {
    let m = d.require_medium()?;
    let use_msf = byte(cdb, 1) & 0x02 != 0;
    let mut format = byte(cdb, 2) & 0x0f;
    if format == 0 {
        // The pre-MMC format field in the top bits of the control byte (Linux sr uses it).
        format = byte(cdb, 9) >> 6;
    }
    let track = byte(cdb, 6);
    let alloc = usize::from(be16(cdb, 7));
    if format == 4 {
        atip(m, out)?;
        let len = (out.len() - 2) as u16;
        out.set_u16(0, len);
        out.limit(alloc);
        return Ok(Outcome::Good);
    }
    if m.toc_tracks().next().is_none() {
        // A disc with no closed track (blank, or still being written) has no table of contents.
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    match format {
        0 => toc(m, track, use_msf, out)?,
        1 => session_info(m, use_msf, out),
        2 => full_toc(m, out),
        _ => return Err(Sense::INVALID_FIELD_IN_CDB),
    }
    let len = (out.len() - 2) as u16;
    out.set_u16(0, len);
    out.limit(alloc);
    Ok(Outcome::Good)
}

/// End of the last closed track: where the lead-out of the table of contents goes.
fn lead_out(m: &Medium) -> u32 {
    m.toc_tracks().map(|t| t.end()).max().unwrap_or(0)
}

fn toc(m: &Medium, track: u8, use_msf: bool, out: &mut Vec<u8>) -> Result<(), Sense> {
    let first = m.toc_tracks().next().map_or(1, |t| t.number);
    let last = m.toc_tracks().last().map_or(1, |t| t.number);
    if track > last && track != LEAD_OUT {
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    out.put_u16(0);
    out.put_u8(first);
    out.put_u8(last);
    for t in m
        .toc_tracks()
        .filter(|t| t.number >= track.max(1) && track != LEAD_OUT)
    {
        out.extend_from_slice(&[0, ADR_CONTROL_DATA, t.number, 0]);
        put_address(out, t.start, use_msf);
    }
    out.extend_from_slice(&[0, ADR_CONTROL_DATA, LEAD_OUT, 0]);
    put_address(out, lead_out(m), use_msf);
    Ok(())
}

/// Format 4, ATIP: what the pre-groove of a CD-RW says about it (readable blank or not).
fn atip(m: &Medium, out: &mut Vec<u8>) -> Result<(), Sense> {
    // A pressed CD has no pre-groove.
    if m.kind() != MediumKind::CdRw {
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    out.put_u16(0);
    out.put_u16(0);
    out.put_u8(0x80); // indicative writing power; reference speed
    out.put_u8(0x00); // unrestricted use not set
    out.put_u8(0x40 | (1 << 3) | 0x04); // CD-RW, high-speed sub-type, A1 valid
    out.put_u8(0);
    out.extend_from_slice(&[97, 26, 66, 0]); // start of lead-in
    out.extend_from_slice(&msf(m.capacity()));
    out.put_u8(0);
    out.extend_from_slice(&[0x40, 0, 0, 0]); // A1: recording speeds (up to 10x)
    out.put_zeros(8); // A2, A3
    Ok(())
}

fn session_info(m: &Medium, use_msf: bool, out: &mut Vec<u8>) {
    let sessions = m.closed_sessions().max(1);
    let first_of_last = m.last_closed_session_tracks().find(|t| t.closed);
    let (number, start) = first_of_last.map_or((1, 0), |t| (t.number, t.start));
    out.put_u16(0);
    out.put_u8(1);
    out.put_u8(sessions);
    out.extend_from_slice(&[0, ADR_CONTROL_DATA, number, 0]);
    put_address(out, start, use_msf);
}

fn full_toc(m: &Medium, out: &mut Vec<u8>) {
    let sessions = m.closed_sessions().max(1);
    out.put_u16(0);
    out.put_u8(1);
    out.put_u8(sessions);
    for session in 1..=sessions {
        let mut tracks = m.toc_tracks().filter(|t| t.session == session);
        let Some(first) = tracks.next().copied() else {
            continue;
        };
        let last = tracks.last().copied().unwrap_or(first);
        let lead_out = last.end();
        let mut point = |p: u8, pm: [u8; 3]| {
            out.extend_from_slice(&[session, ADR_CONTROL_DATA, 0, p, 0, 0, 0, 0]);
            out.extend_from_slice(&pm);
        };
        point(0xa0, [first.number, 0x00, 0]);
        point(0xa1, [last.number, 0, 0]);
        point(0xa2, msf(lead_out));
        for t in m.toc_tracks().filter(|t| t.session == session) {
            point(t.number, msf(t.start));
        }
    }
}
