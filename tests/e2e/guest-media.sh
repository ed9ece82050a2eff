# shellcheck shell=bash
# Media control, sourced by guest.sh inside the guest: the seed's examples 2 and 3 (offline,
# then swap the disc by pointing the drive at another file) through configfs-scripts, which
# rewrite the live device's dev_config (delivered to the daemon as a netlink RECONFIG), and
# eject/load from the initiator; data images that load as BD-ROM and CD-ROM. The drives made
# here are removed before returning.
# required: media_offline media_online media_load_blank media_load_iso media_eject_load
# required: media_prevent_blocks_eject media_config_is_record media_eject_refused_mounted
# required: media_eject_after_umount media_bd_rom_typed media_bd_rom_large media_cd_rom_typed

step "media control: offline, online, load"
out=$(mmc create m0 "$SMALL" 2>&1 && mmc attach m0 2>&1)
echo "$out"
udevadm settle --timeout=30
sr=$(drive_sr m0)
n_small=$(stat -c %s "$SMALL")

out=$(mmc offline m0 2>&1)
rc=$?
sleep 3
dd_out=$(timeout 60 dd if="$sr" of=/dev/null bs=2048 count=1 2>&1)
echo "$out / $dd_out"
if [ $rc -eq 0 ] && echo "$dd_out" | grep -q 'No medium found'; then
    pass media_offline
else
    fail media_offline "offline rc $rc: $(echo "$out $dd_out" | oneline)"
fi

out=$(mmc online m0 2>&1)
rc=$?
sleep 3
if [ $rc -eq 0 ] && [ "$(blockdev --getsize64 "$sr" 2>&1)" = "$n_small" ] && same_prefix "$sr" "$SMALL"; then
    pass media_online
else
    fail media_online "online rc $rc: $(echo "$out" | oneline); size $(blockdev --getsize64 "$sr" 2>&1)"
fi

: >"$IMG/swap-blank.iso"
rm -f "$IMG/swap-blank.iso.tcmu-mmc.json"
out=$(mmc load m0 "$IMG/swap-blank.iso" 2>&1)
rc=$?
sleep 3
cid=$(timeout 60 "${CDROM_ID:-/usr/lib/udev/cdrom_id}" "$sr" 2>&1)
if [ $rc -eq 0 ] && echo "$cid" | grep -qx 'ID_CDROM_MEDIA_STATE=blank' &&
    echo "$cid" | grep -qx 'ID_CDROM_MEDIA_DVD_PLUS_R=1'; then
    pass media_load_blank
else
    fail media_load_blank "load rc $rc: $(echo "$out $cid" | oneline)"
fi

out=$(mmc load m0 "$BIG" 2>&1)
rc=$?
sleep 3
size=$(blockdev --getsize64 "$sr" 2>&1)
if [ $rc -eq 0 ] && [ "$size" = "$(stat -c %s "$BIG")" ] &&
    [ "$(timeout 300 dd if="$sr" bs=1M 2>/dev/null | sha256sum | cut -d' ' -f1)" = "$(cat "$BIG.sha256")" ]; then
    pass media_load_iso
else
    fail media_load_iso "load rc $rc: $(echo "$out" | oneline); size $size"
fi

out=$(timeout 60 eject "$sr" 2>&1)
rc=$?
ev=$(timeout 60 sg_raw -r 8 "$sr" 4a 01 00 00 10 00 00 00 08 00 2>&1 | awk '/^ *00 /{print $6, $7}')
out2=$(timeout 60 eject -t "$sr" 2>&1)
rc2=$?
sleep 3
echo "eject rc $rc ($out), media status after eject '$ev', eject -t rc $rc2 ($out2)"
# After eject the media descriptor says "tray open, no medium" (byte 5 = 01).
if [ $rc -eq 0 ] && [ "${ev#* }" = 01 ] && [ $rc2 -eq 0 ] && [ "$(blockdev --getsize64 "$sr" 2>&1)" = "$(stat -c %s "$BIG")" ]; then
    pass media_eject_load
else
    fail media_eject_load "eject rc $rc, status '$ev', eject -t rc $rc2: $(echo "$out $out2" | oneline)"
fi
# PREVENT MEDIUM REMOVAL blocks an eject with 05/53/02; ALLOW lets it through again.
p_out=$(timeout 60 sg_raw "$sr" 1e 00 00 00 01 00 2>&1; timeout 60 sg_raw "$sr" 1b 00 00 00 02 00 2>&1)
timeout 60 sg_raw "$sr" 1e 00 00 00 00 00 >/dev/null 2>&1
echo "prevent + eject: $p_out"
if echo "$p_out" | grep -qi 'Medium removal prevented'; then
    pass media_prevent_blocks_eject
else
    fail media_prevent_blocks_eject "$(echo "$p_out" | oneline)"
fi
# A mount holds the medium: the eject tool cannot unmount it, fails, and the disc stays,
# mounted and readable. Locking the door through the kernel (eject -i on: CDROM_LOCKDOOR,
# which sr sends as PREVENT MEDIUM REMOVAL) makes the drive refuse an eject sent around the
# kernel with 05/53/02, and `tcmu-mmc status` shows the lock.
(timeout 60 mount -t iso9660 -o ro "$sr" "$MNT" && cd "$MNT" && exec sleep 120) &
holder=$!
sleep 3
out=$(timeout 60 eject "$sr" 2>&1)
rc=$?
lock_out=$(timeout 60 eject -i on "$sr" 2>&1)
sg=$(timeout 60 sg_raw "$sr" 1b 00 00 00 02 00 2>&1)
locked=$(timeout 30 "$BIN" --run-dir "$RUN" status --json 2>>"$OUT/status-errors.log" | python3 -c '
import json, sys
print([d["locked"] for d in json.load(sys.stdin) if d["name"] == "m0"])' 2>&1)
timeout 60 eject -i off "$sr" >/dev/null 2>&1
echo "eject while mounted: rc $rc ($out); eject -i on: $lock_out; sg_raw: $sg; status locked: $locked"
if [ $rc -ne 0 ] && mountpoint -q "$MNT" && echo "$sg" | grep -qi 'Medium removal prevented' &&
    [ "$locked" = "[True]" ] && ls "$MNT" >/dev/null 2>&1 &&
    [ "$(blockdev --getsize64 "$sr" 2>&1)" = "$(stat -c %s "$BIG")" ]; then
    pass media_eject_refused_mounted
else
    fail media_eject_refused_mounted "eject rc $rc: $(echo "$out" | oneline); sg_raw: $(echo "$sg" | oneline); locked $locked"
fi
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
timeout 60 umount "$MNT"
out=$(timeout 60 eject "$sr" 2>&1)
rc=$?
out2=$(timeout 60 eject -t "$sr" 2>&1)
rc2=$?
sleep 2
check media_eject_after_umount "eject rc $rc, eject -t rc $rc2: $(echo "$out $out2" | oneline)" \
    [ $rc -eq 0 -a $rc2 -eq 0 -a "$(blockdev --getsize64 "$sr" 2>&1)" = "$(stat -c %s "$BIG")" ]
cfg=$(backstore_config m0)
check media_config_is_record "dev_config '$cfg'" [ "$cfg" = "mmc/$BIG" ]
mmc delete m0

step "media: BD-ROM and CD-ROM"
# pressed_disc SCENARIO NAME IMAGE OPTIONS PROFILE UDEV_MEDIA: the data image loads as the
# pressed disc of PROFILE (4 hex digits), udev's cdrom_id says ID_CDROM_MEDIA_<UDEV_MEDIA>=1
# (and dvd+rw-mediainfo says BD-ROM for 0040), and it mounts with every checksum right.
pressed_disc() {
    local scen=$1 name=$2 image=$3 opts=$4 want=$5 media=$6 sr prof props info=
    if ! out=$(mmc create "$name" "$image" ${opts:+"$opts"} 2>&1 && mmc attach "$name" 2>&1); then
        fail "$scen" "create/attach: $(echo "$out" | oneline)"
        return
    fi
    udevadm settle --timeout=30
    sr=$(drive_sr "$name")
    prof=$(current_profile "$sr")
    props=$(udevadm info --query=property --name="$sr" 2>&1 | grep '^ID_CDROM_MEDIA')
    if [ "$want" = 0040 ]; then
        info=$(timeout 60 dvd+rw-mediainfo "$sr" 2>&1)
        echo "$info"
        echo "$info" | grep -q 'Mounted Media: *40h, BD-ROM' || info="no BD-ROM: $info"
    fi
    if [ "$prof" = "$want" ] && echo "$props" | grep -qx "ID_CDROM_MEDIA_$media=1" &&
        [ "${info#no BD-ROM}" = "$info" ] &&
        [ "$(blockdev --getsize64 "$sr")" = "$(stat -c %s "$image")" ] &&
        mounted_sums_ok "$sr" "$IMG/small.sha256"; then
        pass "$scen"
    else
        fail "$scen" "profile $prof, $(echo "$props" | oneline), $(echo "$info" | grep -i 'media' | oneline)"
    fi
    mmc delete "$name"
}
pressed_disc media_bd_rom_typed mbdtyped "$SMALL" type=bd-rom 0040 BD
# Larger than any DVD (9 GiB, sparse), with no type: a BD-ROM.
BD_LARGE=$OUT/bd-large.iso
cp --sparse=always "$SMALL" "$BD_LARGE" && truncate -s 9G "$BD_LARGE"
pressed_disc media_bd_rom_large mbdlarge "$BD_LARGE" "" 0040 BD
rm -f "$BD_LARGE"
pressed_disc media_cd_rom_typed mcdtyped "$SMALL" type=cd-rom 0008 CD
