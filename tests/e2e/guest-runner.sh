# shellcheck shell=bash
# Beside a running tcmu-runner, sourced by guest.sh inside the guest after the targetcli
# sub-suite (whose system bus it uses). tcmu-runner owns org.kernel.TCMUService1 and serves a
# file_optical ("fbo") backstore; tcmu-mmc registers "mmc" through runner's HandlerManager1 and
# serves its drives. Both share the TCM-USER netlink family, where the kernel takes the first
# answer to each event: tcmu-mmc backstores carry nl_reply_supported=-1 (the documented way),
# and `tcmu-mmc saveconfig-prepare` puts it back into a saved configuration before a restore.
# required: runner_register_handler runner_coexist_burn runner_coexist_fbo_read
# required: runner_cycles runner_default_bounded runner_saveconfig_prepared
# required: runner_reboot_runner_first runner_reboot_mmc_first

RD=$IMG/runner
rm -rf "$RD"
mkdir -p "$RD/log"
FBOISO=$RD/fbo.iso
cp "$SMALL" "$FBOISO"
FBO_SUM=$(sha256sum <"$FBOISO" | cut -d' ' -f1)
FBO_SIZE=$(stat -c %s "$FBOISO")
RBLANK=$RD/mmc-blank.iso
: >"$RBLANK"
RPID=

bus_owner() {
    dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus.GetConnectionUnixProcessID string:org.kernel.TCMUService1 2>/dev/null |
        awk '/uint32/ {print $2}'
}
# runner_start: tcmu-runner in the background (RPID), up to 30 s for it to own its bus name.
runner_start() {
    tcmu-runner -l "$RD/log" >>"$OUT/runner-suite.out" 2>&1 &
    RPID=$!
    local i
    for i in $(seq 1 60); do
        [ "$(bus_owner)" = "$RPID" ] && return 0
        kill -0 "$RPID" 2>/dev/null || return 1
        sleep 0.5
    done
    return 1
}
runner_stop() {
    [ -n "$RPID" ] || return 0
    kill -TERM "$RPID" 2>/dev/null
    wait "$RPID" 2>/dev/null
    RPID=
}
daemon_stop() {
    kill -TERM "$DPID" 2>/dev/null
    wait "$DPID" 2>/dev/null
}
# holds PID SODIR: PID has the UIO device of the backstore at SODIR open (it serves it). A
# TCMU device's UIO name is tcm-user/<hba index>/<name>/<config>.
holds() {
    local so hba u
    so=${2##*/}
    hba=${2%/*}
    hba=${hba##*/user_}
    for u in /sys/class/uio/uio*; do
        grep -q "^tcm-user/$hba/$so/" "$u/name" 2>/dev/null || continue
        find "/proc/$1/fd" -lname "/dev/${u##*/}" 2>/dev/null | grep -q . && return 0
    done
    return 1
}
wait_holds() { # wait_holds PID SODIR: up to 10 s for holds
    for _ in $(seq 1 100); do
        holds "$1" "$2" && return 0
        sleep 0.1
    done
    return 1
}
# within5 CMD...: CMD finishes (with its status) within 5 s, else 124 (a configfs write the
# kernel makes wait for a reply nobody gives cannot be killed: it is left behind). LAST_MS is
# the time taken; MAX_MS the longest so far.
MAX_MS=0
within5() {
    local t0 pid rc=124
    t0=$(date +%s%N)
    "$@" &
    pid=$!
    for _ in $(seq 1 50); do
        if ! kill -0 "$pid" 2>/dev/null; then
            wait "$pid"
            rc=$?
            break
        fi
        sleep 0.1
    done
    LAST_MS=$((($(date +%s%N) - t0) / 1000000))
    [ "$LAST_MS" -gt "$MAX_MS" ] && MAX_MS=$LAST_MS
    return $rc
}
# loop_lun BACKSTORE_PATH: a tcm_loop target with one LUN for the targetcli backstore path
# (e.g. /backstores/user:fbo/fb0); prints its block device.
loop_lun() {
    local out naa dev i
    out=$(tcli /loopback create)
    naa=$(echo "$out" | sed -n 's/.*Created target \(naa\.[0-9a-f]*\).*/\1/p' | head -n1)
    tcli "/loopback/$naa/luns" create "$1" >/dev/null
    udevadm settle --timeout=30
    for i in $(seq 1 40); do
        dev=$(scsi_block_dev "$(cat "/sys/kernel/config/target/loopback/$naa/tpgt_1/address" 2>/dev/null):0")
        [ -b "$dev" ] && break
        sleep 0.5
    done
    echo "$dev"
}
# lun_of NAME: the tcm_loop LUN directory that links the backstore NAME (the first one).
lun_of() {
    local so l e
    so=$(readlink -f "$(ls -d "$CORE_ROOT"/user_*/"$1" 2>/dev/null | head -n1)")
    [ -n "$so" ] || return 0
    for l in /sys/kernel/config/target/loopback/naa.*/tpgt_*/lun/lun_*; do
        for e in "$l"/*; do
            [ -L "$e" ] && [ "$(readlink -f "$e")" = "$so" ] && echo "$l" && return 0
        done
    done
}
# so_dev NAME: the block device of the backstore NAME's tcm_loop LUN.
so_dev() {
    local l
    l=$(lun_of "$1")
    [ -n "$l" ] && scsi_block_dev "$(loop_scsi_addr "$l")"
}
fbo_reads() { # fbo_reads DEV: DEV holds fbo.iso's bytes
    [ -b "$1" ] && [ "$(timeout 120 dd if="$1" bs=64k count=$((FBO_SIZE / 65536 + 1)) 2>/dev/null |
        head -c "$FBO_SIZE" | sha256sum | cut -d' ' -f1)" = "$FBO_SUM" ]
}

step "tcmu-runner owns the bus; tcmu-mmc registers mmc through it"
[ -S /run/dbus/system_bus_socket ] || echo "no system bus: the targetcli sub-suite starts it"
daemon_stop
runner_start
rstart=$?
echo "tcmu-runner $RPID (start rc $rstart), bus owner '$(bus_owner)'"
daemon_start
reg=
for _ in $(seq 1 40); do
    reg=$(grep 'registered handler mmc' "$DLOG")
    [ -n "$reg" ] && break
    sleep 0.5
done
out=$(tcli ls /backstores 1; tcli /backstores/user:mmc create name=rbad size=1M cfgstring=/no/such/dir/x.iso)
echo "$out"
if [ $rstart -eq 0 ] && [ -n "$reg" ] && echo "$out" | grep -q 'user:fbo' && echo "$out" | grep -q 'user:mmc' &&
    echo "$out" | grep -q '/no/such/dir does not exist' && ! ls -d "$CORE_ROOT"/user_*/rbad >/dev/null 2>&1; then
    pass runner_register_handler
else
    fail runner_register_handler "runner start rc $rstart; log '$reg'; $(echo "$out" | oneline)"
fi

step "beside tcmu-runner: a burn on user:mmc, a read of runner's fbo"
out=$(tcli /backstores/user:fbo create name=fb0 size="$FBO_SIZE" cfgstring="$FBOISO" control=hw_block_size=2048)
echo "$out"
fbo_dev=$(loop_lun /backstores/user:fbo/fb0)
out=$(tcli /backstores/user:mmc create name=rm0 size=4G cfgstring="$RBLANK" control=nl_reply_supported=-1)
echo "$out"
mmc_dev=$(loop_lun /backstores/user:mmc/rm0)
echo "fbo on '$fbo_dev', mmc on '$mmc_dev'"
out=$(timeout 300 growisofs -Z "$mmc_dev=$SMALL" 2>&1)
rc=$?
echo "$out" | tail -n 4
sleep 2
check runner_coexist_burn "growisofs on '$mmc_dev' rc $rc: $(echo "$out" | tail -n2 | oneline)" \
    eval '[ $rc -eq 0 ] && same_prefix "$mmc_dev" "$SMALL"'
check runner_coexist_fbo_read "fbo device '$fbo_dev' does not read back fbo.iso; runner log: $(tail -n3 "$RD/log/tcmu-runner.log" 2>/dev/null | oneline)" \
    fbo_reads "$fbo_dev"

step "beside tcmu-runner: 10 times a backstore of each kind made and removed"
# Straight through configfs: fbo as LIO leaves it (the kernel waits for runner's answer), mmc
# with nl_reply_supported=-1. Every write must finish within 5 s; each device must be served by
# its own daemon.
cyc_fail=
MAX_MS=0
for i in $(seq 1 10); do
    f=$CORE_ROOT/user_81/cfb$i
    m=$CORE_ROOT/user_82/cmm$i
    mkdir -p "$f" "$m"
    within5 sh -c "echo -n 'dev_config=fbo/$FBOISO,dev_size=$FBO_SIZE,hw_block_size=2048' >'$f/control'" &&
        within5 sh -c "echo 1 >'$f/enable'" || cyc_fail="$cyc_fail fbo $i enable ($LAST_MS ms);"
    within5 sh -c "echo -n 'dev_config=mmc/$SMALL,dev_size=$FBO_SIZE,hw_block_size=2048,nl_reply_supported=-1' >'$m/control'" &&
        within5 sh -c "echo 1 >'$m/enable'" || cyc_fail="$cyc_fail mmc $i enable ($LAST_MS ms);"
    wait_holds "$DPID" "$m" || cyc_fail="$cyc_fail mmc $i not held by tcmu-mmc;"
    wait_holds "$RPID" "$f" || cyc_fail="$cyc_fail fbo $i not held by tcmu-runner;"
    within5 rmdir "$f" || cyc_fail="$cyc_fail fbo $i rmdir ($LAST_MS ms);"
    within5 rmdir "$m" || cyc_fail="$cyc_fail mmc $i rmdir ($LAST_MS ms);"
done
rmdir "$CORE_ROOT/user_81" "$CORE_ROOT/user_82" 2>/dev/null
echo "slowest configfs write: $MAX_MS ms"
check runner_cycles "$cyc_fail" [ -z "$cyc_fail" ]

step "beside tcmu-runner: an mmc backstore with targetcli's defaults never hangs"
# Without nl_reply_supported=-1 both daemons answer the enable and the first answer wins: the
# drive comes up or the enable fails at once (runner refuses subtypes it does not serve), and
# the daemon names the setting to add.
d=$CORE_ROOT/user_83/rdef
mkdir -p "$d"
echo -n "dev_config=mmc/$SMALL,dev_size=$FBO_SIZE,hw_block_size=2048" >"$d/control"
within5 sh -c "echo 1 >'$d/enable'"
erc=$?
ems=$LAST_MS
named=$(grep 'tcmu-runner is running and answers' "$DLOG" | grep rdef | grep -c 'nl_reply_supported=-1')
within5 rmdir "$d"
rrc=$?
rmdir "$CORE_ROOT/user_83" 2>/dev/null
echo "enable rc $erc after $ems ms; removal rc $rrc after $LAST_MS ms; warnings naming the setting: $named"
check runner_default_bounded "enable rc $erc ($ems ms), rmdir rc $rrc ($LAST_MS ms), warning logged $named times" \
    eval '[ $erc -ne 124 ] && [ $rrc -eq 0 ] && [ "$named" -ge 1 ]'

# restored_ok: fb0 reads fbo.iso and rm0 holds the burned disc, each on its LUN again.
restored_ok() {
    local f m
    udevadm settle --timeout=60
    wait_status rm0 served True || { echo "rm0 not served"; return 1; }
    for _ in $(seq 1 40); do
        f=$(so_dev fb0)
        m=$(so_dev rm0)
        [ -b "$f" ] && [ -b "$m" ] && break
        sleep 0.5
    done
    echo "restored: fb0 on '$f', rm0 on '$m'"
    fbo_reads "$f" && same_prefix "$m" "$SMALL"
}

step "beside tcmu-runner: saveconfig and saveconfig-prepare"
# rtslib's saveconfig rebuilds each backstore's control string and drops
# nl_reply_supported=-1; saveconfig-prepare puts it back into the mmc backstores only.
RSAVED=$RD/saveconfig.json
tcli saveconfig "$RSAVED" >/dev/null
cp "$RSAVED" "$RD/saved-by-targetcli.json"
prep=$("$BIN" saveconfig-prepare "$RSAVED" 2>&1)
prep_rc=$?
echo "$prep"
controls() { # controls FILE: "name control nl_reply_supported" per user backstore
    python3 -c '
import json, sys
for s in json.load(open(sys.argv[1]))["storage_objects"]:
    if s["plugin"] == "user":
        print(s["name"], s.get("control", ""), s.get("attributes", {}).get("nl_reply_supported"))' "$1"
}
before=$(controls "$RD/saved-by-targetcli.json")
after=$(controls "$RSAVED")
echo "saved by targetcli: $(echo "$before" | oneline)"
echo "prepared: $(echo "$after" | oneline)"
again=$("$BIN" saveconfig-prepare "$RSAVED" 2>&1)
if [ $prep_rc -eq 0 ] && echo "$before" | grep '^rm0 ' | grep -qv 'nl_reply_supported=-1' &&
    echo "$after" | grep '^rm0 ' | grep -q 'nl_reply_supported=-1.* -1$' &&
    echo "$after" | grep '^d0 ' | grep -q 'nl_reply_supported=-1' &&
    [ "$(echo "$before" | grep '^fb0 ')" = "$(echo "$after" | grep '^fb0 ')" ] &&
    echo "$again" | grep -q 'nothing to change'; then
    pass runner_saveconfig_prepared
else
    fail runner_saveconfig_prepared "prepare rc $prep_rc: $prep; before: $(echo "$before" | oneline); after: $(echo "$after" | oneline); again: $again"
fi

# reboot FIRST SECOND: both daemons stopped and the kernel's configuration cleared as a
# shutdown leaves it; then the daemons start in that order and target.service runs
# (saveconfig-prepare as tcmu-mmc.service's ExecStartPre, then targetctl restore).
reboot_as() {
    local first=$1 second=$2 s out left
    targetctl clear >/dev/null 2>&1 || tcli clearconfig confirm=True >/dev/null
    left=$(ls -d "$CORE_ROOT"/user_*/* 2>/dev/null | grep -v '/hba_')
    [ -z "$left" ] || { echo "left after clear: $left"; return 1; }
    runner_stop
    daemon_stop
    for s in "$first" "$second"; do
        case $s in
        runner) runner_start || echo "tcmu-runner did not own its bus name" ;;
        mmc) "$BIN" saveconfig-prepare "$RSAVED" && daemon_start ;;
        esac
    done
    out=$(timeout 300 targetctl restore "$RSAVED" 2>&1)
    echo "targetctl restore: $out"
    restored_ok
}
step "a simulated reboot: tcmu-runner first, then tcmu-mmc"
check runner_reboot_runner_first "after restore: $(timeout 30 "$BIN" --run-dir "$RUN" status 2>&1 | oneline)" \
    reboot_as runner mmc
step "a simulated reboot: tcmu-mmc first, then tcmu-runner"
check runner_reboot_mmc_first "after restore: $(timeout 30 "$BIN" --run-dir "$RUN" status 2>&1 | oneline)" \
    reboot_as mmc runner

step "beside tcmu-runner: tear down"
for so in fb0 rm0; do
    l=$(lun_of "$so")
    [ -n "$l" ] || continue
    naa=${l%/tpgt_*}
    tcli "/loopback/${naa##*/}" delete >/dev/null
done
tcli /backstores/user:fbo delete fb0 >/dev/null
tcli /backstores/user:mmc delete rm0 >/dev/null
runner_stop
rm -rf "$RD"
