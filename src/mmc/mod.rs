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
pub mod medium;
pub mod mode_pages;
pub mod profile;
pub mod toc;
pub mod tray;

#[cfg(test)]
mod tests;

use crate::scsi::cdb::opcode as op;
use crate::scsi::spc::{self, Identity};
use crate::scsi::{CmdResult, Outcome, Sense};

pub use events::MediaEvent;
pub use medium::{Medium, Track};

/// One emulated optical drive.
#[derive(Debug)]
pub struct Drive {
    identity: Identity,
    medium: Option<Medium>,
    tray_open: bool,
    prevent_removal: bool,
    events: events::EventQueue,
    unit_attention: Option<Sense>,
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
        }
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

    /// The current profile (0 with no accessible medium).
    pub fn current_profile(&self) -> u16 {
        self.medium().map_or(profile::NONE, |m| m.profile)
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

    /// Execute one command. `out` receives the Data-In bytes, cut to the allocation length.
    pub fn execute(&mut self, cdb: &[u8], out: &mut Vec<u8>) -> Outcome {
        out.clear();
        let Some(&opcode) = cdb.first() else {
            return Outcome::Check(Sense::INVALID_OPCODE);
        };
        // A pending unit attention fails every command but those that must work through it.
        if !matches!(
            opcode,
            op::INQUIRY | op::REQUEST_SENSE | op::GET_CONFIGURATION | op::GET_EVENT_STATUS_NOTIFICATION
        ) {
            if let Some(ua) = self.unit_attention.take() {
                return Outcome::Check(ua);
            }
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
            op::START_STOP_UNIT => tray::start_stop_unit(self, cdb),
            op::PREVENT_ALLOW_MEDIUM_REMOVAL => tray::prevent_allow(self, cdb),
            op::MECHANISM_STATUS => tray::mechanism_status(self, cdb, out),
            op::READ_CAPACITY_10 => block_io::read_capacity_10(self, out),
            op::SERVICE_ACTION_IN_16 => block_io::service_action_in_16(self, cdb, out),
            op::READ_10 | op::READ_12 => block_io::read(self, cdb),
            op::SYNCHRONIZE_CACHE_10 => Ok(Outcome::Good),
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
