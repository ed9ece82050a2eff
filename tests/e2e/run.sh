#!/bin/bash
# Real-kernel end-to-end test of tcmu-mmc: boots Debian's 6.1 kernel once in QEMU (virtme-ng)
# and runs tests/e2e/guest.sh in it (LIO + TCMU + tcm_loop + sr + udev + the daemon).
#
# usage: tests/e2e/run.sh          (as root; installs what it needs)
# Output: one line per scenario, then "N passed, N failed[, N skipped]".
# Exit status: 0 only if every scenario passed and the guest finished.
# Env: see tests/e2e/lib.sh (E2E_WORK, E2E_KVM, E2E_BOOT_TIMEOUT, E2E_BIG_MB), plus
# E2E_RUST_LOG (daemon log level, default info) and E2E_DAEMON (daemon binary to test,
# default target/release/tcmu-mmc), E2E_ONLY (space-separated sub-suites: guest.sh's own
# scenarios plus only tests/e2e/guest-<part>.sh for each part, e.g. E2E_ONLY=burn).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"

# Scenarios that must PASS: every guest*.sh file lists its own on "# required:" lines. A SKIP or
# a missing line of any of them fails the run.
# E2E_ONLY="part ..." runs guest.sh's own scenarios plus only those tests/e2e/guest-<part>.sh.
guest_files=("$HERE/guest.sh")
if [ -n "${E2E_ONLY:-}" ]; then
    for part in $E2E_ONLY; do guest_files+=("$HERE/guest-$part.sh"); done
else
    guest_files=("$HERE"/guest*.sh)
fi
mapfile -t REQUIRED < <(sed -n 's/^# required: *//p' "${guest_files[@]}" | tr ' ' '\n' | sed '/^$/d')
[ ${#REQUIRED[@]} -gt 0 ] || e2e_die "no '# required:' lines found in $HERE/guest*.sh"

T_START=$(date +%s)
OUT=$E2E_WORK/out

summary_fail() { # print a failing summary for a run that never reached the guest
    echo "FAIL: $1: $2"
    echo "0 passed, 1 failed"
    exit 1
}

e2e_install_deps
if ! e2e_build; then
    summary_fail build "cargo build --release failed"
fi
e2e_make_small_iso
e2e_make_big_iso
e2e_make_udf_tree
if ! e2e_build_pktcdvd; then
    summary_fail pktcdvd_build "building pktcdvd.ko for the guest kernel failed"
fi

rm -rf "$OUT"
mkdir -p "$OUT"
: >"$OUT/results.txt"

set +e
e2e_boot "E2E_RUST_LOG=${E2E_RUST_LOG:-info} ${E2E_ONLY:+E2E_ONLY='$E2E_ONLY'} E2E_DAEMON=${E2E_DAEMON:-$E2E_BIN} /bin/bash $HERE/guest.sh $E2E_WORK"
vng_rc=$?
set -e

# ------------------------------------------------------------------ results
passed=0
failed=0
skipped=0
declare -A seen=()
while IFS= read -r line; do
    [ -n "$line" ] || continue
    echo "$line"
    name=${line#*: }
    name=${name%%:*}
    case $line in
        PASS:*)
            passed=$((passed + 1))
            seen[$name]=PASS
            ;;
        FAIL:*)
            failed=$((failed + 1))
            seen[$name]=FAIL
            ;;
        SKIP:*)
            skipped=$((skipped + 1))
            seen[$name]=SKIP
            ;;
    esac
done <"$OUT/results.txt"

bad=0
for s in "${REQUIRED[@]}"; do
    case ${seen[$s]:-} in
        PASS | FAIL) ;;
        SKIP) bad=1 ;;
        *)
            echo "FAIL: $s: no result (guest did not reach it)"
            failed=$((failed + 1))
            ;;
    esac
done
if [ ! -e "$OUT/guest.done" ]; then
    echo "FAIL: guest_finished: guest did not finish (vng exit $vng_rc, boot timeout ${E2E_BOOT_TIMEOUT}s)"
    failed=$((failed + 1))
fi

T_END=$(date +%s)
big_rate=$(cat "$OUT/big-read-mbps" 2>/dev/null || echo "?")
e2e_log "accelerator $E2E_ACCEL; guest boot+run ${E2E_BOOT_SECONDS}s; suite $((T_END - T_START))s; big image read ${big_rate} MB/s"

# Where the guest's time went: the slowest steps (each "=== step (uptime)" line to the next).
echo "----- slowest guest steps (seconds)"
sed -n 's/^=== \(.*\) (\([0-9.]*\)s)$/\2 \1/p' "$OUT/guest.log" 2>/dev/null |
    awk 'NR > 1 { printf "%7.1f  %s\n", $1 - t, name } { t = $1; $1 = ""; name = substr($0, 2) }' |
    sort -rn | head -n 12

if [ $failed -gt 0 ] || [ $bad -gt 0 ]; then
    echo "----- tail of daemon log ($OUT/daemon.log)"
    tail -n 40 "$OUT/daemon.log" 2>/dev/null || echo "(none)"
    echo "----- tail of guest log ($OUT/guest.log)"
    tail -n 60 "$OUT/guest.log" 2>/dev/null || echo "(none)"
    echo "----- tail of vng log ($OUT/vng.log)"
    tail -n 20 "$OUT/vng.log" 2>/dev/null || echo "(none)"
fi

if [ $skipped -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ] && [ $bad -eq 0 ]
