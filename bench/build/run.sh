#!/usr/bin/env bash
# kiln build vs buildah bud (issue 6 §7), in one run, each tool with its own fresh store:
#   1. a 4 RUN + 2 COPY Dockerfile FROM a busybox base made on the spot: cold, then fully cached;
#   2. a COPY of a ~300 MB context (BIG_MB): cold, then cached;
#   3. push of the built image from the store to an `oci:` layout.
# Prints seconds and CPU seconds (user+sys) per case, peak RSS, the kiln/buildah ratio and the
# load average. buildah runs only when installed.
#
#   bench/build/run.sh [USER]    as root: both tools run rootless as USER (default: root itself).
#       For buildah rootless use a user with a working containers config (the lab's `labuser`,
#       see shared/lab/README.md); KILN/BERTH default to the release binaries of CARGO_TARGET_DIR.
set -euo pipefail
cd "$(dirname "$0")/../.."
T=${CARGO_TARGET_DIR:-target}
KILN=${KILN:-$T/release/kiln}
BERTH=${BERTH:-$T/release/berth}
BIG_MB=${BIG_MB:-299}
user=${1:-root}
[ -x "$KILN" ] && [ -x "$BERTH" ] || { echo "build first: cargo build --release -p kiln -p berth"; exit 1; }
work=$(mktemp -d /tmp/kiln-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
cp "$KILN" "$BERTH" "$work/"
KILN="$work/kiln"; BERTH="$work/berth"

if [ "$user" = root ]; then
    as_user() { "$@"; }
else
    uid=$(id -u "$user"); gid=$(id -g "$user"); home=$(getent passwd "$user" | cut -d: -f6)
    as_user() { setpriv --reuid="$uid" --regid="$gid" --init-groups -- env -i HOME="$home" \
        USER="$user" PATH=/usr/local/bin:/usr/bin:/bin XDG_RUNTIME_DIR="/run/user/$uid" "$@"; }
fi

mkdir -p "$work/rootfs/bin" "$work/rootfs/etc" "$work/rootfs/tmp" "$work/ctx" "$work/big"
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
# The big context: incompressible files of 1-8 MB, BIG_MB in all.
i=0; left=$BIG_MB
while [ "$left" -gt 0 ]; do
    n=$(( (i % 8) + 1 )); [ "$n" -gt "$left" ] && n=$left
    head -c "$((n * 1048576))" /dev/urandom > "$work/big/f$i.bin"
    left=$((left - n)); i=$((i + 1))
done
printf 'FROM busybox\nCOPY . /data/\n' > "$work/big/Dockerfile"
chown -R "$(id -u "$user"):$(id -g "$user")" "$work"
# Writing the big context leaves ~300 MB of dirty pages; flush them now, or their writeback
# lands on whichever tool runs first (it cost kiln's cold build 0.4 s of fsync waits).
sync

# t NAME CMD...: one timed run; records seconds and peak KiB.
declare -A secs rss cpu
t() {
    local name=$1; shift
    as_user /usr/bin/time -f "%e %M %U %S" -o "$work/t" "$@" >/dev/null 2>"$work/err" ||
        { echo "$name failed:"; cat "$work/err"; exit 1; }
    local s m u y; read -r s m u y < "$work/t"
    secs[$name]=$s; rss[$name]=$m; cpu[$name]=$(awk -v u="$u" -v y="$y" 'BEGIN { printf "%.2f", u + y }')
}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"

K=("$KILN" --root "$work/kiln-store")
as_user "$BERTH" --root "$work/kiln-store" import "$work/base.tar" busybox >/dev/null
t "kiln cold" "${K[@]}" build -q -t bench "$work/ctx"
t "kiln cached" "${K[@]}" build -q -t bench "$work/ctx"
t "kiln big cold" "${K[@]}" build -q -t big "$work/big"
t "kiln big cached" "${K[@]}" build -q -t big "$work/big"
t "kiln push oci" "${K[@]}" push bench "oci:$work/kiln-oci:bench"

have_buildah=0
if command -v buildah >/dev/null; then
    have_buildah=1
    B=(buildah --root "$work/buildah-root" --runroot "$work/buildah-run" --storage-driver overlay)
    ctr=$(as_user "${B[@]}" from scratch)
    as_user "${B[@]}" add "$ctr" "$work/base.tar" / >/dev/null
    as_user "${B[@]}" commit -q "$ctr" localhost/busybox >/dev/null
    as_user "${B[@]}" rm "$ctr" >/dev/null
    t "buildah cold" "${B[@]}" bud -q --layers --network none -t bench "$work/ctx"
    t "buildah cached" "${B[@]}" bud -q --layers --network none -t bench "$work/ctx"
    t "buildah big cold" "${B[@]}" bud -q --layers --network none -t big "$work/big"
    t "buildah big cached" "${B[@]}" bud -q --layers --network none -t big "$work/big"
    t "buildah push oci" "${B[@]}" push -q bench "oci:$work/buildah-oci:bench"
fi

echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-22s %10s %10s %8s %8s %10s %10s %7s\n' case kiln_s buildah_s kiln_cpu bud_cpu kiln_MiB buildah_MiB ratio
for c in cold cached "big cold" "big cached" "push oci"; do
    ks=${secs["kiln $c"]}; km=${rss["kiln $c"]}; kc=${cpu["kiln $c"]}
    if [ "$have_buildah" = 1 ]; then
        bs=${secs["buildah $c"]}; bm=${rss["buildah $c"]}; bc=${cpu["buildah $c"]}
        awk -v n="$c" -v ks="$ks" -v bs="$bs" -v kc="$kc" -v bc="$bc" -v km="$km" -v bm="$bm" 'BEGIN {
            printf "%-22s %10.3f %10.3f %8.2f %8.2f %10.1f %10.1f %7.3f\n", n, ks, bs, kc, bc, km/1024, bm/1024, (bs>0 ? ks/bs : 0) }'
    else
        awk -v n="$c" -v ks="$ks" -v kc="$kc" -v km="$km" 'BEGIN { printf "%-22s %10.3f %10s %8.2f %8s %10.1f %10s %7s\n", n, ks, "-", kc, "-", km/1024, "-", "-" }'
    fi
done
[ "$have_buildah" = 1 ] || echo "buildah not installed: kiln only (lab figures: cold 1.73 s, cached 0.48 s rootless)"
