# shellcheck shell=bash
# Blu-ray recording, sourced by guest.sh inside the guest (its helpers are in scope: mmc,
# pass/fail/check, step, oneline, drive_sr/drive_sg, same_prefix, mounted_sums_ok,
# current_profile, udf_*, $BIN, $SMALL). A blank BD-R is recorded sequentially (SRM) by
# growisofs (which formats it for pseudo-overwrite first and grows it in place, or, with
# spare:none, appends sessions), cdrskin and xorriso; a blank BD-RE is formatted by growisofs, dvd+rw-format or xorriso and
# then written in place, by growisofs and as a UDF file system straight on /dev/srN. The discs
# are small (256 MiB) so that formatting, mkudffs and reading them back stay quick under TCG.
# Every drive made here is removed again.
# required: bd_r_blank_profile bd_r_growisofs bd_r_growisofs_mount bd_r_spare_formatted
# required: bd_r_pow_grow bd_r_multisession bd_r_spare_none bd_r_cdrskin bd_r_finalized
# required: bd_r_xorriso_cdrecord bd_r_xorriso_twice bd_r_bad_write
# required: bd_re_blank_profile bd_re_growisofs bd_re_growisofs_grow bd_re_format_udf
# required: bd_re_udf_automount bd_re_xorriso bd_re_restart

BD_DRIVES=(b1 b2 b3 b4 b5 b6 b7 b8)
BD_CAPACITY=131072
BT=$IMG/bd-tree
BT2=$IMG/bd-tree-2
rm -rf "$BT" "$BT2" "$IMG"/bd-*.img "$IMG"/bd-*.img.tcmu-mmc.json
mkdir -p "$BT/session2" "$BT2/third"
head -c 3000000 /dev/urandom >"$BT/session2/data.bin"
seq 1 5000 >"$BT2/third/numbers.txt"
(cd "$BT" && sha256sum session2/*) >"$OUT/bd-tree.sha256"
(cd "$BT2" && sha256sum third/*) >"$OUT/bd-tree-2.sha256"

# bd_drive NAME TYPE: a fresh empty image of TYPE (bd-r or bd-re, 256 MiB), attached; prints
# its sr. The names are in BD_DRIVES, removed at the end.
bd_drive() { blank_drive "$1" "$IMG/bd-$1.img" "type=$2;capacity=$BD_CAPACITY"; }
bd_info() { "$BIN" disc info "$IMG/bd-$1.img" 2>&1; }
udev_media() { udevadm info --query=property --name="$1" 2>/dev/null | grep '^ID_CDROM_MEDIA' | oneline; }
# bd_blank_ok SCENARIO DEV PROFILE UDEV_FLAG PATTERN...: the blank disc in DEV reports PROFILE
# (GET CONFIGURATION), udev sets ID_CDROM_MEDIA_<UDEV_FLAG>=1, and dvd+rw-mediainfo prints a
# line matching each PATTERN.
bd_blank_ok() {
    local scen=$1 dev=$2 profile=$3 flag=$4 media props p ok=1
    shift 4
    media=$(timeout 60 dvd+rw-mediainfo "$dev" 2>&1)
    echo "$media" | head -n 30
    props=$(udev_media "$dev")
    [ "$(current_profile "$dev")" = "$profile" ] && echo "$props" | grep -q "ID_CDROM_MEDIA_$flag=1" || ok=0
    for p in "$@"; do echo "$media" | grep -q "$p" || ok=0; done
    if [ $ok = 1 ]; then
        pass "$scen"
    else
        fail "$scen" "profile $(current_profile "$dev"): $(echo "$media" | grep -i 'media\|status\|h(' | oneline); udev: $props"
    fi
}

step "BD-R: a blank disc and growisofs -Z (spare areas first)"
sr=$(bd_drive b1 bd-r)
bd_blank_ok bd_r_blank_profile "$sr" 0041 BD_R 'Mounted Media: *41h, BD-R SRM$' 'Disc status: *blank' '32h(0)'
out=$(timeout 300 growisofs -Z "$sr=$SMALL" 2>&1)
rc=$?
echo "$out" | tail -n 10
sleep 3
if [ $rc -eq 0 ] && same_prefix "$sr" "$SMALL"; then
    pass bd_r_growisofs
else
    fail bd_r_growisofs "growisofs rc $rc: $(echo "$out" | tail -n3 | oneline)"
fi
if mounted_sums_ok "$sr" "$IMG/small.sha256"; then pass bd_r_growisofs_mount; else fail bd_r_growisofs_mount "mount or checksums"; fi
info=$(bd_info b1)
echo "$info"
# growisofs asked for the largest spare-area format (32h): the disc kept it, smaller than raw.
if echo "$out" | grep -q 'pre-formatting blank BD-R' &&
    echo "$info" | grep -q "bd-r profile 0041 .*capacity $BD_CAPACITY .*formatted [1-9]"; then
    pass bd_r_spare_formatted
else
    fail bd_r_spare_formatted "$(echo "$out" | grep -i 'format' | oneline); $info"
fi

step "BD-R: growisofs -M grows the pseudo-overwrite disc in place"
# growisofs formats a blank BD-R for SRM+POW (subtype 0) and, as Debian's growisofs does
# since bug 713016, then records it as pseudo-overwrite: one session, its ISO 9660 grown by
# new data at the NWA and new volume descriptors written over blocks 16-31.
media=$(timeout 60 dvd+rw-mediainfo "$sr" 2>&1)
out=$(timeout 300 growisofs -M "$sr" -R "$BT" 2>&1)
rc=$?
echo "$out" | tail -n 8
sleep 3
info=$(bd_info b1)
echo "$info"
if [ $rc -eq 0 ] && echo "$media" | grep -q 'Mounted Media: *41h, BD-R SRM+POW' &&
    mounted_sums_ok "$sr" "$IMG/small.sha256" "$OUT/bd-tree.sha256" &&
    echo "$info" | grep -q 'status Incomplete .*tracks 3'; then
    pass bd_r_pow_grow
else
    fail bd_r_pow_grow "growisofs -M rc $rc: $(echo "$out" | tail -n3 | oneline); $(echo "$media" | grep 'Mounted' | oneline); $info"
fi

step "BD-R: growisofs -use-the-force-luke=spare:none (no format), then -M adds a session"
sr=$(bd_drive b2 bd-r)
out=$(timeout 300 growisofs -use-the-force-luke=spare:none -Z "$sr=$SMALL" 2>&1)
rc=$?
echo "$out" | tail -n 6
sleep 3
info=$(bd_info b2)
echo "$info"
if [ $rc -eq 0 ] && ! echo "$out" | grep -q 'pre-formatting' && same_prefix "$sr" "$SMALL" &&
    echo "$info" | grep -q "capacity $BD_CAPACITY .*formatted 0 "; then
    pass bd_r_spare_none
else
    fail bd_r_spare_none "growisofs rc $rc: $(echo "$out" | tail -n3 | oneline); $info"
fi
out=$(timeout 300 growisofs -M "$sr" -R "$BT" 2>&1)
rc=$?
echo "$out" | tail -n 6
sleep 3
info=$(bd_info b2)
echo "$info"
toc=$(timeout 60 xorriso -outdev "$sr" -toc 2>&1)
echo "$toc" | grep '^ISO session\|^Media'
if [ $rc -eq 0 ] && mounted_sums_ok "$sr" "$IMG/small.sha256" "$OUT/bd-tree.sha256" &&
    echo "$info" | grep -q 'sessions 2' && [ "$(echo "$toc" | grep -c '^ISO session')" = 2 ]; then
    pass bd_r_multisession
else
    fail bd_r_multisession "growisofs -M rc $rc: $(echo "$out" | tail -n3 | oneline); $info; $(echo "$toc" | grep '^ISO session' | oneline)"
fi

step "BD-R: cdrskin (which closes the disc), and xorriso -as cdrecord"
burn_cdrskin bd_r_cdrskin "$(bd_drive b3 bd-r)"
info=$(bd_info b3)
echo "$info"
# Without -multi cdrskin finalizes: the disc is complete, still a BD-R, and takes no more.
out=$(sg_raw -s 2048 -i "$SMALL" "$(drive_sr b3)" 2a 00 00 00 10 00 00 00 01 00 2>&1)
if echo "$info" | grep -q 'bd-r profile 0041 status Complete' && echo "$out" | grep -qi 'incompatible format'; then
    pass bd_r_finalized
else
    fail bd_r_finalized "$info; write after: $(echo "$out" | oneline)"
fi
sr=$(bd_drive b8 bd-r)
out=$(timeout 300 xorriso -as cdrecord -v dev="$sr" "$SMALL" 2>&1)
rc=$?
echo "$out" | tail -n 6
sleep 3
if [ $rc -eq 0 ] && same_prefix "$sr" "$SMALL" && mounted_sums_ok "$sr" "$IMG/small.sha256"; then
    pass bd_r_xorriso_cdrecord
else
    fail bd_r_xorriso_cdrecord "xorriso -as cdrecord rc $rc: $(echo "$out" | grep -i 'failure\|sorry\|error' | head -n3 | oneline)"
fi

step "BD-R: xorriso -dev twice (two sessions)"
sr=$(bd_drive b4 bd-r)
burn_xorriso_twice bd_r_xorriso_twice "$sr" "$BT" "$OUT/bd-tree.sha256" "$BT2" "$OUT/bd-tree-2.sha256"
# A write that is not at the next writable address of the open track is refused.
out=$(sg_raw -s 2048 -i "$SMALL" "$sr" 2a 00 00 00 00 20 00 00 01 00 2>&1)
echo "write at 32: $(echo "$out" | oneline)"
if echo "$out" | grep -qi 'invalid address for write'; then
    pass bd_r_bad_write
else
    fail bd_r_bad_write "$(echo "$out" | oneline)"
fi

step "BD-RE: a blank disc and growisofs -Z (formats it first)"
sr=$(bd_drive b5 bd-re)
bd_blank_ok bd_re_blank_profile "$sr" 0043 BD_RE 'Mounted Media: *43h, BD-RE' 'unformatted:' '30h(1000)' '31h(800)'
out=$(timeout 300 growisofs -Z "$sr=$SMALL" 2>&1)
rc=$?
echo "$out" | tail -n 8
sleep 3
if [ $rc -eq 0 ] && echo "$out" | grep -q 'pre-formatting blank BD-RE' && same_prefix "$sr" "$SMALL" &&
    mounted_sums_ok "$sr" "$IMG/small.sha256"; then
    pass bd_re_growisofs
else
    fail bd_re_growisofs "growisofs rc $rc: $(echo "$out" | tail -n3 | oneline)"
fi
out=$(timeout 300 growisofs -M "$sr" -R "$BT" 2>&1)
rc=$?
echo "$out" | tail -n 6
sleep 3
if [ $rc -eq 0 ] && mounted_sums_ok "$sr" "$IMG/small.sha256" "$OUT/bd-tree.sha256"; then
    pass bd_re_growisofs_grow
else
    fail bd_re_growisofs_grow "growisofs -M rc $rc: $(echo "$out" | tail -n3 | oneline)"
fi

step "BD-RE: dvd+rw-format, then UDF straight on the drive"
sr=$(bd_drive b6 bd-re)
out=$(timeout 300 dvd+rw-format "$sr" 2>&1)
rc=$?
echo "$out" | tail -n 3
info=$(bd_info b6)
echo "$info"
if [ $rc -ne 0 ] || ! echo "$info" | grep -q 'formatted [1-9]'; then
    fail bd_re_format_udf "dvd+rw-format rc $rc: $(echo "$out" | tail -n2 | oneline); $info"
elif udf_round_trip bd_re_format_udf "$sr" hd; then
    udf_compare bd_re_udf_automount "$sr"
fi

step "BD-RE: xorriso formats as needed and writes"
sr=$(bd_drive b7 bd-re)
out=$(timeout 300 xorriso -dev "$sr" -format as_needed -map "$BT2" / -commit 2>&1)
rc=$?
echo "$out" | tail -n 8
sleep 3
if [ $rc -eq 0 ] && mounted_sums_ok "$sr" "$OUT/bd-tree-2.sha256"; then
    pass bd_re_xorriso
else
    fail bd_re_xorriso "xorriso rc $rc: $(echo "$out" | grep -i 'failure\|sorry\|error' | head -n3 | oneline)"
fi

step "BD: a restarted daemon serves the recorded discs as they were"
ok=1
restart_daemon b1 b5 b7 || { ok=0; echo "the daemon did not come back with b1 b5 b7"; }
udevadm settle --timeout=60
for n in b1 b5 b7; do
    sr=$(drive_sr "$n")
    case $n in
        b1) sums=("$IMG/small.sha256" "$OUT/bd-tree.sha256") ;;
        b5) sums=("$IMG/small.sha256" "$OUT/bd-tree.sha256") ;;
        b7) sums=("$OUT/bd-tree-2.sha256") ;;
    esac
    mounted_sums_ok "$sr" "${sums[@]}" || { ok=0; echo "$n ($sr): mount or checksums after restart"; }
done
if [ $ok = 1 ] && [ "$(current_profile "$(drive_sr b1)")" = 0041 ] && [ "$(current_profile "$(drive_sr b5)")" = 0043 ] &&
    timeout 60 dvd+rw-mediainfo "$(drive_sr b1)" 2>&1 | grep -q 'Mounted Media: *41h, BD-R SRM+POW'; then
    pass bd_re_restart
else
    fail bd_re_restart "after restart: $(bd_info b1 | oneline); $(bd_info b5 | oneline)"
fi

step "BD: tear down"
for name in "${BD_DRIVES[@]}"; do
    mmc delete "$name" >/dev/null 2>&1
done
rm -rf "$BT" "$BT2" "$IMG"/bd-*.img "$IMG"/bd-*.img.tcmu-mmc.json
