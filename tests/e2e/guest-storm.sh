# shellcheck shell=bash
# A CDB storm, sourced by guest.sh inside the guest: E2E_STORM_COUNT (default 2000) random,
# mutated and random-opcode CDBs per drive (tests/e2e/storm-cdbs.py, fixed seeds), each with
# random Data-In/Data-Out lengths and data, sent through SG_IO (tests/e2e/storm-send.py) to
# drives holding a DVD-ROM, a blank DVD+R, a burned DVD+R, a DVD+RW and no disc. Afterwards no command has hung, the daemon
# still runs, and each disc is what it may honestly be:
#   DVD-ROM       the image is byte-identical and reads back (every write was refused);
#   blank DVD+R   (no recording commands sent) still blank, then growisofs burns it;
#   burned DVD+R  (writes aimed at the next writable address) the burned session is intact in
#                 the image and reads back: write-once data is never overwritten;
#   DVD+RW        (written, formatted at random) inside its capacity, then formats, takes an
#                 image with dd and reads it back;
#   empty tray    answers NOT READY.
# Every drive made here is removed before returning.
# required: storm_rom storm_rom_unchanged storm_blank_dvdr storm_blank_dvdr_burn storm_dvdr
# required: storm_dvdr_intact storm_dvdrw storm_dvdrw_readback storm_empty storm_daemon_alive

STORM_N=${E2E_STORM_COUNT:-2000}
SD=$IMG/storm
POOL=$SD/pool.bin
rm -rf "$SD"
mkdir -p "$SD"
# Data-Out comes from a fixed pseudo-random MiB, so a run is reproducible.
python3 -c 'import random, sys; sys.stdout.buffer.write(random.Random(8).randbytes(1 << 20))' >"$POOL"

storm_drive() { # storm_drive NAME [IMAGE [OPTIONS]]: create + attach, print the block device
    local out sr
    out=$(mmc create "$@" 2>&1 && mmc attach "$1" 2>&1) || {
        echo "storm_drive $1: $out" >&2
        return 1
    }
    udevadm settle --timeout=30
    sr=$(drive_sr "$1")
    [ -b "$sr" ] || {
        echo "storm_drive $1: no block device ('$sr'): $out" >&2
        return 1
    }
    echo "$sr"
}
storm_mark() { echo "tcmu-mmc-e2e-storm $1" >/dev/kmsg; }
storm_dmesg() { dmesg | sed -n "/tcmu-mmc-e2e-storm $1/,\$p"; }

# storm NAME SEED PROFILE [NWA]: send the storm to NAME; sets STORM_WHY (empty when the storm
# passed: no command hung, no kernel timeout, no medium or hardware error, the daemon alive).
storm() {
    local name=$1 sg hung=0 n=0 rc t0 t1 summary
    sg=$(drive_sg "$name")
    STORM_WHY=
    [ -c "$sg" ] || {
        STORM_WHY="no sg device for $name"
        return
    }
    python3 "$HERE/storm-cdbs.py" "$2" "$STORM_N" "$3" "${4:-0}" >"$SD/$name.cdbs" || {
        STORM_WHY="storm-cdbs.py $2 failed"
        return
    }
    storm_mark "$name"
    t0=$(date +%s.%N)
    # One process sends them all through SG_IO (10 s kernel timeout each, as sg_raw -t 10);
    # the outer timeout catches a sender stuck for good.
    summary=$(timeout 900 python3 "$HERE/storm-send.py" "$sg" "$SD/$name.cdbs" "$POOL" 10 \
        </dev/null 2>>"$SD/$name.err")
    rc=$?
    t1=$(date +%s.%N)
    echo "storm $name: $summary (exit $rc) in $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')s"
    grep '^hung:' "$SD/$name.err" | head -n 5
    read -r _ n _ hung _ <<<"$summary"
    [ -n "$n" ] || n=0
    [ -n "$hung" ] || hung=0
    [ $rc -eq 124 ] && hung=$((hung + 1))
    local timeouts
    timeouts=$(storm_dmesg "$name" | grep -i 'timing out\|timed out\|abort' | head -n3 | oneline)
    if [ "$hung" -gt 0 ]; then
        STORM_WHY="$hung of $n commands hung (see $SD/$name.err)"
    elif [ -n "$timeouts" ]; then
        STORM_WHY="kernel timeouts: $timeouts"
    elif [[ " $summary" == *" check-3:"* || " $summary" == *" check-4:"* ]]; then
        # Every image here is healthy: bad input is the initiator's error (ILLEGAL REQUEST),
        # never a MEDIUM or HARDWARE ERROR. The daemon log names the command.
        STORM_WHY="medium or hardware error on a healthy disc: $summary; $(grep "$name: .*failed" "$DLOG" | tail -n2 | oneline)"
    elif ! kill -0 "$DPID" 2>/dev/null; then
        STORM_WHY="daemon died: $(tail -n3 "$DLOG" | oneline)"
    elif [ "$n" -ne "$STORM_N" ]; then
        STORM_WHY="only $n of $STORM_N commands sent"
    fi
    # Undo what the storm may have left: removal prevented, tray open, a unit attention.
    sg_raw -n "$sg" 1e 00 00 00 00 00 >/dev/null 2>&1
    sg_raw -n "$sg" 1b 00 00 00 03 00 >/dev/null 2>&1
    for _ in 1 2 3 4; do
        sg_raw -n "$sg" 00 00 00 00 00 00 >/dev/null 2>&1 && break
    done
    udevadm settle --timeout=30
}
storm_result() { # storm_result SCENARIO
    if [ -z "$STORM_WHY" ]; then pass "$1"; else fail "$1" "$STORM_WHY"; fi
}
# The first bytes of DEV, read around the page cache, equal FILE.
direct_prefix() { # direct_prefix DEV FILE
    local n
    n=$(stat -c %s "$2")
    blockdev --flushbufs "$1" 2>/dev/null
    timeout 120 dd if="$1" bs=2048 count=$((n / 2048)) iflag=direct 2>/dev/null | cmp -s - "$2"
}
# Capacity in blocks and readable blocks of IMAGE's disc, from `tcmu-mmc disc info`.
disc_field() { # disc_field IMAGE FIELD
    "$BIN" disc info "$1" 2>/dev/null | sed -n "s/.* $2 \([0-9]*\).*/\1/p"
}

# ------------------------------------------------------------------ DVD-ROM
step "storm: DVD-ROM"
cp "$SMALL" "$SD/rom.iso"
rom_sum=$(sha256sum <"$SD/rom.iso")
if sr=$(storm_drive s1 "$SD/rom.iso") && [ -b "$sr" ]; then
    storm s1 101 any
    storm_result storm_rom
    if [ "$(sha256sum <"$SD/rom.iso")" = "$rom_sum" ] && direct_prefix "$sr" "$SMALL"; then
        pass storm_rom_unchanged
    else
        fail storm_rom_unchanged "image changed or does not read back ($(stat -c %s "$SD/rom.iso") bytes)"
    fi
else
    fail storm_rom "no drive"
    skip storm_rom_unchanged "no drive"
fi

mmc delete s1 >/dev/null 2>&1 # fewer drives for udev to poll while the next storms run

# ------------------------------------------------------------------ blank DVD+R, kept blank
step "storm: blank DVD+R (no recording commands)"
: >"$SD/blank.iso"
if sr=$(storm_drive s2 "$SD/blank.iso") && [ -b "$sr" ]; then
    storm s2 202 keep
    storm_result storm_blank_dvdr
    info=$("$BIN" disc info "$SD/blank.iso" 2>&1)
    echo "after the storm: $info"
    out=
    if [ "$(stat -c %s "$SD/blank.iso")" = 0 ] && echo "$info" | grep -q 'status Empty'; then
        out=$(timeout 300 growisofs -Z "$sr=$SMALL" 2>&1)
        rc=$?
        echo "$out" | tail -n 5
        sleep 3
        if [ $rc -eq 0 ] && image_is_file_padded "$SD/blank.iso" "$SMALL" && direct_prefix "$sr" "$SMALL"; then
            pass storm_blank_dvdr_burn
        else
            fail storm_blank_dvdr_burn "growisofs rc $rc after the storm: $(echo "$out" | tail -n3 | oneline)"
        fi
    else
        fail storm_blank_dvdr_burn "not blank after the storm: $(echo "$info" | oneline), $(stat -c %s "$SD/blank.iso") bytes"
    fi
else
    fail storm_blank_dvdr "no drive"
    skip storm_blank_dvdr_burn "no drive"
fi

mmc delete s2 >/dev/null 2>&1

# ------------------------------------------------------------------ burned DVD+R, appended to
step "storm: burned DVD+R (writes at the next writable address)"
: >"$SD/burned.iso"
if sr=$(storm_drive s3 "$SD/burned.iso") && [ -b "$sr" ] &&
    timeout 300 growisofs -Z "$sr=$SMALL" >"$SD/burn.log" 2>&1; then
    sleep 3
    readable=$(disc_field "$SD/burned.iso" readable)
    nwa=$(((${readable:-0} + 15) / 16 * 16))
    echo "burned: $("$BIN" disc info "$SD/burned.iso" 2>&1); storm writes aim at $nwa"
    storm s3 303 append "$nwa"
    storm_result storm_dvdr
    info=$("$BIN" disc info "$SD/burned.iso" 2>&1)
    echo "after the storm: $info"
    cap=$(disc_field "$SD/burned.iso" capacity)
    size=$(stat -c %s "$SD/burned.iso")
    if [ -n "$cap" ] && [ "$size" -le $((cap * 2048)) ] &&
        cmp -s -n "$(stat -c %s "$SMALL")" "$SD/burned.iso" "$SMALL" && direct_prefix "$sr" "$SMALL"; then
        pass storm_dvdr_intact
    else
        fail storm_dvdr_intact "burned session changed or unreadable: $(echo "$info" | oneline), $size bytes"
    fi
else
    fail storm_dvdr "no drive or growisofs failed: $(tail -n3 "$SD/burn.log" 2>/dev/null | oneline)"
    skip storm_dvdr_intact "no drive"
fi

mmc delete s3 >/dev/null 2>&1

# ------------------------------------------------------------------ DVD+RW
step "storm: DVD+RW (anything goes)"
: >"$SD/rw.img"
if sr=$(storm_drive s4 "$SD/rw.img" 'type=dvd+rw;capacity=65536') && [ -b "$sr" ]; then
    storm s4 404 any
    storm_result storm_dvdrw
    info=$("$BIN" disc info "$SD/rw.img" 2>&1)
    echo "after the storm: $info"
    size=$(stat -c %s "$SD/rw.img")
    out=$(timeout 300 dvd+rw-format -force "$sr" 2>&1)
    rc=$?
    echo "$out" | tail -n 3
    udevadm settle --timeout=30
    if [ $rc -ne 0 ]; then
        fail storm_dvdrw_readback "dvd+rw-format rc $rc: $(echo "$out" | tail -n2 | oneline)"
    elif ! echo "$info" | grep -q 'dvd+rw .*capacity 65536' || [ "$size" -gt $((65536 * 2048)) ]; then
        fail storm_dvdrw_readback "after the storm: $(echo "$info" | oneline), $size bytes"
    else
        out=$(timeout 300 dd if="$SMALL" of="$sr" bs=32k oflag=direct conv=notrunc 2>&1)
        rc=$?
        if [ $rc -eq 0 ] && direct_prefix "$sr" "$SMALL" && cmp -s -n "$(stat -c %s "$SMALL")" "$SD/rw.img" "$SMALL"; then
            pass storm_dvdrw_readback
        else
            fail storm_dvdrw_readback "dd rc $rc: $(echo "$out" | oneline)"
        fi
    fi
else
    fail storm_dvdrw "no drive"
    skip storm_dvdrw_readback "no drive"
fi

mmc delete s4 >/dev/null 2>&1

# ------------------------------------------------------------------ empty tray
step "storm: empty tray"
if storm_drive s5 >/dev/null; then
    storm s5 505 any
    out=$(sg_raw "$(drive_sg s5)" 00 00 00 00 00 00 2>&1)
    echo "TUR after the storm: $out"
    [ -z "$STORM_WHY" ] && ! echo "$out" | grep -q 'Not Ready' && STORM_WHY="TUR: $(echo "$out" | oneline)"
    storm_result storm_empty
else
    fail storm_empty "no drive"
fi

step "storm: daemon"
if kill -0 "$DPID" 2>/dev/null && ! grep -q 'panicked' "$DLOG"; then
    pass storm_daemon_alive
else
    fail storm_daemon_alive "daemon gone or panicked: $(grep -m1 panicked "$DLOG" | oneline)"
fi
mmc delete s5 >/dev/null 2>&1
