#!/usr/bin/env bash
# Builds what the pure-cgroup-v2 VM boots: Debian's arm64 kernel and an initramfs holding static
# busybox, tests/vm/init, tests/vm/tests.sh, overlay.ko, the arm64 hivelet binary with its loader and
# libraries, and an arm64 busybox image archive.
#
#   tests/vm/build-initramfs.sh DIR     writes DIR/vmlinuz and DIR/initrd.gz (debs cached in DIR/debs)
#
# Environment: HIVELET_ARM64_BIN (default artifacts/linux-arm64/hivelet, from ./build.sh arm64),
# VM_IMAGE (default artifacts/fixtures/busybox-arm64-oci.tar, from ./build.sh fixtures busybox).
# Needs: apt-get (download only, after `dpkg --add-architecture arm64`), dpkg-deb, cpio, gzip, readelf.
# Installs nothing. A second run with the same inputs only repacks the initramfs (about a second).
set -euo pipefail

REPO=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")/../.." && pwd)
HERE=$REPO/tests/vm
OUT=${1:?usage: build-initramfs.sh DIR}
HIVELET=${HIVELET_ARM64_BIN:-$REPO/artifacts/linux-arm64/hivelet}
IMAGE=${VM_IMAGE:-$REPO/artifacts/fixtures/busybox-arm64-oci.tar}
# Debian packages whose files go into the VM: the kernel comes from the metapackage's dependency.
KERNEL_META=linux-image-arm64:arm64
LIB_PACKAGES=(libc6:arm64 libssl3:arm64 busybox-static:arm64)

log() { printf '==> %s\n' "$*" >&2; }
die() {
    printf 'build-initramfs.sh: %s\n' "$*" >&2
    exit 1
}

[[ -x $HIVELET ]] || die "$HIVELET is missing (./build.sh arm64)"
[[ -f $IMAGE ]] || die "$IMAGE is missing (./build.sh fixtures busybox)"
for tool in apt-get dpkg-deb cpio gzip readelf; do
    command -v "$tool" >/dev/null || die "$tool is missing (apt-get install cpio binutils)"
done
dpkg --print-foreign-architectures | grep -qx arm64 ||
    die "arm64 is not a foreign architecture (dpkg --add-architecture arm64 && apt-get update)"

mkdir -p "$OUT/debs"
OUT=$(cd "$OUT" && pwd)
DEBS=$OUT/debs

# Downloads PACKAGE:ARCH into the cache unless a .deb of it is there already; prints its path.
fetch_deb() {
    local pkg=$1 name=${1%%:*} arch=${1##*:} deb
    deb=$(compgen -G "$DEBS/${name}_*_$arch.deb" | head -n1 || true)
    if [[ -z $deb ]]; then
        log "apt-get download $pkg"
        (cd "$DEBS" && apt-get download -q "$pkg" >&2) || die "apt-get download $pkg failed (apt-get update?)"
        deb=$(compgen -G "$DEBS/${name}_*_$arch.deb" | head -n1) || die "no .deb for $pkg in $DEBS"
    fi
    printf '%s\n' "$deb"
}

# Unpacks a .deb once into DEBS/<file name>.d; prints that directory.
unpack_deb() {
    local deb=$1 dir=$1.d
    if [[ ! -d $dir ]]; then
        rm -rf "$dir.tmp"
        dpkg-deb -x "$deb" "$dir.tmp"
        mv "$dir.tmp" "$dir"
    fi
    printf '%s\n' "$dir"
}

# The kernel package the metapackage depends on now (lab.md: linux-image-6.1.0-N-arm64).
kernel_package() {
    local cached
    cached=$(compgen -G "$DEBS/linux-image-*-arm64_*_arm64.deb" | head -n1 || true)
    if [[ -n $cached ]]; then
        dpkg-deb -f "$cached" Package
        return
    fi
    apt-cache depends "$KERNEL_META" 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[^ ]*-arm64\).*/\1/p' | head -n1
}

kpkg=$(kernel_package)
[[ -n $kpkg ]] || die "cannot resolve $KERNEL_META (apt-get update after dpkg --add-architecture arm64?)"
kdir=$(unpack_deb "$(fetch_deb "${kpkg%:arm64}:arm64")")
vmlinuz=$(compgen -G "$kdir/boot/vmlinuz-*" | head -n1) || die "no vmlinuz in $kpkg"
overlay=$(find "$kdir/lib/modules" -name overlay.ko | head -n1)
[[ -n $overlay ]] || die "no overlay.ko in $kpkg"
declare -A pkgdir
for p in "${LIB_PACKAGES[@]}"; do
    pkgdir[$p]=$(unpack_deb "$(fetch_deb "$p")")
done
busybox=${pkgdir[busybox-static:arm64]}/bin/busybox
[[ -x $busybox ]] || die "no bin/busybox in busybox-static:arm64"

stage=$OUT/stage
rm -rf "$stage"
mkdir -p "$stage"/{bin,dev,etc,lib,proc,sys,run,tmp,root,var/lib/hivelet,images,mnt}
chmod 1777 "$stage/tmp"
cp "$busybox" "$stage/bin/busybox"
ln -s busybox "$stage/bin/sh"
cp "$HERE/init" "$stage/init"
cp "$HERE/tests.sh" "$stage/tests.sh"
chmod 0755 "$stage/init" "$stage/tests.sh"
cp "$overlay" "$stage/lib/overlay.ko"
cp "$HIVELET" "$stage/bin/hivelet"
cp "$IMAGE" "$stage/images/busybox.tar"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$stage/etc/passwd"
printf 'root:x:0:\n' >"$stage/etc/group"
# The kernel opens /dev/console before /init runs; without the node /init starts with no stdio.
mknod -m 0600 "$stage/dev/console" c 5 1 2>/dev/null || true

# The loader and every library the binary needs (NEEDED, recursively) plus the OpenSSL pair that
# .NET loads with dlopen for hashing; all flat in /lib, which the loader always searches.
libdirs=()
for p in libc6:arm64 libssl3:arm64; do
    libdirs+=("${pkgdir[$p]}/lib/aarch64-linux-gnu" "${pkgdir[$p]}/usr/lib/aarch64-linux-gnu")
done
find_lib() {
    local d
    for d in "${libdirs[@]}"; do
        [[ -e $d/$1 ]] && {
            printf '%s\n' "$d/$1"
            return 0
        }
    done
    return 1
}
queue=(ld-linux-aarch64.so.1 libssl.so.3 libcrypto.so.3)
mapfile -t -O 3 queue < <(readelf -d "$HIVELET" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
declare -A copied
while ((${#queue[@]})); do
    lib=${queue[0]}
    queue=("${queue[@]:1}")
    [[ -n ${copied[$lib]:-} ]] && continue
    src=$(find_lib "$lib") || die "library $lib (needed by the arm64 binary) not found in libc6:arm64 or libssl3:arm64"
    cp -L "$src" "$stage/lib/$lib"
    copied[$lib]=1
    while read -r dep; do
        queue+=("$dep")
    done < <(readelf -d "$src" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
done
interp=$(readelf -l "$HIVELET" | sed -n 's/.*Requesting program interpreter: \(.*\)]/\1/p')
[[ $interp == /lib/ld-linux-aarch64.so.1 ]] || die "unexpected program interpreter '$interp' in $HIVELET"

log "initramfs: ${#copied[@]} libraries, hivelet $(du -h "$HIVELET" | cut -f1), kernel $kpkg"
cp "$vmlinuz" "$OUT/vmlinuz.tmp"
mv "$OUT/vmlinuz.tmp" "$OUT/vmlinuz"
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc --owner 0:0 --quiet | gzip -1) >"$OUT/initrd.gz.tmp"
mv "$OUT/initrd.gz.tmp" "$OUT/initrd.gz"
rm -rf "$stage"
printf '%s\n%s\n' "$OUT/vmlinuz" "$OUT/initrd.gz"
