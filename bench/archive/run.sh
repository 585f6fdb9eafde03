#!/usr/bin/env bash
# Benchmark of the layer codec (issue 2 §8), one run each:
#   write + gzip + digest (our example binary) vs `tar -cf - | gzip -6 | sha256sum`
#   write + zstd vs `tar -cf - | zstd -3`
#   extraction throughput of the uncompressed tar, and peak RSS of every step.
# Usage: bench/archive/run.sh [SOURCE_DIR]   (default: a ~300 MB copy of /usr/lib/x86_64-linux-gnu
# and /usr/share made under $BENCH_TMP, default /var/tmp/wharf-bench)
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/targets/archive}"
command -v /usr/bin/time >/dev/null || { echo "install the Debian package 'time'"; exit 1; }
work="${BENCH_TMP:-/var/tmp/wharf-bench}"
mkdir -p "$work"
src="${1:-}"
if [[ -z "$src" ]]; then
  src="$work/src"
  if [[ ! -d "$src" ]]; then
    mkdir -p "$src/lib" "$src/share"
    # About 300 MB: entries of the library directory, then of /usr/share, until the budget is spent.
    budget=$((300 * 1000 * 1000))
    for d in /usr/lib/x86_64-linux-gnu/* /usr/share/*; do
      s=$(du -sb "$d" | cut -f1)
      (( s < budget )) || continue
      case $d in /usr/share/*) dest=$src/share ;; *) dest=$src/lib ;; esac
      cp -a "$d" "$dest/"; budget=$((budget - s))
      (( budget > 1000000 )) || break
    done
  fi
fi
size=$(du -sb --apparent-size "$src" | cut -f1)
echo "source: $src, $((size / 1000000)) MB"
cargo build --release -q -p wharf-archive --example layer
bin="$CARGO_TARGET_DIR/release/examples/layer"
# Warm the page cache so every contender reads from memory.
tar -cf - -C "$src" . > /dev/null

# run NAME CMD...: wall seconds and peak RSS (KB) of the whole pipeline.
run() {
  local name=$1; shift
  local log="$work/$name.time"
  local t0 t1
  t0=$(date +%s.%N)
  /usr/bin/time -v -o "$log" bash -c "$*" > "$work/$name.out"
  t1=$(date +%s.%N)
  secs=$(echo "$t1 - $t0" | bc -l)
  rss=$(awk -F': ' '/Maximum resident/ {print $2}' "$log")
  printf '%-28s %7.2f s  %8.1f MB/s  peak RSS %6d KB\n' "$name" "$secs" "$(echo "$size / $secs / 1000000" | bc -l)" "$rss"
  eval "t_$name=$secs"
}

run wharf_gzip "'$bin' write gzip '$src' '$work/layer.tar.gz'"
run tar_gzip6_sha256 "tar -cf - -C '$src' . | gzip -6 | sha256sum"
run wharf_zstd "'$bin' write zstd '$src' '$work/layer.tar.zst'"
run tar_zstd3 "tar -cf - -C '$src' . | zstd -3 -q -c > '$work/ref.tar.zst'"
"$bin" write none "$src" "$work/layer.tar" > /dev/null
rm -rf "$work/dst"
run wharf_extract_tar "'$bin' apply none '$work/layer.tar' '$work/dst'"
rm -rf "$work/dst"
run wharf_extract_gzip "'$bin' apply gzip '$work/layer.tar.gz' '$work/dst'"
rm -rf "$work/dst" "$work/dst2"; mkdir -p "$work/dst2"
run gnu_tar_extract "tar -xf '$work/layer.tar' -C '$work/dst2'"
rm -rf "$work/dst" "$work/dst2"

echo
printf 'gzip pipeline speed-up vs tar|gzip -6|sha256sum: %.2fx (target >= 2)\n' "$(echo "$t_tar_gzip6_sha256 / $t_wharf_gzip" | bc -l)"
printf 'zstd pipeline speed-up vs tar|zstd -3:           %.2fx\n' "$(echo "$t_tar_zstd3 / $t_wharf_zstd" | bc -l)"
printf 'extraction of the uncompressed tar:              %.1f MB/s (target >= 300)\n' "$(echo "$size / $t_wharf_extract_tar / 1000000" | bc -l)"
printf 'extraction vs GNU tar -x:                        %.2fx\n' "$(echo "$t_gnu_tar_extract / $t_wharf_extract_tar" | bc -l)"
echo "sizes: $(stat -c '%n %s' "$work/layer.tar.gz" "$work/layer.tar.zst" "$work/ref.tar.zst" | tr '\n' ' ')"
