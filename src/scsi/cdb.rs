//! CDB field access and the facts about a CDB that the transport needs (its length, and
//! which way its data moves, which the device model's command table says).

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
}
