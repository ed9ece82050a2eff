# shellcheck shell=bash
# Keeping drives served, sourced by guest.sh inside the guest: a drive whose thread dies (its
# uio node held open by another process, so the open fails) is down with the reason in
# `status`, and served again without restarting the daemon once the node is free; a storm of
# 100 netlink RECONFIGs (dev_config rewrites) under a running read ends on the last disc; and
# when the daemon's netlink socket overflows (it is stopped while a second listener, as
# tcmu-runner would be, lets the kernel's writes succeed), the daemon reads every drive's
# dev_config again and ends on the disc configfs names.
# Every drive made here is removed before returning.
# required: supervise_down_reason supervise_restarted supervise_restarted_reads
# required: netlink_storm_last_disc netlink_storm_reader netlink_lost_resync
# required: netlink_lost_reported supervise_daemon_alive

SV=$OUT/supervise
rm -rf "$SV"
mkdir -p "$SV"
# Three distinct 1 MiB discs.
for n in a b c; do
    head -c 1048576 /dev/urandom >"$SV/$n.iso"
done
# direct_same DEV FILE: DEV reads back as FILE, bypassing the page cache (a swapped disc),
# allowing the host a few seconds to notice the change.
direct_same() {
    local n i
    n=$(stat -c %s "$2")
    for i in 1 2 3 4 5 6 7 8 9 10; do
        timeout 60 dd if="$1" bs=2048 count=$((n / 2048)) iflag=direct 2>/dev/null | cmp -s - "$2" &&
            return 0
        sleep 1
    done
    return 1
}
# swap_config NAME IMAGE: rewrite the live backstore's dev_config (the kernel's RECONFIG)
swap_config() { printf 'mmc/%s' "$2" >"$(backstore_dir "$1")/attrib/dev_config"; }
# swap_storm NAME N: N swaps between a and b, the last one to c; SWAPS_FAILED counts failures
swap_storm() {
    local i img
    SWAPS_FAILED=0
    for i in $(seq 1 "$2"); do
        if [ $((i % 2)) = 1 ]; then img=$SV/b.iso; else img=$SV/a.iso; fi
        [ "$i" = "$2" ] && img=$SV/c.iso
        swap_config "$1" "$img" || SWAPS_FAILED=$((SWAPS_FAILED + 1))
    done
}
# wait_image NAME IMAGE: up to 30 s for `status` to show IMAGE in NAME; prints what it shows
wait_image() {
    local image=
    for _ in $(seq 1 60); do
        image=$(status_field "$1" image)
        [ "$image" = "$2" ] && break
        sleep 0.5
    done
    echo "$image"
}

step "supervise: a drive whose uio node another process holds"
kill -STOP "$DPID"
out=$(mmc create s0 "$SV/a.iso" 2>&1)
rc=$?
udevadm settle --timeout=30
uio=$(backstore_uio s0)
echo "create rc $rc ($out), uio '$uio'"
holder=
if [ $rc -eq 0 ] && [ -c "$uio" ]; then
    # The kernel lets one process open a TCMU uio node: while this one holds it, the daemon's
    # open fails with EBUSY.
    python3 -c 'import os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR)
open(sys.argv[2], "w").write("held\n")
time.sleep(600)' "$uio" "$SV/held" &
    holder=$!
    for _ in $(seq 1 50); do [ -s "$SV/held" ] && break; sleep 0.2; done
fi
kill -CONT "$DPID"
note=
for _ in $(seq 1 40); do
    note=$(status_field s0 note)
    case $note in down:*) break ;; esac
    sleep 0.5
done
echo "status note: $note"
check supervise_down_reason "note '$note'; log: $(grep 's0' "$DLOG" | tail -n 3 | oneline)" \
    grep -q 'down: open /dev/uio.*busy' <<<"$note"
[ -n "$holder" ] && kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
# The first pauses are 1, 2, 4 s: within 30 s it must be served again.
served=
for _ in $(seq 1 60); do
    served=$(status_field s0 served)
    [ "$served" = True ] && break
    sleep 0.5
done
check supervise_restarted "served '$served', note '$(status_field s0 note)'; log: $(grep 's0' "$DLOG" | tail -n 3 | oneline)" \
    [ "$served" = True ]
out=$(mmc attach s0 2>&1)
rc=$?
udevadm settle --timeout=30
sr=$(drive_sr s0)
check supervise_restarted_reads "attach rc $rc ($(echo "$out" | oneline)), sr '$sr'" \
    direct_same "$sr" "$SV/a.iso"

step "supervise: 100 netlink RECONFIGs under a running read"
sr=$(drive_sr s0)
(
    end=$((SECONDS + 600))
    while [ ! -e "$SV/stop-reader" ] && [ $SECONDS -lt $end ]; do
        dd if="$sr" of=/dev/null bs=64k iflag=direct 2>/dev/null
        echo x >>"$SV/reads"
    done
) &
reader=$!
t0=$SECONDS
swap_storm s0 100
bad=$SWAPS_FAILED
echo "100 swaps in $((SECONDS - t0)) s, $bad failed"
image=$(wait_image s0 "$SV/c.iso")
touch "$SV/stop-reader"
wait "$reader"
reads=$(wc -l <"$SV/reads" 2>/dev/null || echo 0)
echo "reader: $reads passes"
check netlink_storm_last_disc "image '$image', $bad writes failed, dev_config '$(backstore_config s0)'" \
    eval '[ "$image" = "$SV/c.iso" ] && [ $bad = 0 ] && direct_same "$sr" "$SV/c.iso"'
check netlink_storm_reader "reader made $reads passes; daemon alive: $(kill -0 "$DPID" 2>&1 && echo yes)" \
    eval '[ "$reads" -ge 1 ] && kill -0 "$DPID"'

step "supervise: RECONFIGs lost while the daemon's netlink socket is full"
python3 "$HERE/nl-listen.py" "$SV/listening" "$SV/heard" &
listener=$!
for _ in $(seq 1 50); do [ -s "$SV/listening" ] && break; sleep 0.2; done
kill -STOP "$DPID"
# Each event takes a page of the receiving socket's buffer: 300 overflow the daemon's.
swap_storm s0 300
bad=$SWAPS_FAILED
kill -CONT "$DPID"
heard=$(cat "$SV/heard" 2>/dev/null)
echo "300 swaps with the daemon stopped: $bad failed; the second listener heard ${heard:-0}"
image=$(wait_image s0 "$SV/c.iso")
kill "$listener" 2>/dev/null
wait "$listener" 2>/dev/null
check netlink_lost_resync "image '$image' (want $SV/c.iso), $bad writes failed, dev_config '$(backstore_config s0)'" \
    eval '[ "$image" = "$SV/c.iso" ] && [ $bad = 0 ] && direct_same "$sr" "$SV/c.iso"'
check netlink_lost_reported "log: $(grep -i 'netlink\|reconfiguring' "$DLOG" | tail -n 3 | oneline)" \
    grep -q 'overflowed (ENOBUFS)' "$DLOG"

mmc delete s0 >/dev/null 2>&1
check supervise_daemon_alive "daemon or d0 gone after the supervise scenarios" \
    eval 'kill -0 "$DPID" && same_prefix "$(drive_sr d0)" "$SMALL"'
