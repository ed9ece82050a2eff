#!/usr/bin/env python3
"""Send a CDB storm (lines from storm-cdbs.py) to a SCSI generic device through SG_IO.

usage: storm-send.py SG-DEVICE CDB-FILE POOL-FILE [TIMEOUT-SECONDS]

What sg_raw does for one command, for every line of CDB-FILE, in one process: a command a
few milliseconds instead of a process start each (hundreds of commands per drive fit in the
suite's time). Each line is DIRECTION RLEN SLEN SKIP CDB-HEX-BYTES... (see storm-cdbs.py);
Data-Out bytes come from POOL-FILE at SKIP.

Every command gets TIMEOUT-SECONDS (default 10) in the kernel, as `sg_raw -t`. A command that
the kernel had to time out (host byte DID_TIME_OUT, or a duration reaching the timeout) counts
as hung. Prints one summary line, "sent N hung H outcomes OUTCOME:COUNT...", with outcomes
good, check-<sense key>, status-<hex>, host-<hex>, driver-<hex> and errno-<name>; lists each
hung command on stderr. Exit status 0 when every line was sent and none hung, 1 otherwise.
"""
import ctypes
import errno
import fcntl
import os
import sys

SG_IO = 0x2285
SG_DXFER_NONE = -1
SG_DXFER_TO_DEV = -2
SG_DXFER_FROM_DEV = -3
DID_TIME_OUT = 0x03
SENSE_LEN = 32


class SgIoHdr(ctypes.Structure):
    """struct sg_io_hdr from <scsi/sg.h>."""

    _fields_ = [
        ("interface_id", ctypes.c_int),
        ("dxfer_direction", ctypes.c_int),
        ("cmd_len", ctypes.c_ubyte),
        ("mx_sb_len", ctypes.c_ubyte),
        ("iovec_count", ctypes.c_ushort),
        ("dxfer_len", ctypes.c_uint),
        ("dxferp", ctypes.c_void_p),
        ("cmdp", ctypes.c_void_p),
        ("sbp", ctypes.c_void_p),
        ("timeout", ctypes.c_uint),
        ("flags", ctypes.c_uint),
        ("pack_id", ctypes.c_int),
        ("usr_ptr", ctypes.c_void_p),
        ("status", ctypes.c_ubyte),
        ("masked_status", ctypes.c_ubyte),
        ("msg_status", ctypes.c_ubyte),
        ("sb_len_wr", ctypes.c_ubyte),
        ("host_status", ctypes.c_ushort),
        ("driver_status", ctypes.c_ushort),
        ("resid", ctypes.c_int),
        ("duration", ctypes.c_uint),
        ("info", ctypes.c_uint),
    ]


def sense_key(sense: bytes) -> int:
    """The sense key of fixed (70h/71h) or descriptor (72h/73h) sense data."""
    if not sense:
        return -1
    code = sense[0] & 0x7F
    if code in (0x70, 0x71) and len(sense) > 2:
        return sense[2] & 0x0F
    if code in (0x72, 0x73) and len(sense) > 1:
        return sense[1] & 0x0F
    return -1


def send(fd: int, cdb: bytes, direction: str, data: bytearray, timeout_ms: int):
    """One SG_IO; returns (outcome, hung)."""
    cdb_buf = ctypes.create_string_buffer(bytes(cdb), len(cdb))
    sense_buf = ctypes.create_string_buffer(SENSE_LEN)
    data_buf = (ctypes.c_ubyte * len(data)).from_buffer(data) if data else None
    hdr = SgIoHdr()
    hdr.interface_id = ord("S")
    hdr.dxfer_direction = {
        "in": SG_DXFER_FROM_DEV,
        "out": SG_DXFER_TO_DEV,
    }.get(direction, SG_DXFER_NONE)
    hdr.cmd_len = len(cdb)
    hdr.mx_sb_len = SENSE_LEN
    hdr.dxfer_len = len(data)
    hdr.dxferp = ctypes.addressof(data_buf) if data_buf is not None else None
    hdr.cmdp = ctypes.addressof(cdb_buf)
    hdr.sbp = ctypes.addressof(sense_buf)
    hdr.timeout = timeout_ms
    try:
        fcntl.ioctl(fd, SG_IO, hdr)
    except OSError as e:
        return "errno-" + errno.errorcode.get(e.errno, str(e.errno)), False
    hung = hdr.host_status == DID_TIME_OUT or hdr.duration >= timeout_ms
    if hdr.host_status:
        return "host-%x" % hdr.host_status, hung
    if hdr.driver_status & 0x0F and hdr.status != 0x02:
        return "driver-%x" % hdr.driver_status, hung
    if hdr.status == 0:
        return "good", hung
    if hdr.status == 0x02:
        return "check-%x" % sense_key(sense_buf.raw[: hdr.sb_len_wr]), hung
    return "status-%x" % hdr.status, hung


def main() -> int:
    if len(sys.argv) not in (4, 5):
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    dev, cdb_file, pool_file = sys.argv[1:4]
    timeout_ms = int(float(sys.argv[4]) * 1000) if len(sys.argv) == 5 else 10000
    with open(pool_file, "rb") as f:
        pool = f.read()
    with open(cdb_file) as f:
        lines = [line.split() for line in f if line.strip()]
    fd = os.open(dev, os.O_RDWR | os.O_NONBLOCK)
    outcomes: dict = {}
    sent = hung = 0
    try:
        for fields in lines:
            direction, rlen, slen, skip = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
            cdb = bytes(int(b, 16) for b in fields[4:])
            if direction == "in":
                data = bytearray(rlen)
            elif direction == "out":
                data = bytearray(pool[skip : skip + slen])
            else:
                data = bytearray()
            outcome, was_hung = send(fd, cdb, direction, data, timeout_ms)
            sent += 1
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
            if was_hung:
                hung += 1
                print("hung: " + " ".join(fields), file=sys.stderr)
    finally:
        os.close(fd)
    summary = " ".join("%s:%d" % kv for kv in sorted(outcomes.items()))
    print("sent %d hung %d outcomes %s" % (sent, hung, summary))
    return 0 if sent == len(lines) and hung == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
