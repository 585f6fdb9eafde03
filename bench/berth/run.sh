#!/usr/bin/env bash
# Benchmark of `berth run` (issue 5 §4), rootless, in one run:
#   berth run --rm --network none IMAGE true   (embedded runtime, kernel overlay)
#   podman run --rm --network=none IMAGE true  (when podman is installed and works for the user)
#   runc run of a prepared rootless bundle     (the bare runtime)
# Prints each median and min-max over $RUNS runs after a warm-up, the ratios, and the RSS of a
# detached container's monitor process.
# Usage (as root): bench/berth/run.sh [USER]   (default: wharf-test, made by the e2e tests;
#   for podman use a user whose containers config works rootless, e.g. the lab's `labuser`,
#   see shared/lab/README.md: runtime runc, overlay storage, XDG_RUNTIME_DIR)
set -euo pipefail
cd "$(dirname "$0")/../.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-/work/targets/berth}"
user="${1:-wharf-test}"
runs="${RUNS:-20}"
id "$user" >/dev/null 2>&1 || { echo "no user $user: run the e2e tests once as root, or pass a user"; exit 1; }
command -v busybox >/dev/null || { echo "install the Debian package busybox-static"; exit 1; }
uid=$(id -u "$user"); gid=$(id -g "$user"); home=$(getent passwd "$user" | cut -d: -f6)
as_user() { setpriv --reuid="$uid" --regid="$gid" --init-groups -- env -i HOME="$home" USER="$user" \
  PATH=/usr/local/bin:/usr/bin:/bin XDG_RUNTIME_DIR="/run/user/$uid" "$@"; }

cargo build --release -q -p berth
berth="$CARGO_TARGET_DIR/release/berth"
work=$(mktemp -d /tmp/berth-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

# A busybox root filesystem: the static binary, its applets, passwd and group.
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc"
cp "$(command -v busybox)" "$work/rootfs/bin/busybox"
for a in $(busybox --list); do [[ $a == busybox ]] || ln -sf busybox "$work/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$work/rootfs/etc/passwd"
echo 'root:x:0:' > "$work/rootfs/etc/group"
tar -C "$work/rootfs" -cf "$work/rootfs.tar" .
chown -R "$uid:$gid" "$work"
as_user "$berth" --root "$work/store" import --change 'CMD ["sh"]' "$work/rootfs.tar" bench >/dev/null

# time_runs NAME CMD...: runs CMD once to warm up, then $runs times; prints median and range.
declare -A median
time_runs() {
  local name=$1; shift
  "$@" >/dev/null
  local times=()
  for _ in $(seq "$runs"); do
    local t0 t1
    t0=$(date +%s%N); "$@" >/dev/null; t1=$(date +%s%N)
    times+=("$(( (t1 - t0) / 1000 ))")
  done
  local sorted; sorted=$(printf '%s\n' "${times[@]}" | sort -n)
  local med; med=$(echo "$sorted" | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
  median[$name]=$med
  printf '%-34s median %6.1f ms   min %6.1f   max %6.1f   (N=%s)\n' "$name" \
    "$(echo "$med/1000" | bc -l)" "$(echo "$(echo "$sorted" | head -1)/1000" | bc -l)" \
    "$(echo "$(echo "$sorted" | tail -1)/1000" | bc -l)" "$runs"
}

time_runs "berth run --rm (embedded)" as_user "$berth" --root "$work/store" run --rm --network none bench true
if command -v runc >/dev/null; then
  time_runs "berth run --rm --runtime runc" as_user "$berth" --root "$work/store" run --rm --network none --runtime runc bench true
  mkdir -p "$work/bundle"
  cp -a "$work/rootfs" "$work/bundle/rootfs"
  chown -R "$uid:$gid" "$work/bundle"
  # The rootless spec maps the calling user: write it as that user.
  as_user runc spec --rootless -b "$work/bundle"
  sed -i 's/"sh"/"true"/; s/"terminal": true/"terminal": false/' "$work/bundle/config.json"
  as_user sh -c ": | runc --root '$work/runc-state' run -b '$work/bundle' check" ||
    { echo "runc cannot run the rootless bundle"; exit 1; }
  n=0
  runc_once() { n=$((n + 1)); as_user runc --root "$work/runc-state" run -b "$work/bundle" "b$n-$RANDOM"; }
  time_runs "runc run (prepared rootless bundle)" runc_once
else
  echo "runc: not installed (Debian package runc), skipped"
fi
# podman gets the same root filesystem as its own image (quietly; `podman import` is idempotent
# enough for a bench: a second import only retags).
if command -v podman >/dev/null && ! as_user podman image exists localhost/bench 2>/dev/null; then
  as_user podman import --change 'CMD ["sh"]' "$work/rootfs.tar" localhost/bench >/dev/null 2>&1 || true
fi
if command -v podman >/dev/null && as_user podman image exists localhost/bench 2>/dev/null; then
  time_runs "podman run --rm --network=none" as_user podman run --rm --network=none localhost/bench true
else
  echo "podman: not installed or no localhost/bench image for $user, skipped" \
       "(lab figure on this machine: 0.219 s median rootless, shared/lab/README.md)"
fi

e=${median["berth run --rm (embedded)"]}
for k in "runc run (prepared rootless bundle)" "podman run --rm --network=none"; do
  [[ -n "${median[$k]:-}" ]] && printf 'berth / %-34s %.2f\n' "$k" "$(echo "$e / ${median[$k]}" | bc -l)"
done

# The monitor of a detached container: resident memory while the container runs.
id=$(as_user "$berth" --root "$work/store" run -d bench sleep 30)
sleep 0.3
mon=$(sed -n 's/.*"monitor_pid": \([0-9]*\).*/\1/p' "$work/store/containers/$id/state.json")
rss=$(awk '/^VmRSS:/ {print $2}' /proc/"$mon"/status)
# The monitor is linked as a static PIE (crates/berth/build.rs): no loader, libc.so or
# libgcc_s pages in its RSS.
echo "detached monitor pid $mon ($(file -b "$CARGO_TARGET_DIR/release/berth-monitor" | grep -o 'static-pie linked\|dynamically linked')): VmRSS $rss kB (target: under 2048 kB)"
as_user "$berth" --root "$work/store" rm -f "$id" >/dev/null
