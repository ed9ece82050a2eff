#!/bin/bash
# Runs INSIDE the QEMU guest (booted once by tests/bench/kernel.sh).
#
# The same image, in guest RAM (tmpfs), is exported on tcm_loop three ways at once and
# measured with the same tools:
#   tcmu-mmc       this project's daemon, TCMU user backstore, /dev/srN
#   fileio         the kernel's own fileio backstore, buffered (fd_buffered_io=1), /dev/sdX
#   file_optical   tcmu-runner's file_optical handler (subtype "fbo"), TCMU, /dev/srN
# tcmu-runner and tcmu-mmc run side by side, each serving only its own devices. Every round
# of a figure measures the three in turn, so a host whose load drifts during the run (other
# VMs under TCG) skews no backstore more than another; the best round of each is kept.
#
# Figures: sequential read (dd bs=1M iflag=direct, $BENCH_RUNS rounds), 2 KiB random read
# IOPS (fio libaio direct, QD1 and QD32, $BENCH_FIO_RUNS rounds), sequential write (dd bs=1M
# oflag=direct conv=fsync, $BENCH_RUNS rounds: a DVD-RAM on tcmu-mmc and file_optical, a file
# on fileio) and burns (growisofs -Z of the image, $BENCH_BURN_RUNS rounds: a DVD-RAM on both
# optical handlers, and a blank DVD+R on tcmu-mmc, which file_optical cannot record). Also the
# daemon's peak RSS (VmHWM) after a small disc, after the big one, and at the end.
#
# Writes "FIGURE BACKSTORE VALUE" lines to $WORK/out/bench.txt.
# usage: guest-kernel.sh WORK IMAGE
set -uo pipefail

WORK=${1:?usage: guest-kernel.sh WORK IMAGE}
SRC=${2:?usage: guest-kernel.sh WORK IMAGE}
# kernel.sh runs a copy of this script from the work dir and says where the repository is.
REPO=${BENCH_REPO:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
BIN=${BENCH_DAEMON:-$REPO/target/release/tcmu-mmc}
OUT=$WORK/out
# The daemon's run dir is on the guest's tmpfs: 9p cannot hold its control socket.
RUN=/run/tcmu-mmc-bench
RUNS=${BENCH_RUNS:-3}
FIO_RUNS=${BENCH_FIO_RUNS:-2}
FIO_SECONDS=${BENCH_FIO_SECONDS:-5}
WRITE_MB=${BENCH_WRITE_MB:-128}
BURN_RUNS=${BENCH_BURN_RUNS:-2}
export TCMU_MMC_RUN_DIR=$RUN
# BENCH_CPUS=0: run every process of the benchmark (daemons, dd, fio, growisofs) on vCPU 0, so
# that no command needs a wake-up across vCPUs (under TCG on a busy host those cost
# milliseconds). Empty: let the guest's scheduler place them (the default).
if [ -n "${BENCH_CPUS:-}" ]; then
    taskset -pc "$BENCH_CPUS" $$ >/dev/null
fi

exec >"$OUT/guest.log" 2>&1
PROG=bench
# shellcheck source=configfs-scripts/lib.sh
. "$REPO/configfs-scripts/lib.sh"
set +e
MMC=("$REPO/configfs-scripts/mmc-drive")
RESULTS=$OUT/bench.txt
: >"$RESULTS"
mkdir -p "$RUN"

log() { printf '[%6.1fs] %s\n' "$(cut -d' ' -f1 /proc/uptime)" "$*"; }
result() { echo "$*" >>"$RESULTS"; log "RESULT $*"; }
now() { date +%s.%N; }
# mbps BYTES T0 T1
mbps() { awk -v s="$1" -v a="$2" -v b="$3" 'BEGIN { printf "%.1f", s / 1e6 / (b - a) }'; }
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (b + 0 > a + 0) ? b : a }'; }

log "bench guest: kernel $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {print $2 " kB"}' /proc/meminfo)"

# Everything lives in guest RAM so that no figure measures 9p.
B=/run/bench
mkdir -p $B
mount -t tmpfs -o size=1400M tmpfs $B
cp "$SRC" $B/bench.iso
IMG=$B/bench.iso
SIZE=$(stat -c %s $IMG)
head -c $((8 << 20)) $IMG >$B/small.iso
log "image $SIZE bytes in tmpfs"
ensure_core
ensure_loop

# ---------------------------------------------------------------- devices

# wait_dev LUN_DIR: the LUN's block device once it exists (up to 20 s)
wait_dev() {
    local lun=$1 dev i
    for i in $(seq 1 100); do
        dev=$(scsi_block_dev "$(loop_scsi_addr "$lun")")
        [ -n "$dev" ] && [ -b "$dev" ] && { printf '%s' "$dev"; return 0; }
        sleep 0.2
    done
    return 1
}

# DEVS[label] = block device, LUNS[label] = its tcm_loop LUN (for non-mmc backstores)
declare -A DEVS LUNS SOS

# lun_link LABEL STORAGE_OBJECT_DIR: export it on the tcm_loop TPG
lun_link() {
    local label=$1 so=$2 n
    loop_ensure_tpg
    n=$(loop_free_lun)
    LUNS[$label]=$MMC_LOOP_TPG/lun/lun_$n
    SOS[$label]=$so
    mkdir "${LUNS[$label]}"
    ln -s "$so" "${LUNS[$label]}/${so##*/}"
    settle
    DEVS[$label]=$(wait_dev "${LUNS[$label]}")
}
# lun_remove LABEL: unexport and remove its storage object
lun_remove() {
    local label=$1 l
    for l in "${LUNS[$label]}"/*; do
        [ -L "$l" ] && rm "$l"
    done
    rmdir "${LUNS[$label]}"
    rmdir "${SOS[$label]}"
    unset "DEVS[$label]" "LUNS[$label]" "SOS[$label]"
}

# mmc_drive LABEL NAME IMAGE [OPTIONS]: create and attach a tcmu-mmc drive
mmc_drive() {
    local label=$1
    shift
    "${MMC[@]}" create "$@" >/dev/null && "${MMC[@]}" attach "$1" >/dev/null
    settle
    DEVS[$label]=$(wait_dev "$(loop_lun_of "$1")")
}

# fileio_store LABEL NAME FILE SIZE: a buffered fileio backstore with 2048-byte blocks
fileio_store() {
    local so=$CORE_ROOT/fileio_9/$2
    mkdir -p "$so"
    echo -n "fd_dev_name=$3,fd_dev_size=$4,fd_buffered_io=1" >"$so/control"
    echo 1 >"$so/enable"
    echo 2048 >"$so/attrib/block_size" || log "fileio: block_size 2048 refused"
    lun_link "$1" "$so"
}

# fbo_store LABEL NAME FILE SIZE: a tcmu-runner file_optical backstore (its subtype is "fbo";
# the kernel waits for tcmu-runner's netlink reply when enabling it). Its HBA and name are
# apart from mmc-drive's (core/user_<lowest free N>/NAME, found by NAME).
fbo_store() {
    local so=$CORE_ROOT/user_90/$2
    mkdir -p "$so"
    if echo -n "dev_config=fbo/$3" >"$so/control" &&
        echo -n "dev_size=$4" >"$so/control" &&
        echo -n "hw_block_size=2048" >"$so/control" &&
        echo 1 >"$so/enable"; then
        lun_link "$1" "$so"
    else
        log "file_optical: backstore $2 could not be created"
        rmdir "$so"
    fi
}

# ready LABEL [SIZE]: true if LABEL has a block device (of SIZE bytes, if given)
ready() {
    local dev=${DEVS[$1]:-}
    [ -n "$dev" ] && [ -b "$dev" ] || return 1
    [ -z "${2:-}" ] || [ "$(blockdev --getsize64 "$dev")" = "$2" ]
}

# ---------------------------------------------------------------- measurements

# Best value per backstore of the current figure.
declare -A BEST

# seq_read LABEL ROUND
seq_read() {
    local dev=${DEVS[$1]} t0 t1 r size
    size=$(blockdev --getsize64 "$dev")
    t0=$(now)
    timeout 600 dd if="$dev" of=/dev/null bs=1M iflag=direct status=none || log "dd $dev failed"
    t1=$(now)
    r=$(mbps "$size" "$t0" "$t1")
    log "  seq read $1 round $2: $r MB/s"
    BEST[$1]=$(max "${BEST[$1]:-0}" "$r")
}

# rand_read QD LABEL ROUND
rand_read() {
    local qd=$1 dev=${DEVS[$2]} r
    r=$(timeout 300 fio --name=rr --filename="$dev" --rw=randread --bs=2k --direct=1 \
        --ioengine=libaio --iodepth="$qd" --runtime="$FIO_SECONDS" --time_based \
        --ramp_time=1 --norandommap --randrepeat=0 --output-format=json 2>>"$OUT/fio.err" |
        python3 -c 'import json,sys; print("%.0f" % json.load(sys.stdin)["jobs"][0]["read"]["iops"])' 2>>"$OUT/fio.err")
    log "  randread 2k QD$qd $2 round $3: ${r:-failed} IOPS"
    [ -n "$r" ] && BEST[$2]=$(max "${BEST[$2]:-0}" "$r")
}

# seq_write LABEL ROUND: $WRITE_MB MiB from the start of the device
seq_write() {
    local dev=${DEVS[$1]} t0 t1 r
    t0=$(now)
    if timeout 600 dd if=/dev/zero of="$dev" bs=1M count="$WRITE_MB" oflag=direct conv=fsync status=none; then
        t1=$(now)
        r=$(mbps $((WRITE_MB << 20)) "$t0" "$t1")
        log "  seq write $1 round $2: $r MB/s"
        BEST[$1]=$(max "${BEST[$1]:-0}" "$r")
    else
        log "  seq write $1 round $2: dd failed"
    fi
}

# burn LABEL ROUND: growisofs -Z DEV=image
burn() {
    local dev=${DEVS[$1]} t0 t1 r
    t0=$(now)
    # The force option only lets -Z overwrite the file system of the previous round.
    if timeout 600 growisofs -use-the-force-luke=tty -Z "$dev=$IMG" >>"$OUT/growisofs.log" 2>&1; then
        t1=$(now)
        r=$(mbps "$SIZE" "$t0" "$t1")
        log "  growisofs $1 round $2: $r MB/s"
        BEST[$1]=$(max "${BEST[$1]:-0}" "$r")
    else
        log "  growisofs $1 round $2 failed; tail of its output:"
        tail -n 5 "$OUT/growisofs.log"
    fi
}

# figure NAME ROUNDS COMMAND...: run COMMAND LABEL ROUND for every ready backstore, round by
# round, and record the best of each
figure() {
    local name=$1 rounds=$2 i label
    shift 2
    BEST=()
    for i in $(seq 1 "$rounds"); do
        for label in tcmu-mmc fileio file_optical; do
            ready "$label" && "$@" "$label" "$i"
        done
    done
    for label in "${!BEST[@]}"; do
        result "$name" "$label" "${BEST[$label]}"
    done
}

# profile LABEL: with BENCH_PROFILE=1, record system-wide samples (perf, cpu-clock) of one
# sequential read and of 4 s of QD32 random reads into $OUT/perf-LABEL-*.data; the host
# reports them (with the guest's kallsyms), which is much faster than perf report under TCG.
profile() {
    [ "${BENCH_PROFILE:-0}" = 1 ] && ready "$1" || return 0
    local label=$1 dev=${DEVS[$1]} what
    [ -e "$OUT/kallsyms" ] || cat /proc/kallsyms >"$OUT/kallsyms"
    for what in seqread randread32; do
        case $what in
            seqread) set -- dd if="$dev" of=/dev/null bs=1M iflag=direct status=none ;;
            randread32) set -- fio --name=rr --filename="$dev" --rw=randread --bs=2k --direct=1 \
                --ioengine=libaio --iodepth=32 --runtime=4 --time_based --norandommap \
                --output=/dev/null ;;
        esac
        perf record -q -a -F 199 -o "$OUT/perf-$label-$what.data" -- "$@" >/dev/null 2>>"$OUT/perf.err"
        log "  profiled $label $what"
    done
}

# Peak and current RSS of the daemon.
rss() {
    awk '/^(VmHWM|VmRSS|RssAnon|RssFile|RssShmem):/ { printf "%s %s kB  ", $1, $2 }' "/proc/$DPID/status"
}
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$DPID/status"; }

# holds PID /dev/uioN: true if the process has the node open
holds() {
    local fd
    for fd in "/proc/$1/fd/"*; do
        [ "$(readlink "$fd" 2>/dev/null)" = "$2" ] && return 0
    done
    return 1
}

# ---------------------------------------------------------------- daemons

# tcmu-runner first: at start-up it looks at every TCMU device there is; the two then share
# the TCM-USER netlink family (tcmu-mmc's drives are made with nl_reply_supported=-1, so the
# kernel never waits for a reply runner will not give them).
mkdir -p $B/runner-log
RPID=
if ! command -v tcmu-runner >/dev/null; then
    log "tcmu-runner is not installed"
else
    tcmu-runner -l $B/runner-log >"$OUT/tcmu-runner.out" 2>&1 &
    RPID=$!
    sleep 3
    if kill -0 "$RPID" 2>/dev/null; then
        log "tcmu-runner $RPID runs (no system D-Bus)"
    else
        log "tcmu-runner exited: $(tail -n 3 "$OUT/tcmu-runner.out" | tr '\n' ' ')"
        RPID=
    fi
fi

RUST_LOG=${E2E_RUST_LOG:-warn} "$BIN" --run-dir "$RUN" run --no-dbus >"$OUT/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 1 150); do
    [ -s "$RUN/tcmu-mmc.pid" ] && break
    sleep 0.2
done
log "tcmu-mmc $DPID idle: $(rss)"
result rss_idle_kb tcmu-mmc "$(hwm_kb)"

# Peak RSS with a small disc, read whole.
mmc_drive small small $B/small.iso
if ready small; then
    dd if="${DEVS[small]}" of=/dev/null bs=1M iflag=direct status=none
    log "tcmu-mmc after reading an 8 MiB disc: $(rss)"
    result rss_small_disc_kb tcmu-mmc "$(hwm_kb)"
fi
"${MMC[@]}" delete small >/dev/null
unset "DEVS[small]"

# ---------------------------------------------------------------- reads

log "=== reads"
mmc_drive tcmu-mmc rom "$IMG"
fileio_store fileio fileio-rom "$IMG" "$SIZE"
[ -n "$RPID" ] && fbo_store file_optical fbo-rom "$IMG" "$SIZE"
for label in tcmu-mmc fileio file_optical; do
    if ready "$label" "$SIZE"; then
        log "$label: ${DEVS[$label]}"
    else
        log "$label: no usable block device ('${DEVS[$label]:-}')"
        unset "DEVS[$label]"
    fi
done
# Each handler serves its own devices only.
for u in /sys/class/uio/uio*; do
    name=$(cat "$u/name" 2>/dev/null)
    node=/dev/${u##*/}
    case $name in
        */mmc/*) other=$RPID ;;
        *) other=$DPID ;;
    esac
    if [ -n "$other" ] && holds "$other" "$node"; then
        log "$node ($name) is open in the wrong daemon ($other)"
        result handlers_apart tcmu-mmc no
    fi
done
grep -q '^handlers_apart' "$RESULTS" || result handlers_apart tcmu-mmc yes

figure seqread "$RUNS" seq_read
figure randread_qd1 "$FIO_RUNS" rand_read 1
figure randread_qd32 "$FIO_RUNS" rand_read 32
for label in tcmu-mmc fileio; do profile "$label"; done
log "tcmu-mmc after the big disc: $(rss)"
result rss_big_disc_kb tcmu-mmc "$(hwm_kb)"
"${MMC[@]}" delete rom >/dev/null
unset "DEVS[tcmu-mmc]"
lun_remove fileio
ready file_optical && lun_remove file_optical

# ---------------------------------------------------------------- writes and burns

log "=== writes"
CAP=$((WRITE_MB * 2))
: >$B/ram.img
mmc_drive tcmu-mmc ram $B/ram.img "type=dvd-ram;capacity=${CAP}M"
truncate -s "${CAP}M" $B/fileio-w.img
fileio_store fileio fileio-write $B/fileio-w.img $((CAP << 20))
truncate -s "${CAP}M" $B/fbo-w.img
[ -n "$RPID" ] && fbo_store file_optical fbo-write $B/fbo-w.img $((CAP << 20))
for label in tcmu-mmc fileio file_optical; do
    ready "$label" && log "$label: ${DEVS[$label]} ($(blockdev --getsize64 "${DEVS[$label]}") bytes)"
done
figure seqwrite "$RUNS" seq_write
lun_remove fileio
rm -f $B/fileio-w.img
figure burn_dvdram "$BURN_RUNS" burn
"${MMC[@]}" delete ram >/dev/null
unset "DEVS[tcmu-mmc]"
rm -f $B/ram.img*
ready file_optical && lun_remove file_optical
rm -f $B/fbo-w.img

# A blank DVD+R for every round (tcmu-mmc only: file_optical has no write-once media).
BEST=()
for i in $(seq 1 "$BURN_RUNS"); do
    rm -f $B/blank.iso*
    : >$B/blank.iso
    mmc_drive tcmu-mmc burn $B/blank.iso
    ready tcmu-mmc && burn tcmu-mmc "$i"
    "${MMC[@]}" delete burn >/dev/null
    unset "DEVS[tcmu-mmc]"
done
rm -f $B/blank.iso*
result burn_dvdr tcmu-mmc "${BEST[tcmu-mmc]:-0}"
log "tcmu-mmc after writing and burning: $(rss)"
result rss_peak_kb tcmu-mmc "$(hwm_kb)"

# ---------------------------------------------------------------- end

if [ -n "$RPID" ]; then
    kill -TERM "$RPID"
    wait "$RPID"
    cp $B/runner-log/tcmu-runner.log "$OUT/tcmu-runner.log" 2>/dev/null
fi
rmdir "$CORE_ROOT/fileio_9" "$CORE_ROOT/user_90" 2>/dev/null
loop_maybe_teardown
if kill -0 "$DPID" 2>/dev/null; then
    result daemon_alive tcmu-mmc yes
else
    result daemon_alive tcmu-mmc no
fi
kill -TERM "$DPID"
wait "$DPID"
log "daemon exit $?"
cat "$RESULTS"
echo "done" >"$OUT/guest.done"
