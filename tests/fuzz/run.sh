#!/bin/bash
# Short fuzz run of every cargo-fuzz target in fuzz/ (the command path, the ring parser, the
# configuration and disc state parsers): build them once, run each for FUZZ_SECONDS from its
# checked-in corpus, and fail on any crash, panic, timeout or out-of-memory.
#
# usage: tests/fuzz/run.sh [TARGET...]        (default: every target in fuzz/Cargo.toml)
# env:   FUZZ_SECONDS    seconds per target (default 10; 5 targets = 50 s, 30 s on 2 CPUs)
#        FUZZ_RUNS       executions per target instead (a campaign: FUZZ_RUNS=10000000);
#                        FUZZ_SECONDS then only bounds it (default 86400 with FUZZ_RUNS)
#        FUZZ_SANITIZER  none (default) or address. cargo-fuzz's `none` works on stable
#                        Rust; `address` needs nightly, or stable with RUSTC_BOOTSTRAP=1 (set
#                        here when the toolchain is not nightly)
#        FUZZ_JOBS       parallel libFuzzer jobs per target (default 1)
#        FUZZ_PARALLEL   targets run at once (default: the number of CPUs)
#        FUZZ_KEEP_CORPUS=1  merge what the run found into fuzz/corpus (minimized); by default
#                        new inputs go to a scratch directory and the checked-in corpus is
#                        only read
# Installs cargo-fuzz with `cargo install` if it is missing. A crash leaves its input in
# fuzz/artifacts/TARGET/ and prints the command that reproduces it.
# Closing line: "fuzz: N passed, N failed".
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
FUZZ=$REPO/fuzz
RUNS=${FUZZ_RUNS:-}
if [ -n "$RUNS" ]; then
    SECONDS_EACH=${FUZZ_SECONDS:-86400}
else
    SECONDS_EACH=${FUZZ_SECONDS:-10}
fi
SANITIZER=${FUZZ_SANITIZER:-none}
JOBS=${FUZZ_JOBS:-1}

log() { echo "fuzz: $*"; }

if ! cargo fuzz --version >/dev/null 2>&1; then
    log "installing cargo-fuzz (cargo install cargo-fuzz --locked)"
    cargo install cargo-fuzz --locked || {
        log "cannot install cargo-fuzz"
        echo "fuzz: 0 passed, 1 failed"
        exit 1
    }
fi
if [ "$SANITIZER" != none ] && ! rustc --version | grep -q nightly; then
    # Sanitizers are -Z flags; stable rustc accepts them only in bootstrap mode.
    export RUSTC_BOOTSTRAP=1
fi

if [ $# -gt 0 ]; then
    targets=("$@")
else
    mapfile -t targets < <(cd "$FUZZ" && cargo fuzz list)
fi
[ ${#targets[@]} -gt 0 ] || {
    log "no fuzz targets"
    exit 1
}

cd "$FUZZ" || exit 1
log "building ${targets[*]} (sanitizer $SANITIZER)"
bin_dir=$FUZZ/target/x86_64-unknown-linux-gnu/release
if [ $# -eq 0 ]; then
    cargo fuzz build --sanitizer "$SANITIZER" 2>&1 | tail -n 20
else
    for t in "${targets[@]}"; do
        cargo fuzz build --sanitizer "$SANITIZER" "$t" 2>&1 | tail -n 20
    done
fi
for t in "${targets[@]}"; do
    [ -x "$bin_dir/$t" ] || {
        log "$t did not build"
        echo "fuzz: 0 passed, 1 failed"
        exit 1
    }
done
jobs=()
[ "$JOBS" -gt 1 ] && jobs=(--jobs "$JOBS")

passed=0
failed=()
scratch=$(mktemp -d "${TMPDIR:-/tmp}/tcmu-mmc-fuzz.XXXXXX")
trap 'rm -rf "$scratch"' EXIT

# fuzz_one TARGET: run it for SECONDS_EACH; exit status in $scratch/TARGET.rc, output in .log.
fuzz_one() {
    local t=$1 corpus=$FUZZ/corpus/$1 dict=() seeds rc runs=()
    [ -n "$RUNS" ] && runs=("-runs=$RUNS")
    mkdir -p "$corpus" "$scratch/$t" "$FUZZ/artifacts/$t"
    [ -f "$FUZZ/dict/$t.dict" ] && dict=("-dict=$FUZZ/dict/$t.dict")
    # The first directory receives new inputs: a scratch one, so the corpus stays as it is.
    # fuzz/regressions/TARGET holds the inputs of crashes found (and fixed) so far.
    seeds=("$corpus")
    [ -d "$FUZZ/regressions/$t" ] && seeds+=("$FUZZ/regressions/$t")
    cargo fuzz run --sanitizer "$SANITIZER" "${jobs[@]}" "$t" "$scratch/$t" "${seeds[@]}" -- \
        -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 -max_len=8192 \
        -print_final_stats=1 "${runs[@]}" "${dict[@]}" >"$scratch/$t.log" 2>&1
    rc=$?
    echo $rc >"$scratch/$t.rc"
}

# Targets run side by side, one per CPU (FUZZ_PARALLEL overrides): the same fuzzing time
# each, in less wall time.
PARALLEL=${FUZZ_PARALLEL:-$(nproc)}
[ "$PARALLEL" -ge 1 ] || PARALLEL=1
start=$(date +%s)
for ((k = 0; k < ${#targets[@]}; k += PARALLEL)); do
    pids=()
    for t in "${targets[@]:k:PARALLEL}"; do
        log "$t: ${RUNS:+$RUNS runs or }${SECONDS_EACH}s from $(find "$FUZZ/corpus/$t" -type f 2>/dev/null | wc -l) corpus inputs"
        fuzz_one "$t" &
        pids+=($!)
    done
    wait "${pids[@]}"
done
log "all targets ran in $(($(date +%s) - start))s, $PARALLEL at a time"

for t in "${targets[@]}"; do
    corpus=$FUZZ/corpus/$t
    rc=$(cat "$scratch/$t.rc" 2>/dev/null || echo 1)
    grep -E '^#[0-9]+ *DONE|stat::number_of_executed_units|stat::new_units_added' "$scratch/$t.log" |
        sed "s/^/fuzz: $t: /"
    if [ "$rc" -eq 0 ]; then
        log "$t: ok"
        passed=$((passed + 1))
    else
        log "$t: FAILED (exit $rc)"
        grep -E -A12 'panicked at|ERROR: libFuzzer|SUMMARY' "$scratch/$t.log" | head -n 40
        grep -E -A3 'Failing input|Reproduce with' "$scratch/$t.log"
        failed+=("$t")
    fi
    if [ "${FUZZ_KEEP_CORPUS:-0}" = 1 ] && [ "$rc" -eq 0 ]; then
        # libFuzzer's merge adds only the new inputs that add coverage.
        "$bin_dir/$t" -merge=1 -max_len=8192 "$corpus" "$scratch/$t" >"$scratch/$t.merge" 2>&1 ||
            log "$t: corpus merge failed"
    fi
done

[ ${#failed[@]} -eq 0 ] || log "failed targets: ${failed[*]}"
echo "fuzz: $passed passed, ${#failed[@]} failed"
[ ${#failed[@]} -eq 0 ]
