//! Mode pages: 2Ah (MM capabilities and mechanical status).
use super::Drive;
use crate::scsi::reply::ReplyBuf;
use crate::scsi::spc::{ModePages, PageControl};

pub const CAPABILITIES: u8 = 0x2a;

/// Read speed we report: 16x DVD (1x DVD = 1385 kB/s).
const READ_SPEED_KBPS: u16 = 16 * 1385;
/// Buffer size, in KiB.
const BUFFER_KIB: u16 = 2048;

impl ModePages for Drive {
    fn page_codes(&self) -> &'static [u8] {
        &[CAPABILITIES]
    }

    fn append_page(&self, page: u8, pc: PageControl, out: &mut Vec<u8>) -> bool {
        match page {
            CAPABILITIES => {
                capabilities(self, pc, out);
                true
            }
            _ => false,
        }
    }
}

/// Page 2Ah. Linux reads it once at probe (via MODE SENSE(6)) to learn what the drive can
/// read and write; it claims only what the drive really does.
fn capabilities(d: &Drive, pc: PageControl, out: &mut Vec<u8>) {
    let start = out.len();
    out.put_u8(CAPABILITIES);
    out.put_u8(0); // page length, patched below
    if pc == PageControl::Changeable {
        // Nothing in this page can be changed.
        out.put_zeros(30);
    } else {
        out.put_u8(0x08); // reads DVD-ROM
        out.put_u8(0x00); // writes nothing yet
        out.put_u8(0x40); // multi-session
        out.put_u8(0x00);
        let lock_state = if d.removal_prevented() { 0x02 } else { 0 };
        out.put_u8((1 << 5) | 0x08 | 0x01 | lock_state); // tray, eject, lock (+ locked)
        out.put_u8(0x00);
        out.put_u16(READ_SPEED_KBPS); // maximum read speed (obsolete)
        out.put_u16(0); // volume levels
        out.put_u16(BUFFER_KIB);
        out.put_u16(READ_SPEED_KBPS); // current read speed (obsolete)
        out.put_u8(0);
        out.put_u8(0); // digital output format
        out.put_u16(0); // maximum write speed (obsolete)
        out.put_u16(0); // current write speed (obsolete)
        out.put_u16(0); // copy management revision
        out.put_zeros(3);
        out.put_u8(0); // rotation control: CLV
        out.put_u16(0); // current write speed
        out.put_u16(0); // no write speed descriptors
    }
    out[start + 1] = (out.len() - start - 2) as u8;
}
