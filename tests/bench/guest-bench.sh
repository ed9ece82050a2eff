#!/bin/bash
# Runs INSIDE the QEMU guest (booted by tests/bench/read-throughput.sh).
# Measures sequential O_DIRECT read throughput of one image through
#   1. tcmu-mmc (TCMU user backstore, tcm_loop, /dev/srN) and
#   2. the kernel's fileio backstore (tcm_loop, /dev/sdX),
# and writes "tcmu-mmc MBPS" / "fileio MBPS" lines to $WORK/out/bench.txt.
#
# usage: guest-bench.sh WORK IMAGE
set -uo pipefail

WORK=${1:?usage: guest-bench.sh WORK IMAGE}
SRC=${2:?usage: guest-bench.sh WORK IMAGE}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
BIN=$REPO/target/release/tcmu-mmc
OUT=$WORK/out
RUN=$WORK/run
RUNS=${BENCH_RUNS:-3}
export TCMU_MMC_RUN_DIR=$RUN

exec >"$OUT/guest.log" 2>&1
PROG=bench
# shellcheck source=configfs-scripts/lib.sh
. "$REPO/configfs-scripts/lib.sh"
set +e
MMC=("$REPO/configfs-scripts/mmc-drive")
echo "bench guest: uptime $(cut -d' ' -f1 /proc/uptime)s, kernel $(uname -r), source ${BENCH_SOURCE:-tmpfs}"

# Put the image in guest RAM by default, so both backstores read the same fast source and
# the figures compare the data paths, not 9p.
IMG=$SRC
if [ "${BENCH_SOURCE:-tmpfs}" = tmpfs ]; then
    mkdir -p /run/bench
    mount -t tmpfs -o size=1G tmpfs /run/bench
    cp "$SRC" /run/bench/bench.iso
    IMG=/run/bench/bench.iso
fi
SIZE=$(stat -c %s "$IMG")

# read_mbps DEV: best of $RUNS sequential O_DIRECT reads, MB/s (1 MB = 10^6 bytes, as dd)
read_mbps() {
    local dev=$1 best=0 i t0 t1 r
    for i in $(seq 1 "$RUNS"); do
        echo 3 >/proc/sys/vm/drop_caches
        t0=$(date +%s.%N)
        timeout 600 dd if="$dev" of=/dev/null bs=1M iflag=direct 2>>"$OUT/dd.log" || echo "dd $dev failed" >&2
        t1=$(date +%s.%N)
        r=$(awk -v s="$SIZE" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", s / 1e6 / (b - a) }')
        echo "  $dev run $i: $r MB/s" >&2
        best=$(awk -v a="$best" -v b="$r" 'BEGIN { print (b > a) ? b : a }')
    done
    echo "$best"
}

: >"$OUT/bench.txt"

# ---- tcmu-mmc
RUST_LOG=${E2E_RUST_LOG:-warn} "$BIN" --run-dir "$RUN" >"$OUT/daemon.log" 2>&1 &
DPID=$!
for _ in $(seq 1 150); do
    [ -s "$RUN/tcmu-mmc.pid" ] && break
    sleep 0.2
done
"${MMC[@]}" create bench "$IMG" && "${MMC[@]}" attach bench
udevadm settle --timeout=30
SR=$(scsi_block_dev "$(loop_scsi_addr "$(loop_lun_of bench)")")
if [ -b "$SR" ] && [ "$(blockdev --getsize64 "$SR")" = "$SIZE" ]; then
    echo "tcmu-mmc $SR:"
    echo "tcmu-mmc $(read_mbps "$SR")" >>"$OUT/bench.txt"
else
    echo "tcmu-mmc: no usable block device ('$SR')"
fi
"${MMC[@]}" delete bench
kill -TERM "$DPID"
wait "$DPID"
echo "daemon exit $?"

# ---- kernel fileio backstore, same image, exported as a disk on the same tcm_loop TPG
F=$CORE_ROOT/fileio_0/bench
mkdir -p "$F"
echo -n "fd_dev_name=$IMG,fd_dev_size=$SIZE" >"$F/control"
echo 1 >"$F/enable"
loop_ensure_tpg
N=$(loop_free_lun)
mkdir "$MMC_LOOP_TPG/lun/lun_$N"
ln -s "$F" "$MMC_LOOP_TPG/lun/lun_$N/bench"
udevadm settle --timeout=30
SD=$(scsi_block_dev "$(loop_scsi_addr "$MMC_LOOP_TPG/lun/lun_$N")")
if [ -b "$SD" ] && [ "$(blockdev --getsize64 "$SD")" = "$SIZE" ]; then
    echo "fileio $SD:"
    echo "fileio $(read_mbps "$SD")" >>"$OUT/bench.txt"
else
    echo "fileio: no usable block device ('$SD')"
fi
rm "$MMC_LOOP_TPG/lun/lun_$N/bench"
rmdir "$MMC_LOOP_TPG/lun/lun_$N"
loop_maybe_teardown
rmdir "$F" "$CORE_ROOT/fileio_0"

cat "$OUT/bench.txt"
echo "done" >"$OUT/guest.done"
