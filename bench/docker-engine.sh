# shellcheck shell=bash
# Sourced by bench/run.sh, bench/memory.sh and bench/pull.sh: a Docker engine to compare with.
#
#   docker_engine_start DIR   sets DOCKER_CMD (the client command line) and, when it had to start one,
#                             DOCKERD_PID; returns 1 (with a log line) when no engine can be had
#   docker_engine_stop        removes the containers of an engine we started, then stops it
#
# An engine already answering `docker info` is used as it is. Otherwise a throwaway dockerd of our own
# is started with its own data root, exec root, socket and pid file, no bridge and no iptables rules
# (lab.md), and stopped again by docker_engine_stop. Needs log() from the caller.

DOCKER_CMD=()
DOCKERD_PID=
DOCKER_NEW_GROUPS=() # cgroup parents named docker that did not exist before our engine started

docker_engine_start() {
    local d=$1 i
    if command -v docker >/dev/null && timeout 20 docker info >/dev/null 2>&1; then
        DOCKER_CMD=(docker)
        log "docker: using the running engine"
        return 0
    fi
    if ! command -v dockerd >/dev/null || ! command -v docker >/dev/null; then
        log "docker: not installed (apt-get install docker.io); left out"
        return 1
    fi
    mkdir -p "$d"
    local g
    for g in /sys/fs/cgroup /sys/fs/cgroup/*/; do
        g=${g%/}/docker
        [[ -e $g ]] || DOCKER_NEW_GROUPS+=("$g")
    done
    dockerd --data-root "$d/data" --exec-root "$d/exec" -H "unix://$d/docker.sock" --pidfile "$d/dockerd.pid" \
        --bridge=none --iptables=false --ip6tables=false >"$d/log" 2>&1 &
    DOCKERD_PID=$!
    DOCKER_CMD=(docker -H "unix://$d/docker.sock")
    for ((i = 0; i < 300; i++)); do
        kill -0 "$DOCKERD_PID" 2>/dev/null || break
        timeout 5 "${DOCKER_CMD[@]}" info >/dev/null 2>&1 && break
        sleep 0.2
    done
    if ! timeout 5 "${DOCKER_CMD[@]}" info >/dev/null 2>&1; then
        log "docker: dockerd did not come up: $(tail -n 3 "$d/log")"
        docker_engine_stop
        DOCKER_CMD=()
        return 1
    fi
    log "docker: a throwaway dockerd $(timeout 5 "${DOCKER_CMD[@]}" version -f '{{.Server.Version}}' 2>/dev/null) in $d"
}

docker_engine_stop() {
    [[ -n $DOCKERD_PID ]] || return 0
    local ids=()
    if kill -0 "$DOCKERD_PID" 2>/dev/null; then
        mapfile -t ids < <(timeout 30 "${DOCKER_CMD[@]}" ps -aq 2>/dev/null)
        ((${#ids[@]} == 0)) || timeout 120 "${DOCKER_CMD[@]}" rm -f "${ids[@]}" >/dev/null 2>&1 || true
        kill "$DOCKERD_PID" 2>/dev/null || true
        # dockerd stops its containerd on the way out; give it time, then insist.
        timeout 30 tail --pid="$DOCKERD_PID" -f /dev/null 2>/dev/null || kill -9 "$DOCKERD_PID" 2>/dev/null || true
    fi
    # dockerd leaves its (empty) parent groups behind; remove the ones it created. rmdir only ever
    # removes an empty group, and says EBUSY for a moment after the last container's exit: retry.
    local g i
    for g in "${DOCKER_NEW_GROUPS[@]}"; do
        for ((i = 0; i < 20; i++)); do
            [[ -d $g ]] || break
            rmdir "$g" 2>/dev/null || sleep 0.25
        done
    done
    DOCKER_NEW_GROUPS=()
    DOCKERD_PID=
}
