//! Blu-ray recordable media: the spare areas a BD-R or BD-RE can be formatted with, and
//! formatting a blank BD-R for sequential recording (SRM) with them.
//!
//! A real drive offers a few spare sizes (a 25 GB disc: 256 MiB, 768 MiB, 1.25 GiB, out of
//! 12,219,392 blocks). The drive here offers the same shares of whatever capacity the disc
//! has, so that small test discs format the way full-size ones do: about 1/96, 1/32 and 1/18
//! of the disc, each a whole number of clusters.
use super::{DiscStatus, Medium, MediumKind, RecordError, BD_CLUSTER};

/// The spare areas a BD can be formatted with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpareSize {
    /// The drive's default, listed first (768 MiB on a 25 GB disc).
    Default,
    /// The smallest (256 MiB on a 25 GB disc).
    Minimum,
    /// The largest (1.25 GiB on a 25 GB disc).
    Maximum,
}

impl SpareSize {
    /// In the order READ FORMAT CAPACITIES lists them.
    pub const ALL: [SpareSize; 3] = [SpareSize::Default, SpareSize::Minimum, SpareSize::Maximum];

    /// User blocks left on a disc of `capacity` blocks once this spare is set aside.
    pub fn user_blocks(self, capacity: u32) -> u32 {
        let divisor = match self {
            SpareSize::Default => 32,
            SpareSize::Minimum => 96,
            SpareSize::Maximum => 18,
        };
        let spare = (capacity / divisor).next_multiple_of(BD_CLUSTER);
        let user = capacity.saturating_sub(spare);
        user - user % BD_CLUSTER
    }
}

impl Medium {
    /// Whether FORMAT UNIT may still give this BD-R spare areas: only while it is blank and
    /// was not formatted before.
    pub fn spare_formattable(&self) -> bool {
        self.kind == MediumKind::BdR
            && self.formatted == 0
            && self.is_writable()
            && self.status() == DiscStatus::Empty
    }

    /// Format a blank BD-R with spare areas, leaving `user_blocks` for sequential recording
    /// (SRM), with pseudo-overwrite or without: the disc stays blank, recordable up to
    /// `user_blocks`.
    pub fn format_with_spare(
        &mut self,
        user_blocks: u32,
        pseudo_overwrite: bool,
    ) -> Result<(), RecordError> {
        if !self.spare_formattable() {
            return Err(RecordError::Sequence);
        }
        if user_blocks == 0 || user_blocks > self.capacity || user_blocks % BD_CLUSTER != 0 {
            return Err(RecordError::NoSpace);
        }
        self.formatted = user_blocks;
        self.pseudo_overwrite = pseudo_overwrite;
        Ok(())
    }

    /// Whether `blocks` blocks from `lba` all lie in the recorded part of one track: what
    /// pseudo-overwrite may write again.
    pub(super) fn overwrites_recorded(&self, lba: u32, blocks: u32) -> bool {
        let end = u64::from(lba) + u64::from(blocks);
        blocks > 0
            && self
                .tracks
                .iter()
                .any(|t| t.start <= lba && end <= u64::from(t.end()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mmc::medium::BD_SINGLE_LAYER_BLOCKS;

    #[test]
    fn spare_sizes_of_a_25_gb_disc_are_near_a_real_drives() {
        let c = BD_SINGLE_LAYER_BLOCKS;
        let user = SpareSize::ALL.map(|s| s.user_blocks(c));
        // A real drive: 11,826,176 / 12,088,320 / 11,564,032.
        assert_eq!(user, [11_837_536, 12_092_096, 11_540_512]);
        assert!(user.iter().all(|u| u % BD_CLUSTER == 0 && *u < c));
        assert!(user[2] < user[0] && user[0] < user[1]);
    }

    #[test]
    fn a_blank_bd_r_is_formatted_once_and_stays_blank() {
        let mut m = Medium::blank(MediumKind::BdR, 65_536);
        assert!(m.spare_formattable());
        let user = SpareSize::Default.user_blocks(m.capacity());
        m.format_with_spare(user, false).unwrap();
        assert_eq!((m.capacity(), m.formatted()), (65_536, user));
        assert_eq!(m.recordable_capacity(), user);
        assert_eq!(m.status(), DiscStatus::Empty);
        assert_eq!(m.track_size(&m.tracks()[0]), user);
        assert_eq!(m.format_with_spare(user, false), Err(RecordError::Sequence));
        m.validate().unwrap();
    }

    #[test]
    fn a_recorded_bd_r_cannot_get_spare_areas() {
        let mut m = Medium::blank(MediumKind::BdR, 65_536);
        m.commit_write(0, 32);
        assert!(!m.spare_formattable());
        assert_eq!(
            m.format_with_spare(32_768, true),
            Err(RecordError::Sequence)
        );
        let mut blank = Medium::blank(MediumKind::BdR, 65_536);
        assert_eq!(
            blank.format_with_spare(100, true),
            Err(RecordError::NoSpace)
        );
        assert_eq!(
            blank.format_with_spare(70_000, true),
            Err(RecordError::NoSpace)
        );
    }

    #[test]
    fn pseudo_overwrite_writes_recorded_blocks_again_and_appends_at_the_nwa() {
        let mut m = Medium::blank(MediumKind::BdR, 65_536);
        m.format_with_spare(SpareSize::Default.user_blocks(65_536), true)
            .unwrap();
        assert!(m.pseudo_overwrite());
        m.commit_write(0, 100);
        m.close_track(1).unwrap();
        assert_eq!(m.check_write(16, 16), Ok(()), "inside closed track 1");
        assert_eq!(m.check_write(128, 32), Ok(()), "the NWA of track 2");
        assert_eq!(m.check_write(90, 20), Err(RecordError::NotNextWritable));
        assert_eq!(m.check_write(200, 1), Err(RecordError::NotNextWritable));
        let mut plain = Medium::blank(MediumKind::BdR, 65_536);
        plain.commit_write(0, 100);
        assert_eq!(plain.check_write(16, 16), Err(RecordError::NotNextWritable));
        assert!(
            plain.clone().with_pseudo_overwrite(true).is_err(),
            "not formatted"
        );
        m.validate().unwrap();
    }

    #[test]
    fn bd_tracks_and_sessions_start_on_a_cluster() {
        let mut m = Medium::blank(MediumKind::BdR, 65_536);
        m.commit_write(0, 100);
        m.close_session().unwrap();
        let next = m.tracks().last().unwrap();
        assert_eq!((next.session, next.start), (2, 128));
        m.reserve_track(40).unwrap();
        assert_eq!(m.tracks().last().unwrap().start, 128 + 64);
    }
}
