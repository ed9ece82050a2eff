//! One emulated drive on one ring: fetch each command, let the drive model answer it, move
//! blocks between the image and the ring, and complete it.
use crate::media::Loaded;
use crate::mmc::{commands, Drive};
use crate::ring::{Command, Fetched, Response, Ring, RingError, RingMemory};
use crate::scsi::cdb::Direction;
use crate::scsi::spc::Identity;
use crate::scsi::{status, Outcome, Sense, BLOCK_SIZE};

pub struct Device {
    drive: Drive,
    loaded: Loaded,
    /// Reused for every reply, so answering allocates nothing once warm.
    reply: Vec<u8>,
    /// Parameter list of the command being handled (MODE SELECT, SET STREAMING ...).
    params: Vec<u8>,
    iov: Vec<libc::iovec>,
    cmd: Command,
    /// Name of the drive in log lines.
    label: String,
    /// Asked for the drive's names again before every INQUIRY.
    identity_source: Option<IdentitySource>,
}

/// Where a drive's INQUIRY names come from: called before every INQUIRY (names may change
/// while no initiator has the LUN, and every initiator begins with INQUIRY); returns the new
/// identity when it changed.
pub type IdentitySource = Box<dyn FnMut() -> Option<Identity> + Send>;

// SAFETY: the raw pointers in `iov` are scratch space, rebuilt for every command and never
// dereferenced outside `Image::read_into`, which fills them from the command's own buffer.
unsafe impl Send for Device {}

impl Device {
    /// A drive with what `loaded` put in it, before any initiator has seen the drive (no
    /// media event, no unit attention).
    pub fn new(identity: Identity, loaded: Loaded) -> Self {
        let mut drive = Drive::new(identity);
        configure_for(&mut drive, &loaded);
        Device {
            drive,
            loaded,
            reply: Vec::with_capacity(4096),
            params: Vec::with_capacity(256),
            iov: Vec::with_capacity(64),
            cmd: Command::default(),
            label: String::new(),
            identity_source: None,
        }
    }

    /// Put another medium in the drive (or empty it), as an operator swapping discs would:
    /// the host sees a media event and a unit attention.
    pub fn change_medium(&mut self, loaded: Loaded) {
        let had = self.loaded.disc().is_some();
        configure_for(&mut self.drive, &loaded);
        self.drive.disc_swapped(had, loaded.disc().is_some());
        self.loaded = loaded;
    }

    /// Name the drive in log lines.
    pub fn set_label(&mut self, label: &str) {
        self.label = label.to_owned();
    }

    /// Ask `source` for the drive's names before every INQUIRY.
    pub fn set_identity_source(&mut self, source: IdentitySource) {
        self.identity_source = Some(source);
    }

    /// Ask the identity source now (after a medium change, say).
    pub fn refresh_identity(&mut self) {
        if let Some(identity) = self.identity_source.as_mut().and_then(|ask| ask()) {
            self.drive.set_identity(identity);
        }
    }

    pub fn drive(&self) -> &Drive {
        &self.drive
    }

    /// The medium the initiator can access now (none while the tray is open).
    pub fn medium(&self) -> Option<&crate::mmc::Medium> {
        self.drive.accessible(self.loaded.medium())
    }

    /// The disc in the drive, for tests that inject store faults.
    #[cfg(any(test, feature = "testing"))]
    pub fn disc_mut(&mut self) -> Option<&mut crate::media::Disc> {
        self.loaded.disc_mut()
    }

    /// What the configuration put in the drive (the disc and its image, or why it is empty).
    pub fn loaded(&self) -> &Loaded {
        &self.loaded
    }

    /// Serve every entry the kernel has queued. Returns whether anything was completed, in
    /// which case the caller must kick the kernel.
    pub fn serve<M: RingMemory>(&mut self, ring: &mut Ring<M>) -> Result<bool, RingError> {
        while let Some(fetched) = ring.fetch(&mut self.cmd) {
            match fetched? {
                Fetched::Command => {
                    if self.cmd.cdb().first() == Some(&commands::opcode::INQUIRY) {
                        self.refresh_identity();
                    }
                    self.handle(ring)?
                }
                Fetched::TaskManagement {
                    tmr_type,
                    cmd_count,
                } => {
                    // Commands are answered as they are fetched, so there is nothing to abort.
                    log::debug!("task management {tmr_type} for {cmd_count} command(s)");
                }
            }
        }
        Ok(ring.publish())
    }

    fn handle<M: RingMemory>(&mut self, ring: &mut Ring<M>) -> Result<(), RingError> {
        let Device {
            drive,
            loaded,
            reply,
            params,
            iov,
            cmd,
            label,
            ..
        } = self;
        if let Some(why) = cmd.malformed {
            log::error!(
                "{label}: command {} from the kernel is malformed: {why}",
                cmd.cmd_id
            );
            let sense = Sense::INTERNAL_TARGET_FAILURE.to_fixed();
            return ring.complete(cmd.cmd_id, &check_condition(&sense));
        }
        let cdb = cmd.cdb();
        let mut buf = ring.buffer(cmd);
        let entry = commands::lookup(cdb);
        let command = entry.ok();
        let direction = command.map_or(Direction::FromDevice, |c| c.direction);
        params.clear();
        if direction == Direction::ToDevice && !command.is_some_and(|c| c.writes_blocks) {
            // Parameter lists are small; copy one out so the model sees plain bytes.
            let n = buf.len().min(MAX_PARAMETER_LIST);
            params.resize(n, 0);
            buf.read_at(0, params);
        }
        let executed = drive.execute_entry(entry, loaded.medium(), cdb, params, reply);
        let mut read_len = None;
        let failure: Option<Sense> = match executed.outcome {
            Outcome::Good => {
                if direction == Direction::FromDevice && !buf.is_empty() {
                    let n = buf.write_at(0, reply);
                    if n == 0 {
                        // READ_LEN 0 would mean "everything": send zeros instead.
                        buf.zero(0, buf.len());
                    } else if n < buf.len() {
                        read_len = Some(n as u32);
                    }
                }
                None
            }
            Outcome::ReadBlocks { lba, blocks } => {
                let result = match loaded.image() {
                    Some(img) => img.read_into(lba, blocks, &mut buf, iov),
                    None => Err(std::io::Error::other("no image")),
                };
                match result {
                    Ok(n) => {
                        read_len = (n < buf.len()).then_some(n as u32);
                        None
                    }
                    Err(e) => {
                        log::error!("{label}: read of {blocks} block(s) at {lba} failed: {e}");
                        Some(Sense::UNRECOVERED_READ_ERROR)
                    }
                }
            }
            // Less data than the CDB's transfer length: the initiator's mistake, not the
            // medium's. Refused before anything (state included) is touched.
            Outcome::WriteBlocks { blocks, .. } if buf.len() < blocks as usize * BLOCK_SIZE => {
                log::warn!(
                    "{label}: write of {blocks} block(s) came with only {} byte(s) of data",
                    buf.len()
                );
                Some(Sense::INVALID_FIELD_IN_COMMAND_IU)
            }
            Outcome::WriteBlocks { lba, blocks } => {
                let result = match loaded.disc_mut() {
                    Some(disc) => disc.write(lba, blocks, &buf, iov),
                    None => Err(crate::media::StoreError::NotWritable),
                };
                result.err().map(|e| {
                    log::error!("{label}: write of {blocks} block(s) at {lba} failed: {e}");
                    Sense::WRITE_ERROR
                })
            }
            Outcome::Check(sense) => Some(sense),
        };
        // What the drive acknowledges as recorded must be durable before GOOD; the store
        // applies the change and commits it, or leaves the disc as it was.
        let failure = match (executed.change, loaded.disc_mut()) {
            (Some(change), Some(disc)) if failure.is_none() => match disc.apply(change) {
                Ok(notice) => {
                    drive.announce(notice);
                    None
                }
                Err(e) => {
                    log::error!("{label}: {e}");
                    Some(Sense::WRITE_ERROR)
                }
            },
            _ => failure,
        };
        let sense_bytes = failure.map(|s| s.to_fixed());
        let rsp = match &sense_bytes {
            Some(bytes) => check_condition(bytes),
            None => Response {
                read_len,
                ..Response::GOOD
            },
        };
        if log::log_enabled!(log::Level::Debug) {
            log::debug!(
                "{label}: cmd {} {:02x?} len {} -> status {} {}",
                cmd.cmd_id,
                cdb,
                buf.len(),
                rsp.status,
                failure.map_or(String::new(), |s| format!(
                    "{:02x}/{:02x}/{:02x}",
                    s.key, s.asc, s.ascq
                ))
            );
        }
        ring.complete(cmd.cmd_id, &rsp)
    }
}

/// Largest parameter list we accept (MODE SELECT(10) can name 64 KiB).
const MAX_PARAMETER_LIST: usize = 65536;

/// Set the drive up for what a configuration loaded.
fn configure_for(drive: &mut Drive, loaded: &Loaded) {
    drive.set_finalize_on_close(loaded.disc().is_some_and(|d| d.finalize_on_close()));
    drive.set_write_protected(loaded.disc().is_some_and(|d| d.write_protected()));
}

fn check_condition(sense: &[u8]) -> Response<'_> {
    Response {
        status: status::CHECK_CONDITION,
        sense,
        read_len: None,
        unknown_op: false,
    }
}
