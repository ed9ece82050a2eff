//! Sequential recording (DVD+R, DVD-R, DVD-RW sequential): the next writable address,
//! RESERVE TRACK, CLOSE TRACK, CLOSE SESSION and finalizing.
//!
//! A sequential disc always ends in an open track while it is not complete: the "invisible"
//! track that runs from the next writable address to the end of the disc, or a track reserved
//! with RESERVE TRACK that is not full yet.
use super::{Medium, RecordError, Track};

impl Medium {
    /// Record that `blocks` blocks were written at `lba` (after `check_write` and the I/O).
    pub fn commit_write(&mut self, lba: u32, blocks: u32) {
        if self.is_overwritable() {
            return; // written in place: nothing moves
        }
        if let Some(t) = self.tracks.iter_mut().find(|t| !t.closed && t.nwa() == lba) {
            t.recorded += blocks;
        }
    }

    /// RESERVE TRACK of `size` blocks, rounded up to an ECC block: the empty invisible track
    /// becomes a reserved track and a new invisible track follows it.
    pub fn reserve_track(&mut self, size: u32) -> Result<(), RecordError> {
        self.reserve(size, false)
    }

    /// RESERVE TRACK for a Disc-At-Once recording: exactly `size` blocks, so the recording is
    /// complete when that many are written ([`Medium::dao_recording_done`]).
    pub fn reserve_track_exact(&mut self, size: u32) -> Result<(), RecordError> {
        self.reserve(size, true)
    }

    /// Whether a Disc-At-Once recording is done: the last track with data is a reservation
    /// written to its end, not yet closed.
    pub fn dao_recording_done(&self) -> bool {
        self.tracks
            .iter()
            .rev()
            .find(|t| t.recorded > 0 || t.reserved.is_some())
            .is_some_and(|t| !t.closed && t.reserved == Some(t.recorded))
    }

    /// The disc as it survives the drive losing power: without a Disc-At-Once recording
    /// that is not complete (its reservation and what was written into it), which a real
    /// drive holds only in its memory. A cut DAO burn leaves the disc as it was before it, so
    /// it can be burned again.
    pub fn durable(&self) -> std::borrow::Cow<'_, Medium> {
        let Some(number) = self.dao_track else {
            return std::borrow::Cow::Borrowed(self);
        };
        let mut m = self.clone();
        m.dao_track = None;
        if let Some(idx) = m.tracks.iter().position(|t| t.number == number) {
            let t = m.tracks[idx];
            m.tracks.truncate(idx);
            m.tracks.push(Track::open(t.number, t.session, t.start));
        }
        std::borrow::Cow::Owned(m)
    }

    /// Whether the open track at `lba` (its next writable address) was reserved.
    pub fn writes_into_reservation(&self, lba: u32) -> bool {
        self.tracks
            .iter()
            .any(|t| !t.closed && t.nwa() == lba && t.reserved.is_some())
    }

    fn reserve(&mut self, size: u32, exact: bool) -> Result<(), RecordError> {
        if !self.is_writable() {
            return Err(RecordError::NotWritable);
        }
        let capacity = self.recordable_capacity();
        let last = self.tracks.last_mut().ok_or(RecordError::Sequence)?;
        if !last.is_invisible() || last.recorded != 0 || size == 0 {
            return Err(RecordError::Sequence);
        }
        // A size near 4 Gi blocks would overflow when rounded up: no disc holds it anyway.
        let rounded = size
            .checked_next_multiple_of(self.kind.track_alignment())
            .ok_or(RecordError::NoSpace)?;
        if u64::from(last.start) + u64::from(rounded) > u64::from(capacity) {
            return Err(RecordError::NoSpace);
        }
        last.reserved = Some(if exact { size } else { rounded });
        if exact {
            self.dao_track = Some(last.number);
        }
        // Track numbers are one byte: the 255th track is the last the disc can hold.
        let Some(next_number) = last.number.checked_add(1) else {
            return Ok(());
        };
        // The next track starts on the next ECC block.
        let next = Track::open(next_number, last.session, last.start + rounded);
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
        if self.dao_track == Some(t.number) {
            // The Disc-At-Once recording is complete: the disc holds it from now on.
            self.dao_track = None;
        }
        if let Some(r) = t.reserved {
            // The unwritten rest of a reservation is part of the closed track (reads as zeros).
            t.recorded = t.recorded.max(r);
        }
        t.closed = true;
        let (number, session, end) = (t.number, t.session, t.end());
        if idx + 1 == self.tracks.len() {
            // No track after the last ECC block of the disc, nor after track 255.
            let start = end.checked_next_multiple_of(self.kind.track_alignment());
            let next = start
                .filter(|&s| s < self.recordable_capacity())
                .zip(number.checked_add(1));
            if let Some((start, number)) = next {
                self.tracks.push(Track::open(number, session, start));
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
            .checked_next_multiple_of(self.kind.track_alignment())
            .filter(|&s| s < self.recordable_capacity());
        // A session holds at least one track, so a free track number means a free session one.
        let next = self.last_track().checked_add(1).zip(session.checked_add(1));
        if let (Some(start), Some((number, session))) = (start, next) {
            self.tracks.push(Track::open(number, session, start));
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
