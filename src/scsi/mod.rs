//! The SCSI layer: CDB fields, sense data, and the SPC commands (INQUIRY, REQUEST SENSE, the
//! MODE SENSE framing) that every device type answers the same way.
pub mod cdb;
pub mod reply;
pub mod sense;
pub mod spc;

pub use sense::Sense;

/// SCSI status byte values.
pub mod status {
    pub const GOOD: u8 = 0x00;
    pub const CHECK_CONDITION: u8 = 0x02;
    pub const BUSY: u8 = 0x08;
}

/// The logical block size of every optical medium we present.
pub const BLOCK_SIZE: usize = 2048;

/// What executing one command produced, before any bytes move to or from the medium.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// GOOD status; the Data-In bytes (possibly none) are in the reply buffer, already cut to the
    /// allocation length.
    Good,
    /// GOOD once `blocks` blocks from `lba` on have been copied from the medium to Data-In.
    ReadBlocks { lba: u64, blocks: u32 },
    /// GOOD once `blocks` blocks of Data-Out have been written to the medium at `lba`; the
    /// caller then reports the write back to the model (`Drive::written`).
    WriteBlocks { lba: u64, blocks: u32 },
    /// CHECK CONDITION with this sense; no data.
    Check(Sense),
}

impl From<Sense> for Outcome {
    fn from(s: Sense) -> Self {
        Outcome::Check(s)
    }
}

/// Shorthand for command handlers: `Err(sense)` is a CHECK CONDITION.
pub type CmdResult = Result<Outcome, Sense>;
