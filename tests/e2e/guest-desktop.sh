# shellcheck shell=bash
# Packet writing as a desktop does it, sourced by guest.sh inside the guest: udftools' own udev
# rule (80-pktsetup.rules, which the rewritable sub-suite masks) active. For DVD-RAM, DVD+RW,
# DVD-RW (restricted overwrite) and CD-RW: a formatted disc put in the drive gets a
# /dev/pktcdvd node by itself; mkudffs on it, a copy through a mount without -t, then mounts
# without -t and with -t udf compare every checksum; `eject` takes the node away, closing the
# tray gives it back and the files are still there; a second disc gets a node again; deleting
# the drive with its node bound takes the node away too. Every drive made here is removed.
# required: desk_rule_active desk_dram_node desk_dram_udf desk_dram_udf_typed desk_dram_eject
# required: desk_dram_again desk_dram_second desk_dplusrw_node desk_dplusrw_udf
# required: desk_dplusrw_udf_typed desk_dplusrw_eject desk_dplusrw_again desk_dminusrw_node
# required: desk_dminusrw_udf desk_dminusrw_udf_typed desk_dminusrw_eject desk_dminusrw_again
# required: desk_cdrw_node desk_cdrw_udf desk_cdrw_udf_typed desk_cdrw_eject desk_cdrw_again
# required: desk_delete_with_node

# pkt_node SR: the /dev/pktcdvd node bound to SR (none: nothing printed)
pkt_node() {
    local mm name
    mm=$(stat -L -c '%t:%T' "$1" 2>/dev/null) || return 0
    mm=$((16#${mm%:*})):$((16#${mm#*:}))
    # device_map: "NAME PKT_MAJ:PKT_MIN DEV_MAJ:DEV_MIN" per packet device
    name=$(awk -v mm="$mm" '$3 == mm { print $1 }' /sys/class/pktcdvd/device_map 2>/dev/null)
    [ -n "$name" ] && [ -b "/dev/pktcdvd/$name" ] && echo "/dev/pktcdvd/$name"
}
# wait_node SR present|absent: within 40 s (udev polls the drive every 2 s); prints the node
wait_node() {
    local i node
    for i in $(seq 1 80); do
        udevadm settle --timeout=10
        node=$(pkt_node "$1")
        if [ "$2" = present ] && [ -n "$node" ]; then echo "$node" && return 0; fi
        [ "$2" = absent ] && [ -z "$node" ] && return 0
        sleep 0.5
    done
    echo "after 40 s: '$(pkt_node "$1")'; device_map: $(oneline </sys/class/pktcdvd/device_map)"
    return 1
}
desk_why() { # desk_why SR: what udev knows of SR, for a failure message (details to the log)
    echo "--- desk_why $1: udev properties, then cdrom_id now" >&2
    udevadm info --query=property --name="$1" >&2
    /lib/udev/cdrom_id --debug "$1" >&2
    udevadm info --query=property --name="$1" 2>/dev/null | grep -E 'ID_CDROM_MEDIA|DISK_' | oneline
}

step "desktop: udftools' udev rule"
udevadm monitor --udev --kernel --property --subsystem-match=block >"$OUT/udev-monitor.log" 2>&1 &
MONITOR=$!
pktcdvd_load
udftools_rule on
# udev reads the rule for a drive: a change event of d0 (a DVD-ROM) would run its remove part.
rule=$(udevadm test --action=change "/sys/class/block/$(basename "$(drive_sr d0)")" 2>&1 | grep -c 'pktsetup -i')
if [ -f /lib/udev/rules.d/80-pktsetup.rules ] && [ ! -e /etc/udev/rules.d/80-pktsetup.rules ] && [ "$rule" -gt 0 ]; then
    pass desk_rule_active
else
    fail desk_rule_active "udev does not apply 80-pktsetup.rules ($rule lines)"
fi

# desktop_disc KEY TYPE MEDIA_TYPE CAPACITY FORMAT...: one rewritable type as a desktop uses it
desktop_disc() {
    local key=$1 type=$2 media=$3 cap=$4 name=desk$1 sr node out rc
    shift 4
    step "desktop $type: formatted, then put in the drive"
    # The disc is formatted first (the rule would bind the blank one while it is being
    # formatted), then taken out and put back: inserting a formatted disc.
    udftools_rule off
    sr=$(rw_drive "$name" "$type" "$cap") || { fail "desk_${key}_node" "no drive"; return; }
    if [ $# -gt 0 ]; then
        out=$(timeout 300 "$@" "$sr" 2>&1) || { fail "desk_${key}_node" "$* failed: $(echo "$out" | tail -n2 | oneline)"; return; }
    fi
    timeout 60 eject "$sr"
    udftools_rule on
    timeout 60 eject -t "$sr"
    if ! node=$(wait_node "$sr" present); then
        fail "desk_${key}_node" "$node; $sr: $(desk_why "$sr")"
        return
    fi
    pass "desk_${key}_node"
    echo "$type: $sr bound to $node by udev"
    out=$(udf_mkfs "$node" "$media" && udf_fill "$node") || { fail "desk_${key}_udf" "$(echo "$out" | tail -n3 | oneline)"; return; }
    udf_compare "desk_${key}_udf" "$node" || return
    udf_compare "desk_${key}_udf_typed" "$node" udf
    step "desktop $type: eject, close the tray"
    out=$(bounded 60 eject "$sr" 2>&1)
    rc=$?
    if out2=$(wait_node "$sr" absent) && [ $rc -eq 0 ]; then
        pass "desk_${key}_eject"
    else
        fail "desk_${key}_eject" "eject rc $rc: $(echo "$out" | oneline); $out2; $sr: $(desk_why "$sr")"
    fi
    bounded 60 eject -t "$sr"
    if node=$(wait_node "$sr" present); then
        udf_compare "desk_${key}_again" "$node"
    else
        fail "desk_${key}_again" "$node; $sr: $(desk_why "$sr")"
    fi
}

desktop_disc dram dvd-ram dvdram 32768
step "desktop DVD-RAM: a second disc in the same drive"
sr=$(drive_sr deskdram)
second=$IMG/desk-dram-2.img
rm -f "$second" "$second.tcmu-mmc.json"
"$BIN" disc create --type dvd-ram --capacity 32768 "$second" >/dev/null
mmc load deskdram "$second"
if node=$(wait_node "$sr" present) && out=$(udf_mkfs "$node" dvdram && udf_fill "$node"); then
    udf_compare desk_dram_second "$node"
else
    fail desk_dram_second "$node $out; $sr: $(desk_why "$sr")"
fi
desktop_disc dplusrw dvd+rw dvdrw 32768 dvd+rw-format
desktop_disc dminusrw dvd-rw dvdrw 32768 dvd+rw-format -force
desktop_disc cdrw cd-rw cdrw "" cdrwtool -q -d

step "desktop: delete a drive whose disc has a node"
sr=$(drive_sr deskdram)
node=$(pkt_node "$sr")
out=$(bounded 60 mmc delete deskdram 2>&1)
rc=$?
if [ -n "$node" ] && [ $rc -eq 0 ] && out2=$(wait_node "$sr" absent); then
    pass desk_delete_with_node
else
    fail desk_delete_with_node "node '$node', delete rc $rc: $(echo "$out" | oneline); $out2"
fi

step "desktop: tear down"
for name in deskdplusrw deskdminusrw deskcdrw; do
    mmc delete "$name"
done
udftools_rule off
kill "$MONITOR"
