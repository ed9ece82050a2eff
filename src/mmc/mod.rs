//! The MMC drive model: what is in the tray, what the drive reports about it, and how each
//! command answers. Pure: it sees CDBs and writes reply bytes; moving blocks between the medium
//! and the initiator is left to the caller through [`Outcome::ReadBlocks`].
//!
//! One module per command family; this file holds the drive state and the dispatch.
pub mod block_io;
pub mod disc_info;
pub mod dvd_structure;
pub mod events;
pub mod features;
pub mod format;
pub mod medium;
pub mod mode_pages;
pub mod performance;
pub mod profile;
pub mod recording;
pub mod toc;
pub mod tray;

#[cfg(test)]
mod fuzz_regressions;
#[cfg(test)]
mod tests;

use crate::scsi::cdb::opcode as op;
use crate::scsi::spc::{self, Identity};
use crate::scsi::{CmdResult, Outcome, Sense};

pub use events::MediaEvent;
pub use medium::{Medium, MediumKind, Track};

/// One emulated optical drive.
#[derive(Debug)]
pub struct Drive {
    identity: Identity,
    medium: Option<Medium>,
    tray_open: bool,
    prevent_removal: bool,
    events: events::EventQueue,
    unit_attention: Option<Sense>,
    /// Write parameters mode page (05h), as MODE SELECT last set it.
    write_parameters: [u8; mode_pages::WRITE_PARAMETERS_LEN],
    /// Read/write error recovery mode page (01h) parameters, after its 2-byte header.
    error_recovery: [u8; 10],
    /// tgt's morph: closing a track or session of a DVD+R finalizes it (a DVD-ROM from then
    /// on). Off by default, where only CLOSE functions 5 and 6 finalize, as on a real drive.
    finalize_on_close: bool,
    /// Set by a command whose effect must be durable before it completes (SYNCHRONIZE CACHE,
    /// CLOSE, RESERVE TRACK); the caller flushes the image and records the disc state.
    persist: bool,
    /// Set by FORMAT UNIT and BLANK: the caller empties the image before recording the state.
    erase: bool,
    /// The medium's image cannot be written: every recording command fails with 07/27/00.
    write_protected: bool,
}

impl Drive {
    pub fn new(identity: Identity) -> Self {
        Drive {
            identity,
            medium: None,
            tray_open: false,
            prevent_removal: false,
            events: events::EventQueue::default(),
            unit_attention: None,
            write_parameters: mode_pages::DEFAULT_WRITE_PARAMETERS,
            error_recovery: [0; 10],
            finalize_on_close: false,
            persist: false,
            erase: false,
            write_protected: false,
        }
    }

    /// Mark the loaded medium as impossible to record (a read-only image file).
    pub fn set_write_protected(&mut self, on: bool) {
        self.write_protected = on;
    }

    pub fn write_protected(&self) -> bool {
        self.write_protected
    }

    pub fn identity(&self) -> &Identity {
        &self.identity
    }

    /// The medium the initiator can access now (none while the tray is open).
    pub fn medium(&self) -> Option<&Medium> {
        self.medium.as_ref().filter(|_| !self.tray_open)
    }

    pub fn tray_open(&self) -> bool {
        self.tray_open
    }

    pub fn removal_prevented(&self) -> bool {
        self.prevent_removal
    }

    /// The disc in the drive, even while the tray is open.
    pub fn disc(&self) -> Option<&Medium> {
        self.medium.as_ref()
    }

    /// The current profile (0 with no accessible medium).
    pub fn current_profile(&self) -> u16 {
        self.medium().map_or(profile::NONE, Medium::profile)
    }

    /// Choose tgt's morph-on-close behaviour (see `finalize_on_close`).
    pub fn set_finalize_on_close(&mut self, on: bool) {
        self.finalize_on_close = on;
    }

    /// Whether the last command asked for the recorded state to be made durable (and forget
    /// the request).
    pub fn take_persist_request(&mut self) -> bool {
        std::mem::take(&mut self.persist)
    }

    /// Whether the last command erased the disc (and forget the request). Taken before
    /// `take_persist_request`.
    pub fn take_erase_request(&mut self) -> bool {
        std::mem::take(&mut self.erase)
    }

    /// Account for a WRITE the caller carried out (`Outcome::WriteBlocks`).
    pub fn written(&mut self, lba: u64, blocks: u32) {
        if let (Some(m), Ok(lba)) = (self.medium.as_mut(), u32::try_from(lba)) {
            m.commit_write(lba, blocks);
        }
    }

    /// The disc turned into another kind of disc without leaving the drive (a DVD+R was
    /// finalized into a DVD-ROM): make the host read it again, with a media event and a unit
    /// attention.
    fn medium_changed_in_place(&mut self) {
        self.events.push(MediaEvent::NewMedia);
        self.unit_attention = Some(Sense::MEDIUM_MAY_HAVE_CHANGED);
    }

    /// The disc's layout changed (a session closed, a format or blank finished): the media
    /// event alone makes sr revalidate at its next poll. A unit attention would fail the
    /// burning tool's next command, which a real drive never does at these points.
    fn announce_new_contents(&mut self) {
        self.events.push(MediaEvent::NewMedia);
    }

    /// Put `medium` in the drive (or empty it) as if the operator swapped discs: the tray ends
    /// closed and the host is told (media event and unit attention).
    pub fn change_medium(&mut self, medium: Option<Medium>) {
        let had = self.medium().is_some();
        self.medium = medium;
        self.tray_open = false;
        if had {
            self.events.push(MediaEvent::Removal);
        }
        if self.medium.is_some() {
            self.events.push(MediaEvent::NewMedia);
            self.unit_attention = Some(Sense::MEDIUM_MAY_HAVE_CHANGED);
        } else if had {
            self.unit_attention = Some(Sense::UA_MEDIUM_NOT_PRESENT);
        }
    }

    /// Load `medium` at start-up, before any initiator has seen the drive: no event, no UA.
    pub fn insert_initial(&mut self, medium: Option<Medium>) {
        self.medium = medium;
        self.tray_open = false;
    }

    /// The sense for "this command needs a medium and there is none".
    fn no_medium(&self) -> Sense {
        if self.tray_open {
            Sense::MEDIUM_NOT_PRESENT_TRAY_OPEN
        } else {
            Sense::MEDIUM_NOT_PRESENT_TRAY_CLOSED
        }
    }

    /// The accessible medium, or the no-medium sense.
    fn require_medium(&self) -> Result<&Medium, Sense> {
        self.medium().ok_or_else(|| self.no_medium())
    }

    fn require_medium_mut(&mut self) -> Result<&mut Medium, Sense> {
        let no_medium = self.no_medium();
        match self.medium.as_mut() {
            Some(m) if !self.tray_open => Ok(m),
            _ => Err(no_medium),
        }
    }

    /// Execute one command. `data_out` is the parameter list of commands that carry one (not
    /// the blocks of a WRITE, which the caller moves itself); `out` receives the Data-In bytes,
    /// cut to the allocation length.
    pub fn execute(&mut self, cdb: &[u8], data_out: &[u8], out: &mut Vec<u8>) -> Outcome {
        out.clear();
        let Some(&opcode) = cdb.first() else {
            return Outcome::Check(Sense::INVALID_OPCODE);
        };
        // A pending unit attention fails every command but those that must work through it.
        if !matches!(
            opcode,
            op::INQUIRY
                | op::REQUEST_SENSE
                | op::GET_CONFIGURATION
                | op::GET_EVENT_STATUS_NOTIFICATION
        ) {
            if let Some(ua) = self.unit_attention.take() {
                return Outcome::Check(ua);
            }
        }
        if self.write_protected
            && self.medium().is_some()
            && matches!(
                opcode,
                op::WRITE_10
                    | op::WRITE_12
                    | op::FORMAT_UNIT
                    | op::BLANK
                    | op::RESERVE_TRACK
                    | op::CLOSE_TRACK_SESSION
            )
        {
            return Outcome::Check(Sense::WRITE_PROTECTED);
        }
        let result: CmdResult = match opcode {
            op::TEST_UNIT_READY => self.require_medium().map(|_| Outcome::Good),
            op::REQUEST_SENSE => {
                let pending = self.unit_attention.take().unwrap_or_else(|| {
                    if self.medium().is_some() {
                        Sense::NO_SENSE
                    } else {
                        self.no_medium()
                    }
                });
                spc::request_sense(cdb, pending, out)
            }
            op::INQUIRY => spc::inquiry(cdb, &self.identity, out),
            op::MODE_SENSE_6 | op::MODE_SENSE_10 => spc::mode_sense(cdb, self, out),
            op::MODE_SELECT_6 | op::MODE_SELECT_10 => mode_pages::mode_select(self, cdb, data_out),
            op::START_STOP_UNIT => tray::start_stop_unit(self, cdb),
            op::PREVENT_ALLOW_MEDIUM_REMOVAL => tray::prevent_allow(self, cdb),
            op::MECHANISM_STATUS => tray::mechanism_status(self, cdb, out),
            op::READ_CAPACITY_10 => block_io::read_capacity_10(self, out),
            op::SERVICE_ACTION_IN_16 => block_io::service_action_in_16(self, cdb, out),
            op::READ_10 | op::READ_12 => block_io::read(self, cdb),
            op::WRITE_10 | op::WRITE_12 => block_io::write(self, cdb),
            op::SYNCHRONIZE_CACHE_10 => recording::synchronize_cache(self),
            op::RESERVE_TRACK => recording::reserve_track(self, cdb),
            op::CLOSE_TRACK_SESSION => recording::close_track_session(self, cdb),
            op::READ_BUFFER_CAPACITY => recording::read_buffer_capacity(self, cdb, out),
            op::SEND_OPC_INFORMATION => Ok(Outcome::Good),
            op::GET_PERFORMANCE => performance::get_performance(self, cdb, out),
            op::SET_STREAMING => performance::set_streaming(cdb, data_out),
            op::SET_CD_SPEED => Ok(Outcome::Good),
            op::READ_FORMAT_CAPACITIES => format::read_format_capacities(self, cdb, out),
            op::FORMAT_UNIT => format::format_unit(self, cdb, data_out),
            op::BLANK => format::blank(self, cdb),
            op::READ_TOC_PMA_ATIP => toc::read_toc(self, cdb, out),
            op::GET_CONFIGURATION => features::get_configuration(self, cdb, out),
            op::GET_EVENT_STATUS_NOTIFICATION => events::get_event_status(self, cdb, out),
            op::READ_DISC_INFORMATION => disc_info::read_disc_information(self, cdb, out),
            op::READ_TRACK_INFORMATION => disc_info::read_track_information(self, cdb, out),
            op::READ_DVD_STRUCTURE => dvd_structure::read_dvd_structure(self, cdb, out),
            _ => Err(Sense::INVALID_OPCODE),
        };
        match result {
            Ok(outcome) => outcome,
            Err(sense) => {
                out.clear();
                Outcome::Check(sense)
            }
        }
    }
}
