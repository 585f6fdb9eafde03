#!/usr/bin/env bash
# The main demo, offline: a base image made on the spot from Debian's busybox-static, imported
# into a fresh store, listed, inspected, checked, and read back by skopeo and umoci.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v busybox >/dev/null || [[ -x /bin/busybox ]] || { echo "install busybox-static first (apt-get install busybox-static)"; exit 1; }
cargo build -q --release --bins
bin=${CARGO_TARGET_DIR:-target}/release
work=$(mktemp -d /tmp/wharf-demo.XXXXXX)
export WHARF_ROOT=$work/store
trap 'rm -rf "$work"' EXIT

echo "==> a busybox root filesystem from busybox-static"
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc" "$work/rootfs/tmp"
cp /bin/busybox "$work/rootfs/bin/"
for a in $(/bin/busybox --list); do [[ $a == busybox ]] || ln -s busybox "$work/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$work/rootfs/etc/passwd"
echo 'root:x:0:' > "$work/rootfs/etc/group"

echo "==> berth import - busybox"
tar -C "$work/rootfs" -c . | "$bin/berth" import --change 'CMD ["sh"]' - busybox
echo "==> kiln tag busybox demo:v1"
"$bin/kiln" tag busybox demo:v1
echo "==> kiln images"
"$bin/kiln" images
echo "==> kiln inspect --format '{{.Config.config.Cmd}}' demo:v1"
"$bin/kiln" inspect --format '{{.Config.config.Cmd}}' demo:v1
echo "==> kiln system check"
"$bin/kiln" system check
if command -v skopeo >/dev/null; then
  echo "==> skopeo inspect oci:\$WHARF_ROOT/oci:localhost/demo:v1 (the store is an OCI layout)"
  skopeo inspect "oci:$WHARF_ROOT/oci:localhost/demo:v1" | head -12
fi
if command -v umoci >/dev/null; then
  echo "==> umoci unpack, then run the image's busybox"
  umoci unpack --image "$WHARF_ROOT/oci:localhost/demo:v1" "$work/bundle" >/dev/null
  "$work/bundle/rootfs/bin/busybox" echo "hello from the unpacked image"
fi
