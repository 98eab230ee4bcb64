#!/usr/bin/env bash
# Build, demo and test hivelet.
#
#   ./build.sh            install what is missing, publish the native-AOT binary (artifacts/linux-x64)
#   ./build.sh arm64      cross-publish artifacts/linux-arm64/hivelet
#   ./build.sh fixtures   build the fixture images into artifacts/fixtures/ (add "big" for the benchmark image)
#   ./build.sh demo       build, then load the fixture image and show it (no network needed)
#   ./build.sh test       install the test peers, build everything, run all tests; ends with
#                         one line "tests: N passed, N failed, N skipped"
#
# Prerequisites come from Debian's apt (installed only when missing); the .NET 10 SDK must be present.
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
cd "$REPO"
ARTIFACTS=$REPO/artifacts
FIXTURES=$ARTIFACTS/fixtures
PEERS=$ARTIFACTS/peers
AARCH64_SYSROOT=/usr/aarch64-linux-gnu
# Warning codes tolerated in publish output (none yet; Google.Protobuf's IL3053 will join later).
ALLOWED_WARNINGS=${ALLOWED_WARNINGS:-}

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
export DEBIAN_FRONTEND=noninteractive

BASE_PACKAGES=(gcc libc6-dev zlib1g-dev)
ARM64_PACKAGES=(clang lld gcc-aarch64-linux-gnu binutils-aarch64-linux-gnu libc6-dev-arm64-cross)
TEST_PACKAGES=(docker-registry skopeo umoci qemu-user-static busybox-static apache2-utils shellcheck clang-format)

log() { printf '==> %s\n' "$*" >&2; }
warn() { printf 'build.sh: warning: %s\n' "$*" >&2; }
die() {
    printf 'build.sh: %s\n' "$*" >&2
    exit 1
}

as_root() {
    if [[ $EUID -eq 0 ]]; then
        "$@"
    elif command -v sudo >/dev/null; then
        sudo -E "$@"
    else
        die "need root for: $* (run as root or install sudo)"
    fi
}

commit_id() {
    git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown
}

# --- prerequisites ----------------------------------------------------------------------------

APT_UPDATED=0
apt_update() {
    ((APT_UPDATED)) && return 0
    log "apt-get update"
    local i
    for i in 1 2 3; do
        if as_root apt-get -o DPkg::Lock::Timeout=600 update -q; then
            APT_UPDATED=1
            return 0
        fi
        # A mirror mid-sync fails one index; later installs usually still work.
        warn "apt-get update failed (attempt $i)"
        sleep $((i * 5))
    done
    APT_UPDATED=1
}

is_installed() {
    [[ $(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null) == installed ]]
}

apt_install() {
    local missing=() p
    for p in "$@"; do
        is_installed "$p" || missing+=("$p")
    done
    ((${#missing[@]})) || return 0
    apt_update
    log "apt-get install ${missing[*]}"
    as_root apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}"
}

require_dotnet() {
    if ! command -v dotnet >/dev/null; then
        die "the .NET 10 SDK is required but 'dotnet' is not on PATH.
  Install it from https://dotnet.microsoft.com/download/dotnet/10.0, e.g.
    curl -sSL https://dot.net/v1/dotnet-install.sh | bash -s -- --channel 10.0
  (then add ~/.dotnet to PATH), or 'apt-get install dotnet-sdk-10.0' from packages.microsoft.com."
    fi
}

prereqs_base() {
    require_dotnet
    apt_install "${BASE_PACKAGES[@]}"
}

prereqs_arm64() {
    apt_install "${ARM64_PACKAGES[@]}"
}

add_foreign_arch() {
    local arch added=0
    for arch in "$@"; do
        if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
            as_root dpkg --add-architecture "$arch"
            added=1
        fi
    done
    if ((added)); then
        APT_UPDATED=0
        apt_update
    fi
}

# Static busybox for amd64, arm64 and armhf, unpacked from Debian's debs into artifacts/peers/.
fetch_busybox() {
    local arch dir debs=$PEERS/debs
    mkdir -p "$debs"
    for arch in amd64 arm64 armhf; do
        dir=$PEERS/busybox-$arch
        [[ -x $dir/bin/busybox ]] && continue
        if ! compgen -G "$debs/busybox-static_*_$arch.deb" >/dev/null; then
            add_foreign_arch arm64 armhf
            log "apt-get download busybox-static:$arch"
            (cd "$debs" && apt-get download -q "busybox-static:$arch")
        fi
        rm -rf "$dir.tmp"
        dpkg -x "$(compgen -G "$debs/busybox-static_*_$arch.deb" | head -n1)" "$dir.tmp"
        mv "$dir.tmp" "$dir"
    done
}

# Lets the kernel run arm64/armv7 binaries through qemu (lab.md); already registered is fine.
register_binfmt() {
    local fmt conf mnt=/proc/sys/fs/binfmt_misc
    if ! mountpoint -q "$mnt"; then
        as_root mount -t binfmt_misc binfmt_misc "$mnt" || {
            warn "cannot mount binfmt_misc; ARM binaries will run only through qemu-*-static"
            return 0
        }
    fi
    for fmt in aarch64 arm; do
        conf=/usr/lib/binfmt.d/qemu-$fmt.conf
        [[ -e $mnt/qemu-$fmt ]] && continue
        [[ -r $conf ]] || {
            warn "$conf missing (is qemu-user-static installed?)"
            continue
        }
        as_root sh -c "cat '$conf' > '$mnt/register'" || warn "could not register qemu-$fmt"
    done
}

# --- builds -----------------------------------------------------------------------------------

# Publishes the CLI for a runtime identifier and fails on any warning in the output.
publish() {
    local rid=$1
    shift
    local out=$ARTIFACTS/$rid logfile=$ARTIFACTS/publish-$rid.log
    mkdir -p "$ARTIFACTS"
    log "dotnet publish ($rid, commit $(commit_id))"
    if ! dotnet publish src/Hivelet.Cli -r "$rid" -c Release -o "$out" \
        -p:SourceRevisionId="$(commit_id)" "$@" 2>&1 | tee "$logfile"; then
        die "publish for $rid failed (log: $logfile)"
    fi
    local warnings
    warnings=$(grep -E 'warning [A-Z]+[0-9]+' "$logfile" | sort -u || true)
    if [[ -n $ALLOWED_WARNINGS && -n $warnings ]]; then
        warnings=$(grep -vE "warning ($ALLOWED_WARNINGS)[: ]" <<<"$warnings" || true)
    fi
    if [[ -n $warnings ]]; then
        printf '%s\n' "$warnings" >&2
        die "publish for $rid produced warnings (must be zero)"
    fi
    [[ -x $out/hivelet ]] || die "publish for $rid did not produce $out/hivelet"
    log "built $out/hivelet ($(du -h "$out/hivelet" | cut -f1))"
}

build_x64() {
    publish linux-x64
}

build_arm64() {
    prereqs_arm64
    # No SysRoot: with it lld trips over libc.so's linker script (lab.md).
    publish linux-arm64 -p:LinkerFlavor=lld -p:ObjCopyName=aarch64-linux-gnu-objcopy
}

build_fixture_programs() {
    local bin=$FIXTURES/bin src=rootfs-fixtures/src/fixture.c
    mkdir -p "$bin"
    log "gcc -static fixture (amd64)"
    gcc -static -Os -s -Wall -Wextra -Werror -o "$bin/fixture-amd64" "$src"
    if command -v aarch64-linux-gnu-gcc >/dev/null; then
        log "aarch64-linux-gnu-gcc -static fixture (arm64)"
        aarch64-linux-gnu-gcc -static -Os -s -Wall -Wextra -Werror -o "$bin/fixture-arm64" "$src"
    else
        rm -f "$bin/fixture-arm64"
    fi
}

image_builder() {
    dotnet run --project rootfs-fixtures/ImageBuilder -c Release "$@"
}

# Fixture sets: default fixture, busybox-multi, layered; "big" (150 MB) only when asked for.
build_fixtures() {
    local sets=("$@")
    ((${#sets[@]})) || sets=(fixture busybox-multi layered)
    build_fixture_programs
    local set built=0
    for set in "${sets[@]}"; do
        case $set in
            busybox-multi) fetch_busybox ;;
            fixture | layered | big) ;;
            *) die "unknown fixture set '$set' (fixture, busybox-multi, layered, big)" ;;
        esac
        log "ImageBuilder $set"
        local extra=()
        ((built)) && extra=(--no-build)
        image_builder "${extra[@]}" -- "$set" "$FIXTURES" \
            --fixture-amd64="$FIXTURES/bin/fixture-amd64" \
            --fixture-arm64="$FIXTURES/bin/fixture-arm64" \
            --busybox-amd64="$PEERS/busybox-amd64/bin/busybox" \
            --busybox-arm64="$PEERS/busybox-arm64/bin/busybox" \
            --busybox-armhf="$PEERS/busybox-armhf/bin/busybox"
        built=1
    done
}

# --- demo -------------------------------------------------------------------------------------

# Prints the command as a shell prompt line, then runs it against the demo root.
demo_step() {
    local bin=$1 root=$2
    shift 2
    printf '\n$ hivelet %s\n' "$*"
    "$bin" --root "$root" "$@"
}

demo() {
    prereqs_base
    # Build chatter goes to stderr so stdout is just the session a reader would see.
    build_x64 >&2
    build_fixtures fixture >&2
    local bin=$ARTIFACTS/linux-x64/hivelet root=${HIVELET_ROOT:-}
    if [[ -z $root ]]; then
        root=$(mktemp -d /tmp/hivelet-demo.XXXXXX)
        # shellcheck disable=SC2064 # expand now: the path is fixed
        trap "rm -rf '$root'" EXIT
    fi
    demo_step "$bin" "$root" version
    # Relative to the repository (the working directory), as a reader would type it.
    demo_step "$bin" "$root" load -i "${FIXTURES#"$REPO"/}/hivelet-fixture.tar"
    demo_step "$bin" "$root" images
    demo_step "$bin" "$root" image inspect hivelet/fixture:latest
    printf '\ndemo done (state in %s%s)\n' "$root" "$([[ -n ${HIVELET_ROOT:-} ]] || echo ', removed on exit')"
}

# --- tests ------------------------------------------------------------------------------------

EXTRA_PASSED=0
EXTRA_FAILED=0
check() {
    local name=$1
    shift
    log "check: $name"
    if "$@"; then
        EXTRA_PASSED=$((EXTRA_PASSED + 1))
    else
        warn "check failed: $name"
        EXTRA_FAILED=$((EXTRA_FAILED + 1))
    fi
}

run_arm64_binary() {
    local out
    # Bounded: the .NET runtime starts slowly under qemu-user, and a hang must not eat CI's budget.
    # LD_LIBRARY_PATH keeps the loader on the cross sysroot's libraries: where libc6:arm64 is also
    # installed, the host's ld.so.cache would mix two glibc builds and the runtime spins at start-up.
    out=$(timeout 600 qemu-aarch64-static -L "$AARCH64_SYSROOT" -E LD_LIBRARY_PATH="$AARCH64_SYSROOT/lib" \
        "$ARTIFACTS/linux-arm64/hivelet" version) || return 1
    printf '%s\n' "$out"
    grep -q 'linux/arm64' <<<"$out"
}

# Sums the TRX counters: passed, failed (incl. error/timeout/aborted), skipped (not executed).
trx_totals() {
    local f passed=0 failed=0 skipped=0 line
    for f in "$@"; do
        line=$(grep -o '<Counters [^>]*' "$f" | head -n1) || continue
        attr() { sed -nE "s/.* $1=\"([0-9]+)\".*/\1/p" <<<"$line"; }
        passed=$((passed + $(attr passed)))
        failed=$((failed + $(attr failed) + $(attr error) + $(attr timeout) + $(attr aborted)))
        # xunit's skipped tests show as total - executed (notExecuted stays 0 in the TRX counters).
        skipped=$((skipped + $(attr total) - $(attr executed)))
    done
    echo "$passed $failed $skipped"
}

test_all() {
    prereqs_base
    prereqs_arm64
    apt_install "${TEST_PACKAGES[@]}"
    fetch_busybox
    # The arm64 binary's own loader, libc and OpenSSL (sha256), for running it through binfmt.
    add_foreign_arch arm64 armhf
    apt_install libc6:arm64 libssl3:arm64
    register_binfmt
    build_x64
    build_arm64
    build_fixtures

    local results=$ARTIFACTS/test-results rc=0
    rm -rf "$results"
    mkdir -p "$results"
    log "dotnet build Runtime.sln"
    dotnet build Runtime.sln -c Release -p:SourceRevisionId="$(commit_id)" || rc=$?
    if ((rc == 0)); then
        log "dotnet test Runtime.sln"
        HIVELET_BIN=$ARTIFACTS/linux-x64/hivelet HIVELET_EXPECT_COMMIT=$(commit_id) HIVELET_FIXTURES=$FIXTURES \
            HIVELET_E2E_ARM64=1 \
            dotnet test Runtime.sln -c Release --no-build --results-directory "$results" \
            --logger "trx;LogFilePrefix=hivelet" --logger "console;verbosity=normal" || rc=$?
    fi

    check "shellcheck" shellcheck build.sh .ci/run
    check "dotnet format whitespace" dotnet format whitespace Runtime.sln --verify-no-changes
    check "clang-format" bash -c 'shopt -s nullglob; clang-format --dry-run --Werror rootfs-fixtures/src/*.[ch] native/src/*.[ch]'
    check "arm64 binary runs under qemu" run_arm64_binary

    local trx=() passed failed skipped
    mapfile -t trx < <(find "$results" -name '*.trx' 2>/dev/null)
    read -r passed failed skipped < <(trx_totals "${trx[@]}")
    # dotnet test failing without a failed test means a build or host crash: count it.
    if ((rc != 0 && failed == 0)); then
        warn "dotnet build/test exited with $rc"
        failed=1
    fi
    passed=$((passed + EXTRA_PASSED))
    failed=$((failed + EXTRA_FAILED))
    echo
    echo "tests: $passed passed, $failed failed, $skipped skipped"
    ((failed == 0))
}

# --- main -------------------------------------------------------------------------------------

main() {
    local mode=${1:-build}
    case $mode in
        build | "")
            prereqs_base
            build_x64
            ;;
        arm64)
            require_dotnet
            build_arm64
            ;;
        fixtures)
            shift || true
            prereqs_base
            build_fixtures "$@"
            ;;
        demo) demo ;;
        test) test_all ;;
        -h | --help | help) sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//' ;;
        *) die "unknown mode '$mode' (build, arm64, fixtures, demo, test)" ;;
    esac
}

main "$@"
