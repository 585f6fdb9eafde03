#!/bin/bash
# `kiln from` alone (the unpack of an 8-layer ~760 MB image), two kiln builds alternating on copies
# of the same pulled store: NEW=DIR OLD=DIR (each holding kiln) RUNS=2 bench/pull/unpack.sh
# Prints wall, user and sys seconds and peak RSS per run. Needs root, docker-registry, skopeo.
set -eu
W=$(mktemp -d /tmp/perf-from.XXXXXX)
trap 'kill $REG 2>/dev/null; rm -rf "$W"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p $W/reg; printf 'version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$W/reg/data" "$port" > $W/reg/c.yml
/usr/bin/docker-registry serve $W/reg/c.yml >/dev/null 2>&1 & REG=$!
sleep 1
L=$W/layout; mkdir -p $L/blobs/sha256 $W/base/bin; diffs=""; layers=""
cp /bin/busybox $W/base/bin/; ln -s busybox $W/base/bin/true; tar -C $W/base -cf $W/base.tar .
for dir in $W/base.tar /usr/lib/python3.11 /usr/share/doc /usr/share/locale /usr/lib/gcc /usr/include /usr/share/man /usr/libexec; do
  if [ -f $dir ]; then mv $dir $W/l.tar; else tar -C / -cf $W/l.tar ${dir#/} 2>/dev/null || true; fi
  diff=$(sha256sum < $W/l.tar | cut -d' ' -f1); gzip -1 -n -c $W/l.tar > $W/l.tgz
  dig=$(sha256sum < $W/l.tgz | cut -d' ' -f1); size=$(stat -c %s $W/l.tgz); mv $W/l.tgz $L/blobs/sha256/$dig
  diffs="$diffs${diffs:+,}\"sha256:$diff\""; layers="$layers${layers:+,}{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$dig\",\"size\":$size}"
done
printf '{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[%s]}}' "$diffs" > $W/config
cd_=$(sha256sum < $W/config | cut -d' ' -f1); cs=$(stat -c %s $W/config); mv $W/config $L/blobs/sha256/$cd_
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[%s]}' $cd_ $cs "$layers" > $W/m
md=$(sha256sum < $W/m | cut -d' ' -f1); ms=$(stat -c %s $W/m); mv $W/m $L/blobs/sha256/$md
printf '{"imageLayoutVersion":"1.0.0"}' > $L/oci-layout
printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"big"}}]}' $md $ms > $L/index.json
skopeo copy -q --dest-tls-verify=false oci:$L:big docker://127.0.0.1:$port/b/big:1
$NEW/kiln --root $W/r0 pull -q --tls-verify=false 127.0.0.1:$port/b/big:1 >/dev/null
sync
for i in $(seq ${RUNS:-2}); do
  for v in NEW OLD; do bin=${!v}/kiln
    rm -rf $W/r; cp -a $W/r0 $W/r; sync
    /usr/bin/time -f "$v from: %e s wall, %U user %S sys, %M KiB" $bin --root $W/r from 127.0.0.1:$port/b/big:1 >/dev/null
    du -sm $W/r/layers $W/r/layer-trees 2>/dev/null | tr '\n' ' '; echo
  done
done
