//! Capacity and block reads: READ CAPACITY(10)/(16), READ(10)/(12).
use super::Drive;
use crate::scsi::cdb::{be16, be32, byte, opcode};
use crate::scsi::reply::ReplyBuf;
use crate::scsi::{CmdResult, Outcome, Sense, BLOCK_SIZE};

/// READ CAPACITY(10) (25h): last readable LBA and the block length.
pub fn read_capacity_10(d: &Drive, out: &mut Vec<u8>) -> CmdResult {
    let m = d.require_medium()?;
    out.put_u32(m.blocks.saturating_sub(1));
    out.put_u32(BLOCK_SIZE as u32);
    Ok(Outcome::Good)
}

/// SERVICE ACTION IN(16) (9Eh); only READ CAPACITY(16) (service action 10h) exists here.
pub fn service_action_in_16(d: &Drive, cdb: &[u8], out: &mut Vec<u8>) -> CmdResult {
    if byte(cdb, 1) & 0x1f != 0x10 {
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    let m = d.require_medium()?;
    let alloc = be32(cdb, 10) as usize;
    out.extend_from_slice(&u64::from(m.blocks.saturating_sub(1)).to_be_bytes());
    out.put_u32(BLOCK_SIZE as u32);
    out.put_zeros(20);
    out.limit(alloc);
    Ok(Outcome::Good)
}

/// READ(10) (28h) and READ(12) (A8h).
pub fn read(d: &Drive, cdb: &[u8]) -> CmdResult {
    let m = d.require_medium()?;
    let lba = u64::from(be32(cdb, 2));
    let blocks = if byte(cdb, 0) == opcode::READ_10 {
        u32::from(be16(cdb, 7))
    } else {
        be32(cdb, 6)
    };
    if lba + u64::from(blocks) > u64::from(m.blocks) {
        return Err(Sense { info: u32::try_from(lba).ok(), ..Sense::LBA_OUT_OF_RANGE });
    }
    if blocks == 0 {
        return Ok(Outcome::Good);
    }
    Ok(Outcome::ReadBlocks { lba, blocks })
}
