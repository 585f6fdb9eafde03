#!/usr/bin/env bash
# Issue 12's table, row by row: kiln inside a default unprivileged podman container (runc,
# --network host), building a Dockerfile with RUN and one without, with each isolation.
# Prints one line per (row, case): ok, or the first error line.
#   bench/ci/repro.sh        as root; KILN defaults to the debug binary of CARGO_TARGET_DIR
set -uo pipefail
cd "$(dirname "$0")/../.."
T=${CARGO_TARGET_DIR:-target}
KILN=${KILN:-$T/debug/kiln}
WORK=$(mktemp -d /tmp/kiln-ci.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
. bench/ci/lib.sh
ci_podman_conf
ci_rootfs "$WORK/rootfs"
mkdir -p "$WORK/rootfs/work/run" "$WORK/rootfs/work/norun"
printf 'FROM scratch\nCOPY bin/busybox /bin/busybox\nENV A=1\nLABEL l=1\n' > "$WORK/rootfs/work/norun/Dockerfile"
mkdir -p "$WORK/rootfs/work/norun/bin" && cp /bin/busybox "$WORK/rootfs/work/norun/bin/"
printf 'FROM scratch\nCOPY bin/busybox /bin/busybox\nRUN ["/bin/busybox", "mkdir", "/made"]\n' > "$WORK/rootfs/work/run/Dockerfile"
mkdir -p "$WORK/rootfs/work/run/bin" && cp /bin/busybox "$WORK/rootfs/work/run/bin/"
chown -R 1000:1000 "$WORK/rootfs/work"
docker_profile=tests/e2e/data/docker-default-seccomp.json
rows=(
    "default|"
    "seccomp=unconfined|--security-opt seccomp=unconfined"
    "cap SYS_ADMIN, volume|--cap-add SYS_ADMIN -v $WORK/vol:/store"
    "user 1000|--user 1000:1000"
    "docker seccomp, root|--security-opt seccomp=$PWD/$docker_profile"
)
mkdir -p "$WORK/vol"
n=0
for row in "${rows[@]}"; do
    name=${row%%|*}; flags=${row#*|}; n=$((n + 1))
    for iso in oci chroot rootfs auto; do
        for case in run norun; do
            env=(); [ "$iso" = auto ] || env=(-e KILN_ISOLATION=$iso)
            # shellcheck disable=SC2086
            out=$(ci_run "$WORK/rootfs" $flags "${env[@]}" -e HOME=/tmp -- \
                kiln --root /store/s$n-$iso-$case build -q -t t /work/$case 2>&1)
            rc=$?
            if [ $rc = 0 ]; then r=ok; else r=$(echo "$out" | grep -m1 -i error); fi
            printf '%-24s %-7s %-6s %s\n' "$name" "$iso" "$case" "$r"
        done
    done
done
