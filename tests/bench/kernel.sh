#!/bin/bash
# Kernel benchmark: tcmu-mmc against the kernel's fileio backstore (buffered) and tcmu-runner's
# file_optical handler, on the same image, with the same tools, in ONE guest boot.
#
# usage: tests/bench/kernel.sh      (as root; installs what it needs, tcmu-runner included)
# Env: BENCH_RUNS (dd runs per figure, best kept; 3), BENCH_FIO_RUNS (2), BENCH_FIO_SECONDS
# (5), BENCH_WRITE_MB (MiB per write run; 128), BENCH_BURN_RUNS (2), BENCH_CPUS (a guest CPU
# list for taskset: run every benchmark process there; default: unpinned), E2E_BIG_MB (image
# size; 200), BENCH_DAEMON (daemon binary; target/release/tcmu-mmc), BENCH_PROFILE (1: perf
# profiles of the reads into $E2E_WORK/out/profile-*.txt), plus tests/e2e/lib.sh's E2E_*
# variables (E2E_WORK: work dir, default target/e2e).
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

envs="BENCH_RUNS=${BENCH_RUNS:-3} BENCH_FIO_RUNS=${BENCH_FIO_RUNS:-2}"
envs+=" BENCH_FIO_SECONDS=${BENCH_FIO_SECONDS:-5} BENCH_WRITE_MB=${BENCH_WRITE_MB:-128}"
envs+=" BENCH_BURN_RUNS=${BENCH_BURN_RUNS:-2} BENCH_CPUS=${BENCH_CPUS:-} E2E_RUST_LOG=${E2E_RUST_LOG:-warn}"
# The guest runs a copy of the daemon: a rebuild on the host during the run must not swap the
# binary under it.
cp "${BENCH_DAEMON:-$E2E_BIN}" "$E2E_WORK/tcmu-mmc"
envs+=" BENCH_DAEMON=$E2E_WORK/tcmu-mmc"
envs+=" BENCH_PROFILE=${BENCH_PROFILE:-0}"
set +e
# The guest runs a copy: editing the script during a run must not change the running one.
cp "$HERE/guest-kernel.sh" "$E2E_WORK/guest-kernel.sh"
e2e_boot "$envs BENCH_REPO=$REPO /bin/bash $E2E_WORK/guest-kernel.sh $E2E_WORK $E2E_WORK/img/big.iso"
rc=$?
set -e

R=$OUT/bench.txt
if [ ! -e "$OUT/guest.done" ] || [ ! -s "$R" ]; then
    echo "benchmark incomplete (vng exit $rc); guest log tail:" >&2
    tail -n 40 "$OUT/guest.log" >&2 2>/dev/null || true
    tail -n 20 "$OUT/daemon.log" >&2 2>/dev/null || true
    exit 1
fi
grep -E 'round [0-9]|tcmu-runner|: /dev/' "$OUT/guest.log" || true
echo
echo "image $(stat -c %s "$E2E_WORK/img/big.iso") bytes in guest tmpfs; accelerator $E2E_ACCEL;" \
    "guest $E2E_BOOT_SECONDS s; CPUs ${BENCH_CPUS:-unpinned}; best of ${BENCH_RUNS:-3} (dd) / ${BENCH_FIO_RUNS:-2} (fio) / ${BENCH_BURN_RUNS:-2} (growisofs)"
if [ "${BENCH_PROFILE:-0}" = 1 ]; then
    for d in "$OUT"/perf-*.data; do
        [ -e "$d" ] || continue
        p=${d##*/perf-}
        perf report -i "$d" --kallsyms "$OUT/kallsyms" --stdio --no-children \
            --sort comm,dso,sym --percent-limit 0.7 >"$OUT/profile-${p%.data}.txt" 2>/dev/null ||
            echo "perf report of $d failed" >&2
    done
    echo "profiles: $OUT/profile-*.txt"
fi
python3 - "$R" <<'EOF'
import sys
vals = {}
for line in open(sys.argv[1]):
    f = line.split()
    if len(f) == 3:
        vals[(f[0], f[1])] = f[2]

def num(key):
    try:
        v = float(vals.get(key, ""))
        return v if v > 0 else None
    except ValueError:
        return None

def cell(v, unit):
    return "n/a" if v is None else f"{v:,.1f} {unit}" if unit == "MB/s" else f"{v:,.0f} {unit}"

def ratio(a, b):
    return "n/a" if a is None or b is None else f"{a / b:.2f}"

rows = [
    ("Sequential read, dd bs=1M iflag=direct", "seqread", "MB/s"),
    ("Random read 2 KiB, fio QD1", "randread_qd1", "IOPS"),
    ("Random read 2 KiB, fio QD32", "randread_qd32", "IOPS"),
    ("Sequential write, dd bs=1M oflag=direct (DVD-RAM)", "seqwrite", "MB/s"),
    ("growisofs -Z to a DVD-RAM", "burn_dvdram", "MB/s"),
    ("growisofs -Z to a blank DVD+R", "burn_dvdr", "MB/s"),
]
print("| Figure | tcmu-mmc | fileio (buffered) | file_optical | tcmu-mmc / fileio | tcmu-mmc / file_optical |")
print("|---|---|---|---|---|---|")
for title, key, unit in rows:
    t, f, o = (num((key, b)) for b in ("tcmu-mmc", "fileio", "file_optical"))
    print(f"| {title} | {cell(t, unit)} | {cell(f, unit)} | {cell(o, unit)} | {ratio(t, f)} | {ratio(t, o)} |")
for key, what in [("rss_idle_kb", "idle"), ("rss_small_disc_kb", "after an 8 MiB disc"),
                  ("rss_big_disc_kb", "after the big disc (reads, fio)"),
                  ("rss_peak_kb", "after writes and burns (4.7 GB DVD+R)")]:
    v = num((key, "tcmu-mmc"))
    print(f"tcmu-mmc peak RSS (VmHWM) {what}: {'n/a' if v is None else f'{v / 1024:.1f} MiB'}")
print("tcmu-mmc and tcmu-runner each served only their own devices:", vals.get(("handlers_apart", "tcmu-mmc"), "n/a"))
print("tcmu-mmc alive at the end:", vals.get(("daemon_alive", "tcmu-mmc"), "n/a"))
EOF
