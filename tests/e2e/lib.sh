# shellcheck shell=bash
# Host-side helpers for the real-kernel tests: dependencies, the guest kernel, test images
# and booting a QEMU guest with virtme-ng. Sourced by tests/e2e/run.sh,
# tests/bench/kernel.sh and configfs-scripts/demo.
#
# Environment (optional):
#   E2E_WORK        work dir shared writable into the guest (default $REPO/target/e2e)
#   E2E_KERNEL      guest kernel image (default: newest /boot/vmlinuz-6.1*-amd64)
#   E2E_KVM         1 / 0 to force KVM on / off (default: probe once per host boot)
#   E2E_BOOT_TIMEOUT  seconds for one guest boot (default 3000)
#   E2E_NO_INSTALL  1 to never call apt-get / pip (fail instead)

E2E_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$E2E_LIB_DIR/../.." && pwd)
E2E_WORK=${E2E_WORK:-$REPO/target/e2e}
E2E_VENV=$REPO/target/vng-venv
# The daemon the guest runs: a private copy of the release build in the work dir, so a
# rebuild on the host (another run, an editor) never swaps the binary under a running guest.
E2E_BIN=$E2E_WORK/bin/tcmu-mmc
E2E_BOOT_TIMEOUT=${E2E_BOOT_TIMEOUT:-3000}
# vCPUs per guest. One: under TCG each vCPU is a host thread, and the guests boot side by side
# on a small host; two vCPUs each overcommit it, and a vCPU spinning on a lock whose holder's
# thread is descheduled burns the core the other guest needs.
E2E_CPUS=${E2E_CPUS:-1}

# Debian packages the host (and so the guest, which shares the host's root) needs.
E2E_DEB_PACKAGES=(qemu-system-x86 linux-image-amd64 busybox-static sg3-utils xorriso
    genisoimage udftools eject python3-venv fio kmod udev coreutils util-linux
    growisofs wodim make gcc linux-source-6.1 xz-utils python3 dbus targetcli-fb
    open-iscsi iproute2 dmsetup e2fsprogs strace tcmu-runner cdrskin dvd+rw-tools)

e2e_log() { printf '[e2e %(%H:%M:%S)T] %s\n' -1 "$*" >&2; }
e2e_die() {
    printf '[e2e] error: %s\n' "$*" >&2
    exit 1
}

# ---------------------------------------------------------------- dependencies

_apt_updated=0
_apt_install() {
    [ "${E2E_NO_INSTALL:-0}" = 1 ] && e2e_die "missing packages: $* (E2E_NO_INSTALL=1)"
    [ "$(id -u)" -eq 0 ] || e2e_die "missing packages: $* (run as root, or install them)"
    if [ $_apt_updated = 0 ]; then
        e2e_log "apt-get update"
        apt-get update -qq >&2 || e2e_die "apt-get update failed"
        _apt_updated=1
    fi
    e2e_log "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2 ||
        e2e_die "apt-get install $* failed"
}

e2e_install_debs() {
    local missing=() p st
    for p in "${E2E_DEB_PACKAGES[@]}"; do
        st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
        [ "$st" = "install ok installed" ] || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        _apt_install "${missing[@]}"
    fi
}

e2e_install_vng() {
    if [ -x "$E2E_VENV/bin/vng" ] && "$E2E_VENV/bin/vng" --version >/dev/null 2>&1; then
        return 0
    fi
    [ "${E2E_NO_INSTALL:-0}" = 1 ] && e2e_die "virtme-ng missing in $E2E_VENV (E2E_NO_INSTALL=1)"
    e2e_log "installing virtme-ng into $E2E_VENV"
    rm -rf "$E2E_VENV"
    python3 -m venv "$E2E_VENV" >&2 || e2e_die "python3 -m venv failed (python3-venv installed?)"
    "$E2E_VENV/bin/pip" install -q --disable-pip-version-check virtme-ng >&2 ||
        e2e_die "pip install virtme-ng failed"
}

e2e_install_deps() {
    e2e_install_debs
    e2e_install_vng
}

# ---------------------------------------------------------------- kernel and accelerator

# Newest installed Debian 6.1 kernel image.
e2e_kernel() {
    if [ -n "${E2E_KERNEL:-}" ]; then
        printf '%s' "$E2E_KERNEL"
        return
    fi
    local k
    k=$(printf '%s\n' /boot/vmlinuz-6.1*-amd64 | grep -v '\*' | sort -V | tail -n1)
    [ -n "$k" ] || e2e_die "no /boot/vmlinuz-6.1*-amd64 (install linux-image-amd64)"
    [ -d "/lib/modules/${k#/boot/vmlinuz-}" ] || e2e_die "no /lib/modules for $k"
    printf '%s' "$k"
}

# 0 if KVM works. A present /dev/kvm is not enough (nested KVM can hang), so boot the
# guest kernel without a root fs under KVM and wait for its panic. Cached per host boot.
e2e_kvm_usable() {
    case ${E2E_KVM:-} in
        1) return 0 ;;
        0) return 1 ;;
    esac
    [ -r /dev/kvm ] && [ -w /dev/kvm ] || return 1
    local cache=$E2E_WORK/.kvm-probe boot_id res
    boot_id=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo none)
    if [ -r "$cache" ] && [ "$(head -n1 "$cache")" = "$boot_id" ]; then
        res=$(sed -n 2p "$cache")
    else
        mkdir -p "$E2E_WORK"
        e2e_log "probing KVM (up to 10 s)"
        if timeout 10 qemu-system-x86_64 -accel kvm -m 256 -nographic -no-reboot \
            -kernel "$(e2e_kernel)" -append "console=ttyS0 panic=-1" </dev/null 2>&1 |
            grep -q 'Kernel panic'; then
            res=yes
        else
            res=no
        fi
        printf '%s\n%s\n' "$boot_id" "$res" >"$cache"
    fi
    [ "$res" = yes ]
}

# ---------------------------------------------------------------- pktcdvd

# Build pktcdvd.ko for the guest kernel into $E2E_WORK/pkt (Debian's 6.1 does not ship it):
# the driver from linux-source-6.1, made buildable and fixed by build-pktcdvd.py.
e2e_build_pktcdvd() {
    local kernel ver dir=$E2E_WORK/pkt
    kernel=$(e2e_kernel)
    ver=${kernel#/boot/vmlinuz-}
    if [ ! -d "/lib/modules/$ver/build" ]; then
        _apt_install "linux-headers-$ver" || return 1
    fi
    if [ -s "$dir/pktcdvd.ko" ] && [ "$(cat "$dir/built-for" 2>/dev/null)" = "$ver $(sha256sum <"$E2E_LIB_DIR/build-pktcdvd.py")" ]; then
        return 0
    fi
    e2e_log "building pktcdvd.ko for $ver"
    local src
    src=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | sed -n 1p)
    [ -n "$src" ] || { e2e_log "no /usr/src/linux-source-6.1.tar.*"; return 1; }
    rm -rf "$dir"
    mkdir -p "$dir"
    tar -xf "$src" -C "$dir" --strip-components=3 --wildcards '*/drivers/block/pktcdvd.c' || return 1
    python3 "$E2E_LIB_DIR/build-pktcdvd.py" "$dir/pktcdvd.c" || return 1
    printf 'obj-m += pktcdvd.o\nccflags-y += -DCONFIG_CDROM_PKTCDVD_BUFFERS=8\n' >"$dir/Makefile"
    make -C "/lib/modules/$ver/build" M="$dir" modules >"$dir/build.log" 2>&1 || {
        tail -n 20 "$dir/build.log" >&2
        return 1
    }
    echo "$ver $(sha256sum <"$E2E_LIB_DIR/build-pktcdvd.py")" >"$dir/built-for"
}

# ---------------------------------------------------------------- build

e2e_build() {
    e2e_log "cargo build --release"
    (cd "$REPO" && cargo build --release) >&2 || return 1
    mkdir -p "$E2E_WORK/bin"
    cp "$REPO/target/release/tcmu-mmc" "$E2E_BIN.new" && mv "$E2E_BIN.new" "$E2E_BIN" || return 1
    [ -x "$E2E_BIN" ] || {
        e2e_log "no $E2E_BIN after build"
        return 1
    }
}

# ---------------------------------------------------------------- images

# Small ISO with a tree of files and their sha256 list:
#   $E2E_WORK/img/small.iso, small.sha256 (paths relative to the disc root)
e2e_make_small_iso() {
    local img=$E2E_WORK/img tree
    mkdir -p "$img"
    if [ -s "$img/small.iso" ] && [ -s "$img/small.sha256" ]; then
        return 0
    fi
    e2e_log "making small test ISO"
    tree=$img/small-tree
    rm -rf "$tree"
    mkdir -p "$tree/docs/deep/deeper" "$tree/bin" "$tree/empty-dir"
    echo "hello from tcmu-mmc" >"$tree/README.TXT"
    : >"$tree/zero-length.txt"
    head -c 2048 /dev/urandom >"$tree/one-block.bin"
    head -c 2049 /dev/urandom >"$tree/one-block-plus-one.bin"
    head -c 1000000 /dev/urandom >"$tree/bin/one-megabyte.bin"
    head -c 3000000 /dev/urandom >"$tree/bin/three-megabytes.bin"
    seq 1 20000 >"$tree/docs/numbers.txt"
    local i
    for i in 1 2 3 4 5 6 7 8; do
        head -c $((i * 3000 + 17)) /dev/urandom >"$tree/docs/deep/file$i.dat"
    done
    printf 'deep\n' >"$tree/docs/deep/deeper/leaf.txt"
    (cd "$tree" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$img/small.sha256.tmp"
    xorriso -as mkisofs -quiet -R -J -V TCMU_MMC_TEST -o "$img/small.iso.tmp" "$tree" >&2 ||
        e2e_die "xorriso failed"
    mv "$img/small.iso.tmp" "$img/small.iso"
    mv "$img/small.sha256.tmp" "$img/small.sha256"
    rm -rf "$tree"
}

# A tree of many small files (a few MB each kind of medium copies through UDF):
#   $E2E_WORK/img/udf-tree and udf-tree.sha256 (paths relative to the tree).
E2E_UDF_MB=${E2E_UDF_MB:-20}
e2e_make_udf_tree() {
    local img=$E2E_WORK/img tree
    tree=$img/udf-tree
    if [ -s "$img/udf-tree.sha256" ] && [ "$(cat "$img/udf-tree.mb" 2>/dev/null)" = "$E2E_UDF_MB" ]; then
        return 0
    fi
    e2e_log "making a ${E2E_UDF_MB} MB tree of small files"
    rm -rf "$tree"
    mkdir -p "$tree"
    local i d total=0 limit=$((E2E_UDF_MB * 1024 * 1024)) size
    for ((i = 0; total < limit; i++)); do
        d=$tree/dir$((i % 10))/sub$((i % 3))
        mkdir -p "$d"
        size=$(((i * 7919) % 60000 + 100))
        head -c "$size" /dev/urandom >"$d/file$i.bin"
        total=$((total + size))
    done
    (cd "$tree" && find . -type f -print0 | sort -z | xargs -0 sha256sum) >"$img/udf-tree.sha256"
    echo "$E2E_UDF_MB" >"$img/udf-tree.mb"
}

# ~200 MB ISO holding one big file: $E2E_WORK/img/big.iso and big.iso.sha256 (whole image).
E2E_BIG_MB=${E2E_BIG_MB:-200}
e2e_make_big_iso() {
    local img=$E2E_WORK/img
    mkdir -p "$img"
    if [ -s "$img/big.iso" ] && [ -s "$img/big.iso.sha256" ] &&
        [ "$(cat "$img/big.iso.mb" 2>/dev/null)" = "$E2E_BIG_MB" ]; then
        return 0
    fi
    e2e_log "making ${E2E_BIG_MB} MB test ISO"
    rm -rf "$img/big-tree"
    mkdir -p "$img/big-tree"
    head -c $((E2E_BIG_MB * 1024 * 1024 - 1024 * 1024)) /dev/urandom >"$img/big-tree/big.bin"
    xorriso -as mkisofs -quiet -R -V TCMU_MMC_BIG -o "$img/big.iso.tmp" "$img/big-tree" >&2 ||
        e2e_die "xorriso failed"
    rm -rf "$img/big-tree"
    mv "$img/big.iso.tmp" "$img/big.iso"
    sha256sum <"$img/big.iso" | cut -d' ' -f1 >"$img/big.iso.sha256"
    echo "$E2E_BIG_MB" >"$img/big.iso.mb"
}

# ---------------------------------------------------------------- guest

# shellcheck disable=SC2034 # E2E_ACCEL / E2E_BOOT_SECONDS are for the callers
# e2e_boot [--interactive] COMMAND: boot the guest kernel once, run COMMAND as root in it.
# With --interactive, COMMAND runs on the guest console (a terminal) and the guest powers off
# when it exits.
# Without --interactive, vng's output goes to E2E_VNG_LOG (default $E2E_WORK/out/vng.log).
# Prints the boot time to stderr. Returns vng's exit status (124 on timeout).
e2e_boot() {
    local interactive=0
    if [ "${1:-}" = --interactive ]; then
        interactive=1
        shift
    fi
    local cmd=${1:-} kernel accel=() rc t0 t1
    kernel=$(e2e_kernel)
    if e2e_kvm_usable; then
        e2e_log "KVM usable: booting $kernel with KVM"
        E2E_ACCEL=kvm
    else
        e2e_log "KVM not usable: booting $kernel under TCG (--disable-kvm)"
        accel=(--disable-kvm)
        E2E_ACCEL=tcg
    fi
    mkdir -p "$E2E_WORK/out"
    t0=$(date +%s.%N)
    rc=0
    if [ $interactive = 1 ]; then
        # --exec gives the command no tty; run it as the guest's login shell instead, which
        # gets the console as its controlling terminal.
        local shell=$E2E_WORK/.interactive-shell
        printf '#!/bin/bash\n%s\n' "${cmd:-exec /bin/bash -i}" >"$shell"
        chmod +x "$shell"
        PATH=$E2E_VENV/bin:$PATH vng --run "$kernel" "${accel[@]}" --force-9p --cpus "$E2E_CPUS" \
            --memory 2G --rwdir="$E2E_WORK" --shell "$shell" || rc=$?
    else
        PATH=$E2E_VENV/bin:$PATH timeout --kill-after=10 "$E2E_BOOT_TIMEOUT" \
            vng --run "$kernel" "${accel[@]}" --force-9p --cpus "$E2E_CPUS" --memory 2G \
            --rwdir="$E2E_WORK" --exec "$cmd" </dev/null >"${E2E_VNG_LOG:-$E2E_WORK/out/vng.log}" 2>&1 ||
            rc=$?
    fi
    t1=$(date +%s.%N)
    E2E_BOOT_SECONDS=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
    e2e_log "guest finished after ${E2E_BOOT_SECONDS}s (vng exit $rc)"
    return $rc
}
