//! What is in the tray: a pressed DVD-ROM, or a DVD+R recorded sequentially, with its tracks,
//! sessions and next writable address.
//!
//! A DVD+R always ends in an open track while it is not complete: the "invisible" track that
//! runs from the next writable address to the end of the disc, or a track reserved with
//! RESERVE TRACK that is not full yet. Closing a session leaves the disc appendable; finalizing
//! it makes it complete, and a complete DVD+R presents itself as a DVD-ROM (the seed's morph).
use super::profile;

/// Blocks of a single-layer DVD+R (4.7 GB).
pub const DVD_PLUS_R_BLOCKS: u32 = 2_295_104;
/// Blocks of a dual-layer DVD+R (8.5 GB).
pub const DVD_PLUS_R_DL_BLOCKS: u32 = 4_173_824;
/// Blocks of a single-layer DVD+RW.
pub const DVD_PLUS_RW_BLOCKS: u32 = 2_295_104;
/// Blocks of a single-sided 4.7 GB DVD-RAM.
pub const DVD_RAM_BLOCKS: u32 = 2_236_704;
/// Blocks of a single-layer DVD-RW.
pub const DVD_RW_BLOCKS: u32 = 2_297_888;
/// Blocks of an 80-minute CD-RW.
pub const CD_RW_BLOCKS: u32 = 359_846;
/// Recording unit of a DVD: one ECC block of 16 sectors (32 KiB). Tracks start on it.
pub const ECC_BLOCK: u32 = 16;
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
    DvdPlusR,
    DvdPlusRDualLayer,
    DvdPlusRw,
    DvdRam,
    /// DVD-RW: sequential while blank, restricted overwrite once formatted.
    DvdRw,
    CdRw,
}

impl MediumKind {
    /// Every kind, for listing and parsing names.
    pub const ALL: [MediumKind; 7] = [
        MediumKind::DvdRom,
        MediumKind::DvdPlusR,
        MediumKind::DvdPlusRDualLayer,
        MediumKind::DvdPlusRw,
        MediumKind::DvdRam,
        MediumKind::DvdRw,
        MediumKind::CdRw,
    ];

    /// Whether the drive can record on it at all.
    pub fn is_recordable(self) -> bool {
        !matches!(self, MediumKind::DvdRom)
    }

    /// Rewritable media that are written in place (formatted), not sequentially.
    pub fn is_overwritable(self) -> bool {
        matches!(
            self,
            MediumKind::DvdPlusRw | MediumKind::DvdRam | MediumKind::DvdRw | MediumKind::CdRw
        )
    }

    pub fn is_erasable(self) -> bool {
        self.is_overwritable()
    }

    pub fn is_cd(self) -> bool {
        matches!(self, MediumKind::CdRw)
    }

    /// Capacity of a disc of this kind, in blocks.
    pub fn default_capacity(self) -> u32 {
        match self {
            MediumKind::DvdRom | MediumKind::DvdPlusR => DVD_PLUS_R_BLOCKS,
            MediumKind::DvdPlusRDualLayer => DVD_PLUS_R_DL_BLOCKS,
            MediumKind::DvdPlusRw => DVD_PLUS_RW_BLOCKS,
            MediumKind::DvdRam => DVD_RAM_BLOCKS,
            MediumKind::DvdRw => DVD_RW_BLOCKS,
            MediumKind::CdRw => CD_RW_BLOCKS,
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
pub struct Medium {
    pub kind: MediumKind,
    /// Total user blocks of the disc.
    pub capacity: u32,
    /// All tracks, ascending; on a recordable disc that is not complete, the last is open.
    pub tracks: Vec<Track>,
    /// Set once the disc is finalized: nothing more can be recorded.
    pub finalized: bool,
    /// Overwritable media: blocks formatted (0: blank or not formatted). Writes and reads stay
    /// inside the formatted area.
    pub formatted: u32,
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
        Medium {
            kind: MediumKind::DvdRom,
            capacity: blocks,
            tracks: vec![Track::closed(1, 1, 0, blocks)],
            finalized: true,
            formatted: 0,
        }
    }

    /// A blank recordable disc. DVD-RAM comes formatted, as it is sold; the other rewritable
    /// kinds are blank until FORMAT UNIT.
    pub fn blank(kind: MediumKind, capacity: u32) -> Self {
        if kind.is_overwritable() {
            let mut m = Medium {
                kind,
                capacity,
                tracks: Vec::new(),
                finalized: false,
                formatted: 0,
            };
            if kind == MediumKind::DvdRam {
                m.format(capacity);
            }
            return m;
        }
        Medium {
            kind,
            capacity,
            tracks: vec![Track {
                number: 1,
                session: 1,
                start: 0,
                recorded: 0,
                reserved: None,
                closed: false,
            }],
            finalized: false,
            formatted: 0,
        }
    }

    /// Format the whole usable area of an overwritable disc (`blocks`, cut to the disc and to
    /// its packet size): one closed track covering it.
    pub fn format(&mut self, blocks: u32) {
        let mut blocks = blocks.min(self.capacity);
        if let Some(p) = std::num::NonZeroU32::new(self.kind.packet_alignment()) {
            blocks -= blocks % p;
        }
        self.formatted = blocks;
        self.tracks = vec![Track::closed(1, 1, 0, blocks)];
        self.finalized = false;
    }

    /// BLANK: back to an unformatted, empty disc.
    pub fn blank_out(&mut self) {
        self.formatted = 0;
        self.tracks.clear();
        self.finalized = false;
    }

    /// The profile the drive reports: a finalized DVD+R reads as a DVD-ROM.
    pub fn profile(&self) -> u16 {
        match self.kind {
            MediumKind::DvdRom => profile::DVD_ROM,
            MediumKind::DvdPlusRw => profile::DVD_PLUS_RW,
            MediumKind::DvdRam => profile::DVD_RAM,
            MediumKind::DvdRw if self.formatted > 0 => profile::DVD_RW_RESTRICTED_OVERWRITE,
            MediumKind::DvdRw => profile::DVD_RW_SEQUENTIAL,
            MediumKind::CdRw => profile::CD_RW,
            _ if self.finalized => profile::DVD_ROM,
            MediumKind::DvdPlusR => profile::DVD_PLUS_R,
            MediumKind::DvdPlusRDualLayer => profile::DVD_PLUS_R_DL,
        }
    }

    pub fn is_dvd(&self) -> bool {
        profile::is_dvd(self.profile())
    }

    /// Whether WRITE, RESERVE TRACK and CLOSE may change the disc.
    pub fn is_writable(&self) -> bool {
        self.kind.is_recordable() && !self.finalized
    }

    /// Whether this is a rewritable disc written in place.
    pub fn is_overwritable(&self) -> bool {
        self.kind.is_overwritable()
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
            (false, None) => self.capacity.saturating_sub(t.start),
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

    /// Record that `blocks` blocks were written at `lba` (after `check_write` and the I/O).
    pub fn commit_write(&mut self, lba: u32, blocks: u32) {
        if self.is_overwritable() {
            return; // written in place: nothing moves
        }
        if let Some(t) = self.tracks.iter_mut().find(|t| !t.closed && t.nwa() == lba) {
            t.recorded += blocks;
        }
    }

    /// RESERVE TRACK of `size` blocks: the empty invisible track becomes a reserved track and a
    /// new invisible track follows it.
    pub fn reserve_track(&mut self, size: u32) -> Result<(), RecordError> {
        if !self.is_writable() {
            return Err(RecordError::NotWritable);
        }
        let capacity = self.capacity;
        let last = self.tracks.last_mut().ok_or(RecordError::Sequence)?;
        if !last.is_invisible() || last.recorded != 0 || size == 0 {
            return Err(RecordError::Sequence);
        }
        // A size near 4 Gi blocks would overflow when rounded up: no disc holds it anyway.
        let size = size
            .checked_next_multiple_of(ECC_BLOCK)
            .ok_or(RecordError::NoSpace)?;
        if u64::from(last.start) + u64::from(size) > u64::from(capacity) {
            return Err(RecordError::NoSpace);
        }
        last.reserved = Some(size);
        // Track numbers are one byte: the 255th track is the last the disc can hold.
        let Some(next_number) = last.number.checked_add(1) else {
            return Ok(());
        };
        let next = Track {
            number: next_number,
            session: last.session,
            start: last.start + size,
            recorded: 0,
            reserved: None,
            closed: false,
        };
        if next.start < capacity {
            self.tracks.push(next);
        }
        Ok(())
    }

    /// CLOSE TRACK (function 1) of track `number`.
    pub fn close_track(&mut self, number: u8) -> Result<(), RecordError> {
        if !self.is_writable() {
            return Err(RecordError::NotWritable);
        }
        let idx = self
            .tracks
            .iter()
            .position(|t| t.number == number)
            .ok_or(RecordError::BadTrack)?;
        if self.tracks[idx].closed {
            return Ok(());
        }
        if self.tracks[idx].recorded == 0 && self.tracks[idx].reserved.is_none() {
            // Closing the empty invisible track records nothing.
            return Err(RecordError::Sequence);
        }
        self.close_at(idx);
        Ok(())
    }

    /// Close the open track at `idx`: its size becomes what was recorded (a reservation keeps
    /// its size), and an invisible track starts on the next ECC block if it was the last.
    fn close_at(&mut self, idx: usize) {
        let t = &mut self.tracks[idx];
        if let Some(r) = t.reserved {
            // The unwritten rest of a reservation is part of the closed track (reads as zeros).
            t.recorded = t.recorded.max(r);
        }
        t.closed = true;
        let (number, session, end) = (t.number, t.session, t.end());
        if idx + 1 == self.tracks.len() {
            // No track after the last ECC block of the disc, nor after track 255.
            let start = end.checked_next_multiple_of(ECC_BLOCK);
            let next = start
                .filter(|&s| s < self.capacity)
                .zip(number.checked_add(1));
            if let Some((start, number)) = next {
                self.tracks.push(Track {
                    number,
                    session,
                    start,
                    recorded: 0,
                    reserved: None,
                    closed: false,
                });
            }
        }
    }

    /// CLOSE SESSION (function 2): close every track of the open session that holds data, and
    /// start the next session. True if anything changed.
    pub fn close_session(&mut self) -> Result<bool, RecordError> {
        if !self.is_writable() {
            return Err(RecordError::NotWritable);
        }
        let session = self.sessions();
        let mut changed = false;
        let mut i = 0;
        while i < self.tracks.len() {
            let t = self.tracks[i];
            if t.session == session && !t.closed && (t.recorded > 0 || t.reserved.is_some()) {
                self.close_at(i);
                changed = true;
            }
            i += 1;
        }
        let has_closed = self.tracks.iter().any(|t| t.session == session && t.closed);
        if !has_closed {
            // An empty session: nothing to close.
            return Ok(changed);
        }
        // The open track after the session moves to a new session.
        self.tracks
            .retain(|t| t.closed || t.recorded > 0 || t.reserved.is_some());
        let end = self.readable_blocks();
        let start = end
            .checked_next_multiple_of(ECC_BLOCK)
            .filter(|&s| s < self.capacity);
        // A session holds at least one track, so a free track number means a free session one.
        let next = self.last_track().checked_add(1).zip(session.checked_add(1));
        if let (Some(start), Some((number, session))) = (start, next) {
            self.tracks.push(Track {
                number,
                session,
                start,
                recorded: 0,
                reserved: None,
                closed: false,
            });
        }
        Ok(true)
    }

    /// Finalize (CLOSE functions 5 and 6): close the open session if it holds data, and make
    /// the disc complete.
    pub fn finalize(&mut self) -> Result<(), RecordError> {
        if !self.is_writable() {
            return Err(RecordError::NotWritable);
        }
        self.close_session()?;
        if !self.tracks.iter().any(|t| t.closed) {
            return Err(RecordError::Sequence);
        }
        self.tracks.retain(|t| t.closed);
        self.finalized = true;
        Ok(())
    }
}
