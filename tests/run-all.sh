#!/bin/bash
# Every check of the project: format, lints, unit/integration/property tests, a short fuzz
# run, then the real-kernel end-to-end suite in a QEMU guest. Exits non-zero if any step fails (all steps still run).
#
# usage: tests/run-all.sh [--no-e2e]
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO" || exit 1

run_e2e=1
[ "${1:-}" = --no-e2e ] && run_e2e=0

failed=()
npassed=0
step() { # step NAME COMMAND...
    local name=$1 t0=$SECONDS rc=0
    shift
    echo "=== $name: $*"
    "$@" || rc=$?
    if [ $rc -eq 0 ]; then
        echo "=== $name: ok ($((SECONDS - t0)) s)"
        npassed=$((npassed + 1))
    else
        echo "=== $name: FAILED (exit $rc, $((SECONDS - t0)) s)"
        failed+=("$name")
    fi
}

# rustfmt / clippy are rustup components; add them only when that works (it needs the
# network or a local component cache), else skip the step with a note.
have_component() { # have_component CARGO_SUBCOMMAND RUSTUP_COMPONENT
    cargo "$1" --version >/dev/null 2>&1 && return 0
    command -v rustup >/dev/null 2>&1 && rustup component add "$2" >/dev/null 2>&1 &&
        cargo "$1" --version >/dev/null 2>&1
}

if have_component fmt rustfmt; then
    step fmt cargo fmt --all --check
else
    echo "=== fmt: skipped (rustfmt not available)"
fi
if have_component clippy clippy; then
    step clippy cargo clippy --workspace --all-targets -- -D warnings
else
    echo "=== clippy: skipped (clippy not available)"
fi
step test cargo test --workspace
# A short run of every fuzz target (tests/fuzz/run.sh; FUZZ_SECONDS per target).
step fuzz "$REPO/tests/fuzz/run.sh"
if [ $run_e2e = 1 ]; then
    step e2e "$REPO/tests/e2e/run.sh"
fi

# Closing line counts steps (each step prints its own detailed counts above).
[ ${#failed[@]} -eq 0 ] || echo "failed steps: ${failed[*]}"
echo "run-all: $npassed passed, ${#failed[@]} failed in $SECONDS s"
[ ${#failed[@]} -eq 0 ]
