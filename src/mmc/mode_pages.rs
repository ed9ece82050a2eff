//! Mode pages: 05h (write parameters, set by MODE SELECT) and 2Ah (MM capabilities and
//! mechanical status).
use super::commands::opcode;
use super::performance::{READ_KBPS, WRITE_KBPS};
use super::Drive;
use crate::scsi::cdb::{be16, byte};
use crate::scsi::reply::ReplyBuf;
use crate::scsi::spc::{ModePages, PageControl};
use crate::scsi::{CmdResult, Outcome, Sense};

pub const READ_WRITE_ERROR_RECOVERY: u8 = 0x01;
pub const WRITE_PARAMETERS: u8 = 0x05;
pub const CACHING: u8 = 0x08;
pub const CAPABILITIES: u8 = 0x2a;

/// Page 05h with its header: page code, page length 32h, then 50 bytes.
pub const WRITE_PARAMETERS_LEN: usize = 2 + 0x32;

/// Defaults: BUFE, session-at-once write type, data track mode 5, Mode 1 blocks, link size
/// 16, packet size 16 and the customary 150-frame audio pause.
pub const DEFAULT_WRITE_PARAMETERS: [u8; WRITE_PARAMETERS_LEN] = {
    let mut p = [0u8; WRITE_PARAMETERS_LEN];
    p[0] = WRITE_PARAMETERS;
    p[1] = 0x32;
    p[2] = 0x40 | 0x02;
    p[3] = 0x05;
    p[4] = 0x08;
    p[5] = 16;
    p[13] = 16;
    p[15] = 150;
    p
};

/// Write types of page 05h byte 2 (bits 3-0).
pub mod write_type {
    /// Packet / Incremental Streaming.
    pub const INCREMENTAL: u8 = 0;
    pub const TRACK_AT_ONCE: u8 = 1;
    /// Session-at-once on CD, Disc-At-Once on DVD-R.
    pub const DISC_AT_ONCE: u8 = 2;
    pub const RAW: u8 = 3;
    /// DVD-R DL layer jump recording: not offered.
    pub const LAYER_JUMP: u8 = 4;
}

/// Page 05h byte 3 bits 7-6: the next session (border) is allowed.
const NEXT_SESSION_ALLOWED: u8 = 0b11;

impl Drive {
    /// The write type page 05h sets now.
    pub fn write_type(&self) -> u8 {
        self.write_parameters[2] & 0x0f
    }

    /// Whether page 05h allows a next session: when it does not, closing a session of a
    /// DVD-R or DVD-RW closes the disc.
    pub fn next_session_allowed(&self) -> bool {
        self.write_parameters[3] >> 6 == NEXT_SESSION_ALLOWED
    }
}

/// Buffer size, in KiB.
const BUFFER_KIB: u16 = 2048;

impl ModePages for Drive {
    fn page_codes(&self) -> &'static [u8] {
        &[
            READ_WRITE_ERROR_RECOVERY,
            WRITE_PARAMETERS,
            CACHING,
            CAPABILITIES,
        ]
    }

    fn append_page(&self, page: u8, pc: PageControl, out: &mut Vec<u8>) -> bool {
        match page {
            READ_WRITE_ERROR_RECOVERY => {
                out.extend_from_slice(&[READ_WRITE_ERROR_RECOVERY, 0x0a]);
                if pc == PageControl::Changeable {
                    out.put_zeros(10);
                } else {
                    // No error recovery to tune: an image file does not fail to read.
                    out.extend_from_slice(&self.error_recovery);
                }
                true
            }
            WRITE_PARAMETERS => {
                match pc {
                    PageControl::Current => out.extend_from_slice(&self.write_parameters),
                    PageControl::Default => out.extend_from_slice(&DEFAULT_WRITE_PARAMETERS),
                    PageControl::Changeable => {
                        out.extend_from_slice(&[WRITE_PARAMETERS, 0x32]);
                        out.resize(out.len() + WRITE_PARAMETERS_LEN - 2, 0xff);
                    }
                }
                true
            }
            CACHING => {
                // Writes reach the image before GOOD: no write cache to enable (WCE 0), and the
                // bit is not changeable.
                out.extend_from_slice(&[CACHING, 0x0a]);
                out.put_zeros(10);
                true
            }
            CAPABILITIES => {
                capabilities(self, pc, out);
                true
            }
            _ => false,
        }
    }
}

/// Page 2Ah. Linux reads it once at probe (via MODE SENSE(6)) to learn what the drive can
/// read and write; it claims only what the drive really does (DVD+R recording has no bit
/// here: it is announced by the DVD+R feature).
fn capabilities(d: &Drive, pc: PageControl, out: &mut Vec<u8>) {
    let start = out.len();
    out.put_u8(CAPABILITIES);
    out.put_u8(0); // page length, patched below
    if pc == PageControl::Changeable {
        // Nothing in this page can be changed.
        out.put_zeros(34);
    } else {
        // Reads CD-R, CD-RW, DVD-ROM and DVD-RAM; writes CD-R, CD-RW and DVD-RAM (wodim
        // refuses any drive that does not claim CD writing, even for DVD). DVD+R/+RW and DVD-RW
        // recording have no bit here: their features announce them.
        out.put_u8(0x20 | 0x08 | 0x02 | 0x01);
        out.put_u8(0x20 | 0x02 | 0x01);
        out.put_u8(0x40); // multi-session
        out.put_u8(0x00);
        let lock_state = if d.removal_prevented() { 0x02 } else { 0 };
        out.put_u8((1 << 5) | 0x08 | 0x01 | lock_state); // tray, eject, lock (+ locked)
        out.put_u8(0x00);
        out.put_u16(READ_KBPS as u16); // maximum read speed (obsolete)
        out.put_u16(0); // volume levels
        out.put_u16(BUFFER_KIB);
        out.put_u16(READ_KBPS as u16); // current read speed (obsolete)
        out.put_u8(0);
        out.put_u8(0); // digital output format
        out.put_u16(WRITE_KBPS as u16); // maximum write speed (obsolete)
        out.put_u16(WRITE_KBPS as u16); // current write speed (obsolete)
        out.put_u16(0); // copy management revision
        out.put_zeros(3);
        out.put_u8(0); // rotation control: CLV
        out.put_u16(WRITE_KBPS as u16); // current write speed
        out.put_u16(1); // one write speed descriptor
        out.put_u8(0);
        out.put_u8(0); // CLV
        out.put_u16(WRITE_KBPS as u16);
    }
    out[start + 1] = (out.len() - start - 2) as u8;
}

/// MODE SELECT(6) (15h) and (10) (55h): only page 05h can be changed.
pub fn mode_select(d: &mut Drive, cdb: &[u8], data: &[u8]) -> CmdResult {
    let ten = byte(cdb, 0) == opcode::MODE_SELECT_10;
    if byte(cdb, 1) & 0x01 != 0 {
        // SP: saving pages is not supported.
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    let len = if ten {
        usize::from(be16(cdb, 7))
    } else {
        usize::from(byte(cdb, 4))
    };
    let data = &data[..len.min(data.len())];
    if data.is_empty() {
        return Ok(Outcome::Good);
    }
    let (header, descriptors) = if ten {
        (8, usize::from(be16(data, 6)))
    } else {
        (4, usize::from(byte(data, 3)))
    };
    let mut pos = header + descriptors;
    if pos > data.len() {
        return Err(Sense::PARAMETER_LIST_LENGTH_ERROR);
    }
    while pos < data.len() {
        if pos + 2 > data.len() {
            return Err(Sense::PARAMETER_LIST_LENGTH_ERROR);
        }
        let code = data[pos] & 0x3f;
        let page_len = usize::from(data[pos + 1]);
        let Some(page) = data.get(pos..pos + 2 + page_len) else {
            return Err(Sense::PARAMETER_LIST_LENGTH_ERROR);
        };
        match code {
            WRITE_PARAMETERS => set_write_parameters(d, page)?,
            CACHING => {
                // pktcdvd may ask for WCE; there is no cache, so nothing changes.
            }
            READ_WRITE_ERROR_RECOVERY => {
                // Accepted (libburn sets it) and kept, though nothing here can fail to read.
                let n = page.len().min(12);
                d.error_recovery[..n - 2].copy_from_slice(&page[2..n]);
            }
            _ => return Err(Sense::INVALID_FIELD_IN_PARAMETER_LIST),
        }
        pos += 2 + page_len;
    }
    Ok(Outcome::Good)
}

fn set_write_parameters(d: &mut Drive, page: &[u8]) -> Result<(), Sense> {
    // Write types: packet, TAO, SAO, raw; layer jump recording is not offered.
    if page.len() > 2 && page[2] & 0x0f > write_type::RAW {
        return Err(Sense::INVALID_FIELD_IN_PARAMETER_LIST);
    }
    let n = page.len().min(WRITE_PARAMETERS_LEN);
    d.write_parameters[2..n].copy_from_slice(&page[2..n]);
    Ok(())
}
