#!/usr/bin/env bash
# The main demo, offline: a base image made on the spot from Debian's busybox-static, a
# multi-stage build FROM it, a run of the result, and a push to a local registry that the demo
# starts on a free loopback port — then the image read back from the registry by ferry.
set -euo pipefail
cd "$(dirname "$0")/.."
# What the demo needs from Debian. As root it installs them itself, as scripts/test.sh does;
# otherwise it prints the one command to run.
need=()
[[ -x /bin/busybox ]] || need+=(busybox-static)
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v newuidmap >/dev/null || need+=(uidmap)
if ((${#need[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "the demo needs ${need[*]}: run  sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  printf '\n==> installing %s\n' "${need[*]}"
  # docker-registry's package starts a system service on :5000; the demo starts its own.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi
cargo build -q --release --bins
bin=${CARGO_TARGET_DIR:-target}/release
work=$(mktemp -d /tmp/wharf-demo.XXXXXX)
chmod 755 "$work"
export WHARF_ROOT=$work/store
registry_pid=
cleanup() { [[ -n $registry_pid ]] && kill "$registry_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
step() { printf '\n==> %s\n' "$*"; }

step "a busybox root filesystem from busybox-static, imported as localhost/busybox"
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc" "$work/rootfs/tmp"
cp /bin/busybox "$work/rootfs/bin/"
for a in $(/bin/busybox --list); do [[ $a == busybox ]] || ln -s busybox "$work/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$work/rootfs/etc/passwd"
echo 'root:x:0:' > "$work/rootfs/etc/group"
tar -C "$work/rootfs" --numeric-owner --owner=0 --group=0 -c . | "$bin/berth" import --change 'CMD ["sh"]' - busybox

step "kiln build -t demo:v1: a multi-stage Dockerfile FROM busybox"
mkdir -p "$work/ctx"
echo 'hello from a wharf image' > "$work/ctx/greeting.txt"
cat > "$work/ctx/Dockerfile" <<'DF'
FROM busybox AS builder
COPY greeting.txt /src/
RUN tr a-z A-Z < /src/greeting.txt > /src/GREETING && echo "built on $(uname -m)" >> /src/GREETING

FROM busybox
LABEL org.opencontainers.image.title=demo
COPY --from=builder /src/GREETING /srv/GREETING
WORKDIR /srv
CMD ["cat", "/srv/GREETING"]
DF
"$bin/kiln" build -t demo:v1 "$work/ctx"
"$bin/kiln" images

step "berth run --rm demo:v1 (rootless-style sandbox: user, mount, pid, ipc, uts, net namespaces)"
"$bin/berth" run --rm demo:v1
"$bin/berth" run --rm demo:v1 sh -c 'echo "pid $$ in $(pwd), hostname $(hostname)"'

step "a local registry on a free port"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
mkdir -p "$work/registry"
cat > "$work/registry/config.yml" <<YML
version: 0.1
storage:
  filesystem:
    rootdirectory: $work/registry/data
http:
  addr: 127.0.0.1:$port
YML
docker-registry serve "$work/registry/config.yml" > "$work/registry/log" 2>&1 &
registry_pid=$!
for _ in $(seq 50); do curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.1; done

step "kiln push demo:v1 docker://127.0.0.1:$port/demo:v1"
"$bin/kiln" push --tls-verify=false demo:v1 "docker://127.0.0.1:$port/demo:v1"
step "ferry inspect docker://127.0.0.1:$port/demo:v1"
"$bin/ferry" inspect --tls-verify=false "docker://127.0.0.1:$port/demo:v1"
step "ferry copy docker://127.0.0.1:$port/demo:v1 oci:$work/layout:demo (digests preserved)"
"$bin/ferry" copy --src-tls-verify=false "docker://127.0.0.1:$port/demo:v1" "oci:$work/layout:demo"
"$bin/kiln" system check
