# shellcheck shell=bash
# Blank DVD+R scenarios, sourced by guest.sh inside the guest (its helpers are in scope:
# mmc, pass/fail/skip/check, step, oneline, drive_sr/drive_sg, daemon_start, $BIN, $DLOG).
# Every drive made here is removed again before returning.
# required: burn_growisofs burn_growisofs_mount burn_restart burn_multisession
# required: burn_state_two_sessions burn_wodim_ignsize burn_wodim burn_xorriso
# required: burn_finalize_dvdrom burn_too_large burn_kill9_retry burn_kill9_keeps_session
# required: burn_dl_dvd_compat

# burn_drive runs in $(...), a subshell: the drives are named p1..p7 and removed by name.
burn_drive() { # burn_drive NAME IMAGE [OPTIONS]: create + attach, print the block device
    local out
    out=$(mmc create "$1" "$2" ${3:+"$3"} 2>&1 && mmc attach "$1" 2>&1) || {
        echo "burn_drive $1: $out" >&2
        return 1
    }
    udevadm settle --timeout=30
    drive_sr "$1"
}
step "DVD+R: growisofs -Z on a blank disc"
BT=$IMG/burn-tree
rm -rf "$BT" "$IMG"/blank-*.iso "$IMG"/blank-*.iso.tcmu-mmc.json
mkdir -p "$BT/extra"
head -c 3000000 /dev/urandom >"$BT/extra/second-session.bin"
seq 1 5000 >"$BT/extra/numbers.txt"
(cd "$BT" && sha256sum extra/*) >"$OUT/burn-tree.sha256"
for i in 1 2 3 4 5 6 7 8 9; do : >"$IMG/blank-$i.iso"; done
sr=$(burn_drive p1 "$IMG/blank-1.iso")
out=$(timeout 300 growisofs -Z "$sr=$SMALL" 2>&1)
rc=$?
echo "$out"
sleep 3
if [ $rc -eq 0 ] && same_prefix "$sr" "$SMALL" && image_is_file_padded "$IMG/blank-1.iso" "$SMALL"; then
    pass burn_growisofs
else
    fail burn_growisofs "growisofs rc $rc: $(echo "$out" | tail -n3 | oneline); image $(stat -c %s "$IMG/blank-1.iso") bytes"
fi
if mounted_sums_ok "$sr" "$IMG/small.sha256"; then pass burn_growisofs_mount; else fail burn_growisofs_mount "mount or checksums"; fi

step "DVD+R: restart between growisofs -Z and -M"
kill -TERM "$DPID"
wait "$DPID" 2>/dev/null
if daemon_start && (wait_daemon_attached p1 30) >/dev/null 2>&1; then
    pass burn_restart
else
    fail burn_restart "daemon did not come back: $(tail -n3 "$DLOG" | oneline)"
fi
out=$(timeout 300 growisofs -M "$sr" -R "$BT" 2>&1)
rc=$?
echo "$out"
sleep 3
if [ $rc -eq 0 ] && mounted_sums_ok "$sr" "$IMG/small.sha256" "$OUT/burn-tree.sha256"; then
    pass burn_multisession
else
    fail burn_multisession "growisofs -M rc $rc: $(echo "$out" | tail -n3 | oneline)"
fi
info=$("$BIN" disc info "$IMG/blank-1.iso" 2>&1)
echo "$info"
case $info in
    *"dvd+r profile 001b status Incomplete"*"sessions 2"*) pass burn_state_two_sessions ;;
    *) fail burn_state_two_sessions "$info" ;;
esac

step "DVD+R: wodim -dao, with and without -ignsize -overburn"
for v in 2:"-ignsize -overburn" 3:""; do
    n=${v%%:*}
    flags=${v#*:}
    name=burn_wodim${flags:+_ignsize}
    sr=$(burn_drive "p$n" "$IMG/blank-$n.iso")
    sg=$(drive_sg "p$n")
    # shellcheck disable=SC2086 # the flags are separate words
    out=$(timeout 300 wodim -dao $flags dev="$sg" "$SMALL" 2>&1)
    rc=$?
    echo "$out"
    sleep 3
    if [ $rc -eq 0 ] && ! echo "$out" | grep -qi 'trouble\|error' && cmp -s "$IMG/blank-$n.iso" "$SMALL" &&
        same_prefix "$sr" "$SMALL"; then
        pass "$name"
    else
        fail "$name" "wodim rc $rc: $(echo "$out" | grep -i 'trouble\|error\|sense' | head -n3 | oneline)"
    fi
done

step "DVD+R: xorriso"
sr=$(burn_drive p4 "$IMG/blank-4.iso")
out=$(timeout 300 xorriso -outdev "$sr" -map "$BT" / -commit 2>&1)
rc=$?
echo "$out"
sleep 3
if [ $rc -eq 0 ] && mounted_sums_ok "$sr" "$OUT/burn-tree.sha256"; then
    pass burn_xorriso
else
    fail burn_xorriso "xorriso rc $rc: $(echo "$out" | grep -i 'failure\|sorry\|error' | head -n3 | oneline)"
fi

step "DVD+R: finalize (growisofs -dvd-compat) makes a DVD-ROM"
sr=$(burn_drive p5 "$IMG/blank-5.iso")
out=$(timeout 300 growisofs -dvd-compat -Z "$sr=$SMALL" 2>&1)
rc=$?
echo "$out"
sleep 3
prof=$(current_profile "$sr")
size=$(blockdev --getsize64 "$sr" 2>&1)
wr=$(sg_raw -s 2048 -i "$SMALL" "$sr" 2a 00 00 00 10 00 00 00 01 00 2>&1)
echo "profile $prof size $size write: $wr"
if [ $rc -eq 0 ] && [ "$prof" = 0010 ] && [ "$size" = "$(stat -c %s "$IMG/blank-5.iso")" ] &&
    echo "$wr" | grep -q 'Cannot write medium - incompatible format'; then
    pass burn_finalize_dvdrom
else
    fail burn_finalize_dvdrom "growisofs rc $rc, profile '$prof', size $size, write: $(echo "$wr" | oneline)"
fi

step "DVD+R DL: growisofs -dvd-compat"
# growisofs -dvd-compat on a DVD+R DL first reads the layer boundary (READ DVD STRUCTURE 20h)
# to set the layer break; this drive fixes it at half the disc, and says so.
sr=$(burn_drive p9 "$IMG/blank-9.iso" "type=dvd+r-dl;capacity=8000")
prof=$(current_profile "$sr")
media=$(timeout 60 dvd+rw-mediainfo "$sr" 2>&1)
echo "$media" | grep -i 'mounted media\|L0 Data Zone'
out=$(timeout 300 growisofs -dvd-compat -Z "$sr=$SMALL" 2>&1)
rc=$?
echo "$out" | tail -n 6
sleep 3
if [ "$prof" = 002b ] && echo "$media" | grep -q 'L0 Data Zone Capacity: *4000\*2KB, can no longer be set' &&
    [ $rc -eq 0 ] && same_prefix "$sr" "$SMALL"; then
    pass burn_dl_dvd_compat
else
    fail burn_dl_dvd_compat "profile $prof, $(echo "$media" | grep -i 'L0 Data' | oneline); growisofs rc $rc: $(echo "$out" | tail -n3 | oneline)"
fi

step "DVD+R: an image too large for the disc"
sr=$(burn_drive p6 "$IMG/blank-6.iso" "capacity=1000")
out=$(timeout 300 growisofs -Z "$sr=$SMALL" 2>&1)
rc=$?
echo "$out"
tur=$(sg_raw "$sr" 00 00 00 00 00 00 2>&1)
info=$("$BIN" disc info "$IMG/blank-6.iso" 2>&1)
echo "$info"
if [ $rc -ne 0 ] && echo "$out" | grep -q 'blocks are free' && echo "$tur" | grep -q 'Good' &&
    echo "$info" | grep -q 'status Empty'; then
    pass burn_too_large
else
    fail burn_too_large "growisofs rc $rc: $(echo "$out" | tail -n2 | oneline); $info"
fi

step "DVD+R: kill -9 in the middle of a burn"
sr=$(burn_drive p7 "$IMG/blank-7.iso")
timeout 600 growisofs -Z "$sr=$BIG" >"$OUT/burn-killed.log" 2>&1 &
GP=$!
# Kill once a quarter of the image (at most 20 MB) is written: well inside the burn.
kill_at=$(($(stat -c %s "$BIG") / 4))
[ "$kill_at" -le 20000000 ] || kill_at=20000000
kill9_mid_burn p7 "$IMG/blank-7.iso" "$kill_at" $GP
written=$KILLED_AT
grc=$BURN_RC
tail -n3 "$OUT/burn-killed.log"
info=$("$BIN" disc info "$IMG/blank-7.iso" 2>&1)
echo "killed after $written bytes, growisofs rc $grc: $info"
# Nothing was acknowledged (no SYNCHRONIZE CACHE, no CLOSE): the disc is blank again, and
# a new burn works.
out=$(timeout 300 growisofs -Z "$sr=$SMALL" 2>&1)
rc=$?
echo "$out"
sleep 3
# growisofs reports the refused write (05/21/02: the drive restarted without the unacknowledged
# data) but may still exit 0 after closing the empty track and session.
if [ "$written" -gt 0 ] && grep -q 'INVALID ADDRESS FOR WRITE\|write failed' "$OUT/burn-killed.log" &&
    echo "$info" | grep -q 'status Empty' && [ $rc -eq 0 ] &&
    same_prefix "$sr" "$SMALL"; then
    pass burn_kill9_retry
else
    fail burn_kill9_retry "killed after $written bytes, first burn rc $grc ($(tail -n2 "$OUT/burn-killed.log" | oneline)), state '$info', retry rc $rc"
fi

step "DVD+R: kill -9 while a second session is written"
# The first session was closed (acknowledged); the second is cut by kill -9. After the restart
# the disc holds exactly the first session, byte for byte, and is still appendable: a retry
# of the second session works and both sessions read back.
sr=$(burn_drive p8 "$IMG/blank-8.iso")
out=$(timeout 300 growisofs -Z "$sr=$SMALL" 2>&1)
rc1=$?
size1=$(stat -c %s "$IMG/blank-8.iso")
sum1=$(sha256sum <"$IMG/blank-8.iso" | cut -d' ' -f1)
timeout 600 growisofs -M "$sr" -R "$BIG" >"$OUT/burn-killed-2.log" 2>&1 &
GP=$!
kill9_mid_burn p8 "$IMG/blank-8.iso" $((size1 + 20000000)) $GP
written=$((KILLED_AT - size1))
grc=$BURN_RC
tail -n3 "$OUT/burn-killed-2.log"
info=$("$BIN" disc info "$IMG/blank-8.iso" 2>&1)
size2=$(stat -c %s "$IMG/blank-8.iso")
sum2=$(head -c "$size1" "$IMG/blank-8.iso" | sha256sum | cut -d' ' -f1)
echo "first session $size1 bytes (growisofs rc $rc1); killed $written bytes into the second (rc $grc); after restart $size2 bytes: $info"
blockdev --flushbufs "$sr" 2>/dev/null
first_ok=no
mounted_sums_ok "$sr" "$IMG/small.sha256" && first_ok=yes
out=$(timeout 300 growisofs -M "$sr" -R "$BT" 2>&1)
rc=$?
echo "$out" | tail -n 3
sleep 3
if [ $rc1 -eq 0 ] && [ "$written" -gt 0 ] && [ "$sum2" = "$sum1" ] && [ "$size2" -eq "$size1" ] &&
    echo "$info" | grep -q 'status Incomplete.*sessions 1 ' && [ $first_ok = yes ] && [ $rc -eq 0 ] &&
    mounted_sums_ok "$sr" "$IMG/small.sha256" "$OUT/burn-tree.sha256"; then
    pass burn_kill9_keeps_session
else
    fail burn_kill9_keeps_session "first rc $rc1, killed after $written bytes, size $size2 (was $size1), prefix same: $([ "$sum2" = "$sum1" ] && echo yes || echo no), first session mounts: $first_ok, state '$info', retry rc $rc: $(echo "$out" | tail -n2 | oneline)"
fi

step "DVD+R: tear down"
for name in p1 p2 p3 p4 p5 p6 p7 p8 p9; do
    mmc delete "$name"
done
