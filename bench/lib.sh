# Helpers the bench scripts share; sourced, not run.
# shellcheck shell=bash

log() { printf '==> %s\n' "$*" >&2; }

die() {
    printf '%s: %s\n' "${0##*/}" "$*" >&2
    exit 1
}

# Unmounts whatever is still mounted below $1, deepest first, then removes it.
remove_tree() {
    local dir=$1 mnt
    [[ -n $dir && -d $dir ]] || return 0
    while read -r mnt; do
        umount -l "$mnt" 2>/dev/null || true
    done < <(awk -v p="$dir/" 'index($2, p) == 1 { print $2 }' /proc/self/mounts | sort -r)
    rm -rf --one-file-system "$dir" 2>/dev/null || rm -rf "$dir"
}
