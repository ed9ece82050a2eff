//! Regression tests for what fuzzing the ring parser found (`fuzz/`, target `ring_parser`):
//! a kernel that breaks the protocol must not hang the handler or make it touch memory
//! outside the ring.
use super::fake::{FakeKernel, Geometry};
use super::*;

fn fetch_err(r: &mut Ring<fake::FakeMemory>) -> bool {
    let mut cmd = Command::default();
    matches!(r.fetch(&mut cmd), Some(Err(RingError::Broken(_))))
}

/// PAD entries that step over `cmd_head` (16-byte PADs, head at offset 8) made `fetch` walk
/// the ring forever.
#[test]
fn entries_that_never_reach_the_head_break_the_ring() {
    let k = FakeKernel::new(Geometry::default());
    let size = k.peek(off::MB_CMDR_SIZE, 4);
    let size = u32::from_ne_bytes(size.try_into().unwrap()) as usize;
    for at in (0..size).step_by(16) {
        k.write_u32(off::MB_SIZE + at, 16 | TCMU_OP_PAD);
    }
    k.write_u32(off::MB_CMD_HEAD, 8);
    let mut r = Ring::new(k.memory()).unwrap();
    assert!(fetch_err(&mut r));
    assert!(r.broken().is_some());
    // Unknown entry types are walked past the same way.
    for at in (0..size).step_by(16) {
        k.write_u32(off::MB_SIZE + at, 16 | 5);
    }
    let mut r = Ring::new(k.memory()).unwrap();
    assert!(fetch_err(&mut r));
}

/// A TMR entry of 8 bytes (header only) in the last 8 bytes of a ring that ends the mapping:
/// reading its type read past the mapping (a panic of the bounds check).
#[test]
fn header_only_tmr_entry_at_the_end_of_the_mapping() {
    let k = FakeKernel::new(Geometry {
        cmdr_size: 4096 - 128,
        data_size: 0,
        block_size: 4096,
    });
    let size = 4096 - 128;
    assert_eq!(
        k.memory().len(),
        off::MB_SIZE + size,
        "the ring ends the mapping"
    );
    k.write_u32(off::MB_SIZE + size - 8, 8 | TCMU_OP_TMR);
    k.write_u32(off::MB_CMD_TAIL, (size - 8) as u32);
    k.write_u32(off::MB_CMD_HEAD, 0);
    let mut r = Ring::new(k.memory()).unwrap();
    let mut cmd = Command::default();
    assert_eq!(
        r.fetch(&mut cmd),
        Some(Ok(Fetched::TaskManagement {
            tmr_type: 0,
            cmd_count: 0
        }))
    );
}

/// The kernel rewrote a fetched CMD entry before its completion: as a PAD (the completion
/// walked on past the cursor, around the ring) or as a CMD entry too short to hold the
/// response (whose 96 sense bytes were then written past the entry).
#[test]
fn completion_after_the_entry_changed_under_it() {
    for (len_op, what) in [(16 | TCMU_OP_PAD, "pad"), (16 | TCMU_OP_CMD, "short")] {
        let mut k = FakeKernel::new(Geometry::default());
        let q = k.queue(&[0u8; 6]).unwrap();
        let mut r = Ring::new(k.memory()).unwrap();
        let mut cmd = Command::default();
        assert_eq!(r.fetch(&mut cmd), Some(Ok(Fetched::Command)));
        let before = k.peek(0, k.memory().len());
        k.write_u32(q.entry_offset, len_op);
        let e = r.complete(cmd.cmd_id, &Response::GOOD);
        assert!(matches!(e, Err(RingError::Broken(_))), "{what}: {e:?}");
        let mut after = k.peek(0, k.memory().len());
        after[q.entry_offset..q.entry_offset + 4].copy_from_slice(&before[q.entry_offset..][..4]);
        assert!(
            before == after,
            "{what}: the completion wrote into the ring"
        );
    }
}
