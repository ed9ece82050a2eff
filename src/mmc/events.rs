//! GET EVENT STATUS NOTIFICATION (4Ah), polled: operational change, power management and media
//! event classes.
use std::collections::VecDeque;

use super::Context;
use crate::scsi::cdb::{be16, byte};
use crate::scsi::reply::ReplyBuf;
use crate::scsi::{CmdResult, Outcome, Sense};

const CLASS_OPERATIONAL: u8 = 1;
const CLASS_POWER: u8 = 2;
const CLASS_MEDIA: u8 = 4;
/// Bitmap of the classes the drive reports (byte 3 of the reply header).
const SUPPORTED_CLASSES: u8 = (1 << CLASS_OPERATIONAL) | (1 << CLASS_POWER) | (1 << CLASS_MEDIA);

/// Media class event codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaEvent {
    EjectRequest = 1,
    NewMedia = 2,
    Removal = 3,
    Changed = 4,
}

/// Media events not yet reported, oldest first. Bounded: a host that never polls cannot make
/// it grow, and only the latest few transitions matter.
#[derive(Debug)]
pub struct EventQueue {
    media: VecDeque<MediaEvent>,
}

const MAX_QUEUED: usize = 4;

impl Default for EventQueue {
    fn default() -> Self {
        EventQueue {
            media: VecDeque::with_capacity(MAX_QUEUED),
        }
    }
}

impl EventQueue {
    pub fn push(&mut self, e: MediaEvent) {
        if self.media.len() == MAX_QUEUED {
            self.media.pop_front();
        }
        self.media.push_back(e);
    }

    pub fn pop(&mut self) -> Option<MediaEvent> {
        self.media.pop_front()
    }

    pub fn has_media_event(&self) -> bool {
        !self.media.is_empty()
    }
}

pub fn get_event_status(d: &mut Context, cdb: &[u8], out: &mut Vec<u8>) -> CmdResult {
    if byte(cdb, 1) & 0x01 == 0 {
        // Asynchronous notification is not supported.
        return Err(Sense::INVALID_FIELD_IN_CDB);
    }
    let requested = byte(cdb, 4) & SUPPORTED_CLASSES;
    let alloc = usize::from(be16(cdb, 7));
    // The lowest-numbered requested class with an event; without events, the lowest requested.
    let class = if requested & (1 << CLASS_MEDIA) != 0 && d.events.has_media_event() {
        Some(CLASS_MEDIA)
    } else {
        [CLASS_OPERATIONAL, CLASS_POWER, CLASS_MEDIA]
            .into_iter()
            .find(|c| requested & (1 << c) != 0)
    };
    out.put_u16(0);
    match class {
        None => {
            out.put_u8(0x80); // NEA: none of the requested classes is supported
            out.put_u8(SUPPORTED_CLASSES);
        }
        Some(class) => {
            out.put_u8(class);
            out.put_u8(SUPPORTED_CLASSES);
            match class {
                CLASS_OPERATIONAL => {
                    out.put_u8(0); // no change
                    out.put_u8(0); // operational status: available
                    out.put_u16(0);
                }
                CLASS_POWER => {
                    out.put_u8(0); // no change
                    out.put_u8(1); // power status: active
                    out.put_u16(0);
                }
                _ => {
                    let event = d.events.pop().map_or(0, |e| e as u8);
                    let present = if d.medium().is_some() { 0x02 } else { 0 };
                    let open = u8::from(d.tray_open());
                    out.put_u8(event);
                    out.put_u8(present | open);
                    out.put_u16(0); // start/end slot
                }
            }
        }
    }
    let len = (out.len() - 2) as u16;
    out.set_u16(0, len);
    out.limit(alloc);
    Ok(Outcome::Good)
}
