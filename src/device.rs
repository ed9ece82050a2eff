//! One emulated drive on one ring: fetch each command, let the drive model answer it, move
//! blocks between the image and the ring, and complete it.
use crate::media::Loaded;
use crate::mmc::Drive;
use crate::ring::{Command, Fetched, Response, Ring, RingError, RingMemory};
use crate::scsi::cdb::{direction, opcode, Direction};
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
}

// SAFETY: the raw pointers in `iov` are scratch space, rebuilt for every command and never
// dereferenced outside `Image::read_into`, which fills them from the command's own buffer.
unsafe impl Send for Device {}

impl Device {
    pub fn new(identity: Identity, loaded: Loaded) -> Self {
        let mut drive = Drive::new(identity);
        drive.insert_initial(loaded.medium());
        drive.set_finalize_on_close(loaded.disc().is_some_and(|d| d.finalize_on_close));
        drive.set_write_protected(loaded.disc().is_some_and(|d| d.write_protected));
        Device {
            drive,
            loaded,
            reply: Vec::with_capacity(4096),
            params: Vec::with_capacity(256),
            iov: Vec::with_capacity(64),
            cmd: Command::default(),
            label: String::new(),
        }
    }

    /// Put another medium in the drive (or empty it), as an operator swapping discs would:
    /// the host sees a media event and a unit attention.
    pub fn change_medium(&mut self, loaded: Loaded) {
        self.drive.change_medium(loaded.medium());
        self.drive
            .set_finalize_on_close(loaded.disc().is_some_and(|d| d.finalize_on_close));
        self.drive
            .set_write_protected(loaded.disc().is_some_and(|d| d.write_protected));
        self.loaded = loaded;
    }

    /// Name the drive in log lines.
    pub fn set_label(&mut self, label: &str) {
        self.label = label.to_owned();
    }

    pub fn drive(&self) -> &Drive {
        &self.drive
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
                Fetched::Command => self.handle(ring)?,
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
        params.clear();
        if direction(cdb) == Direction::ToDevice && !is_write(cdb) {
            // Parameter lists are small; copy one out so the model sees plain bytes.
            let n = buf.len().min(MAX_PARAMETER_LIST);
            params.resize(n, 0);
            buf.read_at(0, params);
        }
        let outcome = drive.execute(cdb, params, reply);
        let mut read_len = None;
        let failure: Option<Sense> = match outcome {
            Outcome::Good => {
                if direction(cdb) == Direction::FromDevice && !buf.is_empty() {
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
                let result = match (loaded.disc(), drive.disc()) {
                    (Some(disc), Some(medium)) if disc.image.is_writable() => disc
                        .record_state_before_writing(medium)
                        .and_then(|()| disc.image.write_from(lba, blocks, &buf, iov)),
                    _ => Err(std::io::Error::other("image not writable")),
                };
                match result {
                    Ok(()) => {
                        drive.written(lba, blocks);
                        None
                    }
                    Err(e) => {
                        log::error!("{label}: write of {blocks} block(s) at {lba} failed: {e}");
                        Some(Sense::WRITE_ERROR)
                    }
                }
            }
            Outcome::Check(sense) => Some(sense),
        };
        // FORMAT UNIT and BLANK empty the disc.
        let failure = match (drive.take_erase_request(), loaded.image()) {
            (true, Some(img)) if failure.is_none() => img.truncate(0).err().map(|e| {
                log::error!("{label}: cannot erase the image: {e}");
                Sense::WRITE_ERROR
            }),
            _ => failure,
        };
        // What the drive acknowledges as recorded must survive a crash: flush before GOOD.
        let failure = match (drive.take_persist_request(), loaded.disc(), drive.disc()) {
            (true, Some(disc), Some(medium)) if failure.is_none() => {
                disc.persist(medium).err().map(|e| {
                    log::error!("{label}: cannot make the disc state durable: {e}");
                    Sense::WRITE_ERROR
                })
            }
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

fn is_write(cdb: &[u8]) -> bool {
    matches!(
        cdb.first(),
        Some(&(opcode::WRITE_10 | opcode::WRITE_12 | opcode::WRITE_AND_VERIFY_10))
    )
}

fn check_condition(sense: &[u8]) -> Response<'_> {
    Response {
        status: status::CHECK_CONDITION,
        sense,
        read_len: None,
        unknown_op: false,
    }
}
