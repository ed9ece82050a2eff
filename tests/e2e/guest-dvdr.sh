# shellcheck shell=bash
# DVD-R and sequential DVD-RW scenarios, sourced by guest.sh inside the guest (its helpers are
# in scope: mmc, pass/fail/check, step, oneline, drive_sr/drive_sg, same_prefix,
# mounted_sums_ok, current_profile, kill9_mid_burn, $BIN, $SMALL, $BIG). Every drive made here is removed again.
# required: dvdr_blank_profile dvdr_growisofs dvdr_growisofs_mount dvdr_multiborder
# required: dvdr_two_borders_state dvdr_dao dvdr_wodim_dao dvdr_cdrskin dvdr_xorriso_twice
# required: dvdr_finalize dvdr_bad_write dvdrw_growisofs dvdrw_format_overwrite
# required: dvdrw_blank_again dvdrw_burn_again dvdr_kill9_retry dvdr_dao_kill9_retry
# required: dvdr_dl_cdrskin dvdr_dl_growisofs

DR_DRIVES=(r1 r2 r3 r4 r5 r6 r7 r8 r9 r10 r11 r12)
DT=$IMG/dvdr-tree
DT2=$IMG/dvdr-tree-2
rm -rf "$DT" "$DT2" "$IMG"/dvdr-*.img "$IMG"/dvdr-*.img.tcmu-mmc.json
mkdir -p "$DT/border2" "$DT2/third"
head -c 2000000 /dev/urandom >"$DT/border2/data.bin"
seq 1 3000 >"$DT2/third/numbers.txt"
(cd "$DT" && sha256sum border2/*) >"$OUT/dvdr-tree.sha256"
(cd "$DT2" && sha256sum third/*) >"$OUT/dvdr-tree-2.sha256"

# dvdr_drive NAME TYPE: a fresh empty image of TYPE (a blank disc), attached; prints its sr.
# Runs in $(...): the names are in DR_DRIVES, removed at the end.
dvdr_drive() { blank_drive "$1" "$IMG/dvdr-$1.img" "type=$2"; }
disc_info() { "$BIN" disc info "$IMG/dvdr-$1.img" 2>&1; }
# write_refused DEV LBA SENSE_TEXT: one 2 KiB WRITE(10) at LBA fails with that sense.
write_refused() {
    local lba out
    lba=$(printf '%02x %02x %02x %02x' $(($2 >> 24 & 255)) $(($2 >> 16 & 255)) $(($2 >> 8 & 255)) $(($2 & 255)))
    # shellcheck disable=SC2086 # the LBA bytes are separate words
    out=$(sg_raw -s 2048 -i "$SMALL" "$1" 2a 00 $lba 00 00 01 00 2>&1)
    echo "write at $2: $(echo "$out" | oneline)"
    echo "$out" | grep -q "$3"
}

step "DVD-R: a blank disc and growisofs -Z"
sr=$(dvdr_drive r1 dvd-r)
media=$(timeout 60 dvd+rw-mediainfo "$sr" 2>&1)
echo "$media" | head -n 20
if [ "$(current_profile "$sr")" = 0011 ] && echo "$media" | grep -q 'Mounted Media: *11h, DVD-R Sequential' &&
    echo "$media" | grep -q 'Disc status: *blank'; then
    pass dvdr_blank_profile
else
    fail dvdr_blank_profile "profile $(current_profile "$sr"): $(echo "$media" | grep -i 'media\|status' | oneline)"
fi
out=$(timeout 300 growisofs -Z "$sr=$SMALL" 2>&1)
rc=$?
echo "$out" | tail -n 8
sleep 3
if [ $rc -eq 0 ] && same_prefix "$sr" "$SMALL"; then
    pass dvdr_growisofs
else
    fail dvdr_growisofs "growisofs rc $rc: $(echo "$out" | tail -n3 | oneline)"
fi
if mounted_sums_ok "$sr" "$IMG/small.sha256"; then pass dvdr_growisofs_mount; else fail dvdr_growisofs_mount "mount or checksums"; fi

step "DVD-R: growisofs -M adds a border"
out=$(timeout 300 growisofs -M "$sr" -R "$DT" 2>&1)
rc=$?
echo "$out" | tail -n 8
sleep 3
if [ $rc -eq 0 ] && mounted_sums_ok "$sr" "$IMG/small.sha256" "$OUT/dvdr-tree.sha256"; then
    pass dvdr_multiborder
else
    fail dvdr_multiborder "growisofs -M rc $rc: $(echo "$out" | tail -n3 | oneline)"
fi
info=$(disc_info r1)
echo "$info"
case $info in
    *"dvd-r profile 0011 status Incomplete"*"sessions 2"*) pass dvdr_two_borders_state ;;
    *) fail dvdr_two_borders_state "$info" ;;
esac

step "DVD-R: Disc-At-Once (growisofs -use-the-force-luke=dao)"
sr=$(dvdr_drive r2 dvd-r)
out=$(timeout 300 growisofs -use-the-force-luke=dao -Z "$sr=$SMALL" 2>&1)
rc=$?
echo "$out" | tail -n 8
sleep 3
info=$(disc_info r2)
echo "$info"
if [ $rc -eq 0 ] && echo "$out" | grep -q 'DAO' && same_prefix "$sr" "$SMALL" &&
    echo "$info" | grep -q 'profile 0011 status Complete' && write_refused "$sr" 4096 'incompatible format'; then
    pass dvdr_dao
else
    fail dvdr_dao "growisofs rc $rc: $(echo "$out" | grep -i 'dao\|error\|fail' | head -n3 | oneline); $info"
fi

step "DVD-R: wodim -dao"
sr=$(dvdr_drive r3 dvd-r)
sg=$(drive_sg r3)
out=$(timeout 300 wodim -dao dev="$sg" "$SMALL" 2>&1)
rc=$?
echo "$out" | tail -n 12
sleep 3
info=$(disc_info r3)
echo "$info"
if [ $rc -eq 0 ] && ! echo "$out" | grep -qi 'trouble\|error' && same_prefix "$sr" "$SMALL" &&
    echo "$info" | grep -q 'status Complete'; then
    pass dvdr_wodim_dao
else
    fail dvdr_wodim_dao "wodim rc $rc: $(echo "$out" | grep -i 'trouble\|error\|sense' | head -n3 | oneline); $info"
fi

step "DVD-R: cdrskin"
burn_cdrskin dvdr_cdrskin "$(dvdr_drive r4 dvd-r)"

step "DVD-R: xorriso -dev twice (two sessions)"
burn_xorriso_twice dvdr_xorriso_twice "$(dvdr_drive r5 dvd-r)" "$DT" "$OUT/dvdr-tree.sha256" "$DT2" "$OUT/dvdr-tree-2.sha256"

step "DVD-R: finalize (growisofs -dvd-compat), then writes are refused"
sr=$(dvdr_drive r6 dvd-r)
out=$(timeout 300 growisofs -dvd-compat -Z "$sr=$SMALL" 2>&1)
rc=$?
echo "$out" | tail -n 8
sleep 3
info=$(disc_info r6)
echo "$info"
size=$(blockdev --getsize64 "$sr" 2>&1)
if [ $rc -eq 0 ] && [ "$(current_profile "$sr")" = 0011 ] && echo "$info" | grep -q 'status Complete' &&
    [ "$size" = "$(stat -c %s "$IMG/dvdr-r6.img")" ] && write_refused "$sr" 4096 'incompatible format' &&
    mounted_sums_ok "$sr" "$IMG/small.sha256"; then
    pass dvdr_finalize
else
    fail dvdr_finalize "growisofs rc $rc, profile $(current_profile "$sr"), size $size: $info"
fi

step "DVD-R: a write off the next writable address"
sr=$(dvdr_drive r7 dvd-r)
before=$(disc_info r7)
if write_refused "$sr" 32 'Invalid address for write' && [ "$(disc_info r7)" = "$before" ] &&
    [ "$(stat -c %s "$IMG/dvdr-r7.img")" = 0 ]; then
    pass dvdr_bad_write
else
    fail dvdr_bad_write "$(disc_info r7); image $(stat -c %s "$IMG/dvdr-r7.img") bytes"
fi

step "DVD-RW: sequential burn, restricted overwrite, blank, burn again"
sr=$(dvdr_drive r8 dvd-rw)
out=$(timeout 300 growisofs -Z "$sr=$SMALL" 2>&1)
rc=$?
echo "$out" | tail -n 6
sleep 3
if [ $rc -eq 0 ] && [ "$(current_profile "$sr")" = 0014 ] && same_prefix "$sr" "$SMALL"; then
    pass dvdrw_growisofs
else
    fail dvdrw_growisofs "growisofs rc $rc, profile $(current_profile "$sr"): $(echo "$out" | tail -n3 | oneline)"
fi
out=$(timeout 300 dvd+rw-format -force "$sr" 2>&1)
rc=$?
echo "$out" | tail -n 3
sleep 2
if [ $rc -eq 0 ] && [ "$(current_profile "$sr")" = 0013 ] && disc_info r8 | grep -q 'dvd-rw profile 0013'; then
    pass dvdrw_format_overwrite
else
    fail dvdrw_format_overwrite "dvd+rw-format rc $rc, profile $(current_profile "$sr"): $(echo "$out" | tail -n2 | oneline)"
fi
out=$(timeout 300 dvd+rw-format -blank "$sr" 2>&1)
rc=$?
echo "$out" | tail -n 3
sleep 2
media=$(timeout 60 dvd+rw-mediainfo "$sr" 2>&1)
if [ $rc -eq 0 ] && [ "$(current_profile "$sr")" = 0014 ] && echo "$media" | grep -q 'Disc status: *blank'; then
    pass dvdrw_blank_again
else
    fail dvdrw_blank_again "dvd+rw-format -blank rc $rc, profile $(current_profile "$sr"): $(echo "$media" | grep -i status | oneline)"
fi
out=$(timeout 300 growisofs -Z "$sr" -R "$DT" 2>&1)
rc=$?
echo "$out" | tail -n 6
sleep 3
if [ $rc -eq 0 ] && mounted_sums_ok "$sr" "$OUT/dvdr-tree.sha256"; then
    pass dvdrw_burn_again
else
    fail dvdrw_burn_again "growisofs rc $rc: $(echo "$out" | tail -n3 | oneline)"
fi

# dvdr_kill9 SCENARIO NAME AFTER [GROWISOFS_OPTION...]: growisofs -Z of $BIG on a blank DVD-R
# in drive NAME, the daemon killed (-9) once 20 MB are in the image and started again; the disc
# must then be blank, and a growisofs -Z of $SMALL the same way must work and leave a disc
# whose `disc info` line matches AFTER.
dvdr_kill9() {
    local scenario=$1 name=$2 want=$3 sr info after out rc
    shift 3
    sr=$(dvdr_drive "$name" dvd-r)
    timeout 600 growisofs "$@" -Z "$sr=$BIG" >"$OUT/$scenario.log" 2>&1 &
    kill9_mid_burn "$name" "$IMG/dvdr-$name.img" 20000000 $!
    tail -n3 "$OUT/$scenario.log"
    info=$(disc_info "$name")
    echo "killed after $KILLED_AT bytes, growisofs rc $BURN_RC: $info"
    out=$(timeout 300 growisofs "$@" -Z "$sr=$SMALL" 2>&1)
    rc=$?
    echo "$out" | tail -n 4
    sleep 3
    after=$(disc_info "$name")
    echo "$after"
    if [ "$KILLED_AT" -gt 0 ] && echo "$info" | grep -q 'status Empty' && [ $rc -eq 0 ] &&
        same_prefix "$sr" "$SMALL" && echo "$after" | grep -q "$want"; then
        pass "$scenario"
    else
        fail "$scenario" "killed after $KILLED_AT bytes (rc $BURN_RC: $(tail -n2 "$OUT/$scenario.log" | oneline)), state '$info', retry rc $rc: $(echo "$out" | tail -n2 | oneline); $after"
    fi
}

step "DVD-R: kill -9 in the middle of an incremental burn"
# Nothing of the cut burn was acknowledged (no SYNCHRONIZE CACHE, no CLOSE): after the restart
# the disc is blank again and a new burn works.
dvdr_kill9 dvdr_kill9_retry r9 'profile 0011'

step "DVD-R: kill -9 in the middle of a Disc-At-Once burn"
# A DAO recording (one reservation of the whole image) is complete only when written to its
# end: a drive that dies before keeps nothing of it, so after the restart the disc is blank
# (not a reserved track that can never be written again) and a new DAO burn closes the disc.
dvdr_kill9 dvdr_dao_kill9_retry r10 'status Complete' -use-the-force-luke=dao

step "DVD-R DL: cdrskin on a small dual-layer disc"
# 8000 blocks: layer 0 holds 4000, the small image fits on it.
sr=$(dvdr_drive r11 'dvd-r-dl;capacity=8000')
profile=$(current_profile "$sr")
out=$(timeout 300 cdrskin -v dev="$sr" "$SMALL" 2>&1)
rc=$?
echo "$out" | tail -n 8
sleep 3
info=$(disc_info r11)
echo "$info"
if [ "$profile" = 0015 ] && [ $rc -eq 0 ] && same_prefix "$sr" "$SMALL" &&
    mounted_sums_ok "$sr" "$IMG/small.sha256"; then
    pass dvdr_dl_cdrskin
else
    fail dvdr_dl_cdrskin "profile $profile, cdrskin rc $rc: $(echo "$out" | grep -i 'failure\|sorry\|error' | head -n3 | oneline); $info"
fi

step "DVD-R DL: growisofs -Z of data larger than layer 0"
# 8000 blocks: layer 0 holds 4000, the 5555 blocks burned go on into layer 1. growisofs checks
# an ISO image (it reads the size from its volume descriptor, from a pipe too) against layer 0
# by comparing the block count with the end *sector number* of layer 0 (format 10h), which
# only images of more than 0x30000 + L0 blocks pass: about 800 MB here, too slow for the suite.
# So the data is a raw stream through a pipe (as with tar | growisofs), compared byte for byte.
DLDATA=$IMG/dvdr-dl.bin
head -c $((5555 * 2048)) /dev/urandom >"$DLDATA"
sr=$(dvdr_drive r12 'dvd-r-dl;capacity=8000')
out=$(cat "$DLDATA" | timeout 300 growisofs -Z "$sr=/dev/fd/0" 2>&1)
rc=$?
echo "$out" | tail -n 6
sleep 3
info=$(disc_info r12)
echo "$info"
if [ "$(current_profile "$sr")" = 0015 ] && [ $rc -eq 0 ] && same_prefix "$sr" "$DLDATA"; then
    pass dvdr_dl_growisofs
else
    fail dvdr_dl_growisofs "growisofs rc $rc: $(echo "$out" | tail -n3 | oneline); $info"
fi
rm -f "$DLDATA"

step "DVD-R: tear down"
for name in "${DR_DRIVES[@]}"; do
    mmc delete "$name" >/dev/null 2>&1
done
rm -f "$IMG"/dvdr-*.img "$IMG"/dvdr-*.img.tcmu-mmc.json
