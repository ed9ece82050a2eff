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
# scenarios plus only tests/e2e/guest-<part>.sh for each part, e.g. E2E_ONLY=burn), E2E_BASE
# (default: guest.sh's base checks in the first guest; E2E_BASE=0 runs them in none).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/e2e/lib.sh
. "$HERE/lib.sh"

# The sub-suites each guest runs: guests boot side by side (TCG keeps one host core busy per
# guest), each with its own out directory; every part of guest.sh's E2E_PARTS must be in
# exactly one. E2E_ONLY="part ..." boots one guest with just those parts. guest.sh's own base
# checks run in the first guest only (E2E_BASE).
E2E_GUESTS=${E2E_GUESTS:-"burn bd media seed rewritable erase supervise faults,dvdr desktop iscsi many storm targetcli runner"}
all_parts=$(sed -n 's/^E2E_PARTS="\(.*\)"$/\1/p' "$HERE/guest.sh")
if [ -n "${E2E_ONLY:-}" ]; then
    guests=("$E2E_ONLY")
else
    IFS=, read -r -a guests <<<"$E2E_GUESTS"
    for part in $all_parts; do
        n=$(printf '%s\n' "${guests[@]}" | tr ' ' '\n' | grep -cx "$part")
        [ "$n" = 1 ] || e2e_die "E2E_GUESTS ($E2E_GUESTS) has part $part $n times, not once"
    done
fi

# Scenarios that must PASS: every guest*.sh file lists its own on "# required:" lines. A SKIP or
# a missing line of any of them fails the run. With E2E_BASE=0 no guest runs guest.sh's base
# checks, so only the parts' scenarios are required.
guest_files=()
[ "${E2E_BASE:-1}" = 0 ] || guest_files=("$HERE/guest.sh")
for part in ${guests[*]}; do guest_files+=("$HERE/guest-$part.sh"); done
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

# boot_guest N PARTS: guest N (out directory $OUT/gN) runs PARTS; its boot time and vng's exit
# status go to files there.
boot_guest() {
    local dir=$OUT/g$1 rc=0
    mkdir -p "$dir"
    : >"$dir/results.txt"
    E2E_VNG_LOG=$dir/vng.log e2e_boot "E2E_RUST_LOG=${E2E_RUST_LOG:-info} E2E_ONLY='$2' \
E2E_BASE=${E2E_BASE:-$(($1 == 1))} E2E_OUT=$dir E2E_DAEMON=${E2E_DAEMON:-$E2E_BIN} /bin/bash $HERE/guest.sh $E2E_WORK" || rc=$?
    echo "$rc" >"$dir/vng.rc"
    echo "$E2E_BOOT_SECONDS" >"$dir/boot-seconds"
    echo "$E2E_ACCEL" >"$dir/accel"
}
e2e_log "booting ${#guests[@]} guest(s) side by side: $(printf '[%s] ' "${guests[@]}")"
pids=()
for i in "${!guests[@]}"; do
    boot_guest $((i + 1)) "${guests[i]}" &
    pids+=($!)
done
wait "${pids[@]}"

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
            [ "${seen[$name]:-}" = FAIL ] || seen[$name]=PASS
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
done < <(cat "$OUT"/g*/results.txt)

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
boot_times=
for dir in "$OUT"/g*; do
    g=${dir##*/}
    boot_times="$boot_times $g $(cat "$dir/boot-seconds" 2>/dev/null)s"
    if [ ! -e "$dir/guest.done" ]; then
        echo "FAIL: guest_finished: guest $g did not finish (vng exit $(cat "$dir/vng.rc" 2>/dev/null), boot timeout ${E2E_BOOT_TIMEOUT}s)"
        failed=$((failed + 1))
    fi
done

T_END=$(date +%s)
E2E_ACCEL=$(cat "$OUT"/g1/accel 2>/dev/null || echo "?")
big_rate=$(cat "$OUT"/g1/big-read-mbps 2>/dev/null || echo "?")
e2e_log "accelerator $E2E_ACCEL; guest boot+run${boot_times}; suite $((T_END - T_START))s; big image read ${big_rate} MB/s"

# Where the guests' time went: the slowest steps (each "=== step (uptime)" line to the next).
echo "----- slowest guest steps (seconds)"
for dir in "$OUT"/g*; do
    sed -n 's/^=== \(.*\) (\([0-9.]*\)s)$/\2 \1/p' "$dir/guest.log" 2>/dev/null |
        awk -v g="${dir##*/}" 'NR > 1 { printf "%7.1f  %s: %s\n", $1 - t, g, name } { t = $1; $1 = ""; name = substr($0, 2) }'
done | sort -rn | sed -n 1,12p  # sed reads it all: head would SIGPIPE sort under pipefail
echo "----- sub-suites (seconds)"
for dir in "$OUT"/g*; do
    sed -n 's/^=== \(.*\) (\([0-9.]*\)s)$/\2 \1/p' "$dir/guest.log" 2>/dev/null |
        awk -v g="${dir##*/}" '$2 == "sub-suite" || $2 == "list" { if (p != "") printf "%7.1f  %s: %s\n", $1 - t, g, p; p = ($2 == "list") ? "" : $3; t = $1 }'
done

if [ $failed -gt 0 ] || [ $bad -gt 0 ]; then
    for dir in "$OUT"/g*; do
        echo "----- tail of daemon log ($dir/daemon.log)"
        tail -n 40 "$dir/daemon.log" 2>/dev/null || echo "(none)"
        echo "----- tail of guest log ($dir/guest.log)"
        tail -n 60 "$dir/guest.log" 2>/dev/null || echo "(none)"
        echo "----- tail of vng log ($dir/vng.log)"
        tail -n 20 "$dir/vng.log" 2>/dev/null || echo "(none)"
    done
fi

if [ $skipped -gt 0 ]; then
    echo "$passed passed, $failed failed, $skipped skipped"
else
    echo "$passed passed, $failed failed"
fi
[ $failed -eq 0 ] && [ $bad -eq 0 ]
