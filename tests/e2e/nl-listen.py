#!/usr/bin/env python3
"""A second member of the kernel's TCM-USER netlink `config` group (as tcmu-runner is on a
real host): it reads and counts every event until killed, writing the count to a file.

With a second member, a dev_config write succeeds even when the daemon's socket is full, so
the daemon loses events (ENOBUFS) while configfs records the change; the e2e checks that
the daemon reads dev_config again and ends on the disc configfs names.

usage: nl-listen.py READY_FILE COUNT_FILE
"""
import socket
import struct
import sys

NETLINK_GENERIC = 16
GENL_ID_CTRL = 0x10
CTRL_CMD_GETFAMILY = 3
CTRL_ATTR_FAMILY_ID = 1
CTRL_ATTR_FAMILY_NAME = 2
CTRL_ATTR_MCAST_GROUPS = 7
SOL_NETLINK = 270
NETLINK_ADD_MEMBERSHIP = 1


def attrs(b):
    while len(b) >= 4:
        ln, kind = struct.unpack_from("=HH", b)
        if ln < 4 or ln > len(b):
            return
        yield kind & 0x3FFF, b[4:ln]
        b = b[(ln + 3) & ~3:]


def resolve(s):
    name = b"TCM-USER\0"
    attr = struct.pack("=HH", 4 + len(name), CTRL_ATTR_FAMILY_NAME) + name
    attr += b"\0" * (-len(attr) % 4)
    genl = struct.pack("=BBH", CTRL_CMD_GETFAMILY, 1, 0) + attr
    s.send(struct.pack("=IHHII", 16 + len(genl), GENL_ID_CTRL, 1, 1, 0) + genl)
    reply = s.recv(65536)
    family = group = None
    for kind, p in attrs(reply[20:]):
        if kind == CTRL_ATTR_FAMILY_ID:
            family = struct.unpack_from("=H", p)[0]
        elif kind == CTRL_ATTR_MCAST_GROUPS:
            for _, grp in attrs(p):
                g = dict(attrs(grp))
                if g.get(1, b"").rstrip(b"\0") == b"config":
                    group = struct.unpack_from("=I", g[2])[0]
    if family is None or group is None:
        sys.exit("TCM-USER family or its config group not found")
    return family, group


def main():
    ready, count_file = sys.argv[1], sys.argv[2]
    s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_GENERIC)
    s.bind((0, 0))
    _, group = resolve(s)
    s.setsockopt(SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, group)
    # Past rmem_max (we are root): this listener must never be the one that overflows.
    SO_RCVBUFFORCE = 33
    s.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, 8 << 20)
    open(ready, "w").write("listening\n")
    count = 0
    while True:
        try:
            s.recv(65536)
        except OSError:
            continue
        count += 1
        with open(count_file, "w") as f:
            f.write(f"{count}\n")


main()
