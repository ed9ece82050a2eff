//! The tray: START STOP UNIT, PREVENT ALLOW MEDIUM REMOVAL, MECHANISM STATUS.
use super::{Context, MediaEvent};
use crate::scsi::cdb::{be16, byte};
use crate::scsi::reply::ReplyBuf;
use crate::scsi::{CmdResult, Outcome, Sense};

/// START STOP UNIT (1Bh): LoEj with Start=0 ejects (unless removal is prevented), with Start=1
/// closes the tray and loads whatever disc is in it.
pub fn start_stop_unit(d: &mut Context, cdb: &[u8]) -> CmdResult {
    let power_condition = byte(cdb, 4) >> 4;
    let load_eject = byte(cdb, 4) & 0x02 != 0;
    let start = byte(cdb, 4) & 0x01 != 0;
    if power_condition != 0 || !load_eject {
        // Spin up/down and power states have nothing to emulate.
        return Ok(Outcome::Good);
    }
    if start {
        if d.tray_open {
            d.tray_open = false;
            if d.has_disc() {
                d.events.push(MediaEvent::NewMedia);
                d.unit_attention = Some(Sense::MEDIUM_MAY_HAVE_CHANGED);
            }
        }
        return Ok(Outcome::Good);
    }
    if d.prevent_removal {
        let mut s = Sense::MEDIUM_REMOVAL_PREVENTED;
        if d.medium().is_none() {
            s.key = crate::scsi::sense::key::NOT_READY;
        }
        return Err(s);
    }
    if !d.tray_open {
        d.tray_open = true;
        if d.has_disc() {
            d.events.push(MediaEvent::Removal);
        }
    }
    Ok(Outcome::Good)
}

/// PREVENT ALLOW MEDIUM REMOVAL (1Eh).
pub fn prevent_allow(d: &mut Context, cdb: &[u8]) -> CmdResult {
    d.prevent_removal = byte(cdb, 4) & 0x01 != 0;
    Ok(Outcome::Good)
}

/// MECHANISM STATUS (BDh): the 8-byte header of a drive with no changer.
pub fn mechanism_status(d: &Context, cdb: &[u8], out: &mut Vec<u8>) -> CmdResult {
    let alloc = usize::from(be16(cdb, 8));
    out.put_u8(0); // no fault, changer ready, slot 0
    out.put_u8(if d.tray_open { 0x10 } else { 0x00 }); // mechanism idle; door open bit
    out.put_u24(0); // current LBA (obsolete)
    out.put_u8(0); // slots available
    out.put_u16(0); // slot table length
    out.limit(alloc);
    Ok(Outcome::Good)
}
