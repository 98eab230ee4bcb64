#!/usr/bin/env bash
# Container start benchmark: `run --rm IMAGE /bin/true` with the image present, hivelet against its
# peers, side by side in the same run.
#
#   sudo bench/run.sh              30 interleaved rounds of every contender
#   ROUNDS=50 sudo bench/run.sh    more rounds
#   DOCKER=0 bench/run.sh          leave Docker out even when dockerd is installed
#   HIVELET_BASE_BIN=OLD bench/run.sh  also measure another hivelet binary (e.g. the previous commit's)
#                                  as contender hivelet-base, in its own root, in the same rounds
#
# Image: hivelet/busybox (artifacts/fixtures/busybox-amd64-oci.tar, ./build.sh fixtures busybox;
# built here when missing): static busybox and its applet links. Every contender runs the same
# busybox binary; the bundle rootfs of runc and the floor's chroot hold the same files as the image.
# Contenders (wall time of the whole command, from bash's EPOCHREALTIME, one at a time):
#   hivelet      hivelet --root R run --rm hivelet/busybox /bin/true   (network none: hivelet's default);
#                after the warm-up round this command line has a run template, so native/fastrun.c
#                replays it without starting the .NET runtime (CONTRACT.md "Run templates")
#   hivelet-managed  the same command with HIVELET_FASTRUN=0: the managed CLI every time, which is what
#                the first run of a command line costs
#   hivelet-raw  hivelet __run PLAN: the native child path alone, no CLI, no monitor, no cgroup, no seccomp;
#                the plan (written below) has hivelet's namespaces and Docker's default mounts, devices,
#                masked paths and capabilities
#   hivelet-base the same command with HIVELET_BASE_BIN (only when set), in a root of its own
#   runc         runc run --bundle B ID on `runc spec`'s config with hivelet's namespaces (mnt, uts, ipc,
#                pid, net with no interfaces but lo, cgroup), the same rootfs, cgroupfs driver
#   docker       docker run --rm --network none hivelet-bench/busybox /bin/true, on a throwaway dockerd
#                of this script's own (only when dockerd is installed; DOCKER=0 leaves it out); an engine
#                already answering `docker info` is used instead
#   floor        unshare -fpmiun chroot ROOTFS /bin/true
# Prints a markdown table (median, min, max, ratio to the floor) and the issue's targets: hivelet within
# 1.5x of the floor, at least 3x faster than runc. Needs root. Removes everything it created.
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
ROUNDS=${ROUNDS:-30}
HIVELET=${HIVELET_BIN:-$REPO/artifacts/linux-x64/hivelet}
IMAGE_TAR=${BUSYBOX_OCI:-$REPO/artifacts/fixtures/busybox-amd64-oci.tar}
BUSYBOX=${BUSYBOX_BIN:-$REPO/artifacts/peers/busybox-amd64/bin/busybox}
DOCKER=${DOCKER:-1}
HIVELET_BASE=${HIVELET_BASE_BIN:-}
STEP_TIMEOUT=${STEP_TIMEOUT:-60} # seconds any one measured command may take
IMAGE=hivelet/busybox:latest
DOCKER_IMAGE=hivelet-bench/busybox:latest

WORK=
# shellcheck source=bench/docker-engine.sh
. "$REPO/bench/docker-engine.sh"
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"


cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $WORK ]]; then
        stop_watchdog
        # Containers first (their monitors, mounts and cgroups), then the engine, then the files.
        local ids=()
        mapfile -t ids < <(timeout 30 "$HIVELET" --root "$WORK/root" ps -aq 2>/dev/null)
        ((${#ids[@]} == 0)) || timeout 60 "$HIVELET" --root "$WORK/root" rm -f "${ids[@]}" >/dev/null 2>&1 || true
        if [[ -n $HIVELET_BASE && -d $WORK/root-base ]]; then
            mapfile -t ids < <(timeout 30 "$HIVELET_BASE" --root "$WORK/root-base" ps -aq 2>/dev/null)
            ((${#ids[@]} == 0)) || timeout 60 "$HIVELET_BASE" --root "$WORK/root-base" rm -f "${ids[@]}" >/dev/null 2>&1 || true
        fi
        docker_engine_stop
        remove_tree "$WORK"
    fi
    exit "$rc"
}

# --- setup ------------------------------------------------------------------------------------

check_prereqs() {
    [[ $EUID -eq 0 ]] || die "run as root (namespaces, mounts, cgroups)"
    if ! [[ $ROUNDS =~ ^[0-9]+$ ]] || ((ROUNDS < 1 || ROUNDS > 500)); then
        die "ROUNDS must be 1..500 (got '$ROUNDS')"
    fi
    local need=()
    command -v runc >/dev/null || need+=(runc)
    command -v jq >/dev/null || need+=(jq)
    if ((${#need[@]})); then
        log "apt-get install ${need[*]}"
        apt-get -o DPkg::Lock::Timeout=600 update -q
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${need[@]}"
    fi
    [[ -x $HIVELET ]] || {
        log "building hivelet"
        "$REPO/build.sh"
    }
    [[ -f $IMAGE_TAR && -x $BUSYBOX ]] || {
        log "building the busybox fixture image"
        "$REPO/build.sh" fixtures busybox
    }
}

# The chroot/bundle rootfs: the image's files (busybox, its applets, passwd, group, tmp).
make_rootfs() {
    local dir=$1 applet
    mkdir -p "$dir"/{bin,etc,tmp,root,proc,sys,dev}
    chmod 1777 "$dir/tmp"
    chmod 0700 "$dir/root"
    cp "$BUSYBOX" "$dir/bin/busybox"
    for applet in sh true sleep cat; do
        ln -s busybox "$dir/bin/$applet"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\n' >"$dir/etc/passwd"
    printf 'root:x:0:\n' >"$dir/etc/group"
}

setup_hivelet() {
    timeout "$STEP_TIMEOUT" "$HIVELET" --root "$WORK/root" load -q -i "$IMAGE_TAR" >/dev/null
    if ! timeout 30 "$HIVELET" --help 2>&1 | grep -Eq '^ +run( |$)'; then
        log "hivelet: this build has no run verb; its column is pending"
        return 1
    fi
}

# A plan (native/CONTRACT.md) for `hivelet __run`: hivelet's namespaces, Docker's default mounts,
# devices, masked and read-only paths and capabilities (research/runtime.md), the shared rootfs
# bound in; no cgroup and no seccomp filter (both come from the managed side).
write_plan() {
    local plan=$1 bundle=$WORK/plan-bundle us=$'\x1f' id
    mkdir -p "$bundle/rootfs"
    id=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
    {
        printf '%s\0' version=1 "id=$id" "exe=$HIVELET" "root=$WORK/root" "bundle=$bundle" "run_dir=$bundle" \
            "rootfs=$bundle/rootfs" "rootfs_mount=bind$us$WORK/rootfs$us" \
            ns=mnt ns=uts ns=ipc ns=pid ns=net ns=cgroup hostname=bench net_lo=1
        # TYPE SOURCE DEST FLAGS(hex MS_*) DATA KIND
        printf 'mount=%s\0' \
            "proc${us}proc$us/proc${us}e$us${us}dir" \
            "tmpfs${us}tmpfs$us/dev${us}1000002${us}mode=755,size=65536k${us}dir" \
            "devpts${us}devpts$us/dev/pts${us}a${us}newinstance,ptmxmode=0666,mode=0620,gid=5${us}dir" \
            "sysfs${us}sysfs$us/sys${us}f$us${us}dir" \
            "mqueue${us}mqueue$us/dev/mqueue${us}e$us${us}dir" \
            "tmpfs${us}shm$us/dev/shm${us}e${us}mode=1777,size=65536k${us}dir"
        printf 'device=%s\0' "/dev/null${us}c${us}1${us}3${us}666${us}0${us}0" \
            "/dev/zero${us}c${us}1${us}5${us}666${us}0${us}0" "/dev/full${us}c${us}1${us}7${us}666${us}0${us}0" \
            "/dev/random${us}c${us}1${us}8${us}666${us}0${us}0" "/dev/urandom${us}c${us}1${us}9${us}666${us}0${us}0" \
            "/dev/tty${us}c${us}5${us}0${us}666${us}0${us}0"
        printf 'symlink=%s\0' "/proc/self/fd$us/dev/fd" "/dev/pts/ptmx$us/dev/ptmx"
        printf 'masked=%s\0' /proc/asound /proc/acpi /proc/kcore /proc/keys /proc/latency_stats /proc/timer_list \
            /proc/timer_stats /proc/sched_debug /proc/scsi /sys/firmware
        printf 'readonly=%s\0' /proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger
        printf '%s\0' uid=0 gid=0 groups= cap_bounding=a80425fb cap_effective=a80425fb cap_permitted=a80425fb \
            cap_inheritable=0 cap_ambient=0 cwd=/ arg=/bin/true env=PATH=/bin
    } >"$plan"
}

setup_runc() {
    local bundle=$WORK/runc-bundle
    mkdir -p "$bundle"
    (cd "$bundle" && runc spec)
    # hivelet's namespaces (runc spec has no cgroup namespace), /bin/true, no terminal, writable root
    # like Docker's; the network namespace gets no interface but lo, as with --network none.
    jq --arg rootfs "$WORK/rootfs" '.process.terminal = false | .process.args = ["/bin/true"]
        | .root = {"path": $rootfs, "readonly": false}
        | .hostname = "bench"
        | .linux.namespaces = [{"type":"pid"},{"type":"network"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"cgroup"}]' \
        "$bundle/config.json" >"$bundle/config.json.tmp"
    mv "$bundle/config.json.tmp" "$bundle/config.json"
}

setup_docker() {
    ((DOCKER)) || return 1
    docker_engine_start "$WORK/docker" || return 1
    tar -C "$WORK/rootfs" -c . | timeout "$STEP_TIMEOUT" "${DOCKER_CMD[@]}" import - "$DOCKER_IMAGE" >/dev/null
}

# --- measuring --------------------------------------------------------------------------------

ROUND_ID=0
contender_cmd() {
    ROUND_ID=$((ROUND_ID + 1))
    case $1 in
        hivelet) CMD=("$HIVELET" --root "$WORK/root" run --rm "$IMAGE" /bin/true) ;;
        hivelet-managed) CMD=(env HIVELET_FASTRUN=0 "$HIVELET" --root "$WORK/root" run --rm "$IMAGE" /bin/true) ;;
        hivelet-raw) CMD=("$HIVELET" __run "$WORK/plan") ;;
        hivelet-base) CMD=("$HIVELET_BASE" --root "$WORK/root-base" run --rm "$IMAGE" /bin/true) ;;
        runc) CMD=(runc run --bundle "$WORK/runc-bundle" "hivelet-bench-$$-$ROUND_ID") ;;
        docker) CMD=("${DOCKER_CMD[@]}" run --rm --network none "$DOCKER_IMAGE" /bin/true) ;;
        floor) CMD=(unshare -fpmiun chroot "$WORK/rootfs" /bin/true) ;;
        *) die "unknown contender $1" ;;
    esac
}

# Bounds every measured command without a process inside the measured window (a `timeout`
# wrapper is a fork and two execs, about as much as the floor itself on a small machine): one
# watchdog, started once, is told the deadline and the shell whose child the command is, and
# SIGKILLs that shell's children once the deadline has passed. It waits with bash's read -t, so it
# forks nothing while idle.
WATCH_FD= WATCH_PID=
start_watchdog() {
    mkfifo "$WORK/watchdog"
    (
        exec 3<>"$WORK/watchdog"
        deadline=0 parent=
        while :; do
            if read -r -t 1 cmd arg1 arg2 <&3; then
                case $cmd in
                    arm) deadline=$arg1 parent=$arg2 ;;
                    disarm) deadline=0 ;;
                    quit) exit 0 ;;
                esac
            fi
            if ((deadline > 0 && EPOCHSECONDS > deadline)); then
                printf 'run.sh: a measured command ran longer than %ss: killed\n' "$STEP_TIMEOUT" >&2
                pkill -KILL -P "$parent" || true
                deadline=0
            fi
        done
    ) &
    WATCH_PID=$!
    exec {WATCH_FD}>"$WORK/watchdog"
}

stop_watchdog() {
    [[ -n $WATCH_FD ]] || return 0
    echo quit >&"$WATCH_FD" 2>/dev/null || true
    exec {WATCH_FD}>&-
    WATCH_FD=
    wait "$WATCH_PID" 2>/dev/null || true
}

# Runs one contender once; prints its wall time in microseconds.
measure() {
    local name=$1 start end rc=0
    contender_cmd "$name"
    echo "arm $((EPOCHSECONDS + STEP_TIMEOUT)) $BASHPID" >&"$WATCH_FD"
    start=${EPOCHREALTIME/./}
    "${CMD[@]}" </dev/null >"$WORK/out" 2>&1 || rc=$?
    end=${EPOCHREALTIME/./}
    echo disarm >&"$WATCH_FD"
    if ((rc != 0)); then
        printf 'run.sh: %s failed (exit %d): %s\n' "$name" "$rc" "${CMD[*]}" >&2
        tail -n 20 "$WORK/out" >&2
        return 1
    fi
    echo $((end - start))
}

# stats FILE -> "median min max" (numeric, one value a line).
stats() {
    sort -n "$1" | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "- - -"; exit }
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            print m, v[1], v[NR]
        }'
}

print_table() {
    local name floor med min max
    read -r floor _ < <(stats "$WORK/results/floor")
    printf '\n| contender | median ms | min ms | max ms | median / floor |\n|---|---:|---:|---:|---:|\n'
    for name in "$@"; do
        read -r med min max < <(stats "$WORK/results/$name")
        awk -v n="$name" -v a="$med" -v b="$min" -v c="$max" -v f="$floor" 'BEGIN {
            printf "| %s | %.1f | %.1f | %.1f | %.2f |\n", n, a / 1000, b / 1000, c / 1000, a / f }'
    done
}

print_verdicts() {
    local h floor runc
    read -r floor _ < <(stats "$WORK/results/floor")
    read -r runc _ < <(stats "$WORK/results/runc")
    printf '\nTargets:\n'
    if [[ -s $WORK/results/hivelet ]]; then
        read -r h _ < <(stats "$WORK/results/hivelet")
        awk -v h="$h" -v f="$floor" -v r="$runc" 'BEGIN {
            printf "- hivelet run --rm within 1.5x of the floor: %s (%.1f ms vs %.1f ms, %.2fx)\n", (h <= 1.5 * f) ? "MET" : "MISSED", h / 1000, f / 1000, h / f
            printf "- at least 3x faster than runc: %s (runc %.1f ms / hivelet %.1f ms = %.2fx)\n", (r >= 3 * h) ? "MET" : "MISSED", r / 1000, h / 1000, r / h }'
    else
        printf -- '- hivelet run --rm: pending (this build has no run verb)\n'
    fi
    if [[ -s $WORK/results/hivelet-raw ]]; then
        read -r h _ < <(stats "$WORK/results/hivelet-raw")
        awk -v h="$h" -v f="$floor" -v r="$runc" 'BEGIN {
            printf "- for reference, hivelet __run (native path only): %.2fx the floor, runc / it = %.2fx\n", h / f, r / h }'
    fi
}

# --- main -------------------------------------------------------------------------------------

main() {
    check_prereqs
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    WORK=$(mktemp -d /tmp/hivelet-bench-run.XXXXXX)
    mkdir -p "$WORK/results" "$WORK/root"
    start_watchdog
    make_rootfs "$WORK/rootfs"

    local contenders=()
    setup_hivelet && contenders+=(hivelet hivelet-managed)
    if [[ -n $HIVELET_BASE ]]; then
        [[ -x $HIVELET_BASE ]] || die "HIVELET_BASE_BIN $HIVELET_BASE is not an executable"
        mkdir -p "$WORK/root-base"
        timeout "$STEP_TIMEOUT" "$HIVELET_BASE" --root "$WORK/root-base" load -q -i "$IMAGE_TAR" >/dev/null
        contenders+=(hivelet-base)
    fi
    write_plan "$WORK/plan"
    contenders+=(hivelet-raw)
    setup_runc
    contenders+=(runc)
    setup_docker && contenders+=(docker)
    contenders+=(floor)

    # One warm-up round (page cache, first-run costs), not counted.
    local name round k n=${#contenders[@]} us
    for name in "${contenders[@]}"; do
        (measure "$name") >/dev/null || die "warm-up: $name failed" # a subshell, as below: the watchdog kills its children
    done
    for ((round = 1; round <= ROUNDS; round++)); do
        # Interleaved and rotated: no contender always goes first or follows the same one.
        for ((k = 0; k < n; k++)); do
            name=${contenders[(k + round - 1) % n]}
            us=$(measure "$name") || die "round $round: $name failed"
            echo "$us" >>"$WORK/results/$name"
        done
        ((round % 10 == 0)) && log "round $round/$ROUNDS"
    done

    printf '\n%s, %s rounds (interleaved, after one warm-up round), load average %s\n' \
        "$(date -u '+%Y-%m-%d %H:%M UTC')" "$ROUNDS" "$(cut -d' ' -f1-3 /proc/loadavg)"
    print_table "${contenders[@]}"
    [[ " ${contenders[*]} " == *" hivelet "* ]] || printf '| hivelet | pending (no run verb in this build) | | | |\n'
    [[ " ${contenders[*]} " == *" docker "* ]] || printf '| docker | not available | | | |\n'
    print_verdicts
}

main "$@"
