#!/usr/bin/env bash
# The floor of `bench/build/run.sh`'s big case (issue 15 §2) on this machine: what a cold COPY
# of BIG_MB of incompressible files must at least do, step by step, on the same bytes.
#   read       cat of every file (page cache warm, as after the context is written)
#   sha256     one pass of openssl's sha256 (SHA-NI); a layer needs two (diff ID and digest)
#   write      cp -r of the context (the copy into the working root)
#   layer      wharf-archive's writer: tar + two sha256 + gzip in stored blocks on every
#              core + the blob write (`examples/layer`, release)
#   fsync      writing and fsyncing one blob of that size (dd conv=fsync)
# Prints wall and CPU seconds per step and the load average; kiln's own figure is in run.sh.
#
#   bench/build/floor.sh     (LAYER defaults to CARGO_TARGET_DIR's release examples/layer:
#                             cargo build --release -p wharf-archive --example layer)
set -euo pipefail
cd "$(dirname "$0")/../.."
T=${CARGO_TARGET_DIR:-target}
LAYER=${LAYER:-$T/release/examples/layer}
BIG_MB=${BIG_MB:-299}
[ -x "$LAYER" ] || { echo "build first: cargo build --release -p wharf-archive --example layer"; exit 1; }
work=$(mktemp -d /var/tmp/kiln-floor.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/big"
# The same context as run.sh: incompressible files of 1-8 MB.
i=0; left=$BIG_MB
while [ "$left" -gt 0 ]; do
    n=$(( (i % 8) + 1 )); [ "$n" -gt "$left" ] && n=$left
    head -c "$((n * 1048576))" /dev/urandom > "$work/big/f$i.bin"
    left=$((left - n)); i=$((i + 1))
done
sync
cat "$work"/big/* > /dev/null

step() {
    local name=$1; shift
    /usr/bin/time -f "%e %U %S" -o "$work/t" sh -c "$*" >/dev/null 2>&1 || { echo "$name failed"; exit 1; }
    awk -v n="$name" '{ printf "%-8s %6.2f s wall %6.2f CPU-s\n", n, $1, $2 + $3 }' "$work/t"
}
echo "load: $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores, $BIG_MB MiB in $i files"
step read "cat '$work'/big/* > /dev/null"
step sha256 "cat '$work'/big/* | openssl dgst -sha256"
step write "cp -r '$work/big' '$work/copy'"
rm -rf "$work/copy"
step layer "'$LAYER' write gzip '$work/big' '$work/layer.tgz'"
step fsync "dd if='$work/layer.tgz' of='$work/blob' bs=1M conv=fsync"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
