//! Keeping drives served: a drive thread that ends while its device is still configured is
//! restarted after a pause that doubles with each failure in a row (a uio node another
//! process holds, a broken ring, a panic), and `status` says why the drive is down meanwhile.
use std::time::{Duration, Instant};

use super::status::{Asker, DriveStatus};
use super::uio::UioDevice;

/// The first pause before a restart.
pub const FIRST_RETRY: Duration = Duration::from_secs(1);
/// The longest pause between restarts.
pub const LONGEST_RETRY: Duration = Duration::from_secs(30);
/// A thread that served this long before it failed starts the backoff again from the first
/// pause: its failure is news, not the same fault repeating.
pub const HEALTHY_RUN: Duration = Duration::from_secs(60);

/// The pause before restart number `failures` (1 for the first failure in a row).
pub fn backoff(failures: u32) -> Duration {
    let doublings = failures.saturating_sub(1).min(16);
    FIRST_RETRY
        .saturating_mul(1 << doublings)
        .min(LONGEST_RETRY)
}

/// A configured drive whose thread ended and is waiting for its restart.
#[derive(Debug, Clone)]
pub struct DownDrive {
    pub uio: UioDevice,
    /// Why the last thread ended.
    pub why: String,
    /// Failures in a row, counting the last one.
    pub failures: u32,
    pub retry_at: Instant,
}

impl DownDrive {
    /// The drive `uio` whose thread failed for `why` after running `ran`, following
    /// `earlier` failures in a row.
    pub fn new(uio: UioDevice, why: String, earlier: u32, ran: Duration, now: Instant) -> Self {
        let failures = if ran >= HEALTHY_RUN { 1 } else { earlier + 1 };
        DownDrive {
            uio,
            why,
            failures,
            retry_at: now + backoff(failures),
        }
    }

    pub fn due(&self, now: Instant) -> bool {
        now >= self.retry_at
    }

    /// What `status` shows for it.
    pub fn status(&self, now: Instant) -> DriveStatus {
        let wait = self.retry_at.saturating_duration_since(now);
        DriveStatus {
            served: false,
            tray: "unknown".into(),
            profile: "none".into(),
            disc: "none".into(),
            note: Some(format!(
                "down: {}; restart {} in {:.1} s",
                self.why,
                self.failures,
                wait.as_secs_f64()
            )),
            ..DriveStatus::default()
        }
    }

    /// An asker that answers at once with [`DownDrive::status`].
    pub fn asker(&self) -> Asker {
        let st = self.status(Instant::now());
        Asker {
            hba: self.uio.name.hba,
            name: self.uio.name.device.clone(),
            uio: self.uio.node.clone(),
            config: self.uio.name.config.clone(),
            ask: Box::new(move || {
                let (tx, rx) = std::sync::mpsc::channel();
                tx.send(st.clone()).ok()?;
                Some(rx)
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::daemon::uio::TcmuName;

    fn uio() -> UioDevice {
        UioDevice {
            node: "uio3".into(),
            name: TcmuName::parse("tcm-user/1/d0/mmc//a.iso").unwrap(),
            map_size: Some(1 << 20),
        }
    }

    #[test]
    fn the_pause_doubles_up_to_the_longest() {
        assert_eq!(backoff(1), FIRST_RETRY);
        assert_eq!(backoff(2), FIRST_RETRY * 2);
        assert_eq!(backoff(3), FIRST_RETRY * 4);
        assert_eq!(backoff(6), LONGEST_RETRY);
        assert_eq!(backoff(u32::MAX), LONGEST_RETRY);
        // Zero failures is not a state the daemon records; it must still not panic.
        assert_eq!(backoff(0), FIRST_RETRY);
    }

    #[test]
    fn failures_in_a_row_back_off_and_a_long_run_starts_over() {
        let now = Instant::now();
        let quick = Duration::from_millis(10);
        let first = DownDrive::new(uio(), "open: busy".into(), 0, quick, now);
        assert_eq!(first.failures, 1);
        assert!(!first.due(now));
        assert!(first.due(now + FIRST_RETRY));
        let second = DownDrive::new(uio(), "open: busy".into(), first.failures, quick, now);
        assert_eq!(second.retry_at, now + FIRST_RETRY * 2);
        let after_a_long_run = DownDrive::new(uio(), "ring".into(), 5, HEALTHY_RUN, now);
        assert_eq!(after_a_long_run.failures, 1);
        assert_eq!(after_a_long_run.retry_at, now + FIRST_RETRY);
    }

    #[test]
    fn status_says_why_and_when() {
        let now = Instant::now();
        let down = DownDrive::new(uio(), "open /dev/uio3: busy".into(), 1, Duration::ZERO, now);
        let st = down.status(now);
        assert!(!st.served);
        let note = st.note.unwrap();
        assert!(note.contains("down: open /dev/uio3: busy"), "{note}");
        assert!(note.contains("restart 2 in 2.0 s"), "{note}");
        let answered = (down.asker().ask)().unwrap().recv().unwrap();
        assert_eq!(answered.note.as_deref(), Some(note.as_str()));
    }
}
