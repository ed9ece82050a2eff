# shellcheck shell=bash
# Rewritable media and packet writing, sourced by guest.sh inside the guest: for DVD+RW,
# DVD-RAM, DVD-RW (restricted overwrite) and CD-RW, prepare the blank disc the way
# Documentation/cdrom/packet-writing.rst says, then pktsetup + mkudffs + a rw UDF mount, copy
# a tree of small files, remount and compare (with -t udf and, as people type it, without),
# restart the daemon and compare again. DVD-RAM and DVD+RW are also used without pktcdvd.
# Every drive made here is removed before returning.
# required: pktcdvd_loaded rw_pdvdplusrw_prepare rw_pdvdplusrw_pktcdvd rw_pdvdplusrw_restart
# required: rw_pdvdram_prepare rw_pdvdram_pktcdvd rw_pdvdram_restart rw_pdvdrw_prepare
# required: rw_pdvdrw_pktcdvd rw_pdvdrw_restart rw_pcdrw_prepare rw_pcdrw_pktcdvd
# required: rw_pcdrw_restart rw_ddvdram_direct rw_ddvdplusrw_direct rw_pdvdplusrw_automount
# required: rw_pdvdplusrw_released rw_pdvdram_automount rw_pdvdram_released rw_pdvdrw_automount
# required: rw_pdvdrw_released rw_pcdrw_automount rw_pcdrw_released rw_ddvdram_direct_automount
# required: rw_ddvdplusrw_direct_automount

# rw_drive runs in $(...), a subshell: every drive name made here is listed in RW_DRIVES.
RW_DRIVES=(pdvdplusrw pdvdram pdvdrw pcdrw ddvdram ddvdplusrw)

# udftools' udev rule would bind pktcdvd to every rewritable disc by itself; the tests here set
# packet devices up explicitly, as the kernel's documentation describes (the desktop sub-suite
# tests the rule).
udftools_rule off

step "pktcdvd module"
if out=$(pktcdvd_load 2>&1); then
    pass pktcdvd_loaded
else
    fail pktcdvd_loaded "insmod $PKT_KO: $(echo "$out" | oneline)"
fi

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
    # As people type it: libblkid's probe finds UDF (it asks the packet device for
    # CDROM_LAST_WRITTEN, see build-pktcdvd.py); then the packet device is let go.
    if udf_compare "rw_${name}_automount" "/dev/pktcdvd/$name"; then
        out=$(bounded 30 pktsetup -d "$name" 2>&1) ||
            fail "rw_${name}_released" "pktsetup -d: $(echo "$out" | oneline)"
        [ -e "/dev/pktcdvd/$name" ] && fail "rw_${name}_released" "/dev/pktcdvd/$name still there"
        [ -e "/dev/pktcdvd/$name" ] || pass "rw_${name}_released"
    else
        pktsetup -d "$name"
    fi
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
    udf_round_trip "rw_${name}_direct" "$sr" "$media" && udf_compare "rw_${name}_direct_automount" "$sr"
done

step "rewritable: tear down"
for name in "${RW_DRIVES[@]}"; do
    mmc delete "$name"
done
