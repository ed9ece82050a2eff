#!/usr/bin/env python3
"""Write the seed corpus of the fuzz targets into fuzz/corpus/<target>/ (deterministic).

usage: tests/fuzz/make-seeds.py [--log DAEMON_LOG]... [--out DIR]

Seeds are the command sequences real initiators send (Linux sr and udev at probe,
growisofs, wodim, xorriso, dvd+rw-format, cdrwtool, eject) on every media state of the
mmc_dispatch target, ring layouts as the kernel writes them, configuration strings and disc
state files. With --log, the CDBs of an end-to-end run's daemon log at debug level
(E2E_RUST_LOG=debug tests/e2e/run.sh; lines "<drive>: cmd N [cdb bytes] len L -> status")
are kept in tests/fuzz/e2e-cdbs.txt (one sequence per drive) and seeded from there on
every run; this is how the checked-in corpus got the CDBs of the e2e suite. Each target's
corpus directory is emptied and rewritten. The input layouts are documented in
fuzz/src/{mmc,ring,state,effects}.rs.
"""
import argparse
import hashlib
import json
import os
import re
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))

# Index of each initial state in fuzz/src/mmc.rs STATES.
STATES = [
    "empty-tray", "dvd-rom", "dvd+r-blank", "dvd+r-incomplete", "dvd+r-reserved-open",
    "dvd+r-complete", "dvd+r-dl-blank", "dvd+rw-unformatted", "dvd+rw-formatted",
    "dvd-ram-formatted", "dvd-ram-unformatted", "dvd-rw-blank", "dvd+r-full",
    "dvd-rw-formatted", "cd-rw-blank", "cd-rw-formatted", "dvd+r-tray-open",
    "dvd+r-unit-attention",
]
DEFAULT_CAP, SMALL_CAP, HUGE_CAP = 0x00, 0x04, 0x08
RESTART, RELOAD = 0xF0, 0xF1


def h(s):
    return bytes(int(b, 16) for b in s.split())


def be32(v):
    return struct.pack(">I", v)


def be16(v):
    return struct.pack(">H", v)


def write10(lba, n):
    return b"\x2a\x00" + be32(lba) + b"\x00" + be16(n) + b"\x00"


def read10(lba, n):
    return b"\x28\x00" + be32(lba) + b"\x00" + be16(n) + b"\x00"


# A command is (cdb, data_out); a bare int is a RESTART/RELOAD marker.
PROBE = [
    h("00 00 00 00 00 00"), h("12 00 00 00 24 00"), h("12 01 00 00 ff 00"),
    h("12 01 80 00 ff 00"), h("12 01 83 00 ff 00"), h("03 00 00 00 12 00"),
    h("5a 08 2a 00 00 00 00 00 80 00"), h("1a 08 2a 00 80 00"),
    h("46 00 00 00 00 00 00 00 08 00"), h("46 00 00 00 00 00 00 ff ff 00"),
    h("46 01 00 00 00 00 00 ff ff 00"), h("46 02 00 1f 00 00 00 00 10 00"),
    h("4a 01 00 00 10 00 00 00 08 00"), h("4a 01 00 00 16 00 00 00 08 00"),
    h("25 00 00 00 00 00 00 00 00 00"), h("9e 10 00 00 00 00 00 00 00 00 00 00 00 20 00 00"),
    h("43 00 00 00 00 00 00 00 0c 00"), h("43 02 00 00 00 00 00 00 0c 00"),
    h("43 00 00 00 00 00 00 00 0c 40"), h("43 02 02 00 00 00 01 ff fe 00"),
    h("43 00 04 00 00 00 00 00 1c 00"), h("51 00 00 00 00 00 00 00 22 00"),
    h("52 01 00 00 00 01 00 00 30 00"), h("52 01 00 00 00 ff 00 00 30 00"),
    h("52 00 00 00 00 00 00 00 30 00"), h("ad 00 00 00 00 00 00 00 08 04 00 00"),
    h("ad 00 00 00 00 00 00 ff 00 ff 00 00"), h("ad 00 00 00 00 00 00 c0 00 08 00 00"),
    h("23 00 00 00 00 00 00 00 fc 00"), h("bd 00 00 00 00 00 00 00 00 08 00 00"),
    h("ac 00 00 00 00 00 00 00 00 01 00 00"), h("ac 00 00 00 00 00 00 00 00 10 03 00"),
    h("5c 00 00 00 00 00 00 00 0c 00"), h("5c 01 00 00 00 00 00 00 0c 00"),
    h("1e 00 00 00 01 00"), read10(16, 1), h("1e 00 00 00 00 00"),
]

# growisofs -Z then -M on a DVD+R: streaming, writes at the NWA, close track and session.
STREAMING = bytes(28)
GROWISOFS = [
    h("46 02 00 2b 00 00 00 00 10 00"), h("51 00 00 00 00 00 00 00 20 00"),
    h("52 01 00 00 00 ff 00 00 1c 00"), h("5c 00 00 00 00 00 00 00 0c 00"),
    (h("b6 00 00 00 00 00 00 00 00 00 1c 00"), STREAMING),
    write10(0, 16), write10(16, 16), write10(32, 5), h("35 00 00 00 00 00 00 00 00 00"),
    h("5b 01 01 00 00 01 00 00 00 00"), h("5b 01 02 00 00 00 00 00 00 00"),
    h("43 02 01 00 00 00 00 00 0c 00"), RESTART, h("52 01 00 00 00 ff 00 00 1c 00"),
    write10(48, 16), h("35 00 00 00 00 00 00 00 00 00"), h("5b 01 02 00 00 00 00 00 00 00"),
    read10(0, 32), read10(48, 16), h("43 02 02 00 00 00 01 ff fe 00"),
]

# wodim -dao: write parameters (SAO), reserve, write, close; then a finalize.
PAGE5 = bytes([0, 0x3a, 0, 0, 0, 0, 0, 0]) + bytes([0x05, 0x32, 0x42, 0x05, 0x08, 16]) + bytes(46)
WODIM = [
    h("5a 00 05 00 00 00 00 00 3c 00"), (h("55 10 00 00 00 00 00 00 3c 00"), PAGE5),
    h("53 00 00 00 00 00 00 02 00 00"), write10(0, 32), write10(32, 32),
    h("35 00 00 00 00 00 00 00 00 00"), h("5b 00 01 00 00 01 00 00 00 00"),
    h("5b 00 06 00 00 00 00 00 00 00"), h("51 00 00 00 00 00 00 00 22 00"), RESTART,
    read10(0, 64), h("25 00 00 00 00 00 00 00 00 00"),
]


def fmt_descriptor(blocks, fmt_type, param):
    return bytes([0, 0x82, 0, 8]) + be32(blocks) + bytes([fmt_type << 2]) + struct.pack(">I", param)[1:]


# dvd+rw-format, DVD-RW quick and full format, cdrwtool, DVD-RAM, blanking; then packets.
FORMATS = [
    h("23 00 00 00 00 00 00 00 fc 00"),
    (h("04 11 00 00 00 00"), fmt_descriptor(0xFFFFFFFF, 0x26, 0)),
    (h("04 11 00 00 00 00"), fmt_descriptor(0, 0x15, 16)),
    (h("04 11 00 00 00 00"), fmt_descriptor(0, 0x10, 16)),
    (h("04 11 00 00 00 00"), fmt_descriptor(0, 0x10, 32)),
    (h("04 17 00 00 00 00"), fmt_descriptor(0, 0x10, 32)),
    (h("04 11 00 00 00 00"), fmt_descriptor(0, 0x00, 2048)),
    h("04 00 00 00 00 00"), h("00 00 00 00 00 00"), h("52 01 00 00 00 01 00 00 30 00"),
    write10(0, 32), write10(64, 32), h("35 00 00 00 00 00 00 00 00 00"), RESTART,
    read10(0, 96), h("5b 00 00 00 00 00 00 00 00 00"), h("5b 00 02 00 00 00 00 00 00 00"),
    h("a1 01 00 00 00 00 00 00 00 00 00 00"), h("a1 00 00 00 00 00 00 00 00 00 00 00"),
    h("51 00 00 00 00 00 00 00 22 00"), RELOAD, h("25 00 00 00 00 00 00 00 00 00"),
]

# eject, media events, unit attention, load; MODE SELECT of pages 01, 05, 08.
MODE = bytes([0, 0x1e, 0, 0, 0, 0, 0, 0, 0x01, 0x0a]) + bytes(10) + bytes([0x08, 0x0a]) + bytes(10)
TRAY = [
    h("1e 00 00 00 01 00"), h("1b 00 00 00 02 00"), h("1e 00 00 00 00 00"),
    h("1b 00 00 00 02 00"), h("4a 01 00 00 10 00 00 00 08 00"), h("00 00 00 00 00 00"),
    h("bd 00 00 00 00 00 00 00 00 08 00 00"), h("1b 00 00 00 03 00"), h("00 00 00 00 00 00"),
    h("03 00 00 00 12 00"), h("4a 01 00 00 10 00 00 00 08 00"),
    (h("55 10 00 00 00 00 00 00 20 00"), MODE), (h("15 10 00 00 1c 00"), MODE[4:32]),
    h("5a 00 3f 00 00 00 00 ff ff 00"), h("5a 40 3f 00 00 00 00 ff ff 00"),
    h("5a 80 05 00 00 00 00 00 3c 00"),
]

# Regressions: 260 track reservations (track numbers end at 255), a reservation of 4 Gi
# blocks, tracks closed one by one.
MANY_TRACKS = [h("53 00 00 00 00 00 00 00 10 00")] * 260 + [
    h("5b 00 01 00 00 ff 00 00 00 00"), h("5b 00 02 00 00 00 00 00 00 00"),
    h("52 01 00 00 00 ff 00 00 30 00"), RESTART, h("43 02 02 00 00 00 01 ff fe 00"),
]
HUGE_RESERVE = [h("53 00 00 00 00 ff ff ff ff 00"), h("53 00 00 00 00 ff ff ff f1 00"),
                h("52 01 00 00 00 ff 00 00 30 00")]


def close_track(n):
    return h("5b 00 01 00 00") + bytes([n]) + bytes(4)


CLOSE_EACH = []
for i in range(40):
    CLOSE_EACH += [write10(i * 16, 1), close_track(i + 1)]


def mmc_seed(state, flags, cap, script):
    out = bytearray([STATES.index(state), flags]) + struct.pack("<H", cap)
    for c in script:
        if isinstance(c, int):
            out.append(c)
            continue
        cdb, data = (c if isinstance(c, tuple) else (c, b""))
        out.append(len(cdb))
        out += cdb
        out += struct.pack("<H", len(data))
        out += data
    return bytes(out)


LOG_LINE = re.compile(r"\b(\S+): cmd \d+ \[([0-9a-f, ]*)\] len (\d+) -> status")


# Drives of the storm sub-suite (guest-storm.sh) get random CDBs: not real ones.
STORM_DRIVE = re.compile(r"(^|/)s\d+$")


def log_sequences(paths, limit=300):
    """Per drive, its CDBs in order, without repeats of any of the last 8 (udev's polling,
    runs of READs)."""
    seqs = {}
    for p in paths:
        with open(p, errors="replace") as f:
            for line in f:
                m = LOG_LINE.search(line)
                if not m or STORM_DRIVE.search(m.group(1)):
                    continue
                label, cdb = m.group(1), bytes(int(b, 16) for b in m.group(2).split(", ") if b)
                seq = seqs.setdefault(label, [])
                if cdb not in seq[-8:] and len(seq) < limit:
                    seq.append(cdb)
    return seqs


def ring_seed(entries, script, flags=0, cmdr_units=100, data_units=64):
    """Layout of fuzz/src/ring.rs: entries are (kind, id, cdb, [(off, len)]); script ops."""
    out = bytearray([flags]) + struct.pack("<H", cmdr_units) + bytes([data_units])
    out.append(len(entries))
    for kind, ident, cdb, iovs in entries:
        out.append(kind)
        out += struct.pack("<H", ident)
        out.append(len(cdb))
        out += cdb
        out.append(len(iovs))
        for o, l in iovs:
            out += struct.pack("<HH", o, l)
    for op in script:
        out += bytes(op)
    return bytes(out)


FETCH, PUBLISH = [0], [2]


def complete(status=0, read_len=0):
    return [1, status] + list(struct.pack("<H", read_len))


def poke(at, v):
    return [3] + list(struct.pack("<H", at)) + [v]


RING = [
    ([(0, 1, h("00 00 00 00 00 00"), [])], [FETCH, complete(), PUBLISH]),
    ([(0, 2, read10(0, 1), [(0, 512)])], [FETCH, complete(0, 100), PUBLISH]),
    ([(0, 3, h("2a 00 00 00 00 00 00 00 01 00"), [(0, 256), (256, 256)])], [FETCH, complete(2), PUBLISH]),
    ([(1, 7, b"", []), (0, 4, h("12 00 00 00 24 00"), [(8, 36)])], [FETCH, FETCH, complete(), PUBLISH]),
    ([(2, 3, b"\x01", []), (0, 5, h("00 00 00 00 00 00"), [])], [FETCH, FETCH, complete(), PUBLISH]),
    ([(3, 9, b"", []), (0, 6, h("00 00 00 00 00 00"), [])], [FETCH, FETCH, complete(), PUBLISH]),
    ([(0, 8, h("00 00 00 00 00 00"), []), (0, 9, h("25 00 00 00 00 00 00 00 00 00"), [(0, 8)])],
     [FETCH, FETCH, complete(), complete(0, 8), PUBLISH, FETCH]),
    ([(0, 10, h("00 00 00 00 00 00"), [])], [FETCH, poke(128, 0x11), complete(), PUBLISH]),
    ([(0, 11, h("00 00 00 00 00 00"), [])], [FETCH, poke(128, 0x10), complete(), PUBLISH]),
    ([(0, 12, h("a8 00 00 00 00 00 00 00 00 01 00 00"), [(0xfff0, 64)])], [FETCH, complete(), PUBLISH]),
    ([(0, 13, h("7f 00 00 00 00 00 00 18") + bytes(24), [])], [FETCH, complete(), PUBLISH]),
    ([(1, 63, b"", [])] * 15, [FETCH, [4, 8, 0], FETCH, PUBLISH]),
    ([(0, 14, h("00 00 00 00 00 00"), [])], [FETCH, [4, 0, 0], complete(), FETCH, PUBLISH]),
]
# A raw mailbox (flag bit 0): version, cmdr_off, cmdr_size, cmd_tail.
RAW_MAILBOX = [
    struct.pack("<HIII", 2, 128, 800, 0),
    struct.pack("<HIII", 2, 128, 0xFFFFFFF0, 0),
    struct.pack("<HIII", 1, 128, 800, 0),
    struct.pack("<HIII", 2, 128, 800, 792),
]

CONFIGS = [
    "mmc//srv/media/disc.iso", "mmc/srv/media/disc.iso", "mmc/", "mmc//", "mmc",
    "mmc//srv/blank.iso;type=dvd+r-dl", "mmc//srv/b.iso;capacity=100M", "mmc/x;capacity=1000",
    "mmc//x;type=dvd+rw;capacity=65536", "mmc//x;type=cd-rw", "mmc//x;type=dvd-ram;capacity=4G",
    "mmc//x;type=dvd-rw;morph=finalize", "mmc//x;morph=close", "mmc//x;offline",
    "mmc//x;offline;type=dvd+r", "mmc//srv/../etc/shadow", "mmc//a\nb", "file//x.img",
    "mmc//x;capacity=1K", "mmc//x;capacity=4194304K", "mmc//x;speed=4", "mmc//x;;type=dvd+r;",
    "mmc//ä/ß.iso;type=dvd+r", "mmc//x;capacity=18446744073709551615",
]


def state_json(medium, capacity, tracks, finalized=False, formatted=0):
    rec = {"format": "tcmu-mmc-disc", "version": 1, "medium": medium, "capacity": capacity,
           "finalized": finalized}
    if formatted:
        rec["formatted"] = formatted
    rec["tracks"] = []
    for number, session, start, recorded, reserved, closed in tracks:
        t = {"number": number, "session": session, "start": start, "recorded": recorded}
        if reserved is not None:
            t["reserved"] = reserved
        t["closed"] = closed
        rec["tracks"].append(t)
    return json.dumps(rec, indent=2) + "\n"


STATE_FILES = [
    state_json("dvd+r", 2295104, [(1, 1, 0, 0, None, False)]),
    state_json("dvd+r", 1000, [(1, 1, 0, 16, None, True), (2, 2, 16, 0, None, False)]),
    state_json("dvd+r", 1000, [(1, 1, 0, 5, 496, False), (2, 1, 496, 0, None, False)]),
    state_json("dvd+r", 1000, [(1, 1, 0, 20, None, True)], finalized=True),
    state_json("dvd+r-dl", 4173824, [(1, 1, 0, 0, None, False)]),
    state_json("dvd+rw", 65536, []),
    state_json("dvd+rw", 65536, [(1, 1, 0, 65536, None, True)], formatted=65536),
    state_json("dvd-ram", 2236704, [(1, 1, 0, 2236704, None, True)], formatted=2236704),
    state_json("dvd-rw", 2297888, [(1, 1, 0, 16, None, True), (2, 2, 16, 0, None, False)]),
    state_json("cd-rw", 359846, [(1, 1, 0, 359840, None, True)], formatted=359840),
    state_json("dvd+r", 4294967295, [(1, 1, 0, 4294967280, None, True),
                                      (2, 2, 4294967280, 0, None, False)]),
    state_json("dvd+r", 100000, [(n, 1, 16 * (n - 1), 16, None, True) for n in range(1, 255)]
               + [(255, 1, 16 * 254, 0, None, False)]),
]


def mmc_seeds(logs):
    seeds = []
    for s in STATES:
        seeds.append(mmc_seed(s, DEFAULT_CAP, 0, PROBE))
        seeds.append(mmc_seed(s, SMALL_CAP, 1000 - 64, PROBE + TRAY))
    for s in ["dvd+r-blank", "dvd+r-incomplete", "dvd+r-dl-blank", "dvd-rw-blank",
              "dvd+r-reserved-open", "dvd+r-complete", "dvd+r-full"]:
        seeds.append(mmc_seed(s, DEFAULT_CAP, 0, GROWISOFS))
        seeds.append(mmc_seed(s, SMALL_CAP, 200, WODIM))
        seeds.append(mmc_seed(s, 0x01, 0, GROWISOFS))  # morph=close
        seeds.append(mmc_seed(s, HUGE_CAP, 0, GROWISOFS))
    for s in ["dvd+rw-unformatted", "dvd+rw-formatted", "dvd-ram-formatted",
              "dvd-ram-unformatted", "dvd-rw-blank", "dvd-rw-formatted",
              "cd-rw-blank", "cd-rw-formatted", "dvd-rom", "dvd+r-blank"]:
        seeds.append(mmc_seed(s, DEFAULT_CAP, 0, FORMATS))
        seeds.append(mmc_seed(s, SMALL_CAP, 500, FORMATS))
        seeds.append(mmc_seed(s, HUGE_CAP, 7, FORMATS))
    for s in ["dvd+r-blank", "dvd+r-complete", "dvd+rw-formatted", "cd-rw-formatted"]:
        seeds.append(mmc_seed(s, 0x02, 0, GROWISOFS + FORMATS))  # write-protected
    seeds.append(mmc_seed("dvd+r-blank", DEFAULT_CAP, 0, MANY_TRACKS))
    seeds.append(mmc_seed("dvd+r-blank", SMALL_CAP, 3000, CLOSE_EACH))
    seeds.append(mmc_seed("dvd+r-blank", DEFAULT_CAP, 0, HUGE_RESERVE))
    seeds.append(mmc_seed("dvd+r-blank", HUGE_CAP, 0, CLOSE_EACH))
    for i, (label, seq) in enumerate(sorted(logs.items())):
        for s in ["dvd+r-blank", "dvd-rom", "dvd+rw-formatted", "dvd-rw-blank", "cd-rw-blank"]:
            seeds.append(mmc_seed(s, DEFAULT_CAP, 0, seq))
    return seeds


def ring_seeds():
    seeds = [ring_seed(e, s) for e, s in RING]
    seeds.append(ring_seed(RING[1][0], RING[1][1], data_units=0))
    for mb in RAW_MAILBOX:
        body = ring_seed(RING[0][0], RING[0][1], flags=1)
        seeds.append(body[:4] + mb + body[4:])
    return seeds


def state_seeds():
    seeds = []
    scripts = [b"", bytes(mmc_seed("empty-tray", 0, 0, GROWISOFS)[4:]),
               bytes(mmc_seed("empty-tray", 0, 0, FORMATS)[4:])]
    for text in STATE_FILES:
        for sc in scripts:
            seeds.append(text.encode() + (b"\0" + sc if sc else b""))
    return seeds


# disc_effects (fuzz/src/effects.rs): configuration indices of its CONFIGS, and its records.
EFFECT_CONFIGS = ["type=dvd+r", "type=dvd+rw", "type=dvd-ram", "type=dvd-rw", "type=cd-rw",
                  "type=dvd+r-dl", "type=dvd+r;morph=close"]
EFFECT_RESTART = b"\xf4"


def effect_cmd(cdb, data=b""):
    return bytes([{6: 0, 10: 1, 12: 2, 16: 3}[len(cdb)]]) + cdb + struct.pack("<H", len(data)) + data


def effect_seeds():
    """Burns, formats and blanks of every configuration, each store step failing (0xE0 + step)
    or the daemon dying there (0xEA + step) on the way; steps: flush, state, erase, clear
    mark, data write."""
    cfg = EFFECT_CONFIGS.index
    at_nwa = lambda n: bytes([0xf9, n - 1])
    at = lambda lba, n: bytes([0xf8, n - 1]) + struct.pack("<H", lba)
    fail = lambda step: bytes([0xe0 + step])
    crash = lambda step: bytes([0xea + step])
    sync = effect_cmd(b"\x35" + bytes(9))
    close = lambda fn, track=0: effect_cmd(bytes([0x5b, 0, fn, 0, 0, track, 0, 0, 0, 0]))
    reserve = effect_cmd(b"\x53" + bytes(4) + be32(16) + b"\0")
    blank = effect_cmd(b"\xa1\x01" + bytes(10))

    def fmt(ftype, param):
        return effect_cmd(b"\x04\x11" + bytes(4),
                          bytes([0, 2, 0, 8, 0xff, 0xff, 0xff, 0xff, ftype << 2]) + be32(param)[1:])

    seeds = []
    for c in ("type=dvd+r", "type=dvd+r-dl", "type=dvd+r;morph=close"):
        head = bytes([cfg(c), 20])
        seeds.append(head + at_nwa(8) + at_nwa(4) + sync + close(2) + at_nwa(2) + close(6) + EFFECT_RESTART)
        seeds.append(bytes([cfg(c), 40]) + reserve + at(0, 4) + crash(1) + close(1, 1) + at_nwa(2) + sync + EFFECT_RESTART)
        for step in range(5):
            seeds.append(head + at_nwa(8) + fail(step) + sync + at_nwa(2) + fail(step) + close(2) + EFFECT_RESTART)
            seeds.append(head + at_nwa(8) + sync + at_nwa(3) + crash(step) + close(2) + at_nwa(1))
    formats = {"type=dvd+rw": (0x26, 0), "type=dvd-ram": (0x00, 0), "type=dvd-rw": (0x10, 16),
               "type=cd-rw": (0x10, 32)}
    for c, (ftype, param) in formats.items():
        head = bytes([cfg(c), 63])
        f = fmt(ftype, param)
        seeds.append(head + f + at(0, 4) + at(10, 2) + sync + EFFECT_RESTART)
        seeds.append(head + f + fail(4) + at(1, 1) + sync + EFFECT_RESTART)
        for step in range(5):
            seeds.append(head + f + at(3, 4) + sync + fail(step) + f + EFFECT_RESTART)
            seeds.append(head + f + at(3, 4) + sync + crash(step) + f)
            seeds.append(head + f + at(0, 2) + sync + crash(step) + blank)
    return seeds


E2E_CDBS = os.path.join(HERE, "e2e-cdbs.txt")


def save_sequences(seqs, path):
    with open(path, "w") as f:
        f.write("# CDBs the daemon received in an end-to-end run, per drive, in order (written by\n"
                "# tests/fuzz/make-seeds.py --log; read by it to seed fuzz/corpus/mmc_dispatch).\n")
        for label, seq in sorted(seqs.items()):
            f.write(f"drive {label}\n")
            for cdb in seq:
                f.write(cdb.hex(" ") + "\n")


def load_sequences(path):
    seqs, cur = {}, None
    if not os.path.exists(path):
        return seqs
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            if line.startswith("drive "):
                cur = seqs.setdefault(line[6:], [])
            elif cur is not None:
                cur.append(bytes.fromhex(line))
    return seqs


def write(out, target, seeds):
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    for old in os.listdir(d):
        os.remove(os.path.join(d, old))
    for s in seeds:
        name = hashlib.sha1(s).hexdigest()
        with open(os.path.join(d, name), "wb") as f:
            f.write(s)
    print(f"{target}: {len(set(seeds))} seeds in {d}")


def check_states():
    """STATES must list the harness's states in its order (fuzz/src/mmc.rs)."""
    with open(os.path.join(REPO, "fuzz", "src", "mmc.rs")) as f:
        src = f.read()
    block = src[src.index("pub const STATES"):]
    block = block[:block.index("];")]
    names = re.findall(r'"([^"]+)"', block)
    if names != STATES:
        sys.exit(f"make-seeds.py STATES differ from fuzz/src/mmc.rs: {names}")
    with open(os.path.join(REPO, "fuzz", "src", "effects.rs")) as f:
        src = f.read()
    block = src[src.index("pub const CONFIGS"):]
    names = re.findall(r'"([^"]+)"', block[:block.index("];")])
    if names != EFFECT_CONFIGS:
        sys.exit(f"make-seeds.py EFFECT_CONFIGS differ from fuzz/src/effects.rs: {names}")


def main():
    check_states()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--log", action="append", default=[], help="daemon debug log(s)")
    ap.add_argument("--out", default=os.path.join(REPO, "fuzz", "corpus"))
    a = ap.parse_args()
    if a.log:
        logs = log_sequences(a.log)
        save_sequences(logs, E2E_CDBS)
        print(f"{sum(len(s) for s in logs.values())} CDBs of {len(logs)} drives from the logs, "
              f"kept in {E2E_CDBS}", file=sys.stderr)
    logs = load_sequences(E2E_CDBS)
    write(a.out, "mmc_dispatch", mmc_seeds(logs))
    write(a.out, "ring_parser", ring_seeds())
    write(a.out, "config_parser", [c.encode() for c in CONFIGS])
    write(a.out, "disc_state", state_seeds())
    write(a.out, "disc_effects", effect_seeds())


if __name__ == "__main__":
    main()
