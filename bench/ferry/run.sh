#!/bin/sh
# ferry vs skopeo, side by side, in one run: registry -> registry (blobs absent, then present),
# registry -> oci:, oci: -> registry, inspect, zstd recompression, sync of a repository; then
# the copies again through wharf-slowlink (40 ms round trip, 200 Mbit/s each way in front of
# every registry: what users see, where round trips count), plus a 100-layer image.
# Prints seconds, peak RSS, CPU seconds (user+sys of the tool only) and ferry/skopeo ratios,
# and each tool's CPU seconds per copied GiB for the full copies.
#
#   WAN=0 bench/ferry/run.sh           # loopback cases only
#   RTT_MS=40 MBIT=200                 # the slow link's shape
#
#   bench/ferry/run.sh                 # builds an image from this machine's files (SIZE_MB ~ 200)
#   SRC=127.0.0.1:5000/lab/big:latest bench/ferry/run.sh   # or copy the lab's image first
#
# Needs: docker-registry, skopeo, GNU time, a release ferry and wharf-slowlink
# (cargo build --release -p ferry -p wharf-testkit).
set -eu
FERRY=${FERRY:-${CARGO_TARGET_DIR:-target}/release/ferry}
SLOWLINK=${SLOWLINK:-${CARGO_TARGET_DIR:-target}/release/wharf-slowlink}
REGISTRY_BIN=${REGISTRY_BIN:-/usr/bin/docker-registry}
command -v skopeo >/dev/null || { echo "SKIP: skopeo is not installed"; exit 0; }
[ -x "$REGISTRY_BIN" ] || { echo "SKIP: $REGISTRY_BIN is missing"; exit 0; }
[ -x "$FERRY" ] || { echo "build ferry first: cargo build --release -p ferry (or set FERRY)"; exit 1; }
W=$(mktemp -d /tmp/ferry-bench.XXXXXX)
PIDS=""
# start_registry runs in $(...), a subshell: its PIDs go to a file, not a variable.
cleanup() { for p in $PIDS $(cat "$W/pids" 2>/dev/null); do kill "$p" 2>/dev/null || true; done; rm -rf "$W"; }
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_registry() { # name -> prints host:port
    port=$(free_port); d="$W/$1"; mkdir -p "$d/data"
    cat > "$d/config.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $d/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
YML
    "$REGISTRY_BIN" serve "$d/config.yml" >"$d/log" 2>&1 &
    PIDS="$PIDS $!"; echo "$!" >> "$W/pids"
    for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/v2/" && break; sleep 0.1; done
    echo "127.0.0.1:$port"
}
A=$(start_registry a); B=$(start_registry b); C=$(start_registry c); D=$(start_registry d)
NT="--src-tls-verify=false --dest-tls-verify=false"

# The test image, as an OCI layout built from local files (one gzip layer per directory).
if [ -n "${SRC:-}" ]; then
    skopeo copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$SRC" "docker://$A/bench/img:1"
else
    L="$W/layout"; mkdir -p "$L/blobs/sha256"; diffs=""; layers=""
    for dir in ${DIRS:-/usr/lib/python3* /usr/share/doc /usr/bin /usr/lib/x86_64-linux-gnu/perl* /usr/share/locale}; do
        [ -d "$dir" ] || continue
        tar -C / -cf "$W/l.tar" "${dir#/}" 2>/dev/null || true
        diff=$(sha256sum < "$W/l.tar" | cut -d' ' -f1)
        gzip -1 -c "$W/l.tar" > "$W/l.tgz"
        dig=$(sha256sum < "$W/l.tgz" | cut -d' ' -f1); size=$(stat -c %s "$W/l.tgz")
        mv "$W/l.tgz" "$L/blobs/sha256/$dig"
        diffs="$diffs${diffs:+,}\"sha256:$diff\""
        layers="$layers${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$dig\",\"size\":$size}"
    done
    rm -f "$W/l.tar"
    printf '{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/usr/bin:/bin"]},"rootfs":{"type":"layers","diff_ids":[%s]}}' "$diffs" > "$W/config"
    cd_=$(sha256sum < "$W/config" | cut -d' ' -f1); cs=$(stat -c %s "$W/config"); mv "$W/config" "$L/blobs/sha256/$cd_"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' "$cd_" "$cs" "$layers" > "$W/manifest"
    md=$(sha256sum < "$W/manifest" | cut -d' ' -f1); ms=$(stat -c %s "$W/manifest"); mv "$W/manifest" "$L/blobs/sha256/$md"
    printf '{"imageLayoutVersion":"1.0.0"}' > "$L/oci-layout"
    printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"img"}}]}' "$md" "$ms" > "$L/index.json"
    skopeo copy -q --dest-tls-verify=false "oci:$L:img" "docker://$A/bench/img:1"
fi
skopeo copy -q --src-tls-verify=false "docker://$A/bench/img:1" "oci:$W/src:img"
echo "image: $(du -sm "$W/src/blobs" | cut -f1) MiB of blobs, $(ls "$W/src/blobs/sha256" | wc -l) blobs"

# One timed run: prints "seconds peak_kib cpu_seconds".
measure() {
    /usr/bin/time -f "%e %M %U %S" -o "$W/t" "$@" >/dev/null 2>"$W/err" || { cat "$W/err"; exit 1; }
    awk '{ printf "%s %s %.2f\n", $1, $2, $3 + $4 }' "$W/t"
}

printf '%-30s %9s %9s %9s %9s %8s %8s %7s\n' case skopeo_s ferry_s skopeo_MiB ferry_MiB skopeo_cpu ferry_cpu ratio
row() { # name, skopeo result, ferry result
    set -- "$1" $2 $3
    awk -v n="$1" -v ss="$2" -v sm="$3" -v sc="$4" -v fs="$5" -v fm="$6" -v fc="$7" 'BEGIN {
        printf "%-30s %9.3f %9.3f %9.1f %9.1f %8.2f %8.2f %7.2f\n", n, ss, fs, sm/1024, fm/1024, sc, fc, (ss>0 ? fs/ss : 0) }'
    echo "$1|$2|$3|$4|$5|$6|$7" >> "$W/rows"
}
run_case() { # name, skopeo args..., --, ferry args...
    name=$1; shift; s=""; while [ "$1" != "--" ]; do s="$s $1"; shift; done; shift
    # shellcheck disable=SC2086
    sr=$(measure skopeo $s); fr=$(measure "$FERRY" "$@")
    row "$name" "$sr" "$fr"
}
# shellcheck disable=SC2086
run_case "registry->registry (absent)" copy -q $NT "docker://$A/bench/img:1" "docker://$B/s/img:1" -- \
    copy -q $NT "docker://$A/bench/img:1" "docker://$B/f/img:1"
# shellcheck disable=SC2086
run_case "registry->registry (present)" copy -q $NT "docker://$A/bench/img:1" "docker://$B/s/img:1" -- \
    copy -q $NT "docker://$A/bench/img:1" "docker://$B/f/img:1"
run_case "registry->oci:" copy -q --src-tls-verify=false "docker://$A/bench/img:1" "oci:$W/s-oci:img" -- \
    copy -q --src-tls-verify=false "docker://$A/bench/img:1" "oci:$W/f-oci:img"
# Fresh registries: skopeo's blob-info cache would otherwise mount what it pushed to B before.
run_case "oci:->registry" copy -q --dest-tls-verify=false "oci:$W/src:img" "docker://$C/s/img:1" -- \
    copy -q --dest-tls-verify=false "oci:$W/src:img" "docker://$D/f/img:1"
run_case "inspect" inspect --tls-verify=false "docker://$A/bench/img:1" -- \
    inspect --tls-verify=false "docker://$A/bench/img:1"
# Layers recompressed to zstd on the way (decompress + compress while streaming).
run_case "oci:->oci: zstd" copy -q --format oci --dest-compress-format zstd "oci:$W/src:img" "oci:$W/s-zstd:img" -- \
    copy -q --format oci --dest-compress-format zstd "oci:$W/src:img" "oci:$W/f-zstd:img"
# A whole repository (every tag) mirrored by sync, each tool to a registry of its own (so
# that skopeo's blob-info cache cannot mount blobs it pushed before).
E=$(start_registry e); F=$(start_registry f)
# shellcheck disable=SC2086
run_case "sync registry->registry" sync --src docker --dest docker $NT "$A/bench/img" "$E/mirror" -- \
    sync -q --src docker --dest docker $NT "$A/bench/img" "$F/mirror"
# Digests agree.
sd=$(skopeo inspect --tls-verify=false --format '{{.Digest}}' "docker://$B/s/img:1")
fd=$("$FERRY" inspect --tls-verify=false --format '{{.Digest}}' "docker://$B/f/img:1")
[ "$sd" = "$fd" ] && echo "digests match: $fd" || { echo "DIGEST MISMATCH: skopeo $sd ferry $fd"; exit 1; }

[ "${WAN:-1}" = 0 ] && exit 0
[ -x "$SLOWLINK" ] || { echo "build wharf-slowlink first: cargo build --release -p wharf-testkit (or WAN=0)"; exit 1; }
RTT_MS=${RTT_MS:-40}; MBIT=${MBIT:-200}
# slow NAME HOST:PORT: prints the address of a slow link in front of the registry.
slow() {
    "$SLOWLINK" "$2" "$RTT_MS" "$MBIT" > "$W/$1.link" &
    PIDS="$PIDS $!"; echo "$!" >> "$W/pids"
    for _ in $(seq 50); do [ -s "$W/$1.link" ] && break; sleep 0.1; done
    cat "$W/$1.link"
}
echo
echo "through wharf-slowlink: ${RTT_MS} ms round trip, ${MBIT} Mbit/s each way, per registry"
# Fresh registries, so no blob is present or mountable from the loopback cases.
G=$(start_registry g); H=$(start_registry h); I=$(start_registry i)
SA=$(slow a "$A"); SG=$(slow g "$G"); SH=$(slow h "$H"); SI=$(slow i "$I")
BYTES=$(du -sb "$W/src/blobs" | cut -f1)
# shellcheck disable=SC2086
run_case "wan registry->registry" copy -q $NT "docker://$SA/bench/img:1" "docker://$SG/s/img:1" -- \
    copy -q $NT "docker://$SA/bench/img:1" "docker://$SH/f/img:1"
# shellcheck disable=SC2086
run_case "wan all present" copy -q $NT "docker://$SA/bench/img:1" "docker://$SG/s/img:1" -- \
    copy -q $NT "docker://$SA/bench/img:1" "docker://$SH/f/img:1"
run_case "wan registry->oci:" copy -q --src-tls-verify=false "docker://$SA/bench/img:1" "oci:$W/ws-oci:img" -- \
    copy -q --src-tls-verify=false "docker://$SA/bench/img:1" "oci:$W/wf-oci:img"
rm -rf "$W/ws-oci" "$W/wf-oci"
# The link's floor for those copies: what curl takes to fetch the manifest and then every blob
# at once through the same link. No copy can do less (the bytes must cross it), so a ratio to
# skopeo cannot go below floor/skopeo; registry -> registry also crosses a second link, in
# parallel with the first, plus the upload's round trips.
printf 'url = "http://%s/v2/bench/img/manifests/1"\noutput = "/dev/null"\n' "$SA" > "$W/curl-manifest"
for b in "$W"/src/blobs/sha256/*; do
    # The manifest is fetched as a manifest above, not as a blob.
    head -c 200 "$b" | grep -q '"schemaVersion"' && continue
    printf 'url = "http://%s/v2/bench/img/blobs/sha256:%s"\noutput = "/dev/null"\n' "$SA" "${b##*/}"
done > "$W/curl-blobs"
/usr/bin/time -f "%e" -o "$W/floor" sh -c "curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' -K '$W/curl-manifest' && curl -sf --no-progress-meter --parallel --parallel-max 64 -K '$W/curl-blobs'"
FLOOR=$(cat "$W/floor")
grep -E '^wan registry->(registry|oci:)\|' "$W/rows" | while IFS='|' read -r name ss _ _ fs _ _; do
    awk -v n="$name" -v f="$FLOOR" -v ss="$ss" -v fs="$fs" 'BEGIN {
        printf "  %-28s link floor %.3f s: skopeo %.2fx, ferry %.2fx the floor; lowest possible ratio %.2f\n", n, f, ss/f, fs/f, f/ss }'
done

# 100 layers of one small file each (plus a config), as images built by many RUN steps.
L="$W/many"; mkdir -p "$L/blobs/sha256" "$W/mf"; diffs=""; layers=""
for i in $(seq 100); do
    head -c 4096 /dev/urandom > "$W/mf/f$i"
    tar -C "$W/mf" -cf "$W/l.tar" "f$i"
    diff=$(sha256sum < "$W/l.tar" | cut -d' ' -f1)
    gzip -n -c "$W/l.tar" > "$W/l.tgz"
    dig=$(sha256sum < "$W/l.tgz" | cut -d' ' -f1); size=$(stat -c %s "$W/l.tgz")
    mv "$W/l.tgz" "$L/blobs/sha256/$dig"
    diffs="$diffs${diffs:+,}\"sha256:$diff\""
    layers="$layers${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$dig\",\"size\":$size}"
done
printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[%s]}}' "$diffs" > "$W/config"
cd_=$(sha256sum < "$W/config" | cut -d' ' -f1); cs=$(stat -c %s "$W/config"); mv "$W/config" "$L/blobs/sha256/$cd_"
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' "$cd_" "$cs" "$layers" > "$W/manifest"
md=$(sha256sum < "$W/manifest" | cut -d' ' -f1); ms=$(stat -c %s "$W/manifest"); mv "$W/manifest" "$L/blobs/sha256/$md"
printf '{"imageLayoutVersion":"1.0.0"}' > "$L/oci-layout"
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"many"}}]}' "$md" "$ms" > "$L/index.json"
skopeo copy -q --dest-tls-verify=false "oci:$L:many" "docker://$A/bench/many:1"
# shellcheck disable=SC2086
run_case "wan 100 layers reg->reg" copy -q $NT "docker://$SA/bench/many:1" "docker://$SI/s/many:1" -- \
    copy -q $NT "docker://$SA/bench/many:1" "docker://$SI/f/many:1"
# shellcheck disable=SC2086
run_case "wan 100 layers present" copy -q $NT "docker://$SA/bench/many:1" "docker://$SI/s/many:1" -- \
    copy -q $NT "docker://$SA/bench/many:1" "docker://$SI/f/many:1"

echo
echo "CPU seconds per copied GiB (full copies of the $((BYTES >> 20)) MiB image):"
grep -E '^(registry->registry \(absent\)|registry->oci:|oci:->registry|wan registry->registry|wan registry->oci:)\|' "$W/rows" |
while IFS='|' read -r name _ _ sc _ _ fc; do
    awk -v n="$name" -v sc="$sc" -v fc="$fc" -v b="$BYTES" 'BEGIN {
        g = b / 1073741824; printf "  %-28s skopeo %6.2f  ferry %6.2f  ratio %5.2f\n", n, sc/g, fc/g, (sc>0 ? fc/sc : 0) }'
done
