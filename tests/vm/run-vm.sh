#!/usr/bin/env bash
# Boots the pure-cgroup-v2 test VM built by build-initramfs.sh and captures its serial console.
#
#   tests/vm/run-vm.sh DIR [CONSOLE_LOG]
#
# DIR holds vmlinuz and initrd.gz. The console goes to stdout and to CONSOLE_LOG (default
# DIR/console.log). Exits 0 only when the VM printed VMTEST-DONE (every test ran; their
# PASS/FAIL lines are for the caller to judge), non-zero when it did not boot, hung (VM_TIMEOUT
# seconds, default 300) or stopped early. Needs qemu-system-aarch64 (qemu-system-arm); installs
# nothing. No KVM: the arm64 CPU is emulated (TCG), so this also runs on x86_64 hosts. No network
# (-nic none): the tests need none, and the default NIC wants a boot ROM that qemu-system-arm
# without recommends (ipxe-qemu) lacks.
set -euo pipefail

DIR=${1:?usage: run-vm.sh DIR [CONSOLE_LOG]}
LOG=${2:-$DIR/console.log}
TIMEOUT=${VM_TIMEOUT:-300}

die() {
    printf 'run-vm.sh: %s\n' "$*" >&2
    exit 2
}

command -v qemu-system-aarch64 >/dev/null || die "qemu-system-aarch64 is missing (apt-get install qemu-system-arm)"
for f in vmlinuz initrd.gz; do
    [[ -f $DIR/$f ]] || die "$DIR/$f is missing (tests/vm/build-initramfs.sh $DIR)"
done

# cgroup_no_v1=all: no v1 hierarchy can be mounted, as on a pure v2 host. panic=1 with -no-reboot
# makes a dying /init end qemu at once instead of waiting for the timeout.
rc=0
timeout --kill-after=10 "$TIMEOUT" qemu-system-aarch64 -M virt -cpu cortex-a72 -smp 2 -m 1024 \
    -nographic -no-reboot -monitor none -serial stdio -nic none \
    -kernel "$DIR/vmlinuz" -initrd "$DIR/initrd.gz" \
    -append "console=ttyAMA0 rdinit=/init quiet panic=1 cgroup_no_v1=all" </dev/null 2>&1 |
    tr -d '\r' | tee "$LOG" || rc=$?
if ! grep -qx VMTEST-DONE "$LOG"; then
    ((rc == 124)) && die "the VM did not finish within ${TIMEOUT}s (console: $LOG)"
    die "the VM stopped before VMTEST-DONE (qemu exit $rc; console: $LOG)"
fi
