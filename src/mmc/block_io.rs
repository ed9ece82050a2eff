//! Capacity and block transfers: READ CAPACITY(10)/(16), READ(10)/(12), WRITE(10)/(12).
use super::commands::opcode;
use super::medium::RecordError;
use super::Context;
use crate::scsi::cdb::{be16, be32, byte};
use crate::scsi::reply::ReplyBuf;
use crate::scsi::sense::key;
use crate::scsi::{CmdResult, Outcome, Sense, BLOCK_SIZE};

/// 05/21/02: invalid address for write (not the next writable address).
pub const INVALID_ADDRESS_FOR_WRITE: Sense = Sense::new(key::ILLEGAL_REQUEST, 0x21, 0x02);

/// READ CAPACITY(10) (25h): last readable LBA and the block length (0 on a blank disc).
pub fn read_capacity_10(d: &Context, out: &mut Vec<u8>) -> CmdResult {
    let m = d.require_medium()?;
    out.put_u32(m.readable_blocks().saturating_sub(1));
    out.put_u32(BLOCK_SIZE as u32);
    Ok(Outcome::Good)
}

/// READ CAPACITY(16) (SERVICE ACTION IN(16), 9Eh/10h).
pub fn read_capacity_16(d: &Context, cdb: &[u8], out: &mut Vec<u8>) -> CmdResult {
    let m = d.require_medium()?;
    let alloc = be32(cdb, 10) as usize;
    out.extend_from_slice(&u64::from(m.readable_blocks().saturating_sub(1)).to_be_bytes());
    out.put_u32(BLOCK_SIZE as u32);
    out.put_zeros(20);
    out.limit(alloc);
    Ok(Outcome::Good)
}

/// LBA and block count of READ/WRITE (10) and (12).
fn transfer(cdb: &[u8]) -> (u64, u32) {
    let lba = u64::from(be32(cdb, 2));
    let ten = matches!(
        byte(cdb, 0),
        opcode::READ_10 | opcode::WRITE_10 | opcode::WRITE_AND_VERIFY_10
    );
    let blocks = if ten {
        u32::from(be16(cdb, 7))
    } else {
        be32(cdb, 6)
    };
    (lba, blocks)
}

/// READ(10) (28h) and READ(12) (A8h): recorded blocks only.
pub fn read(d: &Context, cdb: &[u8]) -> CmdResult {
    let m = d.require_medium()?;
    let (lba, blocks) = transfer(cdb);
    if lba + u64::from(blocks) > u64::from(m.readable_blocks()) {
        return Err(Sense {
            info: u32::try_from(lba).ok(),
            ..Sense::LBA_OUT_OF_RANGE
        });
    }
    if blocks == 0 {
        return Ok(Outcome::Good);
    }
    Ok(Outcome::ReadBlocks { lba, blocks })
}

/// WRITE(10) (2Ah), WRITE AND VERIFY(10) (2Eh, the verify is the write itself: an image
/// reads back what was written) and WRITE(12) (AAh): at the next writable address of an open
/// track.
pub fn write(d: &Context, cdb: &[u8]) -> CmdResult {
    let m = d.require_medium()?;
    let (lba, blocks) = transfer(cdb);
    let Ok(lba32) = u32::try_from(lba) else {
        return Err(Sense::LBA_OUT_OF_RANGE);
    };
    if blocks == 0 {
        return if m.is_writable() {
            Ok(Outcome::Good)
        } else {
            Err(not_writable())
        };
    }
    m.check_write(lba32, blocks).map_err(record_error)?;
    // Disc-At-Once writes only into the track RESERVE TRACK made for them.
    if super::recording::disc_at_once(d, m) && !m.writes_into_reservation(lba32) {
        return Err(Sense::COMMAND_SEQUENCE_ERROR);
    }
    Ok(Outcome::WriteBlocks { lba, blocks })
}

/// Sense for writing to a medium that cannot be written.
pub fn not_writable() -> Sense {
    Sense::CANNOT_WRITE_INCOMPATIBLE_FORMAT
}

/// The sense a real drive gives for each way a recording request can fail.
pub fn record_error(e: RecordError) -> Sense {
    match e {
        RecordError::NotWritable => not_writable(),
        RecordError::NotNextWritable => INVALID_ADDRESS_FOR_WRITE,
        RecordError::NoSpace => Sense::LBA_OUT_OF_RANGE,
        RecordError::Sequence => Sense::COMMAND_SEQUENCE_ERROR,
        RecordError::BadTrack | RecordError::Unaligned => Sense::INVALID_FIELD_IN_CDB,
    }
}
