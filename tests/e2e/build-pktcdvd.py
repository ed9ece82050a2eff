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
usage: build-pktcdvd.py pktcdvd.c   (edits the file in place)
"""
import re
import sys

path = sys.argv[1]
src = open(path).read()
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
copy = "\tbio_list_copy_data(pkt->w_bio, pkt->orig_bios.head);\n"
if new.count(copy) != 1:
    sys.exit(f"{path}: the bio_list_copy_data() call in pkt_start_write() was not found")
new = new.replace(
    copy,
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
)
if "#include <linux/major.h>" not in new:
    new = "#include <linux/major.h>\n" + new
split = (
    "\t\tif (last_zone != zone) {\n"
    "\t\t\tBUG_ON(last_zone != zone + pd->settings.size);\n"
    "\n"
    "\t\t\tsplit = bio_split(bio, last_zone -\n"
    "\t\t\t\t\t  bio->bi_iter.bi_sector,\n"
)
if new.count(split) != 1:
    sys.exit(f"{path}: the packet split in pkt_submit_bio() was not found")
new = new.replace(
    split,
    "\t\tif (last_zone != zone) {\n"
    "\t\t\t/* Split at the first packet boundary; the loop takes the rest. */\n"
    "\t\t\tsplit = bio_split(bio, zone + pd->settings.size -\n"
    "\t\t\t\t\t  bio->bi_iter.bi_sector,\n",
)
new = new.replace(
    "static void bio_list_copy_data(", "static void __maybe_unused bio_list_copy_data(", 1
)
open(path, "w").write(new)
