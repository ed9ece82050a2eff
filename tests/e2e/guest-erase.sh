# shellcheck shell=bash
# kill -9 in the middle of FORMAT UNIT (DVD+RW) and BLANK (CD-RW), sourced by guest.sh inside
# the guest. The daemon is killed by strace at an exact system call of the store's fixed
# order: at the rename that would make the new state durable (the disc must come back as the
# old one, its data intact) and at the ftruncate that empties the image once the new state is
# durable (the disc must come back as the new blank one, the erase finished by the load).
# Never a mix. Every drive made here is removed before returning.
# required: erase_dvdplusrw_prepare erase_kill9_format_before_state erase_kill9_format_after_state
# required: erase_cdrw_prepare erase_kill9_blank_before_state erase_kill9_blank_after_state
# required: erase_daemon_alive

ERASE_MB=2 # data written before the erase, MiB

# kill9_at_syscall SYSCALLS COMMAND...: run COMMAND with the daemon traced by strace, which
# kills it (SIGKILL) at the first of SYSCALLS it makes, before the call is carried out (the
# call is replaced by an error). Prints what happened; true if the daemon died that way.
# Runs in the main shell (not in $(...)), so that it can reap the daemon.
kill9_at_syscall() {
    local calls=$1 spid i rc
    shift
    timeout 120 strace -f -qq -p "$DPID" -e trace="$calls" \
        -e inject="$calls":error=EIO:signal=KILL -o "$OUT/erase-strace.log" &
    spid=$!
    # strace prints nothing until a call: wait until every thread of the daemon is traced.
    for i in $(seq 1 100); do
        [ -z "$(grep -L 'TracerPid:[[:space:]]*[1-9]' /proc/"$DPID"/task/*/status 2>/dev/null)" ] &&
            break
        sleep 0.1
    done
    timeout 60 "$@" >"$OUT/erase-cmd.log" 2>&1
    rc=$?
    wait "$DPID" 2>/dev/null
    wait "$spid" 2>/dev/null
    echo "command rc $rc: $(tail -n2 "$OUT/erase-cmd.log" | oneline); strace: $(tail -n3 "$OUT/erase-strace.log" | oneline)"
    [ ! -e "/proc/$DPID" ] && grep -q 'killed by SIGKILL' "$OUT/erase-strace.log"
}

# erase_restart NAME: start the daemon again and wait for NAME to be served.
erase_restart() {
    daemon_start && (wait_daemon_attached "$1" 30) >/dev/null 2>&1 && udevadm settle --timeout=30
}

erase_drive() { # erase_drive NAME TYPE: a blank disc of TYPE (8192 blocks), attached
    local name=$1 type=$2 img=$IMG/erase-$1.img
    rm -f "$img" "$img.tcmu-mmc.json"*
    "$BIN" disc create --type "$type" --capacity 8192 "$img" >/dev/null 2>&1 &&
        mmc create "$name" "$img" >/dev/null 2>&1 && mmc attach "$name" >/dev/null 2>&1 &&
        udevadm settle --timeout=30 && drive_sr "$name"
}

# The first ERASE_MB MiB of the disc, as sha256.
head_sum() { timeout 60 dd if="$1" bs=64k count=$((ERASE_MB * 16)) iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1; }
ZERO_SUM=$(head -c $((ERASE_MB * 1048576)) /dev/zero | sha256sum | cut -d' ' -f1)
head -c $((ERASE_MB * 1048576)) /dev/urandom >"$OUT/erase-data.bin"
DATA_SUM=$(sha256sum <"$OUT/erase-data.bin" | cut -d' ' -f1)

# ---------------------------------------------------------------- DVD+RW: FORMAT UNIT
step "kill -9 during FORMAT UNIT of a DVD+RW"
dev=$(erase_drive eplus dvd+rw)
img=$IMG/erase-eplus.img
sg=$(drive_sg eplus)
out=$(timeout 120 dvd+rw-format -force "$dev" 2>&1) &&
    out2=$(timeout 120 dd if="$OUT/erase-data.bin" of="$dev" bs=64k oflag=direct 2>&1) &&
    sg_sync "$sg" && [ "$(head_sum "$dev")" = "$DATA_SUM" ]
rc=$?
if [ $rc -eq 0 ]; then
    pass erase_dvdplusrw_prepare
else
    fail erase_dvdplusrw_prepare "dev '$dev' rc $rc: $(echo "$out $out2" | tail -n3 | oneline)"
fi

# Killed at the rename of the state file: nothing of the format is durable.
kill9_at_syscall rename,renameat,renameat2 dvd+rw-format -force "$dev" >"$OUT/erase-kill.log"
killed=$?
out=$(cat "$OUT/erase-kill.log")
echo "$out"
erase_restart eplus
sum=$(head_sum "$dev")
info=$("$BIN" disc info "$img" 2>&1)
if [ $killed -eq 0 ] && [ "$sum" = "$DATA_SUM" ] && echo "$info" | grep -q 'formatted 8192'; then
    pass erase_kill9_format_before_state
else
    fail erase_kill9_format_before_state "killed: $([ $killed -eq 0 ] && echo yes || echo no) ($(echo "$out" | oneline)); data $([ "$sum" = "$DATA_SUM" ] && echo old || { [ "$sum" = "$ZERO_SUM" ] && echo zeros || echo other; }); $info"
fi

# Killed at the ftruncate that empties the image: the new state (with its erase mark) is
# durable, so the load finishes the erase: a freshly formatted, empty disc.
kill9_at_syscall ftruncate dvd+rw-format -force "$dev" >"$OUT/erase-kill.log"
killed=$?
out=$(cat "$OUT/erase-kill.log")
echo "$out"
size_at_kill=$(stat -c %s "$img")
erase_restart eplus
sum=$(head_sum "$dev")
info=$("$BIN" disc info "$img" 2>&1)
if [ $killed -eq 0 ] && [ "$size_at_kill" -gt 0 ] && [ "$sum" = "$ZERO_SUM" ] &&
    [ "$(stat -c %s "$img")" -eq 0 ] && echo "$info" | grep -q 'formatted 8192' &&
    grep -q 'finishing an interrupted erase' "$DLOG"; then
    pass erase_kill9_format_after_state
else
    fail erase_kill9_format_after_state "killed: $([ $killed -eq 0 ] && echo yes || echo no) ($(echo "$out" | oneline)); image $size_at_kill bytes at the kill, $(stat -c %s "$img") now; data $([ "$sum" = "$DATA_SUM" ] && echo old || { [ "$sum" = "$ZERO_SUM" ] && echo zeros || echo other; }); $info"
fi

# ---------------------------------------------------------------- CD-RW: BLANK
step "kill -9 during BLANK of a CD-RW"
dev=$(erase_drive ecdrw cd-rw)
img=$IMG/erase-ecdrw.img
sg=$(drive_sg ecdrw)
# Formatted for fixed packets as the kernel doc says, then data in 32-block packets (sr
# does not write CD-RW itself: WRITE(10) through the generic device).
write_packets() { # write_packets SG FILE
    local lba=0 n=$(($(stat -c %s "$2") / 65536))
    for ((i = 0; i < n; i++)); do
        tail -c +$((i * 65536 + 1)) "$2" | head -c 65536 >"$OUT/erase-packet.bin"
        sg_raw -s 65536 -i "$OUT/erase-packet.bin" "$1" 2a 00 $(be32 $lba) 00 00 20 00 >/dev/null 2>&1 ||
            return 1
        lba=$((lba + 32))
    done
}
out=$(timeout 300 cdrwtool -d "$dev" -q 2>&1) &&
    out2=$(write_packets "$sg" "$OUT/erase-data.bin" 2>&1) &&
    sg_sync "$sg" && [ "$(head_sum "$dev")" = "$DATA_SUM" ]
rc=$?
if [ $rc -eq 0 ]; then
    pass erase_cdrw_prepare
else
    fail erase_cdrw_prepare "dev '$dev' rc $rc: $(echo "$out $out2" | tail -n3 | oneline)"
fi
BLANK_CDB=(a1 01 00 00 00 00 00 00 00 00 00 00)

kill9_at_syscall rename,renameat,renameat2 sg_raw "$sg" "${BLANK_CDB[@]}" >"$OUT/erase-kill.log"
killed=$?
out=$(cat "$OUT/erase-kill.log")
echo "$out"
erase_restart ecdrw
sum=$(head_sum "$dev")
info=$("$BIN" disc info "$img" 2>&1)
if [ $killed -eq 0 ] && [ "$sum" = "$DATA_SUM" ] && echo "$info" | grep -q 'formatted 8192'; then
    pass erase_kill9_blank_before_state
else
    fail erase_kill9_blank_before_state "killed: $([ $killed -eq 0 ] && echo yes || echo no) ($(echo "$out" | oneline)); data $([ "$sum" = "$DATA_SUM" ] && echo old || echo other); $info"
fi

kill9_at_syscall ftruncate sg_raw "$sg" "${BLANK_CDB[@]}" >"$OUT/erase-kill.log"
killed=$?
out=$(cat "$OUT/erase-kill.log")
echo "$out"
size_at_kill=$(stat -c %s "$img")
erase_restart ecdrw
info=$("$BIN" disc info "$img" 2>&1)
# A blank CD-RW: nothing to read (READ CAPACITY fails or says 0 blocks), not formatted.
if [ $killed -eq 0 ] && [ "$size_at_kill" -gt 0 ] && [ "$(stat -c %s "$img")" -eq 0 ] &&
    echo "$info" | grep -q 'status Empty' && echo "$info" | grep -q 'formatted 0' &&
    grep -q 'finishing an interrupted erase' "$DLOG"; then
    pass erase_kill9_blank_after_state
else
    fail erase_kill9_blank_after_state "killed: $([ $killed -eq 0 ] && echo yes || echo no) ($(echo "$out" | oneline)); image $size_at_kill bytes at the kill, $(stat -c %s "$img") now; $info"
fi

check erase_daemon_alive "daemon died: $(tail -n3 "$DLOG" | oneline)" kill -0 "$DPID"
for n in eplus ecdrw; do
    mmc detach "$n" >/dev/null 2>&1
    mmc delete "$n" >/dev/null 2>&1
done
rm -f "$IMG"/erase-* "$OUT/erase-data.bin"
