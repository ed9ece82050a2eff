//! What is in the tray: a pressed DVD-ROM, BD-ROM or CD-ROM, a write-once disc (DVD+R, DVD-R,
//! BD-R recorded in SRM) or a blank DVD-RW recorded sequentially, with its tracks, sessions and next writable
//! address, or a rewritable disc written in place.
//!
//! A sequential disc always ends in an open track while it is not complete: the "invisible"
//! track that runs from the next writable address to the end of the disc, or a track reserved
//! with RESERVE TRACK that is not full yet. Closing a session (a border on DVD-R) leaves the
//! disc appendable; finalizing it makes it complete. A complete DVD+R presents itself as a
//! DVD-ROM (the seed's morph); a complete DVD-R or DVD-RW keeps its profile, as on a real drive.
use super::profile;

mod bd;
mod rewritable;
mod sequential;
mod validate;

pub use bd::SpareSize;
pub use validate::InvalidMedium;

/// Blocks of a single-layer DVD+R (4.7 GB).
pub const DVD_PLUS_R_BLOCKS: u32 = 2_295_104;
/// Blocks of a dual-layer DVD+R (8.5 GB).
pub const DVD_PLUS_R_DL_BLOCKS: u32 = 4_173_824;
/// Blocks of a single-layer DVD-R (4.7 GB).
pub const DVD_MINUS_R_BLOCKS: u32 = 2_298_496;
/// Blocks of a dual-layer DVD-R (8.5 GB).
pub const DVD_MINUS_R_DL_BLOCKS: u32 = 4_171_712;
/// Blocks of a single-layer DVD+RW.
pub const DVD_PLUS_RW_BLOCKS: u32 = 2_295_104;
/// Blocks of a single-sided 4.7 GB DVD-RAM.
pub const DVD_RAM_BLOCKS: u32 = 2_236_704;
/// Blocks of a single-layer DVD-RW.
pub const DVD_RW_BLOCKS: u32 = 2_297_888;
/// Blocks of an 80-minute CD-RW.
pub const CD_RW_BLOCKS: u32 = 359_846;
/// Blocks of a single-layer Blu-ray disc (25 GB).
pub const BD_SINGLE_LAYER_BLOCKS: u32 = 12_219_392;
/// Recording unit of a DVD: one ECC block of 16 sectors (32 KiB). Tracks start on it.
pub const ECC_BLOCK: u32 = 16;
/// Recording unit of a Blu-ray disc: one cluster of 32 sectors (64 KiB). Tracks start on it.
pub const BD_CLUSTER: u32 = 32;
/// Fixed packet size of a CD-RW formatted for packet writing (cdrwtool, pktcdvd).
pub const CD_RW_PACKET: u32 = 32;

/// One track, in logical blocks of 2048 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Track {
    pub number: u8,
    pub session: u8,
    pub start: u32,
    /// Blocks written from `start` on (the next writable address is `start + recorded`).
    pub recorded: u32,
    /// Size reserved with RESERVE TRACK (kept after the track is closed); `None` for a track
    /// that grows as it is written.
    pub reserved: Option<u32>,
    pub closed: bool,
}

impl Track {
    /// A closed track of `size` recorded blocks.
    pub const fn closed(number: u8, session: u8, start: u32, size: u32) -> Self {
        Track {
            number,
            session,
            start,
            recorded: size,
            reserved: None,
            closed: true,
        }
    }

    /// An open, empty track that grows as it is written (the invisible track).
    pub const fn open(number: u8, session: u8, start: u32) -> Self {
        Track {
            number,
            session,
            start,
            recorded: 0,
            reserved: None,
            closed: false,
        }
    }

    /// The next writable address.
    pub fn nwa(&self) -> u32 {
        self.start + self.recorded
    }

    /// End of the recorded part.
    pub fn end(&self) -> u32 {
        self.start + self.recorded
    }

    /// Whether this is the open track that grows into the rest of the disc.
    pub fn is_invisible(&self) -> bool {
        !self.closed && self.reserved.is_none()
    }
}

/// The physical kind of disc.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediumKind {
    DvdRom,
    BdRom,
    CdRom,
    DvdPlusR,
    DvdPlusRDualLayer,
    DvdPlusRw,
    DvdRam,
    /// DVD-RW: sequential while blank, restricted overwrite once formatted.
    DvdRw,
    CdRw,
    DvdMinusR,
    DvdMinusRDualLayer,
    /// BD-R recorded sequentially (SRM), with or without spare areas formatted first.
    BdR,
    /// BD-RE: blank until FORMAT UNIT, then written in place.
    BdRe,
}

impl MediumKind {
    /// Every kind, for listing and parsing names.
    pub const ALL: [MediumKind; 13] = [
        MediumKind::DvdRom,
        MediumKind::BdRom,
        MediumKind::CdRom,
        MediumKind::DvdPlusR,
        MediumKind::DvdPlusRDualLayer,
        MediumKind::DvdMinusR,
        MediumKind::DvdMinusRDualLayer,
        MediumKind::DvdPlusRw,
        MediumKind::DvdRam,
        MediumKind::DvdRw,
        MediumKind::CdRw,
        MediumKind::BdR,
        MediumKind::BdRe,
    ];

    /// Whether the drive can record on it at all.
    pub fn is_recordable(self) -> bool {
        !self.is_pressed()
    }

    /// A pressed (read-only) disc: what a data image with no recording state is.
    pub fn is_pressed(self) -> bool {
        matches!(
            self,
            MediumKind::DvdRom | MediumKind::BdRom | MediumKind::CdRom
        )
    }

    /// Rewritable media that can be written in place once formatted (a DVD-RW is recorded
    /// sequentially until then).
    pub fn is_overwritable(self) -> bool {
        matches!(
            self,
            MediumKind::DvdPlusRw
                | MediumKind::DvdRam
                | MediumKind::DvdRw
                | MediumKind::CdRw
                | MediumKind::BdRe
        )
    }

    /// Whether FORMAT UNIT applies to it: the overwritable kinds, and a BD-R (spare areas).
    pub fn is_formattable(self) -> bool {
        self.is_overwritable() || self == MediumKind::BdR
    }

    pub fn is_erasable(self) -> bool {
        self.is_overwritable()
    }

    /// The DVD-R family (DVD-R, DVD-R DL, DVD-RW while sequential): recorded as mode page 05
    /// says, Incremental Streaming or Disc-At-Once, and a session closed with "no next
    /// session" in page 05 closes the disc.
    pub fn follows_write_parameters(self) -> bool {
        matches!(
            self,
            MediumKind::DvdMinusR | MediumKind::DvdMinusRDualLayer | MediumKind::DvdRw
        )
    }

    pub fn is_cd(self) -> bool {
        matches!(self, MediumKind::CdRw | MediumKind::CdRom)
    }

    pub fn is_bd(self) -> bool {
        matches!(self, MediumKind::BdRom | MediumKind::BdR | MediumKind::BdRe)
    }

    /// Where a new track or session starts: on the next ECC block of a DVD, the next cluster
    /// of a BD.
    pub fn track_alignment(self) -> u32 {
        if self.is_bd() {
            BD_CLUSTER
        } else {
            ECC_BLOCK
        }
    }

    /// Capacity of a disc of this kind, in blocks.
    pub fn default_capacity(self) -> u32 {
        match self {
            MediumKind::DvdRom | MediumKind::DvdPlusR => DVD_PLUS_R_BLOCKS,
            MediumKind::DvdPlusRDualLayer => DVD_PLUS_R_DL_BLOCKS,
            MediumKind::DvdMinusR => DVD_MINUS_R_BLOCKS,
            MediumKind::DvdMinusRDualLayer => DVD_MINUS_R_DL_BLOCKS,
            MediumKind::DvdPlusRw => DVD_PLUS_RW_BLOCKS,
            MediumKind::DvdRam => DVD_RAM_BLOCKS,
            MediumKind::DvdRw => DVD_RW_BLOCKS,
            MediumKind::CdRw | MediumKind::CdRom => CD_RW_BLOCKS,
            MediumKind::BdRom | MediumKind::BdR | MediumKind::BdRe => BD_SINGLE_LAYER_BLOCKS,
        }
    }

    /// The fixed packet size writes must align to once formatted (0: 2 KiB granularity).
    pub fn packet_alignment(self) -> u32 {
        match self {
            MediumKind::DvdRw => ECC_BLOCK,
            MediumKind::CdRw => CD_RW_PACKET,
            _ => 0,
        }
    }
}

/// Disc status, as READ DISC INFORMATION reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscStatus {
    Empty = 0,
    Incomplete = 1,
    Complete = 2,
}

/// A medium loaded in the drive.
#[derive(Debug, Clone, PartialEq, Eq)]
///
/// Its fields are private: a `Medium` is made by a constructor ([`Medium::dvd_rom`],
/// [`Medium::blank`], or [`Medium::from_parts`], which checks every invariant) and changed
/// only by the recording operations, so every value keeps the invariants the commands rely on.
pub struct Medium {
    kind: MediumKind,
    /// Total user blocks of the disc.
    capacity: u32,
    /// All tracks, ascending; on a recordable disc that is not complete, the last is open.
    tracks: Vec<Track>,
    /// Set once the disc is finalized: nothing more can be recorded.
    finalized: bool,
    /// Overwritable media: blocks formatted (0: blank or not formatted). Writes and reads stay
    /// inside the formatted area. A BD-R formatted with spare areas: the blocks left for
    /// recording ([`Medium::recordable_capacity`]).
    formatted: u32,
    /// The track reserved for a Disc-At-Once recording that is not closed yet. A real drive
    /// keeps such a reservation in its memory until the recording is complete, so it is not
    /// part of the disc's durable form ([`Medium::durable`]).
    dao_track: Option<u8>,
    /// A BD-R formatted for SRM with pseudo-overwrite (POW): recorded blocks may be written
    /// again (the drive remaps them into the spare areas).
    pseudo_overwrite: bool,
}

/// Why a recording request cannot be carried out; the caller maps it to sense data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordError {
    /// The medium is not writable (pressed, or complete).
    NotWritable,
    /// Not the next writable address of an open track.
    NotNextWritable,
    /// Past the end of the disc or the track's reservation.
    NoSpace,
    /// The operation does not fit the disc's state (e.g. reserving on a non-empty track).
    Sequence,
    /// A track or session number that does not exist or cannot be closed.
    BadTrack,
    /// Not aligned to the fixed packet size of the medium.
    Unaligned,
}

impl Medium {
    /// A pressed DVD-ROM of `blocks` blocks: one session holding one data track.
    pub fn dvd_rom(blocks: u32) -> Self {
        Medium::pressed(MediumKind::DvdRom, blocks)
    }

    /// A pressed disc of `kind` (DVD-ROM, BD-ROM or CD-ROM) of `blocks` blocks: one session
    /// holding one data track.
    pub fn pressed(kind: MediumKind, blocks: u32) -> Self {
        debug_assert!(kind.is_pressed(), "{kind:?} is not a pressed disc");
        Medium {
            kind,
            capacity: blocks,
            tracks: vec![Track::closed(1, 1, 0, blocks)],
            finalized: true,
            formatted: 0,
            dao_track: None,
            pseudo_overwrite: false,
        }
    }

    /// A blank recordable disc. DVD-RAM comes formatted, as it is sold; DVD-RW comes blank
    /// for sequential recording; the other rewritable kinds are blank until FORMAT UNIT.
    pub fn blank(kind: MediumKind, capacity: u32) -> Self {
        if kind.is_overwritable() && kind != MediumKind::DvdRw {
            let mut m = Medium {
                kind,
                capacity,
                tracks: Vec::new(),
                finalized: false,
                formatted: 0,
                dao_track: None,
                pseudo_overwrite: false,
            };
            if kind == MediumKind::DvdRam {
                m.format(capacity);
            }
            return m;
        }
        Medium {
            kind,
            capacity,
            tracks: vec![Track::open(1, 1, 0)],
            finalized: false,
            formatted: 0,
            dao_track: None,
            pseudo_overwrite: false,
        }
    }

    /// A medium from its recorded parts (a state file), refused unless it keeps every invariant
    /// the drive relies on.
    pub fn from_parts(
        kind: MediumKind,
        capacity: u32,
        tracks: Vec<Track>,
        finalized: bool,
        formatted: u32,
    ) -> Result<Self, InvalidMedium> {
        // A blank DVD-RW was recorded without tracks before it could be recorded
        // sequentially: it is the same blank disc.
        let mut tracks = if kind == MediumKind::DvdRw && formatted == 0 && tracks.is_empty() {
            vec![Track::open(1, 1, 0)]
        } else {
            tracks
        };
        // A closed track holds all of its reservation (the unwritten rest reads as zeros), as
        // closing one records; a state that says less is read that way.
        for t in tracks.iter_mut().filter(|t| t.closed) {
            if let Some(r) = t.reserved {
                t.recorded = t.recorded.max(r);
            }
        }
        let m = Medium {
            kind,
            capacity,
            tracks,
            finalized,
            formatted,
            dao_track: None,
            pseudo_overwrite: false,
        };
        m.validate()?;
        Ok(m)
    }

    /// The same medium with pseudo-overwrite on or off (a state file's `pow`), refused unless
    /// it is a BD-R formatted with spare areas.
    pub fn with_pseudo_overwrite(mut self, on: bool) -> Result<Self, InvalidMedium> {
        self.pseudo_overwrite = on;
        self.validate()?;
        Ok(self)
    }

    /// Whether recorded blocks of this BD-R may be written again (SRM+POW).
    pub fn pseudo_overwrite(&self) -> bool {
        self.pseudo_overwrite
    }

    pub fn kind(&self) -> MediumKind {
        self.kind
    }

    /// Total user blocks of the disc.
    pub fn capacity(&self) -> u32 {
        self.capacity
    }

    /// Where sequential recording must end: the disc's capacity, less the spare areas of a
    /// BD-R formatted with them.
    pub fn recordable_capacity(&self) -> u32 {
        if self.kind == MediumKind::BdR && self.formatted > 0 {
            self.formatted
        } else {
            self.capacity
        }
    }

    /// All tracks, ascending; on a recordable disc that is not complete, the last is open.
    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    /// Whether the disc was finalized: nothing more can be recorded.
    pub fn finalized(&self) -> bool {
        self.finalized
    }

    /// Overwritable media: blocks formatted (0: blank or not formatted).
    pub fn formatted(&self) -> u32 {
        self.formatted
    }

    /// The profile the drive reports: a finalized DVD+R reads as a DVD-ROM; a DVD-R keeps
    /// its profile.
    pub fn profile(&self) -> u16 {
        match self.kind {
            MediumKind::DvdMinusR => profile::DVD_R_SEQUENTIAL,
            MediumKind::DvdMinusRDualLayer => profile::DVD_R_DL_SEQUENTIAL,
            MediumKind::DvdRom => profile::DVD_ROM,
            MediumKind::BdRom => profile::BD_ROM,
            MediumKind::CdRom => profile::CD_ROM,
            MediumKind::DvdPlusRw => profile::DVD_PLUS_RW,
            MediumKind::DvdRam => profile::DVD_RAM,
            MediumKind::DvdRw if self.formatted > 0 => profile::DVD_RW_RESTRICTED_OVERWRITE,
            MediumKind::DvdRw => profile::DVD_RW_SEQUENTIAL,
            MediumKind::CdRw => profile::CD_RW,
            // A finalized BD-R stays a BD-R (no drive presents it as a BD-ROM).
            MediumKind::BdR => profile::BD_R_SRM,
            MediumKind::BdRe => profile::BD_RE,
            _ if self.finalized => profile::DVD_ROM,
            MediumKind::DvdPlusR => profile::DVD_PLUS_R,
            MediumKind::DvdPlusRDualLayer => profile::DVD_PLUS_R_DL,
        }
    }

    pub fn is_dvd(&self) -> bool {
        profile::is_dvd(self.profile())
    }

    /// Whether the disc is a Blu-ray disc.
    pub fn is_bd(&self) -> bool {
        profile::is_bd(self.profile())
    }

    /// Its blocking factor, the blocks read or written as one unit: a DVD's ECC block (16),
    /// a BD's cluster (32), a CD's single block.
    pub fn blocking_factor(&self) -> u16 {
        if self.kind.is_cd() {
            1
        } else if self.is_bd() {
            32
        } else {
            ECC_BLOCK as u16
        }
    }

    /// Whether WRITE, RESERVE TRACK and CLOSE may change the disc.
    pub fn is_writable(&self) -> bool {
        self.kind.is_recordable() && !self.finalized
    }

    /// Whether the disc is written in place now (a DVD-RW only once formatted).
    pub fn is_overwritable(&self) -> bool {
        self.kind.is_overwritable() && !(self.kind == MediumKind::DvdRw && self.formatted == 0)
    }

    /// Readable blocks: the end of the last recorded data.
    pub fn readable_blocks(&self) -> u32 {
        self.tracks
            .iter()
            .filter(|t| t.recorded > 0)
            .map(Track::end)
            .max()
            .unwrap_or(0)
    }

    pub fn status(&self) -> DiscStatus {
        if self.is_overwritable() {
            return if self.formatted > 0 {
                DiscStatus::Complete
            } else {
                DiscStatus::Empty
            };
        }
        if self.finalized {
            DiscStatus::Complete
        } else if self
            .tracks
            .iter()
            .all(|t| t.recorded == 0 && t.reserved.is_none())
        {
            DiscStatus::Empty
        } else {
            DiscStatus::Incomplete
        }
    }

    /// Tracks that appear in the table of contents: the closed ones.
    pub fn toc_tracks(&self) -> impl Iterator<Item = &Track> {
        self.tracks.iter().filter(|t| t.closed)
    }

    /// Number of sessions, counting an open last session.
    pub fn sessions(&self) -> u8 {
        self.tracks.last().map_or(0, |t| t.session)
    }

    /// Sessions that are closed.
    pub fn closed_sessions(&self) -> u8 {
        match self.tracks.last() {
            Some(t) if t.closed => t.session,
            Some(t) => t.session - 1,
            None => 0,
        }
    }

    pub fn first_track(&self) -> u8 {
        self.tracks.first().map_or(1, |t| t.number)
    }

    pub fn last_track(&self) -> u8 {
        self.tracks.last().map_or(1, |t| t.number)
    }

    pub fn track(&self, number: u8) -> Option<&Track> {
        self.tracks.iter().find(|t| t.number == number)
    }

    /// The track holding `lba` (for an open track, anywhere in its extent).
    pub fn track_at(&self, lba: u32) -> Option<&Track> {
        self.tracks
            .iter()
            .find(|t| t.start <= lba && lba < t.start + self.track_size(t))
    }

    /// The size READ TRACK INFORMATION reports: recorded blocks of a closed track, the
    /// reservation of a reserved one, the rest of the disc for the invisible track.
    pub fn track_size(&self, t: &Track) -> u32 {
        match (t.closed, t.reserved) {
            (true, _) => t.recorded,
            (false, Some(r)) => r,
            (false, None) => self.recordable_capacity().saturating_sub(t.start),
        }
    }

    /// Free blocks of an open track.
    pub fn free_blocks(&self, t: &Track) -> u32 {
        if t.closed {
            0
        } else {
            self.track_size(t) - t.recorded
        }
    }

    /// Tracks of the last session.
    pub fn last_session_tracks(&self) -> impl Iterator<Item = &Track> {
        let last = self.sessions();
        self.tracks.iter().filter(move |t| t.session == last)
    }

    /// Tracks of the last closed session (what a multisession mount reads).
    pub fn last_closed_session_tracks(&self) -> impl Iterator<Item = &Track> {
        let last = self.closed_sessions().max(1);
        self.tracks.iter().filter(move |t| t.session == last)
    }

    /// Check a WRITE of `blocks` blocks at `lba`: it must start at the NWA of an open track and
    /// fit in it.
    pub fn check_write(&self, lba: u32, blocks: u32) -> Result<(), RecordError> {
        if !self.is_writable() {
            return Err(RecordError::NotWritable);
        }
        if self.is_overwritable() {
            let end = u64::from(lba) + u64::from(blocks);
            if self.formatted == 0 || u64::from(lba) >= u64::from(self.formatted) {
                return Err(RecordError::NotNextWritable);
            }
            if end > u64::from(self.formatted) {
                return Err(RecordError::NoSpace);
            }
            let packet = self.kind.packet_alignment();
            if packet != 0 && (lba % packet != 0 || blocks % packet != 0) {
                return Err(RecordError::Unaligned);
            }
            return Ok(());
        }
        if self.pseudo_overwrite && self.overwrites_recorded(lba, blocks) {
            return Ok(());
        }
        let t = self
            .tracks
            .iter()
            .find(|t| !t.closed && t.nwa() == lba)
            .ok_or(RecordError::NotNextWritable)?;
        if blocks > self.free_blocks(t) {
            return Err(RecordError::NoSpace);
        }
        Ok(())
    }
}
