# shellcheck shell=bash
# tgt's README.mmc examples to the letter, sourced by guest.sh inside the guest: after a burn,
# `rm -rf disc.iso; touch disc.iso` gives a new blank disc, on a new LUN (example 1) and by a
# live swap (example 3); a stale state never overrides `;type=`. Every drive made here is
# removed before returning.
# required: seed_burn_first seed_new_lun_blank seed_new_lun_burn seed_swap_blank
# required: seed_swap_burn seed_stale_type_cdrw seed_stale_set_aside

SEED=$IMG/seed-empty-disk.iso
SEED2=$IMG/seed-empty-disk2.iso
rm -f "$SEED" "$SEED2" "$SEED".tcmu-mmc.json* "$SEED2".tcmu-mmc.json*

seed_drive() { # seed_drive NAME IMAGE [OPTIONS]: create + attach, print the block device
    mmc create "$1" "$2" ${3:+"$3"} >/dev/null 2>&1 && mmc attach "$1" >/dev/null 2>&1 &&
        udevadm settle --timeout=30 && drive_sr "$1"
}
seed_delete() { mmc detach "$1" >/dev/null 2>&1; mmc delete "$1" >/dev/null 2>&1; }
# disc_status NAME: the disc status of READ DISC INFORMATION (what dvd+rw-mediainfo prints
# as "Disc status"): blank, appendable, complete or other.
disc_status() {
    local b
    b=$(sg_raw -r 34 "$(drive_sg "$1")" 51 00 00 00 00 00 00 00 22 00 2>&1 |
        awk '/^ *00 /{print $4; exit}')
    [ -n "$b" ] || { echo none; return; }
    case $((0x$b & 3)) in 0) echo blank ;; 1) echo appendable ;; 2) echo complete ;; *) echo other ;; esac
}
# burn_reads_back DEV: growisofs -Z of the small ISO, read back identical.
burn_reads_back() { timeout 300 growisofs -Z "$1=$SMALL" >"$OUT/seed-burn.log" 2>&1 && same_prefix "$1" "$SMALL"; }

step "seed example 1 after a burn: rm + touch, a new LUN"
touch "$SEED"
sr=$(seed_drive s1 "$SEED")
if [ -n "$sr" ] && burn_reads_back "$sr" && [ "$(disc_status s1)" = appendable ]; then
    pass seed_burn_first
else
    fail seed_burn_first "dev '$sr': $(tail -n2 "$OUT/seed-burn.log" | oneline)"
fi
seed_delete s1
rm -rf "$SEED"
touch "$SEED"
sr=$(seed_drive s1 "$SEED")
st=$(disc_status s1)
check seed_new_lun_blank "disc status '$st' ($("$BIN" disc info "$SEED" 2>&1 | oneline))" [ "$st" = blank ]
check seed_new_lun_burn "$(tail -n2 "$OUT/seed-burn.log" | oneline)" burn_reads_back "$sr"

step "seed example 3 after a burn: rm + touch, a live swap"
touch "$SEED2"
mmc load s1 "$SEED2" >/dev/null 2>&1
sleep 3
rm -rf "$SEED"
touch "$SEED"
mmc load s1 "$SEED" >/dev/null 2>&1
sleep 3
st=$(disc_status s1)
check seed_swap_blank "disc status '$st'" [ "$st" = blank ]
check seed_swap_burn "$(tail -n2 "$OUT/seed-burn.log" | oneline)" burn_reads_back "$sr"
seed_delete s1

step "a stale state does not override ;type=cd-rw"
rm -rf "$SEED"
touch "$SEED"
sr=$(seed_drive s2 "$SEED" "type=cd-rw")
profile=$(current_profile "$(drive_sg s2)")
check seed_stale_type_cdrw "profile '$profile'" [ "$profile" = 000a ]
aside=$(ls "$SEED".tcmu-mmc.json.stale-* 2>/dev/null | head -n1)
if [ -n "$aside" ] && grep -q "set aside as $aside" "$DLOG"; then
    pass seed_stale_set_aside
else
    fail seed_stale_set_aside "set aside: '$aside'; log: $(grep -i stale "$DLOG" | tail -n2 | oneline)"
fi
seed_delete s2
rm -f "$SEED" "$SEED2" "$SEED".tcmu-mmc.json* "$SEED2".tcmu-mmc.json*
