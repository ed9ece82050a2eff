//! Rewritable media written in place (DVD+RW, DVD-RAM, DVD-RW restricted overwrite, CD-RW
//! with fixed packets): formatting and blanking.
use super::{Medium, MediumKind, Track};

impl Medium {
    /// Format the whole usable area of an overwritable disc (`blocks`, cut to the disc and to
    /// its packet size): one closed track covering it.
    pub fn format(&mut self, blocks: u32) {
        let mut blocks = blocks.min(self.capacity);
        if let Some(p) = std::num::NonZeroU32::new(self.kind.packet_alignment()) {
            blocks -= blocks % p;
        }
        self.formatted = blocks;
        self.tracks = vec![Track::closed(1, 1, 0, blocks)];
        self.finalized = false;
        // A Disc-At-Once recording under way is gone with the tracks.
        self.dao_track = None;
    }

    /// BLANK: back to an unformatted, empty disc (a DVD-RW: blank for sequential recording).
    pub fn blank_out(&mut self) {
        self.formatted = 0;
        self.finalized = false;
        self.dao_track = None;
        self.tracks = if self.kind == MediumKind::DvdRw {
            vec![Track::open(1, 1, 0)]
        } else {
            Vec::new()
        };
    }
}
