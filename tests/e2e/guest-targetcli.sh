# shellcheck shell=bash
# targetcli over D-Bus, sourced by guest.sh inside the guest: a system bus is started with
# tcmu-mmc's policy (dbus/tcmu-mmc.conf), the running daemon claims org.kernel.TCMUService1,
# and targetcli creates, exports, swaps (changemedium), saves, clears and restores a
# `user:mmc` backstore. `tcmu-mmc status` is checked on the way. Runs last: clearconfig and
# restoreconfig take every drive of the guest down and back up.
# required: tcli_dbus_service tcli_backstore_listed tcli_bad_cfgstring tcli_create_read
# required: tcli_status tcli_changemedium tcli_offline tcli_saveconfig tcli_clear tcli_restore
# required: tcli_restored_read

export HOME=$RUN/home
mkdir -p "$HOME"
tcli() { timeout 120 targetcli "$@" 2>&1; }
step "targetcli: system D-Bus"
mkdir -p /run/dbus
cat >"$RUN/dbus-system.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <include>/usr/share/dbus-1/system.conf</include>
  <includedir>$REPO/dbus</includedir>
</busconfig>
EOF
out=$(dbus-daemon --config-file="$RUN/dbus-system.conf" --fork --print-pid 2>&1)
echo "dbus-daemon: $out"
owner=
for _ in $(seq 1 40); do
    owner=$(dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.GetConnectionUnixProcessID string:org.kernel.TCMUService1 2>/dev/null |
        awk '/uint32/ {print $2}')
    [ -n "$owner" ] && break
    sleep 0.5
done
check tcli_dbus_service "owner pid '$owner', daemon $DPID; log: $(grep -i d-bus "$DLOG" | tail -n2 | oneline)" \
    [ "$owner" = "$DPID" ]
tcli set global auto_save_on_exit=false >/dev/null

step "targetcli: user:mmc backstore"
out=$(tcli ls /backstores; tcli /backstores/user:mmc help create)
echo "$out"
if echo "$out" | grep -q 'user:mmc' && echo "$out" | grep -q 'type=dvd+r'; then
    pass tcli_backstore_listed
else
    fail tcli_backstore_listed "$(echo "$out" | oneline)"
fi

out=$(tcli /backstores/user:mmc create name=tcbad size=1M cfgstring=/no/such/dir/disc.iso)
echo "$out"
if echo "$out" | grep -q 'cfgstring invalid' && echo "$out" | grep -q '/no/such/dir does not exist' &&
    ! ls -d /sys/kernel/config/target/core/user_*/tcbad >/dev/null 2>&1; then
    pass tcli_bad_cfgstring
else
    fail tcli_bad_cfgstring "$(echo "$out" | oneline)"
fi

TCISO=$IMG/tcli.iso
cp "$SMALL" "$TCISO"
rm -f "$TCISO.tcmu-mmc.json"
n=$(stat -c %s "$TCISO")
out=$(tcli /backstores/user:mmc create name=tc0 size="$n" cfgstring="$TCISO" && tcli /loopback create)
echo "$out"
naa=$(echo "$out" | sed -n 's/.*Created target \(naa\.[0-9a-f]*\).*/\1/p' | head -n1)
out2=$(tcli "/loopback/$naa/luns" create /backstores/user:mmc/tc0)
echo "$out2"
udevadm settle --timeout=30
wait_status tc0 served True
sr=
for _ in $(seq 1 40); do
    sr=$(status_field tc0 exports)
    [ -b "$sr" ] && break
    sleep 0.5
done
sum=$( [ -b "$sr" ] && timeout 120 dd if="$sr" bs=64k 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ -b "$sr" ] && [ "$sum" = "$(sha256sum <"$TCISO" | cut -d' ' -f1)" ] &&
    [ "$(blockdev --getsize64 "$sr")" = "$n" ]; then
    pass tcli_create_read
else
    fail tcli_create_read "device '$sr', sha256 $sum: $(echo "$out $out2" | oneline)"
fi

out=$(timeout 30 "$BIN" --run-dir "$RUN" status 2>&1)
echo "$out"
row=$(echo "$out" | grep "/tc0 ")
blocks=$((n / 2048))
if echo "$row" | grep -q "$sr" && echo "$row" | grep -q 'DVD-ROM' && echo "$row" | grep -q 'read-only' &&
    echo "$row" | grep -q " $blocks .* $blocks " && echo "$out" | head -n1 | grep -q '^DRIVE'; then
    pass tcli_status
else
    fail tcli_status "row: $row"
fi

step "targetcli: changemedium"
TCBLANK=$IMG/tcli-blank.iso
rm -f "$TCBLANK" "$TCBLANK.tcmu-mmc.json"
: >"$TCBLANK"
out=$(tcli /backstores/user:mmc changemedium tc0 4G "$TCBLANK")
rc=$?
echo "changemedium rc $rc: $out"
udevadm settle --timeout=30
sleep 2
udevadm settle --timeout=30
props=$(udevadm info --query=property "$sr" 2>&1)
cfg=$(cat /sys/kernel/config/target/core/user_*/tc0/attrib/dev_config 2>/dev/null)
echo "$props" | grep ID_CDROM_MEDIA
if [ $rc -eq 0 ] && echo "$out" | grep -q 'Medium Changed' && [ "$cfg" = "mmc/$TCBLANK" ] &&
    echo "$props" | grep -qx 'ID_CDROM_MEDIA_DVD_PLUS_R=1' && echo "$props" | grep -qx 'ID_CDROM_MEDIA_STATE=blank' &&
    [ "$(status_field tc0 disc)" = blank ]; then
    pass tcli_changemedium
else
    fail tcli_changemedium "rc $rc, dev_config '$cfg': $(echo "$out" | oneline); $(echo "$props" | grep ID_CDROM_MEDIA | oneline)"
fi

# tgt's example 2 through targetcli: the same image with ;offline is an empty tray.
out=$(tcli /backstores/user:mmc changemedium tc0 0 "$TCBLANK;offline")
rc=$?
sleep 2
dd_out=$(timeout 60 dd if="$sr" of=/dev/null bs=2048 count=1 2>&1)
echo "offline: rc $rc $out / $dd_out"
out2=$(tcli /backstores/user:mmc changemedium tc0 4G "$TCBLANK")
rc2=$?
if [ $rc -eq 0 ] && echo "$dd_out" | grep -q 'No medium found' && [ $rc2 -eq 0 ] &&
    wait_status tc0 disc blank; then
    pass tcli_offline
else
    fail tcli_offline "rc $rc/$rc2: $(echo "$out $dd_out $out2" | oneline)"
fi

step "targetcli: saveconfig, clearconfig, restoreconfig"
SAVED=$RUN/saveconfig.json
out=$(tcli saveconfig "$SAVED")
echo "$out"
if [ -s "$SAVED" ] && python3 -c '
import json, sys
so = [s for s in json.load(open(sys.argv[1]))["storage_objects"] if s["name"] == "tc0"]
sys.exit(0 if so and so[0]["config"] == "mmc/" + sys.argv[2] else 1)' "$SAVED" "$TCBLANK"; then
    pass tcli_saveconfig
else
    fail tcli_saveconfig "$(echo "$out" | oneline)"
fi

out=$(tcli clearconfig confirm=True)
echo "$out"
sleep 2
left=$(ls -d /sys/kernel/config/target/core/user_*/* 2>/dev/null | grep -v '/hba_')
served=$(timeout 30 "$BIN" --run-dir "$RUN" status --json 2>/dev/null | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))')
if [ -z "$left" ] && [ "$served" = 0 ] && kill -0 "$DPID" 2>/dev/null; then
    pass tcli_clear
else
    fail tcli_clear "left: $(echo "$left" | oneline); status lists $served; $(echo "$out" | oneline)"
fi

out=$(tcli restoreconfig "$SAVED")
echo "$out"
udevadm settle --timeout=60
if wait_status tc0 served True && wait_status tc0 disc blank && wait_status tc0 profile DVD+R &&
    [ "$(cat /sys/kernel/config/target/core/user_*/tc0/attrib/dev_config 2>/dev/null)" = "mmc/$TCBLANK" ]; then
    pass tcli_restore
else
    fail tcli_restore "tc0 served '$(status_field tc0 served)' disc '$(status_field tc0 disc)': $(echo "$out" | oneline)"
fi

# Every drive came back with its disc: d0 (made by mmc-drive) reads its ISO again.
udevadm settle --timeout=60
sr0=
for _ in $(seq 1 40); do
    sr0=$(drive_sr d0)
    [ -b "$sr0" ] && break
    sleep 0.5
done
if [ -b "$sr0" ] && same_prefix "$sr0" "$SMALL"; then
    pass tcli_restored_read
else
    fail tcli_restored_read "d0 device '$sr0'; $(timeout 30 "$BIN" --run-dir "$RUN" status 2>&1 | oneline)"
fi

# tc0 and its loopback target go; the guest.sh drives stay for its teardown.
tcli "/loopback/$naa" delete >/dev/null
for l in /sys/kernel/config/target/loopback/naa.*/tpgt_*/lun/lun_*; do
    [ -e "$l" ] || continue
    [ "$(readlink -f "$l"/* 2>/dev/null)" = "$(readlink -f /sys/kernel/config/target/core/user_*/tc0)" ] || continue
    echo "tc0 still linked in $l"
done
tcli /backstores/user:mmc delete tc0 >/dev/null
