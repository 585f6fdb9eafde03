#!/usr/bin/env bash
# kiln vs buildah inside a default unprivileged job container (issue 12 §4): podman with runc,
# no --privileged, default capabilities and seccomp, masked /proc, no /dev/fuse, --network
# host, root in the container. One run of each, each tool with a fresh store on the container's
# own filesystem:
#   1. the 4 RUN + 2 COPY Dockerfile of bench/build/run.sh, cold (--no-cache);
#   2. a COPY of a ~300 MB context (BIG_MB) of incompressible files, cold.
# kiln runs with the isolation it picks (chroot here), buildah with `--isolation chroot
# --storage-driver vfs` (its only working setup in such a container). Both pull the busybox
# base from a local registry the script starts. Prints seconds, CPU seconds (user+sys of the
# container's processes, from GNU time around the tool inside) and peak RSS, and the ratios.
#
#   bench/ci/run.sh     as root; KILN defaults to the release binary of CARGO_TARGET_DIR
set -euo pipefail
cd "$(dirname "$0")/../.."
T=${CARGO_TARGET_DIR:-target}
KILN=${KILN:-$T/release/kiln}
BIG_MB=${BIG_MB:-299}
[ -x "$KILN" ] || { echo "build first: cargo build --release -p kiln"; exit 1; }
command -v buildah podman docker-registry /usr/bin/time >/dev/null
WORK=$(mktemp -d /tmp/kiln-ci-bench.XXXXXX)
reg_pid=
cleanup() { [ -n "$reg_pid" ] && kill "$reg_pid" 2>/dev/null; rm -rf "$WORK"; }
trap cleanup EXIT
. bench/ci/lib.sh
ci_podman_conf

# A local registry holding the busybox base.
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
REG=127.0.0.1:$port
mkdir -p "$WORK/registry"
printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: %s\n' \
    "$WORK/registry" "$REG" > "$WORK/registry.yml"
docker-registry serve "$WORK/registry.yml" > "$WORK/registry.log" 2>&1 &
reg_pid=$!
for _ in $(seq 50); do curl -sf "http://$REG/v2/" >/dev/null && break; sleep 0.1; done
mkdir -p "$WORK/base/bin" "$WORK/base/etc" "$WORK/base/tmp"
cp /bin/busybox "$WORK/base/bin/"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$WORK/base/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$WORK/base/etc/passwd"
printf 'root:x:0:\n' > "$WORK/base/etc/group"
tar -C "$WORK/base" --numeric-owner --owner=0 --group=0 -cf "$WORK/base.tar" .
# Seeding is not measured: the debug binaries do.
BERTH=${BERTH:-$T/debug/berth}
FERRY=${FERRY:-$T/debug/ferry}
"$BERTH" --root "$WORK/seed" import --change 'CMD ["sh"]' "$WORK/base.tar" busybox >/dev/null
"$FERRY" --root "$WORK/seed" copy --dest-tls-verify=false store:localhost/busybox:latest \
    "docker://$REG/busybox:latest" >/dev/null

ci_rootfs "$WORK/rootfs"
ci_add_buildah "$WORK/rootfs" "$REG"
cp /usr/bin/time "$WORK/rootfs/usr/local/bin/time"
for lib in $(ldd /usr/bin/time | awk '/=> \//{print $3}'); do cp -L "$lib" "$WORK/rootfs$lib"; done
ctx=$WORK/rootfs/work
mkdir -p "$ctx/small" "$ctx/big"
head -c 4000000 /dev/urandom > "$ctx/small/data.bin"
echo 'echo app' > "$ctx/small/app.sh"
cat > "$ctx/small/Dockerfile" <<DF
FROM $REG/busybox
RUN echo one > /one
RUN mkdir -p /srv && echo two > /srv/two
COPY data.bin /srv/
RUN sha256sum /srv/data.bin > /srv/sum
COPY app.sh /usr/local/bin/
RUN chmod +x /usr/local/bin/app.sh
DF
i=0; left=$BIG_MB
while [ "$left" -gt 0 ]; do
    n=$(( (i % 8) + 1 )); [ "$n" -gt "$left" ] && n=$left
    head -c "$((n * 1048576))" /dev/urandom > "$ctx/big/f$i.bin"
    left=$((left - n)); i=$((i + 1))
done
printf 'FROM %s/busybox\nCOPY . /data/\n' "$REG" > "$ctx/big/Dockerfile"
sync

# measure NAME CMD: wall seconds from outside, CPU and peak RSS from GNU time inside.
declare -A wall cpu rss
measure() {
    local name=$1; shift
    local t0 t1 out
    t0=$(date +%s%N)
    out=$(ci_run "$WORK/rootfs" -- /usr/local/bin/time -f 'TIME %U %S %M' "$@" 2>&1) \
        || { echo "$name failed:"; echo "$out" | tail -5; exit 1; }
    t1=$(date +%s%N)
    wall[$name]=$(echo "scale=3; ($t1 - $t0) / 1000000000" | bc)
    local line; line=$(echo "$out" | grep '^TIME ' | tail -1)
    cpu[$name]=$(echo "$line" | awk '{printf "%.2f", $2 + $3}')
    rss[$name]=$(echo "$line" | awk '{printf "%.1f", $4 / 1024}')
    printf '%-28s %8s s  cpu %6s s  peak %7s MiB\n' "$name" "${wall[$name]}" "${cpu[$name]}" "${rss[$name]}"
}

echo "in a default podman container (runc, default caps and seccomp), root, store on the container fs"
measure "kiln small (4 RUN+2 COPY)" kiln --root /store/k1 build -q --no-cache --tls-verify=false -t s /work/small
measure "buildah small" buildah bud --isolation chroot --storage-driver vfs --no-cache -q -t s /work/small
measure "kiln COPY ${BIG_MB} MB" kiln --root /store/k2 build -q --no-cache --tls-verify=false -t b /work/big
measure "buildah COPY ${BIG_MB} MB" buildah bud --isolation chroot --storage-driver vfs --no-cache -q -t b /work/big
echo
for case in small "COPY ${BIG_MB} MB"; do
    k="kiln $case"; [ "$case" = small ] && k="kiln small (4 RUN+2 COPY)"
    b="buildah $case"
    printf 'ratio kiln/buildah, %-12s wall %s  cpu %s\n' "$case" \
        "$(echo "scale=2; ${wall[$k]} / ${wall[$b]}" | bc)" \
        "$(echo "scale=2; ${cpu[$k]} / ${cpu[$b]}" | bc)"
done
