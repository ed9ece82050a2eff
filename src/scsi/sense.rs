//! Sense data: the SK/ASC/ASCQ triples a drive reports, and their fixed-format encoding.

/// Sense keys (SPC-4 table 28) used by an optical drive.
pub mod key {
    pub const NO_SENSE: u8 = 0x0;
    pub const NOT_READY: u8 = 0x2;
    pub const MEDIUM_ERROR: u8 = 0x3;
    pub const HARDWARE_ERROR: u8 = 0x4;
    pub const ILLEGAL_REQUEST: u8 = 0x5;
    pub const UNIT_ATTENTION: u8 = 0x6;
    pub const DATA_PROTECT: u8 = 0x7;
}

/// Length of the fixed-format sense data we produce.
pub const FIXED_SENSE_LEN: usize = 18;

/// One sense condition. `info` fills the INFORMATION field (with VALID set); `sks` the three
/// sense-key-specific bytes (with SKSV set), e.g. a progress indication.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sense {
    pub key: u8,
    pub asc: u8,
    pub ascq: u8,
    pub info: Option<u32>,
    pub sks: Option<[u8; 3]>,
}

impl Sense {
    pub const fn new(key: u8, asc: u8, ascq: u8) -> Self {
        Sense {
            key,
            asc,
            ascq,
            info: None,
            sks: None,
        }
    }

    /// The (key, asc, ascq) triple, for matching and tests.
    pub const fn triple(&self) -> (u8, u8, u8) {
        (self.key, self.asc, self.ascq)
    }

    /// Fixed-format (response code 70h) sense data.
    pub fn to_fixed(&self) -> [u8; FIXED_SENSE_LEN] {
        let mut s = [0u8; FIXED_SENSE_LEN];
        s[0] = 0x70;
        s[2] = self.key & 0x0f;
        if let Some(info) = self.info {
            s[0] |= 0x80;
            s[3..7].copy_from_slice(&info.to_be_bytes());
        }
        s[7] = (FIXED_SENSE_LEN - 8) as u8;
        s[12] = self.asc;
        s[13] = self.ascq;
        if let Some(sks) = self.sks {
            s[15] = sks[0] | 0x80;
            s[16] = sks[1];
            s[17] = sks[2];
        }
        s
    }

    pub const NO_SENSE: Sense = Sense::new(key::NO_SENSE, 0x00, 0x00);
    /// 02/3A/01: no medium, tray closed.
    pub const MEDIUM_NOT_PRESENT_TRAY_CLOSED: Sense = Sense::new(key::NOT_READY, 0x3a, 0x01);
    /// 02/3A/02: no medium, tray open.
    pub const MEDIUM_NOT_PRESENT_TRAY_OPEN: Sense = Sense::new(key::NOT_READY, 0x3a, 0x02);
    /// 02/3A/00: no medium (tray state unspecified).
    pub const MEDIUM_NOT_PRESENT: Sense = Sense::new(key::NOT_READY, 0x3a, 0x00);
    /// 03/11/00: unrecovered read error.
    pub const UNRECOVERED_READ_ERROR: Sense = Sense::new(key::MEDIUM_ERROR, 0x11, 0x00);
    /// 03/0C/00: write error.
    pub const WRITE_ERROR: Sense = Sense::new(key::MEDIUM_ERROR, 0x0c, 0x00);
    /// 07/27/00: the medium cannot be written (its image is read-only).
    pub const WRITE_PROTECTED: Sense = Sense::new(key::DATA_PROTECT, 0x27, 0x00);
    /// 04/44/00: internal target failure (a malformed request from the kernel side).
    pub const INTERNAL_TARGET_FAILURE: Sense = Sense::new(key::HARDWARE_ERROR, 0x44, 0x00);
    /// 05/0E/03: invalid field in command information unit: the data the initiator sent
    /// does not match the CDB's transfer length (what LIO answers for its own backstores).
    pub const INVALID_FIELD_IN_COMMAND_IU: Sense = Sense::new(key::ILLEGAL_REQUEST, 0x0e, 0x03);
    /// 05/1A/00: parameter list length error.
    pub const PARAMETER_LIST_LENGTH_ERROR: Sense = Sense::new(key::ILLEGAL_REQUEST, 0x1a, 0x00);
    /// 05/20/00: invalid command operation code.
    pub const INVALID_OPCODE: Sense = Sense::new(key::ILLEGAL_REQUEST, 0x20, 0x00);
    /// 05/21/00: logical block address out of range.
    pub const LBA_OUT_OF_RANGE: Sense = Sense::new(key::ILLEGAL_REQUEST, 0x21, 0x00);
    /// 05/24/00: invalid field in CDB.
    pub const INVALID_FIELD_IN_CDB: Sense = Sense::new(key::ILLEGAL_REQUEST, 0x24, 0x00);
    /// 05/26/00: invalid field in parameter list.
    pub const INVALID_FIELD_IN_PARAMETER_LIST: Sense = Sense::new(key::ILLEGAL_REQUEST, 0x26, 0x00);
    /// 05/2C/00: command sequence error.
    pub const COMMAND_SEQUENCE_ERROR: Sense = Sense::new(key::ILLEGAL_REQUEST, 0x2c, 0x00);
    /// 05/30/02: cannot read medium, incompatible format.
    pub const CANNOT_READ_INCOMPATIBLE_FORMAT: Sense = Sense::new(key::ILLEGAL_REQUEST, 0x30, 0x02);
    /// 05/30/05: cannot write medium, incompatible format.
    pub const CANNOT_WRITE_INCOMPATIBLE_FORMAT: Sense =
        Sense::new(key::ILLEGAL_REQUEST, 0x30, 0x05);
    /// 05/39/00: saving parameters not supported.
    pub const SAVING_PARAMETERS_NOT_SUPPORTED: Sense = Sense::new(key::ILLEGAL_REQUEST, 0x39, 0x00);
    /// 05/53/02: medium removal prevented.
    pub const MEDIUM_REMOVAL_PREVENTED: Sense = Sense::new(key::ILLEGAL_REQUEST, 0x53, 0x02);
    /// 06/28/00: not ready to ready change, medium may have changed.
    pub const MEDIUM_MAY_HAVE_CHANGED: Sense = Sense::new(key::UNIT_ATTENTION, 0x28, 0x00);
    /// 06/3A/00: medium not present (unit attention after an eject).
    pub const UA_MEDIUM_NOT_PRESENT: Sense = Sense::new(key::UNIT_ATTENTION, 0x3a, 0x00);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_format_layout() {
        let s = Sense::LBA_OUT_OF_RANGE.to_fixed();
        assert_eq!(s[0], 0x70);
        assert_eq!(s[2], 0x05);
        assert_eq!(s[7], 10);
        assert_eq!((s[12], s[13]), (0x21, 0x00));
        assert_eq!(&s[15..18], &[0, 0, 0]);
    }

    #[test]
    fn info_and_progress_set_their_valid_bits() {
        let s = Sense {
            info: Some(0x0102_0304),
            sks: Some([0, 0x80, 0x00]),
            ..Sense::new(key::NOT_READY, 0x04, 0x04)
        }
        .to_fixed();
        assert_eq!(s[0], 0xf0);
        assert_eq!(&s[3..7], &[1, 2, 3, 4]);
        assert_eq!(&s[15..18], &[0x80, 0x80, 0x00]);
    }
}
