#!/usr/bin/env python3
"""Deterministic CDB storm for tests/e2e/guest-storm.sh: one sg_raw command per line.

usage: storm-cdbs.py SEED COUNT PROFILE [NWA]

PROFILE says what the storm may do to the disc:
  any        everything (a DVD-ROM or an empty tray must refuse it all; a rewritable disc
             may be written, formatted and blanked at random)
  keep       no command that may record, format, blank or persist (the disc must stay as
             it is: a blank DVD+R stays blank)
  append     everything, with WRITEs aimed at NWA (the next writable address), so a
             write-once disc really grows (CLOSE's finalize functions only in the last tenth)

Each line is: DIRECTION RLEN SLEN SKIP CDB-HEX-BYTES...
  DIRECTION  in (sg_raw -r RLEN), out (sg_raw -s SLEN -k SKIP -i POOL) or none
The data-out pool is a random file of 1 MiB made by the caller; SKIP + SLEN stays inside it.

A third of the CDBs are valid opcodes with random fields (biased towards small LBAs and
allocation lengths that match RLEN), a third are real CDBs (what sr, udev, growisofs,
wodim and dvd+rw-format send) with one to three bytes mutated, and a third are random
opcodes. Opcodes the kernel's LIO core handles itself and that outlive the storm
(SPC-2 RESERVE/RELEASE, PERSISTENT RESERVE IN/OUT) are never sent.
"""
import random
import sys

POOL = 1 << 20
MAX_IN = 65536

# Opcodes whose effects LIO keeps itself (reservations): never sent.
EXCLUDED = {0x16, 0x17, 0x56, 0x57, 0x5E, 0x5F}
# Opcodes that record, format, blank, reserve, close or persist (not in the "keep" profile).
RECORDING = {0x04, 0x2A, 0x2E, 0xAA, 0x35, 0x53, 0x5B, 0xA1, 0x91, 0x8A, 0x8E, 0x3F}
# Data-out opcodes (MMC/SPC).
DATA_OUT = {0x04, 0x15, 0x2A, 0x2E, 0x3B, 0x54, 0x55, 0x5D, 0xA3, 0xAA, 0xB6, 0xBF, 0x8A, 0x8E}
# Opcodes with no data at all.
NO_DATA = {0x00, 0x1B, 0x1E, 0x2B, 0x2F, 0x35, 0x53, 0x5B, 0xA1, 0xBB, 0x45, 0x47, 0x4B, 0x4E}

# (opcode, CDB length, offset of the allocation/parameter length, its width).
VALID = [
    (0x00, 6, None, 0), (0x03, 6, 4, 1), (0x04, 6, None, 0), (0x12, 6, 3, 2),
    (0x15, 6, 4, 1), (0x1A, 6, 4, 1), (0x1B, 6, None, 0), (0x1E, 6, None, 0),
    (0x23, 10, 7, 2), (0x25, 10, None, 0), (0x28, 10, None, 0), (0x2A, 10, None, 0),
    (0x2B, 10, None, 0), (0x2E, 10, None, 0), (0x2F, 10, None, 0), (0x35, 10, None, 0),
    (0x42, 10, 7, 2), (0x43, 10, 7, 2), (0x46, 10, 7, 2), (0x4A, 10, 7, 2),
    (0x4D, 10, 7, 2), (0x51, 10, 7, 2), (0x52, 10, 7, 2), (0x53, 10, None, 0),
    (0x54, 10, 7, 2), (0x55, 10, 7, 2), (0x5A, 10, 7, 2), (0x5B, 10, None, 0),
    (0x5C, 10, 7, 2), (0x5D, 10, 6, 3), (0x9E, 16, 10, 4), (0xA0, 12, 6, 4),
    (0xA1, 12, None, 0), (0xA3, 12, 8, 2), (0xA4, 12, 8, 2), (0xA8, 12, None, 0),
    (0xAA, 12, None, 0), (0xAC, 12, 8, 2), (0xAD, 12, 8, 2), (0xB6, 12, 9, 2),
    (0xB9, 12, None, 0), (0xBB, 12, None, 0), (0xBD, 12, 8, 2), (0xBE, 12, None, 0),
    (0xBF, 12, 8, 2), (0x3B, 10, 6, 3), (0x3C, 10, 6, 3), (0x8A, 16, None, 0),
    (0x88, 16, None, 0), (0x8E, 16, None, 0), (0x91, 16, None, 0), (0x7F, 32, None, 0),
]

# Real CDBs: Linux sr/cdrom and udev cdrom_id at probe, growisofs, wodim, dvd+rw-format.
REAL = [
    "00 00 00 00 00 00", "12 00 00 00 24 00", "12 01 00 00 ff 00", "12 01 80 00 ff 00",
    "12 01 83 00 ff 00", "03 00 00 00 12 00", "1a 08 2a 00 80 00", "5a 08 2a 00 00 00 00 00 80 00",
    "5a 00 3f 00 00 00 00 ff ff 00", "5a 00 05 00 00 00 00 00 3c 00", "25 00 00 00 00 00 00 00 00 00",
    "46 00 00 00 00 00 00 00 08 00", "46 02 00 00 00 00 00 00 20 00", "46 00 00 00 00 00 00 ff ff 00",
    "46 01 00 2b 00 00 00 00 10 00", "4a 01 00 00 10 00 00 00 08 00", "4a 01 00 00 02 00 00 00 08 00",
    "43 00 00 00 00 00 00 00 0c 00", "43 02 00 00 00 00 00 00 0c 40", "43 02 01 00 00 00 00 00 0c 00",
    "43 00 02 00 00 00 01 ff fe 00", "43 02 04 00 00 00 00 00 1c 00", "51 00 00 00 00 00 00 00 20 00",
    "51 00 00 00 00 00 00 00 22 00", "52 01 00 00 00 01 00 00 1c 00", "52 01 00 00 00 ff 00 00 30 00",
    "52 00 00 00 00 00 00 00 30 00", "ad 00 00 00 00 00 00 00 08 04 00 00", "ad 00 00 00 00 00 00 ff 00 ff 00 00",
    "ad 00 00 00 00 00 00 01 00 08 00 00", "23 00 00 00 00 00 00 00 fc 00", "bd 00 00 00 00 00 00 00 00 08 00 00",
    "ac 00 00 00 00 00 00 00 00 01 03 00", "ac 10 00 00 00 00 00 00 00 01 00 00", "5c 00 00 00 00 00 00 00 0c 00",
    "1e 00 00 00 01 00", "1e 00 00 00 00 00", "1b 00 00 00 02 00", "1b 00 00 00 03 00", "1b 00 00 00 01 00",
    "28 00 00 00 00 00 00 00 01 00", "28 00 00 00 00 10 00 00 10 00", "a8 00 00 00 00 00 00 00 00 01 00 00",
    "be 00 00 00 00 00 00 00 01 10 00 00", "2a 00 00 00 00 00 00 00 10 00", "aa 00 00 00 00 00 00 00 00 10 00 00",
    "35 00 00 00 00 00 00 00 00 00", "35 02 00 00 00 00 00 00 00 00", "53 00 00 00 00 00 00 10 00 00",
    "5b 00 01 00 00 01 00 00 00 00", "5b 00 02 00 00 00 00 00 00 00", "5b 00 06 00 00 00 00 00 00 00",
    "5b 01 00 00 00 00 00 00 00 00", "04 11 00 00 00 00", "a1 11 00 00 00 00 00 00 00 00 00 00",
    "55 10 00 00 00 00 00 00 3c 00", "15 10 00 00 3c 00", "b6 00 00 00 00 00 00 00 00 00 1c 00",
    "bb 00 ff ff ff ff 00 00 00 00 00 00", "54 01 00 00 00 00 00 00 00 00", "a0 00 00 00 00 00 00 00 10 00 00 00",
    "9e 10 00 00 00 00 00 00 00 00 00 00 00 20 00 00", "4d 00 40 00 00 00 00 00 40 00",
]


def direction(op):
    if op in DATA_OUT:
        return "out"
    if op in NO_DATA:
        return "none"
    return "in"


def put(cdb, at, width, value):
    for i in range(width):
        if at + i < len(cdb):
            cdb[at + i] = (value >> (8 * (width - 1 - i))) & 0xFF


def small_lba(rng, nwa):
    return rng.choice([0, 16, nwa, nwa, rng.randrange(0, 4096), rng.randrange(0, 1 << 32)])


def valid_cdb(rng, profile, nwa):
    choices = [v for v in VALID if v[0] not in EXCLUDED]
    if profile == "keep":
        choices = [v for v in choices if v[0] not in RECORDING]
    op, n, alloc_at, width = rng.choice(choices)
    cdb = [op] + [rng.randrange(256) for _ in range(n - 1)]
    if op == 0x7F:
        cdb[7] = n - 8
    if rng.random() < 0.5:
        # Plausible fields: no control-byte flags, small counts.
        cdb[-1] = 0
        if op in (0x28, 0x2A, 0x2E, 0x2F):
            put(cdb, 2, 4, small_lba(rng, nwa))
            put(cdb, 7, 2, rng.randrange(0, 33))
            cdb[1] &= 0x08
        elif op in (0xA8, 0xAA, 0xBE):
            put(cdb, 2, 4, small_lba(rng, nwa))
            put(cdb, 6, 4, rng.randrange(0, 33))
            cdb[1] &= 0x08
        elif alloc_at is not None:
            put(cdb, alloc_at, width, rng.choice([0, 4, 8, 18, 36, 252, 2048, rng.randrange(0, 65536)]))
    return cdb


def mutated_cdb(rng, profile):
    while True:
        cdb = [int(b, 16) for b in rng.choice(REAL).split()]
        for _ in range(rng.randrange(1, 4)):
            i = rng.randrange(len(cdb))
            cdb[i] = rng.choice([cdb[i] ^ (1 << rng.randrange(8)), 0, 0xFF, rng.randrange(256)])
        if cdb[0] in EXCLUDED or (profile == "keep" and cdb[0] in RECORDING):
            continue
        return cdb


def random_cdb(rng, profile):
    while True:
        op = rng.randrange(256)
        if op in EXCLUDED or (profile == "keep" and op in RECORDING):
            continue
        n = rng.choice([6, 10, 12, 16, {0: 6, 1: 10, 2: 10, 4: 16, 5: 12}.get(op >> 5, 10)])
        if op == 0x7F:
            n = 16
        cdb = [op] + [rng.randrange(256) for _ in range(n - 1)]
        if op == 0x7F:
            cdb[7] = n - 8
        return cdb


def transfer_len(cdb):
    """Bytes a READ/WRITE (10)/(12) of 2048-byte blocks moves (capped), else None."""
    op = cdb[0]
    if len(cdb) < 10 or (op in (0xA8, 0xAA) and len(cdb) < 12):
        return None
    if op in (0x28, 0x2A, 0x2E):
        blocks = (cdb[7] << 8) | cdb[8]
    elif op in (0xA8, 0xAA):
        blocks = int.from_bytes(bytes(cdb[6:10]), "big")
    else:
        return None
    return min(blocks * 2048, MAX_IN)


def main():
    seed, count, profile = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    nwa = int(sys.argv[4]) if len(sys.argv) > 4 else 0
    rng = random.Random(seed)
    for i in range(count):
        kind = rng.randrange(3)
        if kind == 0:
            cdb = valid_cdb(rng, profile, nwa)
        elif kind == 1:
            cdb = mutated_cdb(rng, profile)
        else:
            cdb = random_cdb(rng, profile)
        if profile == "append" and cdb[0] == 0x5B and cdb[2] & 7 in (5, 6) and i < count * 9 // 10:
            # Finalizing ends all writing: keep it for the last tenth, so the storm appends.
            cdb[2] = (cdb[2] & ~7) | 2
        d = direction(cdb[0])
        # Now and then the "wrong" direction: the initiator, not the opcode, decides.
        if rng.random() < 0.1:
            d = rng.choice(["in", "out", "none"])
        rlen = slen = skip = 0
        moved = transfer_len(cdb)
        if d == "in":
            rlen = moved if moved is not None and rng.random() < 0.7 else rng.choice(
                [1, 8, 18, 36, 252, 512, 2048, 4096, rng.randrange(1, MAX_IN + 1)])
            rlen = max(rlen, 1)
        elif d == "out":
            slen = moved if moved is not None and rng.random() < 0.7 else rng.choice(
                [1, 8, 12, 28, 60, 2048, rng.randrange(1, 8192)])
            slen = max(slen, 1)
            skip = rng.randrange(0, POOL - slen + 1)
        print(d, rlen, slen, skip, " ".join("%02x" % b for b in cdb))


if __name__ == "__main__":
    main()
