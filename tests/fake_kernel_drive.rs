//! The real dispatch path (ring → drive model → image → ring) against the fake kernel, with a
//! real image file: what an initiator would see, without root or a VM.
mod common;

use common::*;
use tcmu_mmc::device::Device;
use tcmu_mmc::media::{self, MediaConfig};
use tcmu_mmc::ring::fake::{FakeKernel, Geometry, QueueOptions};
use tcmu_mmc::ring::Ring;
use tcmu_mmc::scsi::spc::Identity;

#[test]
fn dvd_rom_reads_back_byte_for_byte() {
    let (img, data) = image("rom", 300 * 2048);
    let mut rig = Rig::new(&format!("mmc/{}", img.0.display()));
    let c = rig.one(&[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0], 8);
    assert_eq!(c.data, [0, 0, 1, 43, 0, 0, 8, 0]);
    // Whole disc in 64 KiB reads, each over several iovecs.
    let mut got = Vec::new();
    for lba in (0..300).step_by(32) {
        let n = 32.min(300 - lba) as u16;
        let opts = QueueOptions {
            data_in_len: n as usize * 2048,
            max_iov_len: Some(8192),
            ..Default::default()
        };
        rig.kernel.queue_with(&read10(lba, n), &opts).unwrap();
        let c = rig.serve();
        assert_eq!(c[0].status, 0);
        assert_eq!(c[0].read_len, None);
        got.extend_from_slice(&c[0].data);
    }
    assert_eq!(got, data);
    // Past the end.
    assert_eq!(sense_triple(&rig.one(&read10(299, 2), 4096)), (5, 0x21, 0));
}

#[test]
fn partial_last_block_reads_zero_padded() {
    let (img, data) = image("odd", 2048 + 100);
    let mut rig = Rig::new(&format!("mmc//{}", img.0.display()));
    let c = rig.one(&read10(0, 2), 4096);
    assert_eq!(c.status, 0);
    assert_eq!(&c.data[..2148], &data[..]);
    assert!(c.data[2148..].iter().all(|&b| b == 0));
}

#[test]
fn many_commands_in_one_batch_with_one_kick() {
    let (img, data) = image("batch", 64 * 2048);
    let mut rig = Rig::new(&format!("mmc/{}", img.0.display()));
    for lba in 0..64 {
        rig.kernel.queue_read(&read10(lba, 1), 2048).unwrap();
    }
    rig.kernel.queue(&[0; 6]).unwrap();
    let c = rig.serve();
    assert_eq!(c.len(), 65);
    for (lba, comp) in c.iter().take(64).enumerate() {
        assert_eq!(comp.data, data[lba * 2048..(lba + 1) * 2048]);
    }
    assert_eq!(c[64].status, 0);
}

#[test]
fn short_answers_report_a_residual() {
    let (img, _) = image("res", 10 * 2048);
    let mut rig = Rig::new(&format!("mmc/{}", img.0.display()));
    // GET CONFIGURATION RT=2 for one feature into a 64-byte buffer: fewer bytes than asked.
    let c = rig.one(&[0x46, 2, 0, 0x1f, 0, 0, 0, 0, 64, 0], 64);
    assert_eq!(c.read_len, Some(16));
    assert_eq!(c.data.len(), 16);
    // INQUIRY: exactly the allocation length, no residual.
    let c = rig.one(&[0x12, 0, 0, 0, 36, 0], 36);
    assert_eq!(c.read_len, None);
    assert_eq!(&c.data[8..16], b"TCMU-MMC");
}

#[test]
fn errors_carry_sense_and_the_drive_keeps_serving() {
    let (img, data) = image("err", 16 * 2048);
    let mut rig = Rig::new(&format!("mmc/{}", img.0.display()));
    assert_eq!(
        sense_triple(&rig.one(&[0xd8, 0, 0, 0, 0, 0, 0, 0, 0x10, 0], 16)),
        (5, 0x20, 0)
    );
    assert_eq!(
        sense_triple(&rig.one(
            &[0x85, 8, 0x2e, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xa1, 0, 0],
            512
        )),
        (5, 0x20, 0)
    );
    assert_eq!(
        sense_triple(&rig.one(&[0x1a, 0, 0x1d, 0, 0xff, 0], 255)),
        (5, 0x24, 0)
    );
    let c = rig.one(&read10(3, 1), 2048);
    assert_eq!(c.data, data[3 * 2048..4 * 2048]);
}

#[test]
fn malformed_entry_fails_without_touching_memory() {
    let (img, _) = image("bad", 4 * 2048);
    let mut rig = Rig::new(&format!("mmc/{}", img.0.display()));
    let q = rig.kernel.queue_read(&read10(0, 1), 2048).unwrap();
    rig.kernel.write_u64(q.entry_offset + 48, 1 << 40);
    let c = rig.serve();
    assert_eq!(c.len(), 1);
    assert_eq!(sense_triple(&c[0]), (4, 0x44, 0));
    // The next command is fine.
    assert_eq!(rig.one(&[0; 6], 0).status, 0);
}

#[test]
fn empty_tray_and_missing_or_empty_file() {
    for cfg in ["mmc/".to_string(), "mmc//nonexistent/disc.iso".to_string()] {
        let mut rig = Rig::new(&cfg);
        assert_eq!(sense_triple(&rig.one(&[0; 6], 0)), (2, 0x3a, 1));
        assert_eq!(sense_triple(&rig.one(&read10(0, 1), 2048)), (2, 0x3a, 1));
    }
}

const SYNC: [u8; 10] = [0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0];
const CLOSE_TRACK_1: [u8; 10] = [0x5b, 0, 1, 0, 0, 1, 0, 0, 0, 0];
const CLOSE_SESSION: [u8; 10] = [0x5b, 0, 2, 0, 0, 0, 0, 0, 0, 0];

#[test]
fn blank_dvd_plus_r_burns_closes_and_survives_a_restart() {
    let (img, state_guard) = blank_image("burn");
    let state = state_guard.0.clone();
    let cfg = format!("mmc/{};capacity=1000", img.0.display());
    let payload: Vec<u8> = (0..64 * 2048).map(|i| (i % 253) as u8).collect();

    let mut rig = Rig::new(&cfg);
    assert_eq!(rig.one(&[0; 6], 0).status, 0, "a blank disc is ready");
    assert_eq!(burn(&mut rig, 0, &payload[..32 * 2048]).status, 0);
    assert_eq!(
        sense_triple(&burn(&mut rig, 0, &payload[..2048])),
        (5, 0x21, 2)
    );
    assert_eq!(burn(&mut rig, 32, &payload[32 * 2048..]).status, 0);
    // Readable at once, before any close.
    assert_eq!(rig.one(&read10(0, 64), 64 * 2048).data, payload);
    // The first write recorded the blank state, so a crash now leaves a blank disc (not a
    // DVD-ROM made of unacknowledged data).
    let blank = std::fs::read_to_string(&state).unwrap();
    assert!(blank.contains("\"recorded\": 0"), "{blank}");
    assert_eq!(rig.one(&SYNC, 0).status, 0);
    assert!(std::fs::read_to_string(&state)
        .unwrap()
        .contains("\"recorded\": 64"));
    // Unacknowledged writes after the sync are lost on restart; acknowledged ones are not.
    assert_eq!(burn(&mut rig, 64, &payload[..16 * 2048]).status, 0);
    drop(rig);
    let mut rig = Rig::new(&cfg);
    assert_eq!(
        std::fs::metadata(&img.0).unwrap().len(),
        64 * 2048,
        "unacknowledged tail dropped"
    );
    let ti = rig.one(&[0x52, 1, 0, 0, 0, 1, 0, 0, 48, 0], 48);
    assert_eq!(
        &ti.data[12..16],
        &64u32.to_be_bytes(),
        "NWA after the acknowledged data"
    );
    assert_eq!(rig.one(&CLOSE_TRACK_1, 0).status, 0);
    assert_eq!(rig.one(&CLOSE_SESSION, 0).status, 0);
    drop(rig);
    let mut rig = Rig::new(&cfg);
    // The session is closed: the TOC shows track 1, the image is the data byte for byte.
    let toc = rig.one(&[0x43, 0, 0, 0, 0, 0, 1, 0, 20, 0], 20);
    assert_eq!(&toc.data[2..4], &[1, 1]);
    assert_eq!(std::fs::read(&img.0).unwrap(), payload);
    // Finalize: a DVD-ROM from now on, also after a restart.
    assert_eq!(rig.one(&[0x5b, 0, 6, 0, 0, 0, 0, 0, 0, 0], 0).status, 0);
    drop(rig);
    let mut rig = Rig::new(&cfg);
    let cfg_reply = rig.one(&[0x46, 0, 0, 0, 0, 0, 0, 0, 8, 0], 8);
    assert_eq!(&cfg_reply.data[6..8], &[0x00, 0x10]);
    assert_eq!(
        sense_triple(&burn(&mut rig, 64, &payload[..2048])),
        (5, 0x30, 5)
    );
    assert_eq!(rig.one(&read10(0, 64), 64 * 2048).data, payload);
}

#[test]
fn a_broken_state_file_leaves_the_tray_empty() {
    let (img, state_guard) = blank_image("badstate");
    let state = state_guard.0.clone();
    std::fs::write(&state, "{ not json").unwrap();
    let mut rig = Rig::new(&format!("mmc/{}", img.0.display()));
    assert_eq!(sense_triple(&rig.one(&[0; 6], 0)), (2, 0x3a, 1));
}

#[test]
fn an_image_truncated_under_the_drive_reads_as_a_medium_error() {
    let (img, data) = image("shrunk", 2048 * 64);
    let mut rig = Rig::new(&format!("mmc/{}", img.0.display()));
    let c = rig.one(&read10(0, 4), 4 * 2048);
    assert_eq!((c.status, &c.data[..]), (0, &data[..4 * 2048]));
    // Someone cuts the image to 8 blocks while the drive still believes in 64.
    std::fs::OpenOptions::new()
        .write(true)
        .open(&img.0)
        .unwrap()
        .set_len(8 * 2048)
        .unwrap();
    let c = rig.one(&read10(16, 4), 4 * 2048);
    assert_eq!(sense_triple(&c), (3, 0x11, 0x00));
    // What is still there reads, and the drive keeps serving.
    let c = rig.one(&read10(4, 4), 4 * 2048);
    assert_eq!((c.status, &c.data[..]), (0, &data[4 * 2048..8 * 2048]));
}

#[test]
fn a_recordable_disc_on_a_read_only_filesystem_is_write_protected() {
    // Tests may run as root, which file modes do not stop: set the flag media::load sets when
    // opening for writing fails with EACCES/EROFS (the e2e suite uses a read-only mount).
    let dir = std::env::temp_dir().join(format!("tcmu-mmc-wp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("blank.iso");
    media::create_blank(&path, tcmu_mmc::mmc::MediumKind::DvdPlusR, Some(1000)).unwrap();
    let mut loaded = media::load(&MediaConfig::parse(&format!("mmc/{}", path.display())).unwrap());
    if let media::Loaded::Disc(d) = &mut loaded {
        d.set_write_protected(true);
    }
    let kernel = FakeKernel::new(Geometry::default());
    let ring = Ring::new(kernel.memory()).unwrap();
    let id = Identity::new("TCMU-MMC", "Virtual DVD-RW", "0001", "MMCTEST");
    let mut rig = Rig {
        kernel,
        ring,
        device: Device::new(id, loaded),
    };
    let c = burn(&mut rig, 0, &[0x55; 2048 * 16]);
    assert_eq!(sense_triple(&c), (7, 0x27, 0x00));
    assert_eq!(std::fs::metadata(&path).unwrap().len(), 0);
    // Reading the disc's information still works.
    let c = rig.one(&[0x51, 0, 0, 0, 0, 0, 0, 0, 34, 0], 34);
    assert_eq!(c.status, 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_write_with_less_data_than_its_cdb_is_an_illegal_request() {
    let (img, state_guard) = blank_image("short-write");
    let state = state_guard.0.clone();
    let cfg = format!("mmc/{};capacity=1000", img.0.display());
    let mut rig = Rig::new(&cfg);
    // WRITE(10) of 16 blocks that carries 3 blocks of data (a storm found this answered with
    // a medium error): 05/0E/03, nothing recorded, and the disc still takes a proper write.
    rig.kernel
        .queue_write(&write10(0, 16), &[7u8; 3 * 2048])
        .unwrap();
    let c = rig.serve().pop().unwrap();
    assert_eq!(sense_triple(&c), (5, 0x0e, 3));
    assert_eq!(
        std::fs::metadata(&img.0).unwrap().len(),
        0,
        "nothing written"
    );
    assert!(!state.exists(), "no state recorded for a refused write");
    assert_eq!(burn(&mut rig, 0, &[9u8; 4 * 2048]).status, 0);
    assert_eq!(rig.one(&read10(0, 4), 4 * 2048).data, vec![9u8; 4 * 2048]);
}

#[test]
fn inquiry_asks_the_identity_source_first_and_only_inquiry_does() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    let (img, _) = image("names", 16 * 2048);
    let mut rig = Rig::new(&format!("mmc/{}", img.0.display()));
    let asked = Arc::new(AtomicUsize::new(0));
    let counter = asked.clone();
    rig.device.set_identity_source(Box::new(move || {
        // The names change between the first and the second INQUIRY (as after rtslib set
        // vpd_unit_serial on a drive the daemon had already attached).
        match counter.fetch_add(1, Ordering::SeqCst) {
            0 => None,
            1 => Some(Identity::new("STGT_DVD", "DVD101", "0010", "XYZ123")),
            _ => None,
        }
    }));
    let std_inquiry = [0x12, 0, 0, 0, 36, 0];
    let c = rig.one(&std_inquiry, 36);
    assert_eq!(&c.data[8..16], b"TCMU-MMC");
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    // Other commands do not ask.
    rig.one(&read10(0, 1), 2048);
    rig.one(&[0, 0, 0, 0, 0, 0], 0);
    assert_eq!(asked.load(Ordering::SeqCst), 1);
    let c = rig.one(&std_inquiry, 36);
    assert_eq!(asked.load(Ordering::SeqCst), 2);
    assert_eq!(&c.data[8..36], b"STGT_DVDDVD101          0010");
    let c = rig.one(&[0x12, 1, 0x80, 0, 0xff, 0], 0xff);
    assert_eq!(&c.data[4..], b"XYZ123");
    // The Drive Serial Number feature (0108h) follows too.
    let c = rig.one(&[0x46, 0x02, 0x01, 0x08, 0, 0, 0, 0, 0xff, 0], 0xff);
    assert_eq!(&c.data[12..18], b"XYZ123");
}
