#!/usr/bin/env bash
# The full test suite, as CI runs it: installs what the tests need on a fresh Debian machine,
# then format check, clippy, generated-file check, docs, and every test with nextest.
#
#   scripts/test.sh            everything
#   scripts/test.sh -E 'package(wharf-oci)'   extra arguments go to `cargo nextest run`
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n==> %s\n' "$*"; }

# --- 1. System packages the tests drive (real parts, not mocks). ---------------------------------
need_pkgs=()
for pair in skopeo:skopeo umoci:umoci /bin/busybox:busybox-static docker-registry:docker-registry \
            newuidmap:uidmap runc:runc fuse-overlayfs:fuse-overlayfs htpasswd:apache2-utils \
            zstd:zstd setpriv:util-linux /usr/bin/time:time tar:tar pasta:passt \
            slirp4netns:slirp4netns buildah:buildah qemu-aarch64-static:qemu-user-static \
            git:git update-binfmts:binfmt-support catatonit:catatonit podman:podman \
            debootstrap:debootstrap openssl:openssl gpg:gnupg /usr/sbin/sshd:openssh-server; do
  cmd=${pair%%:*} pkg=${pair#*:}
  if [[ $cmd == /* ]]; then [[ -e $cmd ]] || need_pkgs+=("$pkg"); else command -v "$cmd" >/dev/null || need_pkgs+=("$pkg"); fi
done
if ((${#need_pkgs[@]})); then
  step "installing ${need_pkgs[*]}"
  if [[ $(id -u) -ne 0 ]]; then echo "need root to install: ${need_pkgs[*]}" >&2; exit 1; fi
  # docker-registry's package starts a system service on :5000; the tests start their own
  # registries on free ports, so keep the package's service from starting at all.
  printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; chmod +x /usr/sbin/policy-rc.d
  trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_pkgs[@]}" >/dev/null
  rm -f /usr/sbin/policy-rc.d
fi
command -v cargo-nextest >/dev/null || cargo install --locked cargo-nextest

# Foreign-platform builds (kiln build --platform linux/arm64) run RUN steps under qemu-user
# through binfmt_misc; the F flag (qemu-user-static registers with it) keeps the interpreter
# reachable inside a user namespace. Their base image is Debian's arm64 busybox-static, fetched
# as a .deb into apt's cache. Best effort: without them those tests print SKIP.
if [[ $(id -u) -eq 0 ]]; then
  mountpoint -q /proc/sys/fs/binfmt_misc ||
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || true
  # The package registers its formats at install time only when binfmt_misc was mounted then.
  [[ -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]] ||
    { update-binfmts --import qemu-aarch64 2>/dev/null; update-binfmts --enable qemu-aarch64; } || true
  if ! compgen -G '/var/cache/apt/archives/busybox-static_*_arm64.deb' >/dev/null; then
    step "fetching busybox-static:arm64"
    { dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64; } &&
      apt-get update -qq &&
      (cd /var/cache/apt/archives && apt-get download -qq busybox-static:arm64) || true
  fi
fi

# --- 2. The unprivileged test user (rootless tests run as this user, with subid ranges). ------
if [[ $(id -u) -eq 0 ]]; then
  id wharf-test >/dev/null 2>&1 || useradd --create-home --shell /bin/sh wharf-test
  grep -q '^wharf-test:' /etc/subuid || usermod --add-subuids 231072-296607 wharf-test
  grep -q '^wharf-test:' /etc/subgid || usermod --add-subgids 231072-296607 wharf-test
  uid=$(id -u wharf-test); mkdir -p "/run/user/$uid"; chown wharf-test: "/run/user/$uid"; chmod 700 "/run/user/$uid"
  # fuse-overlayfs (the overlay fallback) needs /dev/fuse, which this kind of VM ships at 0600;
  # podman's rootless setup expects 0666, as the peer lab found.
  [[ -c /dev/fuse ]] && chmod 0666 /dev/fuse
  # pasta and slirp4netns open /dev/net/tun inside the container's namespaces: same story.
  [[ -c /dev/net/tun ]] && chmod 0666 /dev/net/tun
  # The test user re-runs test binaries and reads test data: the checkout and the shared folder
  # beside it must be reachable (o+x on every ancestor directory).
  for d in "$PWD" "$PWD/../shared"; do
    p=$(realpath -m "$d")
    while [[ $p != / ]]; do
      [[ -e $p ]] && [[ $(stat -c %A "$p") != d????????[xt] ]] && chmod o+x "$p"
      p=$(dirname "$p")
    done
  done
fi

# --- 3. Build once, warm: the target dir lives outside the checkout so CI reuses it. -----------
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/tmp/wharf-target}
mkdir -p "$CARGO_TARGET_DIR"; chmod 755 "$CARGO_TARGET_DIR" 2>/dev/null || true
export CARGO_TERM_COLOR=${CARGO_TERM_COLOR:-never}

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --workspace --all-targets -- -D warnings"
cargo clippy --workspace --all-targets -- -D warnings

step "completions/ and man/ are up to date"
cargo run -q -p xtask -- check

step "cargo doc (warnings are errors)"
RUSTDOCFLAGS="-D warnings" cargo doc -q --workspace --no-deps

step "build the binaries the end-to-end tests drive"
cargo build -q --workspace --bins

step "cargo nextest run --workspace"
rm -f target/nextest/ci/junit.xml   # nextest writes its report under the workspace, not CARGO_TARGET_DIR
cargo nextest run --workspace --profile ci --no-fail-fast "$@"

# A test that skips has tested nothing: on CI, where every prerequisite is installed, that is a
# failure unless scripts/skip-allowlist names it with the reason this host cannot run it.
step "skipped tests"
if [[ ${CI:-} == true ]]; then
  python3 scripts/check-skips.py target/nextest/ci/junit.xml scripts/skip-allowlist
else
  python3 scripts/check-skips.py target/nextest/ci/junit.xml scripts/skip-allowlist || true
fi
