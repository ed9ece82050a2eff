//! SPC commands whose shape does not depend on the device type: INQUIRY (standard data and the
//! VPD pages 00h, 80h, 83h), REQUEST SENSE, and the header framing of MODE SENSE(6)/(10).
use super::cdb::{be16, byte};
use super::reply::{ascii_field, ReplyBuf};
use super::{CmdResult, Outcome, Sense};

/// Peripheral device type of an MMC (CD/DVD) device.
pub const PDT_MMC: u8 = 0x05;

/// Longest unit serial number: what LIO's `wwn/vpd_unit_serial` takes when written with a
/// trailing newline, as `echo` and rtslib write it (`INQUIRY_VPD_SERIAL_LEN` is 254 bytes
/// including that newline and the NUL). It also keeps the MMC Drive Serial Number feature's
/// length within one byte.
pub const MAX_SERIAL_LEN: usize = 252;

/// The IEEE company ID LIO puts in the NAA designators it builds (OpenFabrics, 00-14-05), unless
/// `wwn/company_id` says otherwise.
pub const LIO_COMPANY_ID: u32 = 0x00_1405;

/// What INQUIRY says about the drive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub vendor: [u8; 8],
    pub product: [u8; 16],
    pub revision: [u8; 4],
    /// Unit serial number, ASCII; stable for one configured device.
    pub serial: String,
    /// IEEE company ID of the NAA designator in VPD page 83h (24 bits).
    pub company_id: u32,
}

impl Identity {
    pub fn new(vendor: &str, product: &str, revision: &str, serial: &str) -> Self {
        Identity {
            vendor: ascii_field(vendor),
            product: ascii_field(product),
            revision: ascii_field(revision),
            serial: serial
                .chars()
                .filter(|c| c.is_ascii_graphic())
                .take(MAX_SERIAL_LEN)
                .collect(),
            company_id: LIO_COMPANY_ID,
        }
    }

    /// The same identity under another IEEE company ID (only its low 24 bits count).
    pub fn with_company_id(mut self, company_id: u32) -> Self {
        self.company_id = company_id & 0xff_ffff;
        self
    }

    /// The 16-byte NAA IEEE Registered Extended designator (NAA 6) exactly as LIO builds it
    /// for its own backstores (`spc_gen_naa_6h_vendor_specific` in `target_core_spc.c`): the
    /// company ID, then the hexadecimal digits of the unit serial (every other character
    /// skipped) as 25 nibbles, zero-filled. A drive whose serial is `vpd_unit_serial` thus
    /// has the WWN LIO would give it, whichever fabric (tcm_loop, iSCSI) exports it.
    pub fn naa_designator(&self) -> [u8; 16] {
        let cid = self.company_id;
        let mut naa = [0u8; 16];
        naa[0] = 0x60 | ((cid >> 20) & 0xf) as u8;
        naa[1] = (cid >> 12) as u8;
        naa[2] = (cid >> 4) as u8;
        naa[3] = ((cid & 0xf) as u8) << 4;
        let digits = self.serial.chars().filter_map(|c| c.to_digit(16)).take(25);
        for (i, d) in digits.enumerate() {
            // Nibble 7 (the low half of byte 3) onwards.
            let nibble = 7 + i;
            let d = d as u8;
            if nibble % 2 == 0 {
                naa[nibble / 2] |= d << 4;
            } else {
                naa[nibble / 2] |= d;
            }
        }
        naa
    }
}

const VPD_SUPPORTED_PAGES: u8 = 0x00;
const VPD_UNIT_SERIAL: u8 = 0x80;
const VPD_DEVICE_IDENTIFICATION: u8 = 0x83;

/// Designator header: code set, then PIV/association/designator type.
const CODE_SET_BINARY: u8 = 0x01;
const CODE_SET_ASCII: u8 = 0x02;
const DESIGNATOR_T10_VENDOR_ID: u8 = 0x01;
const DESIGNATOR_NAA: u8 = 0x03;

/// The designators of VPD page 83h, associated with the logical unit, as LIO gives them for
/// its own backstores: the NAA designator, then the T10 vendor ID based one ("VENDOR  " and
/// `product:serial`). LIO's per-port designators (relative target port, port group) name the
/// fabric port, which a handler does not see; they are left out.
fn device_identification(id: &Identity, out: &mut Vec<u8>) {
    out.put_u8(CODE_SET_BINARY);
    out.put_u8(DESIGNATOR_NAA);
    out.put_u8(0);
    out.put_u8(16);
    out.extend_from_slice(&id.naa_designator());

    let product = trim_field(&id.product);
    let rest = 255 - id.vendor.len();
    let mut vendor_specific = Vec::with_capacity(rest);
    vendor_specific.extend_from_slice(product);
    vendor_specific.push(b':');
    vendor_specific.extend_from_slice(id.serial.as_bytes());
    vendor_specific.truncate(rest);
    out.put_u8(CODE_SET_ASCII);
    out.put_u8(DESIGNATOR_T10_VENDOR_ID);
    out.put_u8(0);
    out.put_u8((id.vendor.len() + vendor_specific.len()) as u8);
    out.extend_from_slice(&id.vendor);
    out.extend_from_slice(&vendor_specific);
}

/// An INQUIRY field without its space padding.
fn trim_field(field: &[u8]) -> &[u8] {
    let end = field.iter().rposition(|&c| c != b' ').map_or(0, |i| i + 1);
    &field[..end]
}

/// INQUIRY (12h).
pub fn inquiry(cdb: &[u8], id: &Identity, out: &mut Vec<u8>) -> CmdResult {
    let evpd = byte(cdb, 1) & 0x01 != 0;
    let page = byte(cdb, 2);
    let alloc = usize::from(be16(cdb, 3));
    if !evpd {
        if page != 0 {
            return Err(Sense::INVALID_FIELD_IN_CDB);
        }
        out.put_u8(PDT_MMC);
        out.put_u8(0x80); // RMB: always a removable medium (tgt's `removable=1`)
        out.put_u8(0x05); // version: SPC-3
        out.put_u8(0x02); // response data format 2
        out.put_u8(0); // additional length, patched below
        out.put_zeros(3);
        out.extend_from_slice(&id.vendor);
        out.extend_from_slice(&id.product);
        out.extend_from_slice(&id.revision);
        out[4] = (out.len() - 5) as u8;
    } else {
        out.put_u8(PDT_MMC);
        out.put_u8(page);
        out.put_u16(0); // page length, patched below
        match page {
            VPD_SUPPORTED_PAGES => {
                out.extend_from_slice(&[
                    VPD_SUPPORTED_PAGES,
                    VPD_UNIT_SERIAL,
                    VPD_DEVICE_IDENTIFICATION,
                ]);
            }
            VPD_UNIT_SERIAL => out.extend_from_slice(id.serial.as_bytes()),
            VPD_DEVICE_IDENTIFICATION => device_identification(id, out),
            _ => return Err(Sense::INVALID_FIELD_IN_CDB),
        }
        let len = (out.len() - 4) as u16;
        out.set_u16(2, len);
    }
    out.limit(alloc);
    Ok(Outcome::Good)
}

/// REQUEST SENSE (03h): report `pending` (or NO SENSE) as fixed-format sense data.
pub fn request_sense(cdb: &[u8], pending: Sense, out: &mut Vec<u8>) -> CmdResult {
    if byte(cdb, 1) & 0x01 != 0 {
        // Descriptor format is not supported.
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    out.extend_from_slice(&pending.to_fixed());
    out.limit(usize::from(byte(cdb, 4)));
    Ok(Outcome::Good)
}

/// One command a device offers, as REPORT SUPPORTED OPERATION CODES lists it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SupportedCommand {
    pub opcode: u8,
    pub service_action: Option<u16>,
    pub cdb_len: usize,
}

/// Reporting options of REPORT SUPPORTED OPERATION CODES (CDB byte 2, bits 2-0).
const REPORT_ALL: u8 = 0;
const REPORT_OPCODE: u8 = 1;
const REPORT_OPCODE_AND_ACTION: u8 = 2;
const REPORT_OPCODE_MAYBE_ACTION: u8 = 3;

/// REPORT SUPPORTED OPERATION CODES (MAINTENANCE IN A3h/0Ch) over `commands`: every command
/// (option 0), or one command with its CDB usage data (options 1-3). Command timeouts (RCTD)
/// are not offered.
pub fn report_supported_operation_codes(
    cdb: &[u8],
    commands: impl Iterator<Item = SupportedCommand> + Clone,
    out: &mut Vec<u8>,
) -> CmdResult {
    let rctd = byte(cdb, 2) & 0x80 != 0;
    let options = byte(cdb, 2) & 0x07;
    let requested = byte(cdb, 3);
    let requested_action = be16(cdb, 4);
    let alloc = super::cdb::be32(cdb, 6) as usize;
    if rctd {
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    if options == REPORT_ALL {
        out.put_u32(0); // command data length, patched below
        for c in commands {
            out.put_u8(c.opcode);
            out.put_u8(0);
            out.put_u16(c.service_action.unwrap_or(0));
            out.put_u8(0);
            out.put_u8(u8::from(c.service_action.is_some())); // SERVACTV
            out.put_u16(c.cdb_len as u16);
        }
        let len = (out.len() - 4) as u32;
        out[..4].copy_from_slice(&len.to_be_bytes());
        out.limit(alloc);
        return Ok(Outcome::Good);
    }
    let mut same_opcode = commands.filter(|c| c.opcode == requested).peekable();
    let has_actions = same_opcode
        .peek()
        .is_some_and(|c| c.service_action.is_some());
    let found = match options {
        // One opcode without service actions; asking so for one that has them is an error.
        REPORT_OPCODE if has_actions => return Err(Sense::INVALID_FIELD_IN_CDB),
        REPORT_OPCODE => same_opcode.next(),
        REPORT_OPCODE_AND_ACTION if !has_actions && same_opcode.peek().is_some() => {
            return Err(Sense::INVALID_FIELD_IN_CDB)
        }
        REPORT_OPCODE_AND_ACTION => {
            same_opcode.find(|c| c.service_action == Some(requested_action))
        }
        REPORT_OPCODE_MAYBE_ACTION => {
            same_opcode.find(|c| c.service_action.is_none_or(|sa| sa == requested_action))
        }
        _ => return Err(Sense::INVALID_FIELD_IN_CDB),
    };
    out.put_u8(0);
    match found {
        None => {
            out.put_u8(0x01); // SUPPORT: not supported
            out.put_u16(0);
        }
        Some(c) => {
            out.put_u8(0x03); // SUPPORT: supported as the standard defines it
            out.put_u16(c.cdb_len as u16);
            // CDB usage data: the opcode, then every bit of the other bytes may matter (the
            // service action field shows its own value).
            out.put_u8(c.opcode);
            let first = out.len();
            out.resize(first + c.cdb_len - 1, 0xff);
            if let Some(sa) = c.service_action {
                out[first] = 0xe0 | (sa as u8 & 0x1f);
            }
        }
    }
    out.limit(alloc);
    Ok(Outcome::Good)
}

/// Page control field of MODE SENSE.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageControl {
    Current,
    Changeable,
    Default,
}

/// Where a device's mode pages come from.
pub trait ModePages {
    /// Append page `page` (subpage 0) as seen under `pc`; false if the device has no such page.
    fn append_page(&self, page: u8, pc: PageControl, out: &mut Vec<u8>) -> bool;
    /// Page codes in ascending order, for the "all pages" request (3Fh).
    fn page_codes(&self) -> &'static [u8];
}

/// MODE SENSE(6) (1Ah) and MODE SENSE(10) (5Ah): the header, no block descriptors (MMC devices
/// have none), then the requested page or all pages.
pub fn mode_sense(cdb: &[u8], pages: &dyn ModePages, out: &mut Vec<u8>) -> CmdResult {
    let ten = super::cdb::command_size(byte(cdb, 0), 0) == 10;
    let pc = match byte(cdb, 2) >> 6 {
        0 => PageControl::Current,
        1 => PageControl::Changeable,
        2 => PageControl::Default,
        _ => return Err(Sense::SAVING_PARAMETERS_NOT_SUPPORTED),
    };
    let page = byte(cdb, 2) & 0x3f;
    let subpage = byte(cdb, 3);
    let alloc = if ten {
        usize::from(be16(cdb, 7))
    } else {
        usize::from(byte(cdb, 4))
    };
    let header_len = if ten { 8 } else { 4 };
    out.put_zeros(header_len);
    match (page, subpage) {
        (0x3f, 0x00 | 0xff) => {
            for &p in pages.page_codes() {
                pages.append_page(p, pc, out);
            }
        }
        (_, 0) => {
            if !pages.append_page(page, pc, out) {
                return Err(Sense::INVALID_FIELD_IN_CDB);
            }
        }
        _ => return Err(Sense::INVALID_FIELD_IN_CDB),
    }
    // Mode data length excludes itself.
    if ten {
        let len = (out.len() - 2) as u16;
        out.set_u16(0, len);
    } else {
        out[0] = (out.len() - 1).min(255) as u8;
    }
    out.limit(alloc);
    Ok(Outcome::Good)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id() -> Identity {
        Identity::new("TCMU-MMC", "Virtual DVD-RW", "0001", "MMC0123")
    }

    #[test]
    fn standard_inquiry_is_a_removable_mmc_device() {
        let mut out = Vec::new();
        inquiry(&[0x12, 0, 0, 0, 36, 0], &id(), &mut out).unwrap();
        assert_eq!(out.len(), 36);
        assert_eq!(out[0], 0x05);
        assert_eq!(out[1], 0x80);
        assert_eq!(usize::from(out[4]) + 5, 36);
        assert_eq!(&out[8..16], b"TCMU-MMC");
        assert_eq!(&out[16..32], b"Virtual DVD-RW  ");
        assert_eq!(&out[32..36], b"0001");
    }

    #[test]
    fn inquiry_honours_allocation_length() {
        let mut out = Vec::new();
        inquiry(&[0x12, 0, 0, 0, 5, 0], &id(), &mut out).unwrap();
        assert_eq!(out.len(), 5);
    }

    #[test]
    fn vpd_pages() {
        let mut out = Vec::new();
        inquiry(&[0x12, 1, 0x00, 0, 0xff, 0], &id(), &mut out).unwrap();
        assert_eq!(out, [5, 0, 0, 3, 0x00, 0x80, 0x83]);
        out.clear();
        inquiry(&[0x12, 1, 0x80, 0, 0xff, 0], &id(), &mut out).unwrap();
        assert_eq!(&out[4..], b"MMC0123");
        assert_eq!(out[3], 7);
        out.clear();
        inquiry(&[0x12, 1, 0x83, 0, 0xff, 0], &id(), &mut out).unwrap();
        assert_eq!(out[3] as usize, out.len() - 4);
        // NAA designator: binary, LU, type 3, 16 bytes.
        assert_eq!(&out[4..8], &[0x01, 0x03, 0x00, 0x10]);
        assert_eq!(&out[8..24], &id().naa_designator());
        // T10 vendor ID designator: ASCII, LU, type 1; vendor, then product:serial.
        assert_eq!(&out[24..27], &[0x02, 0x01, 0x00]);
        assert_eq!(out[27] as usize, out.len() - 28);
        assert_eq!(&out[28..], b"TCMU-MMCVirtual DVD-RW:MMC0123");
        out.clear();
        assert_eq!(
            inquiry(&[0x12, 1, 0xb0, 0, 0xff, 0], &id(), &mut out),
            Err(Sense::INVALID_FIELD_IN_CDB)
        );
        assert_eq!(
            inquiry(&[0x12, 0, 0x80, 0, 0xff, 0], &id(), &mut out),
            Err(Sense::INVALID_FIELD_IN_CDB)
        );
    }

    #[test]
    fn naa_designator_is_the_one_lio_builds_from_the_serial() {
        // tgt's example serial: only its hexadecimal digits (1, 2, 3) count.
        let naa = Identity::new("STGT_DVD", "DVD101", "0010", "XYZ123").naa_designator();
        assert_eq!(
            naa,
            [0x60, 0x01, 0x40, 0x51, 0x23, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]
        );
        // An rtslib serial (a UUID): 25 nibbles after the company ID, dashes skipped, the rest
        // dropped. LIO shows this device as naa.6001405 + 0123456789abcdef012345678 ...
        let uuid = Identity::new("V", "P", "R", "01234567-89ab-cdef-0123-456789abcdef");
        assert_eq!(
            uuid.naa_designator(),
            [
                0x60, 0x01, 0x40, 0x50, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0, 0x12, 0x34,
                0x56, 0x78
            ]
        );
        // Another company ID (wwn/company_id) goes into the first 24 bits after NAA 6.
        let other = Identity::new("V", "P", "R", "f").with_company_id(0x12_3456);
        assert_eq!(&other.naa_designator()[..4], &[0x61, 0x23, 0x45, 0x6f]);
        // No hexadecimal digit at all: the company ID alone.
        let none = Identity::new("V", "P", "R", "XYZ").naa_designator();
        assert_eq!(&none[..4], &[0x60, 0x01, 0x40, 0x50]);
        assert!(none[4..].iter().all(|&b| b == 0));
    }

    #[test]
    fn long_serials_fit_their_fields() {
        let serial = "S".repeat(400);
        let id = Identity::new("STGT_DVD", "DVD101", "0010", &serial);
        assert_eq!(id.serial.len(), MAX_SERIAL_LEN);
        let mut out = Vec::new();
        inquiry(&[0x12, 1, 0x80, 0x02, 0x00, 0], &id, &mut out).unwrap();
        assert_eq!(
            usize::from(u16::from_be_bytes([out[2], out[3]])),
            MAX_SERIAL_LEN
        );
        out.clear();
        inquiry(&[0x12, 1, 0x83, 0x02, 0x00, 0], &id, &mut out).unwrap();
        // The T10 vendor ID designator is cut at the 255 bytes its length byte can say.
        assert_eq!(out[27], 255);
        assert_eq!(out.len(), 28 + 255);
        assert_eq!(
            usize::from(u16::from_be_bytes([out[2], out[3]])),
            out.len() - 4
        );
    }

    struct OnePage;
    impl ModePages for OnePage {
        fn append_page(&self, page: u8, _pc: PageControl, out: &mut Vec<u8>) -> bool {
            if page != 0x2a {
                return false;
            }
            out.extend_from_slice(&[0x2a, 2, 0xaa, 0xbb]);
            true
        }
        fn page_codes(&self) -> &'static [u8] {
            &[0x2a]
        }
    }

    #[test]
    fn mode_sense_framing() {
        let mut out = Vec::new();
        mode_sense(&[0x1a, 0, 0x2a, 0, 0x80, 0], &OnePage, &mut out).unwrap();
        assert_eq!(out, [7, 0, 0, 0, 0x2a, 2, 0xaa, 0xbb]);
        out.clear();
        mode_sense(&[0x5a, 0, 0x3f, 0, 0, 0, 0, 0, 0xff, 0], &OnePage, &mut out).unwrap();
        assert_eq!(out, [0, 10, 0, 0, 0, 0, 0, 0, 0x2a, 2, 0xaa, 0xbb]);
        out.clear();
        assert_eq!(
            mode_sense(&[0x1a, 0, 0x05, 0, 0x80, 0], &OnePage, &mut out),
            Err(Sense::INVALID_FIELD_IN_CDB)
        );
        out.clear();
        assert_eq!(
            mode_sense(&[0x1a, 0, 0xea, 0, 0x80, 0], &OnePage, &mut out),
            Err(Sense::SAVING_PARAMETERS_NOT_SUPPORTED)
        );
    }

    #[test]
    fn request_sense_reports_pending_condition() {
        let mut out = Vec::new();
        request_sense(&[3, 0, 0, 0, 252, 0], Sense::MEDIUM_NOT_PRESENT, &mut out).unwrap();
        assert_eq!(out.len(), 18);
        assert_eq!((out[2], out[12], out[13]), (2, 0x3a, 0));
        out.clear();
        request_sense(&[3, 0, 0, 0, 8, 0], Sense::NO_SENSE, &mut out).unwrap();
        assert_eq!(out.len(), 8);
    }
}
