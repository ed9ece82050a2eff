# shellcheck shell=bash
# Shared helpers for the tcmu-mmc configfs scripts (mmc-drive, demo, ...).
#
# Source this file from a bash script that runs with `set -euo pipefail`.
# Everything here works on the running kernel's LIO configfs tree:
#
#   /sys/kernel/config/target/core/user_<N>/<NAME>    TCMU backstore (one drive, its own HBA)
#   /sys/kernel/config/target/loopback/<naa>/tpgt_1   tcm_loop fabric: one target (its own SCSI
#                                                     host and I_T nexus) per attached drive
#   /sys/kernel/config/target/iscsi/<iqn>/tpgt_1      iSCSI target (configfs-scripts/iscsi-target)
#
# Environment (all optional):
#   TCMU_MMC_RUN_DIR       daemon run dir holding tcmu-mmc.pid (default /run/tcmu-mmc)
#   MMC_ATTACH_TIMEOUT     seconds `attach` waits for the daemon to open the uio (15)
#   MMC_BLANK_DEV_SIZE     dev_size for an empty (0-byte) image file (DVD+R SL size)
#   MMC_MAX_DATA_AREA_MB   TCMU data area of a drive in MiB (8; the kernel's default is 1024)
#   MMC_CMD_RING_MB        TCMU command ring of a drive in MiB (1; the kernel's default is 8)
#   MMC_LOOP_PREFIX        WWN prefix of the per-drive tcm_loop targets (naa.5001405c0f): the
#                          target is <prefix>a<5 hex digits>, its initiator <prefix>b<same>
#   MMC_LOOP_WWN           shared tcm_loop target WWN, for loop_ensure_tpg (naa.5001405c0ffee001)
#   MMC_LOOP_NEXUS         its initiator (nexus) WWN (naa.5001405c0ffee002)

CFS_ROOT=${CFS_ROOT:-/sys/kernel/config}
TARGET_ROOT=$CFS_ROOT/target
CORE_ROOT=$TARGET_ROOT/core
# Every drive has an HBA of its own, core/user_<N>/<NAME>, the layout rtslib (targetcli)
# uses for user backstores: targetcli deletes a storage object's HBA along with it, so drives
# sharing one HBA would break its clearconfig.
# The subtype tcmu-mmc claims in dev_config ("mmc/<path>").
MMC_SUBTYPE=mmc
# shellcheck disable=SC2034 # used by the scripts that source this file
MMC_BLOCK_SIZE=2048
# DVD+R single layer: 2,295,104 blocks of 2048 bytes. Used as dev_size for a blank (0-byte)
# image so that a later write-capable daemon has a sane capacity; the kernel itself accepts
# any dev_size, including 0 (it is only reported in `info` and passed to the handler).
MMC_BLANK_DEV_SIZE=${MMC_BLANK_DEV_SIZE:-4700372992}
# The kernel allocates a drive's command ring up front and its data area as commands use it,
# and both are mapped into the daemon, so they bound the memory a drive costs. 8 MiB of data
# area holds several of the largest requests a host sends (max_sectors_kb is 1280 by
# default) and any queue depth of small ones; 1 MiB of ring holds thousands of entries.
MMC_MAX_DATA_AREA_MB=${MMC_MAX_DATA_AREA_MB:-8}
MMC_CMD_RING_MB=${MMC_CMD_RING_MB:-1}
MMC_ATTACH_TIMEOUT=${MMC_ATTACH_TIMEOUT:-15}
TCMU_MMC_RUN_DIR=${TCMU_MMC_RUN_DIR:-/run/tcmu-mmc}

LOOP_ROOT=$TARGET_ROOT/loopback
MMC_LOOP_WWN=${MMC_LOOP_WWN:-naa.5001405c0ffee001}
MMC_LOOP_NEXUS=${MMC_LOOP_NEXUS:-naa.5001405c0ffee002}
MMC_LOOP_TPG=$LOOP_ROOT/$MMC_LOOP_WWN/tpgt_1
# Every attached drive gets a tcm_loop target of its own: LIO raises REPORTED LUNS DATA HAS
# CHANGED (06/3F/0E) on every other LUN of an I_T nexus when a LUN comes or goes, which the
# host takes for a media change on each of them (revalidation, udev's cdrom_id and blkid) and a
# burner mid-write gets as an error. One LUN per nexus keeps drives out of each other's way.
MMC_LOOP_PREFIX=${MMC_LOOP_PREFIX:-naa.5001405c0f}

PROG=${PROG:-${0##*/}}

# ---------------------------------------------------------------- messages

msg() { printf '%s: %s\n' "$PROG" "$*"; }
warn() { printf '%s: warning: %s\n' "$PROG" "$*" >&2; }
die() {
    printf '%s: error: %s\n' "$PROG" "$*" >&2
    exit 1
}

# ---------------------------------------------------------------- prerequisites

need_root() {
    [ "$(id -u)" -eq 0 ] || die "must run as root (configfs writes need CAP_SYS_ADMIN)"
}

# Mount configfs at $CFS_ROOT if it is not mounted yet.
ensure_configfs() {
    if mountpoint -q "$CFS_ROOT" 2>/dev/null; then
        return 0
    fi
    if ! grep -qw configfs /proc/filesystems; then
        modprobe configfs 2>/dev/null || true
    fi
    grep -qw configfs /proc/filesystems ||
        die "this kernel has no configfs (CONFIG_CONFIGFS_FS); LIO cannot be configured"
    [ -d "$CFS_ROOT" ] ||
        die "$CFS_ROOT does not exist (sysfs not mounted, or no configfs support)"
    mount -t configfs none "$CFS_ROOT" 2>/dev/null ||
        die "configfs is not mounted at $CFS_ROOT and mounting it failed (try: mount -t configfs none $CFS_ROOT)"
    msg "mounted configfs at $CFS_ROOT"
}

# ensure_module MODULE DESCRIPTION
ensure_module() {
    local mod=$1 what=$2 out
    if [ -d "/sys/module/$mod" ]; then
        return 0
    fi
    if ! out=$(modprobe "$mod" 2>&1); then
        die "kernel module $mod ($what) is missing or failed to load: ${out:-modprobe failed}"
    fi
}

# Everything needed to create TCMU backstores.
ensure_core() {
    need_root
    ensure_configfs
    ensure_module target_core_mod "LIO target core"
    ensure_module target_core_user "TCMU, CONFIG_TCM_USER2"
    [ -d "$CORE_ROOT" ] || die "$CORE_ROOT missing although target_core_mod is loaded"
}

# Everything needed for the tcm_loop fabric as well.
ensure_loop() {
    ensure_core
    ensure_module tcm_loop "LIO loopback fabric, CONFIG_LOOPBACK_TARGET"
    # sr/sg are what the user wants to see; failing to load them is not fatal for configfs.
    modprobe sr_mod 2>/dev/null || warn "could not load sr_mod: no /dev/srN will appear"
    modprobe sg 2>/dev/null || true
    [ -d "$LOOP_ROOT" ] || mkdir "$LOOP_ROOT" 2>/dev/null ||
        die "cannot create $LOOP_ROOT (tcm_loop not registered?)"
}

# ---------------------------------------------------------------- names and values

valid_name() {
    case $1 in
        '' | . | .. | *[!A-Za-z0-9._-]*) return 1 ;;
    esac
    [ ${#1} -le 64 ]
}

check_name() {
    valid_name "$1" || die "invalid drive name '$1' (use letters, digits, '.', '_', '-'; at most 64)"
}

# Canonical dev_config for an image path (absolute, or empty for an empty tray).
# An absolute path gives "mmc//abs/path", the form targetcli writes.
dev_config_for() {
    printf '%s/%s' "$MMC_SUBTYPE" "$1"
}

# Absolute path of an image argument; the file itself may be missing (empty tray).
abs_image_path() {
    local p=$1
    case $p in
        /*) ;;
        *) p=$PWD/$p ;;
    esac
    # Normalise ./ and ../ without requiring the file to exist.
    realpath -m -- "$p"
}

check_image_path() {
    local p=$1
    case $p in
        *,* | *$'\n'*) die "image path '$p' contains ',' or a newline, which the kernel's control parser cannot carry" ;;
    esac
    case $p in
        *:* | *' '*) warn "image path '$p' contains ':' or a space; targetcli/rtslib cannot save/restore such a config" ;;
    esac
    local cfg
    cfg=$(dev_config_for "$p")
    [ ${#cfg} -le 255 ] || die "dev_config '$cfg' is longer than 255 characters"
}

# dev_size in bytes for an image path.
dev_size_for() {
    local p=$1 size
    if [ -z "$p" ] || [ ! -e "$p" ]; then
        echo 0
        return
    fi
    size=$(stat -L -c %s -- "$p")
    if [ "$size" -eq 0 ]; then
        echo "$MMC_BLANK_DEV_SIZE"
    else
        echo "$size"
    fi
}

# ---------------------------------------------------------------- backstores

# The configfs directory of drive NAME (any core/user_<N>/NAME), or empty if there is none.
backstore_dir() {
    local d
    for d in "$CORE_ROOT"/user_*/"$1"; do
        [ -e "$d/control" ] && printf '%s' "$d" && return 0
    done
    return 0
}

# A directory for a new drive NAME on a fresh HBA (the lowest free user_<N>). The HBA
# directory is made here: mkdir is atomic, so concurrent creates never share an HBA.
new_backstore_dir() {
    local n=0
    until mkdir "$CORE_ROOT/user_$n" 2>/dev/null; do
        n=$((n + 1))
        [ $n -lt 100000 ] || return 1
    done
    printf '%s/user_%s/%s' "$CORE_ROOT" "$n" "$1"
}

backstore_exists() { [ -d "$(backstore_dir "$1")" ]; }

backstore_enabled() {
    local e
    e=$(cat "$(backstore_dir "$1")/enable" 2>/dev/null || echo 0)
    [ "$e" = 1 ]
}

# Current dev_config of a backstore ("" if none).
backstore_config() {
    local d
    d=$(backstore_dir "$1")
    if [ -r "$d/attrib/dev_config" ]; then
        tr -d '\n' <"$d/attrib/dev_config"
        return
    fi
    sed -n 's/.*Config: \([^ ]*\).*/\1/p' "$d/info" | sed 's/^NULL$//'
}

backstore_size() {
    sed -n 's/.* Size: \([0-9]*\).*/\1/p' "$(backstore_dir "$1")/info" | head -n1
}

# Names of all tcmu-mmc drives (user backstores whose dev_config is "mmc/...").
backstore_names() {
    local d cfg
    for d in "$CORE_ROOT"/user_*/*/; do
        d=${d%/}
        [ -e "$d/control" ] || continue
        cfg=$(tr -d '\n' <"$d/attrib/dev_config" 2>/dev/null || true)
        case $cfg in "$MMC_SUBTYPE"/*) printf '%s\n' "${d##*/}" ;; esac
    done
}

# /dev/uioN of a backstore, or empty. The uio name is tcm-user/<hba>/<name>[/<config>].
backstore_uio() {
    local name=$1 d hba u n
    d=$(backstore_dir "$name")
    [ -n "$d" ] || return 0
    hba=${d%/*}
    hba=${hba##*/user_}
    for u in /sys/class/uio/uio*; do
        [ -e "$u/name" ] || continue
        n=
        { read -r n <"$u/name"; } 2>/dev/null || true
        case $n in
            "tcm-user/$hba/$name" | "tcm-user/$hba/$name/"*)
                printf '/dev/%s' "${u##*/}"
                return 0
                ;;
        esac
    done
    return 0
}

# ---------------------------------------------------------------- daemon

# Pid of the running daemon from its pid file, or empty.
daemon_pid() {
    local f=$TCMU_MMC_RUN_DIR/tcmu-mmc.pid pid
    [ -r "$f" ] || return 0
    pid=$(tr -dc 0-9 <"$f")
    [ -n "$pid" ] || return 0
    [ -d "/proc/$pid" ] || return 0
    # Guard against a stale pid file whose pid was reused.
    case "$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" in
        *tcmu-mmc*) printf '%s' "$pid" ;;
    esac
}

# daemon_holds PID /dev/uioN: true if that process has the node open.
daemon_holds() {
    local pid=$1 node=$2
    # One find rather than a readlink per descriptor: the daemon holds a few per drive.
    [ -n "$(find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 -lname "$node" -print -quit 2>/dev/null)" ]
}

# Wait until the daemon holds the backstore's uio open. Dies with a clear message on timeout.
wait_daemon_attached() {
    local name=$1 timeout=${2:-$MMC_ATTACH_TIMEOUT} uio pid deadline
    deadline=$(($(date +%s) + timeout))
    while :; do
        uio=$(backstore_uio "$name")
        pid=$(daemon_pid)
        if [ -n "$uio" ] && [ -n "$pid" ] && daemon_holds "$pid" "$uio"; then
            return 0
        fi
        if [ "$(date +%s)" -ge "$deadline" ]; then
            break
        fi
        sleep 0.2
    done
    [ -n "$uio" ] || die "backstore $name has no uio device (is it enabled?)"
    if [ -z "$pid" ]; then
        die "daemon not running: no live tcmu-mmc pid in $TCMU_MMC_RUN_DIR/tcmu-mmc.pid after ${timeout}s (start tcmu-mmc, or set TCMU_MMC_RUN_DIR)"
    fi
    die "daemon not attached: tcmu-mmc (pid $pid) has not opened $uio ($(cat "/sys/class/${uio#/dev/}/name" 2>/dev/null)) after ${timeout}s; see its log"
}

# ---------------------------------------------------------------- tcm_loop fabric

# A backstore's path below $TARGET_ROOT ("core/user_N/NAME"), or empty: what the fabric LUN
# symlinks to it end with (configfs shows them as relative paths).
backstore_rel() {
    local d
    d=$(backstore_dir "$1")
    [ -n "$d" ] && printf '%s' "${d#"$TARGET_ROOT"/}"
    return 0
}

# The tcm_loop LUN directory (…/<naa>/tpgt_1/lun/lun_N) that exports backstore NAME, or
# empty. Only mmc-drive's targets count: the per-drive ones and the shared MMC_LOOP_WWN.
loop_lun_of() {
    local rel roots=() w
    rel=$(backstore_rel "$1")
    [ -n "$rel" ] || return 0
    for w in "$LOOP_ROOT/$MMC_LOOP_PREFIX"a* "$LOOP_ROOT/$MMC_LOOP_WWN"; do
        [ -d "$w" ] && roots+=("$w")
    done
    [ ${#roots[@]} -gt 0 ] || return 0
    # One find instead of a readlink per LUN: attach and list stay fast with many drives.
    find "${roots[@]}" -mindepth 4 -maxdepth 4 -type l -path '*/tpgt_*/lun/lun_*/*' \
        -lname "*/$rel" -printf '%h\n' -quit 2>/dev/null
    return 0
}

# Every fabric LUN directory (any fabric, any target: tcm_loop, iscsi, ...) that links
# backstore NAME, one per line, e.g. …/target/iscsi/<iqn>/tpgt_1/lun/lun_0.
fabric_luns_of() {
    local rel roots=() f
    rel=$(backstore_rel "$1")
    [ -n "$rel" ] || return 0
    for f in "$TARGET_ROOT"/*/; do
        f=${f%/}
        [ "$f" = "$CORE_ROOT" ] || roots+=("$f")
    done
    [ ${#roots[@]} -gt 0 ] || return 0
    find "${roots[@]}" -mindepth 5 -maxdepth 5 -type l -path '*/tpgt_*/lun/lun_*/*' \
        -lname "*/$rel" -printf '%h\n' 2>/dev/null | sort -u
    return 0
}

# Make a tcm_loop target of its own for one drive (target <prefix>a<k>, TPG 1, nexus
# <prefix>b<k>, the lowest free k) and set LOOP_NEW_TPG to its TPG directory. Creating the
# target directory is atomic, so concurrent attaches never share one.
loop_new_tpg() {
    local k=0 wwn
    while :; do
        printf -v wwn '%sa%05x' "$MMC_LOOP_PREFIX" "$k"
        if [ ! -e "$LOOP_ROOT/$wwn" ] && mkdir "$LOOP_ROOT/$wwn" 2>/dev/null; then
            break
        fi
        k=$((k + 1))
        [ $k -le 1048575 ] || die "no free tcm_loop target name under $MMC_LOOP_PREFIX"
    done
    LOOP_NEW_TPG=$LOOP_ROOT/$wwn/tpgt_1
    if ! mkdir "$LOOP_NEW_TPG" 2>/dev/null ||
        ! printf '%sb%05x' "$MMC_LOOP_PREFIX" "$k" >"$LOOP_NEW_TPG/nexus" 2>/dev/null; then
        loop_drop_tpg "$LOOP_NEW_TPG"
        die "cannot set up tcm_loop target $wwn (see dmesg)"
    fi
}

# Remove a tcm_loop TPG's nexus, the TPG and its target once no LUN is left in it.
loop_drop_tpg() {
    local tpg=$1 l
    [ -d "$tpg" ] || return 0
    for l in "$tpg"/lun/lun_*; do
        [ -e "$l" ] && return 0
    done
    echo NULL >"$tpg/nexus" 2>/dev/null || true
    rmdir "$tpg" 2>/dev/null || true
    rmdir "${tpg%/*}" 2>/dev/null || true
}

# Lowest free LUN number on the tcm_loop TPG.
loop_free_lun() {
    local n=0
    while [ -e "$MMC_LOOP_TPG/lun/lun_$n" ]; do
        n=$((n + 1))
    done
    printf '%s' "$n"
}

# Create the tcm_loop target, TPG and nexus if needed.
loop_ensure_tpg() {
    [ -d "$MMC_LOOP_TPG" ] || mkdir -p "$MMC_LOOP_TPG"
    local nexus
    nexus=$(cat "$MMC_LOOP_TPG/nexus" 2>/dev/null || true)
    if [ -z "$nexus" ] || [ "$nexus" = "NULL" ]; then
        echo "$MMC_LOOP_NEXUS" >"$MMC_LOOP_TPG/nexus"
    fi
}

# Remove the shared target's nexus, TPG and target when no LUN is left.
loop_maybe_teardown() { loop_drop_tpg "$MMC_LOOP_TPG"; }

# SCSI address "H:C:T:L" of a tcm_loop LUN directory, or empty.
loop_scsi_addr() {
    local lundir=$1 addr='' lun
    # The LUN's TPG's "address" file: "host:0:tpgt".
    { read -r addr <"${lundir%/lun/lun_*}/address"; } 2>/dev/null || true
    [ -n "$addr" ] || return 0
    lun=${lundir##*/lun_}
    printf '%s:%s' "$addr" "$lun"
}

# /dev/srN (or /dev/sdX, whatever block device) of a SCSI address, or empty.
scsi_block_dev() {
    local addr=$1 b
    for b in /sys/bus/scsi/devices/"$addr"/block/*; do
        [ -e "$b" ] && printf '/dev/%s' "${b##*/}" && return 0
    done
    return 0
}

scsi_generic_dev() {
    local addr=$1 g
    for g in /sys/bus/scsi/devices/"$addr"/scsi_generic/*; do
        [ -e "$g" ] && printf '/dev/%s' "${g##*/}" && return 0
    done
    return 0
}

settle() {
    if command -v udevadm >/dev/null 2>&1; then
        udevadm settle --timeout=20 2>/dev/null || true
    fi
}
