#!/bin/sh
# kiln build vs buildah bud: a 4 RUN + 2 COPY Dockerfile, cold and fully cached, FROM a busybox
# base made on the spot (Debian's busybox-static). buildah runs only when installed.
#   KILN=target/release/kiln BERTH=target/release/berth bench/build/run.sh
set -eu
KILN=${KILN:-kiln}
BERTH=${BERTH:-berth}
work=$(mktemp -d /tmp/kiln-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc" "$work/rootfs/tmp" "$work/ctx"
cp /bin/busybox "$work/rootfs/bin/"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$work/rootfs/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' > "$work/rootfs/etc/passwd"
printf 'root:x:0:\n' > "$work/rootfs/etc/group"
tar -C "$work/rootfs" --numeric-owner --owner=0 --group=0 -cf "$work/base.tar" .
head -c 4000000 /dev/urandom > "$work/ctx/data.bin"
echo 'echo app' > "$work/ctx/app.sh"
cat > "$work/ctx/Dockerfile" <<'DF'
FROM busybox
RUN echo one > /one
RUN mkdir -p /srv && echo two > /srv/two
COPY data.bin /srv/
RUN sha256sum /srv/data.bin > /srv/sum
COPY app.sh /usr/local/bin/
RUN chmod +x /usr/local/bin/app.sh
DF

now() { date +%s.%N; }
elapsed() { echo "$2 - $1" | bc; }

root="$work/store"
"$BERTH" --root "$root" import "$work/base.tar" busybox >/dev/null
t0=$(now); "$KILN" --root "$root" build -q -t bench "$work/ctx" >/dev/null; t1=$(now)
"$KILN" --root "$root" build -q -t bench "$work/ctx" >/dev/null; t2=$(now)
echo "kiln    cold $(elapsed "$t0" "$t1") s   cached $(elapsed "$t1" "$t2") s"

if command -v buildah >/dev/null; then
    bs="$work/buildah"
    b() { buildah --root "$bs/root" --runroot "$bs/run" "$@"; }
    ctr=$(b from scratch)
    b add "$ctr" "$work/base.tar" / >/dev/null
    b commit -q "$ctr" localhost/busybox >/dev/null
    t0=$(now); b bud -q --layers -t bench "$work/ctx" >/dev/null; t1=$(now)
    b bud -q --layers -t bench "$work/ctx" >/dev/null; t2=$(now)
    echo "buildah cold $(elapsed "$t0" "$t1") s   cached $(elapsed "$t1" "$t2") s"
else
    echo "buildah not installed: kiln only"
fi
