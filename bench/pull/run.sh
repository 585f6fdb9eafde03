#!/usr/bin/env bash
# Pull to a ready container, root, side by side in one run, each tool with a fresh store:
#   1. `kiln pull` then `kiln from` of an 8-layer ~760 MB image (as the lab's lab/big: this
#      machine's files, one gzip layer per directory) vs `buildah pull` + `buildah from`;
#   2. `berth run --rm IMAGE true` of the image not yet pulled vs `podman run --rm`.
# Prints seconds, CPU seconds (user+sys), peak RSS and the ratio to the peer per case.
#
#   bench/pull/run.sh                 # KILN/BERTH default to CARGO_TARGET_DIR's release binaries
#   BEFORE=/dir bench/pull/run.sh     # also time the kiln/berth in /dir (e.g. the previous build)
#   RUNS=3                            # runs per case; the table shows the median
#   STORE_FS=host                     # stores on this machine's root file system (see below)
#
# Needs: root, docker-registry, skopeo, busybox-static, pigz or gzip, GNU time; buildah and podman for the peers.
set -euo pipefail
cd "$(dirname "$0")/../.."
T=${CARGO_TARGET_DIR:-target}
KILN=${KILN:-$T/release/kiln}
BERTH=${BERTH:-$T/release/berth}
RUNS=${RUNS:-3}
REGISTRY_BIN=${REGISTRY_BIN:-/usr/bin/docker-registry}
[ -x "$KILN" ] && [ -x "$BERTH" ] || { echo "build first: cargo build --release -p kiln -p berth"; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run as root (the peers' root storage is the reference)"; exit 1; }
W=$(mktemp -d /tmp/pull-bench.XXXXXX)
REG_PID=""
FS=$W
cleanup() {
    [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null
    [ "$FS" = "$W" ] || umount "$FS" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT INT TERM

# Every store (kiln's, buildah's, podman's) lives on a fresh ext4 of its own: a sparse file on
# the root disk, loop-mounted, made by a plain mkfs.ext4 (with a journal, as on users' disks).
# This machine's root is ext4 *without* a journal, and there ext4 skips, inode by inode, every
# inode freed in the last minutes whose inode-table block is cached (`recently_deleted` in
# fs/ext4/ialloc.c) when it allocates one: after the `rm -rf` of one 44,000-file store, the
# next unpack spent 15-25 s of system time there (perf: `find_inode_bit` -> `recently_deleted`)
# instead of 2 s, whichever tool ran; that was most of the CPU the earlier runs of this bench
# reported for both sides. A journalled ext4 does not make that check.
if [ "${STORE_FS:-loop}" = loop ]; then
    truncate -s "${FS_GB:-16}G" "$W/fs.img"
    mkfs.ext4 -q -F "$W/fs.img"
    mkdir "$W/fs"
    mount -o loop "$W/fs.img" "$W/fs"
    FS=$W/fs
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$W/reg"
cat > "$W/reg/config.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $W/reg/data
http:
  addr: 127.0.0.1:$port
YML
"$REGISTRY_BIN" serve "$W/reg/config.yml" >"$W/reg/log" 2>&1 &
REG_PID=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done
REG=127.0.0.1:$port

# The image: one layer per directory, and 32 MiB of incompressible data as an app layer.
Z="gzip -6 -n"; command -v pigz >/dev/null && Z="pigz -6 -n"
L="$W/layout"; mkdir -p "$L/blobs/sha256" "$W/app"; diffs=""; layers=""
head -c 33554432 /dev/urandom > "$W/app/blob.bin"
# The base layer: busybox, for `true`.
mkdir -p "$W/base/bin"; cp /bin/busybox "$W/base/bin/"; ln -s busybox "$W/base/bin/true"
tar -C "$W/base" -cf "$W/base.tar" .
for dir in "$W/base.tar" /usr/lib/python3.11 /usr/share/doc /usr/share/locale /usr/lib/gcc /usr/include \
    /usr/share/man /usr/libexec "$W/app"; do
    if [ -f "$dir" ]; then mv "$dir" "$W/l.tar"; else
        [ -d "$dir" ] || continue
        tar -C / -cf "$W/l.tar" "${dir#/}" 2>/dev/null || true
    fi
    diff=$(sha256sum < "$W/l.tar" | cut -d' ' -f1)
    $Z -c "$W/l.tar" > "$W/l.tgz"
    dig=$(sha256sum < "$W/l.tgz" | cut -d' ' -f1); size=$(stat -c %s "$W/l.tgz")
    mv "$W/l.tgz" "$L/blobs/sha256/$dig"
    diffs="$diffs${diffs:+,}\"sha256:$diff\""
    layers="$layers${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$dig\",\"size\":$size}"
done
rm -f "$W/l.tar" "$W/app/blob.bin"
printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/bin:/bin"],"Cmd":["/bin/true"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' "$diffs" > "$W/config"
cd_=$(sha256sum < "$W/config" | cut -d' ' -f1); cs=$(stat -c %s "$W/config"); mv "$W/config" "$L/blobs/sha256/$cd_"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' "$cd_" "$cs" "$layers" > "$W/manifest"
md=$(sha256sum < "$W/manifest" | cut -d' ' -f1); ms=$(stat -c %s "$W/manifest"); mv "$W/manifest" "$L/blobs/sha256/$md"
printf '{"imageLayoutVersion":"1.0.0"}' > "$L/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"big"}}]}' "$md" "$ms" > "$L/index.json"
skopeo copy -q --dest-tls-verify=false "oci:$L:big" "docker://$REG/bench/big:1"
IMG=$REG/bench/big:1
echo "image: $(du -sm "$L/blobs" | cut -f1) MiB of blobs, $(ls "$L/blobs/sha256" | wc -l) blobs, $(du -sm /usr/lib/python3.11 /usr/share/doc /usr/share/locale /usr/lib/gcc /usr/include /usr/share/man /usr/libexec 2>/dev/null | awk '{s+=$1} END {print s+32}') MiB unpacked"
rm -rf "$L"
# Writing the layout left dirty pages; their writeback must not land on the first tool.
sync

# t NAME CMD...: one timed run, appended to $W/times as "NAME|seconds|peak_kib|cpu".
t() {
    local name=$1; shift
    /usr/bin/time -f "%e %M %U %S" -o "$W/t" "$@" >/dev/null 2>"$W/err" ||
        { echo "$name failed:"; cat "$W/err"; exit 1; }
    awk -v n="$name" '{ printf "%s|%s|%s|%.2f\n", n, $1, $2, $3 + $4 }' "$W/t" | tee -a "$W/times" >&2
}
# pair NAME CMD1 -- CMD2: both in one timed run (a sh -c), e.g. pull then from.
tsh() { local name=$1; shift; t "$name" sh -c "$*"; }

kiln_cases() { # label kiln berth
    local label=$1 kiln=$2 berth=$3 r="$FS/store"
    rm -rf "$r"; sync
    tsh "$label pull+from" "$kiln --root $r pull -q --tls-verify=false $IMG && $kiln --root $r from $IMG"
    rm -rf "$r"; sync
    t "$label pull" "$kiln" --root "$r" pull -q --tls-verify=false "$IMG"
    sync
    t "$label from" "$kiln" --root "$r" from "$IMG"
    rm -rf "$r"; sync
    t "$label run unpulled" "$berth" --root "$r" run --rm --tls-verify=false --network none "$IMG" true
    rm -rf "$r"
}

have_buildah=0; command -v buildah >/dev/null && have_buildah=1
have_podman=0; command -v podman >/dev/null && have_podman=1
# podman as root asks nofile/nproc limits this machine's root may not set (lab finding 7).
printf '[containers]\ndefault_ulimits = ["nofile=20000:20000","nproc=32768:32768"]\nnetns = "none"\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' > "$W/containers.conf"
printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$REG" > "$W/registries.conf"
peer_cases() {
    local P=(--root "$FS/peer-root" --runroot "$FS/peer-run" --storage-driver overlay)
    if [ "$have_buildah" = 1 ]; then
        rm -rf "$FS/peer-root" "$FS/peer-run"; sync
        tsh "buildah pull+from" "buildah ${P[*]} pull -q --tls-verify=false $IMG && buildah ${P[*]} from -q $IMG"
        buildah "${P[@]}" rm -a >/dev/null 2>&1 || true
        rm -rf "$FS/peer-root" "$FS/peer-run"; sync
        t "buildah pull" buildah "${P[@]}" pull -q --tls-verify=false "$IMG"
        sync
        t "buildah from" buildah "${P[@]}" from -q "$IMG"
        buildah "${P[@]}" rm -a >/dev/null 2>&1 || true
        rm -rf "$FS/peer-root" "$FS/peer-run"
    fi
    if [ "$have_podman" = 1 ]; then
        rm -rf "$FS/peer-root" "$FS/peer-run"; sync
        CONTAINERS_CONF="$W/containers.conf" CONTAINERS_REGISTRIES_CONF="$W/registries.conf" \
            t "podman run unpulled" podman "${P[@]}" run --rm --network none "$IMG" true
        podman "${P[@]}" rm -af >/dev/null 2>&1 || true
        rm -rf "$FS/peer-root" "$FS/peer-run"
    fi
    # `podman run --rm` leaves its cleanup (conmon, `podman container cleanup`) running after
    # it returns; it must not land on the next tool's first case.
    for _ in $(seq 100); do pgrep -x conmon >/dev/null || pgrep -x podman >/dev/null || pgrep -x buildah >/dev/null || break; sleep 0.1; done
    sync
}

for _ in $(seq "$RUNS"); do
    kiln_cases wharf "$KILN" "$BERTH"
    [ -n "${BEFORE:-}" ] && kiln_cases before "$BEFORE/kiln" "$BEFORE/berth"
    peer_cases
done

# The median of each case, then the ratios to the peer.
med() { grep "^$1|" "$W/times" | cut -d'|' -f"$2" | sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "-" }'; }
printf '%-26s %8s %8s %8s %9s\n' case median_s cpu_s peak_MiB vs_peer
for c in wharf before buildah podman; do
    for op in "pull+from" pull from "run unpulled"; do
        name="$c $op"; grep -q "^$name|" "$W/times" || continue
        s=$(med "$name" 2); cpu=$(med "$name" 4); kib=$(med "$name" 3)
        peer=""
        case "$op" in "run unpulled") peer="podman run unpulled" ;; *) peer="buildah $op" ;; esac
        ps=$(med "$peer" 2)
        ratio=$(awk -v a="$s" -v b="$ps" 'BEGIN { if (b == "-" || b == 0 || a == "-") print "-"; else printf "%.2f", a / b }')
        printf '%-26s %8s %8s %8.1f %9s\n' "$name" "$s" "$cpu" "$(awk -v k="$kib" 'BEGIN { print k / 1024 }')" "$ratio"
    done
done
echo "runs: $RUNS per case (all in $W/times during the run); root; fresh store per run, on ${STORE_FS:-loop} ext4"
