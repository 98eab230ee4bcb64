#!/usr/bin/env bash
# Memory of hivelet's own processes per running container.
#
#   sudo bench/memory.sh             100 `sleep` containers
#   COUNT=20 sudo bench/memory.sh    fewer
#   DOCKER=0 bench/memory.sh         leave Docker out even when dockerd is installed
#
# Starts COUNT containers with `hivelet --root R run -d hivelet/busybox sleep 3600` (image:
# artifacts/fixtures/busybox-amd64-oci.tar), then sums, over every process whose executable is the
# hivelet binary (the per-container monitors; the containers themselves run busybox, and no CLI is
# running while we read), Rss and Pss from /proc/PID/smaps_rollup, and reports them per container.
# Pss splits each shared page between the processes mapping it, so the sum of Pss is what those
# processes really cost together; Rss counts the shared binary pages once per process; private pages
# (USS) are each monitor's alone.
# With Docker (a running engine, or a throwaway dockerd of our own; DOCKER=0 leaves it out) one
# `docker run -d --network none` sleep container is started and its containerd-shim measured the same
# way. Target: at most 2 MB per container. Removes every container, mount and file it created.
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
COUNT=${COUNT:-100}
HIVELET=${HIVELET_BIN:-$REPO/artifacts/linux-x64/hivelet}
IMAGE_TAR=${BUSYBOX_OCI:-$REPO/artifacts/fixtures/busybox-amd64-oci.tar}
DOCKER=${DOCKER:-1}
IMAGE=hivelet/busybox:latest
DOCKER_IMAGE=hivelet-bench/busybox:latest

WORK=
# shellcheck source=bench/docker-engine.sh
. "$REPO/bench/docker-engine.sh"
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"


hv() { timeout 120 "$HIVELET" --root "$WORK/root" "$@"; }

cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $WORK ]]; then
        local ids=()
        mapfile -t ids < <(hv ps -aq 2>/dev/null)
        if ((${#ids[@]})); then
            log "removing ${#ids[@]} hivelet containers"
            hv rm -f "${ids[@]}" >/dev/null 2>&1 || true
        fi
        docker_engine_stop
        remove_tree "$WORK"
    fi
    exit "$rc"
}

# sum_memory PID... -> "processes rss_kb pss_kb private_kb" from smaps_rollup (vanished processes are
# skipped). Private (Private_Clean + Private_Dirty, the USS) is what each process alone holds.
sum_memory() {
    local pid n=0 rss=0 pss=0 uss=0 r p u
    for pid in "$@"; do
        read -r r p u < <(awk '$1 == "Rss:" { r = $2 } $1 == "Pss:" { p = $2 } $1 ~ /^Private_/ { u += $2 }
            END { print r + 0, p + 0, u + 0 }' "/proc/$pid/smaps_rollup" 2>/dev/null) || continue
        n=$((n + 1)) rss=$((rss + r)) pss=$((pss + p)) uss=$((uss + u))
    done
    echo "$n $rss $pss $uss"
}

# Pids of every process whose executable is the hivelet binary.
hivelet_pids() {
    local exe pid
    exe=$(readlink -f "$HIVELET")
    for pid in /proc/[0-9]*; do
        [[ $(readlink "$pid/exe" 2>/dev/null) == "$exe" ]] && echo "${pid#/proc/}"
    done
    return 0
}

main() {
    [[ $EUID -eq 0 ]] || die "run as root (namespaces, mounts, cgroups)"
    if ! [[ $COUNT =~ ^[0-9]+$ ]] || ((COUNT < 1 || COUNT > 1000)); then
        die "COUNT must be 1..1000 (got '$COUNT')"
    fi
    [[ -x $HIVELET ]] || "$REPO/build.sh"
    [[ -f $IMAGE_TAR ]] || "$REPO/build.sh" fixtures busybox
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    WORK=$(mktemp -d /tmp/hivelet-bench-memory.XXXXXX)
    mkdir -p "$WORK/root"
    hv load -q -i "$IMAGE_TAR" >/dev/null
    hv --help 2>&1 | grep -Eq '^ +run( |$)' || die "this hivelet build has no run verb"

    local i start end pids=() n rss pss uss
    log "starting $COUNT containers"
    start=${EPOCHREALTIME/./}
    for ((i = 1; i <= COUNT; i++)); do
        hv run -d --name "mem-$i" "$IMAGE" sleep 3600 >/dev/null || die "hivelet run -d mem-$i failed"
    done
    end=${EPOCHREALTIME/./}
    sleep 2 # let every monitor settle (start-up allocations done, CLI gone)
    mapfile -t pids < <(hivelet_pids)
    read -r n rss pss uss < <(sum_memory "${pids[@]}")
    local running
    running=$(hv ps -q | wc -l)

    printf '\n%s, %s containers (%s running), load average %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$COUNT" \
        "$running" "$(cut -d' ' -f1-3 /proc/loadavg)"
    awk -v t="$((end - start))" -v c="$COUNT" 'BEGIN { printf "started in %.1f s (%.0f ms per run -d)\n", t / 1e6, t / c / 1000 }'
    printf '\n| what | processes | RSS MB total | PSS MB total | private MB total | RSS KB / container | PSS KB / container | private KB / container |\n'
    printf '|---|---:|---:|---:|---:|---:|---:|---:|\n'
    awk -v n="$n" -v r="$rss" -v p="$pss" -v u="$uss" -v c="$COUNT" 'BEGIN {
        printf "| hivelet monitors (processes running the hivelet binary) | %d | %.1f | %.1f | %.1f | %.0f | %.0f | %.0f |\n",
            n, r / 1024, p / 1024, u / 1024, r / c, p / c, u / c }'

    if ((DOCKER)) && docker_engine_start "$WORK/docker"; then
        local shims=() d_n d_rss d_pss d_uss cid
        mkdir -p "$WORK/rootfs/bin"
        cp "$REPO/artifacts/peers/busybox-amd64/bin/busybox" "$WORK/rootfs/bin/busybox" 2>/dev/null ||
            cp "$(command -v busybox)" "$WORK/rootfs/bin/busybox"
        ln -s busybox "$WORK/rootfs/bin/sleep"
        tar -C "$WORK/rootfs" -c . | timeout 120 "${DOCKER_CMD[@]}" import - "$DOCKER_IMAGE" >/dev/null
        cid=$(timeout 120 "${DOCKER_CMD[@]}" run -d --network none "$DOCKER_IMAGE" /bin/sleep 3600)
        sleep 2
        # The shim's command line names the container id.
        mapfile -t shims < <(pgrep -f "containerd-shim.*$cid" || true)
        read -r d_n d_rss d_pss d_uss < <(sum_memory "${shims[@]}")
        awk -v n="$d_n" -v r="$d_rss" -v p="$d_pss" -v u="$d_uss" 'BEGIN {
            printf "| docker: containerd-shim of one container | %d | %.1f | %.1f | %.1f | %.0f | %.0f | %.0f |\n",
                n, r / 1024, p / 1024, u / 1024, r, p, u }'
        timeout 60 "${DOCKER_CMD[@]}" rm -f "$cid" >/dev/null 2>&1 || true
    else
        printf '| docker | not available | | | | | | |\n'
    fi
    awk -v p="$pss" -v r="$rss" -v u="$uss" -v c="$COUNT" 'BEGIN {
        printf "\nTotal overhead of %d sleep containers: %.1f MB PSS (%.1f MB private, %.1f MB RSS)\n", c, p / 1024, u / 1024, r / 1024
        printf "Target: at most 2 MB per container: %s (PSS %.2f MB, RSS %.2f MB per container)\n",
            (p / c <= 2048) ? "MET" : "MISSED", p / c / 1024, r / c / 1024 }'
}

main "$@"
