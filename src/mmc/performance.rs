//! Speeds: GET PERFORMANCE (ACh), SET STREAMING (B6h), SET CD SPEED (BBh). An image file has
//! no spindle, so the drive reports one nominal read and write speed and accepts any request.
use super::Context;
use crate::scsi::cdb::{be16, byte};
use crate::scsi::reply::ReplyBuf;
use crate::scsi::{CmdResult, Outcome, Sense};

/// 16x DVD, in kB/s.
pub const READ_KBPS: u32 = 16 * 1385;
/// 8x DVD, in kB/s.
pub const WRITE_KBPS: u32 = 8 * 1385;

const TYPE_PERFORMANCE: u8 = 0x00;
const TYPE_WRITE_SPEED: u8 = 0x03;
const DESCRIPTOR_LEN: usize = 16;

pub fn get_performance(d: &Context, cdb: &[u8], out: &mut Vec<u8>) -> CmdResult {
    let data_type = byte(cdb, 1) & 0x1f;
    let max_descriptors = usize::from(be16(cdb, 8));
    let kind = byte(cdb, 10);
    let m = d.require_medium()?;
    let end = m.capacity().saturating_sub(1);
    out.put_u32(0); // performance data length, patched below
    match kind {
        TYPE_PERFORMANCE => {
            let write = data_type & 0x04 != 0;
            // Any tolerance is met: the speed is the same everywhere.
            let except = data_type & 0x03;
            if except == 3 {
                return Err(Sense::INVALID_FIELD_IN_CDB);
            }
            out.put_u8(u8::from(write) << 1);
            out.put_zeros(3);
            // No exception list: the speed is the same everywhere.
            if except == 0 && max_descriptors > 0 {
                let kbps = if write { WRITE_KBPS } else { READ_KBPS };
                out.put_u32(0);
                out.put_u32(kbps);
                out.put_u32(end);
                out.put_u32(kbps);
            }
        }
        TYPE_WRITE_SPEED => {
            out.put_zeros(4);
            if max_descriptors > 0 {
                out.put_u8(0x00); // WRC: default; not exact; no MRW
                out.put_zeros(3);
                out.put_u32(end);
                out.put_u32(READ_KBPS);
                out.put_u32(WRITE_KBPS);
            }
        }
        _ => return Err(Sense::INVALID_FIELD_IN_CDB),
    }
    debug_assert!((out.len() - 8) % DESCRIPTOR_LEN == 0);
    let len = (out.len() - 4) as u32;
    out.set_u32(0, len);
    Ok(Outcome::Good)
}

/// SET STREAMING: a performance descriptor (type 0) is accepted; nothing to change.
pub fn set_streaming(cdb: &[u8], data: &[u8]) -> CmdResult {
    let kind = byte(cdb, 8);
    let len = usize::from(be16(cdb, 9));
    if kind != 0 {
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    if len != 0 && (len < 28 || data.len() < 28) {
        return Err(Sense::PARAMETER_LIST_LENGTH_ERROR);
    }
    Ok(Outcome::Good)
}
