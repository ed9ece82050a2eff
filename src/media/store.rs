//! A recorded disc in the store: its image, its recording state (the model's [`Medium`], of
//! which this is the one owner) and the state file that makes it durable.
//!
//! A change a command asks for ([`DiscChange`]) is applied in one fixed order:
//! 1. the image's data is flushed;
//! 2. the new state is written to the state file (atomically, and only if it differs from
//!    what the file holds); a change that erases the image records that in the state
//!    (`erase_pending`), so a crash before step 3 is finished by the next load;
//! 3. the image is emptied (erasing changes only), then the state is written again without
//!    the mark;
//! 4. only then does the disc become the new state, and the command may be answered GOOD.
//!
//! A failure at step 1 or 2 leaves the disc, the image and the file exactly as they were.
use std::fmt;
use std::io;

use super::image::Image;
use super::state::StateFile;
use crate::mmc::{DiscChange, Medium, MediumKind, Notice};
use crate::ring::DataBuffer;

/// Why the store could not carry out what the drive acknowledged; the drive answers it as a
/// write error (03/0C/00) and the disc stays as it was.
#[derive(Debug)]
pub enum StoreError {
    /// The image is open read-only.
    NotWritable,
    FlushData(io::Error),
    SaveState(io::Error),
    Erase(io::Error),
    WriteData(io::Error),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::NotWritable => write!(f, "the image is not writable"),
            StoreError::FlushData(e) => write!(f, "cannot flush the image: {e}"),
            StoreError::SaveState(e) => write!(f, "cannot write the disc state: {e}"),
            StoreError::Erase(e) => write!(f, "cannot empty the image: {e}"),
            StoreError::WriteData(e) => write!(f, "cannot write the image: {e}"),
        }
    }
}

impl std::error::Error for StoreError {}

/// The name of a store step, for [`Disc::step`]: a [`Fault`] where faults can be injected,
/// nothing in the daemon.
#[cfg(any(test, feature = "testing"))]
macro_rules! fault {
    ($step:ident) => {
        Fault::$step
    };
}
#[cfg(not(any(test, feature = "testing")))]
macro_rules! fault {
    ($step:ident) => {
        ()
    };
}

/// What an injected fault does at its step (see [`Disc::inject_fault`]).
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// The step fails with an I/O error; the store goes on as it would (undoing what it must).
    Fail,
    /// The daemon dies just before the step: nothing more reaches the files, not even an
    /// undo. What the files hold then is what the next load finds.
    Crash,
}

/// A step of the store that a test can make fail (see [`Disc::inject_fault`]).
#[cfg(any(test, feature = "testing"))]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    FlushData,
    SaveState,
    /// Emptying the image, after the state that no longer needs it was written.
    Erase,
    /// Writing the state again without the erase mark, after the erase.
    ClearErase,
    WriteData,
}

/// A disc in the drive: its image, its recording state and where that state is kept.
pub struct Disc {
    image: Image,
    medium: Medium,
    /// Recordable discs only; a pressed disc has nothing to record.
    state: Option<StateFile>,
    /// tgt's morph-on-close (`morph=close` in the configuration).
    finalize_on_close: bool,
    /// A recordable disc whose image could only be opened read-only (file mode, read-only
    /// filesystem): the drive reports it write-protected.
    write_protected: bool,
    #[cfg(any(test, feature = "testing"))]
    fault: Option<(Fault, FaultKind)>,
    /// An injected crash happened: the store touches no file any more.
    #[cfg(any(test, feature = "testing"))]
    crashed: bool,
}

impl Disc {
    /// A pressed disc of `kind` (DVD-ROM, BD-ROM, CD-ROM): the image's data, nothing recorded.
    pub fn pressed(image: Image, kind: MediumKind) -> Self {
        let medium = Medium::pressed(kind, image.blocks());
        Disc::new(image, medium, None, false, false)
    }

    /// A recordable disc in `medium`'s state, kept in `state`.
    pub fn recordable(
        image: Image,
        medium: Medium,
        state: StateFile,
        finalize_on_close: bool,
        write_protected: bool,
    ) -> Self {
        Disc::new(
            image,
            medium,
            Some(state),
            finalize_on_close,
            write_protected,
        )
    }

    fn new(
        image: Image,
        medium: Medium,
        state: Option<StateFile>,
        finalize_on_close: bool,
        write_protected: bool,
    ) -> Self {
        Disc {
            image,
            medium,
            state,
            finalize_on_close,
            write_protected,
            #[cfg(any(test, feature = "testing"))]
            fault: None,
            #[cfg(any(test, feature = "testing"))]
            crashed: false,
        }
    }

    pub fn image(&self) -> &Image {
        &self.image
    }

    /// The disc's recording state.
    pub fn medium(&self) -> &Medium {
        &self.medium
    }

    pub fn finalize_on_close(&self) -> bool {
        self.finalize_on_close
    }

    pub fn write_protected(&self) -> bool {
        self.write_protected
    }

    /// Treat the disc as write-protected, as a read-only image file makes it (tests run as
    /// root, which file modes do not stop).
    #[cfg(any(test, feature = "testing"))]
    pub fn set_write_protected(&mut self, on: bool) {
        self.write_protected = on;
    }

    /// Make the store step `fault` fail (once) or crash the store just before it.
    #[cfg(any(test, feature = "testing"))]
    pub fn inject_fault(&mut self, fault: Fault, kind: FaultKind) {
        self.fault = Some((fault, kind));
    }

    /// The injected fault not reached yet, taken back (the store goes on without one).
    #[cfg(any(test, feature = "testing"))]
    pub fn take_fault(&mut self) -> Option<(Fault, FaultKind)> {
        self.fault.take()
    }

    /// Whether an injected crash stopped the store.
    #[cfg(any(test, feature = "testing"))]
    pub fn crashed(&self) -> bool {
        self.crashed
    }

    #[cfg(any(test, feature = "testing"))]
    fn step(&mut self, step: Fault) -> io::Result<()> {
        if self.crashed {
            return Err(io::Error::other("crashed"));
        }
        match self.fault {
            Some((at, kind)) if at == step => {
                self.fault = None;
                self.crashed = kind == FaultKind::Crash;
                Err(io::Error::other(format!("injected {kind:?} at {step:?}")))
            }
            _ => Ok(()),
        }
    }

    #[cfg(not(any(test, feature = "testing")))]
    #[inline(always)]
    fn step(&mut self, _: ()) -> io::Result<()> {
        Ok(())
    }

    /// Whether undoing a failed step may touch the files (not after an injected crash).
    fn may_undo(&self) -> bool {
        #[cfg(any(test, feature = "testing"))]
        return !self.crashed;
        #[cfg(not(any(test, feature = "testing")))]
        true
    }

    /// Write `blocks` blocks from `buf` at `lba` (a WRITE the drive checked), then account
    /// for them in the recording state. A blank disc without a state file gets one first: a
    /// crash before any SYNCHRONIZE CACHE must not leave a non-empty image without state,
    /// which would load as a DVD-ROM. So does a state file whose erase mark could not be
    /// cleared: the next load would erase what this write puts on the disc.
    pub fn write(
        &mut self,
        lba: u64,
        blocks: u32,
        buf: &DataBuffer<'_>,
        iov: &mut Vec<libc::iovec>,
    ) -> Result<(), StoreError> {
        if !self.image.is_writable() {
            return Err(StoreError::NotWritable);
        }
        if let Some(state) = self
            .state
            .as_mut()
            .filter(|s| !s.exists() || s.erase_pending())
        {
            state
                .save(&self.medium, false)
                .map_err(StoreError::SaveState)?;
        }
        self.step(fault!(WriteData))
            .map_err(StoreError::WriteData)?;
        self.image
            .write_from(lba, blocks, buf, iov)
            .map_err(StoreError::WriteData)?;
        if let Ok(lba) = u32::try_from(lba) {
            self.medium.commit_write(lba, blocks);
        }
        Ok(())
    }

    /// Apply `change` in the order the module describes, and commit it. Returns how the host
    /// is to be told; on an error the disc is as it was before.
    pub fn apply(&mut self, change: DiscChange) -> Result<Notice, StoreError> {
        let notice = change.notice();
        let erase = change.erases();
        self.step(fault!(FlushData))
            .map_err(StoreError::FlushData)?;
        self.image.sync_data().map_err(StoreError::FlushData)?;
        let target = change.medium().unwrap_or(&self.medium).clone();
        let previous = self.state.as_ref().and_then(|s| s.saved().cloned());
        if let Some(state) = &self.state {
            if erase || !state.holds(&target) {
                self.step(fault!(SaveState))
                    .map_err(StoreError::SaveState)?;
                let state = self.state.as_mut().expect("checked above");
                state.save(&target, erase).map_err(StoreError::SaveState)?;
            }
        }
        if erase {
            self.erase_image(&target, previous)?;
        }
        self.medium = target;
        Ok(notice)
    }

    /// Empty the image once the state that no longer needs it is durable (with the erase
    /// mark). If that fails, the state file goes back to `previous` (what it held before the
    /// change), so the file and the drive agree; if even that fails, the mark makes the next
    /// load finish the erase.
    fn erase_image(
        &mut self,
        target: &Medium,
        previous: Option<super::state::Recorded>,
    ) -> Result<(), StoreError> {
        let emptied = self
            .step(fault!(Erase))
            .and_then(|()| self.image.truncate(0))
            .and_then(|()| self.image.sync_all());
        if let Err(e) = emptied {
            let may_undo = self.may_undo();
            if let Some(state) = self.state.as_mut().filter(|_| may_undo) {
                if let Err(undo) = state.restore(previous) {
                    log::error!(
                        "{}: the erase failed ({e}) and the old state could not be restored \
                         ({undo}): the next load finishes the erase",
                        state.path().display()
                    );
                }
            }
            return Err(StoreError::Erase(e));
        }
        // The erase is done; the mark is only cleared. If that fails the disc is still the
        // new one (a later load empties an already empty image), so the change stands.
        let cleared = self.step(fault!(ClearErase));
        if let Some(state) = self.state.as_mut() {
            if let Err(e) = cleared.and_then(|()| state.save(target, false)) {
                log::warn!("{}: erase mark not cleared: {e}", state.path().display());
            }
        }
        #[cfg(any(test, feature = "testing"))]
        if self.crashed {
            return Err(StoreError::Erase(io::Error::other("crashed")));
        }
        Ok(())
    }
}
