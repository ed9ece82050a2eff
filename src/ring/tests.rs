//! Ring tests against the fake kernel: no root, no VM.
use super::fake::{FakeKernel, Geometry, QueueOptions};
use super::*;

fn setup() -> (FakeKernel, Ring<fake::FakeMemory>) {
    let k = FakeKernel::new(Geometry::default());
    let r = Ring::new(k.memory()).expect("ring");
    (k, r)
}

fn fetch_cmd(r: &mut Ring<fake::FakeMemory>, cmd: &mut Command) {
    assert_eq!(r.fetch(cmd), Some(Ok(Fetched::Command)));
}

#[test]
fn rejects_bad_mailbox() {
    let k = FakeKernel::new(Geometry::default());
    k.write_u16(0, 1);
    assert!(matches!(
        Ring::new(k.memory()),
        Err(RingError::BadMailbox(_))
    ));
    k.write_u16(0, 2);
    k.write_u32(8, u32::MAX - 64);
    assert!(matches!(
        Ring::new(k.memory()),
        Err(RingError::BadMailbox(_))
    ));
}

#[test]
fn command_round_trip_with_status_and_sense() {
    let (mut k, mut r) = setup();
    assert!(!r.has_pending());
    let q = k.queue(&[0x00, 0, 0, 0, 0, 0]).unwrap();
    assert!(r.has_pending());
    let mut cmd = Command::default();
    fetch_cmd(&mut r, &mut cmd);
    assert_eq!(cmd.cmd_id, q.cmd_id);
    assert_eq!(cmd.cdb(), &[0, 0, 0, 0, 0, 0]);
    assert_eq!(cmd.data_len(), 0);
    assert_eq!(r.fetch(&mut cmd), None);
    let sense = [0x70, 0, 2, 0, 0, 0, 0, 10, 0, 0, 0, 0, 0x3a, 0];
    r.complete(
        cmd.cmd_id,
        &Response {
            status: 2,
            sense: &sense,
            read_len: None,
            unknown_op: false,
        },
    )
    .unwrap();
    assert!(r.publish());
    assert!(!r.publish(), "nothing new to publish");
    k.kick();
    let c = k.take_completions();
    assert_eq!(c.len(), 1);
    assert_eq!((c[0].cmd_id, c[0].status), (q.cmd_id, 2));
    assert_eq!(c[0].sense[..sense.len()], sense);
    assert!(c[0].sense[sense.len()..].iter().all(|&b| b == 0));
    assert!(k.broken.is_none());
    assert_eq!(k.in_flight(), 0);
}

#[test]
fn cdb_length_follows_opcode_group() {
    let (mut k, mut r) = setup();
    let mut cmd = Command::default();
    for cdb in [
        &[0x12u8, 0, 0, 0, 36, 0][..],
        &[0x28, 0, 0, 0, 0, 1, 0, 0, 1, 0],
        &[0xa8; 12],
    ] {
        k.queue(cdb).unwrap();
        fetch_cmd(&mut r, &mut cmd);
        assert_eq!(cmd.cdb(), cdb);
        r.complete(cmd.cmd_id, &Response::GOOD).unwrap();
    }
}

#[test]
fn wraps_around_through_pad_entries_many_times() {
    let (mut k, mut r) = setup();
    let mut cmd = Command::default();
    let ring_size = k.room_before_wrap();
    let mut seen = 0usize;
    // Enough commands to go round the 64 KiB ring several times.
    for i in 0..(ring_size / 128) * 5 {
        let cdb = [0x28, 0, 0, 0, (i >> 8) as u8, i as u8, 0, 0, 1, 0];
        k.queue_read(&cdb, 2048).unwrap();
        fetch_cmd(&mut r, &mut cmd);
        assert_eq!(cmd.cdb(), &cdb);
        let mut buf = r.buffer(&cmd);
        assert_eq!(buf.len(), 2048);
        buf.write_at(0, &[i as u8; 2048]);
        r.complete(cmd.cmd_id, &Response::GOOD).unwrap();
        assert!(r.publish());
        k.kick();
        let c = k.take_completions();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].data, vec![i as u8; 2048]);
        seen += 1;
    }
    assert!(seen > 0 && k.broken.is_none());
}

#[test]
fn explicit_pad_then_command_at_ring_start() {
    let (mut k, mut r) = setup();
    k.queue(&[0; 6]).unwrap();
    let mut cmd = Command::default();
    fetch_cmd(&mut r, &mut cmd);
    r.complete(cmd.cmd_id, &Response::GOOD).unwrap();
    r.publish();
    k.kick();
    k.pad_to_end().unwrap();
    // Fetching walks past the pad; publishing releases it so the kernel can wrap.
    assert_eq!(r.fetch(&mut cmd), None);
    assert!(r.publish());
    k.kick();
    let q = k.queue(&[0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0]).unwrap();
    assert_eq!(
        q.entry_offset, 128,
        "the entry after a pad starts at the ring start"
    );
    fetch_cmd(&mut r, &mut cmd);
    assert_eq!(cmd.cmd_id, q.cmd_id);
    r.complete(cmd.cmd_id, &Response::GOOD).unwrap();
    r.publish();
    k.kick();
    assert_eq!(k.take_completions().len(), 2);
    assert!(k.broken.is_none());
}

#[test]
fn several_in_flight_completed_out_of_order() {
    let (mut k, mut r) = setup();
    let ids: Vec<u16> = (0..4)
        .map(|_| k.queue_read(&[0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0], 2048))
        .map(|q| q.unwrap().cmd_id)
        .collect();
    let mut cmds: Vec<Command> = (0..4).map(|_| Command::default()).collect();
    for c in cmds.iter_mut() {
        fetch_cmd(&mut r, c);
    }
    assert_eq!(r.outstanding(), 4);
    // Fill each buffer with its id, complete in reverse order.
    for c in cmds.iter().rev() {
        r.buffer(c).write_at(0, &[c.cmd_id as u8; 2048]);
        r.complete(c.cmd_id, &Response::GOOD).unwrap();
    }
    r.publish();
    k.kick();
    let done = k.take_completions();
    assert!(k.broken.is_none(), "{:?}", k.broken);
    let mut got: Vec<u16> = done.iter().map(|c| c.cmd_id).collect();
    got.sort();
    assert_eq!(got, ids);
    for c in &done {
        assert_eq!(c.data, vec![c.cmd_id as u8; 2048]);
    }
}

#[test]
fn completing_more_than_fetched_is_refused() {
    let (_k, mut r) = setup();
    assert!(r.complete(7, &Response::GOOD).is_err());
}

#[test]
fn data_spanning_several_iovecs() {
    let (mut k, mut r) = setup();
    let payload: Vec<u8> = (0..5 * 4096).map(|i| (i * 7 % 251) as u8).collect();
    let opts = QueueOptions {
        data_out: &payload,
        max_iov_len: Some(4096),
        ..Default::default()
    };
    k.queue_with(&[0x2a, 0, 0, 0, 0, 0, 0, 0, 10, 0], &opts)
        .unwrap();
    let mut cmd = Command::default();
    fetch_cmd(&mut r, &mut cmd);
    assert_eq!(cmd.data_segs().len(), 5);
    let buf = r.buffer(&cmd);
    let mut got = vec![0u8; payload.len()];
    assert_eq!(buf.read_at(0, &mut got), payload.len());
    assert_eq!(got, payload);
    // A read straddling segment boundaries.
    let mut mid = vec![0u8; 5000];
    assert_eq!(buf.read_at(4000, &mut mid), 5000);
    assert_eq!(mid, payload[4000..9000]);
    let mut iov = Vec::new();
    buf.io_vectors(4000, 5000, &mut iov);
    assert_eq!(
        iov.iter().map(|v| v.iov_len).collect::<Vec<_>>(),
        [96, 4096, 808]
    );
    r.complete(cmd.cmd_id, &Response::GOOD).unwrap();
    r.publish();
    k.kick();

    // Data-In over several iovecs, written in one go.
    let opts = QueueOptions {
        data_in_len: 3 * 4096,
        max_iov_len: Some(4096),
        ..Default::default()
    };
    k.queue_with(&[0x28, 0, 0, 0, 0, 0, 0, 0, 6, 0], &opts)
        .unwrap();
    fetch_cmd(&mut r, &mut cmd);
    let mut buf = r.buffer(&cmd);
    assert_eq!(
        buf.write_at(0, &payload[..3 * 4096 + 10]),
        3 * 4096,
        "clamped to the buffer"
    );
    r.complete(cmd.cmd_id, &Response::GOOD).unwrap();
    r.publish();
    k.kick();
    assert_eq!(
        k.take_completions().last().unwrap().data,
        payload[..3 * 4096]
    );
}

#[test]
fn read_len_residual_reaches_the_kernel() {
    let (mut k, mut r) = setup();
    k.queue_read(&[0x46, 0, 0, 0, 0, 0, 0, 0, 64, 0], 64)
        .unwrap();
    let mut cmd = Command::default();
    fetch_cmd(&mut r, &mut cmd);
    r.buffer(&cmd).write_at(0, &[0xab; 20]);
    r.complete(
        cmd.cmd_id,
        &Response {
            read_len: Some(20),
            ..Response::GOOD
        },
    )
    .unwrap();
    r.publish();
    k.kick();
    let c = k.take_completions();
    assert_eq!(c[0].read_len, Some(20));
    assert_eq!(c[0].data, vec![0xab; 20]);
}

#[test]
fn iovec_outside_the_data_area_is_rejected_without_touching_it() {
    let (mut k, mut r) = setup();
    let q = k
        .queue_read(&[0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0], 2048)
        .unwrap();
    // Point the iovec at the mailbox, then past the end of the mapping.
    k.write_u64(q.entry_offset + 48, 0);
    let mut cmd = Command::default();
    fetch_cmd(&mut r, &mut cmd);
    assert_eq!(cmd.malformed, Some("iovec outside the data area"));
    assert_eq!(r.buffer(&cmd).len(), 0);
    r.complete(cmd.cmd_id, &Response::GOOD).unwrap();

    let q = k
        .queue_read(&[0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0], 2048)
        .unwrap();
    k.write_u64(q.entry_offset + 48 + 8, u64::MAX - 10);
    fetch_cmd(&mut r, &mut cmd);
    assert!(cmd.malformed.is_some());

    let q = k
        .queue_read(&[0x28, 0, 0, 0, 0, 0, 0, 0, 1, 0], 2048)
        .unwrap();
    k.write_u32(q.entry_offset + 8, 0x1000_0000); // iov_cnt far beyond the entry
    fetch_cmd(&mut r, &mut cmd);
    assert_eq!(cmd.malformed, Some("iovec list runs past its entry"));

    let q = k.queue(&[0x00; 6]).unwrap();
    k.write_u64(q.entry_offset + 24, 5); // CDB offset inside the mailbox
    fetch_cmd(&mut r, &mut cmd);
    assert_eq!(cmd.malformed, Some("CDB outside its entry"));
}

#[test]
fn unwalkable_entry_breaks_the_ring() {
    let (mut k, mut r) = setup();
    let q = k.queue(&[0x00; 6]).unwrap();
    k.write_u32(q.entry_offset, TCMU_OP_CMD); // length 0
    let mut cmd = Command::default();
    assert!(matches!(r.fetch(&mut cmd), Some(Err(RingError::Broken(_)))));
    assert!(r.broken().is_some());
    assert!(!r.has_pending());

    let (mut k, mut r) = setup();
    let q = k.queue(&[0x00; 6]).unwrap();
    k.write_u32(q.entry_offset, 0x0100_0000 | TCMU_OP_CMD); // runs past the ring
    assert!(matches!(r.fetch(&mut cmd), Some(Err(RingError::Broken(_)))));

    let (mut k, mut r) = setup();
    let q = k.queue(&[0x00; 6]).unwrap();
    k.write_u32(q.entry_offset, 16 | TCMU_OP_CMD); // shorter than a CMD entry
    assert!(matches!(r.fetch(&mut cmd), Some(Err(RingError::Broken(_)))));
}

#[test]
fn task_management_entries_are_consumed_and_released() {
    let (mut k, mut r) = setup();
    let q = k.queue(&[0x00; 6]).unwrap();
    k.queue_tmr(tcmu_abi::TCMU_TMR_ABORT_TASK, &[q.cmd_id])
        .unwrap();
    let mut cmd = Command::default();
    fetch_cmd(&mut r, &mut cmd);
    assert_eq!(
        r.fetch(&mut cmd.clone()),
        Some(Ok(Fetched::TaskManagement {
            tmr_type: 1,
            cmd_count: 1
        }))
    );
    r.complete(q.cmd_id, &Response::GOOD).unwrap();
    r.publish();
    k.kick();
    assert_eq!(k.take_completions().len(), 1);
    // The TMR entry was released as well: the ring is empty from the kernel's point of view.
    let tail = u32::from_ne_bytes(k.peek(64, 4).try_into().unwrap()) as usize;
    assert_eq!(tail, k.head());
}

#[test]
fn unknown_entry_type_is_flagged_and_skipped() {
    let (mut k, mut r) = setup();
    let q = k.queue(&[0x00; 6]).unwrap();
    let len_op = u32::from_ne_bytes(k.peek(q.entry_offset, 4).try_into().unwrap());
    k.write_u32(q.entry_offset, (len_op & !7) | 5);
    let mut cmd = Command::default();
    assert_eq!(r.fetch(&mut cmd), None);
    assert_eq!(
        k.peek(q.entry_offset + 7, 1)[0] & TCMU_UFLAG_UNKNOWN_OP,
        TCMU_UFLAG_UNKNOWN_OP
    );
}

#[test]
fn raw_commands_are_counted_beside_recorded_ones() {
    let (mut k, mut r) = setup();
    // A 20 KiB buffer at 8 KiB into the data area, in 8 KiB iovecs: three segments.
    let raw = k
        .queue_raw(&[0x28, 0, 0, 0, 0, 0, 0, 0, 10, 0], 8192, 20480, 8192)
        .unwrap();
    let kept = k.queue(&[0x00; 6]).unwrap();
    let failed = k.queue_raw(&[0x00; 6], 0, 0, 1).unwrap();
    assert_eq!(k.in_flight(), 3);
    let mut cmd = Command::default();
    fetch_cmd(&mut r, &mut cmd);
    assert_eq!(cmd.cmd_id, raw.cmd_id);
    let data = k.data_area_offset();
    let segs: Vec<(usize, usize)> = cmd.data_segs().iter().map(|s| (s.offset, s.len)).collect();
    assert_eq!(
        segs,
        [
            (data + 8192, 8192),
            (data + 16384, 8192),
            (data + 24576, 4096)
        ]
    );
    r.complete(cmd.cmd_id, &Response::GOOD).unwrap();
    fetch_cmd(&mut r, &mut cmd);
    r.complete(cmd.cmd_id, &Response::GOOD).unwrap();
    fetch_cmd(&mut r, &mut cmd);
    assert_eq!(cmd.cmd_id, failed.cmd_id);
    let rsp = Response {
        status: 2,
        ..Response::GOOD
    };
    r.complete(cmd.cmd_id, &rsp).unwrap();
    assert!(r.publish());
    k.kick();
    assert!(k.broken.is_none());
    assert_eq!(
        k.tally(),
        fake::Tally {
            completed: 2,
            failed: 1
        }
    );
    let c = k.take_completions();
    assert_eq!((c.len(), c[0].cmd_id), (1, kept.cmd_id));
    assert_eq!(k.in_flight(), 0);
    // Outside the data area: refused.
    assert_eq!(
        k.queue_raw(&[0x00; 6], 4 << 20, 1, 1),
        Err(fake::FakeError::DataAreaFull)
    );
}
