//! A drive with its disc held in memory, for tests and fuzzing: every change a command asks
//! for is committed at once (a store that never fails), so the model's answers can be checked
//! without files. The daemon never uses it: the media store applies changes there.
use super::{DiscChange, Drive, Medium};
use crate::scsi::spc::Identity;
use crate::scsi::Outcome;

/// A drive and the disc in it, with nothing durable.
#[derive(Debug)]
pub struct SimDrive {
    pub drive: Drive,
    pub disc: Option<Medium>,
    /// The change the last command asked for, as it asked.
    pub last_change: Option<DiscChange>,
}

impl SimDrive {
    pub fn new(identity: Identity, disc: Option<Medium>) -> Self {
        SimDrive {
            drive: Drive::new(identity),
            disc,
            last_change: None,
        }
    }

    /// Execute one command and commit what it changed; block transfers are the caller's (a
    /// write is accounted with [`SimDrive::written`]).
    pub fn execute(&mut self, cdb: &[u8], data_out: &[u8], out: &mut Vec<u8>) -> Outcome {
        let executed = self.drive.execute(self.disc.as_ref(), cdb, data_out, out);
        self.last_change.clone_from(&executed.change);
        if let Some(change) = executed.change {
            let notice = change.notice();
            if let Some(next) = change.into_medium() {
                self.disc = Some(next);
            }
            self.drive.announce(notice);
        }
        executed.outcome
    }

    /// Account for a WRITE the caller carried out (`Outcome::WriteBlocks`).
    pub fn written(&mut self, lba: u64, blocks: u32) {
        if let (Some(m), Ok(lba)) = (self.disc.as_mut(), u32::try_from(lba)) {
            m.commit_write(lba, blocks);
        }
    }

    /// The operator swaps discs.
    pub fn change_medium(&mut self, disc: Option<Medium>) {
        let had = self.disc.is_some();
        self.disc = disc;
        self.drive.disc_swapped(had, self.disc.is_some());
    }

    /// The current profile (0 with no accessible medium).
    pub fn current_profile(&self) -> u16 {
        self.drive.current_profile(self.disc.as_ref())
    }

    /// Whether the last command asked for its effects to be made durable (and forget it).
    pub fn take_persist_request(&mut self) -> bool {
        self.last_change.take().is_some()
    }

    /// Whether the last command erased the image (the change itself is kept, for
    /// [`SimDrive::take_persist_request`]).
    pub fn take_erase_request(&mut self) -> bool {
        self.last_change.as_ref().is_some_and(DiscChange::erases)
    }

    /// The medium the initiator can access now.
    pub fn medium(&self) -> Option<&Medium> {
        self.drive.accessible(self.disc.as_ref())
    }
}
