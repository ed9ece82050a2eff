//! The SCSI/MMC dispatch, as a hostile initiator sees it: any CDB, any Data-Out, any
//! allocation length, in any order, on every media state.
//!
//! Input layout (see `tests/fuzz/make-seeds.py`, which writes seeds in it):
//!
//! ```text
//! byte 0      initial media state (index into STATES, modulo its length)
//! byte 1      flags: bit 0 morph=close, bit 1 read-only image (write-protected),
//!             bits 2-3: the kind's own capacity (0), a small disc of 64 + bytes 2-3 blocks
//!             (1), a huge one of 2^32 - 1 - bytes 2-3 blocks (2 or 3)
//! bytes 2-3   capacity, little-endian (used with bit 2)
//! records:    0xF0..=0xFF, even: restart (the disc reloads from its last recorded state)
//!                          odd:  the operator reloads the disc (media change, unit attention)
//!             n < 0xF0: a command of n CDB bytes, then a 16-bit little-endian Data-Out
//!                       length and that many Data-Out bytes
//! ```
//!
//! The harness plays `device.rs`: it reports WRITEs back to the model, empties the shadow of
//! the image on an erase, and records the disc's state when the model asks for persistence.
//! Invariants checked after every command:
//!
//! * no panic; a CHECK CONDITION carries no data and well-formed sense (a real sense key, an
//!   ASC, fixed format); an unknown opcode is INVALID COMMAND OPERATION CODE (or a pending
//!   unit attention);
//! * Data-In never exceeds the CDB's allocation length (and commands without Data-In return
//!   none); a complete reply's own length field matches its size;
//! * READ stays inside the recorded area and WRITE inside the disc: at the next writable
//!   address of an open track on sequential media, inside the formatted area otherwise; never
//!   on a pressed, finalized or write-protected disc;
//! * the disc state always passes the state file's validation, and round-trips through it;
//!   a failed command changes nothing; kind and capacity never change;
//! * on sequential (write-once) media what is recorded never shrinks and no next writable
//!   address points into data already acknowledged, so nothing written is ever overwritten;
//!   only FORMAT UNIT / BLANK of an erasable disc erase anything;
//! * what was acknowledged before the last state record is inside the recorded area of that
//!   state (it survives a restart), and at the end every acknowledged extent still reads.
use tcmu_mmc::media::state;
use tcmu_mmc::mmc::commands::opcode as op;
use tcmu_mmc::mmc::sim::SimDrive;
use tcmu_mmc::mmc::{Medium, MediumKind};
use tcmu_mmc::scsi::cdb::{be16, be32, byte};
use tcmu_mmc::scsi::sense::key;
use tcmu_mmc::scsi::spc::Identity;
use tcmu_mmc::scsi::{Outcome, Sense};

use crate::input::Input;

/// The initial media states, by name (the index is byte 0 of an input).
pub const STATES: &[&str] = &[
    "empty-tray",
    "dvd-rom",
    "dvd+r-blank",
    "dvd+r-incomplete",
    "dvd+r-reserved-open",
    "dvd+r-complete",
    "dvd+r-dl-blank",
    "dvd+rw-unformatted",
    "dvd+rw-formatted",
    "dvd-ram-formatted",
    "dvd-ram-unformatted",
    "dvd-rw-blank",
    "dvd+r-full",
    "dvd-rw-formatted",
    "cd-rw-blank",
    "cd-rw-formatted",
    "dvd+r-tray-open",
    "dvd+r-unit-attention",
    "dvd-r-blank",
    "dvd-r-incomplete",
    "dvd-r-reserved-open",
    "dvd-r-dl-blank",
    "dvd-rw-sequential-incomplete",
    "bd-rom",
    "bd-r-blank",
    "bd-r-pow-incomplete",
    "bd-re-unformatted",
    "bd-re-formatted",
];

/// The medium of state `index` (capacity `cap` where the kind allows a choice), whether the
/// tray starts open, and whether a media change is pending.
pub fn initial(index: usize, cap: Option<u32>) -> (Option<Medium>, bool, bool) {
    let size = |k: MediumKind| cap.unwrap_or(k.default_capacity());
    let blank = |k: MediumKind| Medium::blank(k, size(k));
    let name = STATES[index % STATES.len()];
    let m = match name {
        "empty-tray" => None,
        "dvd-rom" => Some(Medium::dvd_rom(size(MediumKind::DvdRom))),
        "bd-rom" => Some(Medium::pressed(MediumKind::BdRom, size(MediumKind::BdRom))),
        "dvd+r-blank" | "dvd+r-tray-open" | "dvd+r-unit-attention" => {
            Some(blank(MediumKind::DvdPlusR))
        }
        "dvd+r-incomplete" => {
            let mut m = blank(MediumKind::DvdPlusR);
            m.commit_write(0, 16);
            m.close_session().expect("close session");
            Some(m)
        }
        "dvd+r-reserved-open" => {
            let mut m = blank(MediumKind::DvdPlusR);
            m.reserve_track(m.capacity() / 2).expect("reserve");
            m.commit_write(0, 5);
            Some(m)
        }
        "dvd+r-complete" => {
            let mut m = blank(MediumKind::DvdPlusR);
            m.commit_write(0, 20);
            m.finalize().expect("finalize");
            Some(m)
        }
        "dvd+r-dl-blank" => Some(blank(MediumKind::DvdPlusRDualLayer)),
        "bd-r-blank" => Some(blank(MediumKind::BdR)),
        "bd-r-pow-incomplete" => {
            let mut m = blank(MediumKind::BdR);
            let user = tcmu_mmc::mmc::medium::SpareSize::Default.user_blocks(m.capacity());
            // A capacity too small for spare areas stays unformatted.
            let _ = m.format_with_spare(user, true);
            m.commit_write(0, 32);
            m.close_session().expect("close session");
            Some(m)
        }
        "bd-re-unformatted" => Some(blank(MediumKind::BdRe)),
        "bd-re-formatted" => {
            let mut m = blank(MediumKind::BdRe);
            m.format(m.capacity());
            Some(m)
        }
        "dvd+rw-unformatted" => Some(blank(MediumKind::DvdPlusRw)),
        "dvd+rw-formatted" => {
            let mut m = blank(MediumKind::DvdPlusRw);
            m.format(m.capacity());
            Some(m)
        }
        "dvd-ram-formatted" => Some(blank(MediumKind::DvdRam)),
        "dvd-ram-unformatted" => {
            let mut m = blank(MediumKind::DvdRam);
            m.blank_out();
            Some(m)
        }
        "dvd-rw-blank" => Some(blank(MediumKind::DvdRw)),
        "dvd+r-full" => {
            // The invisible track runs to the end of the disc and is all written.
            let mut m = blank(MediumKind::DvdPlusR);
            m.commit_write(0, m.capacity());
            Some(m)
        }
        "dvd-rw-formatted" => {
            let mut m = blank(MediumKind::DvdRw);
            m.format(m.capacity());
            Some(m)
        }
        "cd-rw-blank" => Some(blank(MediumKind::CdRw)),
        "cd-rw-formatted" => {
            let mut m = blank(MediumKind::CdRw);
            m.format(m.capacity());
            Some(m)
        }
        "dvd-r-blank" => Some(blank(MediumKind::DvdMinusR)),
        "dvd-r-incomplete" => {
            let mut m = blank(MediumKind::DvdMinusR);
            m.commit_write(0, 16);
            m.close_session().expect("close session");
            Some(m)
        }
        "dvd-r-reserved-open" => {
            // An incremental reservation (a DAO one is not durable: it never loads from a file).
            let mut m = blank(MediumKind::DvdMinusR);
            m.reserve_track(m.capacity() / 2).expect("reserve");
            m.commit_write(0, 5);
            Some(m)
        }
        "dvd-r-dl-blank" => Some(blank(MediumKind::DvdMinusRDualLayer)),
        "dvd-rw-sequential-incomplete" => {
            let mut m = blank(MediumKind::DvdRw);
            m.commit_write(0, 48);
            m.close_session().expect("close session");
            Some(m)
        }
        other => unreachable!("state {other}"),
    };
    (m, name == "dvd+r-tray-open", name == "dvd+r-unit-attention")
}

/// Sorted, disjoint, half-open block extents.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extents(Vec<(u64, u64)>);

impl Extents {
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        start < end && self.0.iter().any(|&(s, e)| s < end && start < e)
    }

    pub fn insert(&mut self, start: u64, end: u64) {
        if start >= end {
            return;
        }
        let (mut s, mut e) = (start, end);
        self.0.retain(|&(a, b)| {
            if a <= e && s <= b {
                s = s.min(a);
                e = e.max(b);
                false
            } else {
                true
            }
        });
        let at = self.0.partition_point(|&(a, _)| a < s);
        self.0.insert(at, (s, e));
    }

    /// Keep only what lies below `end`.
    pub fn clip(&mut self, end: u64) {
        self.0.retain_mut(|(s, e)| {
            *e = (*e).min(end);
            *s < *e
        });
    }

    pub fn clear(&mut self) {
        self.0.clear();
    }

    pub fn iter(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.0.iter().copied()
    }

    /// Whether every extent lies inside one of `within`.
    pub fn inside(&self, within: &Extents) -> bool {
        self.0
            .iter()
            .all(|&(s, e)| within.0.iter().any(|&(a, b)| a <= s && e <= b))
    }
}

/// The recorded blocks of a disc: each track's recorded part, the formatted area of a disc
/// written in place.
pub fn recorded(m: &Medium) -> Extents {
    let mut x = Extents::default();
    if m.is_overwritable() {
        x.insert(0, u64::from(m.formatted()));
    } else {
        for t in m.tracks() {
            x.insert(
                u64::from(t.start),
                u64::from(t.start) + u64::from(t.recorded),
            );
        }
    }
    x
}

/// Where the part of `m` held only in the drive's memory starts (a Disc-At-Once recording
/// not yet complete, see [`Medium::durable`]): what is acknowledged from there on is lost
/// with the drive. `None` when all of `m` is durable.
pub fn memory_only_from(m: &Medium) -> Option<u32> {
    match m.durable() {
        std::borrow::Cow::Owned(d) => d.tracks().last().map(|t| t.start),
        std::borrow::Cow::Borrowed(_) => None,
    }
}

/// The largest Data-In a command may return: its allocation length (0 for commands without
/// Data-In). Read from the CDB layouts of SPC and MMC, independently of the handlers.
pub fn data_in_limit(cdb: &[u8]) -> usize {
    match byte(cdb, 0) {
        op::INQUIRY => usize::from(be16(cdb, 3)),
        op::REQUEST_SENSE | op::MODE_SENSE_6 => usize::from(byte(cdb, 4)),
        op::MODE_SENSE_10
        | op::READ_FORMAT_CAPACITIES
        | op::READ_TOC_PMA_ATIP
        | op::GET_CONFIGURATION
        | op::GET_EVENT_STATUS_NOTIFICATION
        | op::READ_DISC_INFORMATION
        | op::READ_TRACK_INFORMATION
        | op::READ_BUFFER_CAPACITY => usize::from(be16(cdb, 7)),
        op::READ_CAPACITY_10 => 8,
        op::SERVICE_ACTION_IN_16 => be32(cdb, 10) as usize,
        // REPORT SUPPORTED OPERATION CODES (the only service action served).
        op::MAINTENANCE_IN => be32(cdb, 6) as usize,
        // No allocation length: a number of 16-byte descriptors after an 8-byte header.
        op::GET_PERFORMANCE => 8 + 16 * usize::from(be16(cdb, 8)),
        op::READ_DVD_STRUCTURE | op::MECHANISM_STATUS => usize::from(be16(cdb, 8)),
        _ => 0,
    }
}

/// What a complete reply's own length field says its size is, for replies that have one.
fn declared_len(cdb: &[u8], out: &[u8]) -> Option<usize> {
    let field16 = || usize::from(be16(out, 0)) + 2;
    match byte(cdb, 0) {
        op::INQUIRY if byte(cdb, 1) & 1 == 0 => Some(usize::from(byte(out, 4)) + 5),
        op::INQUIRY => Some(usize::from(be16(out, 2)) + 4),
        op::REQUEST_SENSE => Some(usize::from(byte(out, 7)) + 8),
        op::MODE_SENSE_6 => Some(usize::from(byte(out, 0)) + 1),
        op::READ_FORMAT_CAPACITIES => Some(usize::from(byte(out, 3)) + 4),
        op::GET_CONFIGURATION | op::GET_PERFORMANCE => Some(be32(out, 0) as usize + 4),
        op::MODE_SENSE_10
        | op::READ_TOC_PMA_ATIP
        | op::GET_EVENT_STATUS_NOTIFICATION
        | op::READ_DISC_INFORMATION
        | op::READ_TRACK_INFORMATION
        | op::READ_BUFFER_CAPACITY
        | op::READ_DVD_STRUCTURE => Some(field16()),
        _ => None,
    }
}

/// Opcodes the model implements (anything else must be INVALID COMMAND OPERATION CODE).
/// Whether the drive's command table has `opcode` (the one list of opcodes there is).
fn known(opcode: u8) -> bool {
    tcmu_mmc::mmc::commands::COMMANDS
        .iter()
        .any(|c| c.opcode == opcode)
}

/// A CHECK CONDITION's sense must be one a real drive could send.
pub fn check_sense(s: &Sense, cdb: &[u8]) {
    assert!(
        matches!(
            s.key,
            key::NOT_READY
                | key::MEDIUM_ERROR
                | key::HARDWARE_ERROR
                | key::ILLEGAL_REQUEST
                | key::UNIT_ATTENTION
                | key::DATA_PROTECT
        ),
        "cdb {cdb:02x?}: sense key {:#x} in a CHECK CONDITION",
        s.key
    );
    assert!(
        (s.asc, s.ascq) != (0, 0),
        "cdb {cdb:02x?}: CHECK CONDITION without an additional sense code"
    );
    let f = s.to_fixed();
    assert_eq!(f[0] & 0x7f, 0x70, "fixed-format response code");
    assert_eq!(f[2] & 0xf0, 0, "no FILEMARK/EOM/ILI bits");
    assert_eq!(usize::from(f[7]) + 8, f.len(), "additional sense length");
}

fn identity() -> Identity {
    Identity::new("TCMU-MMC", "Virtual DVD-RW", "0001", "FUZZ0001")
}

pub struct Harness {
    pub drive: SimDrive,
    finalize_on_close: bool,
    write_protected: bool,
    /// The disc as last recorded (state file): what a restart or reload loads.
    persisted: Option<Medium>,
    /// Extents the drive acknowledged writing (since the last erase).
    written: Extents,
    /// `written` as it was when the state was last recorded.
    durable: Extents,
}

impl Harness {
    pub fn new(medium: Option<Medium>, finalize_on_close: bool, write_protected: bool) -> Self {
        if let Some(m) = &medium {
            m.validate().expect("initial state is valid");
            assert!(
                matches!(m.durable(), std::borrow::Cow::Borrowed(_)),
                "an initial state is what loads from a file: durable"
            );
        }
        let mut h = Harness {
            drive: SimDrive::new(identity(), medium.clone()),
            finalize_on_close,
            write_protected,
            persisted: medium.clone(),
            written: Extents::default(),
            durable: Extents::default(),
        };
        h.apply_flags();
        h
    }

    fn apply_flags(&mut self) {
        let recordable = self
            .persisted
            .as_ref()
            .is_some_and(|m| m.kind().is_recordable());
        self.drive
            .drive
            .set_finalize_on_close(self.finalize_on_close && recordable);
        self.drive
            .drive
            .set_write_protected(self.write_protected && recordable);
    }

    /// Load the last recorded state again: through a new daemon (`restart`) or as a media
    /// change in the running one. Whatever was acknowledged before that record must be in it;
    /// what came after is gone, as the image is cut to the recorded area on load.
    pub fn reload(&mut self, restart: bool) {
        if let Some(p) = &self.persisted {
            if p.kind().is_recordable() {
                let json = state::to_json(p);
                let back = state::parse(&json)
                    .unwrap_or_else(|e| panic!("recorded state does not load: {e}\n{json}"));
                assert_eq!(&back, p, "state round trip");
            }
            let rec = recorded(p);
            assert!(
                self.durable.inside(&rec),
                "acknowledged extents {:?} not in the recorded area {:?}",
                self.durable,
                rec
            );
            self.written = self.durable.clone();
            self.written.clip(u64::from(p.readable_blocks()));
        } else {
            self.written.clear();
        }
        self.durable = self.written.clone();
        if restart {
            self.drive = SimDrive::new(identity(), self.persisted.clone());
        } else {
            self.drive.change_medium(self.persisted.clone());
        }
        self.apply_flags();
    }

    /// Execute one command and check every invariant around it.
    pub fn command(&mut self, cdb: &[u8], data_out: &[u8]) -> Outcome {
        let before = self.drive.disc.clone();
        let mut out = Vec::new();
        let outcome = self.drive.execute(cdb, data_out, &mut out);
        let opcode = byte(cdb, 0);
        match outcome {
            Outcome::Check(s) => {
                check_sense(&s, cdb);
                assert!(out.is_empty(), "cdb {cdb:02x?}: data with CHECK CONDITION");
                if cdb.is_empty() || !known(opcode) {
                    assert!(
                        s.triple() == (5, 0x20, 0) || s.key == key::UNIT_ATTENTION,
                        "unknown opcode {opcode:#04x} answered {:?}",
                        s.triple()
                    );
                }
            }
            Outcome::Good => {
                assert!(
                    !cdb.is_empty() && known(opcode),
                    "unknown opcode {opcode:#04x} accepted"
                );
                let limit = data_in_limit(cdb);
                assert!(
                    out.len() <= limit,
                    "cdb {cdb:02x?}: {} bytes of Data-In for an allocation length of {limit}",
                    out.len()
                );
                if out.len() < limit {
                    if let Some(n) = declared_len(cdb, &out) {
                        assert_eq!(n, out.len(), "cdb {cdb:02x?}: reply length field");
                    }
                }
            }
            Outcome::ReadBlocks { lba, blocks } => {
                assert!(matches!(opcode, op::READ_10 | op::READ_12), "{cdb:02x?}");
                assert!(out.is_empty() && blocks > 0);
                let m = self.drive.medium().expect("READ with no accessible medium");
                let end = lba + u64::from(blocks);
                assert!(
                    end <= u64::from(m.readable_blocks()),
                    "READ {lba}+{blocks} past the recorded end {}",
                    m.readable_blocks()
                );
            }
            Outcome::WriteBlocks { lba, blocks } => {
                assert!(
                    matches!(
                        opcode,
                        op::WRITE_10 | op::WRITE_AND_VERIFY_10 | op::WRITE_12
                    ),
                    "{cdb:02x?}"
                );
                assert!(out.is_empty() && blocks > 0);
                assert!(!self.write_protected, "WRITE on a write-protected disc");
                let m = self
                    .drive
                    .medium()
                    .expect("WRITE with no accessible medium");
                assert!(m.is_writable(), "WRITE on a disc that cannot be written");
                let end = lba + u64::from(blocks);
                assert!(end <= u64::from(m.capacity()), "WRITE past the disc");
                let pseudo_overwrite = m.pseudo_overwrite()
                    && m.tracks()
                        .iter()
                        .any(|t| u64::from(t.start) <= lba && end <= u64::from(t.end()));
                if m.is_overwritable() {
                    assert!(
                        end <= u64::from(m.formatted()),
                        "WRITE past the formatted area"
                    );
                } else if pseudo_overwrite {
                    // SRM+POW: recorded blocks of a BD-R written again, remapped by the drive.
                } else {
                    let t = m
                        .tracks()
                        .iter()
                        .find(|t| !t.closed && u64::from(t.nwa()) == lba)
                        .unwrap_or_else(|| panic!("WRITE at {lba}: not a next writable address"));
                    let limit = u64::from(t.start) + u64::from(m.track_size(t));
                    assert!(
                        end <= limit,
                        "WRITE {lba}+{blocks} past its track ({limit})"
                    );
                    assert!(
                        !self.written.overlaps(lba, end),
                        "WRITE {lba}+{blocks} over acknowledged data on write-once media"
                    );
                }
                self.drive.written(lba, blocks);
                self.written.insert(lba, end);
            }
        }
        let erase = self.drive.take_erase_request();
        let persist = self.drive.take_persist_request();
        let after = self.drive.disc.clone();
        self.check_transition(cdb, &outcome, &before, &after, erase);
        if erase {
            self.written.clear();
        }
        if persist && !matches!(outcome, Outcome::Check(_)) {
            // The store records the disc's durable form: a Disc-At-Once recording not yet
            // complete is held in the drive's memory only, and what was acknowledged into it
            // is lost with the drive, as on a real one (it starts where the durable disc's
            // invisible track now starts).
            self.durable = self.written.clone();
            if let Some(start) = after.as_ref().and_then(memory_only_from) {
                self.durable.clip(u64::from(start));
            }
            self.persisted = after.map(|m| m.durable().into_owned());
        }
        outcome
    }

    fn check_transition(
        &self,
        cdb: &[u8],
        outcome: &Outcome,
        before: &Option<Medium>,
        after: &Option<Medium>,
        erase: bool,
    ) {
        let opcode = byte(cdb, 0);
        let (b, a) = match (before, after) {
            (None, None) => return,
            (Some(b), Some(a)) => (b, a),
            _ => panic!("cdb {cdb:02x?}: the disc appeared or vanished"),
        };
        if let Err(e) = a.validate() {
            panic!(
                "cdb {cdb:02x?}: the disc is now in a state that cannot be recorded: {e}\n{a:?}"
            );
        }
        assert_eq!(
            (a.kind(), a.capacity()),
            (b.kind(), b.capacity()),
            "kind or capacity changed"
        );
        assert!(a.readable_blocks() <= a.capacity());
        if matches!(outcome, Outcome::Check(_)) {
            assert_eq!(a, b, "cdb {cdb:02x?}: a failed command changed the disc");
        }
        if !a.kind().is_recordable() || self.write_protected {
            assert_eq!(a, b, "cdb {cdb:02x?}: a read-only disc changed");
        }
        if erase {
            assert_eq!(*outcome, Outcome::Good, "erase without GOOD");
            assert!(
                matches!(opcode, op::FORMAT_UNIT | op::BLANK) && a.kind().is_erasable(),
                "cdb {cdb:02x?} erased a {:?}",
                a.kind()
            );
            return;
        }
        // Nothing recorded is ever lost without an erase, and nothing is un-finalized.
        assert!(
            recorded(b).inside(&recorded(a)),
            "cdb {cdb:02x?}: recorded area shrank: {:?} -> {:?}",
            recorded(b),
            recorded(a)
        );
        assert!(!b.finalized() || a.finalized(), "un-finalized");
        if !a.is_overwritable() {
            // Sequential recording: no next writable address leads into acknowledged data.
            for t in a.tracks().iter().filter(|t| !t.closed) {
                let from = u64::from(t.nwa());
                let to = u64::from(t.start) + u64::from(a.track_size(t));
                assert!(
                    !self.written.overlaps(from, to),
                    "cdb {cdb:02x?}: open track {} ({from}..{to}) over acknowledged data {:?}",
                    t.number,
                    self.written
                );
            }
        }
    }

    /// Every acknowledged extent reads back (as far as the model says: the blocks come from
    /// the image the harness does not hold).
    pub fn check_read_back(&mut self) {
        // Take any pending unit attention; an open tray has nothing to read.
        let mut out = Vec::new();
        self.drive.execute(&[0x03, 0, 0, 0, 18, 0], &[], &mut out);
        if self.drive.medium().is_none() {
            return;
        }
        for (s, e) in self.written.clone().iter().take(64) {
            let (lba, n) = (s as u32, (e - s) as u32);
            let mut cdb = [0u8; 12];
            cdb[0] = op::READ_12;
            cdb[2..6].copy_from_slice(&lba.to_be_bytes());
            cdb[6..10].copy_from_slice(&n.to_be_bytes());
            let o = self.command(&cdb, &[]);
            assert_eq!(
                o,
                Outcome::ReadBlocks { lba: s, blocks: n },
                "acknowledged extent {s}..{e} does not read back"
            );
        }
    }
}

/// One fuzz input.
pub fn run(data: &[u8]) {
    let mut input = Input::new(data);
    let state = usize::from(input.u8());
    let flags = input.u8();
    let cap = input.u16();
    let cap = match flags & 0x0c {
        0x04 => Some(64 + u32::from(cap)),
        0x08 | 0x0c => Some(u32::MAX - u32::from(cap)),
        _ => None,
    };
    let (medium, tray_open, pending_change) = initial(state, cap);
    let mut h = Harness::new(medium, flags & 0x01 != 0, flags & 0x02 != 0);
    if tray_open {
        h.command(&[0x1b, 0, 0, 0, 0x02, 0], &[]);
    }
    if pending_change {
        h.reload(false);
    }
    run_script(&mut h, &mut input);
}

/// Run the records of `input` (restarts, reloads, commands) on `h`, then check read-back.
pub fn run_script(h: &mut Harness, input: &mut Input<'_>) {
    let mut commands = 0;
    while !input.is_empty() && commands < 512 {
        let n = input.u8();
        if n >= 0xf0 {
            h.reload(n & 1 == 0);
            continue;
        }
        let cdb = input.bytes(usize::from(n));
        let len = usize::from(input.u16());
        let data_out = input.bytes(len);
        h.command(cdb, data_out);
        commands += 1;
    }
    h.check_read_back();
}
