//! The effects of a command, as values. A command never changes the disc itself: it answers
//! with an [`Outcome`] and, when it records something, a [`DiscChange`] computed on a copy of
//! the disc. The media store applies that change in one fixed order (data flushed, state
//! written, image emptied only once the new state no longer needs it) and commits it to the
//! disc only when all of that is durable; a failure leaves the disc exactly as it was.
use super::Medium;
use crate::scsi::{Outcome, Sense};

/// How the host learns about a change once it is committed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice {
    /// Nothing to tell (data made durable, a track reserved).
    Silent,
    /// The disc's layout changed (a session closed, a format or blank finished): a media
    /// event.
    NewContents,
    /// The disc became another kind of disc in the drive (a finalized DVD+R reads as a
    /// DVD-ROM): a media event and a unit attention.
    ChangedInPlace,
}

/// What must become true of the disc before the command that asked for it is answered GOOD.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscChange {
    medium: Option<Medium>,
    erase: bool,
    notice: Notice,
}

impl DiscChange {
    /// Make everything written so far durable; the disc's layout stays as it is
    /// (SYNCHRONIZE CACHE).
    pub fn flush() -> Self {
        DiscChange {
            medium: None,
            erase: false,
            notice: Notice::Silent,
        }
    }

    /// The disc becomes `medium` (what was written so far included).
    pub fn record(medium: Medium) -> Self {
        DiscChange {
            medium: Some(medium),
            erase: false,
            notice: Notice::Silent,
        }
    }

    /// The image's data is no longer part of the disc (FORMAT UNIT, BLANK): it is emptied once
    /// the new state is durable.
    pub fn erasing(mut self) -> Self {
        self.erase = true;
        self
    }

    pub fn announcing(mut self, notice: Notice) -> Self {
        self.notice = notice;
        self
    }

    /// The disc after the change; `None`: as it is now.
    pub fn medium(&self) -> Option<&Medium> {
        self.medium.as_ref()
    }

    /// Take the new disc out of the change (for the store's commit).
    pub fn into_medium(self) -> Option<Medium> {
        self.medium
    }

    pub fn erases(&self) -> bool {
        self.erase
    }

    pub fn notice(&self) -> Notice {
        self.notice
    }
}

/// The result of one command: how to answer it, and the change of the disc it makes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Executed {
    pub outcome: Outcome,
    /// Present only with [`Outcome::Good`].
    pub change: Option<DiscChange>,
}

impl Executed {
    pub fn check(sense: Sense) -> Self {
        Executed {
            outcome: Outcome::Check(sense),
            change: None,
        }
    }

    /// GOOD once `change` is durable and committed.
    pub fn changing(change: DiscChange) -> Self {
        Executed {
            outcome: Outcome::Good,
            change: Some(change),
        }
    }
}
