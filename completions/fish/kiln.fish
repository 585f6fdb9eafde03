# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kiln_global_optspecs
    string join \n root= log-level= h/help V/version
end

function __fish_kiln_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kiln_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kiln_using_subcommand
    set -l cmd (__fish_kiln_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kiln -n "__fish_kiln_needs_command" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_needs_command" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_needs_command" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_needs_command" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "build" -d 'Build an image from a Dockerfile and a context directory'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "images" -d 'List images in local storage'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "pull" -d 'Copy an image from a registry or any transport into local storage'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "push" -d 'Copy a local image to a registry or any transport'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "inspect" -d 'Show an image\'s configuration and manifest as JSON'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "tag" -d 'Add names to a local image'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "rmi" -d 'Remove one or more images from local storage'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "parse" -d 'Print a Dockerfile\'s syntax tree in BuildKit\'s dump format'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "lint" -d 'Check a Dockerfile against BuildKit\'s build checks'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "system" -d 'Maintain the local store'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "from" -d 'Create a working container from an image (or scratch) and print its name'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "containers" -d 'List working containers'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "rm" -d 'Remove working containers'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "run" -d 'Run a command in a working container'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "copy" -d 'Copy files into a working container'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "add" -d 'Copy files into a working container, unpacking local tar archives'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "config" -d 'Change the image config of a working container'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "commit" -d 'Write a working container as an image'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "mount" -d 'Mount a working container\'s file system and print where (rootless: inside `kiln unshare`)'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "umount" -d 'Unmount working containers'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "unshare" -d 'Run a command in kiln\'s rootless user and mount namespace'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "manifest" -d 'Create, change, inspect and push manifest lists'
complete -c kiln -n "__fish_kiln_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kiln -n "__fish_kiln_using_subcommand build" -s t -l tag -d 'Name for the built image (repeatable); a name without a registry goes under localhost/' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -s f -l file -d 'The Dockerfile [default: CONTEXT/Containerfile or CONTEXT/Dockerfile]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand build" -l build-arg -d 'Set a build argument (KEY=VALUE; KEY alone takes the value from the environment)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l target -d 'Build this stage and the stages it needs, not the last one' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l iidfile -d 'Write the image ID to this file' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand build" -l format -d 'Image format' -r -f -a "oci\t''
docker\t''"
complete -c kiln -n "__fish_kiln_using_subcommand build" -l timestamp -d 'Created times of the image and its history, and the latest mtime in new layers, in seconds since the epoch [default: $SOURCE_DATE_EPOCH]' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l pull -d 'When to pull base images: missing (default: only when not in the store), always, never; buildah\'s true (pull, keep the local image if the registry fails) and false (never)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l secret -d 'A secret for `RUN --mount=type=secret` (repeatable): id=ID,src=FILE or id=ID,env=VAR; never stored in a layer, the history or the cache' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l ssh -d 'An SSH agent socket for `RUN --mount=type=ssh` (repeatable): default (from $SSH_AUTH_SOCK) or ID=SOCKET' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l network -d 'Network of RUN steps (`RUN --network=default`): private (the default: an own namespace with outbound access through pasta, else slirp4netns; the host\'s loopback is out of reach), pasta or slirp4netns (private through that helper), host, or none (loopback only)' -r -f -a "private\t''
pasta\t''
slirp4netns\t''
host\t''
none\t''"
complete -c kiln -n "__fish_kiln_using_subcommand build" -l isolation -d 'How RUN steps are isolated: oci (namespaces, a fresh /proc, pivot_root), chroot (for unprivileged CI containers: the container\'s own /proc, /sys and /dev bound, a user namespace only where one can be made, the container\'s network) or rootfs (kaniko\'s model, only for disposable job containers running as root: chroot, no namespace, no mount). Default: $KILN_ISOLATION, else oci where it works, else the first that does' -r -f -a "oci\t''
chroot\t''
rootfs\t''"
complete -c kiln -n "__fish_kiln_using_subcommand build" -l build-arg-file -d 'Read build arguments from FILE: KEY=VALUE lines as --build-arg takes them, `#` comments and blank lines skipped; --build-arg values win (repeatable)' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand build" -l label -d 'Set a label in the image config, over the Dockerfile\'s LABEL (KEY=VALUE, repeatable)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l annotation -d 'Set an annotation on the image manifest (KEY=VALUE, repeatable; OCI format only)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l env -d 'Set an environment variable in the built image (KEY=VALUE; KEY alone takes the value from the environment; repeatable)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l unsetenv -d 'Remove an environment variable from the built image, inherited ones too (repeatable)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l unsetlabel -d 'Remove a label from the built image, inherited ones too (repeatable)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l metadata-file -d 'Write BuildKit\'s build metadata JSON to FILE: containerimage.digest, containerimage.config.digest, containerimage.descriptor, image.name' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand build" -l logfile -d 'Write the build\'s progress to FILE instead of standard error' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand build" -l skip-unused-stages -d 'Build only the stages the target needs (`--skip-unused-stages=false`: every stage up to the target)' -r -f -a "true\t''
false\t''"
complete -c kiln -n "__fish_kiln_using_subcommand build" -l os -d 'Build for this OS (with --arch and --variant, instead of --platform) [default: the host\'s]' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l arch -d 'Build for this architecture (amd64, arm64, ...) [default: the host\'s]' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l build-context -d 'A named context for `COPY --from=NAME`, `RUN --mount=from=NAME` and `FROM NAME`: NAME=DIR (a local directory, with its own ignore file) or NAME=docker-image://REF (repeatable)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l source-date-epoch -d 'Created time of the image and its history in seconds since the epoch, also given to the Dockerfile as the SOURCE_DATE_EPOCH build argument; file times are kept unless --rewrite-timestamp (buildah 1.38)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l cap-add -d 'Add a capability to RUN\'s set (repeatable; podman\'s defaults otherwise)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l cap-drop -d 'Drop a capability from RUN\'s set (repeatable; `all` drops every one)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l compression-format -d 'Compression of new layers' -r -f -a "gzip\t''
zstd\t''"
complete -c kiln -n "__fish_kiln_using_subcommand build" -l manifest -d 'Add the built image (each platform\'s, with --platform LIST) to the manifest list LIST, created when missing (buildah\'s multi-arch CI flow)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l add-host -d 'Add HOST with IP to RUN\'s /etc/hosts (HOST:IP, repeatable)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l variant -d 'Build for this architecture variant (v7, ...)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -s v -l volume -d 'Bind-mount a host directory into every RUN: HOST-DIR:CONTAINER-DIR[:OPTIONS], options ro, rw, z, Z, U (the source is given to RUN\'s user), [r]private/[r]shared/[r]slave, [no]exec, [no]suid, [no]dev (repeatable); nothing of it goes into a layer' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l dns -d 'Name server for RUN\'s /etc/resolv.conf (repeatable); `none`: no generated resolv.conf' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l dns-search -d 'Search domain for RUN\'s /etc/resolv.conf (repeatable; `.`: none)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l dns-option -d 'Option line entry for RUN\'s /etc/resolv.conf (ndots:2, edns0, ...; repeatable)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l security-opt -d 'RUN\'s security options: seccomp=FILE, seccomp=unconfined, no-new-privileges; label=disable and apparmor=unconfined (what kiln always does); repeatable' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l ulimit -d 'Resource limit of RUN: TYPE=SOFT[:HARD] (nofile, nproc, core, stack, ...; -1: unlimited; at most kiln\'s own hard limit; repeatable)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -s m -l memory -d 'Memory limit of each RUN (`64m`, `1g`): a cgroup per RUN; refused where this host cannot enforce it (rootless on cgroup v1)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l cpus -d 'CPU limit of each RUN, in CPUs (`1.5`); refused where it cannot be enforced, as --memory' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l pids-limit -d 'Maximum number of processes of each RUN (`-1`: unlimited); as --memory' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l memory-swap -d 'Memory plus swap of each RUN (`128m`; `-1`: unlimited swap); needs --memory; as --memory' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -s c -l cpu-shares -d 'CPU weight of each RUN relative to other processes (1024: the default); as --memory' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l cpu-period -d 'CFS scheduler period of each RUN, in microseconds (with --cpu-quota); as --memory' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l cpu-quota -d 'CPU time each RUN may use per --cpu-period, in microseconds; as --memory' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l cpuset-cpus -d 'CPUs each RUN may run on (`0-3`, `0,2`); as --memory' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l cpuset-mems -d 'Memory nodes each RUN may allocate on (`0`, NUMA machines); as --memory' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l device -d 'Give RUN a host device node: HOST[:CONTAINER][:PERMISSIONS] (rw or rwm: no devices cgroup could narrow the access), or a CDI device VENDOR/CLASS=NAME (its spec\'s env, device nodes and mounts); repeatable' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l cdi-spec-dir -d 'Read CDI device specs (JSON or YAML) from this directory instead of /etc/cdi and /var/run/cdi, for --device and RUN --device (repeatable; a later one wins)' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand build" -l cache-ttl -d 'Use cached steps only when they were made less than DURATION ago (`10m`, `1h`; `0`: no cache, as --no-cache); remote --cache-from records are not used with it' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l identity-label -d 'Label the image with io.wharf.version (kiln\'s version), as buildah\'s io.buildah.version; off unless asked, so that builds stay reproducible across kiln versions' -r -f -a "true\t''
false\t''"
complete -c kiln -n "__fish_kiln_using_subcommand build" -l sbom -d 'Attach an SBOM of the image as an in-toto attestation referrer: SPDX 2.3 of the packages (dpkg, apk) and the files COPY/ADD added (true, spdx, cyclonedx, false)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l provenance -d 'Attach SLSA v1 provenance as an in-toto attestation referrer: min (the default, unless $BUILDX_NO_DEFAULT_ATTESTATIONS=1), max (with the Dockerfile and its steps), false' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l attest -d 'An attestation to attach, as buildx: type=sbom[,format=cyclonedx] or type=provenance[,mode=max]; disabled=true turns one off (repeatable)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l attest-layout -d 'Where attestations go: referrer (an OCI 1.1 referrer of the image, which keeps its digest) or index (also BuildKit\'s layout: the names then point at an index of the image and its attestation manifest, for registries without referrers)' -r -f -a "referrer\t''
index\t''"
complete -c kiln -n "__fish_kiln_using_subcommand build" -l sign-by -d 'Sign the built image with the GPG key of this fingerprint, for the first -t name; the signature is kept with the image and `kiln push` writes it to lookaside storage' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l sign-by-sigstore-private-key -d 'Sign the built image with this sigstore (cosign) private key, for the first -t name; the signature is kept as an OCI 1.1 referrer that `kiln push` carries' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand build" -l sign-passphrase-file -d 'Read the signing key\'s passphrase from the first line of PATH (default: $COSIGN_PASSWORD, else none)' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand build" -l cache-to -d 'Push every step\'s cache record (and layer) to this repository, HOST/NAME' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l cache-from -d 'Look steps up in this repository (repeatable) when the local cache misses' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -s o -l output -d 'Also write the result here: type=local,dest=DIR (the filesystem), type=tar,dest=FILE, type=oci,dest=FILE or type=docker,dest=FILE (image archives); a bare DIR means local' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l layers -d 'Cache every step as a layer (`--layers=false`: no cache, one new layer)' -r -f -a "true\t''
false\t''"
complete -c kiln -n "__fish_kiln_using_subcommand build" -l jobs -d 'Build up to N independent stages at once (0: no limit) [default: the number of CPUs]' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l platform -d 'Build for OS/ARCH[/VARIANT]; a comma-separated list builds each platform and tags a manifest list of them. RUN for a foreign architecture needs qemu-user binfmt emulation' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l tls-verify -d 'Require HTTPS and verify certificates (`--tls-verify=false` allows plain HTTP)' -r -f -a "true\t''
false\t''"
complete -c kiln -n "__fish_kiln_using_subcommand build" -l creds -d 'Credentials USER:PASSWORD for the registry' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l cert-dir -d 'Use certificates (*.crt, *.cert, *.key) in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand build" -l authfile -d 'Auth file' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand build" -l retry -d 'Retry a failed transfer this many times' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l retry-delay -d 'Fixed delay between retries, e.g. 2s or 500ms [default: exponential backoff]' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l signature-policy -l policy -d 'Signature policy file (containers-policy.json); default $HOME/.config/containers/policy.json, else /etc/containers/policy.json' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand build" -l registries.d -d 'Registries.d directory: where signatures are stored (lookaside, sigstore attachments)' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand build" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand build" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand build" -l no-cache -d 'Do not use cached results; run every instruction'
complete -c kiln -n "__fish_kiln_using_subcommand build" -s q -l quiet -d 'Print only the image ID'
complete -c kiln -n "__fish_kiln_using_subcommand build" -l check -d 'Run BuildKit\'s build checks on the Dockerfile and report them, without building; exit 1 when there are findings'
complete -c kiln -n "__fish_kiln_using_subcommand build" -l omit-history -d 'Leave the history out of the built image\'s config'
complete -c kiln -n "__fish_kiln_using_subcommand build" -l rewrite-timestamp -d 'With --source-date-epoch: clamp file times in new layers to it'
complete -c kiln -n "__fish_kiln_using_subcommand build" -l disable-compression -d 'Write new layers uncompressed'
complete -c kiln -n "__fish_kiln_using_subcommand build" -l no-hosts -d 'Do not generate /etc/hosts for RUN: it sees the image\'s own'
complete -c kiln -n "__fish_kiln_using_subcommand build" -l all-platforms -d 'Build for every platform all the base images offer (the intersection of their manifest lists; FROM scratch offers any) and tag a manifest list of them'
complete -c kiln -n "__fish_kiln_using_subcommand build" -l squash -d 'Squash the new layers of the image into one on top of its base'
complete -c kiln -n "__fish_kiln_using_subcommand build" -l insecure-policy -d 'Accept every image without checking the signature policy'
complete -c kiln -n "__fish_kiln_using_subcommand build" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand build" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand images" -l format -d 'Output format: `json`, `table`, or a Go template such as `{{.Repository}}:{{.Tag}}`' -r
complete -c kiln -n "__fish_kiln_using_subcommand images" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand images" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand images" -l json -d 'Output as JSON (same as --format json)'
complete -c kiln -n "__fish_kiln_using_subcommand images" -s q -l quiet -d 'Print only image IDs'
complete -c kiln -n "__fish_kiln_using_subcommand images" -l no-trunc -d 'Do not truncate image IDs'
complete -c kiln -n "__fish_kiln_using_subcommand images" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand images" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand pull" -l tls-verify -d 'Require HTTPS and verify certificates (`--tls-verify=false` allows plain HTTP)' -r -f -a "true\t''
false\t''"
complete -c kiln -n "__fish_kiln_using_subcommand pull" -l creds -d 'Credentials USER:PASSWORD for the registry' -r
complete -c kiln -n "__fish_kiln_using_subcommand pull" -l cert-dir -d 'Use certificates (*.crt, *.cert, *.key) in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand pull" -l authfile -d 'Auth file' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand pull" -l retry -d 'Retry a failed transfer this many times' -r
complete -c kiln -n "__fish_kiln_using_subcommand pull" -l retry-delay -d 'Fixed delay between retries, e.g. 2s or 500ms [default: exponential backoff]' -r
complete -c kiln -n "__fish_kiln_using_subcommand pull" -l signature-policy -l policy -d 'Signature policy file (containers-policy.json); default $HOME/.config/containers/policy.json, else /etc/containers/policy.json' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand pull" -l registries.d -d 'Registries.d directory: where signatures are stored (lookaside, sigstore attachments)' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand pull" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand pull" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand pull" -l insecure-policy -d 'Accept every image without checking the signature policy'
complete -c kiln -n "__fish_kiln_using_subcommand pull" -l all-platforms -d 'Pull every image of a multi-architecture index'
complete -c kiln -n "__fish_kiln_using_subcommand pull" -s q -l quiet -d 'Print nothing but the image ID'
complete -c kiln -n "__fish_kiln_using_subcommand pull" -l referrers -d 'Also store the image\'s OCI 1.1 referrers (signatures, SBOMs, attestations), through the referrers API or its tag fallback'
complete -c kiln -n "__fish_kiln_using_subcommand pull" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand pull" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand push" -l tls-verify -d 'Require HTTPS and verify certificates (`--tls-verify=false` allows plain HTTP)' -r -f -a "true\t''
false\t''"
complete -c kiln -n "__fish_kiln_using_subcommand push" -l creds -d 'Credentials USER:PASSWORD for the registry' -r
complete -c kiln -n "__fish_kiln_using_subcommand push" -l cert-dir -d 'Use certificates (*.crt, *.cert, *.key) in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand push" -l authfile -d 'Auth file' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand push" -l retry -d 'Retry a failed transfer this many times' -r
complete -c kiln -n "__fish_kiln_using_subcommand push" -l retry-delay -d 'Fixed delay between retries, e.g. 2s or 500ms [default: exponential backoff]' -r
complete -c kiln -n "__fish_kiln_using_subcommand push" -l signature-policy -l policy -d 'Signature policy file (containers-policy.json); default $HOME/.config/containers/policy.json, else /etc/containers/policy.json' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand push" -l registries.d -d 'Registries.d directory: where signatures are stored (lookaside, sigstore attachments)' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand push" -s f -l format -d 'Manifest format: oci or v2s2' -r -f -a "oci\t''
v2s2\t''
docker\t''"
complete -c kiln -n "__fish_kiln_using_subcommand push" -l digestfile -d 'Write the pushed manifest\'s digest to this file' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand push" -l sign-identity -d 'The identity signatures name (a full docker reference); default: the destination' -r
complete -c kiln -n "__fish_kiln_using_subcommand push" -l sign-by -d 'Sign the image with the GPG key of this fingerprint' -r
complete -c kiln -n "__fish_kiln_using_subcommand push" -l sign-by-sigstore-private-key -d 'Sign the image with this sigstore (cosign) private key' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand push" -l sign-passphrase-file -d 'Read the signing key\'s passphrase from the first line of PATH (default: $COSIGN_PASSWORD, else none)' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand push" -l registry-referrers-mode -d 'Where sigstore signatures go: legacy (the sha256-HEX.sig tag) or oci-1-1 (an OCI 1.1 referrer of the image), as cosign\'s flag of the same name' -r -f -a "legacy\t''
oci-1-1\t''"
complete -c kiln -n "__fish_kiln_using_subcommand push" -l referrers -d 'Push the image\'s referrers too (signatures, SBOMs, attestations stored with it); by default they are pushed when the image keeps its digest; --referrers=false skips them' -r -f -a "true\t''
false\t''"
complete -c kiln -n "__fish_kiln_using_subcommand push" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand push" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand push" -l insecure-policy -d 'Accept every image without checking the signature policy'
complete -c kiln -n "__fish_kiln_using_subcommand push" -s q -l quiet -d 'Print nothing while pushing'
complete -c kiln -n "__fish_kiln_using_subcommand push" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand push" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand inspect" -s k -l type -d 'What to inspect: container (a working container, else an image) or image' -r -f -a "container\t''
image\t''"
complete -c kiln -n "__fish_kiln_using_subcommand inspect" -s f -l format -d 'Format the output with a Go template, e.g. `{{.Config.config.Cmd}}`' -r
complete -c kiln -n "__fish_kiln_using_subcommand inspect" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand inspect" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand inspect" -l sbom -d 'Print the image\'s SBOM statement (in-toto, SPDX or CycloneDX) that `kiln build --sbom` attached'
complete -c kiln -n "__fish_kiln_using_subcommand inspect" -l provenance -d 'Print the image\'s SLSA provenance statement that `kiln build` attached'
complete -c kiln -n "__fish_kiln_using_subcommand inspect" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand inspect" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand tag" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand tag" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand tag" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand tag" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand rmi" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand rmi" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand rmi" -s a -l all -d 'Remove every image'
complete -c kiln -n "__fish_kiln_using_subcommand rmi" -s p -l prune -d 'Remove dangling (nameless) images'
complete -c kiln -n "__fish_kiln_using_subcommand rmi" -s f -l force -d 'Remove images even when containers use them (their layers stay until the containers go)'
complete -c kiln -n "__fish_kiln_using_subcommand rmi" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand rmi" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand parse" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand parse" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand parse" -l dump -d 'Print the syntax tree in BuildKit\'s parse dump format, one line per instruction. Like BuildKit\'s parser, this checks syntax only (an unknown instruction dumps as `(name "")`); without --dump every instruction is checked as a build would'
complete -c kiln -n "__fish_kiln_using_subcommand parse" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand parse" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand lint" -l skip -d 'Rules to skip (comma-separated BuildKit rule names, or `all`), added to `# check=skip=`' -r
complete -c kiln -n "__fish_kiln_using_subcommand lint" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand lint" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand lint" -l error -d 'Exit with status 1 when there are findings, as `# check=error=true` does'
complete -c kiln -n "__fish_kiln_using_subcommand lint" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand lint" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand system; and not __fish_seen_subcommand_from prune check help" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand system; and not __fish_seen_subcommand_from prune check help" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand system; and not __fish_seen_subcommand_from prune check help" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand system; and not __fish_seen_subcommand_from prune check help" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand system; and not __fish_seen_subcommand_from prune check help" -f -a "prune" -d 'Remove dangling images, then unreferenced blobs and unpacked layers'
complete -c kiln -n "__fish_kiln_using_subcommand system; and not __fish_seen_subcommand_from prune check help" -f -a "check" -d 'Re-hash every blob, check every reference and every unpacked layer in the store'
complete -c kiln -n "__fish_kiln_using_subcommand system; and not __fish_seen_subcommand_from prune check help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kiln -n "__fish_kiln_using_subcommand system; and __fish_seen_subcommand_from prune" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand system; and __fish_seen_subcommand_from prune" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand system; and __fish_seen_subcommand_from prune" -l keep-dangling -d 'Keep nameless images; only remove content no image references'
complete -c kiln -n "__fish_kiln_using_subcommand system; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand system; and __fish_seen_subcommand_from prune" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand system; and __fish_seen_subcommand_from check" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand system; and __fish_seen_subcommand_from check" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand system; and __fish_seen_subcommand_from check" -l quick -d 'Compare unpacked layers by file metadata (inode, size, mtime, ctime) instead of re-hashing every file: catches any change made through the filesystem, not one made below it (to the disk device)'
complete -c kiln -n "__fish_kiln_using_subcommand system; and __fish_seen_subcommand_from check" -l repair -d 'Remove damaged unpacked layers; they are unpacked again from their blobs when next used'
complete -c kiln -n "__fish_kiln_using_subcommand system; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand system; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand system; and __fish_seen_subcommand_from help" -f -a "prune" -d 'Remove dangling images, then unreferenced blobs and unpacked layers'
complete -c kiln -n "__fish_kiln_using_subcommand system; and __fish_seen_subcommand_from help" -f -a "check" -d 'Re-hash every blob, check every reference and every unpacked layer in the store'
complete -c kiln -n "__fish_kiln_using_subcommand system; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kiln -n "__fish_kiln_using_subcommand from" -l name -d 'Name for the working container [default: IMAGE-working-container[-N]]' -r
complete -c kiln -n "__fish_kiln_using_subcommand from" -l pull -d 'When to pull the image from a registry: always, missing, never (true = always, false = missing)' -r -f -a "always\t''
missing\t''
never\t''
true\t''
false\t''"
complete -c kiln -n "__fish_kiln_using_subcommand from" -l format -d 'Format of images committed from this container: oci or docker' -r -f -a "oci\t''
docker\t''"
complete -c kiln -n "__fish_kiln_using_subcommand from" -l network -d 'Network of later `kiln run`s in this container that give no --network: private (the default: an own namespace with outbound access through pasta, else slirp4netns), pasta, slirp4netns, host or none' -r -f -a "private\t''
pasta\t''
slirp4netns\t''
host\t''
none\t''"
complete -c kiln -n "__fish_kiln_using_subcommand from" -l isolation -d 'Isolation of later `kiln run`s in this container that give no --isolation: oci, chroot or rootfs (see `kiln build --isolation`)' -r -f -a "oci\t''
chroot\t''
rootfs\t''"
complete -c kiln -n "__fish_kiln_using_subcommand from" -l tls-verify -d 'Require HTTPS and verify certificates (`--tls-verify=false` allows plain HTTP)' -r -f -a "true\t''
false\t''"
complete -c kiln -n "__fish_kiln_using_subcommand from" -l creds -d 'Credentials USER:PASSWORD for the registry' -r
complete -c kiln -n "__fish_kiln_using_subcommand from" -l cert-dir -d 'Use certificates (*.crt, *.cert, *.key) in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand from" -l authfile -d 'Auth file' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand from" -l retry -d 'Retry a failed transfer this many times' -r
complete -c kiln -n "__fish_kiln_using_subcommand from" -l retry-delay -d 'Fixed delay between retries, e.g. 2s or 500ms [default: exponential backoff]' -r
complete -c kiln -n "__fish_kiln_using_subcommand from" -l signature-policy -l policy -d 'Signature policy file (containers-policy.json); default $HOME/.config/containers/policy.json, else /etc/containers/policy.json' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand from" -l registries.d -d 'Registries.d directory: where signatures are stored (lookaside, sigstore attachments)' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand from" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand from" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand from" -l insecure-policy -d 'Accept every image without checking the signature policy'
complete -c kiln -n "__fish_kiln_using_subcommand from" -s q -l quiet -d 'Print nothing while pulling'
complete -c kiln -n "__fish_kiln_using_subcommand from" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand from" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand containers" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand containers" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand containers" -s a -l all -d 'Also list containers not created by kiln (berth\'s)'
complete -c kiln -n "__fish_kiln_using_subcommand containers" -l json -d 'Output as JSON'
complete -c kiln -n "__fish_kiln_using_subcommand containers" -s q -l quiet -d 'Print only container IDs'
complete -c kiln -n "__fish_kiln_using_subcommand containers" -s n -l noheading -d 'Do not print the column headings'
complete -c kiln -n "__fish_kiln_using_subcommand containers" -l notruncate -d 'Do not shorten IDs'
complete -c kiln -n "__fish_kiln_using_subcommand containers" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand containers" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand rm" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand rm" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand rm" -s a -l all -d 'Remove every working container'
complete -c kiln -n "__fish_kiln_using_subcommand rm" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand rm" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand run" -s u -l user -d 'Run as this user (USER[:GROUP], names or IDs) instead of the config\'s' -r
complete -c kiln -n "__fish_kiln_using_subcommand run" -l workingdir -d 'Run in this directory instead of the config\'s (created when missing)' -r
complete -c kiln -n "__fish_kiln_using_subcommand run" -s v -l volume -d 'Bind-mount a host directory: HOST-DIR:CONTAINER-DIR[:ro|rw] (repeatable)' -r
complete -c kiln -n "__fish_kiln_using_subcommand run" -s e -l env -d 'Set an environment variable for the command: KEY=VALUE (repeatable)' -r
complete -c kiln -n "__fish_kiln_using_subcommand run" -l network -d 'Network: private (the default, or the container\'s `kiln from --network`: an own namespace with outbound access through pasta, else slirp4netns; the host\'s loopback is out of reach), pasta or slirp4netns (private through that helper), host (the host\'s, or the rootless namespace\'s), or none (loopback only)' -r -f -a "private\t''
pasta\t''
slirp4netns\t''
host\t''
none\t''"
complete -c kiln -n "__fish_kiln_using_subcommand run" -l isolation -d 'How the command is isolated: oci, chroot or rootfs (see `kiln build --isolation`); default: the container\'s `kiln from --isolation`, $KILN_ISOLATION, else oci where it works, else the first that does' -r -f -a "oci\t''
chroot\t''
rootfs\t''"
complete -c kiln -n "__fish_kiln_using_subcommand run" -l cap-add -d 'Add a capability to the command\'s set (repeatable; podman\'s defaults otherwise)' -r
complete -c kiln -n "__fish_kiln_using_subcommand run" -l cap-drop -d 'Drop a capability from the command\'s set (repeatable; `all` drops every one)' -r
complete -c kiln -n "__fish_kiln_using_subcommand run" -l device -d 'Give the command a host device node: HOST[:CONTAINER][:PERMISSIONS] (rw or rwm; repeatable)' -r
complete -c kiln -n "__fish_kiln_using_subcommand run" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand run" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand run" -l no-hosts -d 'Do not generate /etc/hosts: the command sees the container\'s own'
complete -c kiln -n "__fish_kiln_using_subcommand run" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand run" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand copy" -l chown -d 'Owner of the copied files: USER[:GROUP], names resolved in the container [default: 0:0]' -r
complete -c kiln -n "__fish_kiln_using_subcommand copy" -l chmod -d 'Mode of the copied files (octal)' -r
complete -c kiln -n "__fish_kiln_using_subcommand copy" -l from -d 'Copy from this working container or image instead of the host (owners are kept)' -r
complete -c kiln -n "__fish_kiln_using_subcommand copy" -l checksum -d 'Verify a downloaded source against this digest (sha256:HEX; http(s) sources only)' -r
complete -c kiln -n "__fish_kiln_using_subcommand copy" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand copy" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand copy" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand copy" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand add" -l chown -d 'Owner of the copied files: USER[:GROUP], names resolved in the container [default: 0:0]' -r
complete -c kiln -n "__fish_kiln_using_subcommand add" -l chmod -d 'Mode of the copied files (octal)' -r
complete -c kiln -n "__fish_kiln_using_subcommand add" -l from -d 'Copy from this working container or image instead of the host (owners are kept)' -r
complete -c kiln -n "__fish_kiln_using_subcommand add" -l checksum -d 'Verify a downloaded source against this digest (sha256:HEX; http(s) sources only)' -r
complete -c kiln -n "__fish_kiln_using_subcommand add" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand add" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand add" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand add" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand config" -s e -l env -d 'Set an environment variable (KEY=VALUE, $NAME expands) or remove one (KEY-) (repeatable)' -r
complete -c kiln -n "__fish_kiln_using_subcommand config" -l cmd -d 'Default command: a JSON array, or words split as a shell would' -r
complete -c kiln -n "__fish_kiln_using_subcommand config" -l entrypoint -d 'Entrypoint: a JSON array, or a string run by /bin/sh -c ("" clears it)' -r
complete -c kiln -n "__fish_kiln_using_subcommand config" -s l -l label -d 'Set a label (KEY=VALUE) or remove one (KEY-) (repeatable)' -r
complete -c kiln -n "__fish_kiln_using_subcommand config" -s a -l annotation -d 'Set a manifest annotation (KEY=VALUE) or remove one (KEY-) (repeatable)' -r
complete -c kiln -n "__fish_kiln_using_subcommand config" -l workingdir -d 'Working directory for commands' -r
complete -c kiln -n "__fish_kiln_using_subcommand config" -s u -l user -d 'User (and group) commands run as' -r
complete -c kiln -n "__fish_kiln_using_subcommand config" -s p -l port -d 'Expose a port (PORT[/PROTO]) or stop exposing one (PORT[/PROTO]-) (repeatable)' -r
complete -c kiln -n "__fish_kiln_using_subcommand config" -s v -l volume -d 'Declare a volume (PATH) or remove one (PATH-) (repeatable)' -r
complete -c kiln -n "__fish_kiln_using_subcommand config" -l author -d 'Author of the image' -r
complete -c kiln -n "__fish_kiln_using_subcommand config" -l created-by -d '`created_by` of the history entry the next commit writes [default: /bin/sh]' -r
complete -c kiln -n "__fish_kiln_using_subcommand config" -l shell -d 'Shell for shell-form commands (docker format only)' -r
complete -c kiln -n "__fish_kiln_using_subcommand config" -l stop-signal -d 'Signal that stops the container' -r
complete -c kiln -n "__fish_kiln_using_subcommand config" -l history-comment -d 'Comment of the history entry the next commit writes' -r
complete -c kiln -n "__fish_kiln_using_subcommand config" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand config" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand config" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand config" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand commit" -s f -l format -d 'Image format [default: the one given to `kiln from`, else oci]' -r -f -a "oci\t''
docker\t''"
complete -c kiln -n "__fish_kiln_using_subcommand commit" -l iidfile -d 'Write the image ID to this file' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand commit" -l timestamp -d 'Created time of the image and its new history entry, and the latest mtime in the new layer, in seconds since the epoch [default: $SOURCE_DATE_EPOCH]' -r
complete -c kiln -n "__fish_kiln_using_subcommand commit" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand commit" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand commit" -l rm -d 'Remove the working container after committing'
complete -c kiln -n "__fish_kiln_using_subcommand commit" -l squash -d 'Write the whole file system as a single layer'
complete -c kiln -n "__fish_kiln_using_subcommand commit" -s q -l quiet -d 'Print only the image ID, no progress'
complete -c kiln -n "__fish_kiln_using_subcommand commit" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand commit" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand mount" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand mount" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand mount" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand mount" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand umount" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand umount" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand umount" -s a -l all -d 'Unmount every working container'
complete -c kiln -n "__fish_kiln_using_subcommand umount" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand umount" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand unshare" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand unshare" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand unshare" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand unshare" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and not __fish_seen_subcommand_from create add remove inspect rm push help" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and not __fish_seen_subcommand_from create add remove inspect rm push help" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and not __fish_seen_subcommand_from create add remove inspect rm push help" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and not __fish_seen_subcommand_from create add remove inspect rm push help" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and not __fish_seen_subcommand_from create add remove inspect rm push help" -f -a "create" -d 'Create a manifest list, optionally with images of the store'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and not __fish_seen_subcommand_from create add remove inspect rm push help" -f -a "add" -d 'Add an image of the store to a manifest list'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and not __fish_seen_subcommand_from create add remove inspect rm push help" -f -a "remove" -d 'Remove an image (by manifest digest) from a manifest list'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and not __fish_seen_subcommand_from create add remove inspect rm push help" -f -a "inspect" -d 'Print a manifest list'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and not __fish_seen_subcommand_from create add remove inspect rm push help" -f -a "rm" -d 'Remove manifest lists from the store (not their images)'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and not __fish_seen_subcommand_from create add remove inspect rm push help" -f -a "push" -d 'Push a manifest list and its images to a registry or any transport'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and not __fish_seen_subcommand_from create add remove inspect rm push help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from create" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from create" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from add" -l os -d 'Operating system of the entry [default: the image\'s]' -r
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from add" -l arch -d 'Architecture of the entry [default: the image\'s]' -r
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from add" -l variant -d 'CPU variant of the entry [default: the image\'s]' -r
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from add" -l annotation -d 'Annotation of the entry: KEY=VALUE (repeatable)' -r
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from add" -l tls-verify -d 'Require HTTPS and verify certificates (`--tls-verify=false` allows plain HTTP)' -r -f -a "true\t''
false\t''"
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from add" -l creds -d 'Credentials USER:PASSWORD for the registry' -r
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from add" -l cert-dir -d 'Use certificates (*.crt, *.cert, *.key) in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from add" -l authfile -d 'Auth file' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from add" -l retry -d 'Retry a failed transfer this many times' -r
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from add" -l retry-delay -d 'Fixed delay between retries, e.g. 2s or 500ms [default: exponential backoff]' -r
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from add" -l signature-policy -l policy -d 'Signature policy file (containers-policy.json); default $HOME/.config/containers/policy.json, else /etc/containers/policy.json' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from add" -l registries.d -d 'Registries.d directory: where signatures are stored (lookaside, sigstore attachments)' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from add" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from add" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from add" -l all -d 'When IMAGE is a manifest list, add each of its images (pulled for every platform)'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from add" -l insecure-policy -d 'Accept every image without checking the signature policy'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from add" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from remove" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from remove" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from remove" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from inspect" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from inspect" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from inspect" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from inspect" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from rm" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from rm" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from push" -l all -d 'Also push the images in the list (always done: a registry refuses a list whose images it lacks; `--all=false` is refused)' -r -f -a "true\t''
false\t''"
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from push" -s f -l format -d 'Manifest type to push: oci or v2s2' -r -f -a "oci\t''
v2s2\t''
docker\t''"
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from push" -l tls-verify -d 'Require HTTPS and verify certificates (`--tls-verify=false` allows plain HTTP)' -r -f -a "true\t''
false\t''"
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from push" -l creds -d 'Credentials USER:PASSWORD for the registry' -r
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from push" -l cert-dir -d 'Use certificates (*.crt, *.cert, *.key) in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from push" -l authfile -d 'Auth file' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from push" -l retry -d 'Retry a failed transfer this many times' -r
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from push" -l retry-delay -d 'Fixed delay between retries, e.g. 2s or 500ms [default: exponential backoff]' -r
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from push" -l signature-policy -l policy -d 'Signature policy file (containers-policy.json); default $HOME/.config/containers/policy.json, else /etc/containers/policy.json' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from push" -l registries.d -d 'Registries.d directory: where signatures are stored (lookaside, sigstore attachments)' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from push" -l digestfile -d 'Write the pushed list\'s digest to this file' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from push" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from push" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from push" -l rm -d 'Remove the manifest list from the store once pushed'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from push" -l insecure-policy -d 'Accept every image without checking the signature policy'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from push" -s q -l quiet -d 'Print nothing while pushing'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from push" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from push" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a manifest list, optionally with images of the store'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from help" -f -a "add" -d 'Add an image of the store to a manifest list'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Remove an image (by manifest digest) from a manifest list'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from help" -f -a "inspect" -d 'Print a manifest list'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Remove manifest lists from the store (not their images)'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from help" -f -a "push" -d 'Push a manifest list and its images to a registry or any transport'
complete -c kiln -n "__fish_kiln_using_subcommand manifest; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "build" -d 'Build an image from a Dockerfile and a context directory'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "images" -d 'List images in local storage'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "pull" -d 'Copy an image from a registry or any transport into local storage'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "push" -d 'Copy a local image to a registry or any transport'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "inspect" -d 'Show an image\'s configuration and manifest as JSON'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "tag" -d 'Add names to a local image'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "rmi" -d 'Remove one or more images from local storage'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "parse" -d 'Print a Dockerfile\'s syntax tree in BuildKit\'s dump format'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "lint" -d 'Check a Dockerfile against BuildKit\'s build checks'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "system" -d 'Maintain the local store'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "from" -d 'Create a working container from an image (or scratch) and print its name'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "containers" -d 'List working containers'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "rm" -d 'Remove working containers'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "run" -d 'Run a command in a working container'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "copy" -d 'Copy files into a working container'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "add" -d 'Copy files into a working container, unpacking local tar archives'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "config" -d 'Change the image config of a working container'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "commit" -d 'Write a working container as an image'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "mount" -d 'Mount a working container\'s file system and print where (rootless: inside `kiln unshare`)'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "umount" -d 'Unmount working containers'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "unshare" -d 'Run a command in kiln\'s rootless user and mount namespace'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "manifest" -d 'Create, change, inspect and push manifest lists'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system from containers rm run copy add config commit mount umount unshare manifest help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kiln -n "__fish_kiln_using_subcommand help; and __fish_seen_subcommand_from system" -f -a "prune" -d 'Remove dangling images, then unreferenced blobs and unpacked layers'
complete -c kiln -n "__fish_kiln_using_subcommand help; and __fish_seen_subcommand_from system" -f -a "check" -d 'Re-hash every blob, check every reference and every unpacked layer in the store'
complete -c kiln -n "__fish_kiln_using_subcommand help; and __fish_seen_subcommand_from manifest" -f -a "create" -d 'Create a manifest list, optionally with images of the store'
complete -c kiln -n "__fish_kiln_using_subcommand help; and __fish_seen_subcommand_from manifest" -f -a "add" -d 'Add an image of the store to a manifest list'
complete -c kiln -n "__fish_kiln_using_subcommand help; and __fish_seen_subcommand_from manifest" -f -a "remove" -d 'Remove an image (by manifest digest) from a manifest list'
complete -c kiln -n "__fish_kiln_using_subcommand help; and __fish_seen_subcommand_from manifest" -f -a "inspect" -d 'Print a manifest list'
complete -c kiln -n "__fish_kiln_using_subcommand help; and __fish_seen_subcommand_from manifest" -f -a "rm" -d 'Remove manifest lists from the store (not their images)'
complete -c kiln -n "__fish_kiln_using_subcommand help; and __fish_seen_subcommand_from manifest" -f -a "push" -d 'Push a manifest list and its images to a registry or any transport'
