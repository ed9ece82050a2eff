//! What is in the tray: the medium's profile, its tracks and sessions.

use super::profile;

/// One track, in logical blocks of 2048 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Track {
    pub number: u8,
    pub session: u8,
    pub start: u32,
    /// Blocks recorded in the track.
    pub size: u32,
}

impl Track {
    pub fn end(&self) -> u32 {
        self.start + self.size
    }
}

/// A medium loaded in the drive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Medium {
    pub profile: u16,
    /// Readable blocks (the end of the last recorded track).
    pub blocks: u32,
    pub tracks: Vec<Track>,
}

impl Medium {
    /// A pressed DVD-ROM of `blocks` blocks: one session holding one data track.
    pub fn dvd_rom(blocks: u32) -> Self {
        Medium {
            profile: profile::DVD_ROM,
            blocks,
            tracks: vec![Track { number: 1, session: 1, start: 0, size: blocks }],
        }
    }

    pub fn is_dvd(&self) -> bool {
        profile::is_dvd(self.profile)
    }

    pub fn first_track(&self) -> u8 {
        self.tracks.first().map_or(1, |t| t.number)
    }

    pub fn last_track(&self) -> u8 {
        self.tracks.last().map_or(1, |t| t.number)
    }

    pub fn sessions(&self) -> u8 {
        self.tracks.last().map_or(0, |t| t.session)
    }

    pub fn track(&self, number: u8) -> Option<&Track> {
        self.tracks.iter().find(|t| t.number == number)
    }

    /// The track holding `lba`.
    pub fn track_at(&self, lba: u32) -> Option<&Track> {
        self.tracks.iter().find(|t| t.start <= lba && lba < t.end())
    }

    /// Tracks of the last session.
    pub fn last_session_tracks(&self) -> impl Iterator<Item = &Track> {
        let last = self.sessions();
        self.tracks.iter().filter(move |t| t.session == last)
    }
}
