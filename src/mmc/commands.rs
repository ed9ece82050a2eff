//! The one table of the commands the drive knows. Dispatch, the data direction the transport
//! needs, the unit-attention and write-protect rules and REPORT SUPPORTED OPERATION CODES all
//! come from [`COMMANDS`]; nothing else lists opcodes.
use super::{
    block_io, disc_info, dvd_structure, events, features, format, mode_pages, performance,
    recording, toc, tray, Context, DiscChange,
};
use crate::scsi::cdb::{byte, command_size, Direction};
use crate::scsi::spc::{self, SupportedCommand};
use crate::scsi::{CmdResult, Outcome, Sense};

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
    pub const SERVICE_ACTION_IN_16: u8 = 0x9e;
    pub const BLANK: u8 = 0xa1;
    /// MAINTENANCE IN in SPC; MMC's SEND KEY shares the opcode (service action 0).
    pub const MAINTENANCE_IN: u8 = 0xa3;
    pub const READ_12: u8 = 0xa8;
    pub const WRITE_12: u8 = 0xaa;
    pub const GET_PERFORMANCE: u8 = 0xac;
    pub const READ_DVD_STRUCTURE: u8 = 0xad;
    pub const SET_STREAMING: u8 = 0xb6;
    pub const SET_CD_SPEED: u8 = 0xbb;
    pub const MECHANISM_STATUS: u8 = 0xbd;
}

/// Service actions of the opcodes that have them (CDB byte 1, bits 4-0).
pub mod service_action {
    /// SERVICE ACTION IN(16): READ CAPACITY(16).
    pub const READ_CAPACITY_16: u8 = 0x10;
    /// MAINTENANCE IN: REPORT SUPPORTED OPERATION CODES.
    pub const REPORT_SUPPORTED_OPERATION_CODES: u8 = 0x0c;
}

/// How a command is carried out. The kind says what a handler may touch: only
/// [`Handler::Control`] changes the drive, and a command that changes the disc
/// ([`Handler::Record`]) sees it shared and describes the change instead of making it.
#[derive(Clone, Copy)]
pub enum Handler {
    /// Answers from the drive and the disc: reply bytes, or blocks to move.
    Query(QueryFn),
    /// Changes the drive but not the disc (tray, mode pages, pending events and sense).
    Control(ControlFn),
    /// Changes the disc: the new state, for the store to make durable before GOOD.
    Record(RecordFn),
}

/// A handler's arguments: the drive, the CDB, the parameter list (Data-Out that is not
/// blocks) and, for those that answer with data, the Data-In buffer.
pub type QueryFn = fn(&Context, &[u8], &[u8], &mut Vec<u8>) -> CmdResult;
pub type ControlFn = fn(&mut Context, &[u8], &[u8], &mut Vec<u8>) -> CmdResult;
pub type RecordFn = fn(&Context, &[u8], &[u8]) -> Result<DiscChange, Sense>;

/// One command the drive knows, and the rules the dispatcher applies before its handler.
#[derive(Clone, Copy)]
pub struct Command {
    pub opcode: u8,
    /// For opcodes that multiplex service actions: the one this entry is.
    pub service_action: Option<u8>,
    pub name: &'static str,
    pub direction: Direction,
    /// Data-Out holds blocks for the medium (a WRITE), not a parameter list.
    pub writes_blocks: bool,
    /// Refused with the no-medium sense when no medium is accessible.
    pub needs_medium: bool,
    /// Carried out while a unit attention is pending (the attention stays pending).
    pub through_unit_attention: bool,
    /// Records on the medium: refused with 07/27/00 when the disc is write-protected.
    pub records: bool,
    pub handler: Handler,
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// A table entry with the common defaults: Data-In, no medium needed, none of the rules.
const fn cmd(opcode: u8, name: &'static str, handler: Handler) -> Command {
    Command {
        opcode,
        service_action: None,
        name,
        direction: Direction::FromDevice,
        writes_blocks: false,
        needs_medium: false,
        through_unit_attention: false,
        records: false,
        handler,
    }
}

impl Command {
    const fn no_data(mut self) -> Self {
        self.direction = Direction::None;
        self
    }

    const fn data_out(mut self) -> Self {
        self.direction = Direction::ToDevice;
        self
    }

    const fn medium(mut self) -> Self {
        self.needs_medium = true;
        self
    }

    const fn through_ua(mut self) -> Self {
        self.through_unit_attention = true;
        self
    }

    const fn records(mut self) -> Self {
        self.records = true;
        self
    }

    const fn writes_blocks(mut self) -> Self {
        self.writes_blocks = true;
        self.direction = Direction::ToDevice;
        self
    }

    const fn action(mut self, service_action: u8) -> Self {
        self.service_action = Some(service_action);
        self
    }
}

fn good(_: &Context, _: &[u8], _: &[u8], _: &mut Vec<u8>) -> CmdResult {
    Ok(Outcome::Good)
}

use opcode as op;
use Handler::{Control, Query, Record};

/// Every command, grouped by opcode (entries of one opcode are adjacent).
pub const COMMANDS: &[Command] = &[
    cmd(op::TEST_UNIT_READY, "TEST UNIT READY", Query(good))
        .no_data()
        .medium(),
    cmd(
        op::REQUEST_SENSE,
        "REQUEST SENSE",
        Control(|d, cdb, _, out| {
            let pending = d.unit_attention.take().unwrap_or_else(|| {
                if d.medium().is_some() {
                    Sense::NO_SENSE
                } else {
                    d.no_medium()
                }
            });
            spc::request_sense(cdb, pending, out)
        }),
    )
    .through_ua(),
    cmd(op::FORMAT_UNIT, "FORMAT UNIT", Record(format::format_unit))
        .data_out()
        .medium()
        .records(),
    cmd(
        op::INQUIRY,
        "INQUIRY",
        Query(|d, cdb, _, out| spc::inquiry(cdb, d.identity(), out)),
    )
    .through_ua(),
    cmd(
        op::MODE_SELECT_6,
        "MODE SELECT(6)",
        Control(|d, cdb, data, _| mode_pages::mode_select(d, cdb, data)),
    )
    .data_out(),
    cmd(
        op::MODE_SENSE_6,
        "MODE SENSE(6)",
        Query(|d, cdb, _, out| spc::mode_sense(cdb, &**d, out)),
    ),
    cmd(
        op::START_STOP_UNIT,
        "START STOP UNIT",
        Control(|d, cdb, _, _| tray::start_stop_unit(d, cdb)),
    )
    .no_data(),
    cmd(
        op::PREVENT_ALLOW_MEDIUM_REMOVAL,
        "PREVENT ALLOW MEDIUM REMOVAL",
        Control(|d, cdb, _, _| tray::prevent_allow(d, cdb)),
    )
    .no_data(),
    cmd(
        op::READ_FORMAT_CAPACITIES,
        "READ FORMAT CAPACITIES",
        Query(|d, cdb, _, out| format::read_format_capacities(d, cdb, out)),
    ),
    cmd(
        op::READ_CAPACITY_10,
        "READ CAPACITY(10)",
        Query(|d, _, _, out| block_io::read_capacity_10(d, out)),
    )
    .medium(),
    cmd(
        op::READ_10,
        "READ(10)",
        Query(|d, cdb, _, _| block_io::read(d, cdb)),
    )
    .medium(),
    cmd(
        op::WRITE_10,
        "WRITE(10)",
        Query(|d, cdb, _, _| block_io::write(d, cdb)),
    )
    .writes_blocks()
    .medium()
    .records(),
    cmd(
        op::WRITE_AND_VERIFY_10,
        "WRITE AND VERIFY(10)",
        Query(|d, cdb, _, _| block_io::write(d, cdb)),
    )
    .writes_blocks()
    .medium()
    .records(),
    cmd(
        op::SYNCHRONIZE_CACHE_10,
        "SYNCHRONIZE CACHE(10)",
        Record(|d, _, _| recording::synchronize_cache(d)),
    )
    .no_data(),
    cmd(
        op::READ_TOC_PMA_ATIP,
        "READ TOC/PMA/ATIP",
        Query(|d, cdb, _, out| toc::read_toc(d, cdb, out)),
    )
    .medium(),
    cmd(
        op::GET_CONFIGURATION,
        "GET CONFIGURATION",
        Query(|d, cdb, _, out| features::get_configuration(d, cdb, out)),
    )
    .through_ua(),
    cmd(
        op::GET_EVENT_STATUS_NOTIFICATION,
        "GET EVENT STATUS NOTIFICATION",
        Control(|d, cdb, _, out| events::get_event_status(d, cdb, out)),
    )
    .through_ua(),
    cmd(
        op::READ_DISC_INFORMATION,
        "READ DISC INFORMATION",
        Query(|d, cdb, _, out| disc_info::read_disc_information(d, cdb, out)),
    )
    .medium(),
    cmd(
        op::READ_TRACK_INFORMATION,
        "READ TRACK INFORMATION",
        Query(|d, cdb, _, out| disc_info::read_track_information(d, cdb, out)),
    )
    .medium(),
    cmd(
        op::RESERVE_TRACK,
        "RESERVE TRACK",
        Record(|d, cdb, _| recording::reserve_track(d, cdb)),
    )
    .no_data()
    .medium()
    .records(),
    cmd(
        op::SEND_OPC_INFORMATION,
        "SEND OPC INFORMATION",
        Query(good),
    )
    .data_out(),
    cmd(
        op::MODE_SELECT_10,
        "MODE SELECT(10)",
        Control(|d, cdb, data, _| mode_pages::mode_select(d, cdb, data)),
    )
    .data_out(),
    cmd(
        op::MODE_SENSE_10,
        "MODE SENSE(10)",
        Query(|d, cdb, _, out| spc::mode_sense(cdb, &**d, out)),
    ),
    cmd(
        op::CLOSE_TRACK_SESSION,
        "CLOSE TRACK/SESSION",
        Record(|d, cdb, _| recording::close_track_session(d, cdb)),
    )
    .no_data()
    .medium()
    .records(),
    cmd(
        op::READ_BUFFER_CAPACITY,
        "READ BUFFER CAPACITY",
        Query(|d, cdb, _, out| recording::read_buffer_capacity(d, cdb, out)),
    )
    .medium(),
    cmd(
        op::SERVICE_ACTION_IN_16,
        "READ CAPACITY(16)",
        Query(|d, cdb, _, out| block_io::read_capacity_16(d, cdb, out)),
    )
    .action(service_action::READ_CAPACITY_16)
    .medium(),
    cmd(
        op::BLANK,
        "BLANK",
        Record(|d, cdb, _| format::blank(d, cdb)),
    )
    .no_data()
    .medium()
    .records(),
    cmd(
        op::MAINTENANCE_IN,
        "REPORT SUPPORTED OPERATION CODES",
        Query(|_, cdb, _, out| report_supported_operation_codes(cdb, out)),
    )
    .action(service_action::REPORT_SUPPORTED_OPERATION_CODES),
    cmd(
        op::READ_12,
        "READ(12)",
        Query(|d, cdb, _, _| block_io::read(d, cdb)),
    )
    .medium(),
    cmd(
        op::WRITE_12,
        "WRITE(12)",
        Query(|d, cdb, _, _| block_io::write(d, cdb)),
    )
    .writes_blocks()
    .medium()
    .records(),
    cmd(
        op::GET_PERFORMANCE,
        "GET PERFORMANCE",
        Query(|d, cdb, _, out| performance::get_performance(d, cdb, out)),
    ),
    cmd(
        op::READ_DVD_STRUCTURE,
        "READ DISC STRUCTURE",
        Query(|d, cdb, _, out| dvd_structure::read_dvd_structure(d, cdb, out)),
    ),
    cmd(
        op::SET_STREAMING,
        "SET STREAMING",
        Query(|_, cdb, data, _| performance::set_streaming(cdb, data)),
    )
    .data_out(),
    cmd(op::SET_CD_SPEED, "SET CD SPEED", Query(good)).no_data(),
    cmd(
        op::MECHANISM_STATUS,
        "MECHANISM STATUS",
        Query(|d, cdb, _, out| tray::mechanism_status(d, cdb, out)),
    ),
];

/// No entry for this opcode in [`BY_OPCODE`].
const UNKNOWN: u8 = u8::MAX;

/// The index in [`COMMANDS`] of the first entry of each opcode: one array access per CDB.
static BY_OPCODE: [u8; 256] = {
    assert!(COMMANDS.len() < UNKNOWN as usize);
    let mut index = [UNKNOWN; 256];
    let mut i = COMMANDS.len();
    while i > 0 {
        i -= 1;
        index[COMMANDS[i].opcode as usize] = i as u8;
    }
    index
};

/// The entry for `cdb`: the sense of an unknown opcode (05/20/00) or, for an opcode with
/// service actions, of one this drive does not offer (05/24/00).
pub fn lookup(cdb: &[u8]) -> Result<&'static Command, Sense> {
    let opcode = *cdb.first().ok_or(Sense::INVALID_OPCODE)?;
    let first = BY_OPCODE[usize::from(opcode)];
    if first == UNKNOWN {
        return Err(Sense::INVALID_OPCODE);
    }
    let entries = COMMANDS[usize::from(first)..]
        .iter()
        .take_while(|c| c.opcode == opcode);
    let action = byte(cdb, 1) & 0x1f;
    let mut found = None;
    for c in entries {
        match c.service_action {
            None => return Ok(c),
            Some(sa) if sa == action => found = Some(c),
            Some(_) => {}
        }
    }
    found.ok_or(Sense::INVALID_FIELD_IN_CDB)
}

/// The data direction of `cdb` (the TCMU entry does not say). Commands the drive does not
/// know are treated as Data-In: their buffer (if any) gets nothing and the command fails,
/// which is harmless in either direction.
pub fn direction(cdb: &[u8]) -> Direction {
    lookup(cdb).map_or(Direction::FromDevice, |c| c.direction)
}

/// REPORT SUPPORTED OPERATION CODES (A3h/0Ch), from the table.
fn report_supported_operation_codes(cdb: &[u8], out: &mut Vec<u8>) -> CmdResult {
    spc::report_supported_operation_codes(
        cdb,
        COMMANDS.iter().map(|c| SupportedCommand {
            opcode: c.opcode,
            service_action: c.service_action.map(u16::from),
            cdb_len: command_size(c.opcode, 0),
        }),
        out,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_opcode_and_service_action_is_listed_once() {
        for (i, a) in COMMANDS.iter().enumerate() {
            for b in &COMMANDS[i + 1..] {
                assert!(
                    a.opcode != b.opcode
                        || (a.service_action.is_some()
                            && b.service_action.is_some()
                            && a.service_action != b.service_action),
                    "{} and {} collide",
                    a.name,
                    b.name
                );
            }
        }
        // Entries of one opcode are adjacent, which lookup relies on.
        for (i, c) in COMMANDS.iter().enumerate() {
            let first = COMMANDS.iter().position(|d| d.opcode == c.opcode).unwrap();
            assert!(COMMANDS[first..=i].iter().all(|d| d.opcode == c.opcode));
        }
    }

    #[test]
    fn lookup_finds_each_entry_and_refuses_the_rest() {
        for c in COMMANDS {
            let cdb = [c.opcode, c.service_action.unwrap_or(0), 0, 0];
            assert_eq!(lookup(&cdb).unwrap().name, c.name);
        }
        assert_eq!(lookup(&[0xd8]).unwrap_err(), Sense::INVALID_OPCODE);
        assert_eq!(lookup(&[]).unwrap_err(), Sense::INVALID_OPCODE);
        // SEND KEY (A3h, service action 0) is not offered; nor READ LONG(16) (9Eh/11h).
        assert_eq!(lookup(&[0xa3, 0]).unwrap_err(), Sense::INVALID_FIELD_IN_CDB);
        assert_eq!(
            lookup(&[0x9e, 0x11]).unwrap_err(),
            Sense::INVALID_FIELD_IN_CDB
        );
    }

    #[test]
    fn directions_follow_the_table() {
        assert_eq!(direction(&[op::READ_10]), Direction::FromDevice);
        assert_eq!(direction(&[op::WRITE_10]), Direction::ToDevice);
        assert_eq!(direction(&[op::WRITE_AND_VERIFY_10]), Direction::ToDevice);
        assert_eq!(direction(&[op::MODE_SELECT_10]), Direction::ToDevice);
        assert_eq!(direction(&[op::TEST_UNIT_READY]), Direction::None);
        assert_eq!(direction(&[op::BLANK]), Direction::None);
        assert_eq!(direction(&[0xd8]), Direction::FromDevice);
    }

    #[test]
    fn every_command_that_writes_blocks_records() {
        for c in COMMANDS.iter().filter(|c| c.writes_blocks) {
            assert!(c.records && c.needs_medium, "{}", c.name);
            assert_eq!(c.direction, Direction::ToDevice, "{}", c.name);
        }
        for c in COMMANDS
            .iter()
            .filter(|c| matches!(c.handler, Handler::Record(_)))
        {
            assert!(
                c.records || c.opcode == op::SYNCHRONIZE_CACHE_10,
                "{} changes the disc but is not refused on write-protected media",
                c.name
            );
        }
    }
}
