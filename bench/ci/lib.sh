# Shared by bench/ci/*.sh: a job-container root filesystem with kiln (or buildah) and a
# busybox userland made from this machine's files, and podman runs with a pod's settings.
# Source it; it needs WORK (a scratch directory) and KILN (the kiln binary to put in).

# ci_rootfs DIR: busybox-static + kiln + the glibc libraries `ldd kiln` names, a root and a
# uid-1000 user, /tmp 1777, an empty /store and /work owned by 1000.
ci_rootfs() {
    local dir=$1
    mkdir -p "$dir"/{bin,etc,root,tmp,store,work,home/u,usr/local/bin,etc/containers}
    cp /bin/busybox "$dir/bin/"
    for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$dir/bin/$a"; done
    cp "$KILN" "$dir/usr/local/bin/kiln"
    for lib in $(ldd "$KILN" | awk '/=> \//{print $3} /^\t\/lib/{print $1}'); do
        mkdir -p "$dir$(dirname "$lib")"
        cp -L "$lib" "$dir$lib"
    done
    printf 'root:x:0:0:root:/root:/bin/sh\nu:x:1000:1000::/home/u:/bin/sh\n' > "$dir/etc/passwd"
    printf 'root:x:0:\nu:x:1000:\n' > "$dir/etc/group"
    chmod 1777 "$dir/tmp"
    chown 1000:1000 "$dir/home/u" "$dir/store" "$dir/work"
}

# podman's config for this machine (shared/lab/README.md): runc (crun fails on cgroup v1
# hybrid), ulimits root may set without CAP_SYS_RESOURCE, no systemd.
ci_podman_conf() {
    mkdir -p "$WORK/conf"
    printf '[containers]\ndefault_ulimits = ["nofile=20000:20000","nproc=32768:32768"]\n[engine]\nruntime = "runc"\ncgroup_manager = "cgroupfs"\nevents_logger = "file"\n' \
        > "$WORK/conf/containers.conf"
    export CONTAINERS_CONF="$WORK/conf/containers.conf"
}

# ci_run ROOTFS [podman flags...] -- CMD...: a default unprivileged container (no
# --privileged, default capabilities and seccomp, masked /proc, no /dev/fuse), host network.
ci_run() {
    local rootfs=$1; shift
    local flags=()
    while [ "$1" != -- ]; do flags+=("$1"); shift; done
    shift
    podman run --rm --runtime runc --network host "${flags[@]}" --rootfs "$rootfs" "$@"
}

# ci_add_buildah DIR: buildah, the libraries it links, and the configuration it needs inside
# a job container (vfs storage, the insecure local registry, an accept-anything policy).
ci_add_buildah() {
    local dir=$1
    cp /usr/bin/buildah "$dir/usr/local/bin/buildah"
    for lib in $(ldd /usr/bin/buildah | awk '/=> \//{print $3} /^\t\/lib/{print $1}'); do
        mkdir -p "$dir$(dirname "$lib")"
        cp -L "$lib" "$dir$lib"
    done
    mkdir -p "$dir/etc/containers" "$dir/var/tmp"
    chmod 1777 "$dir/var/tmp"
    printf '{"default":[{"type":"insecureAcceptAnything"}]}\n' > "$dir/etc/containers/policy.json"
    printf '[storage]\ndriver = "vfs"\nrunroot = "/tmp/buildah-run"\ngraphroot = "/store/buildah"\n' \
        > "$dir/etc/containers/storage.conf"
    printf '[[registry]]\nlocation = "%s"\ninsecure = true\n' "$2" > "$dir/etc/containers/registries.conf"
}
