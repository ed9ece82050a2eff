//! CDB field access and the facts about a CDB that the transport needs (length, direction).

/// Operation codes an optical drive sees.
pub mod opcode {
    pub const TEST_UNIT_READY: u8 = 0x00;
    pub const REQUEST_SENSE: u8 = 0x03;
    pub const FORMAT_UNIT: u8 = 0x04;
    pub const INQUIRY: u8 = 0x12;
    pub const MODE_SELECT_6: u8 = 0x15;
    pub const MODE_SENSE_6: u8 = 0x1a;
    pub const START_STOP_UNIT: u8 = 0x1b;
    pub const PREVENT_ALLOW_MEDIUM_REMOVAL: u8 = 0x1e;
    pub const READ_FORMAT_CAPACITIES: u8 = 0x23;
    pub const READ_CAPACITY_10: u8 = 0x25;
    pub const READ_10: u8 = 0x28;
    pub const WRITE_10: u8 = 0x2a;
    pub const WRITE_AND_VERIFY_10: u8 = 0x2e;
    pub const SYNCHRONIZE_CACHE_10: u8 = 0x35;
    pub const READ_TOC_PMA_ATIP: u8 = 0x43;
    pub const GET_CONFIGURATION: u8 = 0x46;
    pub const GET_EVENT_STATUS_NOTIFICATION: u8 = 0x4a;
    pub const READ_DISC_INFORMATION: u8 = 0x51;
    pub const READ_TRACK_INFORMATION: u8 = 0x52;
    pub const RESERVE_TRACK: u8 = 0x53;
    pub const SEND_OPC_INFORMATION: u8 = 0x54;
    pub const MODE_SELECT_10: u8 = 0x55;
    pub const MODE_SENSE_10: u8 = 0x5a;
    pub const CLOSE_TRACK_SESSION: u8 = 0x5b;
    pub const READ_BUFFER_CAPACITY: u8 = 0x5c;
    pub const SEND_CUE_SHEET: u8 = 0x5d;
    pub const SERVICE_ACTION_IN_16: u8 = 0x9e;
    pub const BLANK: u8 = 0xa1;
    pub const SEND_KEY: u8 = 0xa3;
    pub const READ_12: u8 = 0xa8;
    pub const WRITE_12: u8 = 0xaa;
    pub const GET_PERFORMANCE: u8 = 0xac;
    pub const READ_DVD_STRUCTURE: u8 = 0xad;
    pub const SET_STREAMING: u8 = 0xb6;
    pub const SET_CD_SPEED: u8 = 0xbb;
    pub const MECHANISM_STATUS: u8 = 0xbd;
    pub const SEND_DVD_STRUCTURE: u8 = 0xbf;
}

/// The longest CDB the kernel passes (`scsi_command_size` of a variable-length CDB is capped by
/// the core at 260 bytes).
pub const MAX_CDB_LEN: usize = 260;

/// How many CDB bytes the kernel copied into the ring for a CDB starting with `first`
/// (`scsi_command_size`). For the variable-length opcode 7Fh the length also depends on byte 7,
/// so callers pass it as `additional`.
pub fn command_size(first: u8, additional: u8) -> usize {
    if first == 0x7f {
        return usize::from(additional) + 8;
    }
    match first >> 5 {
        0 => 6,
        1 | 2 => 10,
        3 | 5 => 12,
        4 => 16,
        _ => 10,
    }
}

/// Which way data moves for a command. The TCMU entry does not say; it follows from the CDB.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    None,
    ToDevice,
    FromDevice,
}

/// The data direction of `cdb` for the commands an optical drive knows. Commands it does not
/// know are treated as Data-In: their buffer (if any) gets filled with nothing and the command
/// fails, which is harmless in either direction.
pub fn direction(cdb: &[u8]) -> Direction {
    use opcode::*;
    match cdb.first().copied() {
        Some(
            WRITE_10 | WRITE_12 | WRITE_AND_VERIFY_10 | MODE_SELECT_6 | MODE_SELECT_10
            | SEND_CUE_SHEET | SEND_OPC_INFORMATION | SEND_DVD_STRUCTURE | SET_STREAMING | SEND_KEY
            | FORMAT_UNIT,
        ) => Direction::ToDevice,
        Some(
            TEST_UNIT_READY
            | START_STOP_UNIT
            | PREVENT_ALLOW_MEDIUM_REMOVAL
            | SYNCHRONIZE_CACHE_10
            | RESERVE_TRACK
            | CLOSE_TRACK_SESSION
            | BLANK
            | SET_CD_SPEED,
        ) => Direction::None,
        _ => Direction::FromDevice,
    }
}

/// Big-endian field readers. Out-of-range offsets read as zero: every caller has already been
/// handed a CDB of the length its opcode implies, so this only matters for fuzzed input.
pub fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([byte(b, at), byte(b, at + 1)])
}

pub fn be24(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([0, byte(b, at), byte(b, at + 1), byte(b, at + 2)])
}

pub fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([
        byte(b, at),
        byte(b, at + 1),
        byte(b, at + 2),
        byte(b, at + 3),
    ])
}

pub fn be64(b: &[u8], at: usize) -> u64 {
    (u64::from(be32(b, at)) << 32) | u64::from(be32(b, at + 4))
}

pub fn byte(b: &[u8], at: usize) -> u8 {
    b.get(at).copied().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_follow_the_opcode_group() {
        assert_eq!(command_size(0x00, 0), 6);
        assert_eq!(command_size(0x28, 0), 10);
        assert_eq!(command_size(0x46, 0), 10);
        assert_eq!(command_size(0x85, 0), 16);
        assert_eq!(command_size(0xa8, 0), 12);
        assert_eq!(command_size(0xbd, 0), 12);
        assert_eq!(command_size(0xd8, 0), 10);
        assert_eq!(command_size(0x7f, 24), 32);
    }

    #[test]
    fn big_endian_fields_and_short_buffers() {
        let b = [0x12, 0x34, 0x56, 0x78, 0x9a];
        assert_eq!(be16(&b, 0), 0x1234);
        assert_eq!(be24(&b, 1), 0x34_5678);
        assert_eq!(be32(&b, 1), 0x3456_789a);
        assert_eq!(be32(&b, 3), 0x789a_0000);
        assert_eq!(be64(&b, 0), 0x1234_5678_9a00_0000);
    }

    #[test]
    fn directions() {
        assert_eq!(direction(&[0x28]), Direction::FromDevice);
        assert_eq!(direction(&[0x2a]), Direction::ToDevice);
        assert_eq!(direction(&[0x00]), Direction::None);
        assert_eq!(direction(&[]), Direction::FromDevice);
    }
}
