# shellcheck shell=bash
# iSCSI export, sourced by guest.sh inside the guest: configfs-scripts/iscsi-target exports a
# DVD-ROM and a blank DVD+R on the kernel's iSCSI target, and open-iscsi in the same guest logs
# in, reads the DVD-ROM whole and burns the DVD+R with growisofs.
#   run 1: portal 127.0.0.1:3260, any initiator, no authentication;
#   run 2: the portal listens in another network namespace (10.99.0.2 behind a veth pair) and
#          the initiator connects from 10.99.0.1: listed initiator only, mutual CHAP. The DVD-ROM
#          is on tcm_loop as well and is read through both at once.
# The kernel's iSCSI initiator netlink (NETLINK_ISCSI) exists only in the initial network
# namespace (drivers/scsi/scsi_transport_iscsi.c), so iscsid cannot run in another one; the
# target's portal moves there instead. Every drive, target, session and namespace made here is
# removed before returning.
# required: iscsi_create iscsi_create_idempotent iscsi_create_conflict iscsi_drive_in_use
# required: iscsi_login iscsi_read iscsi_kill9_read iscsi_burn iscsi_list iscsi_logout_delete
# required: iscsi_netns_create iscsi_add_remove iscsi_acl_refused iscsi_chap_refused iscsi_netns_login
# required: iscsi_netns_read iscsi_dual_export iscsi_netns_burn iscsi_teardown
# required: iscsi_names

ISCSI_TGT=("$REPO/configfs-scripts/iscsi-target")
isct() { timeout 120 "${ISCSI_TGT[@]}" "$@"; }
isc() { timeout 60 iscsiadm "$@"; }

ISC_INI=iqn.2024-01.org.example.tcmu-mmc:initiator
ISC_STRANGER=iqn.2024-01.org.example.tcmu-mmc:stranger
ISC_T1=iqn.2024-01.org.example.tcmu-mmc:loop
ISC_T2=iqn.2024-01.org.example.tcmu-mmc:netns
ISC_T3=iqn.2024-01.org.example.tcmu-mmc:names
ISC_NS=tcmummc-tgt
ISC_P1=127.0.0.1:3260
ISC_P2=10.99.0.2:3260
ISC_CHAP_USER=burner
ISC_CHAP_SECRET=s3cret-burner-42
ISC_MUTUAL_USER=target
ISC_MUTUAL_SECRET=s3cret-target-42
ISC_DIR=$OUT/iscsi
ISCSID_PID=
ISC_ETC_TMPFS=0
rm -rf "$ISC_DIR"
mkdir -p "$ISC_DIR"

# ------------------------------------------------------------------ helpers

# Start iscsid with our initiator name. /etc is a writable overlay under virtme-ng; if it is
# not, a tmpfs (holding a copy of /etc/iscsi) goes over /etc/iscsi.
isc_initiator_up() {
    modprobe iscsi_tcp || return 1
    mkdir -p /etc/iscsi 2>/dev/null
    if ! : >/etc/iscsi/.tcmu-mmc-e2e 2>/dev/null; then
        rm -rf "$ISC_DIR/etc-iscsi"
        cp -a /etc/iscsi "$ISC_DIR/etc-iscsi" && mount -t tmpfs tmpfs /etc/iscsi &&
            cp -a "$ISC_DIR/etc-iscsi/." /etc/iscsi/ || return 1
        ISC_ETC_TMPFS=1
    fi
    rm -f /etc/iscsi/.tcmu-mmc-e2e
    echo "InitiatorName=$ISC_INI" >/etc/iscsi/initiatorname.iscsi
    # iscsiadm must not try to start iscsid through systemd.
    sed -i 's|^iscsid.startup = .*|iscsid.startup = /bin/true|' /etc/iscsi/iscsid.conf
    mkdir -p /run/lock/iscsi
    # setsid: iscsid signals its whole process group when it exits.
    setsid iscsid -f >"$ISC_DIR/iscsid.log" 2>&1 </dev/null &
    ISCSID_PID=$!
    local _
    for _ in $(seq 1 100); do
        grep -q '@ISCSIADM_ABSTRACT_NAMESPACE' /proc/net/unix && return 0
        kill -0 "$ISCSID_PID" 2>/dev/null || return 1
        sleep 0.2
    done
    return 1
}

isc_initiator_down() {
    if [ -n "$ISCSID_PID" ] && kill -0 "$ISCSID_PID" 2>/dev/null; then
        kill -TERM "$ISCSID_PID"
        for _ in $(seq 1 50); do
            kill -0 "$ISCSID_PID" 2>/dev/null || break
            sleep 0.2
        done
        kill -0 "$ISCSID_PID" 2>/dev/null && kill -KILL "$ISCSID_PID"
        wait "$ISCSID_PID" 2>/dev/null
    fi
    ISCSID_PID=
    if [ $ISC_ETC_TMPFS = 1 ]; then
        umount /etc/iscsi && ISC_ETC_TMPFS=0
    fi
}

# SCSI host number of the session logged in to target IQN, or empty.
isc_host() {
    local s
    for s in /sys/class/iscsi_session/session*; do
        [ "$(cat "$s/targetname" 2>/dev/null)" = "$1" ] || continue
        readlink -f "$s" | sed -n 's|.*/host\([0-9]*\)/session[0-9]*/.*|\1|p'
        return 0
    done
}
# /dev/srN of LUN L of the session to target IQN, if it is a TCMU-MMC drive.
isc_sr() { # isc_sr IQN LUN
    local h
    h=$(isc_host "$1")
    [ -n "$h" ] || return 0
    grep -q '^TCMU-MMC' "/sys/bus/scsi/devices/$h:0:0:$2/vendor" 2>/dev/null || return 0
    scsi_block_dev "$h:0:0:$2"
}
# Wait until LUNs 0..N-1 of target IQN have block devices.
isc_wait_devices() { # isc_wait_devices IQN N
    local _ l ok
    for _ in $(seq 1 150); do
        ok=1
        for ((l = 0; l < $2; l++)); do
            [ -b "$(isc_sr "$1" $l)" ] || ok=0
        done
        [ $ok = 1 ] && break
        sleep 0.2
    done
    udevadm settle --timeout=30
    [ $ok = 1 ]
}
# sha256 of a whole device.
dev_sha() { timeout 300 dd if="$1" bs=1M iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1; }

# Burn $SMALL on SR with growisofs; check the image file and the device's read-back.
# isc_burn SCENARIO SR IMAGE
isc_burn() {
    local scen=$1 sr=$2 image=$3 out rc t0 t1
    t0=$(date +%s)
    out=$(timeout 300 growisofs -Z "$sr=$SMALL" 2>&1)
    rc=$?
    t1=$(date +%s)
    echo "$out"
    echo "$scen: growisofs took $((t1 - t0)) s"
    sleep 3
    if [ $rc -eq 0 ] && image_is_file_padded "$image" "$SMALL" && same_prefix "$sr" "$SMALL"; then
        pass "$scen"
    else
        fail "$scen" "growisofs rc $rc: $(echo "$out" | tail -n3 | oneline); image $(stat -c %s "$image") bytes, begins with the ISO: $(cmp -s -n "$(stat -c %s "$SMALL")" "$image" "$SMALL" && echo yes || echo no)"
    fi
}

# Log out of every session and forget every node record; delete both targets and our drives.
isc_cleanup() {
    isc -m node --logoutall=all >/dev/null 2>&1
    isc -m node -o delete >/dev/null 2>&1
    isc -m iface -I stranger -o delete >/dev/null 2>&1
    isct delete "$ISC_T1"
    isct delete "$ISC_T2"
    isct delete "$ISC_T3"
    local n
    for n in ir0 ib0 ir1 ib1 in0; do
        mmc delete "$n"
    done
    isc_initiator_down
    ip netns del "$ISC_NS" 2>/dev/null
    ip link del tcmummc-i 2>/dev/null
}

# ------------------------------------------------------------------ run 1: loopback, any initiator
step "iscsi: create a target (127.0.0.1, any initiator)"
ip link set lo up
for i in 0 1; do
    rm -f "$IMG/iscsi-blank-$i.iso" "$IMG/iscsi-blank-$i.iso.tcmu-mmc.json"
    : >"$IMG/iscsi-blank-$i.iso"
done
t0=$(date +%s)
out=$(mmc create ir0 "$SMALL" 2>&1 && mmc create ib0 "$IMG/iscsi-blank-0.iso" 2>&1)
t1=$(date +%s)
out="$out
$(isct create "$ISC_T1" --portal "$ISC_P1" --allow-all ir0 ib0 2>&1)"
rc=$?
echo "$out"
echo "iscsi: two mmc-drive creates took $((t1 - t0)) s, iscsi-target create (iscsi_target_mod loaded) $(($(date +%s) - t1)) s"
T=$TARGET_ROOT/iscsi/$ISC_T1/tpgt_1
if [ $rc -eq 0 ] && [ "$(cat "$T/enable")" = 1 ] && [ -d "$T/np/$ISC_P1" ] &&
    [ "$(readlink -f "$T/lun/lun_0/ir0")" = "$(backstore_dir ir0)" ] &&
    [ "$(readlink -f "$T/lun/lun_1/ib0")" = "$(backstore_dir ib0)" ] &&
    [ "$(cat "$T/attrib/generate_node_acls")" = 1 ] && [ "$(cat "$T/attrib/demo_mode_write_protect")" = 0 ] &&
    [ "$(cat "$T/attrib/authentication")" = 0 ]; then
    pass iscsi_create
else
    fail iscsi_create "rc $rc: $(echo "$out" | tail -n2 | oneline)"
fi

out=$(isct create "$ISC_T1" --allow-all --portal "$ISC_P1" ir0 ib0 2>&1)
rc=$?
echo "$out"
if [ $rc -eq 0 ] && echo "$out" | grep -q 'already exists with the same settings'; then
    pass iscsi_create_idempotent
else
    fail iscsi_create_idempotent "rc $rc: $(echo "$out" | oneline)"
fi
out=$(isct create "$ISC_T1" --allow-all --portal "$ISC_P1" ib0 ir0 2>&1)
rc=$?
echo "$out"
if [ $rc -ne 0 ] && echo "$out" | grep -q 'already exists with other settings' &&
    [ "$(readlink -f "$T/lun/lun_0/ir0")" = "$(backstore_dir ir0)" ]; then
    pass iscsi_create_conflict
else
    fail iscsi_create_conflict "rc $rc: $(echo "$out" | oneline)"
fi

out=$(mmc delete ir0 2>&1)
rc=$?
echo "$out"
if [ $rc -ne 0 ] && echo "$out" | grep -q "still exported at iscsi/$ISC_T1/tpgt_1/lun/lun_0" &&
    backstore_exists ir0; then
    pass iscsi_drive_in_use
else
    fail iscsi_drive_in_use "rc $rc: $(echo "$out" | oneline)"
fi

step "iscsi: open-iscsi logs in over loopback"
if isc_initiator_up; then
    out=$(isc -m discovery -t st -p "$ISC_P1" 2>&1)
    echo "discovery: $out"
    t0=$(date +%s)
    out2=$(isc -m node -T "$ISC_T1" -p "$ISC_P1" --login 2>&1)
    rc=$?
    echo "$out2"
    isc_wait_devices "$ISC_T1" 2
    t1=$(date +%s)
    echo "iscsi: login and LUN probe took $((t1 - t0)) s"
    SR_R=$(isc_sr "$ISC_T1" 0)
    SR_B=$(isc_sr "$ISC_T1" 1)
    echo "iscsi session host $(isc_host "$ISC_T1"): lun 0 '$SR_R', lun 1 '$SR_B'"
    if [ $rc -eq 0 ] && echo "$out" | grep -q "$ISC_P1,1 $ISC_T1" && [ -b "$SR_R" ] && [ -b "$SR_B" ] &&
        [ "$SR_R" != "$(drive_sr d0)" ]; then
        pass iscsi_login
    else
        fail iscsi_login "discovery '$(echo "$out" | oneline)', login rc $rc: $(echo "$out2" | oneline); devices '$SR_R' '$SR_B'"
    fi
else
    fail iscsi_login "iscsid did not start: $(oneline <"$ISC_DIR/iscsid.log")"
    SR_R=
    SR_B=
fi

if [ -b "$SR_R" ]; then
    t0=$(date +%s.%N)
    sum=$(dev_sha "$SR_R")
    t1=$(date +%s.%N)
    size=$(blockdev --getsize64 "$SR_R" 2>&1)
    want=$(sha256sum <"$SMALL" | cut -d' ' -f1)
    echo "iscsi read: $(awk -v s="$(stat -c %s "$SMALL")" -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", s / 1048576 / (b - a) }') MB/s"
    if [ "$sum" = "$want" ] && [ "$size" = "$(stat -c %s "$SMALL")" ]; then
        pass iscsi_read
    else
        fail iscsi_read "sha256 $sum (want $want), size $size"
    fi
else
    skip iscsi_read "no device for lun 0"
fi
# The daemon killed under an iSCSI initiator: the read goes on once it is back.
if [ -b "$SR_R" ]; then
    check iscsi_kill9_read "read over iSCSI across kill -9 and restart did not complete intact" \
        read_across_restart "$SR_R" "$SMALL" KILL
else
    skip iscsi_kill9_read "no device for lun 0"
fi
if [ -b "$SR_B" ]; then
    isc_burn iscsi_burn "$SR_B" "$IMG/iscsi-blank-0.iso"
else
    skip iscsi_burn "no device for lun 1"
fi

out=$(isct list 2>&1)
echo "$out"
if echo "$out" | grep -q "^$ISC_T1 tpgt_1 enabled" && echo "$out" | grep -q "portals *$ISC_P1" &&
    echo "$out" | grep -q 'access *any initiator' && echo "$out" | grep -q "lun_0 *ir0 *mmc/" &&
    echo "$out" | grep -q "lun_1 *ib0 " && echo "$out" | grep -q "sessions *$ISC_INI"; then
    pass iscsi_list
else
    fail iscsi_list "$(echo "$out" | oneline)"
fi

step "iscsi: log out, delete the target"
out=$(isc -m node -T "$ISC_T1" -p "$ISC_P1" --logout 2>&1)
rc=$?
echo "$out"
isc -m node -o delete -T "$ISC_T1" >/dev/null 2>&1
udevadm settle --timeout=30
out2=$(isct delete "$ISC_T1" 2>&1)
rc2=$?
echo "$out2"
if [ $rc -eq 0 ] && [ $rc2 -eq 0 ] && [ -z "$(isc_host "$ISC_T1")" ] && [ ! -e "$TARGET_ROOT/iscsi/$ISC_T1" ] &&
    [ ! -b "$SR_R" ] && backstore_exists ir0 && mmc delete ir0 >/dev/null 2>&1 && mmc delete ib0 >/dev/null 2>&1; then
    pass iscsi_logout_delete
else
    fail iscsi_logout_delete "logout rc $rc: $(echo "$out" | oneline); delete rc $rc2: $(echo "$out2" | oneline)"
fi

# ------------------------------------------------------------------ tgt's example 1 names over iSCSI
# The drive with tgt's example 1 names, on tcm_loop and on iSCSI at once: both initiators see
# the same names, serial and NAA WWN (LIO's for serial XYZ123), so multipath would take them for
# two paths to one LUN.
step "iscsi: tgt example 1's names over iSCSI and tcm_loop"
rm -f "$IMG/iscsi-names.iso" "$IMG/iscsi-names.iso.tcmu-mmc.json"
: >"$IMG/iscsi-names.iso"
out=$(mmc create in0 "$IMG/iscsi-names.iso" --vendor STGT_DVD --product DVD101 --revision 0010 --serial XYZ123 2>&1 &&
    mmc attach in0 2>&1 && isct create "$ISC_T3" --portal "$ISC_P1" --allow-all in0 2>&1 &&
    isc -m discovery -t st -p "$ISC_P1" 2>&1 && isc -m node -T "$ISC_T3" -p "$ISC_P1" --login 2>&1)
rc=$?
echo "$out"
sr_i=
for _ in $(seq 1 150); do
    h=$(isc_host "$ISC_T3")
    [ -n "$h" ] && sr_i=$(scsi_block_dev "$h:0:0:0")
    [ -b "$sr_i" ] && break
    sleep 0.2
done
udevadm settle --timeout=30
sr_l=$(drive_sr in0)
want="STGT_DVD/DVD101/0010 XYZ123 0x60014051230000000000000000000000"
got_i="$(inq_names "$sr_i") $(inq_serial "$sr_i") $(inq_naa "$sr_i")"
got_l="$(inq_names "$sr_l") $(inq_serial "$sr_l") $(inq_naa "$sr_l")"
echo "iscsi $sr_i: $got_i; tcm_loop $sr_l: $got_l"
link=$(readlink -f /dev/disk/by-id/scsi-360014051230000000000000000000000)
if [ $rc -eq 0 ] && [ -b "$sr_i" ] && [ "$sr_i" != "$sr_l" ] && [ "$got_i" = "$want" ] && [ "$got_l" = "$want" ] &&
    { [ "$link" = "$sr_i" ] || [ "$link" = "$sr_l" ]; }; then
    pass iscsi_names
else
    fail iscsi_names "rc $rc; iscsi '$sr_i': $got_i; tcm_loop '$sr_l': $got_l; by-id link -> '$link': $(echo "$out" | tail -n2 | oneline)"
fi
isc -m node -T "$ISC_T3" -p "$ISC_P1" --logout >/dev/null 2>&1
isc -m node -o delete -T "$ISC_T3" >/dev/null 2>&1
udevadm settle --timeout=30
isct delete "$ISC_T3" >/dev/null
mmc delete in0 >/dev/null

# ------------------------------------------------------------------ run 2: another network namespace
step "iscsi: target portal in network namespace $ISC_NS (10.99.0.2), initiator 10.99.0.1"
out=$(ip netns add "$ISC_NS" 2>&1 &&
    ip link add tcmummc-i type veth peer name tcmummc-t 2>&1 &&
    ip link set tcmummc-t netns "$ISC_NS" 2>&1 &&
    ip addr add 10.99.0.1/24 dev tcmummc-i 2>&1 && ip link set tcmummc-i up 2>&1 &&
    ip netns exec "$ISC_NS" ip link set lo up 2>&1 &&
    ip netns exec "$ISC_NS" ip addr add 10.99.0.2/24 dev tcmummc-t 2>&1 &&
    ip netns exec "$ISC_NS" ip link set tcmummc-t up 2>&1)
nsrc=$?
echo "netns: rc $nsrc $out"
out=$(mmc create ir1 "$SMALL" 2>&1 && mmc attach ir1 2>&1 && mmc create ib1 "$IMG/iscsi-blank-1.iso" 2>&1 &&
    isct create "$ISC_T2" --portal "$ISC_P2" --netns "$ISC_NS" --allow "$ISC_INI" \
        --chap "$ISC_CHAP_USER:$ISC_CHAP_SECRET" --chap-mutual "$ISC_MUTUAL_USER:$ISC_MUTUAL_SECRET" ir1 ib1 2>&1)
rc=$?
echo "$out"
T=$TARGET_ROOT/iscsi/$ISC_T2/tpgt_1
listen_ns=$(nsenter --net="/run/netns/$ISC_NS" ss -Hltn 'sport = :3260' 2>&1)
listen_init=$(ss -Hltn 'sport = :3260' 2>&1)
echo "listening in $ISC_NS: $listen_ns / in the initial namespace: '$listen_init'"
if [ $nsrc -eq 0 ] && [ $rc -eq 0 ] && [ "$(cat "$T/enable")" = 1 ] && echo "$listen_ns" | grep -q '10.99.0.2:3260' &&
    [ -z "$listen_init" ] && [ "$(cat "$T/attrib/generate_node_acls")" = 0 ] &&
    [ "$(cat "$T/attrib/authentication")" = 1 ] && [ -L "$T/acls/$ISC_INI/lun_1/lun_1" ] &&
    timeout 10 bash -c ': </dev/tcp/10.99.0.2/3260' 2>/dev/null; then
    pass iscsi_netns_create
else
    fail iscsi_netns_create "netns rc $nsrc, create rc $rc: $(echo "$out" | tail -n2 | oneline); listening: '$(echo "$listen_ns" | oneline)' / '$(echo "$listen_init" | oneline)'"
fi

# Take the burner out of the target and put it back: its LUN and the initiator's mapping go
# and come back.
out=$(isct remove "$ISC_T2" ib1 2>&1)
rc=$?
echo "$out"
gone=0
[ ! -e "$T/lun/lun_1" ] && [ ! -e "$T/acls/$ISC_INI/lun_1" ] && gone=1
out2=$(isct add "$ISC_T2" ib1 2>&1)
rc2=$?
echo "$out2"
out3=$(isct add "$ISC_T2" ib1 2>&1)
echo "$out3"
if [ $rc -eq 0 ] && [ $gone = 1 ] && [ $rc2 -eq 0 ] && echo "$out2" | grep -q 'as lun_1 of' &&
    [ "$(readlink -f "$T/lun/lun_1/ib1")" = "$(backstore_dir ib1)" ] && [ -L "$T/acls/$ISC_INI/lun_1/lun_1" ] &&
    echo "$out3" | grep -q 'already lun_1'; then
    pass iscsi_add_remove
else
    fail iscsi_add_remove "remove rc $rc (gone $gone): $(echo "$out" | oneline); add rc $rc2: $(echo "$out2 $out3" | oneline)"
fi

# node_auth NODE-ARGS...: set our CHAP credentials on a node record.
isc_node_auth() { # isc_node_auth SECRET ISCSIADM-NODE-ARGS...
    local secret=$1 kv
    shift
    for kv in node.session.auth.authmethod=CHAP node.session.auth.username=$ISC_CHAP_USER \
        node.session.auth.password=$secret node.session.auth.username_in=$ISC_MUTUAL_USER \
        node.session.auth.password_in=$ISC_MUTUAL_SECRET; do
        isc -m node "$@" -o update -n "${kv%%=*}" -v "${kv#*=}" || return 1
    done
}

[ -n "$ISCSID_PID" ] || isc_initiator_up
# An initiator name the ACLs do not list (an iface with its own name), right credentials.
out=$(isc -m iface -I stranger -o new 2>&1 &&
    isc -m iface -I stranger -o update -n iface.initiatorname -v "$ISC_STRANGER" 2>&1 &&
    isc -m node -o new -T "$ISC_T2" -p "$ISC_P2" -I stranger 2>&1 &&
    isc_node_auth "$ISC_CHAP_SECRET" -T "$ISC_T2" -p "$ISC_P2" -I stranger 2>&1)
echo "$out"
out=$(isc -m node -T "$ISC_T2" -p "$ISC_P2" -I stranger --login 2>&1)
rc=$?
echo "stranger login: rc $rc: $out"
if [ $rc -ne 0 ] && [ -z "$(isc_host "$ISC_T2")" ] && echo "$out" | grep -qi 'authoriz\|not found\|login failed'; then
    pass iscsi_acl_refused
else
    fail iscsi_acl_refused "login as $ISC_STRANGER: rc $rc: $(echo "$out" | oneline)"
fi
isc -m node -T "$ISC_T2" -p "$ISC_P2" -I stranger --logout >/dev/null 2>&1
isc -m node -o delete -T "$ISC_T2" -p "$ISC_P2" -I stranger >/dev/null 2>&1
isc -m iface -I stranger -o delete >/dev/null 2>&1

out=$(isc -m discovery -t st -p "$ISC_P2" 2>&1)
echo "discovery: $out"
isc -m node -o new -T "$ISC_T2" -p "$ISC_P2" >/dev/null 2>&1
isc_node_auth wrong-secret-4242 -T "$ISC_T2" -p "$ISC_P2"
out=$(isc -m node -T "$ISC_T2" -p "$ISC_P2" --login 2>&1)
rc=$?
echo "wrong secret login: rc $rc: $out"
if [ $rc -ne 0 ] && [ -z "$(isc_host "$ISC_T2")" ]; then
    pass iscsi_chap_refused
else
    fail iscsi_chap_refused "login with a wrong CHAP secret: rc $rc: $(echo "$out" | oneline)"
    isc -m node -T "$ISC_T2" -p "$ISC_P2" --logout >/dev/null 2>&1
fi

isc_node_auth "$ISC_CHAP_SECRET" -T "$ISC_T2" -p "$ISC_P2"
t0=$(date +%s)
out=$(isc -m node -T "$ISC_T2" -p "$ISC_P2" --login 2>&1)
rc=$?
echo "$out"
isc_wait_devices "$ISC_T2" 2
t1=$(date +%s)
echo "iscsi (netns): login and LUN probe took $((t1 - t0)) s"
SR_R=$(isc_sr "$ISC_T2" 0)
SR_B=$(isc_sr "$ISC_T2" 1)
sess=$(isc -m session -P1 2>&1)
echo "$sess"
est=$(nsenter --net="/run/netns/$ISC_NS" ss -Htn state established 'sport = :3260' 2>&1)
echo "established in $ISC_NS: $est"
if [ $rc -eq 0 ] && [ -b "$SR_R" ] && [ -b "$SR_B" ] && echo "$sess" | grep -q 'Iface IPaddress: 10.99.0.1' &&
    echo "$est" | grep -q '10.99.0.2:3260 *10.99.0.1:' && grep -q "^InitiatorName: $ISC_INI" "$T/acls/$ISC_INI/info"; then
    pass iscsi_netns_login
else
    fail iscsi_netns_login "login rc $rc: $(echo "$out" | oneline); devices '$SR_R' '$SR_B'; connection: $(echo "$est" | oneline)"
fi

if [ -b "$SR_R" ]; then
    want=$(sha256sum <"$SMALL" | cut -d' ' -f1)
    sum=$(dev_sha "$SR_R")
    if [ "$sum" = "$want" ] && [ "$(blockdev --getsize64 "$SR_R")" = "$(stat -c %s "$SMALL")" ]; then
        pass iscsi_netns_read
    else
        fail iscsi_netns_read "sha256 $sum (want $want)"
    fi
    # The same drive on tcm_loop and on iSCSI, read through both at once.
    LSR=$(drive_sr ir1)
    dev_sha "$LSR" >"$ISC_DIR/dual-loop.sha" &
    p1=$!
    dev_sha "$SR_R" >"$ISC_DIR/dual-iscsi.sha" &
    p2=$!
    wait $p1 $p2
    if [ -b "$LSR" ] && [ "$LSR" != "$SR_R" ] && [ "$(cat "$ISC_DIR/dual-loop.sha")" = "$want" ] &&
        [ "$(cat "$ISC_DIR/dual-iscsi.sha")" = "$want" ]; then
        pass iscsi_dual_export
    else
        fail iscsi_dual_export "tcm_loop '$LSR': $(cat "$ISC_DIR/dual-loop.sha"), iscsi '$SR_R': $(cat "$ISC_DIR/dual-iscsi.sha"), want $want"
    fi
else
    skip iscsi_netns_read "no device for lun 0"
    skip iscsi_dual_export "no device for lun 0"
fi
if [ -b "$SR_B" ]; then
    isc_burn iscsi_netns_burn "$SR_B" "$IMG/iscsi-blank-1.iso"
else
    skip iscsi_netns_burn "no device for lun 1"
fi

step "iscsi: tear down"
out=$(isc -m node -T "$ISC_T2" -p "$ISC_P2" --logout 2>&1)
rc=$?
echo "$out"
udevadm settle --timeout=30
isc_cleanup
left=
[ -z "$(isc_host "$ISC_T2")" ] || left="$left session;"
for n in ir0 ib0 ir1 ib1 in0; do
    backstore_exists "$n" && left="$left drive $n;"
done
for d in "$TARGET_ROOT"/iscsi/iqn.*; do
    [ -e "$d" ] && left="$left target ${d##*/};"
done
[ -e "/run/netns/$ISC_NS" ] && left="$left netns;"
[ -n "$ISCSID_PID" ] && left="$left iscsid;"
if [ $rc -eq 0 ] && [ -z "$left" ]; then
    pass iscsi_teardown
else
    fail iscsi_teardown "logout rc $rc: $(echo "$out" | oneline); left:$left"
fi
