# shellcheck shell=bash
# targetcli over D-Bus, sourced by guest.sh inside the guest: a system bus is started with
# tcmu-mmc's policy (dbus/tcmu-mmc.conf), the running daemon claims org.kernel.TCMUService1,
# and targetcli creates, exports, swaps (changemedium), saves, clears and restores a
# `user:mmc` backstore. `tcmu-mmc status` is checked on the way. Runs late (only the runner
# sub-suite, which uses its bus, comes after): clearconfig and restoreconfig take every drive
# of the guest down and back up.
# required: tcli_dbus_service tcli_backstore_listed tcli_bad_cfgstring tcli_create_read
# required: tcli_status tcli_changemedium tcli_offline tcli_saveconfig tcli_clear tcli_restore
# required: tcli_defaults_memory
# required: tcli_restored_read
# required: names_lio_reference names_targetcli names_by_id names_script names_validation
# required: dbus_nobody_refused dbus_root_changes dbus_checkconfig_open
# required: runner_reply_mode runner_added_answered runner_removed_answered
#
# tcmu-runner is started and stopped first, as on a host where it has run since boot: it
# switches the kernel to waiting for netlink replies, so every backstore made without
# nl_reply_supported=-1 — all of targetcli's here — waits in enable, RECONFIG and removal for
# the daemon's *_DONE answers.

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

step "targetcli: tcmu-runner has run since boot (the kernel waits for netlink replies)"
mkdir -p "$RUN/runner-log"
tcmu-runner -l "$RUN/runner-log" >"$OUT/tcmu-runner.out" 2>&1 &
rpid=$!
# runner_joined PID: PID has a generic-netlink socket in a multicast group (TCMU's), which
# tcmu-runner joins as it tells the kernel it replies (SET_FEATURES) - under a loaded TCG
# guest that can take longer than any fixed sleep.
runner_joined() {
    local inodes
    inodes=$(find "/proc/$1/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n')
    [ -n "$inodes" ] || return 1
    awk -v want="$(echo "$inodes" | paste -sd,)" \
        'BEGIN { n = split(want, w, ","); for (i = 1; i <= n; i++) is[w[i]] = 1 }
         $2 == 16 && $4 != "00000000" && ($10 in is) { found = 1 } END { exit !found }' /proc/net/netlink
}
for _ in $(seq 1 60); do
    runner_joined "$rpid" && break
    kill -0 "$rpid" 2>/dev/null || break
    sleep 0.5
done
sleep 1
runner_alive=$(kill -0 "$rpid" 2>/dev/null && echo yes)
runner_joined "$rpid" && runner_alive="$runner_alive, in TCMU's netlink group"
kill -TERM "$rpid" 2>/dev/null
wait "$rpid" 2>/dev/null
echo "tcmu-runner ran: ${runner_alive:-no}: $(tail -n 2 "$OUT/tcmu-runner.out" | oneline)"
# runner queued for the bus name the daemon owns, so the daemon handed it over and registered
# through runner; with runner gone it takes the name back (within seconds).
for _ in $(seq 1 40); do
    [ "$(dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.GetConnectionUnixProcessID string:org.kernel.TCMUService1 2>/dev/null |
        awk '/uint32/ {print $2}')" = "$DPID" ] && break
    sleep 0.5
done
probe_hba=$CORE_ROOT/user_77
probe=$probe_hba/tcprobe
mkdir -p "$probe"
printf 'dev_config=mmc/%s,dev_size=%s,hw_block_size=2048' "$SMALL" "$(stat -c %s "$SMALL")" >"$probe/control"
# What hangs, if anything does: every process in D state and the daemon's threads' stacks.
hang_report() {
    echo "=== hang report: $1"
    ps -eo pid,stat,wchan:32,args | awk 'NR == 1 || $2 ~ /D/'
    local t
    for t in /proc/"$DPID"/task/*; do
        echo "--- $(cat "$t/comm" 2>/dev/null) $(cat "$t/wchan" 2>/dev/null)"
        cat "$t/stack" 2>/dev/null
    done
    dmesg | tail -n 30
}
( sleep 60; hang_report "60 s into the reply-mode probe" ) &
watchdog=$!
t0=$SECONDS
if bounded 20 sh -c "echo 1 >'$probe/enable'"; then
    enabled=yes
fi
echo "enable: ${enabled:-blocked} after $((SECONDS - t0)) s"
# The kernel sets a backstore's mode from its global one when enabling it.
mode=$(cat "$probe/attrib/nl_reply_supported" 2>/dev/null)
check runner_reply_mode "runner alive '$runner_alive'; enabled backstore's nl_reply_supported '$mode' (1: the kernel waits)" \
    [ "$mode" = 1 ]
check runner_added_answered "enable ${enabled:-did not finish in 20 s}; log: $(grep -i 'answered\|cannot answer' "$DLOG" | tail -n 2 | oneline)" \
    eval '[ "$enabled" = yes ] && grep -q "tcprobe: answered Added" "$DLOG"'
wait_status tcprobe served True
if bounded 20 rmdir "$probe"; then
    removed=yes
fi
rmdir "$probe_hba" 2>/dev/null
kill "$watchdog" 2>/dev/null
check runner_removed_answered "rmdir ${removed:-did not finish in 20 s}; log: $(grep -i 'answered' "$DLOG" | tail -n 2 | oneline)" \
    eval '[ "$removed" = yes ] && grep -q "tcprobe: answered Removed" "$DLOG"'

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
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$DPID/status"; }
rss_before=$(rss_kb)
out=$(tcli /backstores/user:mmc create name=tc0 size="$n" cfgstring="$TCISO" && tcli /loopback create)
echo "$out"
naa=$(echo "$out" | sed -n 's/.*Created target \(naa\.[0-9a-f]*\).*/\1/p' | head -n1)
out2=$(tcli "/loopback/$naa/luns" create /backstores/user:mmc/tc0)
echo "$out2"
udevadm settle --timeout=30
wait_status tc0 served True
sr=$(exported_sr tc0)
sum=$( [ -b "$sr" ] && timeout 120 dd if="$sr" bs=64k 2>/dev/null | sha256sum | cut -d' ' -f1)
if [ -b "$sr" ] && [ "$sum" = "$(sha256sum <"$TCISO" | cut -d' ' -f1)" ] &&
    [ "$(blockdev --getsize64 "$sr")" = "$n" ]; then
    pass tcli_create_read
else
    fail tcli_create_read "device '$sr', sha256 $sum: $(echo "$out $out2" | oneline)"
fi

# What a drive made with targetcli's defaults costs the daemon after buffered and 1 MiB
# direct reads of its disc: under the README's 16 MiB per drive, though those defaults map a
# ring of over 1 GiB (max_data_area_mb=1024): the daemon touches only the pages in use.
timeout 120 dd if="$sr" of=/dev/null bs=1M iflag=direct 2>/dev/null
rss_after=$(rss_kb)
tc0_dir=$(ls -d "$CORE_ROOT"/user_*/tc0 2>/dev/null | head -n1)
tc0_hba=${tc0_dir%/*}
tc0_uio=$(grep -l "^tcm-user/${tc0_hba##*/user_}/tc0/" /sys/class/uio/uio*/name 2>/dev/null | head -n1)
map_bytes=$(($(cat "${tc0_uio%/name}/maps/map0/size" 2>/dev/null || echo 0)))
grown_kb=$((rss_after - rss_before))
echo "tc0: targetcli defaults: max_data_area_mb $(cat "$tc0_dir/attrib/max_data_area_mb" 2>/dev/null), \
hw_max_sectors $(cat "$tc0_dir/attrib/hw_max_sectors" 2>/dev/null), ring map $((map_bytes >> 10)) KiB; \
daemon RSS $rss_before -> $rss_after KiB (+$grown_kb)"
check tcli_defaults_memory "RSS grew $grown_kb KiB for a ring map of $((map_bytes >> 10)) KiB" \
    [ "$map_bytes" -gt 0 -a "$grown_kb" -le $((16 << 10)) ]

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

# ------------------------------------------------------------------ tgt's example 1: "Give it a nice name"
# vendor_id=STGT_DVD,product_id=DVD101,product_rev=0010,scsi_sn=XYZ123. LIO's own backstores
# (fileio here) build their NAA WWN from the serial; a drive with the same serial must show
# the same one, so udev's by-id names and multipath agree with LIO's.
step "tgt example 1 names: LIO's own WWN for serial XYZ123"
NAA_WANT=0x60014051230000000000000000000000
LIOREF=$RUN/lioref.img
out=$(tcli /backstores/fileio create name=lioref file_or_dev="$LIOREF" size=1M wwn=XYZ123 &&
    tcli /loopback create)
echo "$out"
ref_naa=$(echo "$out" | sed -n 's/.*Created target \(naa\.[0-9a-f]*\).*/\1/p' | head -n1)
tcli "/loopback/$ref_naa/luns" create /backstores/fileio/lioref
udevadm settle --timeout=30
ref_dev=
for _ in $(seq 1 40); do
    ref_dev=$(scsi_block_dev "$(cat "/sys/kernel/config/target/loopback/$ref_naa/tpgt_1/address" 2>/dev/null):0")
    [ -b "$ref_dev" ] && break
    sleep 0.5
done
lio_naa=$(inq_naa "$ref_dev")
echo "LIO fileio with serial XYZ123: $ref_dev NAA $lio_naa"
check names_lio_reference "LIO's fileio '$ref_dev' shows NAA '$lio_naa'" [ "$lio_naa" = "$NAA_WANT" ]
tcli "/loopback/$ref_naa" delete >/dev/null
tcli /backstores/fileio delete lioref >/dev/null
rm -f "$LIOREF"
udevadm settle --timeout=30

# names_ok SCENARIO DEV: DEV answers with tgt's example 1 names and LIO's WWN.
names_ok() {
    local names serial naa
    names=$(inq_names "$2")
    serial=$(inq_serial "$2")
    naa=$(inq_naa "$2")
    echo "$1: $2 says '$names', serial '$serial', NAA '$naa'"
    if [ "$names" = STGT_DVD/DVD101/0010 ] && [ "$serial" = XYZ123 ] && [ "$naa" = "$NAA_WANT" ]; then
        pass "$1"
    else
        fail "$1" "$2: names '$names', serial '$serial', NAA '$naa' (LIO: $NAA_WANT)"
    fi
}

# targetcli sets the serial (create ... wwn=); rtslib writes it after enable, i.e. after the
# daemon attached. targetcli has no command for vendor_id/product_id/revision: they are written
# to the backstore's wwn/ group by hand, before the LUN exists (the kernel refuses them after).
step "tgt example 1 names with targetcli"
NMBLANK=$IMG/names-empty.iso
rm -f "$NMBLANK" "$NMBLANK.tcmu-mmc.json"
: >"$NMBLANK"
out=$(tcli /backstores/user:mmc create name=nm0 size=4G cfgstring="$NMBLANK" wwn=XYZ123)
echo "$out"
nmdir=$(ls -d /sys/kernel/config/target/core/user_*/nm0 2>/dev/null | head -n1)
echo STGT_DVD >"$nmdir/wwn/vendor_id"
echo DVD101 >"$nmdir/wwn/product_id"
echo 0010 >"$nmdir/wwn/revision"
out=$(tcli /loopback create)
echo "$out"
nm_naa=$(echo "$out" | sed -n 's/.*Created target \(naa\.[0-9a-f]*\).*/\1/p' | head -n1)
tcli "/loopback/$nm_naa/luns" create /backstores/user:mmc/nm0
udevadm settle --timeout=30
nm_sr=$(exported_sr nm0)
names_ok names_targetcli "$nm_sr"
# udev (scsi_id) names the drive by its NAA WWN and records the serial.
props=$(udevadm info --query=property "$nm_sr" 2>&1)
link=/dev/disk/by-id/scsi-3${NAA_WANT#0x}
echo "$props" | grep -E '^ID_(SERIAL|SCSI_SERIAL|WWN|VENDOR|MODEL)='
ls -l /dev/disk/by-id/ 2>&1 | grep -i "${NAA_WANT#0x}"
if [ "$(readlink -f "$link")" = "$nm_sr" ] && echo "$props" | grep -qx 'ID_SCSI_SERIAL=XYZ123' &&
    [ "$(readlink -f "/dev/disk/by-id/wwn-$NAA_WANT")" = "$nm_sr" ]; then
    pass names_by_id
else
    fail names_by_id "$link -> '$(readlink -f "$link")', want $nm_sr; $(echo "$props" | grep -E '^ID_(SCSI_SERIAL|SERIAL)=' | oneline)"
fi
tcli "/loopback/$nm_naa" delete >/dev/null
tcli /backstores/user:mmc delete nm0 >/dev/null
udevadm settle --timeout=30

step "tgt example 1 names with mmc-drive"
out=$(mmc create nm1 "$NMBLANK" --vendor STGT_DVD --product DVD101 --revision 0010 --serial XYZ123 2>&1 &&
    mmc attach nm1 2>&1)
echo "$out"
udevadm settle --timeout=30
names_ok names_script "$(drive_sr nm1)"
mmc delete nm1 >/dev/null

# Bad names are refused before anything is made, each with what is wrong.
bad_out=
bad_ok=1
for bad in "--vendor STGT_DVD_X:room for 8" "--product ABCDEFGHIJKLMNOPQ:17 characters" \
    "--revision 00100:room for 4" "--vendor DVD$(printf '\t')1:printable ASCII" "--serial XY Z:without spaces"; do
    opt=${bad%% *}
    val=${bad#* }
    val=${val%:*}
    want=${bad##*:}
    o=$(mmc create nmbad "$NMBLANK" "$opt" "$val" 2>&1)
    rc=$?
    bad_out="$bad_out [$opt '$val': rc $rc $o]"
    if [ $rc -eq 0 ] || ! echo "$o" | grep -q -- "$want" || backstore_exists nmbad; then
        bad_ok=0
    fi
done
echo "names_validation:$bad_out"
if [ $bad_ok = 1 ]; then
    pass names_validation
else
    fail names_validation "$(echo "$bad_out" | oneline)"
fi
mmc delete nmbad >/dev/null 2>&1

# ------------------------------------------------------------------ only root changes discs
# Anyone may ask CheckConfig; ChangeMedium from anyone but root (and without polkit's say-so)
# is AccessDenied and changes nothing. Tried with /etc/shadow, which the root daemon would
# otherwise serve as a DVD-ROM to every reader of the drive.
step "D-Bus: only root changes a disc"
SVC=(org.kernel.TCMUService1 /org/kernel/TCMUService1/mmc org.kernel.TCMUService1)
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
tc0_config() { cat /sys/kernel/config/target/core/user_*/tc0/attrib/dev_config 2>/dev/null; }
before=$(tc0_config)
disc_before=$(status_field tc0 disc)
out=$(as_nobody timeout 90 dbus-send --system --print-reply --reply-timeout=60000 \
    --dest=org.kernel.TCMUService1 /org/kernel/TCMUService1/mmc org.kernel.TCMUService1.ChangeMedium \
    string:tc0 uint64:0 string:mmc//etc/shadow 2>&1)
rc=$?
out2=$(as_nobody timeout 90 busctl call --system --timeout=60 "${SVC[@]}" ChangeMedium sts tc0 0 mmc//etc/shadow 2>&1)
rc2=$?
sleep 1
echo "nobody: dbus-send rc $rc: $out / busctl rc $rc2: $out2"
logged=$(grep 'ChangeMedium tc0 .* refused' "$DLOG" | tail -n1)
echo "log: $logged"
if [ $rc -ne 0 ] && echo "$out" | grep -q 'org.freedesktop.DBus.Error.AccessDenied' && [ $rc2 -ne 0 ] &&
    echo "$out2" | grep -qi 'access denied' && [ "$(tc0_config)" = "$before" ] &&
    [ "$(status_field tc0 disc)" = "$disc_before" ] && echo "$logged" | grep -q 'uid 65534'; then
    pass dbus_nobody_refused
else
    fail dbus_nobody_refused "rc $rc/$rc2: $(echo "$out / $out2" | oneline); dev_config '$(tc0_config)' (was '$before'); log '$logged'"
fi

out=$(timeout 90 busctl call --system --timeout=60 "${SVC[@]}" ChangeMedium sts tc0 0 "mmc/$SMALL" 2>&1)
rc=$?
echo "root: rc $rc: $out"
if [ $rc -eq 0 ] && echo "$out" | grep -q '^is 0 ' && [ "$(tc0_config)" = "mmc/$SMALL" ] &&
    wait_status tc0 profile DVD-ROM; then
    pass dbus_root_changes
else
    fail dbus_root_changes "rc $rc: $(echo "$out" | oneline); dev_config '$(tc0_config)'"
fi
# Put the blank back for the saveconfig scenarios below.
timeout 90 busctl call --system --timeout=60 "${SVC[@]}" ChangeMedium sts tc0 0 "mmc/$TCBLANK" >/dev/null 2>&1
wait_status tc0 disc blank

out=$(as_nobody timeout 60 busctl call --system "${SVC[@]}" CheckConfig s "mmc/$SMALL" 2>&1)
rc=$?
out2=$(timeout 60 busctl call --system "${SVC[@]}" CheckConfig s "mmc//no/such/dir/x.iso" 2>&1)
rc2=$?
echo "CheckConfig: nobody rc $rc: $out / root rc $rc2: $out2"
if [ $rc -eq 0 ] && echo "$out" | grep -q '^bs true ' && [ $rc2 -eq 0 ] && echo "$out2" | grep -q '^bs false .*does not exist'; then
    pass dbus_checkconfig_open
else
    fail dbus_checkconfig_open "nobody rc $rc: $(echo "$out" | oneline); root rc $rc2: $(echo "$out2" | oneline)"
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
