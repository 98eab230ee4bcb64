#!/usr/bin/env bash
# Regenerates src/Hivelet.Runtime/Security/Syscalls.<Abi>.cs (syscall name -> number) from the Linux UAPI
# headers of Debian's packages, so seccomp filters can be compiled for every architecture on any host:
#
#   apt-get install linux-libc-dev linux-libc-dev-arm64-cross linux-libc-dev-armhf-cross
#   native/tools/gen-syscalls.sh
#
# The headers are preprocessed (cpp -dM) and every __NR_* / __ARM_NR_* macro evaluated. Calls newer than
# the headers (Debian 12 ships 6.1) are added from LATE below: since Linux 5.1 new calls get one number on
# every architecture (arch/*/syscall*.tbl "common"), except the few marked per ABI.
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
OUT=$REPO/src/Hivelet.Runtime/Security

# ABI  header  include-dir  [the compiler's macros that select the ABI]
ABIS=(
    "X86_64 /usr/include/x86_64-linux-gnu/asm/unistd_64.h /usr/include"
    "I386 /usr/include/x86_64-linux-gnu/asm/unistd_32.h /usr/include"
    "Aarch64 /usr/aarch64-linux-gnu/include/asm/unistd.h /usr/aarch64-linux-gnu/include -D__aarch64__"
    "Arm /usr/arm-linux-gnueabihf/include/asm/unistd.h /usr/arm-linux-gnueabihf/include -D__ARM_EABI__"
)

for abi in "${ABIS[@]}"; do
    read -r name header incdir defines <<<"$abi"
    [[ -r $header ]] || {
        echo "gen-syscalls: $header: missing (install the linux-libc-dev package for $name)" >&2
        exit 1
    }
    # -undef: no host macros (__x86_64__, __ILP32__) may leak into another architecture's headers.
    # shellcheck disable=SC2086 # $defines is empty or one flag
    cpp -undef -nostdinc -dM ${defines:-} -I"$incdir" -include "$header" /dev/null |
        python3 "$REPO/native/tools/gen-syscalls.py" "$name" "$header" >"$OUT/Syscalls.$name.cs.tmp"
    mv "$OUT/Syscalls.$name.cs.tmp" "$OUT/Syscalls.$name.cs"
    echo "gen-syscalls: wrote $OUT/Syscalls.$name.cs" >&2
done
