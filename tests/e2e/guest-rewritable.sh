# shellcheck shell=bash
# Rewritable media and packet writing, sourced by guest.sh inside the guest: for DVD+RW,
# DVD-RAM, DVD-RW (restricted overwrite) and CD-RW, prepare the blank disc the way
# Documentation/cdrom/packet-writing.rst says, then pktsetup + mkudffs + a rw UDF mount, copy
# a tree of small files, remount and compare, restart the daemon and compare again. DVD-RAM
# and DVD+RW are also used without pktcdvd. Every drive made here is removed before returning.
# required: pktcdvd_loaded rw_pdvdplusrw_prepare rw_pdvdplusrw_pktcdvd rw_pdvdplusrw_restart
# required: rw_pdvdram_prepare rw_pdvdram_pktcdvd rw_pdvdram_restart rw_pdvdrw_prepare
# required: rw_pdvdrw_pktcdvd rw_pdvdrw_restart rw_pcdrw_prepare rw_pcdrw_pktcdvd
# required: rw_pcdrw_restart rw_ddvdram_direct rw_ddvdplusrw_direct

PKT_KO=$WORK/pkt/pktcdvd.ko
TREE=$IMG/udf-tree
SUMS=$IMG/udf-tree.sha256
# rw_drive runs in $(...), a subshell: every drive name made here is listed in RW_DRIVES.
RW_DRIVES=(pdvdplusrw pdvdram pdvdrw pcdrw ddvdram ddvdplusrw)

# udftools' udev rule would bind pktcdvd to every rewritable disc by itself; the tests set
# packet devices up explicitly, as the seed describes.
mkdir -p /etc/udev/rules.d
: >/etc/udev/rules.d/80-pktsetup.rules
udevadm control --reload 2>/dev/null

step "pktcdvd module"
modprobe cdrom
modprobe udf
if [ -e /sys/class/pktcdvd ] || out=$(insmod "$PKT_KO" 2>&1); then
    pass pktcdvd_loaded
else
    fail pktcdvd_loaded "insmod $PKT_KO: $(echo "$out" | oneline)"
fi

rw_drive() { # rw_drive NAME TYPE [CAPACITY]: a fresh blank disc of TYPE, attached
    local name=$1 type=$2 img=$IMG/rw-$1.img out
    rm -f "$img" "$img.tcmu-mmc.json"
    out=$("$BIN" disc create --type "$type" ${3:+--capacity "$3"} "$img" 2>&1 &&
        mmc create "$name" "$img" 2>&1 && mmc attach "$name" 2>&1) || {
        echo "rw_drive $name: $out" >&2
        return 1
    }
    udevadm settle --timeout=30
    drive_sr "$name"
}

# udf_round_trip SCENARIO DEV MEDIA_TYPE: mkudffs, rw mount, copy, umount, mount, compare.
udf_round_trip() {
    local scen=$1 dev=$2 media=$3 out rc mnt=$MNT try
    # udev probes a new block device (blkid opens it); mkudffs wants it exclusively.
    for try in 1 2 3 4 5; do
        udevadm settle --timeout=60
        out=$(timeout 300 mkudffs --media-type="$media" "$dev" 2>&1)
        rc=$?
        echo "$out" | grep -q 'Device is mounted or mkudffs is already running' || break
        echo "mkudffs: $dev busy (try $try)"
        sleep 2
    done
    [ $rc -eq 0 ] || { fail "$scen" "mkudffs rc $rc: $(echo "$out" | tail -n2 | oneline)"; return 1; }
    out=$(timeout 60 mount -t udf -o rw,noatime "$dev" "$mnt" 2>&1) ||
        { fail "$scen" "rw mount: $(echo "$out" | oneline)"; return 1; }
    out=$(timeout 900 cp -r "$TREE/." "$mnt/" 2>&1)
    rc=$?
    timeout 900 umount "$mnt" || { fail "$scen" "umount after copy failed"; return 1; }
    [ $rc -eq 0 ] || { fail "$scen" "cp rc $rc: $(echo "$out" | head -n3 | oneline)"; return 1; }
    udf_compare "$scen" "$dev"
}

udf_compare() { # udf_compare SCENARIO DEV: mount read-only and check every checksum
    local scen=$1 dev=$2 out rc
    out=$(timeout 60 mount -t udf -o ro "$dev" "$MNT" 2>&1) ||
        { fail "$scen" "mount: $(echo "$out" | oneline)"; return 1; }
    out=$(cd "$MNT" && timeout 300 sha256sum --quiet -c "$SUMS" 2>&1)
    rc=$?
    umount "$MNT"
    if [ $rc -eq 0 ]; then
        pass "$scen"
    else
        fail "$scen" "checksums: $(echo "$out" | head -n3 | oneline)"
        return 1
    fi
}

# packet_writing NAME TYPE MEDIA_TYPE PREPARE...: the pktcdvd scenarios for one medium
packet_writing() {
    local name=$1 type=$2 media=$3 sr out rc
    shift 3
    step "$type: prepare, pktsetup, mkudffs, copy"
    sr=$(rw_drive "$name" "$type" "$RW_CAPACITY") || { fail "rw_${name}_prepare" "no drive"; return; }
    if [ $# -gt 0 ]; then
        out=$(timeout 300 "$@" "$sr" 2>&1)
        rc=$?
        echo "$out"
        check "rw_${name}_prepare" "$* rc $rc: $(echo "$out" | tail -n2 | oneline)" [ $rc -eq 0 ]
    else
        pass "rw_${name}_prepare"
    fi
    out=$(pktsetup "$name" "$sr" 2>&1)
    rc=$?
    if [ $rc -ne 0 ] || [ ! -b "/dev/pktcdvd/$name" ]; then
        fail "rw_${name}_pktcdvd" "pktsetup rc $rc: $(echo "$out" | oneline)"
        return
    fi
    udf_round_trip "rw_${name}_pktcdvd" "/dev/pktcdvd/$name" "$media"
    pktsetup -d "$name"
    step "$type: after a daemon restart"
    if restart_daemon "$name" && pktsetup "$name" "$sr"; then
        udf_compare "rw_${name}_restart" "/dev/pktcdvd/$name"
        pktsetup -d "$name"
    else
        fail "rw_${name}_restart" "daemon restart or pktsetup failed: $(tail -n3 "$DLOG" | oneline)"
    fi
}

# The DVDs are made small (512 MiB) to keep formatting and mkudffs quick under emulation.
RW_CAPACITY=262144
packet_writing pdvdplusrw dvd+rw dvdrw dvd+rw-format
packet_writing pdvdram dvd-ram dvdram
packet_writing pdvdrw dvd-rw dvdrw dvd+rw-format -force
RW_CAPACITY=
packet_writing pcdrw cd-rw cdrw cdrwtool -q -d

step "DVD-RAM and DVD+RW without pktcdvd"
for v in ddvdram:dvd-ram:dvdram ddvdplusrw:dvd+rw:dvdrw; do
    IFS=: read -r name type media <<<"$v"
    sr=$(rw_drive "$name" "$type" 262144) || { fail "rw_${name}_direct" "no drive"; continue; }
    if [ "$type" = dvd+rw ]; then
        timeout 300 dvd+rw-format "$sr" >/dev/null 2>&1 || { fail "rw_${name}_direct" "dvd+rw-format"; continue; }
    fi
    udf_round_trip "rw_${name}_direct" "$sr" "$media"
done

step "rewritable: tear down"
for name in "${RW_DRIVES[@]}"; do
    mmc delete "$name"
done
