//! Byte fixtures for the drive model: what each command answers for an empty tray and for a
//! DVD-ROM.
use super::*;
use crate::scsi::Outcome;

const BLOCKS: u32 = 2329;

fn drive(medium: Option<Medium>) -> Drive {
    let mut d = Drive::new(Identity::new("TCMU-MMC", "Virtual DVD-RW", "0001", "MMC000000000001"));
    d.insert_initial(medium);
    d
}

fn rom() -> Drive {
    drive(Some(Medium::dvd_rom(BLOCKS)))
}

fn run(d: &mut Drive, cdb: &[u8]) -> (Outcome, Vec<u8>) {
    let mut out = Vec::new();
    let o = d.execute(cdb, &mut out);
    (o, out)
}

fn ok(d: &mut Drive, cdb: &[u8]) -> Vec<u8> {
    let (o, out) = run(d, cdb);
    assert_eq!(o, Outcome::Good, "cdb {cdb:02x?}");
    out
}

fn sense(d: &mut Drive, cdb: &[u8]) -> (u8, u8, u8) {
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
    assert_eq!(sense(&mut d, &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]), (2, 0x3a, 0x01));
    assert_eq!(sense(&mut d, &[0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0]), (2, 0x3a, 0x01));
    assert_eq!(sense(&mut d, &[0x43, 0, 0, 0, 0, 0, 0, 0, 12, 0]), (2, 0x3a, 0x01));
    assert_eq!(sense(&mut d, &[0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0]), (2, 0x3a, 0x01));
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
    assert_eq!(ok(&mut d, &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]), [0, 0, 0x09, 0x18, 0, 0, 8, 0]);
    let cap16 = ok(&mut d, &[0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 32, 0, 0]);
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
        Outcome::ReadBlocks { lba: BLOCKS as u64 - 1, blocks: 1 }
    );
    assert_eq!(sense(&mut d, &[0x28, 0, 0, 0, 0x09, 0x18, 0, 0, 2, 0]), (5, 0x21, 0));
    assert_eq!(sense(&mut d, &[0x28, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 1, 0]), (5, 0x21, 0));
    assert_eq!(
        run(&mut d, &[0xa8, 0, 0, 0, 0, 16, 0, 0, 0, 4, 0, 0]).0,
        Outcome::ReadBlocks { lba: 16, blocks: 4 }
    );
    assert_eq!(sense(&mut d, &[0xa8, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0, 0]), (5, 0x21, 0));
    assert_eq!(run(&mut d, &[0x28, 0, 0, 0, 0, 0, 0, 0, 0, 0]).0, Outcome::Good);
}

#[test]
fn unknown_and_vendor_opcodes_are_invalid() {
    let mut d = rom();
    for op in [0x85u8, 0xd8, 0x59, 0xff, 0x02] {
        assert_eq!(sense(&mut d, &[op, 0, 0, 0, 0, 0, 0, 0, 0, 0]), (5, 0x20, 0), "{op:#x}");
    }
    assert_eq!(sense(&mut d, &[]), (5, 0x20, 0));
}

#[test]
fn get_configuration_header_profiles_and_rt() {
    let mut d = rom();
    let all = ok(&mut d, &[0x46, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0]);
    assert_eq!(u32::from_be_bytes(all[0..4].try_into().unwrap()) as usize, all.len() - 4);
    assert_eq!(&all[6..8], &[0x00, 0x10], "current profile DVD-ROM");
    // Profile list first: code 0, persistent+current, one profile marked current.
    assert_eq!(&all[8..12], &[0, 0, 0x03, 4]);
    assert_eq!(&all[12..16], &[0x00, 0x10, 0x01, 0x00]);
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
    assert!(codes.contains(&(0x0010, true)), "random readable current with a disc");
    assert!(codes.contains(&(0x001f, true)), "DVD read current with a DVD");

    // RT=2 returns only the named feature; allocation length cuts the reply.
    let one = ok(&mut d, &[0x46, 2, 0, 0x1f, 0, 0, 0, 0, 0xff, 0]);
    assert_eq!(one.len(), 8 + 8);
    assert_eq!(&one[8..10], &[0x00, 0x1f]);
    let short = ok(&mut d, &[0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0]);
    assert_eq!(short.len(), 8);
    assert_eq!(&short[6..8], &[0x00, 0x10]);
    // Linux's MRW and random-writable probes: the first descriptor is not the probed feature.
    let mrw = ok(&mut d, &[0x46, 0, 0, 0x28, 0, 0, 0, 0, 16, 0]);
    assert_ne!(&mrw[8..10], &[0x00, 0x28]);
    let rw = ok(&mut d, &[0x46, 0, 0, 0x20, 0, 0, 0, 0, 24, 0]);
    assert_ne!(&rw[8..10], &[0x00, 0x20]);
    assert_eq!(sense(&mut d, &[0x46, 3, 0, 0, 0, 0, 0, 0, 8, 0]), (5, 0x24, 0));
}

#[test]
fn feature_currency_follows_the_medium() {
    let mut d = drive(None);
    let current = ok(&mut d, &[0x46, 1, 0, 0, 0, 0, 0, 0xff, 0xff, 0]);
    let mut at = 8;
    while at < current.len() {
        let code = u16::from_be_bytes([current[at], current[at + 1]]);
        assert!(![0x0010, 0x001f].contains(&code), "{code:#x} current without a disc");
        at += 4 + current[at + 3] as usize;
    }
    // Profile list still lists DVD-ROM, but not as current.
    assert_eq!(&current[12..16], &[0x00, 0x10, 0x00, 0x00]);
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
    assert_eq!(ok(&mut d, &[0x43, 2, 0, 0, 0, 0, 0xaa, 0, 0x0c, 0]).len(), 12);
    assert_eq!(sense(&mut d, &[0x43, 0, 0, 0, 0, 0, 2, 0, 0x0c, 0]), (5, 0x24, 0));
    // Session info, through the format field and through the legacy control-byte bits.
    let want = [0, 10, 1, 1, 0, 0x14, 1, 0, 0, 0, 0, 0];
    assert_eq!(ok(&mut d, &[0x43, 0, 1, 0, 0, 0, 0, 0, 0x0c, 0]), want);
    assert_eq!(ok(&mut d, &[0x43, 0, 0, 0, 0, 0, 0, 0, 0x0c, 0x40]), want);
    // Header only (allocation 4); full TOC has A0, A1, A2 and track 1.
    assert_eq!(ok(&mut d, &[0x43, 0, 0, 0, 0, 0, 0, 0, 4, 0]), [0, 18, 1, 1]);
    let full = ok(&mut d, &[0x43, 2, 2, 0, 0, 0, 0, 0, 0xff, 0]);
    assert_eq!(full.len(), 4 + 4 * 11);
    assert_eq!(&full[4..8], &[1, 0x14, 0, 0xa0]);
    assert_eq!(full[4 + 2 * 11 + 3], 0xa2);
    assert_eq!(&full[4 + 2 * 11 + 8..4 + 3 * 11], &[0, 33, 4]);
    assert_eq!(sense(&mut d, &[0x43, 0, 5, 0, 0, 0, 0, 0, 0xff, 0]), (5, 0x24, 0));
}

#[test]
fn disc_and_track_information_of_a_dvd_rom() {
    let mut d = rom();
    let di = ok(&mut d, &[0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0]);
    assert_eq!(di.len(), 34);
    assert_eq!(&di[..7], &[0, 32, 0x0e, 1, 1, 1, 1]);
    assert_eq!(ok(&mut d, &[0x51, 0, 0, 0, 0, 0, 0, 0, 2, 0]), [0, 32]);
    assert_eq!(sense(&mut d, &[0x51, 1, 0, 0, 0, 0, 0, 0, 34, 0]), (5, 0x24, 0));

    let ti = ok(&mut d, &[0x52, 1, 0, 0, 0, 1, 0, 0, 48, 0]);
    assert_eq!(ti.len(), 48);
    assert_eq!(&ti[2..4], &[1, 1]);
    assert_eq!(&ti[8..12], &[0, 0, 0, 0]);
    assert_eq!(&ti[24..28], &BLOCKS.to_be_bytes());
    assert_eq!(&ti[28..32], &(BLOCKS - 1).to_be_bytes());
    // By LBA, by session; a missing track and an LBA beyond the disc.
    assert_eq!(ok(&mut d, &[0x52, 0, 0, 0, 0x01, 0, 0, 0, 48, 0])[2], 1);
    assert_eq!(ok(&mut d, &[0x52, 2, 0, 0, 0, 1, 0, 0, 48, 0])[2], 1);
    assert_eq!(sense(&mut d, &[0x52, 1, 0, 0, 0, 2, 0, 0, 48, 0]), (5, 0x24, 0));
    assert_eq!(sense(&mut d, &[0x52, 1, 0, 0, 0, 0xff, 0, 0, 48, 0]), (5, 0x24, 0));
    assert_eq!(sense(&mut d, &[0x52, 0, 0, 0, 0x10, 0, 0, 0, 48, 0]), (5, 0x21, 0));
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
    assert_eq!(page[3], 0, "claims no write capability it does not have");
    assert_eq!(page[6] & 0xe9, 0x29, "tray, eject, lock");
    let ms10 = ok(&mut d, &[0x5a, 0, 0x2a, 0, 0, 0, 0, 0, 0xff, 0]);
    assert_eq!(&ms10[8..], page);
    assert_eq!(u16::from_be_bytes([ms10[0], ms10[1]]) as usize, ms10.len() - 2);
    // Pages the drive has not got, and saved values.
    assert_eq!(sense(&mut d, &[0x1a, 0, 0x05, 0, 0x80, 0]), (5, 0x24, 0));
    assert_eq!(sense(&mut d, &[0x1a, 0, 0x01, 0, 0x80, 0]), (5, 0x24, 0));
    assert_eq!(sense(&mut d, &[0x1a, 0, 0xea, 0, 0x80, 0]), (5, 0x39, 0));
    // All pages, and the lock state reflected after PREVENT.
    assert_eq!(ok(&mut d, &[0x1a, 0, 0x3f, 0, 0xff, 0]), ms6);
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
    assert_eq!(sense(&mut d, &[0x4a, 0, 0, 0, 0x10, 0, 0, 0, 8, 0]), (5, 0x24, 0));
    assert_eq!(ok(&mut d, &[0x4a, 1, 0, 0, 0x40, 0, 0, 0, 8, 0]), [0, 2, 0x80, 0x16]);
    assert_eq!(ok(&mut d, &[0x4a, 1, 0, 0, 0x02, 0, 0, 0, 8, 0])[2], 1);

    // Locked: eject refused with 05/53/02.
    ok(&mut d, &[0x1e, 0, 0, 0, 1, 0]);
    assert_eq!(sense(&mut d, &[0x1b, 0, 0, 0, 0x02, 0]), (5, 0x53, 2));
    ok(&mut d, &[0x1e, 0, 0, 0, 0, 0]);
    // Eject: tray open, removal event, no medium.
    ok(&mut d, &[0x1b, 0, 0, 0, 0x02, 0]);
    assert_eq!(ok(&mut d, &gesn), [0, 6, 4, 0x16, 3, 0x01, 0, 0]);
    assert_eq!(sense(&mut d, &TUR), (2, 0x3a, 0x02));
    assert_eq!(ok(&mut d, &[0xbd, 0, 0, 0, 0, 0, 0, 0, 0, 8, 0, 0])[1], 0x10);
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
    assert_eq!(sense(&mut d, &[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]), (6, 0x28, 0));
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
    assert_eq!(ok(&mut d, &[0xad, 0, 0, 0, 0, 0, 0, 0x01, 0, 8, 0, 0]), [0, 6, 0, 0, 0, 0, 0, 0]);
    let list = ok(&mut d, &[0xad, 0, 0, 0, 0, 0, 0, 0xff, 0, 0xff, 0, 0]);
    assert_eq!(list.len(), 16);
    assert_eq!(sense(&mut d, &[0xad, 0, 0, 0, 0, 0, 1, 0x00, 8, 4, 0, 0]), (5, 0x24, 0));
    assert_eq!(sense(&mut d, &[0xad, 0, 0, 0, 0, 0, 0, 0xc0, 8, 4, 0, 0]), (5, 0x24, 0));
    assert_eq!(sense(&mut d, &[0xad, 1, 0, 0, 0, 0, 0, 0x00, 8, 4, 0, 0]), (5, 0x24, 0));
    let mut empty = drive(None);
    assert_eq!(sense(&mut empty, &[0xad, 0, 0, 0, 0, 0, 0, 0, 8, 4, 0, 0]), (2, 0x3a, 1));
}
