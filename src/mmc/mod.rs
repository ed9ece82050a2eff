//! The MMC drive model: what is in the tray, what the drive reports about it, and how each
//! command answers. Pure: it sees CDBs and writes reply bytes; moving blocks between the medium
//! and the initiator, and making a change of the disc durable, are left to the caller.
//!
//! A command returns its outcome and its effects as values ([`Executed`]): the bytes to
//! answer or the blocks to move ([`Outcome`]), and the change of the disc it makes
//! ([`DiscChange`]), computed on a copy. The disc itself ([`Medium`]) is not the drive's: the
//! media store owns it, lends it to [`Drive::execute`], and commits a change only once it is
//! durable. [`commands`] is the one table of the commands the drive knows.
//!
//! One module per command family; this file holds the drive state and the dispatch.
pub mod bd_structure;
pub mod block_io;
pub mod commands;
pub mod disc_info;
pub mod dvd_structure;
pub mod effects;
pub mod events;
pub mod features;
pub mod format;
pub mod medium;
pub mod mode_pages;
pub mod performance;
pub mod profile;
pub mod recording;
#[cfg(any(test, feature = "testing"))]
pub mod sim;
pub mod toc;
pub mod tray;

#[cfg(test)]
mod fuzz_regressions;
#[cfg(test)]
mod tests;

use crate::scsi::spc::Identity;
use crate::scsi::{Outcome, Sense};

use commands::Handler;
pub use effects::{DiscChange, Executed, Notice};
pub use events::MediaEvent;
pub use medium::{InvalidMedium, Medium, MediumKind, Track};

/// One emulated optical drive: everything about it but the disc.
#[derive(Debug)]
pub struct Drive {
    identity: Identity,
    /// Whether the store holds a disc for the tray (accessible only while the tray is closed).
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
    /// The medium's image cannot be written: every recording command fails with 07/27/00.
    write_protected: bool,
}

impl Drive {
    pub fn new(identity: Identity) -> Self {
        Drive {
            identity,
            tray_open: false,
            prevent_removal: false,
            events: events::EventQueue::default(),
            unit_attention: None,
            write_parameters: mode_pages::DEFAULT_WRITE_PARAMETERS,
            error_recovery: [0; 10],
            finalize_on_close: false,
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

    /// Answer INQUIRY with other names from now on (the backstore's were changed while no
    /// initiator had the LUN).
    pub fn set_identity(&mut self, identity: Identity) {
        self.identity = identity;
    }

    pub fn tray_open(&self) -> bool {
        self.tray_open
    }

    pub fn removal_prevented(&self) -> bool {
        self.prevent_removal
    }

    /// The part of `disc` the initiator can access now (none while the tray is open).
    pub fn accessible<'m>(&self, disc: Option<&'m Medium>) -> Option<&'m Medium> {
        disc.filter(|_| !self.tray_open)
    }

    /// The current profile with `disc` in the drive (0 with no accessible medium).
    pub fn current_profile(&self, disc: Option<&Medium>) -> u16 {
        self.accessible(disc).map_or(profile::NONE, Medium::profile)
    }

    /// Choose tgt's morph-on-close behaviour (see `finalize_on_close`).
    pub fn set_finalize_on_close(&mut self, on: bool) {
        self.finalize_on_close = on;
    }

    /// A change of the disc became durable and the store committed it: tell the host as the
    /// change asks.
    pub fn announce(&mut self, notice: Notice) {
        match notice {
            Notice::Silent => {}
            // The disc's layout changed (a session closed, a format or blank finished): the
            // media event alone makes sr revalidate at its next poll. A unit attention would
            // fail the burning tool's next command, which a real drive never does here.
            Notice::NewContents => self.events.push(MediaEvent::NewMedia),
            // The disc turned into another kind of disc without leaving the drive (a DVD+R
            // was finalized into a DVD-ROM): make the host read it again.
            Notice::ChangedInPlace => {
                self.events.push(MediaEvent::NewMedia);
                self.unit_attention = Some(Sense::MEDIUM_MAY_HAVE_CHANGED);
            }
        }
    }

    /// The operator swapped discs (`had`: a disc was in the drive, `has`: one is now): the tray
    /// ends closed and the host is told (media event and unit attention).
    pub fn disc_swapped(&mut self, had: bool, has: bool) {
        let had = had && !self.tray_open;
        self.tray_open = false;
        if had {
            self.events.push(MediaEvent::Removal);
        }
        if has {
            self.events.push(MediaEvent::NewMedia);
            self.unit_attention = Some(Sense::MEDIUM_MAY_HAVE_CHANGED);
        } else if had {
            self.unit_attention = Some(Sense::UA_MEDIUM_NOT_PRESENT);
        }
    }

    /// The sense for "this command needs a medium and there is none".
    fn no_medium(&self) -> Sense {
        if self.tray_open {
            Sense::MEDIUM_NOT_PRESENT_TRAY_OPEN
        } else {
            Sense::MEDIUM_NOT_PRESENT_TRAY_CLOSED
        }
    }

    /// Execute one command against `disc` (the disc the store holds for this drive, tray open
    /// or not). `data_out` is the parameter list of commands that carry one (not the blocks of
    /// a WRITE, which the caller moves itself); `out` receives the Data-In bytes, cut to the
    /// allocation length. A disc change in the result must be made durable, committed by the
    /// store and announced ([`Drive::announce`]) before the command is answered GOOD.
    pub fn execute(
        &mut self,
        disc: Option<&Medium>,
        cdb: &[u8],
        data_out: &[u8],
        out: &mut Vec<u8>,
    ) -> Executed {
        self.execute_entry(commands::lookup(cdb), disc, cdb, data_out, out)
    }

    /// [`Drive::execute`] for a caller that has already looked `cdb` up in the command table
    /// (the transport does, for the data direction): one lookup per command.
    pub fn execute_entry(
        &mut self,
        command: Result<&'static commands::Command, Sense>,
        disc: Option<&Medium>,
        cdb: &[u8],
        data_out: &[u8],
        out: &mut Vec<u8>,
    ) -> Executed {
        out.clear();
        // A pending unit attention fails every command but those that must work through it,
        // unknown ones included.
        if !command.is_ok_and(|c| c.through_unit_attention) {
            if let Some(ua) = self.unit_attention.take() {
                return Executed::check(ua);
            }
        }
        let command = match command {
            Ok(c) => c,
            Err(sense) => return Executed::check(sense),
        };
        let mut cx = Context { drive: self, disc };
        let accessible = cx.medium().is_some();
        if command.needs_medium && !accessible {
            return Executed::check(cx.no_medium());
        }
        if command.records && cx.write_protected && accessible {
            return Executed::check(Sense::WRITE_PROTECTED);
        }
        let result = match command.handler {
            Handler::Query(f) => f(&cx, cdb, data_out, out).map(Executed::from),
            Handler::Control(f) => f(&mut cx, cdb, data_out, out).map(Executed::from),
            Handler::Record(f) => f(&cx, cdb, data_out).map(Executed::changing),
        };
        result.unwrap_or_else(|sense| {
            out.clear();
            Executed::check(sense)
        })
    }
}

/// What a command handler sees: the drive, and the disc the store lends it for this command.
/// Recording handlers get it shared: they describe a change ([`DiscChange`]) instead of
/// making one.
pub struct Context<'a> {
    drive: &'a mut Drive,
    disc: Option<&'a Medium>,
}

impl Context<'_> {
    /// The medium the initiator can access now (none while the tray is open).
    pub fn medium(&self) -> Option<&Medium> {
        self.drive.accessible(self.disc)
    }

    /// The current profile (0 with no accessible medium).
    pub fn current_profile(&self) -> u16 {
        self.drive.current_profile(self.disc)
    }

    /// Whether the store holds a disc for the tray, open or closed.
    pub fn has_disc(&self) -> bool {
        self.disc.is_some()
    }

    /// The accessible medium, or the no-medium sense.
    pub fn require_medium(&self) -> Result<&Medium, Sense> {
        self.medium().ok_or_else(|| self.drive.no_medium())
    }
}

impl std::ops::Deref for Context<'_> {
    type Target = Drive;

    fn deref(&self) -> &Drive {
        self.drive
    }
}

impl std::ops::DerefMut for Context<'_> {
    fn deref_mut(&mut self) -> &mut Drive {
        self.drive
    }
}

impl From<Outcome> for Executed {
    fn from(outcome: Outcome) -> Self {
        Executed {
            outcome,
            change: None,
        }
    }
}
