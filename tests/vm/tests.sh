#!/bin/sh
# The tests run inside the VM (tests/vm/init runs this as root on a pure cgroup v2 host).
# Each test prints exactly one line on the console:
#   VMTEST <name> PASS|FAIL|SKIP <detail>
# and tests/Hivelet.EndToEnd.Tests/Vm/CgroupV2VmTests.cs asserts one [Fact] per name.
# Every hivelet command is bounded, so a hang becomes a FAIL line, not a stuck VM.
IMAGE=hivelet/busybox:latest
STEP=90 # seconds any one hivelet command may take (emulated CPU, no KVM)
OUT=/tmp/vmtest.out

# hv ARGS...: runs hivelet bounded, output (stdout + stderr) in $OUT, exit status in $RC.
hv() {
    timeout "$STEP" hivelet "$@" >"$OUT" 2>&1
    RC=$?
}

# One console line: the detail is flattened and cut so the line stays one line; it ends with the
# seconds since the previous line (the VM's clock), to see where the time goes.
LAST=$(cut -d' ' -f1 /proc/uptime)
result() {
    name=$1 verdict=$2
    shift 2
    now=$(cut -d' ' -f1 /proc/uptime)
    took=$(awk -v a="$LAST" -v b="$now" 'BEGIN { printf "%.1f", b - a }')
    LAST=$now
    detail=$(printf '%s' "$*" | tr '\n\t' '  ' | cut -c1-300)
    echo "VMTEST $name $verdict $detail (${took} s)"
}

out() { tr '\n' ' ' <"$OUT" | cut -c1-200; }

# verdict NAME STATUS DETAIL: PASS when STATUS (the $? of the test just run) is 0.
verdict() {
    if [ "$2" = 0 ]; then result "$1" PASS "$3"; else result "$1" FAIL "$3"; fi
}

HAVE_RUN=0
skip_without_run() {
    [ "$HAVE_RUN" = 1 ] && return 1
    result "$1" SKIP "this hivelet build has no 'run' verb"
    return 0
}

# --- the host ---------------------------------------------------------------------------------

hv version
[ $RC = 0 ] && grep -q linux/arm64 "$OUT"
verdict version $? "rc=$RC: $(out)"

v1=$(awk '$3 == "cgroup" { print $2 }' /proc/mounts)
ctl=" $(cat /sys/fs/cgroup/cgroup.controllers) "
has() { case $ctl in *" $1 "*) true ;; *) false ;; esac; }
[ -z "$v1" ] && grep -q "^cgroup2 /sys/fs/cgroup " /proc/mounts && has cpu && has io && has memory && has pids
verdict cgroup-v2-pure $? "controllers:$ctl; v1 mounts: ${v1:-none}"

hv load -i /images/busybox.tar
load_rc=$RC load_out=$(out)
hv images
[ $load_rc = 0 ] && [ $RC = 0 ] && grep -q "hivelet/busybox" "$OUT"
verdict load $? "load rc=$load_rc: $load_out; images: $(out)"

# The containers' tests need the run verb (issue #3); an image-only build reports them as SKIP.
timeout "$STEP" hivelet --help 2>&1 | grep -Eq '^ +run( |$)' && HAVE_RUN=1

# --- containers -------------------------------------------------------------------------------

if ! skip_without_run run-memory-max; then
    hv run --rm -m 64m "$IMAGE" cat /sys/fs/cgroup/memory.max
    [ $RC = 0 ] && [ "$(cat "$OUT")" = 67108864 ]
    verdict run-memory-max $? "rc=$RC: $(out)"
fi

if ! skip_without_run cgroupns-private; then
    hv run --rm "$IMAGE" cat /proc/self/cgroup
    [ $RC = 0 ] && [ "$(cat "$OUT")" = "0::/" ]
    verdict cgroupns-private $? "rc=$RC: $(out)"
fi

if ! skip_without_run cpu-quota; then
    hv run --rm --cpus 0.5 "$IMAGE" cat /sys/fs/cgroup/cpu.max
    [ $RC = 0 ] && [ "$(cat "$OUT")" = "50000 100000" ]
    verdict cpu-quota $? "rc=$RC: $(out)"
fi

if ! skip_without_run memory-swap; then
    # Docker's --memory-swap is memory + swap; v2's memory.swap.max is the swap part alone.
    hv run --rm -m 32m --memory-swap 64m "$IMAGE" cat /sys/fs/cgroup/memory.max /sys/fs/cgroup/memory.swap.max
    [ $RC = 0 ] && [ "$(tr '\n' ' ' <"$OUT")" = "33554432 33554432 " ]
    verdict memory-swap $? "rc=$RC: $(out)"
fi

if ! skip_without_run pids-limit; then
    hv run --rm --pids-limit 20 "$IMAGE" cat /sys/fs/cgroup/pids.max
    [ $RC = 0 ] && [ "$(cat "$OUT")" = 20 ]
    verdict pids-limit $? "rc=$RC: $(out)"
fi

if ! skip_without_run fork-bomb; then
    # 100 background sleeps against a limit of 20: forks fail, ash gives up (or reports the max
    # events), the container ends and its pid namespace takes the sleeps with it. The VM itself
    # must still fork afterwards.
    # shellcheck disable=SC2016 # expanded inside the container
    hv run --rm --pids-limit 20 "$IMAGE" sh -c \
        'n=0; while [ $n -lt 100 ]; do sleep 600 & n=$((n+1)); done; echo spawned $n; cat /sys/fs/cgroup/pids.events'
    after=$(sh -c 'echo alive')
    # 124 = the bound hit (the bomb did not stop), 125 = hivelet itself failed.
    [ $RC != 124 ] && [ $RC != 125 ] && [ "$after" = alive ] &&
        { grep -q "^max [1-9]" "$OUT" || { [ $RC != 0 ] && grep -q fork "$OUT" && ! grep -q "spawned 100" "$OUT"; }; }
    verdict fork-bomb $? "rc=$RC: $(out)"
fi

if ! skip_without_run oom-killed; then
    # dd allocates and fills a 64 MiB buffer against a 32 MiB limit (the VM has no swap).
    hv run --name vm-oom -m 32m "$IMAGE" /bin/busybox dd if=/dev/zero of=/dev/null bs=64M count=1
    oom_rc=$RC oom_out=$(out)
    hv inspect vm-oom
    [ $oom_rc = 137 ] && grep -q '"OOMKilled": *true' "$OUT"
    verdict oom-killed $? "run rc=$oom_rc: $oom_out; inspect: $(grep -o '"OOMKilled": *[a-z]*' "$OUT")"
    hv rm -f vm-oom
fi

if ! skip_without_run group-removed; then
    hv run -d --name vm-grp -m 48m "$IMAGE" sleep 600
    run_rc=$RC
    hv inspect vm-grp
    pid=$(grep -o '"Pid": *[0-9]*' "$OUT" | head -n1 | grep -o '[0-9]*$')
    group=
    [ -n "$pid" ] && group=$(sed -n 's/^0:://p' "/proc/$pid/cgroup" 2>/dev/null)
    had=no
    [ -n "$group" ] && [ "$group" != / ] && [ -d "/sys/fs/cgroup$group" ] && had=yes
    limit=$(cat "/sys/fs/cgroup$group/memory.max" 2>/dev/null)
    hv rm -f vm-grp
    rm_rc=$RC
    [ $run_rc = 0 ] && [ $had = yes ] && [ "$limit" = 50331648 ] && [ $rm_rc = 0 ] &&
        [ ! -e "/sys/fs/cgroup$group" ] && ! kill -0 "$pid" 2>/dev/null
    verdict group-removed $? "run rc=$run_rc pid=$pid group=$group existed=$had memory.max=$limit rm rc=$rm_rc"
fi

if ! skip_without_run device-denied; then
    # /dev/kmsg (c 1 11) is writable by root without a capability and is not in Docker's device
    # allow-list: mknod is allowed ("m"), the write must fail with EPERM from the device cgroup.
    # shellcheck disable=SC2016 # expanded inside the container
    hv run --rm "$IMAGE" sh -c 'mknod /tmp/kmsg c 1 11 || exit 3; echo vmtest-device > /tmp/kmsg && echo WRITTEN'
    [ $RC != 0 ] && ! grep -q WRITTEN "$OUT" && grep -qi "not permitted" "$OUT"
    verdict device-denied $? "rc=$RC: $(out)"
fi

if ! skip_without_run replayed-run; then
    # The same command line a second time is replayed by native code from the template the first run
    # left (native/CONTRACT.md "Run templates"): on v2 that recreates the group, its pids limit and its
    # eBPF device program; HIVELET_FASTRUN=require fails the run if it was not replayed.
    # shellcheck disable=SC2016 # expanded inside the container
    replay='cat /sys/fs/cgroup/pids.max; mknod /tmp/kmsg c 1 11 || exit 3; echo vmtest-replay > /tmp/kmsg && echo WRITTEN'
    hv run --rm --pids-limit 30 "$IMAGE" sh -c "$replay"
    first_rc=$RC
    export HIVELET_FASTRUN=require
    hv run --rm --pids-limit 30 "$IMAGE" sh -c "$replay"
    unset HIVELET_FASTRUN
    [ "$first_rc" != 0 ] && [ "$RC" = "$first_rc" ] && grep -q '^30$' "$OUT" && ! grep -q WRITTEN "$OUT" &&
        grep -qi "not permitted" "$OUT"
    verdict replayed-run $? "first rc=$first_rc, replayed rc=$RC: $(out)"
fi

if ! skip_without_run nothing-left; then
    # After every rm: no container listed, no overlay mounted, no group named after a container.
    hv ps -a -q
    left=$(find /sys/fs/cgroup -mindepth 1 -type d | grep -E '[0-9a-f]{12}')
    mounts=$(grep -c ' overlay ' /proc/mounts)
    [ $RC = 0 ] && [ ! -s "$OUT" ] && [ -z "$left" ] && [ "$mounts" = 0 ]
    verdict nothing-left $? "ps rc=$RC: $(out); groups: ${left:-none}; overlay mounts: $mounts"
fi
exit 0
