//! Regression tests for what fuzzing the command path found (`fuzz/`, `tests/fuzz/run.sh`):
//! each test replays the smallest command sequence that broke an invariant.
use super::medium::RecordError;
use super::sim::SimDrive;
use super::*;
use crate::scsi::Outcome;

fn drive(medium: Medium) -> SimDrive {
    SimDrive::new(
        Identity::new("TCMU-MMC", "Virtual DVD-RW", "0001", "REGRESS"),
        Some(medium),
    )
}

fn run(d: &mut SimDrive, cdb: &[u8]) -> Outcome {
    let mut out = Vec::new();
    d.execute(cdb, &[], &mut out)
}

fn sense_of(o: Outcome) -> (u8, u8, u8) {
    match o {
        Outcome::Check(s) => s.triple(),
        other => panic!("expected CHECK CONDITION, got {other:?}"),
    }
}

/// RESERVE TRACK of nearly 4 Gi blocks overflowed rounding the size up to an ECC block
/// (a panic in debug builds, a zero-size reservation in release ones).
#[test]
fn reserve_track_of_any_size_is_range_checked() {
    for size in [u32::MAX, u32::MAX - 14, 0xffff_fff1] {
        let mut d = drive(Medium::blank(MediumKind::DvdPlusR, 1000));
        let b = size.to_be_bytes();
        let o = run(&mut d, &[0x53, 0, 0, 0, 0, b[0], b[1], b[2], b[3], 0]);
        assert_eq!(sense_of(o), (5, 0x21, 0), "size {size:#x}");
        assert_eq!(
            d.disc.as_ref(),
            Some(&Medium::blank(MediumKind::DvdPlusR, 1000))
        );
    }
    let mut m = Medium::blank(MediumKind::DvdPlusR, 1000);
    assert_eq!(m.reserve_track(u32::MAX), Err(RecordError::NoSpace));
}

/// The 255th track overflowed the one-byte track number when RESERVE TRACK (or CLOSE TRACK,
/// or CLOSE SESSION) started the track after it. The disc now stops at track 255.
#[test]
fn track_numbers_stop_at_255() {
    let reserve = [0x53, 0, 0, 0, 0, 0, 0, 0, 16, 0];
    let mut d = drive(Medium::blank(MediumKind::DvdPlusR, 100_000));
    for _ in 0..254 {
        assert_eq!(run(&mut d, &reserve), Outcome::Good);
    }
    // Track 255 is the invisible track: it can be reserved, and nothing follows it.
    assert_eq!(run(&mut d, &reserve), Outcome::Good);
    let m = d.disc.as_ref().unwrap();
    assert_eq!(m.tracks().len(), 255);
    assert_eq!(m.tracks().last().unwrap().reserved, Some(16));
    assert_eq!(sense_of(run(&mut d, &reserve)), (5, 0x2c, 0));
    d.disc.as_ref().unwrap().validate().unwrap();
    // Closing the last track and the session starts no track 256.
    assert_eq!(
        run(&mut d, &[0x5b, 0, 1, 0, 0, 255, 0, 0, 0, 0]),
        Outcome::Good
    );
    assert_eq!(
        run(&mut d, &[0x5b, 0, 2, 0, 0, 0, 0, 0, 0, 0]),
        Outcome::Good
    );
    let m = d.disc.as_ref().unwrap();
    assert_eq!((m.tracks().len(), m.last_track()), (255, 255));
    m.validate().unwrap();
    // Closing tracks one by one gets there too.
    let mut m = Medium::blank(MediumKind::DvdPlusR, 100_000);
    for n in 1..=255u8 {
        m.commit_write(m.tracks().last().unwrap().start, 1);
        m.close_track(n).unwrap();
    }
    assert_eq!(m.tracks().len(), 255);
    assert!(m.tracks().iter().all(|t| t.closed));
    m.finalize().unwrap();
}

/// A disc of nearly 2^32 blocks (`capacity=` accepts any 32-bit count): READ DVD STRUCTURE
/// overflowed computing the last physical sector of the data zone, and closing a track that
/// ends in the last ECC block overflowed rounding up to the next one.
#[test]
fn discs_of_nearly_four_giga_blocks() {
    let mut d = drive(Medium::blank(MediumKind::DvdPlusR, u32::MAX));
    let mut out = Vec::new();
    let o = d.execute(
        &[0xad, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x04, 0, 0],
        &[],
        &mut out,
    );
    assert_eq!(o, Outcome::Good);
    assert_eq!(
        &out[12..16],
        &u32::MAX.to_be_bytes(),
        "end sector saturates"
    );
    let mut m = Medium::blank(MediumKind::DvdPlusR, u32::MAX);
    m.commit_write(0, u32::MAX - 3);
    m.close_track(1).unwrap();
    assert_eq!(m.tracks().len(), 1, "no room for another track");
    m.validate().unwrap();
    let mut m = Medium::blank(MediumKind::DvdPlusR, u32::MAX);
    m.commit_write(0, u32::MAX - 3);
    assert_eq!(m.close_session(), Ok(true));
    assert_eq!(m.tracks().len(), 1);
    m.finalize().unwrap();
}

/// A DVD-RW formatted (or blanked) in the middle of a Disc-At-Once recording kept the mark of
/// that recording: its durable form then dropped the formatted track, and the daemon wrote a
/// state file that its own load refused (found by `disc_effects`).
#[test]
fn formatting_or_blanking_ends_a_disc_at_once_recording() {
    let dao_started = || {
        let mut m = Medium::blank(MediumKind::DvdRw, 1000);
        m.reserve_track_exact(100).unwrap();
        m.commit_write(0, 16);
        assert_ne!(
            *m.durable(),
            m,
            "a DAO recording is held in the drive's memory"
        );
        m
    };
    let mut m = dao_started();
    m.format(64);
    assert_eq!(*m.durable(), m);
    m.validate().unwrap();
    let mut m = dao_started();
    m.blank_out();
    assert_eq!(*m.durable(), m);
    // What is written incrementally afterwards is durable.
    m.commit_write(0, 16);
    assert_eq!(*m.durable(), m);
}

/// A state file with a closed track that recorded less than its reservation loaded as is: the
/// model sized the track by its reservation but started the next one after what it recorded,
/// so CLOSE SESSION made overlapping tracks (found by `disc_state`). A closed track now holds
/// all of its reservation, as closing one records.
#[test]
fn a_closed_track_holds_its_whole_reservation() {
    let mut t = Track::closed(1, 1, 0, 5);
    t.reserved = Some(496);
    let m = Medium::from_parts(MediumKind::DvdPlusR, 1000, vec![t], false, 0).unwrap();
    assert_eq!(m.tracks()[0].recorded, 496);
    let mut d = drive(m);
    assert_eq!(
        run(&mut d, &[0x5b, 0, 2, 0, 0, 0, 0, 0, 0, 0]),
        Outcome::Good
    );
    let m = d.disc.as_ref().unwrap();
    m.validate().unwrap();
    assert!(m.tracks().iter().skip(1).all(|n| n.start >= 496));
}
