//! Byte fixtures for the drive model: what each command answers for an empty tray and for a
//! DVD-ROM.
use super::medium::DVD_PLUS_R_BLOCKS;
use super::sim::SimDrive;
use super::*;
use crate::scsi::Outcome;

const BLOCKS: u32 = 2329;

fn drive(medium: Option<Medium>) -> SimDrive {
    SimDrive::new(
        Identity::new("TCMU-MMC", "Virtual DVD-RW", "0001", "MMC000000000001"),
        medium,
    )
}

fn rom() -> SimDrive {
    drive(Some(Medium::dvd_rom(BLOCKS)))
}

fn run(d: &mut SimDrive, cdb: &[u8]) -> (Outcome, Vec<u8>) {
    let mut out = Vec::new();
    let o = d.execute(cdb, &[], &mut out);
    (o, out)
}

fn ok(d: &mut SimDrive, cdb: &[u8]) -> Vec<u8> {
    let (o, out) = run(d, cdb);
    assert_eq!(o, Outcome::Good, "cdb {cdb:02x?}");
    out
}

fn sense(d: &mut SimDrive, cdb: &[u8]) -> (u8, u8, u8) {
    match run(d, cdb) {
        (Outcome::Check(s), out) => {
            assert!(out.is_empty(), "no data with CHECK CONDITION");
            s.triple()
        }
        other => panic!("cdb {cdb:02x?}: expected CHECK CONDITION, got {other:?}"),
    }
}

const TUR: [u8; 6] = [0; 6];

#[test]
fn empty_tray_reports_no_medium_everywhere_it_should() {
    let mut d = drive(None);
    assert_eq!(sense(&mut d, &TUR), (2, 0x3a, 0x01));
    assert_eq!(
        sense(&mut d, &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        (2, 0x3a, 0x01)
    );
    assert_eq!(
        sense(&mut d, &[0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0]),
        (2, 0x3a, 0x01)
    );
    assert_eq!(
        sense(&mut d, &[0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0]),
        (2, 0x3a, 0x01)
    );
    assert_eq!(
        sense(&mut d, &[0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0]),
        (2, 0x3a, 0x01)
    );
    // Commands about the drive itself work without a disc.
    ok(&mut d, &[0x12, 0, 0, 0, 36, 0]);
    ok(&mut d, &[0x1a, 0, 0x2a, 0, 0x80, 0]);
    let cfg = ok(&mut d, &[0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0]);
    assert_eq!(&cfg[6..8], &[0, 0], "no current profile");
    let rs = ok(&mut d, &[0x03, 0, 0, 0, 18, 0]);
    assert_eq!((rs[2], rs[12], rs[13]), (2, 0x3a, 0x01));
}

#[test]
fn dvd_rom_basics() {
    let mut d = rom();
    ok(&mut d, &TUR);
    assert_eq!(
        ok(&mut d, &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        [0, 0, 0x09, 0x18, 0, 0, 8, 0]
    );
    let cap16 = ok(
        &mut d,
        &[0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0],
    );
    assert_eq!(cap16.len(), 32);
    assert_eq!(&cap16[..12], &[0, 0, 0, 0, 0, 0, 0x09, 0x18, 0, 0, 8, 0]);
    let rs = ok(&mut d, &[0x03, 0, 0, 0, 18, 0]);
    assert_eq!((rs[2], rs[12]), (0, 0));
}

#[test]
fn reads_are_range_checked() {
    let mut d = rom();
    assert_eq!(
        run(&mut d, &[0x28, 0, 0, 0, 0x09, 0x18, 0, 0, 1, 0]).0,
        Outcome::ReadBlocks {
            lba: BLOCKS as u64 - 1,
            blocks: 1
        }
    );
    assert_eq!(
        sense(&mut d, &[0x28, 0, 0, 0, 0x09, 0x18, 0, 0, 2, 0]),
        (5, 0x21, 0)
    );
    assert_eq!(
        sense(&mut d, &[0x28, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0]),
        (5, 0x21, 0)
    );
    assert_eq!(
        run(&mut d, &[0xa8, 0, 0, 0, 0, 16, 0, 0, 0, 4, 0, 0]).0,
        Outcome::ReadBlocks { lba: 16, blocks: 4 }
    );
    assert_eq!(
        sense(&mut d, &[0xa8, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0]),
        (5, 0x21, 0)
    );
    assert_eq!(
        run(&mut d, &[0x28, 0, 0, 0, 0, 0, 0, 0, 0, 0]).0,
        Outcome::Good
    );
}

#[test]
fn unknown_and_vendor_opcodes_are_invalid() {
    let mut d = rom();
    for op in [0x85u8, 0xd8, 0x59, 0xff, 0x02] {
        assert_eq!(
            sense(&mut d, &[op, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            (5, 0x20, 0),
            "{op:#x}"
        );
    }
    assert_eq!(sense(&mut d, &[]), (5, 0x20, 0));
}

#[test]
fn get_configuration_header_profiles_and_rt() {
    let mut d = rom();
    let all = ok(&mut d, &[0x46, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0]);
    assert_eq!(
        u32::from_be_bytes(all[0..4].try_into().unwrap()) as usize,
        all.len() - 4
    );
    assert_eq!(&all[6..8], &[0x00, 0x10], "current profile DVD-ROM");
    // Profile list first: code 0, persistent+current, one profile marked current.
    assert_eq!(&all[8..12], &[0, 0, 0x03, 60]);
    let profiles: Vec<(u16, u8)> = all[12..72]
        .chunks(4)
        .map(|p| (u16::from_be_bytes([p[0], p[1]]), p[2]))
        .collect();
    assert_eq!(
        profiles,
        [
            (0x43, 0),
            (0x41, 0),
            (0x40, 0),
            (0x2b, 0),
            (0x1b, 0),
            (0x1a, 0),
            (0x16, 0),
            (0x15, 0),
            (0x11, 0),
            (0x14, 0),
            (0x13, 0),
            (0x12, 0),
            (0x10, 1),
            (0x0a, 0),
            (0x08, 0)
        ]
    );
    // Walk the descriptors: ascending codes, lengths multiple of 4.
    let mut codes = Vec::new();
    let mut at = 8;
    while at < all.len() {
        let code = u16::from_be_bytes([all[at], all[at + 1]]);
        let add = all[at + 3] as usize;
        assert_eq!(add % 4, 0);
        codes.push((code, all[at + 2] & 1 == 1));
        at += 4 + add;
    }
    assert_eq!(at, all.len());
    assert!(codes.windows(2).all(|w| w[0].0 < w[1].0));
    assert!(
        codes.contains(&(0x0010, true)),
        "random readable current with a disc"
    );
    assert!(
        codes.contains(&(0x001f, true)),
        "DVD read current with a DVD"
    );

    // RT=2 returns only the named feature; allocation length cuts the reply.
    let one = ok(&mut d, &[0x46, 2, 0, 0x1f, 0, 0, 0, 0, 0xff, 0]);
    assert_eq!(one.len(), 8 + 8);
    assert_eq!(&one[8..10], &[0x00, 0x1f]);
    let short = ok(&mut d, &[0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0]);
    assert_eq!(short.len(), 8);
    assert_eq!(&short[6..8], &[0x00, 0x10]);
    // Linux's MRW probe finds no MRW; its random-writable probe finds feature 0020h, which
    // makes the block device writable (any currency).
    let mrw = ok(&mut d, &[0x46, 0, 0, 0x28, 0, 0, 0, 0, 16, 0]);
    assert_ne!(&mrw[8..10], &[0x00, 0x28]);
    let rw = ok(&mut d, &[0x46, 0, 0, 0x20, 0, 0, 0, 0, 24, 0]);
    assert_eq!(&rw[8..10], &[0x00, 0x20]);
    assert_eq!(rw[10] & 1, 0, "not current with a DVD-ROM");
    assert_eq!(
        sense(&mut d, &[0x46, 3, 0, 0, 0, 0, 0, 0, 8, 0]),
        (5, 0x24, 0)
    );
}

#[test]
fn feature_currency_follows_the_medium() {
    let mut d = drive(None);
    let current = ok(&mut d, &[0x46, 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0]);
    let mut at = 8;
    while at < current.len() {
        let code = u16::from_be_bytes([current[at], current[at + 1]]);
        assert!(
            ![0x0010, 0x001f].contains(&code),
            "{code:#x} current without a disc"
        );
        at += 4 + current[at + 3] as usize;
    }
    // Profile list still lists every profile, none current.
    assert_eq!(
        &current[12..24],
        &[0, 0x43, 0, 0, 0, 0x41, 0, 0, 0, 0x40, 0, 0]
    );
}

#[test]
fn read_toc_formats() {
    let mut d = rom();
    // Format 0, LBA: header + track 1 + lead-out.
    let toc = ok(&mut d, &[0x43, 0, 0, 0, 0, 0, 0, 0, 0xff, 0]);
    assert_eq!(
        toc,
        [0, 18, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0, 0, 0x14, 0xaa, 0, 0, 0, 0x09, 0x19]
    );
    // MSF: track 1 at 00:02:00; the lead-out at LBA 2329 + 150 = 00:33:04.
    let toc = ok(&mut d, &[0x43, 2, 0, 0, 0, 0, 1, 0, 0xff, 0]);
    assert_eq!(&toc[8..12], &[0, 0, 2, 0]);
    assert_eq!(&toc[16..20], &[0, 0, 33, 4]);
    // Only the lead-out for track AAh; track 2 does not exist.
    assert_eq!(
        ok(&mut d, &[0x43, 2, 0, 0, 0, 0, 0xaa, 0, 0x0c, 0]).len(),
        12
    );
    assert_eq!(
        sense(&mut d, &[0x43, 0, 0, 0, 0, 0, 2, 0, 0x0c, 0]),
        (5, 0x24, 0)
    );
    // Session info, through the format field and through the legacy control-byte bits.
    let want = [0, 10, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0];
    assert_eq!(ok(&mut d, &[0x43, 0, 1, 0, 0, 0, 0, 0, 0x0c, 0]), want);
    assert_eq!(ok(&mut d, &[0x43, 0, 0, 0, 0, 0, 0, 0, 0x0c, 0x40]), want);
    // Header only (allocation 4); full TOC has A0, A1, A2 and track 1.
    assert_eq!(
        ok(&mut d, &[0x43, 0, 0, 0, 0, 0, 0, 0, 4, 0]),
        [0, 18, 1, 1]
    );
    let full = ok(&mut d, &[0x43, 2, 2, 0, 0, 0, 0, 0, 0xff, 0]);
    assert_eq!(full.len(), 4 + 4 * 11);
    assert_eq!(&full[4..8], &[1, 0x14, 0, 0xa0]);
    assert_eq!(full[4 + 2 * 11 + 3], 0xa2);
    assert_eq!(&full[4 + 2 * 11 + 8..4 + 3 * 11], &[0, 33, 4]);
    assert_eq!(
        sense(&mut d, &[0x43, 0, 5, 0, 0, 0, 0, 0, 0xff, 0]),
        (5, 0x24, 0)
    );
}

#[test]
fn disc_and_track_information_of_a_dvd_rom() {
    let mut d = rom();
    let di = ok(&mut d, &[0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0]);
    assert_eq!(di.len(), 34);
    assert_eq!(&di[..7], &[0, 32, 0x0e, 1, 1, 1, 1]);
    assert_eq!(ok(&mut d, &[0x51, 0, 0, 0, 0, 0, 0, 0, 2, 0]), [0, 32]);
    assert_eq!(
        sense(&mut d, &[0x51, 1, 0, 0, 0, 0, 0, 0, 34, 0]),
        (5, 0x24, 0)
    );

    let ti = ok(&mut d, &[0x52, 1, 0, 0, 0, 1, 0, 0, 48, 0]);
    assert_eq!(ti.len(), 48);
    assert_eq!(&ti[2..4], &[1, 1]);
    assert_eq!(&ti[8..12], &[0, 0, 0, 0]);
    assert_eq!(&ti[24..28], &BLOCKS.to_be_bytes());
    assert_eq!(&ti[28..32], &(BLOCKS - 1).to_be_bytes());
    // By LBA, by session; a missing track and an LBA beyond the disc.
    assert_eq!(ok(&mut d, &[0x52, 0, 0, 0, 0x01, 0, 0, 0, 48, 0])[2], 1);
    assert_eq!(ok(&mut d, &[0x52, 2, 0, 0, 0, 1, 0, 0, 48, 0])[2], 1);
    assert_eq!(
        sense(&mut d, &[0x52, 1, 0, 0, 0, 2, 0, 0, 48, 0]),
        (5, 0x24, 0)
    );
    assert_eq!(
        sense(&mut d, &[0x52, 1, 0, 0, 0, 0xff, 0, 0, 48, 0]),
        (5, 0x24, 0)
    );
    assert_eq!(
        sense(&mut d, &[0x52, 0, 0, 0, 0x10, 0, 0, 0, 48, 0]),
        (5, 0x21, 0)
    );
}

#[test]
fn mode_sense_capabilities_page() {
    let mut d = rom();
    let ms6 = ok(&mut d, &[0x1a, 0, 0x2a, 0, 0x80, 0]);
    assert_eq!(ms6[0] as usize, ms6.len() - 1);
    assert_eq!(ms6[3], 0, "no block descriptors");
    let page = &ms6[4..];
    assert_eq!(page[0], 0x2a);
    assert_eq!(page[1] as usize, page.len() - 2);
    assert_eq!(page[2] & 0x08, 0x08, "reads DVD-ROM");
    assert_eq!(page[3] & 0x30, 0x20, "DVD-RAM writing, no DVD-R writing");
    assert_eq!(page[3] & 0x03, 0x03, "CD-R/RW writing (wodim needs it)");
    assert_eq!(page[6] & 0xe9, 0x29, "tray, eject, lock");
    let ms10 = ok(&mut d, &[0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 0xff, 0]);
    assert_eq!(&ms10[8..], page);
    assert_eq!(
        u16::from_be_bytes([ms10[0], ms10[1]]) as usize,
        ms10.len() - 2
    );
    // Pages the drive has not got, and saved values.
    assert_eq!(sense(&mut d, &[0x1a, 0, 0x1d, 0, 0x80, 0]), (5, 0x24, 0));
    assert_eq!(sense(&mut d, &[0x1a, 0, 0x0e, 0, 0x80, 0]), (5, 0x24, 0));
    assert_eq!(sense(&mut d, &[0x1a, 0, 0xea, 0, 0x80, 0]), (5, 0x39, 0));
    // All pages (01h, 05h, 08h, 2Ah), and the lock state reflected after PREVENT.
    let all = ok(&mut d, &[0x1a, 0, 0x3f, 0, 0xff, 0]);
    assert_eq!(&all[4..6], &[0x01, 0x0a]);
    assert_eq!(&all[16..18], &[0x05, 0x32]);
    assert_eq!(&all[68..70], &[0x08, 0x0a]);
    assert_eq!(&all[80..], page);
    ok(&mut d, &[0x1e, 0, 0, 0, 1, 0]);
    assert_eq!(ok(&mut d, &[0x1a, 0, 0x2a, 0, 0x80, 0])[4 + 6] & 0x02, 0x02);
}

#[test]
fn events_tray_and_unit_attention() {
    let mut d = rom();
    let gesn = [0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0];
    // A steady disc: media class, no event, present.
    assert_eq!(ok(&mut d, &gesn), [0, 6, 4, 0x16, 0, 0x02, 0, 0]);
    // Asynchronous GESN is refused; an unsupported class gets NEA.
    assert_eq!(
        sense(&mut d, &[0x4a, 0, 0, 0, 0x10, 0, 0, 0, 8, 0]),
        (5, 0x24, 0)
    );
    assert_eq!(
        ok(&mut d, &[0x4a, 1, 0, 0, 0x40, 0, 0, 0, 8, 0]),
        [0, 2, 0x80, 0x16]
    );
    assert_eq!(ok(&mut d, &[0x4a, 1, 0, 0, 0x02, 0, 0, 0, 8, 0])[2], 1);

    // Locked: eject refused with 05/53/02.
    ok(&mut d, &[0x1e, 0, 0, 0, 1, 0]);
    assert_eq!(sense(&mut d, &[0x1b, 0, 0, 0, 0x02, 0]), (5, 0x53, 2));
    ok(&mut d, &[0x1e, 0, 0, 0, 0, 0]);
    // Eject: tray open, removal event, no medium.
    ok(&mut d, &[0x1b, 0, 0, 0, 0x02, 0]);
    assert_eq!(ok(&mut d, &gesn), [0, 6, 4, 0x16, 3, 0x01, 0, 0]);
    assert_eq!(sense(&mut d, &TUR), (2, 0x3a, 0x02));
    assert_eq!(
        ok(&mut d, &[0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0])[1],
        0x10
    );
    // Load: the same disc is back, with a new-media event and one unit attention.
    ok(&mut d, &[0x1b, 0, 0, 0, 0x03, 0]);
    assert_eq!(ok(&mut d, &gesn), [0, 6, 4, 0x16, 2, 0x02, 0, 0]);
    assert_eq!(sense(&mut d, &TUR), (6, 0x28, 0));
    ok(&mut d, &TUR);
    assert_eq!(ok(&mut d, &[0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0]), [0; 8]);
}

#[test]
fn unit_attention_is_reported_once_and_skips_inquiry() {
    let mut d = drive(None);
    d.change_medium(Some(Medium::dvd_rom(100)));
    ok(&mut d, &[0x12, 0, 0, 0, 36, 0]);
    ok(&mut d, &[0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0]);
    assert_eq!(
        sense(&mut d, &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        (6, 0x28, 0)
    );
    ok(&mut d, &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    // REQUEST SENSE returns a pending UA and clears it.
    d.change_medium(None);
    let rs = ok(&mut d, &[0x03, 0, 0, 0, 18, 0]);
    assert_eq!((rs[2], rs[12]), (6, 0x3a));
    assert_eq!(sense(&mut d, &TUR), (2, 0x3a, 1));
}

#[test]
fn read_dvd_structure_formats() {
    let mut d = rom();
    let pfi = ok(&mut d, &[0xad, 0, 0, 0, 0, 0, 0, 0x00, 0x08, 0x04, 0, 0]);
    assert_eq!(pfi.len(), 2052);
    assert_eq!(&pfi[0..2], &[0x08, 0x02]);
    assert_eq!(pfi[4], 0x01, "DVD-ROM book");
    assert_eq!(&pfi[8..12], &[0, 3, 0, 0]);
    assert_eq!(&pfi[12..16], &(0x30000 + BLOCKS - 1).to_be_bytes());
    assert_eq!(
        ok(&mut d, &[0xad, 0, 0, 0, 0, 0, 0, 0x01, 0, 8, 0, 0]),
        [0, 6, 0, 0, 0, 0, 0, 0]
    );
    let list = ok(&mut d, &[0xad, 0, 0, 0, 0, 0, 0, 0xff, 0, 0xff, 0, 0]);
    assert_eq!(list.len(), 16);
    assert_eq!(
        sense(&mut d, &[0xad, 0, 0, 0, 0, 0, 1, 0x00, 8, 4, 0, 0]),
        (5, 0x24, 0)
    );
    assert_eq!(
        sense(&mut d, &[0xad, 0, 0, 0, 0, 0, 0, 0xc0, 8, 4, 0, 0]),
        (5, 0x24, 0)
    );
    // A BD structure (media type 1) of a DVD: see read_disc_structure_of_a_bd_and_of_a_dvd.
    let mut empty = drive(None);
    assert_eq!(
        sense(&mut empty, &[0xad, 0, 0, 0, 0, 0, 0, 0, 8, 4, 0, 0]),
        (2, 0x3a, 1)
    );
}

// ---------------------------------------------------------------- DVD+R

fn blank_plus_r(capacity: u32) -> SimDrive {
    drive(Some(Medium::blank(MediumKind::DvdPlusR, capacity)))
}

fn write10(lba: u32, blocks: u16) -> [u8; 10] {
    let l = lba.to_be_bytes();
    let b = blocks.to_be_bytes();
    [0x2a, 0, l[0], l[1], l[2], l[3], 0, b[0], b[1], 0]
}

/// WRITE as the device layer does it: validate, "do the I/O", report it back.
fn write_ok(d: &mut SimDrive, lba: u32, blocks: u16) {
    let (o, _) = run(d, &write10(lba, blocks));
    assert_eq!(
        o,
        Outcome::WriteBlocks {
            lba: lba as u64,
            blocks: blocks as u32
        }
    );
    d.written(lba as u64, blocks as u32);
}

fn track_info(d: &mut SimDrive, track: u8) -> Vec<u8> {
    ok(d, &[0x52, 1, 0, 0, 0, track, 0, 0, 48, 0])
}

fn be32_at(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes(b[at..at + 4].try_into().unwrap())
}

fn close(d: &mut SimDrive, function: u8, track: u8) -> Outcome {
    run(d, &[0x5b, 0, function, 0, 0, track, 0, 0, 0, 0]).0
}

#[test]
fn blank_dvd_plus_r_reports_itself_truthfully() {
    let mut d = blank_plus_r(DVD_PLUS_R_BLOCKS);
    ok(&mut d, &TUR);
    let cfg = ok(&mut d, &[0x46, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0]);
    assert_eq!(&cfg[6..8], &[0x00, 0x1b]);
    let current = ok(&mut d, &[0x46, 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0]);
    let codes = feature_codes(&current);
    assert!(codes.contains(&0x002b) && codes.contains(&0x001f) && codes.contains(&0x0107));
    assert!(!codes.contains(&0x0010), "nothing readable on a blank disc");
    let di = ok(&mut d, &[0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0]);
    assert_eq!(
        &di[2..7],
        &[0x00, 1, 1, 1, 1],
        "empty disc, empty session, track 1"
    );
    assert_eq!(be32_at(&di, 20), DVD_PLUS_R_BLOCKS);
    let ti = track_info(&mut d, 1);
    assert_eq!(ti[6] & 0x40, 0x40, "blank track");
    assert_eq!(ti[7] & 0x01, 0x01, "NWA valid");
    assert_eq!((be32_at(&ti, 12), be32_at(&ti, 16)), (0, DVD_PLUS_R_BLOCKS));
    assert_eq!(
        track_info(&mut d, 0xff),
        ti,
        "track FFh is the invisible track"
    );
    assert_eq!(
        ok(&mut d, &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        [0, 0, 0, 0, 0, 0, 8, 0]
    );
    assert_eq!(
        sense(&mut d, &[0x43, 0, 0, 0, 0, 0, 1, 0, 12, 0]),
        (5, 0x24, 0),
        "no TOC"
    );
    assert_eq!(
        sense(&mut d, &[0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0]),
        (5, 0x21, 0)
    );
    let pfi = ok(&mut d, &[0xad, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x04, 0, 0]);
    assert_eq!(pfi[4], 0xa1, "DVD+R book type");
    assert_eq!(be32_at(&pfi, 12), 0x30000 + DVD_PLUS_R_BLOCKS - 1);
}

fn feature_codes(cfg: &[u8]) -> Vec<u16> {
    let mut codes = Vec::new();
    let mut at = 8;
    while at < cfg.len() {
        codes.push(u16::from_be_bytes([cfg[at], cfg[at + 1]]));
        at += 4 + cfg[at + 3] as usize;
    }
    codes
}

#[test]
fn sequential_writes_follow_the_next_writable_address() {
    let mut d = blank_plus_r(1000);
    assert_eq!(
        sense(&mut d, &write10(16, 16)),
        (5, 0x21, 2),
        "not at the NWA"
    );
    write_ok(&mut d, 0, 16);
    write_ok(&mut d, 16, 16);
    // Written blocks read back at once; the NWA moved on.
    assert_eq!(
        run(&mut d, &[0x28, 0, 0, 0, 0, 0, 0, 0, 32, 0]).0,
        Outcome::ReadBlocks { lba: 0, blocks: 32 }
    );
    assert_eq!(
        sense(&mut d, &[0x28, 0, 0, 0, 0, 31, 0, 0, 2, 0]),
        (5, 0x21, 0)
    );
    let ti = track_info(&mut d, 1);
    assert_eq!((be32_at(&ti, 12), be32_at(&ti, 16)), (32, 968));
    assert_eq!(be32_at(&ti, 28), 31, "last recorded address");
    assert_eq!(
        sense(&mut d, &write10(0, 16)),
        (5, 0x21, 2),
        "no rewriting on a +R"
    );
    assert_eq!(
        sense(&mut d, &write10(32, 969)),
        (5, 0x21, 0),
        "past the end of the disc"
    );
    assert_eq!(
        ok(&mut d, &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0])[..4],
        [0, 0, 0, 31]
    );
    let di = ok(&mut d, &[0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0]);
    assert_eq!(di[2], 0x05, "incomplete disc, incomplete session");
    // Writes ask for nothing durable; SYNCHRONIZE CACHE does.
    assert!(!d.take_persist_request());
    ok(&mut d, &[0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert!(d.take_persist_request());
}

#[test]
fn close_track_and_session_then_append_a_session() {
    let mut d = blank_plus_r(10_000);
    write_ok(&mut d, 0, 100);
    assert_eq!(close(&mut d, 1, 1), Outcome::Good);
    assert!(d.take_persist_request());
    // Track 1 closed; the invisible track 2 starts on the next ECC block.
    let t2 = track_info(&mut d, 2);
    assert_eq!((be32_at(&t2, 8), be32_at(&t2, 12)), (112, 112));
    assert_eq!(close(&mut d, 2, 0), Outcome::Good);
    // The host is told to look again through a media event, without a unit attention.
    ok(&mut d, &TUR);
    assert_eq!(ok(&mut d, &[0x4a, 1, 0, 0, 0x10, 0, 0, 0, 8, 0])[4], 2);
    let di = ok(&mut d, &[0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0]);
    assert_eq!(
        &di[2..7],
        &[0x01, 1, 2, 2, 2],
        "appendable, empty session 2 with track 2"
    );
    let toc = ok(&mut d, &[0x43, 0, 0, 0, 0, 0, 1, 0, 0xff, 0]);
    assert_eq!(&toc[2..4], &[1, 1]);
    assert_eq!(be32_at(&toc, 16), 100, "lead-out after track 1");
    assert_eq!(
        ok(&mut d, &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0])[..4],
        [0, 0, 0, 99]
    );
    // Second session (growisofs -M): write at the NWA, close track and session.
    write_ok(&mut d, 112, 48);
    close(&mut d, 1, 2);
    close(&mut d, 2, 0);
    let _ = run(&mut d, &TUR);
    let si = ok(&mut d, &[0x43, 0, 1, 0, 0, 0, 0, 0, 12, 0]);
    assert_eq!(&si[2..4], &[1, 2], "two sessions");
    assert_eq!(
        (si[6], be32_at(&si, 8)),
        (2, 112),
        "last session starts with track 2 at 112"
    );
    let full = ok(&mut d, &[0x43, 2, 2, 0, 0, 0, 0, 0, 0xff, 0]);
    assert_eq!(full.len(), 4 + 8 * 11);
    // Finalize: the disc becomes a DVD-ROM.
    assert_eq!(close(&mut d, 6, 0), Outcome::Good);
    assert_eq!(sense(&mut d, &TUR), (6, 0x28, 0));
    assert_eq!(d.current_profile(), 0x10);
    let di = ok(&mut d, &[0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0]);
    assert_eq!(&di[2..7], &[0x0e, 1, 2, 2, 2]);
    assert_eq!(sense(&mut d, &write10(160, 16)), (5, 0x30, 5));
    assert_eq!(
        close(&mut d, 2, 0),
        Outcome::Good,
        "closing a complete disc is harmless"
    );
    let cfg = ok(&mut d, &[0x46, 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0]);
    assert!(!feature_codes(&cfg).contains(&0x002b));
}

#[test]
fn reserve_track_and_disc_at_once() {
    let mut d = blank_plus_r(10_000);
    ok(&mut d, &[0x53, 0, 0, 0, 0, 0, 0, 0x03, 0xe8, 0]); // 1000 blocks -> 1008
    let t1 = track_info(&mut d, 1);
    assert_eq!(be32_at(&t1, 24), 1008);
    let t2 = track_info(&mut d, 2);
    assert_eq!(be32_at(&t2, 8), 1008);
    assert_eq!(
        sense(&mut d, &[0x53, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        (5, 0x24, 0),
        "size 0"
    );
    assert_eq!(
        sense(&mut d, &[0x53, 0, 0, 0, 0, 0, 0, 0x27, 0x10, 0]),
        (5, 0x21, 0),
        "too big"
    );
    write_ok(&mut d, 0, 1000);
    assert_eq!(
        sense(&mut d, &write10(1000, 16)),
        (5, 0x21, 0),
        "past the reservation"
    );
    // wodim: SYNCHRONIZE CACHE, CLOSE SESSION. As on a real drive the disc stays appendable.
    ok(&mut d, &[0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert_eq!(close(&mut d, 2, 0), Outcome::Good);
    assert_eq!(d.current_profile(), 0x1b);
    let _ = run(&mut d, &TUR);
    assert_eq!(
        ok(&mut d, &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0])[..4],
        1007u32.to_be_bytes()
    );
    let di = ok(&mut d, &[0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0]);
    assert_eq!(di[2], 0x01, "appendable");
}

#[test]
fn tgt_morph_finalizes_on_any_close() {
    let mut d = blank_plus_r(10_000);
    d.drive.set_finalize_on_close(true);
    write_ok(&mut d, 0, 64);
    assert_eq!(close(&mut d, 1, 1), Outcome::Good);
    assert_eq!(
        d.current_profile(),
        0x10,
        "a DVD-ROM once the track is closed"
    );
    assert_eq!(sense(&mut d, &TUR), (6, 0x28, 0));
    assert_eq!(
        close(&mut d, 2, 0),
        Outcome::Good,
        "closing the complete disc is harmless"
    );
    let di = ok(&mut d, &[0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0]);
    assert_eq!(di[2], 0x0e);
}

#[test]
fn close_errors() {
    let mut d = blank_plus_r(1000);
    assert_eq!(
        close(&mut d, 1, 1),
        Outcome::Check(Sense::COMMAND_SEQUENCE_ERROR),
        "empty track"
    );
    assert_eq!(
        close(&mut d, 1, 9),
        Outcome::Check(Sense::INVALID_FIELD_IN_CDB)
    );
    assert_eq!(
        close(&mut d, 0, 0),
        Outcome::Check(Sense::INVALID_FIELD_IN_CDB)
    );
    assert_eq!(
        close(&mut d, 6, 0),
        Outcome::Check(Sense::COMMAND_SEQUENCE_ERROR),
        "blank"
    );
    let mut rom = rom();
    assert_eq!(
        close(&mut rom, 2, 0),
        Outcome::Check(Sense::CANNOT_WRITE_INCOMPATIBLE_FORMAT)
    );
    assert_eq!(sense(&mut rom, &write10(0, 1)), (5, 0x30, 5));
}

#[test]
fn write_parameters_page_survives_mode_select() {
    let mut d = blank_plus_r(1000);
    let ms = ok(&mut d, &[0x5a, 0x08, 0x05, 0, 0, 0, 0, 0, 0xff, 0]);
    assert_eq!(&ms[8..10], &[0x05, 0x32]);
    // growisofs: take the page, set multisession bits, send it back.
    let mut param = ms.clone();
    param[0] = 0;
    param[1] = 0;
    param[8 + 3] |= 0xc0;
    let mut out = Vec::new();
    assert_eq!(
        d.execute(
            &[0x55, 0x10, 0, 0, 0, 0, 0, 0, param.len() as u8, 0],
            &param,
            &mut out
        ),
        Outcome::Good
    );
    let again = ok(&mut d, &[0x5a, 0x08, 0x05, 0, 0, 0, 0, 0, 0xff, 0]);
    assert_eq!(again[8 + 3] & 0xc0, 0xc0);
    // A page we do not have, a bad write type, a list cut short.
    let bad_page = [0, 0, 0, 0, 0, 0, 0, 0, 0x2a, 2, 0, 0];
    assert_eq!(
        d.execute(&[0x55, 0x10, 0, 0, 0, 0, 0, 0, 12, 0], &bad_page, &mut out),
        Outcome::Check(Sense::INVALID_FIELD_IN_PARAMETER_LIST)
    );
    let mut bad_type = param.clone();
    bad_type[8 + 2] = 0x0f;
    assert_eq!(
        d.execute(
            &[0x55, 0x10, 0, 0, 0, 0, 0, 0, bad_type.len() as u8, 0],
            &bad_type,
            &mut out
        ),
        Outcome::Check(Sense::INVALID_FIELD_IN_PARAMETER_LIST)
    );
    assert_eq!(
        d.execute(
            &[0x55, 0x10, 0, 0, 0, 0, 0, 0, 20, 0],
            &param[..20],
            &mut out
        ),
        Outcome::Check(Sense::PARAMETER_LIST_LENGTH_ERROR)
    );
    // MODE SELECT(6) with a 4-byte header.
    let mut six = vec![0, 0, 0, 0];
    six.extend_from_slice(&param[8..]);
    assert_eq!(
        d.execute(&[0x15, 0x10, 0, 0, six.len() as u8, 0], &six, &mut out),
        Outcome::Good
    );
}

#[test]
fn performance_and_buffer() {
    let mut d = blank_plus_r(DVD_PLUS_R_BLOCKS);
    let ws = ok(&mut d, &[0xac, 0, 0, 0, 0, 0, 0, 0, 0, 1, 3, 0]);
    assert_eq!(ws.len(), 8 + 16);
    assert_eq!(be32_at(&ws, 0), 20);
    assert_eq!(be32_at(&ws, 8 + 12), performance::WRITE_KBPS);
    let perf = ok(&mut d, &[0xac, 0x14, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]);
    assert_eq!(perf[4], 0x02, "write performance");
    assert_eq!(
        ok(&mut d, &[0xac, 0x04, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]).len(),
        24,
        "any tolerance"
    );
    assert_eq!(
        sense(&mut d, &[0xac, 0x03, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0]),
        (5, 0x24, 0)
    );
    assert_eq!(
        sense(&mut d, &[0xac, 0, 0, 0, 0, 0, 0, 0, 0, 1, 9, 0]),
        (5, 0x24, 0)
    );
    let rb = ok(&mut d, &[0x5c, 0, 0, 0, 0, 0, 0, 0, 12, 0]);
    assert_eq!(be32_at(&rb, 4), be32_at(&rb, 8), "buffer is empty");
    ok(&mut d, &[0xbb, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0]);
    let mut out = Vec::new();
    let desc = [0u8; 28];
    assert_eq!(
        d.execute(&[0xb6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 28, 0], &desc, &mut out),
        Outcome::Good
    );
}

#[test]
fn dual_layer_blank() {
    let mut d = drive(Some(Medium::blank(
        MediumKind::DvdPlusRDualLayer,
        medium::DVD_PLUS_R_DL_BLOCKS,
    )));
    assert_eq!(d.current_profile(), 0x2b);
    let cfg = ok(&mut d, &[0x46, 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0]);
    assert!(feature_codes(&cfg).contains(&0x003b));
    assert!(!feature_codes(&cfg).contains(&0x002b));
    // Layer boundary (what growisofs -dvd-compat and dvd+rw-mediainfo read): layer 0 holds
    // half the disc, and the break can no longer be set.
    let lb = ok(&mut d, &[0xad, 0, 0, 0, 0, 0, 0, 0x20, 0, 12, 0, 0]);
    assert_eq!(&lb[..2], &10u16.to_be_bytes(), "length");
    assert_eq!(lb[4] & 0x80, 0x80, "InitStatus: fixed");
    let l0 = u32::from_be_bytes(lb[8..12].try_into().unwrap());
    assert_eq!(
        l0,
        medium::DVD_PLUS_R_DL_BLOCKS
            .div_ceil(2)
            .next_multiple_of(16)
    );
    let list = ok(&mut d, &[0xad, 0, 0, 0, 0, 0, 0, 0xff, 0, 0xff, 0, 0]);
    assert!(list[4..].chunks(4).any(|c| c[0] == 0x20), "listed");
    // Not on a single-layer disc.
    let mut sl = blank_of(MediumKind::DvdPlusR);
    assert_eq!(
        sense(&mut sl, &[0xad, 0, 0, 0, 0, 0, 0, 0x20, 0, 12, 0, 0]),
        (5, 0x24, 0)
    );
}

// ---------------------------------------------------------------- rewritable media

fn blank_of(kind: MediumKind) -> SimDrive {
    drive(Some(Medium::blank(kind, kind.default_capacity())))
}

/// FORMAT UNIT with FmtData, format code 1 and one descriptor.
fn format_unit(d: &mut SimDrive, format: u8, param: u32) -> (Outcome, bool) {
    let mut list = vec![0, 0x02, 0, 8]; // IMMED, descriptor length 8
    list.extend_from_slice(&0xffff_ffffu32.to_be_bytes());
    list.push(format << 2);
    list.extend_from_slice(&param.to_be_bytes()[1..]);
    let mut out = Vec::new();
    let o = d.execute(&[0x04, 0x11, 0, 0, 0, 0], &list, &mut out);
    let erased = d.take_erase_request();
    (o, erased)
}

fn format_capacities(d: &mut SimDrive) -> Vec<(u32, u8, u32)> {
    let r = ok(d, &[0x23, 0, 0, 0, 0, 0, 0, 0x01, 0x00, 0]);
    assert_eq!(r[3] as usize, r.len() - 4);
    r[4..]
        .chunks(8)
        .map(|c| {
            (
                be32_at(c, 0),
                c[4],
                u32::from_be_bytes([0, c[5], c[6], c[7]]),
            )
        })
        .collect()
}

fn profile_of(d: &mut SimDrive) -> u16 {
    let cfg = ok(d, &[0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0]);
    u16::from_be_bytes([cfg[6], cfg[7]])
}

#[test]
fn dvd_plus_rw_formats_then_writes_anywhere() {
    let mut d = blank_of(MediumKind::DvdPlusRw);
    assert_eq!(profile_of(&mut d), 0x1a);
    let caps = format_capacities(&mut d);
    assert_eq!(caps[0], (DVD_PLUS_R_BLOCKS, 0x01, 2048), "unformatted");
    assert_eq!(
        caps[1],
        (DVD_PLUS_R_BLOCKS, 0x26 << 2, 0),
        "offers format 26h"
    );
    assert_eq!(
        sense(&mut d, &write10(0, 1)),
        (5, 0x21, 2),
        "not formatted yet"
    );
    let di = ok(&mut d, &[0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0]);
    assert_eq!(
        (di[2] & 0x10, di[7] & 0x03),
        (0x10, 0),
        "erasable, background format 0"
    );
    assert_eq!(format_unit(&mut d, 0x26, 0), (Outcome::Good, true));
    assert!(d.take_persist_request());
    assert_eq!(format_capacities(&mut d)[0].1, 0x02, "formatted");
    let di = ok(&mut d, &[0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0]);
    assert_eq!(di[7] & 0x03, 0x03, "background format complete");
    // Random 2 KiB writes anywhere in the formatted area; reads anywhere too.
    write_ok(&mut d, 12345, 1);
    write_ok(&mut d, 7, 3);
    assert_eq!(
        sense(&mut d, &write10(DVD_PLUS_R_BLOCKS - 1, 2)),
        (5, 0x21, 0)
    );
    assert_eq!(
        run(&mut d, &[0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0]).0,
        Outcome::ReadBlocks { lba: 0, blocks: 1 }
    );
    assert_eq!(
        ok(&mut d, &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0])[..4],
        (DVD_PLUS_R_BLOCKS - 1).to_be_bytes()
    );
    // What pktcdvd reads: fixed packets of 16, data mode 1, size = the disc.
    let ti = track_info(&mut d, 1);
    assert_eq!(ti[6] & 0x0f, 1);
    assert_eq!(be32_at(&ti, 20), 16);
    assert_eq!(be32_at(&ti, 24), DVD_PLUS_R_BLOCKS);
    assert_eq!(ti[7] & 0x03, 0, "no NWA/LRA: capacity is start + size");
    // The kernel releases a written DVD+RW with CLOSE 0 then 2.
    assert_eq!(close(&mut d, 0, 0), Outcome::Good);
    assert_eq!(close(&mut d, 2, 0), Outcome::Good);
    let cfg = ok(&mut d, &[0x46, 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0]);
    let codes = feature_codes(&cfg);
    assert!(codes.contains(&0x002a) && codes.contains(&0x0023) && codes.contains(&0x0010));
}

#[test]
fn dvd_ram_comes_formatted_and_is_random_writable() {
    let mut d = blank_of(MediumKind::DvdRam);
    assert_eq!(profile_of(&mut d), 0x12);
    write_ok(&mut d, 99, 1);
    let cfg = ok(&mut d, &[0x46, 2, 0, 0x20, 0, 0, 0, 0, 0xff, 0]);
    assert_eq!(cfg[10] & 1, 1, "random writable is current");
    assert_eq!(be32_at(&cfg, 12), medium::DVD_RAM_BLOCKS - 1);
    let cfg = ok(&mut d, &[0x46, 2, 0, 0x24, 0, 0, 0, 0, 0xff, 0]);
    assert_eq!(cfg[10] & 1, 1, "defect management is current");
    // Re-formatting a formatted DVD-RAM keeps the data.
    assert_eq!(format_unit(&mut d, 0x00, 2048), (Outcome::Good, false));
    assert_eq!(
        ok(&mut d, &[0xad, 0, 0, 0, 0, 0, 0, 0xc0, 0, 8, 0, 0]).len(),
        8
    );
    assert_eq!(
        sense(&mut d, &[0xa1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        (5, 0x30, 5),
        "no BLANK"
    );
}

#[test]
fn dvd_rw_sequential_to_restricted_overwrite_and_back() {
    let mut d = blank_of(MediumKind::DvdRw);
    assert_eq!(profile_of(&mut d), 0x14);
    let caps = format_capacities(&mut d);
    assert_eq!(caps[1], (medium::DVD_RW_BLOCKS, 0x10 << 2, 16));
    assert_eq!(caps[2].1, 0x15 << 2);
    assert_eq!(format_unit(&mut d, 0x15, 16), (Outcome::Good, true));
    assert_eq!(profile_of(&mut d), 0x13);
    let ti = track_info(&mut d, 1);
    assert_eq!(ti[6] & 0x30, 0x30, "Packet and FP");
    assert_eq!(be32_at(&ti, 20), 16);
    write_ok(&mut d, 32, 16);
    assert_eq!(
        sense(&mut d, &write10(8, 16)),
        (5, 0x24, 0),
        "not on a packet boundary"
    );
    assert_eq!(
        sense(&mut d, &write10(16, 8)),
        (5, 0x24, 0),
        "not a whole packet"
    );
    // Page 05 as pktcdvd sets it: packet writing, fixed packets of 16.
    let mut page = ok(&mut d, &[0x5a, 0, 0x05, 0, 0, 0, 0, 0, 0xff, 0]);
    page[0] = 0;
    page[1] = 0;
    page[8 + 2] = 0x00;
    page[8 + 3] = 0x20 | 0x05;
    page[8 + 10..8 + 14].copy_from_slice(&16u32.to_be_bytes());
    let mut out = Vec::new();
    assert_eq!(
        d.execute(
            &[0x55, 0x10, 0, 0, 0, 0, 0, 0, page.len() as u8, 0],
            &page,
            &mut out
        ),
        Outcome::Good
    );
    // BLANK: sequential and empty again.
    ok(&mut d, &[0xa1, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert!(d.take_erase_request());
    assert_eq!(profile_of(&mut d), 0x14);
    // Recorded sequentially again: from its next writable address only.
    assert_eq!(sense(&mut d, &write10(16, 16)), (5, 0x21, 2));
    write_ok(&mut d, 0, 16);
    assert_eq!(
        sense(&mut d, &[0xa1, 0x03, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        (5, 0x24, 0)
    );
}

#[test]
fn cd_rw_blank_format_for_packets_and_atip() {
    let mut d = blank_of(MediumKind::CdRw);
    assert_eq!(profile_of(&mut d), 0x0a);
    // ATIP on a blank CD-RW: a CD-RW with valid A1.
    let atip = ok(&mut d, &[0x43, 2, 4, 0, 0, 0, 0, 0, 64, 0]);
    assert_eq!(atip.len(), 28);
    assert_eq!(u16::from_be_bytes([atip[0], atip[1]]), 26);
    assert_eq!(atip[6] & 0x44, 0x44);
    let di = ok(&mut d, &[0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0]);
    assert_eq!(di[2], 0x10, "erasable, empty");
    assert_eq!(di[8], 0x00, "disc type CD-ROM/data");
    assert_eq!(
        &di[20..24],
        &[0, 79, 59, 71],
        "last possible lead-out in MSF"
    );
    // cdrwtool -q: BLANK fast, then FORMAT UNIT type 10h with packets of 32.
    ok(&mut d, &[0xa1, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
    assert!(d.take_erase_request());
    assert_eq!(
        format_unit(&mut d, 0x10, 8),
        (
            Outcome::Check(Sense::INVALID_FIELD_IN_PARAMETER_LIST),
            false
        )
    );
    assert_eq!(format_unit(&mut d, 0x10, 32), (Outcome::Good, true));
    let ti = track_info(&mut d, 1);
    assert_eq!(
        (ti[6] & 0x30, be32_at(&ti, 20)),
        (0x30, 32),
        "fixed packets of 32"
    );
    let formatted = be32_at(&ti, 24);
    assert_eq!(formatted % 32, 0);
    write_ok(&mut d, 64, 32);
    assert_eq!(sense(&mut d, &write10(64, 16)), (5, 0x24, 0));
    let cfg = ok(&mut d, &[0x46, 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0]);
    let codes = feature_codes(&cfg);
    assert!(codes.contains(&0x001d) && codes.contains(&0x001e) && codes.contains(&0x0026));
    assert!(!codes.contains(&0x001f), "not a DVD");
    assert_eq!(
        sense(&mut d, &[0xad, 0, 0, 0, 0, 0, 0, 0, 8, 4, 0, 0]),
        (5, 0x30, 2)
    );
    // The legacy format code 7 (cdrwtool's fallback) is accepted too.
    let mut out = Vec::new();
    let list = [0, 0x02, 0, 8, 0, 0, 0, 0, 0, 0, 0, 32];
    assert_eq!(
        d.execute(&[0x04, 0x17, 0, 0, 0, 0], &list, &mut out),
        Outcome::Good
    );
}

#[test]
fn formatting_non_rewritable_media_is_refused() {
    let mut d = rom();
    assert_eq!(
        format_unit(&mut d, 0x26, 0).0,
        Outcome::Check(Sense::CANNOT_WRITE_INCOMPATIBLE_FORMAT)
    );
    let mut d = blank_plus_r(1000);
    assert_eq!(
        sense(&mut d, &[0xa1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        (5, 0x30, 5)
    );
    let mut d = blank_of(MediumKind::DvdPlusRw);
    assert_eq!(
        format_unit(&mut d, 0x10, 16).0,
        Outcome::Check(Sense::INVALID_FIELD_IN_PARAMETER_LIST)
    );
    let mut short = Vec::new();
    assert_eq!(
        d.execute(&[0x04, 0x11, 0, 0, 0, 0], &[0, 0, 0, 8], &mut short),
        Outcome::Check(Sense::PARAMETER_LIST_LENGTH_ERROR)
    );
}

#[test]
fn report_supported_operation_codes_lists_the_command_table() {
    let mut d = rom();
    // All commands: one 8-byte descriptor per table entry.
    let all = ok(&mut d, &[0xa3, 0x0c, 0, 0, 0, 0, 0, 0, 0x10, 0, 0, 0]);
    let len = be32_at(&all, 0) as usize;
    assert_eq!(len, all.len() - 4);
    assert_eq!(len / 8, commands::COMMANDS.len());
    let listed: Vec<(u8, u16, bool, u16)> = all[4..]
        .chunks(8)
        .map(|c| {
            (
                c[0],
                u16::from_be_bytes([c[2], c[3]]),
                c[5] & 1 != 0,
                u16::from_be_bytes([c[6], c[7]]),
            )
        })
        .collect();
    assert!(listed.contains(&(0x28, 0, false, 10)), "READ(10)");
    assert!(
        listed.contains(&(0xad, 0, false, 12)),
        "READ DISC STRUCTURE"
    );
    assert!(
        listed.contains(&(0x9e, 0x10, true, 16)),
        "READ CAPACITY(16)"
    );
    assert!(listed.contains(&(0xa3, 0x0c, true, 12)), "itself");
    // One command (option 1): supported, with its CDB usage data.
    let one = ok(&mut d, &[0xa3, 0x0c, 1, 0x2a, 0, 0, 0, 0, 0, 64, 0, 0]);
    assert_eq!((one[1] & 7, u16::from_be_bytes([one[2], one[3]])), (3, 10));
    assert_eq!((one.len(), one[4]), (14, 0x2a));
    // Unknown opcode: "not supported", not an error.
    let none = ok(&mut d, &[0xa3, 0x0c, 1, 0xd8, 0, 0, 0, 0, 0, 64, 0, 0]);
    assert_eq!(none[1] & 7, 1);
    // Option 1 for an opcode with service actions, option 2 with one: as SPC says.
    assert_eq!(
        sense(&mut d, &[0xa3, 0x0c, 1, 0x9e, 0, 0, 0, 0, 0, 64, 0, 0]),
        (5, 0x24, 0)
    );
    let sa = ok(&mut d, &[0xa3, 0x0c, 2, 0x9e, 0, 0x10, 0, 0, 0, 64, 0, 0]);
    assert_eq!((sa[1] & 7, sa[4], sa[5] & 0x1f), (3, 0x9e, 0x10));
    // The allocation length cuts the answer.
    assert_eq!(
        ok(&mut d, &[0xa3, 0x0c, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0]).len(),
        6
    );
    // SEND KEY (A3h, service action 0) is not offered.
    assert_eq!(
        sense(&mut d, &[0xa3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        (5, 0x24, 0)
    );
}

#[test]
fn write_and_verify_is_a_write_and_obeys_write_protection() {
    let mut d = blank_plus_r(1000);
    let mut wv = write10(0, 16);
    wv[0] = 0x2e;
    let mut out = Vec::new();
    assert_eq!(
        d.execute(&wv, &[], &mut out),
        Outcome::WriteBlocks { lba: 0, blocks: 16 }
    );
    d.drive.set_write_protected(true);
    assert_eq!(sense(&mut d, &wv), (7, 0x27, 0));
    assert_eq!(sense(&mut d, &write10(0, 16)), (7, 0x27, 0));
}

// ---------------------------------------------------------------- DVD-R family

/// MODE SELECT(10) of page 05h with `write_type` and the multisession bits, the rest as the
/// drive reports it (what growisofs and libburn do).
fn set_page05(d: &mut SimDrive, write_type: u8, multisession: u8) {
    let mut page = ok(d, &[0x5a, 0x08, 0x05, 0, 0, 0, 0, 0, 0xff, 0]);
    page[0] = 0;
    page[1] = 0;
    page[8 + 2] = (page[8 + 2] & 0xf0) | write_type;
    page[8 + 3] = (page[8 + 3] & 0x3f) | (multisession << 6);
    let mut out = Vec::new();
    assert_eq!(
        d.execute(
            &[0x55, 0x10, 0, 0, 0, 0, 0, 0, page.len() as u8, 0],
            &page,
            &mut out
        ),
        Outcome::Good
    );
}

fn disc_status(d: &mut SimDrive) -> u8 {
    ok(d, &[0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0])[2] & 0x03
}

const SYNC_CACHE: [u8; 10] = [0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0];

#[test]
fn blank_dvd_minus_r_offers_incremental_streaming() {
    let mut d = blank_of(MediumKind::DvdMinusR);
    assert_eq!(profile_of(&mut d), 0x11);
    let current = ok(&mut d, &[0x46, 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0]);
    let codes = feature_codes(&current);
    assert!(codes.contains(&0x0021), "Incremental Streaming Writable");
    assert!(codes.contains(&0x002f), "DVD-R/-RW Write");
    assert!(!codes.contains(&0x0023), "a DVD-R is not formattable");
    assert!(!codes.contains(&0x0033), "no layer jump recording");
    // growisofs asks for feature 21h alone and engages DAO when it is not current.
    let f21 = ok(&mut d, &[0x46, 2, 0, 0x21, 0, 0, 0, 0, 20, 0]);
    assert_eq!(&f21[8..10], &[0x00, 0x21]);
    assert_eq!(f21[10] & 0x01, 0x01, "current");
    assert_eq!(f21[15], 1, "one link size");
    assert_eq!(f21[16], 16, "of one ECC block");
    let t = track_info(&mut d, 1);
    assert_eq!(t[7] & 0x01, 0x01, "NWA valid");
    assert_eq!(be32_at(&t, 12), 0, "NWA");
    assert_eq!(be32_at(&t, 16), medium::DVD_MINUS_R_BLOCKS, "free blocks");
    let pfi = ok(&mut d, &[0xad, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x04, 0, 0]);
    assert_eq!(pfi[4], 0x25, "DVD-R book type");
    // Write-once: no FORMAT UNIT, no BLANK.
    assert_eq!(
        format_unit(&mut d, 0x15, 16).0,
        Outcome::Check(Sense::CANNOT_WRITE_INCOMPATIBLE_FORMAT)
    );
    assert_eq!(
        sense(&mut d, &[0xa1, 0x11, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
        (5, 0x30, 5)
    );
}

#[test]
fn dvd_minus_r_borders_stay_open_until_page05_closes_the_disc() {
    let mut d = blank_of(MediumKind::DvdMinusR);
    // growisofs -Z: incremental, next session allowed; CLOSE TRACK + CLOSE SESSION.
    set_page05(&mut d, 0, 0b11);
    write_ok(&mut d, 0, 64);
    assert_eq!(close(&mut d, 1, 1), Outcome::Good);
    assert_eq!(close(&mut d, 2, 0), Outcome::Good);
    assert_eq!(disc_status(&mut d), 1, "appendable after the first border");
    let t2 = track_info(&mut d, 2);
    assert_eq!(t2[3], 2, "track 2 opens session 2");
    let nwa = be32_at(&t2, 12);
    assert_eq!(nwa, 64);
    // growisofs -M -dvd-compat: the last border closes the disc (no next session in page 05).
    set_page05(&mut d, 0, 0b00);
    write_ok(&mut d, nwa, 32);
    assert_eq!(close(&mut d, 1, 2), Outcome::Good);
    assert_eq!(close(&mut d, 2, 0), Outcome::Good);
    assert_eq!(disc_status(&mut d), 2, "complete");
    assert_eq!(d.current_profile(), 0x11, "a closed DVD-R stays a DVD-R");
    let _ = run(&mut d, &TUR);
    assert_eq!(
        ok(&mut d, &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0])[..4],
        95u32.to_be_bytes()
    );
    assert_eq!(
        sense(&mut d, &write10(96, 16)),
        (5, 0x30, 5),
        "closed: no more writes"
    );
    let codes = feature_codes(&ok(&mut d, &[0x46, 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0]));
    assert!(!codes.contains(&0x0021), "nothing left to stream to");
}

#[test]
fn dvd_minus_r_disc_at_once_needs_a_reservation_and_closes_on_sync() {
    let mut d = blank_of(MediumKind::DvdMinusR);
    set_page05(&mut d, 2, 0b00);
    assert_eq!(
        sense(&mut d, &write10(0, 16)),
        (5, 0x2c, 0),
        "DAO without RESERVE TRACK"
    );
    // growisofs reserves the exact size of the image.
    ok(&mut d, &[0x53, 0, 0, 0, 0, 0, 0, 0, 100, 0]);
    assert_eq!(
        be32_at(&track_info(&mut d, 1), 24),
        100,
        "exactly as reserved"
    );
    write_ok(&mut d, 0, 96);
    ok(&mut d, &SYNC_CACHE);
    assert_eq!(disc_status(&mut d), 1, "not yet written to its end");
    assert_eq!(
        sense(&mut d, &write10(96, 16)),
        (5, 0x21, 0),
        "past the reservation"
    );
    write_ok(&mut d, 96, 4);
    let (o, _) = run(&mut d, &SYNC_CACHE);
    assert_eq!(o, Outcome::Good);
    assert_eq!(disc_status(&mut d), 2, "the drive closed the disc");
    assert_eq!(d.current_profile(), 0x11);
    assert_eq!(d.medium().unwrap().tracks().len(), 1, "one track");
    // A CLOSE after that (libburn, wodim's fixate) changes nothing.
    assert_eq!(close(&mut d, 2, 0), Outcome::Good);
    let _ = run(&mut d, &TUR);
    assert_eq!(
        ok(&mut d, &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0])[..4],
        99u32.to_be_bytes()
    );
}

#[test]
fn a_blank_dvd_rw_burns_sequentially_and_formats_for_overwrite() {
    let mut d = blank_of(MediumKind::DvdRw);
    assert_eq!(profile_of(&mut d), 0x14);
    let codes = feature_codes(&ok(&mut d, &[0x46, 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0]));
    assert!(codes.contains(&0x0021) && codes.contains(&0x002f) && codes.contains(&0x0023));
    assert!(!codes.contains(&0x002c), "not restricted overwrite yet");
    // growisofs -Z on the blank: incremental from block 0.
    set_page05(&mut d, 0, 0b11);
    write_ok(&mut d, 0, 32);
    assert_eq!(close(&mut d, 1, 1), Outcome::Good);
    assert_eq!(close(&mut d, 2, 0), Outcome::Good);
    assert_eq!(disc_status(&mut d), 1);
    assert_eq!(
        ok(&mut d, &[0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0])[2] & 0x10,
        0x10,
        "erasable"
    );
    // dvd+rw-format -force: restricted overwrite, the recording gone.
    assert_eq!(format_unit(&mut d, 0x15, 16), (Outcome::Good, true));
    assert_eq!(profile_of(&mut d), 0x13);
    let codes = feature_codes(&ok(&mut d, &[0x46, 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0]));
    assert!(codes.contains(&0x002c) && !codes.contains(&0x0021));
}

#[test]
fn a_blank_dvd_rw_state_recorded_without_tracks_loads_as_a_sequential_blank() {
    let m = Medium::from_parts(MediumKind::DvdRw, 1000, Vec::new(), false, 0).unwrap();
    assert_eq!(m, Medium::blank(MediumKind::DvdRw, 1000));
    assert_eq!(m.profile(), 0x14);
}

#[test]
fn dvd_minus_r_dual_layer_and_layer_jump() {
    let mut d = blank_of(MediumKind::DvdMinusRDualLayer);
    assert_eq!(profile_of(&mut d), 0x15);
    let pfi = ok(&mut d, &[0xad, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x04, 0, 0]);
    assert_eq!(pfi[4], 0x26, "DVD-R DL book type");
    assert_eq!(pfi[6] & 0x60, 0x20, "two layers");
    assert_eq!(pfi[6] & 0x10, 0x10, "opposite track paths");
    // growisofs takes layer 0's size from the pre-recorded format (10h): its last sector.
    let pre = ok(&mut d, &[0xad, 0, 0, 0, 0, 0, 0, 0x10, 0x08, 0x04, 0, 0]);
    let capacity = MediumKind::DvdMinusRDualLayer.default_capacity();
    let l0 = capacity.div_ceil(2).next_multiple_of(16);
    assert_eq!(be32_at(&pre, 4 + 12), 0x30000 + l0 - 1, "end of layer 0");
    assert_eq!(be32_at(&pre, 4 + 4), 0x30000, "start of the data zone");
    // Layer 1 runs from the complement of layer 0's end, to the end of the disc.
    let l1_start = !(0x30000 + l0 - 1) & 0xff_ffff;
    assert_eq!(be32_at(&pre, 4 + 8), l1_start + (capacity - l0) - 1);
    // A single-layer DVD-R has its pre-recorded format too (and lists it); a DVD+R has none.
    let mut r = blank_of(MediumKind::DvdMinusR);
    let pre = ok(&mut r, &[0xad, 0, 0, 0, 0, 0, 0, 0x10, 0x08, 0x04, 0, 0]);
    assert_eq!(pre[4], 0x25, "DVD-R book type");
    assert_eq!(be32_at(&pre, 4 + 12), 0, "one layer");
    let list = ok(&mut r, &[0xad, 0, 0, 0, 0, 0, 0, 0xff, 0x01, 0x00, 0, 0]);
    assert!(list[4..].chunks(4).any(|f| f[0] == 0x10), "10h listed");
    let mut plus = blank_of(MediumKind::DvdPlusR);
    assert_eq!(
        sense(&mut plus, &[0xad, 0, 0, 0, 0, 0, 0, 0x10, 0x08, 0x04, 0, 0]),
        (5, 0x24, 0)
    );
    let mut rw = blank_of(MediumKind::DvdRw);
    let pfi = ok(&mut rw, &[0xad, 0, 0, 0, 0, 0, 0, 0, 0x08, 0x04, 0, 0]);
    assert_eq!(pfi[4] >> 4, 0x3, "DVD-RW book type");
    // Layer jump recording (write type 4) is refused.
    let mut page = ok(&mut d, &[0x5a, 0x08, 0x05, 0, 0, 0, 0, 0, 0xff, 0]);
    page[0] = 0;
    page[1] = 0;
    page[8 + 2] = (page[8 + 2] & 0xf0) | 4;
    let mut out = Vec::new();
    assert_eq!(
        d.execute(
            &[0x55, 0x10, 0, 0, 0, 0, 0, 0, page.len() as u8, 0],
            &page,
            &mut out
        ),
        Outcome::Check(Sense::INVALID_FIELD_IN_PARAMETER_LIST)
    );
    set_page05(&mut d, 0, 0b00);
    write_ok(&mut d, 0, 64);
    assert_eq!(close(&mut d, 1, 1), Outcome::Good);
    assert_eq!(close(&mut d, 2, 0), Outcome::Good);
    assert_eq!(disc_status(&mut d), 2);
}

#[test]
fn bd_rom_reports_itself_as_a_blu_ray_disc() {
    let blocks = 4_200_000;
    let mut d = drive(Some(Medium::pressed(MediumKind::BdRom, blocks)));
    let cfg = ok(&mut d, &[0x46, 0, 0, 0, 0, 0, 0, 0x10, 0, 0]);
    assert_eq!(u16::from_be_bytes([cfg[6], cfg[7]]), profile::BD_ROM);
    // The profile list names BD-ROM, current.
    assert_eq!(&cfg[20..24], &[0x00, 0x40, 0x01, 0x00]);
    let current = ok(&mut d, &[0x46, 1, 0, 0, 0, 0, 0, 0x10, 0, 0]);
    let codes = feature_codes(&current);
    assert!(codes.contains(&features::BD_READ), "{codes:04x?}");
    assert!(codes.contains(&features::RANDOM_READABLE), "{codes:04x?}");
    assert!(!codes.contains(&features::DVD_READ), "{codes:04x?}");
    // Random Readable: blocking of one BD cluster (32 blocks).
    let rr = ok(&mut d, &[0x46, 2, 0, 0x10, 0, 0, 0, 0, 0x20, 0]);
    assert_eq!(u16::from_be_bytes([rr[16], rr[17]]), 32);
    // BD Read: additional length 28, BD-ROM class 0 readable.
    let bd = ok(&mut d, &[0x46, 2, 0, 0x40, 0, 0, 0, 0, 0x40, 0]);
    assert_eq!(bd[8 + 3], 28);
    assert_eq!(
        u16::from_be_bytes([bd[8 + 24], bd[8 + 25]]),
        0xffff,
        "BD-ROM class 0"
    );
    assert_eq!(bd.len(), 8 + 4 + 28);
    // Reads like any pressed disc, and not past its end.
    assert_eq!(
        be32_at(&ok(&mut d, &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 0),
        blocks - 1
    );
    assert_eq!(
        sense(&mut d, &[0x28, 0, 0, 0x40, 0x16, 0x40, 0, 0, 1, 0]),
        (5, 0x21, 0)
    );
    assert_eq!(
        sense(&mut d, &write10(0, 1)).0,
        5,
        "a pressed disc is not written"
    );
}

#[test]
fn read_disc_structure_of_a_bd_and_of_a_dvd() {
    let mut d = drive(Some(Medium::pressed(MediumKind::BdRom, 1000)));
    // BD (media type 1), disc information: "DI", disc type "BDO", the last user block.
    let di = ok(&mut d, &[0xad, 1, 0, 0, 0, 0, 0, 0x00, 0, 0x80, 0, 0]);
    assert_eq!(u16::from_be_bytes([di[0], di[1]]) as usize + 2, di.len());
    assert_eq!(&di[4..6], b"DI");
    assert_eq!(&di[12..15], b"BDO");
    assert_eq!(be32_at(&di, 20), 999);
    let list = ok(&mut d, &[0xad, 1, 0, 0, 0, 0, 0, 0xff, 0, 0xff, 0, 0]);
    assert_eq!((list[4], list[8]), (0x00, 0xff));
    assert_eq!(
        sense(&mut d, &[0xad, 1, 0, 0, 0, 0, 0, 0x30, 0, 0xff, 0, 0]),
        (5, 0x24, 0),
        "a format a BD-ROM does not have"
    );
    // A DVD structure of a BD, and a BD structure of a DVD, are incompatible formats.
    assert_eq!(
        sense(&mut d, &[0xad, 0, 0, 0, 0, 0, 0, 0x00, 0x08, 0x04, 0, 0]),
        (5, 0x30, 0x02)
    );
    let mut dvd = rom();
    assert_eq!(
        sense(&mut dvd, &[0xad, 1, 0, 0, 0, 0, 0, 0x00, 0, 0x80, 0, 0]),
        (5, 0x30, 0x02)
    );
    assert_eq!(
        sense(&mut dvd, &[0xad, 2, 0, 0, 0, 0, 0, 0x00, 0, 0x80, 0, 0]),
        (5, 0x24, 0),
        "media type 2 does not exist"
    );
}

#[test]
fn cd_rom_reports_itself_as_a_pressed_cd() {
    let mut d = drive(Some(Medium::pressed(MediumKind::CdRom, 300)));
    let cfg = ok(&mut d, &[0x46, 1, 0, 0, 0, 0, 0, 0x10, 0, 0]);
    assert_eq!(u16::from_be_bytes([cfg[6], cfg[7]]), profile::CD_ROM);
    let codes = feature_codes(&cfg);
    for f in [
        features::CD_READ,
        features::MULTI_READ,
        features::RANDOM_READABLE,
    ] {
        assert!(codes.contains(&f), "{f:04x} current: {codes:04x?}");
    }
    for f in [
        features::DVD_READ,
        features::BD_READ,
        features::RESTRICTED_OVERWRITE,
    ] {
        assert!(!codes.contains(&f), "{f:04x} not current: {codes:04x?}");
    }
    let rr = ok(&mut d, &[0x46, 2, 0, 0x10, 0, 0, 0, 0, 0x20, 0]);
    assert_eq!(
        u16::from_be_bytes([rr[16], rr[17]]),
        1,
        "a CD reads block by block"
    );
    // A pressed CD has no ATIP and no DVD structures; its TOC ends at its last block.
    assert_eq!(
        sense(&mut d, &[0x43, 0x02, 4, 0, 0, 0, 0, 0, 0x20, 0]),
        (5, 0x24, 0)
    );
    assert_eq!(
        sense(&mut d, &[0xad, 0, 0, 0, 0, 0, 0, 0x00, 0x08, 0x04, 0, 0]),
        (5, 0x30, 0x02)
    );
    let toc = ok(&mut d, &[0x43, 0, 0, 0, 0, 0, 0, 0, 0x20, 0]);
    assert_eq!(be32_at(&toc, 16), 300, "lead-out");
    assert_eq!(
        be32_at(&ok(&mut d, &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 0),
        299
    );
}

/// FORMAT UNIT with one descriptor asking for `blocks` (a BD's spare formats are chosen by it).
fn format_blocks(d: &mut SimDrive, blocks: u32, format_byte: u8, param: u32) -> Outcome {
    let mut list = vec![0, 0x02, 0, 8];
    list.extend_from_slice(&blocks.to_be_bytes());
    list.push(format_byte);
    list.extend_from_slice(&param.to_be_bytes()[1..]);
    let mut out = Vec::new();
    d.execute(&[0x04, 0x11, 0, 0, 0, 0], &list, &mut out)
}

#[test]
fn blank_bd_r_takes_spare_areas_then_records_like_a_dvd_plus_r() {
    let capacity = 65_536;
    let mut d = drive(Some(Medium::blank(MediumKind::BdR, capacity)));
    assert_eq!(profile_of(&mut d), 0x41);
    let codes = feature_codes(&ok(&mut d, &[0x46, 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0]));
    for f in [0x0023, 0x0040, 0x0041] {
        assert!(codes.contains(&f), "feature {f:#06x} current: {codes:04x?}");
    }
    assert!(!codes.contains(&0x0038), "no pseudo-overwrite");
    let caps = format_capacities(&mut d);
    assert_eq!(caps[0], (capacity, 0x01, 2048), "unformatted");
    assert_eq!(caps.len(), 4, "{caps:?}");
    assert!(caps[1..]
        .iter()
        .all(|&(b, f, p)| f == 0x32 << 2 && p == 0 && b < capacity));
    // growisofs: the largest 32h descriptor, subtype 0 (SRM+POW), recorded as SRM.
    let largest = caps[1..].iter().map(|c| c.0).max().unwrap();
    assert_eq!(
        format_blocks(&mut d, largest + 32, 0x32 << 2, 0),
        Outcome::Check(Sense::INVALID_FIELD_IN_PARAMETER_LIST),
        "a size no descriptor offers"
    );
    assert_eq!(format_blocks(&mut d, largest, 0x32 << 2, 0), Outcome::Good);
    assert!(d.take_persist_request());
    assert!(!d.take_erase_request(), "nothing to erase on a blank disc");
    assert_eq!(format_capacities(&mut d), vec![(largest, 0x02, 2048)]);
    assert_eq!(
        format_blocks(&mut d, largest, 0x32 << 2, 0),
        Outcome::Check(Sense::CANNOT_WRITE_INCOMPATIBLE_FORMAT),
        "formatted once"
    );
    // Still blank: READ DISC INFORMATION says so, the invisible track holds the rest.
    let di = ok(&mut d, &[0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0]);
    assert_eq!(di[2] & 0x13, 0x00, "blank, not erasable");
    let ti = track_info(&mut d, 1);
    assert_eq!(be32_at(&ti, 24), largest, "track size");
    assert_eq!(be32_at(&ti, 12), 0, "NWA");
    assert_eq!(u16::from_be_bytes([ti[20], ti[21]]), 0, "fixed packet size");
    let codes = feature_codes(&ok(&mut d, &[0x46, 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0]));
    assert!(
        codes.contains(&0x0038),
        "subtype 0 is SRM+POW: {codes:04x?}"
    );
    write_ok(&mut d, 0, 100);
    assert_eq!(sense(&mut d, &write10(200, 1)), (5, 0x21, 2), "off the NWA");
    write_ok(&mut d, 16, 16); // pseudo-overwrite of recorded blocks
    assert_eq!(close(&mut d, 1, 1), Outcome::Good);
    assert_eq!(close(&mut d, 2, 0), Outcome::Good);
    let ti = track_info(&mut d, 2);
    assert_eq!(ti[2..4], [2, 2], "track 2, session 2");
    assert_eq!(be32_at(&ti, 8), 128, "starts on the next cluster");
    assert_eq!(profile_of(&mut d), 0x41);
    assert_eq!(close(&mut d, 6, 0), Outcome::Good);
    assert_eq!(profile_of(&mut d), 0x41, "a finalized BD-R stays a BD-R");
    let codes = feature_codes(&ok(&mut d, &[0x46, 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0]));
    assert!(!codes.contains(&0x0041), "complete: not writable");
}

#[test]
fn unformatted_bd_r_records_without_spare_areas() {
    let mut d = drive(Some(Medium::blank(MediumKind::BdR, 65_536)));
    let codes = feature_codes(&ok(&mut d, &[0x46, 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0]));
    assert!(!codes.contains(&0x0038), "no POW before formatting");
    write_ok(&mut d, 0, 32);
    assert_eq!(
        sense(&mut d, &write10(0, 1)),
        (5, 0x21, 2),
        "no overwrite without POW"
    );
    let caps = format_capacities(&mut d);
    assert_eq!(
        caps,
        vec![(65_536, 0x01, 2048)],
        "no format offered once recorded"
    );
    assert_eq!(
        format_blocks(&mut d, caps[0].0, 0x32 << 2, 0),
        Outcome::Check(Sense::CANNOT_WRITE_INCOMPATIBLE_FORMAT)
    );
}

#[test]
fn bd_re_is_formatted_with_or_without_spare_then_written_anywhere() {
    let capacity = 65_536;
    let mut d = drive(Some(Medium::blank(MediumKind::BdRe, capacity)));
    assert_eq!(profile_of(&mut d), 0x43);
    assert_eq!(sense(&mut d, &write10(0, 1)), (5, 0x21, 2), "not formatted");
    let caps = format_capacities(&mut d);
    assert_eq!(caps[0], (capacity, 0x01, 2048));
    let formats: Vec<u8> = caps[1..].iter().map(|c| c.1 >> 2).collect();
    assert_eq!(formats, [0x00, 0x30, 0x30, 0x30, 0x31]);
    assert_eq!(
        caps[5],
        (capacity, 0x31 << 2, 2048),
        "no spare: the whole disc"
    );
    assert_eq!(caps[1].0, caps[2].0, "full format has the default spare");
    let codes = feature_codes(&ok(&mut d, &[0x46, 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0]));
    assert!(
        codes.contains(&0x0023) && !codes.contains(&0x0020),
        "{codes:04x?}"
    );
    // growisofs: the largest 30h descriptor.
    let largest = caps[2..5].iter().map(|c| c.0).max().unwrap();
    assert_eq!(
        format_blocks(&mut d, largest, 0x30 << 2, 0x1000),
        Outcome::Good
    );
    assert!(d.take_erase_request(), "formatting erases the disc");
    assert_eq!(format_capacities(&mut d)[0], (largest, 0x02, 2048));
    assert_eq!(
        ok(&mut d, &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0])[..4],
        (largest - 1).to_be_bytes()
    );
    let codes = feature_codes(&ok(&mut d, &[0x46, 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0]));
    for f in [0x0020, 0x0024, 0x0040, 0x0041] {
        assert!(codes.contains(&f), "feature {f:#06x} current: {codes:04x?}");
    }
    write_ok(&mut d, 12_345, 1);
    write_ok(&mut d, 7, 3);
    assert_eq!(sense(&mut d, &write10(largest - 1, 2)), (5, 0x21, 0));
    // Re-formatted without spare areas: the whole disc.
    assert_eq!(format_blocks(&mut d, 0, 0x31 << 2, 2048), Outcome::Good);
    assert_eq!(format_capacities(&mut d)[0], (capacity, 0x02, 2048));
    let bd = ok(&mut d, &[0xad, 1, 0, 0, 0, 0, 0, 0, 0, 0x44, 0, 0]);
    assert_eq!(&bd[4..6], b"DI");
    assert_eq!(&bd[12..15], b"BDW");
    assert_eq!(bd[4 + 16..4 + 20], (capacity - 1).to_be_bytes());
}
