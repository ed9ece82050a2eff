#!/bin/bash
# Sequential read throughput of tcmu-mmc vs the kernel's fileio backstore, in ONE guest boot.
#
# usage: tests/bench/read-throughput.sh      (as root; installs what it needs)
# Env: BENCH_RUNS (reads per device, best is kept; default 3), BENCH_SOURCE (tmpfs: copy the
# image into guest RAM first, the default; 9p: read it from the shared host dir),
# E2E_BIG_MB (image size, default 200), plus tests/e2e/lib.sh's E2E_* variables.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/../e2e/lib.sh"
OUT=$E2E_WORK/out

e2e_install_deps
e2e_build || e2e_die "cargo build --release failed"
e2e_make_big_iso
rm -rf "$OUT"
mkdir -p "$OUT"

set +e
e2e_boot "BENCH_RUNS=${BENCH_RUNS:-3} BENCH_SOURCE=${BENCH_SOURCE:-tmpfs} /bin/bash $HERE/guest-bench.sh $E2E_WORK $E2E_WORK/img/big.iso"
rc=$?
set -e

tcmu=$(awk '$1 == "tcmu-mmc" { print $2 }' "$OUT/bench.txt" 2>/dev/null)
fileio=$(awk '$1 == "fileio" { print $2 }' "$OUT/bench.txt" 2>/dev/null)
if [ ! -e "$OUT/guest.done" ] || [ -z "$tcmu" ] || [ -z "$fileio" ]; then
    echo "benchmark incomplete (vng exit $rc); guest log tail:" >&2
    tail -n 40 "$OUT/guest.log" >&2 2>/dev/null
    tail -n 20 "$OUT/daemon.log" >&2 2>/dev/null
    exit 1
fi
grep 'run [0-9]' "$OUT/guest.log" || true
echo "image:    $(stat -c %s "$E2E_WORK/img/big.iso") bytes, source ${BENCH_SOURCE:-tmpfs}, accelerator $E2E_ACCEL, best of ${BENCH_RUNS:-3}"
echo "tcmu-mmc: $tcmu MB/s (tcm_loop, /dev/srN, dd bs=1M iflag=direct)"
echo "fileio:   $fileio MB/s (tcm_loop, /dev/sdX, dd bs=1M iflag=direct)"
awk -v a="$tcmu" -v b="$fileio" 'BEGIN { printf "ratio:    %.2f (tcmu-mmc / fileio)\n", a / b }'
