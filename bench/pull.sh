#!/usr/bin/env bash
# Pull + unpack benchmark: hivelet against its peers, side by side in the same run.
#
#   sudo bench/pull.sh                 5 interleaved runs of every contender
#   RUNS=9 sudo bench/pull.sh          more runs
#   DRIVERS="overlayfs" bench/pull.sh  hivelet storage drivers to measure (default: overlayfs copy)
#   DOCKER=0 bench/pull.sh             leave Docker out even when dockerd is installed
#   TMPDIR=/mnt/x bench/pull.sh        work (registry, destinations, dockerd's data) on another file system
#
# Image: artifacts/fixtures/big.oci (./build.sh fixtures big; built here when missing), pushed with
# skopeo to a docker-registry of our own on 127.0.0.1 (free port, temporary storage).
# Contenders, each from a fresh, empty destination every run:
#   hivelet   hivelet --root FRESH pull -q IMAGE                       (per storage driver)
#   skopeo    skopeo copy docker://IMAGE oci:DIR:bench + umoci unpack --image DIR:bench BUNDLE
#   docker    docker pull IMAGE, then docker rmi                       (a running engine, or a throwaway
#             dockerd of bench/docker-engine.sh; its CPU and RSS figures are the client's, dockerd
#             does the work)
#   floor     per layer in parallel: curl -s BLOB | gzip -dc | tar -x -C DIR/i
# Runs are warm-cache for everyone (the registry's blobs stay in the page cache; nothing is dropped).
# Wall time comes from date +%s%N; peak RSS from /usr/bin/time -f %M, which reports the largest
# single process of the command (for pipelines and skopeo+umoci: the biggest one, not a sum);
# CPU time (user + sys of all processes, from the same time) is reported too, because on a busy
# machine wall time favours whoever runs more processes (the floor runs 9 of them).
# Prints a markdown table: medians, min/max, ratios to hivelet's median, CPU time, peak RSS.
# Needs root (overlay mounts, umoci as root). Traffic goes to 127.0.0.1 only.
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/.." && pwd)
RUNS=${RUNS:-5}
DRIVERS=${DRIVERS:-overlayfs copy}
HIVELET=${HIVELET_BIN:-$REPO/artifacts/linux-x64/hivelet}
OCI_DIR=${BIG_OCI:-$REPO/artifacts/fixtures/big.oci}
STEP_TIMEOUT=${STEP_TIMEOUT:-600} # seconds any one measured command may take
REPO_NAME=bench/big
TAG=latest

WORK=
REGISTRY_PID=
DOCKER=${DOCKER:-1}
# shellcheck source=bench/docker-engine.sh
. "$REPO/bench/docker-engine.sh"
# shellcheck source=bench/lib.sh
. "$REPO/bench/lib.sh"


cleanup() {
    local rc=$?
    trap - EXIT INT TERM
    if [[ -n $REGISTRY_PID ]] && kill -0 "$REGISTRY_PID" 2>/dev/null; then
        kill "$REGISTRY_PID" 2>/dev/null || true
        wait "$REGISTRY_PID" 2>/dev/null || true
    fi
    docker_engine_stop
    remove_tree "$WORK"
    exit "$rc"
}

# --- setup ------------------------------------------------------------------------------------

check_prereqs() {
    [[ $EUID -eq 0 ]] || die "run as root (overlay mounts, umoci unpack)"
    if ! [[ $RUNS =~ ^[0-9]+$ ]] || ((RUNS < 1 || RUNS > 50)); then
        die "RUNS must be 1..50 (got '$RUNS')"
    fi
    local need=() pkg
    command -v curl >/dev/null || need+=(curl)
    [[ -x /usr/bin/time ]] || need+=(time)
    command -v docker-registry >/dev/null || need+=(docker-registry)
    command -v skopeo >/dev/null || need+=(skopeo)
    command -v umoci >/dev/null || need+=(umoci)
    command -v jq >/dev/null || need+=(jq)
    if ((${#need[@]})); then
        log "apt-get install ${need[*]}"
        apt-get -o DPkg::Lock::Timeout=600 update -q
        DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${need[@]}"
    fi
    for pkg in curl docker-registry skopeo umoci jq; do
        command -v "$pkg" >/dev/null || die "$pkg is missing"
    done
    if [[ ! -x $HIVELET ]]; then
        log "building hivelet"
        "$REPO/build.sh"
    fi
    if [[ ! -f $OCI_DIR/index.json ]]; then
        log "building the big fixture image"
        "$REPO/build.sh" fixtures big
    fi
}

port_in_use() {
    (: <"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

start_registry() {
    local dir=$WORK/registry attempt port i
    mkdir -p "$dir/data"
    for attempt in 1 2 3; do
        port=$((20000 + RANDOM % 40000))
        port_in_use "$port" && continue
        cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  secret: hivelet-bench-not-secret
EOF
        docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
        REGISTRY_PID=$!
        for ((i = 0; i < 100; i++)); do
            kill -0 "$REGISTRY_PID" 2>/dev/null || break
            if curl -sf -o /dev/null "http://127.0.0.1:$port/v2/"; then
                REGISTRY=127.0.0.1:$port
                log "docker-registry on $REGISTRY (attempt $attempt)"
                return 0
            fi
            sleep 0.1
        done
        kill "$REGISTRY_PID" 2>/dev/null || true
        wait "$REGISTRY_PID" 2>/dev/null || true
        REGISTRY_PID=
        log "docker-registry did not come up on port $port (attempt $attempt): $(tail -n 3 "$dir/log")"
    done
    die "could not start docker-registry"
}

push_image() {
    log "skopeo copy $OCI_DIR -> $REGISTRY/$REPO_NAME:$TAG"
    timeout "$STEP_TIMEOUT" skopeo copy -q "oci:$OCI_DIR:$TAG" "docker://$REGISTRY/$REPO_NAME:$TAG" --dest-tls-verify=false
    IMAGE=$REGISTRY/$REPO_NAME:$TAG
    # Layer digests as the registry serves them, for the floor's curl URLs.
    mapfile -t LAYERS < <(skopeo inspect --raw --tls-verify=false "docker://$IMAGE" | jq -r '.layers[].digest')
    ((${#LAYERS[@]})) || die "no layers in $IMAGE"
    local compressed
    compressed=$(skopeo inspect --raw --tls-verify=false "docker://$IMAGE" | jq '[.layers[].size] | add')
    IMAGE_INFO="${#LAYERS[@]} layers, $((compressed / 1000000)) MB compressed"
    log "$IMAGE: $IMAGE_INFO"
}

# --- contenders -------------------------------------------------------------------------------
# Each prepare_X prints nothing and sets up a fresh destination $DEST; each command_X runs in
# bash -c under /usr/bin/time; each verify_X (run 1 only) reports how many files were unpacked.

# shellcheck disable=SC2016 # expanded by the inner bash, from its arguments
FLOOR_SCRIPT='set -o pipefail
base=$1 dest=$2
shift 2
i=0
pids=()
for d in "$@"; do
    mkdir -p "$dest/$i"
    (curl -sf "$base/$d" | gzip -dc | tar -x -C "$dest/$i") &
    pids+=($!)
    i=$((i + 1))
done
rc=0
for p in "${pids[@]}"; do wait "$p" || rc=1; done
exit $rc'

run_contender() {
    local name=$1 dest=$2
    local cmd=()
    case $name in
        hivelet-*)
            local driver=${name#hivelet-}
            mkdir -p "$dest/root"
            printf '{"storage-driver": "%s"}\n' "$driver" >"$dest/config.json"
            cmd=("$HIVELET" --root "$dest/root" --config "$dest/config.json" pull -q "$IMAGE")
            ;;
        skopeo+umoci)
            # shellcheck disable=SC2016 # expanded by the inner bash, from its arguments
            cmd=(bash -c 'skopeo copy -q --src-tls-verify=false "docker://$1" "oci:$2/layout:bench" &&
                umoci unpack --image "$2/layout:bench" "$2/bundle" >/dev/null' _ "$IMAGE" "$dest")
            ;;
        docker)
            cmd=("${DOCKER_CMD[@]}" pull -q "$IMAGE")
            ;;
        floor)
            cmd=(bash -c "$FLOOR_SCRIPT" _ "http://$REGISTRY/v2/$REPO_NAME/blobs" "$dest" "${LAYERS[@]}")
            ;;
        *) die "unknown contender $name" ;;
    esac
    local start end rc=0
    start=$(date +%s%N)
    timeout "$STEP_TIMEOUT" /usr/bin/time -f '%M %U %S' -o "$WORK/rss" "${cmd[@]}" >"$WORK/out" 2>"$WORK/err" || rc=$?
    end=$(date +%s%N)
    if ((rc != 0)); then
        printf 'pull.sh: %s failed (exit %d):\n' "$name" "$rc" >&2
        tail -n 20 "$WORK/err" >&2
        return 1
    fi
    # Columns: wall ms, peak RSS KB, CPU ms (the time figures are the last line of its -o file).
    local rss user sys
    read -r rss user sys < <(tail -n 1 "$WORK/rss")
    printf '%s %s %s\n' "$(((end - start) / 1000000))" "$rss" "$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%d", (u + s) * 1000 }')"
}

# Regular files unpacked by a contender, to show that every one did the same work.
count_files() {
    local name=$1 dest=$2
    case $name in
        hivelet-*) find "$dest/root" -path '*/snapshots/*' -type f -not -name '*.json' | wc -l ;;
        skopeo+umoci) find "$dest/bundle/rootfs" -type f | wc -l ;;
        floor) find "$dest" -type f | wc -l ;;
        *) echo n/a ;;
    esac
}

reset_contender() {
    local name=$1 dest=$2
    [[ $name == docker ]] && "${DOCKER_CMD[@]}" rmi -f "$IMAGE" >/dev/null 2>&1
    remove_tree "$dest"
}

# --- statistics -------------------------------------------------------------------------------

# stats FILE COLUMN -> "median min max" of that column (1-based), numeric.
stats() {
    cut -d' ' -f"$2" "$1" | sort -n | awk '
        { v[NR] = $1 }
        END {
            if (NR == 0) { print "- - -"; exit }
            m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
            print m, v[1], v[NR]
        }'
}

print_table() {
    local contenders=("$@") name base_ms
    read -r base_ms _ < <(stats "$WORK/results/hivelet-${DRIVERS%% *}" 1)
    printf '\n| contender | median s | min s | max s | time / hivelet-%s | CPU s (median) | peak RSS MB (median, max) |\n' "${DRIVERS%% *}"
    printf '|---|---:|---:|---:|---:|---:|---:|\n'
    for name in "${contenders[@]}"; do
        local f=$WORK/results/$name med min max rmed rmax cpu
        read -r med min max < <(stats "$f" 1)
        read -r rmed _ rmax < <(stats "$f" 2)
        read -r cpu _ < <(stats "$f" 3)
        awk -v n="$name" -v med="$med" -v min="$min" -v max="$max" -v b="$base_ms" -v rm="$rmed" -v rx="$rmax" -v c="$cpu" 'BEGIN {
            printf "| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f, %.0f |\n", n, med / 1000, min / 1000, max / 1000, med / b, c / 1000, rm / 1024, rx / 1024
        }'
    done
    if [[ " ${contenders[*]} " != *" docker "* ]]; then
        printf '| docker | not available | | | | | |\n'
    fi
}

print_verdicts() {
    local base_ms floor_ms rss_max base_cpu floor_cpu
    read -r base_ms _ < <(stats "$WORK/results/hivelet-${DRIVERS%% *}" 1)
    read -r floor_ms _ < <(stats "$WORK/results/floor" 1)
    read -r _ _ rss_max < <(stats "$WORK/results/hivelet-${DRIVERS%% *}" 2)
    read -r base_cpu _ < <(stats "$WORK/results/hivelet-${DRIVERS%% *}" 3)
    read -r floor_cpu _ < <(stats "$WORK/results/floor" 3)
    printf '\nTargets (hivelet-%s):\n' "${DRIVERS%% *}"
    awk -v b="$base_ms" -v f="$floor_ms" 'BEGIN {
        printf "- no slower than the floor: %s (hivelet %.2f s vs floor %.2f s, ratio %.2f)\n", (b <= f) ? "MET" : "MISSED", b / 1000, f / 1000, b / f }'
    awk -v b="$base_cpu" -v f="$floor_cpu" 'BEGIN {
        printf "- CPU time, for comparison: hivelet %.2f s vs floor %.2f s (ratio %.2f)\n", b / 1000, f / 1000, b / f }'
    if [[ -s $WORK/results/docker ]]; then
        local docker_ms
        read -r docker_ms _ < <(stats "$WORK/results/docker" 1)
        awk -v b="$base_ms" -v d="$docker_ms" 'BEGIN {
            printf "- at least 2x faster than docker pull: %s (docker %.2f s / hivelet %.2f s = %.2fx)\n", (d >= 2 * b) ? "MET" : "MISSED", d / 1000, b / 1000, d / b }'
    else
        printf -- '- at least 2x faster than docker pull: not measured (docker: not available)\n'
    fi
    awk -v r="$rss_max" 'BEGIN {
        printf "- peak RSS under 64 MB: %s (max over runs %.1f MB)\n", (r < 65536) ? "MET" : "MISSED", r / 1024 }'
}

# --- main -------------------------------------------------------------------------------------

main() {
    check_prereqs
    trap cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/hivelet-bench.XXXXXX")
    mkdir -p "$WORK/results"
    start_registry
    push_image

    local contenders=() d
    for d in $DRIVERS; do
        contenders+=("hivelet-$d")
    done
    contenders+=(skopeo+umoci)
    if ((DOCKER)) && docker_engine_start "$WORK/docker"; then
        contenders+=(docker)
    else
        log "docker: not available; docker pull is left out"
    fi
    contenders+=(floor)

    local run k n=${#contenders[@]} name dest figures
    for ((run = 1; run <= RUNS; run++)); do
        # Interleaved and rotated, so no contender always goes first or follows the same one.
        for ((k = 0; k < n; k++)); do
            name=${contenders[(k + run - 1) % n]}
            dest=$WORK/dest
            remove_tree "$dest"
            mkdir -p "$dest"
            figures=$(run_contender "$name" "$dest") || die "run $run: $name failed"
            echo "$figures" >>"$WORK/results/$name"
            if ((run == 1)); then
                log "run $run: $name (wall ms, peak RSS KB, CPU ms) $figures, $(count_files "$name" "$dest") files"
            else
                log "run $run: $name (wall ms, peak RSS KB, CPU ms) $figures"
            fi
            reset_contender "$name" "$dest"
        done
    done

    printf '\n%s, %s runs each (interleaved, warm cache), image %s\n' "$(date -u '+%Y-%m-%d %H:%M UTC')" "$RUNS" "$IMAGE_INFO"
    print_table "${contenders[@]}"
    print_verdicts
}

main "$@"
