#!/usr/bin/env python3
"""Make Debian 6.1's pktcdvd.c buildable out of tree against Debian's kernel, and correct.

1. Debian builds 6.1 without CONFIG_CDROM_PKTCDVD, so scsi_device_from_queue() (exported only
   for that module) is missing. pkt_new_dev() uses it just to refuse non-SCSI devices; this
   replaces that lookup with the equivalent check that the device is an sr disk (major 11).
2. pkt_start_write() fills a packet with bio_list_copy_data(), which copies the queued bios
   one after another from the packet's first frame, ignoring where each bio belongs. When a
   packet is not written as one ordered run of bios (some frames read back from the disc,
   or bios queued out of order) the data lands in the wrong frames. Observed against
   tcmu-mmc: frames 22.. of a packet written at 18..; a UDF volume written through pktcdvd
   then fails to mount. Each bio is copied to its own offset instead.
3. pkt_submit_bio() splits a write at most once and BUG()s when a bio spans more than two
   packets, which a 64 KiB bio does with 16-frame (32 KiB) DVD packets: the queue limit is
   PACKET_MAX_SECTORS, not the packet size. Observed: "kernel BUG at pktcdvd.c" on the first
   UDF writes to a DVD+RW. The bio is now split at every packet boundary.
4. pkt_ioctl() forwards the CD-ROM ioctls UDF tools need (CDROM_LAST_WRITTEN, CDROMEJECT,
   CDROMMULTISESSION, ...) to bdev->bd_disk->fops->ioctl: that is pktcdvd's own disk, so the
   call comes back into pkt_ioctl(), which blocks forever on the pktcdvd_mutex it already
   holds. (Before 5.12 it called __blkdev_driver_ioctl(pd->bdev, ...), the drive below.)
   libblkid asks CDROM_LAST_WRITTEN of every optical-looking device it probes, so `mount`
   without -t, `blkid` or udisks hang in D state, and every later pktcdvd ioctl or
   `pktsetup -d` queues behind them. Observed in this suite: `blkid -p /dev/pktcdvd/NAME`
   stuck in ioctl(CDROM_LAST_WRITTEN), no command reaching the drive. The ioctl now goes to
   the drive below (pd->bdev), as it did before.
5. pkt_open_dev() for writing limits the drive's own queue to one packet per request
   (blk_queue_max_hw_sectors(q, pd->settings.size): 32 KiB on a DVD) and nothing sets it
   back, so the drive keeps the limit after the packet device is closed, unbound, and the
   disc changed. udev's cdrom_id reads the first 32 blocks (64 KiB, SG_IO) of every DVD+RW,
   DVD-RW or DVD-RAM it probes: the kernel refuses that read without sending it, cdrom_id
   then reports no medium, and udftools' rule (80-pktsetup.rules) removes the packet device
   instead of making one. Observed in the desktop sub-suite: a formatted DVD-RAM gets its
   /dev/pktcdvd node, but after a rw mount, eject and tray close (or a new disc) it does not
   (a CD-RW, whose packets are 64 KiB, does). The limit the drive had is now put back when
   the packet device is released (or its write open fails).
usage: build-pktcdvd.py pktcdvd.c   (edits the file in place)
"""
import re
import sys

path = sys.argv[1]
src = open(path).read()


def replace_once(text, old, new, what):
    """text with its one occurrence of old replaced by new; exits naming what is missing."""
    if text.count(old) != 1:
        sys.exit(f"{path}: {what} was not found")
    return text.replace(old, new)


# 1. Buildable: the sr major instead of scsi_device_from_queue().
lookup = re.compile(
    r"\tsdev = scsi_device_from_queue\(bdev->bd_disk->queue\);\n"
    r"\tif \(!sdev\) \{\n"
    r"(\t\tblkdev_put\([^;]*\);\n)"
    r"\t\treturn -EINVAL;\n"
    r"\t\}\n"
    r"\tput_device\(&sdev->sdev_gendev\);\n"
)
new, n = lookup.subn(
    lambda m: "\tif (bdev->bd_disk->major != SCSI_CDROM_MAJOR) {\n"
    + m.group(1)
    + "\t\treturn -EINVAL;\n\t}\n",
    src,
)
if n != 1:
    sys.exit(f"{path}: the scsi_device_from_queue() lookup in pkt_new_dev() was not found")
new = new.replace("\tstruct scsi_device *sdev;\n", "", 1)
if "#include <linux/major.h>" not in new:
    new = "#include <linux/major.h>\n" + new

# 2. Each bio copied to its own place in the packet.
new = replace_once(
    new,
    "\tbio_list_copy_data(pkt->w_bio, pkt->orig_bios.head);\n",
    "\t{\n"
    "\t\tstruct bio *src;\n"
    "\n"
    "\t\t/* Each queued bio goes to its own place in the packet. */\n"
    "\t\tfor (src = pkt->orig_bios.head; src; src = src->bi_next) {\n"
    "\t\t\tstruct bvec_iter dst_iter = pkt->w_bio->bi_iter;\n"
    "\t\t\tstruct bvec_iter src_iter = src->bi_iter;\n"
    "\n"
    "\t\t\tbio_advance_iter(pkt->w_bio, &dst_iter,\n"
    "\t\t\t\t(src->bi_iter.bi_sector - pkt->sector) << 9);\n"
    "\t\t\tbio_copy_data_iter(pkt->w_bio, &dst_iter, src, &src_iter);\n"
    "\t\t}\n"
    "\t}\n",
    "the bio_list_copy_data() call in pkt_start_write()",
)
new = new.replace(
    "static void bio_list_copy_data(", "static void __maybe_unused bio_list_copy_data(", 1
)

# 3. A bio split at every packet boundary.
new = replace_once(
    new,
    "\t\tif (last_zone != zone) {\n"
    "\t\t\tBUG_ON(last_zone != zone + pd->settings.size);\n"
    "\n"
    "\t\t\tsplit = bio_split(bio, last_zone -\n"
    "\t\t\t\t\t  bio->bi_iter.bi_sector,\n",
    "\t\tif (last_zone != zone) {\n"
    "\t\t\t/* Split at the first packet boundary; the loop takes the rest. */\n"
    "\t\t\tsplit = bio_split(bio, zone + pd->settings.size -\n"
    "\t\t\t\t\t  bio->bi_iter.bi_sector,\n",
    "the packet split in pkt_submit_bio()",
)

# 4. CD-ROM ioctls forwarded to the drive below.
new = replace_once(
    new,
    "\t\tif (!bdev->bd_disk->fops->ioctl)\n"
    "\t\t\tret = -ENOTTY;\n"
    "\t\telse\n"
    "\t\t\tret = bdev->bd_disk->fops->ioctl(bdev, mode, cmd, arg);\n",
    "\t\t/* To the drive below: bdev is this packet device itself. */\n"
    "\t\tif (!pd->bdev->bd_disk->fops->ioctl)\n"
    "\t\t\tret = -ENOTTY;\n"
    "\t\telse\n"
    "\t\t\tret = pd->bdev->bd_disk->fops->ioctl(pd->bdev, mode, cmd, arg);\n",
    "the ioctl forwarding in pkt_ioctl()",
)

# 5. The drive's max_hw_sectors put back when the packet device lets it go.
open_dev = "static int pkt_open_dev(struct pktcdvd_device *pd, fmode_t write)\n"
new = replace_once(
    new,
    open_dev,
    "/* The drive's own max_hw_sectors while a packet device limits it, by packet minor. */\n"
    "static unsigned int pkt_drive_max_hw_sectors[MAX_WRITERS];\n"
    "\n"
    "static void pkt_restore_drive_limit(struct pktcdvd_device *pd)\n"
    "{\n"
    "\tunsigned int *saved = &pkt_drive_max_hw_sectors[MINOR(pd->pkt_dev)];\n"
    "\n"
    "\tif (*saved) {\n"
    "\t\tblk_queue_max_hw_sectors(bdev_get_queue(pd->bdev), *saved);\n"
    "\t\t*saved = 0;\n"
    "\t}\n"
    "}\n"
    "\n" + open_dev,
    "pkt_open_dev()",
)
limit = "\t\tblk_queue_max_hw_sectors(q, pd->settings.size);\n"
new = replace_once(
    new,
    limit,
    "\t\tif (!pkt_drive_max_hw_sectors[MINOR(pd->pkt_dev)])\n"
    "\t\t\tpkt_drive_max_hw_sectors[MINOR(pd->pkt_dev)] = queue_max_hw_sectors(q);\n"
    + limit,
    "the packet-size limit in pkt_open_dev()",
)
put = "\tblkdev_put(pd->bdev, FMODE_READ | FMODE_EXCL);\n"
new = replace_once(
    new,
    "\tpkt_set_speed(pd, MAX_SPEED, MAX_SPEED);\n" + put,
    "\tpkt_set_speed(pd, MAX_SPEED, MAX_SPEED);\n\tpkt_restore_drive_limit(pd);\n" + put,
    "the release in pkt_release_dev()",
)
new = replace_once(
    new,
    "out_putdev:\n\tblkdev_put(bdev, FMODE_READ | FMODE_EXCL);\n",
    "out_putdev:\n\tpkt_restore_drive_limit(pd);\n\tblkdev_put(bdev, FMODE_READ | FMODE_EXCL);\n",
    "the error path of pkt_open_dev()",
)
open(path, "w").write(new)
