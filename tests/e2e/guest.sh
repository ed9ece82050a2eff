#!/bin/bash
# Runs INSIDE the QEMU guest (booted by tests/e2e/run.sh). One line per scenario goes to
# $OUT/results.txt: "PASS: name", "FAIL: name: reason" or "SKIP: name: reason".
# Everything else goes to $OUT/guest.log. $OUT/guest.done marks a finished run.
# OUT is E2E_OUT, default $WORK/out: run.sh boots guests side by side, each with its own OUT
# (and its own scratch files in it); $WORK/img holds the inputs they share. E2E_BASE=1 (the
# default; run.sh sets 0 for every guest but the first) runs the base checks of guest.sh itself.
#
# usage: guest.sh WORK
# required: script_create backstore_2048 script_create_idempotent script_create_conflict
# required: script_attach_no_daemon daemon_start attach bind_sr inquiry_product dmesg_mmc size
# required: dd_cmp mount_sha256 cdrom_id invalid_opcode_d8 invalid_opcode_59 read_after_invalid
# required: lba_out_of_range script_attach_idempotent no_medium_missing_file
# required: no_medium_empty_path blank_file big_read script_list daemon_alive teardown
# required: daemon_sigterm
set -uo pipefail

WORK=${1:?usage: guest.sh WORK}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BIN=${E2E_DAEMON:-$REPO/target/release/tcmu-mmc}
OUT=${E2E_OUT:-$WORK/out}
E2E_BASE=${E2E_BASE:-1}
IMG=$WORK/img
# The daemon's run dir (pid file, control socket) on the guest's tmpfs: 9p cannot hold a socket.
RUN=/run/tcmu-mmc-e2e
MNT=$OUT/mnt
RES=$OUT/results.txt
DLOG=$OUT/daemon.log
export TCMU_MMC_RUN_DIR=$RUN
MMC=("$REPO/configfs-scripts/mmc-drive")

exec >"$OUT/guest.log" 2>&1
PROG=guest
# shellcheck source=configfs-scripts/lib.sh
. "$REPO/configfs-scripts/lib.sh"
# lib.sh helpers call `die` (exit); in this script a failed helper must not end the run.
set +e

echo "guest: uptime $(cut -d' ' -f1 /proc/uptime)s, kernel $(uname -r)"
rm -rf "$RUN" "$MNT"
mkdir -p "$RUN" "$MNT"

result() { # result STATUS NAME [REASON]
    local line="$1: $2${3:+: $3}"
    echo "$line"
    echo "$line" >>"$RES"
}
pass() { result PASS "$1"; }
fail() { result FAIL "$1" "${2:-failed}"; }
skip() { result SKIP "$1" "${2:-skipped}"; }
# check NAME REASON COMMAND...: PASS if COMMAND succeeds.
check() {
    local name=$1 reason=$2
    shift 2
    if "$@"; then pass "$name"; else fail "$name" "$reason"; fi
}
step() { echo "=== $* ($(cut -d' ' -f1 /proc/uptime)s)"; }
oneline() { tr '\n' ' ' | sed 's/  */ /g; s/ $//' | cut -c1-300; }

mmc() { timeout 120 "${MMC[@]}" "$@"; }

DPID=
DAEMON_ARGS=() # extra daemon options for the next daemon_start (e.g. --media-dir)
daemon_start() {
    # Each start gets a fresh daemon.log (scenarios grep it); earlier ones are kept.
    [ -s "$DLOG" ] && cat "$DLOG" >>"$OUT/daemon-earlier.log"
    RUST_LOG=${E2E_RUST_LOG:-info} "$BIN" --run-dir "$RUN" "${DAEMON_ARGS[@]}" >"$DLOG" 2>&1 &
    DPID=$!
    for _ in $(seq 1 150); do
        [ -s "$RUN/tcmu-mmc.pid" ] && [ "$(tr -dc 0-9 <"$RUN/tcmu-mmc.pid")" = "$DPID" ] && return 0
        kill -0 "$DPID" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}

# Per-drive device lookup through the tcm_loop LUN address.
drive_addr() {
    local lun
    lun=$(loop_lun_of "$1")
    [ -n "$lun" ] && loop_scsi_addr "$lun"
}
drive_sr() { scsi_block_dev "$(drive_addr "$1")"; }
drive_sg() { scsi_generic_dev "$(drive_addr "$1")"; }

# ---- helpers shared by the sub-suites
# Bytes 6-7 of GET CONFIGURATION: the current profile, as 4 hex digits.
current_profile() {
    sg_raw -r 8 "$1" 46 00 00 00 00 00 00 00 08 00 2>&1 |
        awk '/^ *00 /{print $8 $9; exit}'
}
# What DEV says it is: INQUIRY "vendor/product/revision", the unit serial (VPD 80h) and the
# NAA designator of VPD 83h ("0x6" and 31 hex digits, lower case).
inq_names() {
    sg_inq "$1" 2>/dev/null |
        sed -n 's/^ *\(Vendor identification\|Product identification\|Product revision level\): *\(.*[^ ]\) *$/\2/p' |
        paste -sd/
}
inq_serial() { sg_inq -p 0x80 "$1" 2>/dev/null | sed -n 's/^ *Unit serial number: *//p'; }
inq_naa() { sg_vpd -p di "$1" 2>/dev/null | grep -o -i -m1 '0x6[0-9a-f]\{31\}' | tr A-F a-f; }
# The first SIZE bytes of DEV equal FILE.
same_prefix() { # same_prefix DEV FILE
    local n
    n=$(stat -c %s "$2")
    timeout 120 dd if="$1" bs=2048 count=$((n / 2048)) 2>/dev/null | cmp -s - "$2"
}
# The image holds FILE followed only by zeros (growisofs pads the track to 32 KiB).
image_is_file_padded() { # image_is_file_padded IMAGE FILE
    local n m
    n=$(stat -c %s "$2")
    m=$(stat -c %s "$1")
    cmp -s -n "$n" "$1" "$2" && [ "$m" -ge "$n" ] && [ "$m" -le $((n + 32768)) ] &&
        [ -z "$(tail -c +$((n + 1)) "$1" | tr -d '\0' | head -c 1)" ]
}
mounted_sums_ok() { # mounted_sums_ok DEV SUMFILE...: mount DEV read-only, check every list
    local dev=$1 f rc=0
    shift
    timeout 60 mount -t iso9660 -o ro "$dev" "$MNT" || return 1
    for f in "$@"; do
        (cd "$MNT" && timeout 120 sha256sum --quiet -c "$f") || rc=1
    done
    umount "$MNT"
    return $rc
}

# blank_drive NAME IMAGE CONFIG: IMAGE emptied and made a blank disc by CONFIG ("type=...;..."),
# attached as NAME; prints its /dev/srN (it runs in $(...); the caller deletes NAME).
blank_drive() {
    local out
    : >"$2"
    out=$(mmc create "$1" "$2" "$3" 2>&1 && mmc attach "$1" 2>&1) || {
        echo "blank_drive $1: $out" >&2
        return 1
    }
    udevadm settle --timeout=30
    drive_sr "$1"
}
# burn_cdrskin SCENARIO DEV: cdrskin burns $SMALL on DEV's blank disc; it reads back byte for
# byte and mounts with every checksum right.
burn_cdrskin() {
    local out rc
    out=$(timeout 300 cdrskin -v dev="$2" "$SMALL" 2>&1)
    rc=$?
    echo "$out" | tail -n 12
    sleep 3
    if [ $rc -eq 0 ] && same_prefix "$2" "$SMALL" && mounted_sums_ok "$2" "$IMG/small.sha256"; then
        pass "$1"
    else
        fail "$1" "cdrskin rc $rc: $(echo "$out" | grep -i 'failure\|sorry\|error' | head -n3 | oneline)"
    fi
}
# burn_xorriso_twice SCENARIO DEV TREE1 SUMS1 TREE2 SUMS2: two `xorriso -dev` runs, one tree
# each (two sessions, or a grown image); both trees' checksums hold on the mounted disc.
burn_xorriso_twice() {
    local out1 out2 rc1 rc2
    out1=$(timeout 300 xorriso -dev "$2" -map "$3" / -commit 2>&1)
    rc1=$?
    sleep 3
    out2=$(timeout 300 xorriso -dev "$2" -map "$5" / -commit 2>&1)
    rc2=$?
    echo "$out2" | tail -n 8
    sleep 3
    if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && mounted_sums_ok "$2" "$4" "$6"; then
        pass "$1"
    else
        fail "$1" "xorriso rc $rc1/$rc2: $(echo "$out1$out2" | grep -i 'failure\|sorry\|error' | head -n3 | oneline)"
    fi
}

# ---- UDF and packet writing (the rewritable and desktop sub-suites)
PKT_KO=$WORK/pkt/pktcdvd.ko
TREE=$IMG/udf-tree
SUMS=$IMG/udf-tree.sha256
pktcdvd_load() { # the suite's pktcdvd.ko (see build-pktcdvd.py), unless already loaded
    modprobe cdrom
    modprobe udf
    [ -e /sys/class/pktcdvd ] || insmod "$PKT_KO"
}
# udftools' udev rule (80-pktsetup.rules) binds pktcdvd to every formatted rewritable disc by
# itself. udftools_rule off masks it (an empty file of its name in /etc, the guest's overlay),
# udftools_rule on takes the mask away.
udftools_rule() { # udftools_rule on|off
    mkdir -p /etc/udev/rules.d
    if [ "$1" = on ]; then
        rm -f /etc/udev/rules.d/80-pktsetup.rules
    else
        : >/etc/udev/rules.d/80-pktsetup.rules
    fi
    udevadm control --reload 2>/dev/null
}
rw_drive() { # rw_drive NAME TYPE [CAPACITY]: a fresh blank disc of TYPE, attached; prints its /dev/srN
    local name=$1 type=$2 img=$IMG/rw-$1.img out
    rm -f "$img" "$img.tcmu-mmc.json"
    out=$("$BIN" disc create --type "$type" ${3:+--capacity "$3"} "$img" 2>&1 &&
        mmc create "$name" "$img" 2>&1 && mmc attach "$name" 2>&1) || {
        echo "rw_drive $name: $out" >&2
        return 1
    }
    udevadm settle --timeout=30
    drive_sr "$name"
}

# bounded SECS COMMAND...: COMMAND's status, or 124 after SECS seconds. A command stuck in the
# kernel cannot be killed (timeout(1) would wait for it forever): it is left running, and its
# kernel stack goes to the log.
bounded() {
    local secs=$1 pid waited=0
    shift
    "$@" &
    pid=$!
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$waited" -ge $((secs * 5)) ]; then
            echo "bounded: '$*' still running after ${secs}s; kernel stack of $pid:"
            cat "/proc/$pid/stack" 2>/dev/null
            for c in $(pgrep -P "$pid"); do echo "child $c:" && cat "/proc/$c/stack"; done
            return 124
        fi
        sleep 0.2
        waited=$((waited + 1))
    done
    wait "$pid"
}
udf_mkfs() { # udf_mkfs DEV MEDIA_TYPE: mkudffs, with the retries udev's probes need
    local dev=$1 media=$2 out rc try
    # udev probes a new block device (blkid opens it); mkudffs wants it exclusively.
    for try in 1 2 3 4 5; do
        udevadm settle --timeout=60
        out=$(timeout 300 mkudffs --media-type="$media" "$dev" 2>&1)
        rc=$?
        echo "$out" | grep -q 'Device is mounted or mkudffs is already running' || break
        echo "mkudffs: $dev busy (try $try)"
        sleep 2
    done
    [ $rc -eq 0 ] || echo "mkudffs rc $rc: $(echo "$out" | tail -n2 | oneline)"
    return $rc
}
# udf_mount DEV MODE [udf]: mount DEV on $MNT with -o MODE, with -t udf or (no third argument)
# without -t, as people type it; then it must have been mounted as UDF.
udf_mount() {
    local dev=$1 mode=$2 fstype
    bounded 60 mount ${3:+-t "$3"} -o "$mode" "$dev" "$MNT" || return 1
    fstype=$(findmnt -n -o FSTYPE "$MNT")
    [ "$fstype" = udf ] || { echo "mounted as '$fstype', not udf"; umount "$MNT"; return 1; }
}
udf_fill() { # udf_fill DEV [udf]: mount read-write, copy the tree, unmount
    local dev=$1 out rc
    udf_mount "$dev" rw,noatime "${2:-}" || { echo "rw mount of $dev failed"; return 1; }
    out=$(timeout 900 cp -r "$TREE/." "$MNT/" 2>&1)
    rc=$?
    timeout 900 umount "$MNT" || { echo "umount after copy failed"; return 1; }
    [ $rc -eq 0 ] || { echo "cp rc $rc: $(echo "$out" | head -n3 | oneline)"; return 1; }
}
# udf_round_trip SCENARIO DEV MEDIA_TYPE: mkudffs, rw mount, copy, umount, mount, compare.
udf_round_trip() {
    local out
    out=$(udf_mkfs "$2" "$3" && udf_fill "$2" udf) || { fail "$1" "$(echo "$out" | tail -n3 | oneline)"; return 1; }
    udf_compare "$1" "$2" udf
}
# udf_compare SCENARIO DEV [udf]: mount read-only (with -t udf, or without -t), check every
# checksum
udf_compare() {
    local scen=$1 dev=$2 out rc
    out=$(udf_mount "$dev" ro "${3:-}" 2>&1) || { fail "$scen" "mount${3:+ -t $3}: $(echo "$out" | oneline)"; return 1; }
    out=$(cd "$MNT" && timeout 300 sha256sum --quiet -c "$SUMS" 2>&1)
    rc=$?
    umount "$MNT"
    if [ $rc -eq 0 ]; then
        pass "$scen"
    else
        fail "$scen" "checksums: $(echo "$out" | head -n3 | oneline)"
        return 1
    fi
}

restart_daemon() { # restart_daemon NAME...: SIGTERM, start again, wait for NAME to attach
    local n
    kill -TERM "$DPID"
    wait "$DPID" 2>/dev/null
    daemon_start || return 1
    for n in "$@"; do
        (wait_daemon_attached "$n" 30) >/dev/null 2>&1 || return 1
    done
}

# read_across_restart DEV FILE SIGNAL [BLOCKS]: an O_DIRECT read of DEV's first BLOCKS
# (default: all of FILE) in 2 KiB commands, many round trips, so the daemon dies with commands
# in flight: it is killed with SIGNAL 1.5 s in and started again. True if the read was still
# running at the kill and came back with FILE's bytes.
read_across_restart() {
    local dev=$1 file=$2 sig=$3 blocks=${4:-} tag dd_pid was_running=no rc got want
    [ -n "$blocks" ] || blocks=$(($(stat -c %s "$file") / 2048))
    tag=restart-${dev##*/}
    want=$(head -c $((blocks * 2048)) "$file" | sha256sum | cut -d' ' -f1)
    (timeout 600 dd if="$dev" bs=2048 count="$blocks" iflag=direct 2>"$OUT/$tag.dd.err" |
        sha256sum | cut -d' ' -f1 >"$OUT/$tag.sum") &
    dd_pid=$!
    sleep 1.5
    kill -0 "$dd_pid" 2>/dev/null && was_running=yes
    kill "-$sig" "$DPID"
    wait "$DPID" 2>/dev/null
    sleep 1
    daemon_start
    wait "$dd_pid"
    rc=$?
    got=$(cat "$OUT/$tag.sum" 2>/dev/null)
    echo "$dev: dd rc $rc across $sig, running at kill: $was_running, sha256 $got; $(oneline <"$OUT/$tag.dd.err")"
    if [ $was_running != yes ]; then
        echo "the read finished before the daemon was killed: the scenario did not happen"
        return 1
    fi
    [ "$got" = "$want" ]
}

# status_field NAME FIELD: one field of `tcmu-mmc status --json` for the drive NAME
status_field() {
    timeout 30 "$BIN" --run-dir "$RUN" status --json 2>>"$OUT/status-errors.log" | python3 -c '
import json, sys
for d in json.load(sys.stdin):
    if d["name"] == sys.argv[1]:
        v = d[sys.argv[2]]
        print(",".join(v) if isinstance(v, list) else v)' "$1" "$2" 2>>"$OUT/status-errors.log"
}
# wait_status NAME FIELD VALUE: up to 30 s for the daemon to report VALUE
wait_status() {
    local i
    for i in $(seq 1 60); do
        [ "$(status_field "$1" "$2")" = "$3" ] && return 0
        sleep 0.5
    done
    return 1
}
# exported_sr NAME: the block device the drive NAME is exported as (up to 20 s), or nothing
exported_sr() {
    local i dev
    for i in $(seq 1 40); do
        dev=$(status_field "$1" exports)
        [ -b "$dev" ] && break
        sleep 0.5
    done
    echo "$dev"
}

# be32 LBA as four sg_raw hex bytes
be32() { printf '%02x %02x %02x %02x' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) $(($1 >> 8 & 255)) $(($1 & 255)); }

# Sub-suites, in run order (see "sub-suites" below). targetcli and runner stay last: their
# clearconfig and restoreconfig take every drive down and back up (runner uses targetcli's bus).
E2E_PARTS="burn dvdr bd media seed rewritable desktop erase supervise faults iscsi many storm targetcli runner"

# kill9_mid_burn NAME IMAGE BYTES PID: once IMAGE has grown past BYTES (or burner PID ended),
# kill -9 the daemon, start it again and wait for NAME and for the burner. Sets KILLED_AT (the
# image size at the kill) and BURN_RC (the burner's exit status).
kill9_mid_burn() {
    local name=$1 image=$2 bytes=$3 pid=$4
    for _ in $(seq 1 300); do
        [ "$(stat -c %s "$image")" -gt "$bytes" ] && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.2
    done
    KILLED_AT=$(stat -c %s "$image")
    kill -KILL "$DPID"
    wait "$DPID" 2>/dev/null
    daemon_start
    (wait_daemon_attached "$name" 30) >/dev/null 2>&1
    wait "$pid"
    BURN_RC=$?
}

SMALL=$IMG/small.iso
BIG=$IMG/big.iso

# ------------------------------------------------------------------ script checks (no daemon)
# The checks of the drives made here (d0, e1-e3, big) run in the first guest only (E2E_BASE=1);
# the others make just d0, which their sub-suites use.
if [ "$E2E_BASE" = 1 ]; then
step "script checks without daemon"
out=$(mmc create d0 "$SMALL" 2>&1)
rc=$?
echo "$out"
check script_create "mmc-drive create d0 failed (rc $rc): $(echo "$out" | oneline)" \
    [ $rc -eq 0 -a -n "$(backstore_dir d0)" ]
check backstore_2048 "info: $(oneline <"$(backstore_dir d0)/info")" grep -q 'SectorSize: 2048' "$(backstore_dir d0)/info"

out=$(mmc create d0 "$SMALL" 2>&1)
rc=$?
echo "$out"
if [ $rc -eq 0 ] && echo "$out" | grep -q 'already exists'; then
    pass script_create_idempotent
else
    fail script_create_idempotent "rc $rc: $(echo "$out" | oneline)"
fi
out=$(mmc create d0 "$BIG" 2>&1)
rc=$?
echo "$out"
if [ $rc -ne 0 ] && echo "$out" | grep -q 'different config'; then
    pass script_create_conflict
else
    fail script_create_conflict "rc $rc: $(echo "$out" | oneline)"
fi

out=$(MMC_ATTACH_TIMEOUT=2 mmc attach d0 2>&1)
rc=$?
echo "$out"
if [ $rc -ne 0 ] && echo "$out" | grep -q 'daemon not running' && [ -z "$(loop_lun_of d0)" ]; then
    pass script_attach_no_daemon
else
    fail script_attach_no_daemon "rc $rc: $(echo "$out" | oneline)"
fi
else
    mmc create d0 "$SMALL"
fi

# ------------------------------------------------------------------ daemon
step "starting daemon"
if [ ! -x "$BIN" ]; then
    fail daemon_start "no daemon binary $BIN"
elif daemon_start; then
    pass daemon_start
else
    fail daemon_start "no pid file after 30s; log: $(tail -n5 "$DLOG" | oneline)"
fi

# ------------------------------------------------------------------ small ISO drive d0
step "attach d0"
out=$(mmc attach d0 2>&1)
rc=$?
echo "$out"
check attach "rc $rc: $(echo "$out" | oneline)" [ $rc -eq 0 ]
udevadm settle --timeout=30

vend=$(grep -l '^TCMU-MMC' /sys/bus/scsi/devices/*/vendor 2>/dev/null)
SR=
SG=
if [ "$(echo "$vend" | grep -c .)" = 1 ]; then
    D=$(dirname "$vend")
    SR=/dev/$(ls "$D/block" 2>/dev/null)
    SG=/dev/$(ls "$D/scsi_generic" 2>/dev/null)
    typ=$(cat "$D/type")
    model=$(cat "$D/model")
    echo "device $D: type $typ model '$model' $SR $SG"
    if [ "$typ" = 5 ] && [ -b "$SR" ] && [ "$SR" = "$(drive_sr d0)" ] &&
        [ "$(cat "$D/removable" 2>/dev/null || cat "$D/block/"*/removable)" = 1 ]; then
        pass bind_sr
    else
        fail bind_sr "type '$typ', block '$SR' (lun says '$(drive_sr d0)'), model '$model'"
    fi
    case $model in
        "Virtual DVD-RW"*) pass inquiry_product ;;
        *) fail inquiry_product "model '$model'" ;;
    esac
else
    fail bind_sr "expected one TCMU-MMC device, found: '$(echo "$vend" | oneline)'"
    skip inquiry_product "no device"
fi

if [ "$E2E_BASE" != 1 ]; then
    : # the first guest checks what d0 serves
elif [ -b "$SR" ]; then
    srn=${SR#/dev/}
    line=$(dmesg | grep "\[$srn\] scsi3-mmc drive")
    echo "dmesg: $line"
    check dmesg_mmc "no '[$srn] scsi3-mmc drive' in dmesg" [ -n "$line" ]

    size=$(timeout 60 blockdev --getsize64 "$SR" 2>&1)
    want=$(stat -c %s "$SMALL")
    check size "blockdev --getsize64: '$size', image $want" [ "$size" = "$want" ]

    out=$(timeout 120 dd if="$SR" bs=2048 2>"$OUT/dd.err" | cmp - "$SMALL" 2>&1)
    rc=$?
    check dd_cmp "$(echo "$out" | oneline); dd: $(oneline <"$OUT/dd.err")" [ $rc -eq 0 ]

    out=$(timeout 60 mount -t iso9660 -o ro "$SR" "$MNT" 2>&1)
    rc=$?
    if [ $rc -eq 0 ]; then
        n=$(wc -l <"$IMG/small.sha256")
        res=$(cd "$MNT" && timeout 120 sha256sum -c "$IMG/small.sha256" 2>&1)
        rc=$?
        ok=$(echo "$res" | grep -c ': OK$')
        check mount_sha256 "sha256sum -c rc $rc, $ok/$n OK: $(echo "$res" | grep -v ': OK$' | oneline)" \
            [ $rc -eq 0 -a "$ok" = "$n" ]
        umount "$MNT"
    else
        fail mount_sha256 "mount: $(echo "$out" | oneline)"
    fi

    CDROM_ID=/usr/lib/udev/cdrom_id
    [ -x $CDROM_ID ] || CDROM_ID=/lib/udev/cdrom_id
    out=$(timeout 60 $CDROM_ID "$SR" 2>&1)
    echo "cdrom_id: $out"
    props=$(udevadm info --query=property --name="$SR" 2>/dev/null)
    echo "udev properties: $props"
    if echo "$out" | grep -qx 'ID_CDROM_DVD=1' && echo "$out" | grep -qx 'ID_CDROM_MEDIA=1' &&
        echo "$out" | grep -q '^ID_CDROM_MEDIA_DVD.*=1$'; then
        pass cdrom_id
    else
        fail cdrom_id "$(echo "$out" | oneline)"
    fi

    # Unsupported opcodes must give ILLEGAL REQUEST / INVALID COMMAND OPERATION CODE (05/20/00).
    for op in d8 59; do
        out=$(timeout 60 sg_raw -r 16 "$SG" $op 00 00 00 00 00 00 00 10 00 2>&1)
        echo "sg_raw $op: $out"
        if echo "$out" | grep -q 'Illegal Request' && echo "$out" | grep -q 'Invalid command operation code'; then
            pass "invalid_opcode_$op"
        else
            fail "invalid_opcode_$op" "$(echo "$out" | oneline)"
        fi
    done

    # READ(10) of LBA 16, 1 block, after the rejected opcodes: the drive still serves reads.
    rm -f "$OUT/lba16.bin"
    out=$(timeout 60 sg_raw -r 2048 -o "$OUT/lba16.bin" "$SR" 28 00 00 00 00 10 00 00 01 00 2>&1)
    echo "sg_raw read lba 16: $out"
    if dd if="$SMALL" bs=2048 skip=16 count=1 2>/dev/null | cmp -s - "$OUT/lba16.bin"; then
        pass read_after_invalid
    else
        fail read_after_invalid "$(echo "$out" | oneline)"
    fi

    blocks=$((want / 2048))
    # shellcheck disable=SC2046 # be32 yields four separate bytes
    out=$(timeout 60 sg_raw -r 2048 "$SR" 28 00 $(be32 $blocks) 00 00 01 00 2>&1)
    echo "sg_raw read lba $blocks: $out"
    if echo "$out" | grep -qi 'Logical block address out of range'; then
        pass lba_out_of_range
    else
        fail lba_out_of_range "READ(10) LBA $blocks: $(echo "$out" | oneline)"
    fi

    out=$(mmc attach d0 2>&1)
    rc=$?
    echo "$out"
    if [ $rc -eq 0 ] && echo "$out" | grep -q 'already attached'; then
        pass script_attach_idempotent
    else
        fail script_attach_idempotent "rc $rc: $(echo "$out" | oneline)"
    fi
else
    for s in dmesg_mmc size dd_cmp mount_sha256 cdrom_id invalid_opcode_d8 invalid_opcode_59 \
        read_after_invalid lba_out_of_range script_attach_idempotent; do
        skip $s "drive d0 has no block device"
    done
fi

if [ "$E2E_BASE" = 1 ]; then
# ------------------------------------------------------------------ empty trays
# no_medium NAME SCENARIO [IMAGE]
no_medium() {
    local name=$1 scen=$2 image=${3:-} out rc sr
    step "$scen"
    out=$(mmc create "$name" ${image:+"$image"} 2>&1 && mmc attach "$name" 2>&1)
    rc=$?
    echo "$out"
    udevadm settle --timeout=30
    sr=$(drive_sr "$name")
    if [ $rc -ne 0 ] || [ -z "$sr" ]; then
        fail "$scen" "create/attach rc $rc, block device '$sr': $(echo "$out" | oneline)"
        return
    fi
    out=$(timeout 60 dd if="$sr" of=/dev/null bs=2048 count=1 2>&1)
    rc=$?
    local out2
    out2=$(timeout 60 blockdev --getsize64 "$sr" 2>&1)
    echo "dd: $out / blockdev: $out2"
    if [ $rc -ne 0 ] && echo "$out" | grep -q 'No medium found'; then
        pass "$scen"
    else
        fail "$scen" "dd rc $rc: $(echo "$out" | oneline) / blockdev: $(echo "$out2" | oneline)"
    fi
}
no_medium e1 no_medium_missing_file "$IMG/does-not-exist.iso"
no_medium e2 no_medium_empty_path
: >"$OUT/blank.iso"
rm -f "$OUT/blank.iso.tcmu-mmc.json"
# A 0-byte image is a blank DVD+R (the seed's third rule).
step blank_file
out=$(mmc create e3 "$OUT/blank.iso" 2>&1 && mmc attach e3 2>&1)
rc=$?
echo "$out"
udevadm settle --timeout=30
sr=$(drive_sr e3)
if [ $rc -ne 0 ] || [ -z "$sr" ]; then
    fail blank_file "create/attach rc $rc, block device '$sr': $(echo "$out" | oneline)"
else
    CDROM_ID=/usr/lib/udev/cdrom_id
    [ -x $CDROM_ID ] || CDROM_ID=/lib/udev/cdrom_id
    out=$(timeout 60 $CDROM_ID "$sr" 2>&1)
    echo "blank: cdrom_id: $out"
    if echo "$out" | grep -qx 'ID_CDROM_MEDIA=1' && echo "$out" | grep -qx 'ID_CDROM_MEDIA_STATE=blank' &&
        echo "$out" | grep -qx 'ID_CDROM_MEDIA_DVD_PLUS_R=1'; then
        pass blank_file
    else
        fail blank_file "not a blank DVD+R: cdrom_id: $(echo "$out" | oneline)"
    fi
fi

# ------------------------------------------------------------------ big image
step "big image"
if [ -s "$BIG" ]; then
    out=$(mmc create big "$BIG" 2>&1 && mmc attach big 2>&1)
    rc=$?
    echo "$out"
    udevadm settle --timeout=30
    sr=$(drive_sr big)
    if [ $rc -eq 0 ] && [ -b "$sr" ]; then
        size=$(timeout 60 blockdev --getsize64 "$sr" 2>&1)
        t0=$(date +%s.%N)
        sum=$(timeout 600 dd if="$sr" bs=1M iflag=direct 2>"$OUT/dd-big.err" | sha256sum | cut -d' ' -f1)
        t1=$(date +%s.%N)
        cat "$OUT/dd-big.err"
        want=$(cat "$BIG.sha256")
        rate=$(awk -v s="$(stat -c %s "$BIG")" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", s / 1048576 / (b - a) }')
        echo "big read: $rate MB/s"
        echo "$rate" >"$OUT/big-read-mbps"
        if [ "$sum" = "$want" ] && [ "$size" = "$(stat -c %s "$BIG")" ]; then
            pass big_read
        else
            fail big_read "sha256 $sum (want $want), size $size; dd: $(oneline <"$OUT/dd-big.err")"
        fi
    else
        fail big_read "create/attach rc $rc, block device '$sr': $(echo "$out" | oneline)"
    fi
else
    fail big_read "no $BIG"
fi
fi

# ------------------------------------------------------------------ sub-suites
# Each tests/e2e/guest-<part>.sh is one sub-suite (burn, media, rewritable, ...), sourced in
# this order. E2E_ONLY="part ..." runs just those (run.sh then requires just their scenarios).
for part in $E2E_PARTS; do
    if [ -z "${E2E_ONLY:-}" ] || [[ " $E2E_ONLY " == *" $part "* ]]; then
        step "sub-suite $part"
        # shellcheck disable=SC1090
        . "$HERE/guest-$part.sh"
    fi
done

# ------------------------------------------------------------------ list, liveness, teardown
step "list"
out=$(mmc list 2>&1)
echo "$out"
if echo "$out" | grep -q "^d0 .*served.*$(drive_sr d0)"; then
    pass script_list
else
    fail script_list "$(echo "$out" | oneline)"
fi

step "liveness"
if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
    pass daemon_alive
else
    fail daemon_alive "daemon pid '$DPID' is gone; log: $(tail -n5 "$DLOG" | oneline)"
fi

step "teardown"
tfail=
for name in d0 e1 e2 e3 big; do
    out=$(mmc detach "$name" 2>&1) || tfail="$tfail detach $name: $(echo "$out" | oneline);"
    echo "$out"
done
out=$(mmc detach d0 2>&1)
echo "$out"
echo "$out" | grep -q 'not attached' || tfail="$tfail second detach: $(echo "$out" | oneline);"
for name in d0 e1 e2 e3 big; do
    out=$(mmc delete "$name" 2>&1) || tfail="$tfail delete $name: $(echo "$out" | oneline);"
    echo "$out"
done
left=$(grep -l '^TCMU-MMC' /sys/bus/scsi/devices/*/vendor 2>/dev/null)
[ -z "$left" ] || tfail="$tfail devices left: $left;"
[ -z "$(backstore_names)" ] || tfail="$tfail backstores left: $(backstore_names | oneline);"
[ ! -d "$MMC_LOOP_TPG" ] || tfail="$tfail tcm_loop tpg left;"
# Each attach made a tcm_loop target of its own; detach must have removed every one.
for w in "$LOOP_ROOT/$MMC_LOOP_PREFIX"a*; do
    [ ! -d "$w" ] || tfail="$tfail tcm_loop target ${w##*/} left;"
done
if [ -z "$tfail" ]; then pass teardown; else fail teardown "$tfail"; fi

if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null; then
    kill -TERM "$DPID"
    for _ in $(seq 1 75); do
        kill -0 "$DPID" 2>/dev/null || break
        sleep 0.2
    done
    if kill -0 "$DPID" 2>/dev/null; then
        fail daemon_sigterm "still running 15s after SIGTERM"
        kill -KILL "$DPID"
        wait "$DPID"
    else
        wait "$DPID"
        rc=$?
        check daemon_sigterm "exit status $rc after SIGTERM" [ $rc -eq 0 ]
    fi
else
    fail daemon_sigterm "daemon not running"
fi

step "done"
dmesg >"$OUT/dmesg.log"
echo "done" >"$OUT/guest.done"
