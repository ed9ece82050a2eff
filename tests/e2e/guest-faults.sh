# shellcheck shell=bash
# Faults and restarts, sourced by guest.sh inside the guest: backing-store failures reach the
# initiator as a real drive's sense (full filesystem 03/0C/00, image cut short 03/11/00,
# read-only image 07/27/00, EIO from the disk 03/11/00 and 03/0C/00) while another drive keeps
# reading; media outside --media-dir are refused; sd_notify; kill -9 and SIGTERM during a long
# read, restart, and the read completes intact.
# Every drive made here is removed before returning.
# required: fault_enospc_write fault_enospc_other_drive fault_truncated_read
# required: fault_removed_read fault_readonly_media fault_eio_read fault_eio_write
# required: fault_stalled_disk_isolated
# required: confine_symlink_refused confine_inside_ok
# required: sd_notify_ready restart_kill9_read restart_sigterm_read faults_daemon_alive

FD=$RUN/faults
rm -rf "$FD"
mkdir -p "$FD"
# fault_drive NAME IMAGE [OPTIONS]: create + attach (subshell-safe), print the block device
fault_drive() {
    mmc create "$1" "$2" ${3:+"$3"} >/dev/null 2>&1 && mmc attach "$1" >/dev/null 2>&1 || return 1
    udevadm settle --timeout=30
    drive_sr "$1"
}
# Kernel log since a mark written by dmesg_mark.
dmesg_mark() { echo "tcmu-mmc-e2e-mark $1" >/dev/kmsg; }
dmesg_since() { dmesg | sed -n "/tcmu-mmc-e2e-mark $1/,\$p"; }

step "faults: full filesystem under a burn"
mkdir -p "$FD/full"
mount -t tmpfs -o size=1m tmpfs "$FD/full"
: >"$FD/full/blank.iso"
sr=$(fault_drive f0 "$FD/full/blank.iso")
sr0=$(drive_sr d0)
out=$(timeout 300 growisofs -Z "$sr=$SMALL" 2>&1)
rc=$?
echo "$out" | tail -n 5
# growisofs decodes the drive's sense: SK=3h/WRITE ERROR is 03/0C/00.
if echo "$out" | grep -q 'SK=3h/WRITE ERROR' && grep -q 'No space left' "$DLOG"; then
    pass fault_enospc_write
else
    fail fault_enospc_write "growisofs rc $rc: $(echo "$out" | tail -n 3 | oneline); log: $(grep -i 'write of' "$DLOG" | tail -n1 | oneline)"
fi
if [ -b "$sr0" ] && same_prefix "$sr0" "$SMALL"; then
    pass fault_enospc_other_drive
else
    fail fault_enospc_other_drive "d0 '$sr0' did not read back"
fi
mmc delete f0 >/dev/null 2>&1
umount "$FD/full"

step "faults: image cut short and removed under live drives"
cp "$SMALL" "$FD/cut.iso"
cp "$SMALL" "$FD/gone.iso"
sr=$(fault_drive f1 "$FD/cut.iso")
srg=$(fault_drive f2 "$FD/gone.iso")
dmesg_mark cut
truncate -s 1M "$FD/cut.iso"
out=$(timeout 120 dd if="$sr" of=/dev/null bs=64k iflag=direct 2>&1)
rc=$?
echo "$out"
# The block layer turns a medium error into ENODATA ("No data available") or EIO.
if [ $rc -ne 0 ] && echo "$out" | grep -Eq 'No data available|Input/output error' &&
    dmesg_since cut | grep -qi 'Unrecovered read error' && same_prefix "$sr0" "$SMALL"; then
    pass fault_truncated_read
else
    fail fault_truncated_read "dd rc $rc: $(echo "$out" | oneline); dmesg: $(dmesg_since cut | grep -i sense | tail -n2 | oneline)"
fi
# A removed file stays readable through the drive's open descriptor, as on any Unix.
want=$(sha256sum <"$FD/gone.iso" | cut -d' ' -f1)
rm -f "$FD/gone.iso"
got=$(timeout 120 dd if="$srg" bs=64k iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
check fault_removed_read "sha256 $got, want $want" [ "$got" = "$want" ]
mmc delete f1 >/dev/null 2>&1
mmc delete f2 >/dev/null 2>&1

step "faults: recordable image on a read-only mount"
mkdir -p "$FD/ro-src" "$FD/ro"
: >"$FD/ro-src/blank.iso"
mount --bind "$FD/ro-src" "$FD/ro" && mount -o remount,bind,ro "$FD/ro"
sr=$(fault_drive f3 "$FD/ro/blank.iso")
timeout 30 sg_raw "$sr" 00 00 00 00 00 00 >/dev/null 2>&1 # take a pending unit attention
wr=$(timeout 60 sg_raw -s 2048 -i "$SMALL" "$sr" 2a 00 00 00 00 00 00 00 01 00 2>&1)
echo "$wr"
prof=$(current_profile "$sr")
wp=$(status_field f3 write_protected)
if echo "$wr" | grep -qi 'Data protect' && echo "$wr" | grep -qi 'Write protected' &&
    [ "$prof" = 001b ] && [ "$wp" = True ] && grep -q 'write-protected' "$DLOG"; then
    pass fault_readonly_media
else
    fail fault_readonly_media "profile '$prof', status write_protected '$wp', write: $(echo "$wr" | oneline)"
fi
mmc delete f3 >/dev/null 2>&1
umount "$FD/ro"

# EIO from the disk under the image: a DVD-RAM image on ext4 over device-mapper; part of its
# data is swapped for dm's "error" target, so the kernel fails reads and writes of those
# blocks with EIO. The initiator gets the real drive's medium errors: 03/11/00 reading,
# 03/0C/00 writing. Blocks outside the bad area and the other drives keep working.
step "faults: EIO from the disk under an image"
eio_cleanup() {
    mmc delete e0 >/dev/null 2>&1
    umount "$FD/eio" 2>/dev/null
    timeout 60 dmsetup remove mmc-e2e-eio 2>/dev/null
    [ -n "${eio_loop:-}" ] && losetup -d "$eio_loop" 2>/dev/null
    rm -f "$FD/eio.disk"
}
eio_setup() {
    modprobe -q loop
    modprobe -q dm_mod
    truncate -s 64M "$FD/eio.disk"
    eio_loop=$(losetup -f --show "$FD/eio.disk") || return 1
    eio_sectors=$(blockdev --getsz "$eio_loop")
    timeout 60 dmsetup create mmc-e2e-eio --table "0 $eio_sectors linear $eio_loop 0" || return 1
    udevadm settle --timeout=30
    mkfs.ext4 -q -b 4096 /dev/mapper/mmc-e2e-eio || return 1
    mkdir -p "$FD/eio"
    mount /dev/mapper/mmc-e2e-eio "$FD/eio" || return 1
    "$BIN" disc create --type dvd-ram --capacity 16384 "$FD/eio/ram.img" || return 1
    eio_sr=$(fault_drive e0 "$FD/eio/ram.img") && [ -b "$eio_sr" ] || return 1
    eio_sg=$(drive_sg e0)
    # 8 MiB of data written through the drive: the image's blocks are real on the disk.
    head -c 8M /dev/urandom >"$FD/eio.pattern"
    dd if="$FD/eio.pattern" of="$eio_sr" bs=64k oflag=direct conv=fsync status=none || return 1
    sync
    # The image's 4 KiB blocks 512..767 (disc LBAs 1024..1535) must be one extent: find their
    # place on the disk and turn those sectors into errors.
    local phys
    phys=$(filefrag -v -b4096 "$FD/eio/ram.img" | awk -F'[:. ]+' '
        $2 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ && $4 ~ /^[0-9]+$/ && $5 ~ /^[0-9]+$/ {
            ls = $3 + 0; le = $4 + 0; ps = $5 + 0
            if (ls <= 512 && le >= 767) { print ps + 512 - ls; exit }
        }')
    [ -n "$phys" ] || { echo "no single extent holds image blocks 512..767"; filefrag -v "$FD/eio/ram.img"; return 1; }
    local s=$((phys * 8)) n=$((256 * 8))
    timeout 60 dmsetup suspend mmc-e2e-eio &&
        timeout 60 dmsetup load mmc-e2e-eio --table "0 $s linear $eio_loop 0
$s $n error
$((s + n)) $((eio_sectors - s - n)) linear $eio_loop $((s + n))" &&
        timeout 60 dmsetup resume mmc-e2e-eio || return 1
    # Nothing of the image may be answered from the page cache any more.
    sync
    echo 3 >/proc/sys/vm/drop_caches
}
if eio_setup; then
    # READ(10) of one block inside the bad area, then one outside it.
    rd_bad=$(timeout 60 sg_raw -r 2048 "$eio_sg" 28 00 $(be32 1100) 00 00 01 00 2>&1)
    rd_good=$(timeout 60 sg_raw -r 2048 "$eio_sg" 28 00 $(be32 16) 00 00 01 00 2>&1)
    echo "$rd_bad" | head -n 8
    if echo "$rd_bad" | grep -qi 'Unrecovered read error' && echo "$rd_bad" | grep -qi 'Medium Error' &&
        echo "$rd_good" | grep -q 'SCSI Status: Good' && grep -q 'read of 1 block(s) at 1100 failed' "$DLOG"; then
        pass fault_eio_read
    else
        fail fault_eio_read "bad-area read: $(echo "$rd_bad" | oneline); good read: $(echo "$rd_good" | tail -n2 | oneline)"
    fi
    # WRITE(10) of one 2 KiB block inside the bad area: half a page, so the kernel must read
    # the page first and the write fails there; or, if it is taken into the page cache, the
    # SYNCHRONIZE CACHE that follows fails. Either way: 03/0C/00.
    head -c 2048 /dev/urandom >"$FD/eio.block"
    wr=$(timeout 60 sg_raw -s 2048 -i "$FD/eio.block" "$eio_sg" 2a 00 $(be32 1200) 00 00 01 00 2>&1)
    sc=$(timeout 60 sg_raw "$eio_sg" 35 00 00 00 00 00 00 00 00 00 2>&1)
    echo "write: $(echo "$wr" | oneline); sync cache: $(echo "$sc" | oneline)"
    wr_good=$(timeout 60 sg_raw -s 2048 -i "$FD/eio.block" "$eio_sg" 2a 00 $(be32 20) 00 00 01 00 2>&1)
    if echo "$wr $sc" | grep -qi 'Write error' && echo "$wr $sc" | grep -qi 'Medium Error' &&
        echo "$wr_good" | grep -q 'SCSI Status: Good' && [ -b "$(drive_sr d0)" ] &&
        same_prefix "$(drive_sr d0)" "$SMALL"; then
        pass fault_eio_write
    else
        fail fault_eio_write "write: $(echo "$wr" | oneline); sync cache: $(echo "$sc" | oneline); good write: $(echo "$wr_good" | tail -n2 | oneline)"
    fi

    # A disk that stops answering: the device-mapper device is suspended, so e0's next read
    # hangs in the kernel. Its drive thread waits; no other drive may: d0 reads its whole
    # disc (O_DIRECT, past every cache) while e0's read is still stuck, and `tcmu-mmc status`
    # answers for every drive, e0 as busy. Once the disk is back, e0's read completes intact.
    step "faults: a stalled disk under one drive"
    sync
    echo 3 >/proc/sys/vm/drop_caches
    timeout 60 dmsetup suspend mmc-e2e-eio
    (timeout 120 dd if="$eio_sr" bs=2048 skip=2048 count=256 iflag=direct 2>/dev/null |
        sha256sum | cut -d' ' -f1 >"$FD/stall.sum") &
    spid=$!
    sleep 2
    stuck_before=no
    kill -0 "$spid" 2>/dev/null && stuck_before=yes
    sr0=$(drive_sr d0)
    other=no
    timeout 60 dd if="$sr0" bs=2048 count=$(($(stat -c %s "$SMALL") / 2048)) iflag=direct 2>/dev/null |
        cmp -s - "$SMALL" && other=yes
    st=$(timeout 30 "$BIN" --run-dir "$RUN" status --json 2>&1)
    stuck_after=no
    kill -0 "$spid" 2>/dev/null && stuck_after=yes
    timeout 60 dmsetup resume mmc-e2e-eio
    wait "$spid"
    want=$(dd if="$FD/eio.pattern" bs=2048 skip=2048 count=256 2>/dev/null | sha256sum | cut -d' ' -f1)
    got=$(cat "$FD/stall.sum" 2>/dev/null)
    st_ok=$(echo "$st" | python3 -c '
import json, sys
d = {x["name"]: x for x in json.load(sys.stdin)}
print("yes" if d["d0"]["tray"] == "closed" and "did not answer" in (d["e0"].get("note") or "") else "no")' 2>&1)
    echo "stalled read: stuck before $stuck_before, after d0's read $stuck_after; d0 read $other; status $st_ok; e0 sha256 $got"
    if [ $stuck_before = yes ] && [ $stuck_after = yes ] && [ $other = yes ] && [ "$st_ok" = yes ] &&
        [ "$got" = "$want" ]; then
        pass fault_stalled_disk_isolated
    else
        fail fault_stalled_disk_isolated "e0 read stuck $stuck_before/$stuck_after, d0 read $other, status $st_ok ($(echo "$st" | oneline | cut -c1-300)), e0 sha256 $got want $want"
    fi
else
    fail fault_eio_read "could not build the device-mapper setup (see guest.log)"
    fail fault_eio_write "could not build the device-mapper setup (see guest.log)"
    fail fault_stalled_disk_isolated "could not build the device-mapper setup (see guest.log)"
fi
eio_cleanup

step "confinement: --media-dir"
mkdir -p "$FD/media" "$FD/secret"
cp "$SMALL" "$FD/secret/private.iso"
cp "$SMALL" "$FD/media/inside.iso"
ln -sf "$FD/secret/private.iso" "$FD/media/escape.iso"
DAEMON_ARGS=(--media-dir "$FD/media" --media-dir "$IMG")
restart_daemon d0
DAEMON_ARGS=()
sre=$(fault_drive c0 "$FD/media/escape.iso")
sri=$(fault_drive c1 "$FD/media/inside.iso")
sleep 1
out=$(timeout 60 dd if="$sre" of=/dev/null bs=2048 count=1 2>&1)
echo "$out"
if echo "$out" | grep -q 'No medium found' && grep -q 'outside the media directories' "$DLOG"; then
    pass confine_symlink_refused
else
    fail confine_symlink_refused "dd: $(echo "$out" | oneline); log: $(grep -i 'c0' "$DLOG" | tail -n2 | oneline)"
fi
if [ -b "$sri" ] && same_prefix "$sri" "$SMALL" && same_prefix "$(drive_sr d0)" "$SMALL"; then
    pass confine_inside_ok
else
    fail confine_inside_ok "c1 '$sri' or d0 did not read back under --media-dir"
fi
mmc delete c0 >/dev/null 2>&1
mmc delete c1 >/dev/null 2>&1

# Unconfined again for the rest of the suite, and under systemd's readiness protocol this
# time: READY=1 must come only once the existing drive d0 is served, STOPPING=1 on SIGTERM.
step "sd_notify: READY=1 after the drives are served"
rm -f "$RUN/notify" "$OUT/notify.msgs"
python3 -c '
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(120)
with open(sys.argv[2], "a") as out:
    for _ in range(2):
        m = s.recv(4096).decode()
        out.write(m.replace("\n", " ") + "\n")
        out.flush()' "$RUN/notify" "$OUT/notify.msgs" &
npid=$!
for _ in $(seq 50); do [ -S "$RUN/notify" ] && break; sleep 0.1; done
kill -TERM "$DPID"
wait "$DPID" 2>/dev/null
NOTIFY_SOCKET=$RUN/notify daemon_start
ready_attached=no
for _ in $(seq 100); do
    if grep -q READY=1 "$OUT/notify.msgs" 2>/dev/null; then
        daemon_holds "$DPID" "$(backstore_uio d0)" && ready_attached=yes
        break
    fi
    sleep 0.1
done
kill -TERM "$DPID"
wait "$DPID" 2>/dev/null
wait "$npid" 2>/dev/null
msgs=$(cat "$OUT/notify.msgs" 2>/dev/null)
echo "notify messages: $msgs"
if [ $ready_attached = yes ] && echo "$msgs" | grep -q "MAINPID=$DPID" &&
    echo "$msgs" | tail -n1 | grep -qx 'STOPPING=1'; then
    pass sd_notify_ready
else
    fail sd_notify_ready "d0 served at READY: $ready_attached; messages: $(echo "$msgs" | oneline)"
fi
kill "$npid" 2>/dev/null
daemon_start && (wait_daemon_attached d0 30) >/dev/null 2>&1 || echo "daemon did not come back with d0"

# restart_during_read NAME SIGNAL: drive NAME holds the first 24 MB of $BIG; a read of its
# first 20 MB runs across a restart of the daemon by SIGNAL and must finish intact.
restart_during_read() {
    local name=$1 sig=$2 sr rc
    head -c $((24 << 20)) "$BIG" >"$FD/$name.iso"
    sr=$(fault_drive "$name" "$FD/$name.iso")
    read_across_restart "$sr" "$FD/$name.iso" "$sig" 10240
    rc=$?
    mmc delete "$name" >/dev/null 2>&1
    return $rc
}

step "restarts during a read"
check restart_kill9_read "read after kill -9 and restart did not complete intact (see guest.log)" \
    restart_during_read r9 KILL
check restart_sigterm_read "read across SIGTERM and restart did not complete intact (see guest.log)" \
    restart_during_read rt TERM
if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null && same_prefix "$(drive_sr d0)" "$SMALL"; then
    pass faults_daemon_alive
else
    fail faults_daemon_alive "daemon or d0 gone after the fault scenarios"
fi
rm -rf "$FD"
