# shellcheck shell=bash
# Many drives, sourced by guest.sh inside the guest: one daemon serves 16 drives on tcm_loop,
# each on its own thread and behind its own tcm_loop target (I_T nexus), set up and torn down
# four at a time. Four burn a blank DVD+R with growisofs at once while the other twelve read
# their DVD-ROM over and over (dd + sha256); meanwhile a seventeenth drive is attached, read,
# detached and deleted, and no other drive may see a unit attention from it. Every burn and
# every read must come back identical. Every drive made here is removed before returning.
# required: many_attach many_threads many_come_go many_burn many_read many_teardown

MANY_N=16
MANY_BURNERS=4
MANY_DIR=$OUT/many
rm -rf "$MANY_DIR"
mkdir -p "$MANY_DIR"
many_names=()
for ((i = 1; i <= MANY_N; i++)); do many_names+=("$(printf 'm%02d' $i)"); done
small_sha=$(sha256sum <"$SMALL" | cut -d' ' -f1)
uptime_s() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$(uptime_s)" 'BEGIN { printf "%.1f", b - a }'; }

# many_workers VERB: run VERB (setup or teardown) for the drives in 4 concurrent workers, each
# handling every 4th drive in turn (the scripts must cope with concurrent creates, attaches
# and deletes). Per drive: NAME.VERB.rc and NAME.VERB.log.
MANY_WORKERS=4
many_one() { # many_one VERB NAME
    local verb=$1 n=$2 img=$SMALL out rc
    [ -e "$IMG/many-$n.iso" ] && img=$IMG/many-$n.iso
    if [ "$verb" = setup ]; then
        out=$(mmc create "$n" "$img" 2>&1 && mmc attach "$n" 2>&1)
    else
        out=$(mmc delete "$n" 2>&1)
    fi
    rc=$?
    echo "$out" >"$MANY_DIR/$n.$verb.log"
    echo $rc >"$MANY_DIR/$n.$verb.rc"
}
many_workers() {
    local verb=$1 w i pids=()
    for ((w = 0; w < MANY_WORKERS; w++)); do
        (
            for ((i = w; i < MANY_N; i += MANY_WORKERS)); do many_one "$verb" "${many_names[i]}"; done
        ) &
        pids+=($!)
    done
    wait "${pids[@]}"
}
# many_failures VERB: "NAME: output;" for every drive whose VERB failed.
many_failures() {
    local n f=
    for n in "${many_names[@]}"; do
        [ "$(cat "$MANY_DIR/$n.$1.rc" 2>/dev/null)" = 0 ] ||
            f="$f $1 $n: $(oneline <"$MANY_DIR/$n.$1.log" 2>/dev/null);"
    done
    printf '%s' "$f"
}

step "many: create and attach $MANY_N drives"
rm -f "$IMG"/many-m*.iso "$IMG"/many-m*.iso.tcmu-mmc.json
for ((i = 0; i < MANY_BURNERS; i++)); do : >"$IMG/many-${many_names[i]}.iso"; done
t_setup=$(uptime_s)
many_workers setup
cat "$MANY_DIR"/m*.setup.log
cfail=$(many_failures setup)
udevadm settle --timeout=60
echo "many: $MANY_N creates and attaches ($MANY_WORKERS at a time) took $(elapsed "$t_setup") s"
declare -A many_sr=()
srs=
for n in "${many_names[@]}"; do
    many_sr[$n]=$(drive_sr "$n")
    srs="$srs ${many_sr[$n]}"
done
ndev=$(echo "$srs" | tr ' ' '\n' | grep -c '^/dev/sr')
nuniq=$(echo "$srs" | tr ' ' '\n' | grep '^/dev/sr' | sort -u | wc -l)
served=$(mmc list 2>&1 | grep -c '^m[0-9][0-9] .*served')
echo "many: devices$srs; $served served"
if [ -z "$cfail" ] && [ "$ndev" = $MANY_N ] && [ "$nuniq" = $MANY_N ] && [ "$served" = $MANY_N ]; then
    pass many_attach
else
    fail many_attach "$ndev block devices ($nuniq distinct), $served served;$cfail"
fi

# One thread per drive, named after it (drive-<name>).
threads=$(cat /proc/"$DPID"/task/*/comm 2>/dev/null)
missing=
for n in "${many_names[@]}"; do
    echo "$threads" | grep -qx "drive-$n" || missing="$missing $n"
done
echo "many: daemon $DPID has $(echo "$threads" | grep -c .) threads"
if [ -n "$DPID" ] && [ -z "$missing" ]; then
    pass many_threads
else
    fail many_threads "no drive thread for:$missing (threads: $(echo "$threads" | sort | uniq -c | oneline))"
fi

# many_reader NAME SR: read the whole disc until $MANY_DIR/stop exists (at least once, at most
# 300 times); write "passes bad" to NAME.res.
many_reader() {
    local name=$1 sr=$2 n=0 bad=0 sum
    while :; do
        sum=$(timeout 120 dd if="$sr" bs=1M iflag=direct 2>>"$MANY_DIR/$name.err" | sha256sum | cut -d' ' -f1)
        n=$((n + 1))
        if [ "$sum" != "$small_sha" ]; then
            bad=$((bad + 1))
            echo "pass $n at $(uptime_s)s: $sum" >>"$MANY_DIR/$name.bad"
        fi
        [ -e "$MANY_DIR/stop" ] || [ $n -ge 300 ] && break
        sleep 1
    done
    echo "$n $bad" >"$MANY_DIR/$name.res"
}

# The drive that comes and goes during the busy phase: its backstore now (the daemon starts
# serving it), its LUN once the burns have started.
out=$(mmc create mx "$SMALL" 2>&1)
mx_rc=$?
echo "$out"

step "many: $MANY_BURNERS burns and $((MANY_N - MANY_BURNERS)) readers at once"
t_busy=$(uptime_s)
bpids=()
for ((i = 0; i < MANY_BURNERS; i++)); do
    n=${many_names[i]}
    if [ -b "${many_sr[$n]}" ]; then
        (
            timeout 600 growisofs -Z "${many_sr[$n]}=$SMALL" >"$MANY_DIR/$n.burn.log" 2>&1
            echo $? >"$MANY_DIR/$n.burn.rc"
        ) &
        bpids+=($!)
    fi
done

# A drive comes and goes while the others are busy. Each drive has an I_T nexus of its own, so
# no other drive sees a unit attention (REPORTED LUNS DATA HAS CHANGED) from it, which would
# fail a reader's dd (the host takes it for a media change) or a burner's write.
echo "tcmu-mmc-e2e-mark many-come-go" >/dev/kmsg
t_cg=$(uptime_s)
out=$(timeout 300 "${MMC[@]}" attach mx 2>&1)
rc=$?
[ $mx_rc -eq 0 ] || rc=$mx_rc
busy_up=0
for p in "${bpids[@]}"; do kill -0 "$p" 2>/dev/null && busy_up=$((busy_up + 1)); done
echo "$out"
sr=$(drive_sr mx)
t_cg_up=$(elapsed "$t_cg")
# The readers start now: the drive comes while the burns run and goes while everything runs.
rpids=()
for ((i = MANY_BURNERS; i < MANY_N; i++)); do
    n=${many_names[i]}
    if [ -b "${many_sr[$n]}" ]; then
        many_reader "$n" "${many_sr[$n]}" &
        rpids+=($!)
    fi
done
sum=
[ -b "$sr" ] && sum=$(timeout 120 dd if="$sr" bs=1M iflag=direct 2>/dev/null | sha256sum | cut -d' ' -f1)
out2=$(mmc delete mx 2>&1)
rc2=$?
echo "$out2"
busy=0
for p in "${bpids[@]}"; do kill -0 "$p" 2>/dev/null && busy=$((busy + 1)); done
echo "many: come-and-go drive up after $t_cg_up s ($busy_up burns running), gone after $(elapsed "$t_cg") s ($busy burns running)"
sleep 3
ua=$(dmesg | sed -n '/tcmu-mmc-e2e-mark many-come-go/,$p' | grep -c 'LUN assignments on this target have changed')
if [ $rc -eq 0 ] && [ "$sum" = "$small_sha" ] && [ $rc2 -eq 0 ] && ! backstore_exists mx && [ ! -b "$sr" ] &&
    [ "$ua" = 0 ]; then
    pass many_come_go
else
    fail many_come_go "create/attach rc $rc ('$sr'), sha256 '$sum', delete rc $rc2, $ua unit attentions on other drives: $(echo "$out $out2" | oneline)"
fi

# Never a bare `wait`: it would wait for the daemon too.
[ ${#bpids[@]} -eq 0 ] || wait "${bpids[@]}"
echo "many: burns done after $(elapsed "$t_busy") s"
touch "$MANY_DIR/stop"
[ ${#rpids[@]} -eq 0 ] || wait "${rpids[@]}"
echo "many: busy phase took $(elapsed "$t_busy") s"
sleep 3

bfail=
for ((i = 0; i < MANY_BURNERS; i++)); do
    n=${many_names[i]}
    brc=$(cat "$MANY_DIR/$n.burn.rc" 2>/dev/null || echo none)
    if [ "$brc" != 0 ]; then
        bfail="$bfail $n: growisofs rc $brc: $(tail -n2 "$MANY_DIR/$n.burn.log" 2>/dev/null | oneline);"
    elif ! image_is_file_padded "$IMG/many-$n.iso" "$SMALL"; then
        bfail="$bfail $n: image $(stat -c %s "$IMG/many-$n.iso") bytes is not the ISO;"
    elif ! same_prefix "${many_sr[$n]}" "$SMALL"; then
        bfail="$bfail $n: the device does not read back the ISO;"
    fi
done
if [ -z "$bfail" ]; then pass many_burn; else fail many_burn "$bfail"; fi

rfail=
passes=
for ((i = MANY_BURNERS; i < MANY_N; i++)); do
    n=${many_names[i]}
    res=$(cat "$MANY_DIR/$n.res" 2>/dev/null)
    passes="$passes ${res%% *}"
    if [ -z "$res" ] || [ "${res#* }" != 0 ]; then
        rfail="$rfail $n: ${res:-no result} ($(head -n2 "$MANY_DIR/$n.bad" "$MANY_DIR/$n.err" 2>/dev/null | oneline));"
    fi
done
echo "many: read passes per reader:$passes"
if [ -z "$rfail" ]; then pass many_read; else fail many_read "$rfail"; fi

step "many: tear down"
t_down=$(uptime_s)
many_workers teardown
tfail=$(many_failures teardown)
echo "many: $MANY_N deletes ($MANY_WORKERS at a time) took $(elapsed "$t_down") s"
for n in "${many_names[@]}" mx; do
    backstore_exists "$n" && tfail="$tfail $n still exists;"
done
# Every drive had a tcm_loop target of its own; none may be left without its LUN.
for w in "$LOOP_ROOT/$MMC_LOOP_PREFIX"a*; do
    [ -d "$w" ] || continue
    ls -d "$w"/tpgt_1/lun/lun_0 >/dev/null 2>&1 || tfail="$tfail empty tcm_loop target ${w##*/} left;"
done
if [ -n "$DPID" ] && kill -0 "$DPID" 2>/dev/null && [ -z "$tfail" ]; then
    pass many_teardown
else
    fail many_teardown "daemon alive: $(kill -0 "$DPID" 2>/dev/null && echo yes || echo no);$tfail"
fi
