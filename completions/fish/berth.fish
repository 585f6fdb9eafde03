# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_berth_global_optspecs
    string join \n root= log-level= h/help V/version
end

function __fish_berth_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_berth_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_berth_using_subcommand
    set -l cmd (__fish_berth_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c berth -n "__fish_berth_needs_command" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_needs_command" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_needs_command" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_needs_command" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_needs_command" -f -a "import" -d 'Create an image from a root filesystem tarball'
complete -c berth -n "__fish_berth_needs_command" -f -a "images" -d 'List images in local storage'
complete -c berth -n "__fish_berth_needs_command" -f -a "rmi" -d 'Remove one or more images from local storage'
complete -c berth -n "__fish_berth_needs_command" -f -a "pull" -d 'Copy an image from a registry or any transport into local storage'
complete -c berth -n "__fish_berth_needs_command" -f -a "run" -d 'Run a command in a new container'
complete -c berth -n "__fish_berth_needs_command" -f -a "exec" -d 'Run a command in a running container'
complete -c berth -n "__fish_berth_needs_command" -f -a "ps" -d 'List containers'
complete -c berth -n "__fish_berth_needs_command" -f -a "port" -d 'List a container\'s published ports, or the host address of one of them'
complete -c berth -n "__fish_berth_needs_command" -f -a "logs" -d 'Print a detached container\'s output'
complete -c berth -n "__fish_berth_needs_command" -f -a "stop" -d 'Stop running containers (the stop signal, then SIGKILL after a timeout)'
complete -c berth -n "__fish_berth_needs_command" -f -a "kill" -d 'Send a signal to running containers'
complete -c berth -n "__fish_berth_needs_command" -f -a "rm" -d 'Remove containers'
complete -c berth -n "__fish_berth_needs_command" -f -a "wait" -d 'Wait for containers to exit and print their exit codes'
complete -c berth -n "__fish_berth_needs_command" -f -a "inspect" -d 'Show a container\'s or an image\'s configuration as JSON'
complete -c berth -n "__fish_berth_needs_command" -f -a "info" -d 'Show the storage driver, rootless mode, runtimes and store root'
complete -c berth -n "__fish_berth_needs_command" -f -a "unshare" -d 'Run a command in berth\'s rootless user and mount namespace'
complete -c berth -n "__fish_berth_needs_command" -f -a "volume" -d 'Manage named volumes'
complete -c berth -n "__fish_berth_needs_command" -f -a "container-monitor" -d 'Watch a detached container (internal)'
complete -c berth -n "__fish_berth_needs_command" -f -a "container-cleanup" -d 'Record a detached container\'s end and clean up after it (internal)'
complete -c berth -n "__fish_berth_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c berth -n "__fish_berth_using_subcommand import" -s c -l change -d 'Apply a Dockerfile instruction: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, STOPSIGNAL, USER, VOLUME, WORKDIR' -r
complete -c berth -n "__fish_berth_using_subcommand import" -s m -l message -d 'Commit message recorded in the image\'s history' -r
complete -c berth -n "__fish_berth_using_subcommand import" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand import" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand import" -s q -l quiet -d 'Print only the image ID'
complete -c berth -n "__fish_berth_using_subcommand import" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand import" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand images" -l format -d 'Output format: `json`, `table`, or a Go template such as `{{.Repository}}:{{.Tag}}`' -r
complete -c berth -n "__fish_berth_using_subcommand images" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand images" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand images" -l json -d 'Output as JSON (same as --format json)'
complete -c berth -n "__fish_berth_using_subcommand images" -s q -l quiet -d 'Print only image IDs'
complete -c berth -n "__fish_berth_using_subcommand images" -l no-trunc -d 'Do not truncate image IDs'
complete -c berth -n "__fish_berth_using_subcommand images" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand images" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand rmi" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand rmi" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand rmi" -s a -l all -d 'Remove every image'
complete -c berth -n "__fish_berth_using_subcommand rmi" -s p -l prune -d 'Remove dangling (nameless) images'
complete -c berth -n "__fish_berth_using_subcommand rmi" -s f -l force -d 'Remove images even when containers use them (their layers stay until the containers go)'
complete -c berth -n "__fish_berth_using_subcommand rmi" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand rmi" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand pull" -l tls-verify -d 'Require HTTPS and verify certificates (`--tls-verify=false` allows plain HTTP)' -r -f -a "true\t''
false\t''"
complete -c berth -n "__fish_berth_using_subcommand pull" -l creds -d 'Credentials USER:PASSWORD for the registry' -r
complete -c berth -n "__fish_berth_using_subcommand pull" -l cert-dir -d 'Use certificates (*.crt, *.cert, *.key) in DIR' -r -F
complete -c berth -n "__fish_berth_using_subcommand pull" -l authfile -d 'Auth file' -r -F
complete -c berth -n "__fish_berth_using_subcommand pull" -l retry -d 'Retry a failed transfer this many times' -r
complete -c berth -n "__fish_berth_using_subcommand pull" -l retry-delay -d 'Fixed delay between retries, e.g. 2s or 500ms [default: exponential backoff]' -r
complete -c berth -n "__fish_berth_using_subcommand pull" -l signature-policy -l policy -d 'Signature policy file (containers-policy.json); default $HOME/.config/containers/policy.json, else /etc/containers/policy.json' -r -F
complete -c berth -n "__fish_berth_using_subcommand pull" -l registries.d -d 'Registries.d directory: where signatures are stored (lookaside, sigstore attachments)' -r -F
complete -c berth -n "__fish_berth_using_subcommand pull" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand pull" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand pull" -l insecure-policy -d 'Accept every image without checking the signature policy'
complete -c berth -n "__fish_berth_using_subcommand pull" -l all-platforms -d 'Pull every image of a multi-architecture index'
complete -c berth -n "__fish_berth_using_subcommand pull" -s q -l quiet -d 'Print nothing but the image ID'
complete -c berth -n "__fish_berth_using_subcommand pull" -l referrers -d 'Also store the image\'s OCI 1.1 referrers (signatures, SBOMs, attestations), through the referrers API or its tag fallback'
complete -c berth -n "__fish_berth_using_subcommand pull" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand pull" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand run" -l pull -d 'Pull the image: `always`, `missing` (when not in the store), `never`' -r -f -a "always\t'Pull the image before every run'
missing\t'Pull only when the store does not have the image'
never\t'Never pull: the image must be in the store'"
complete -c berth -n "__fish_berth_using_subcommand run" -l tls-verify -d 'Require HTTPS and verify certificates (`--tls-verify=false` allows plain HTTP)' -r -f -a "true\t''
false\t''"
complete -c berth -n "__fish_berth_using_subcommand run" -l creds -d 'Credentials USER:PASSWORD for the registry' -r
complete -c berth -n "__fish_berth_using_subcommand run" -l cert-dir -d 'Use certificates (*.crt, *.cert, *.key) in DIR' -r -F
complete -c berth -n "__fish_berth_using_subcommand run" -l authfile -d 'Auth file' -r -F
complete -c berth -n "__fish_berth_using_subcommand run" -l retry -d 'Retry a failed transfer this many times' -r
complete -c berth -n "__fish_berth_using_subcommand run" -l retry-delay -d 'Fixed delay between retries, e.g. 2s or 500ms [default: exponential backoff]' -r
complete -c berth -n "__fish_berth_using_subcommand run" -l signature-policy -l policy -d 'Signature policy file (containers-policy.json); default $HOME/.config/containers/policy.json, else /etc/containers/policy.json' -r -F
complete -c berth -n "__fish_berth_using_subcommand run" -l registries.d -d 'Registries.d directory: where signatures are stored (lookaside, sigstore attachments)' -r -F
complete -c berth -n "__fish_berth_using_subcommand run" -l userns -d 'User namespace mode: `keep-id` runs as your own uid and gid inside the container' -r -f -a "keep-id\t''"
complete -c berth -n "__fish_berth_using_subcommand run" -l name -d 'Name the container' -r
complete -c berth -n "__fish_berth_using_subcommand run" -s e -l env -d 'Set an environment variable (`KEY=VALUE`, or `KEY` to take it from this environment)' -r
complete -c berth -n "__fish_berth_using_subcommand run" -l env-file -d 'Read `KEY=VALUE` lines from a file' -r -F
complete -c berth -n "__fish_berth_using_subcommand run" -s w -l workdir -d 'Working directory inside the container' -r
complete -c berth -n "__fish_berth_using_subcommand run" -s u -l user -d 'User (`name`, `uid`, `uid:gid`) to run as' -r
complete -c berth -n "__fish_berth_using_subcommand run" -l entrypoint -d 'Override the image\'s entrypoint (a string or a JSON array)' -r
complete -c berth -n "__fish_berth_using_subcommand run" -s v -l volume -d 'Bind mount a host directory or a named volume (created on first use): `HOST-DIR:CONTAINER-DIR[:ro|rw]`, `NAME:CONTAINER-DIR[:ro|rw|nocopy]`, or `CONTAINER-DIR` alone for an anonymous volume (removed with the container by `--rm` and `rm -v`)' -r
complete -c berth -n "__fish_berth_using_subcommand run" -l mount -d 'Attach a mount: `type=bind|volume|tmpfs,source=..,target=..[,readonly]` `[,tmpfs-size=..][,tmpfs-mode=..]` (`src`, `dst`, `destination` also work; a volume without source is anonymous)' -r
complete -c berth -n "__fish_berth_using_subcommand run" -l tmpfs -d 'Mount a fresh tmpfs: `CONTAINER-DIR[:OPTS]` (default `rw,noexec,nosuid,nodev`)' -r
complete -c berth -n "__fish_berth_using_subcommand run" -l hostname -d 'Container host name [default: the first 12 characters of the ID]' -r
complete -c berth -n "__fish_berth_using_subcommand run" -l network -d 'Network mode: `none` (loopback only), `host`, or `private` (own namespace with user-mode networking: `pasta`, else `slirp4netns`; or name one of them) [default: private with -p, else none]' -r -f -a "none\t''
host\t''
private\t''
pasta\t''
slirp4netns\t''"
complete -c berth -n "__fish_berth_using_subcommand run" -s p -l publish -d 'Publish a container port on the host: `[[IP:][HOSTPORT]:]CONTAINERPORT[/tcp|udp]` (without a host port, a free one is chosen: see `berth port`)' -r
complete -c berth -n "__fish_berth_using_subcommand run" -l cap-add -d 'Add a capability (`CAP_NET_RAW`, `net_raw`, or `ALL`)' -r
complete -c berth -n "__fish_berth_using_subcommand run" -l cap-drop -d 'Drop a capability (or `ALL`)' -r
complete -c berth -n "__fish_berth_using_subcommand run" -l security-opt -d '`seccomp=PROFILE.json`, `seccomp=unconfined`, `no-new-privileges`; `label=disable` and `apparmor=unconfined` (what berth always does)' -r
complete -c berth -n "__fish_berth_using_subcommand run" -s m -l memory -d 'Memory limit (`32m`, `1g`; at least 6m)' -r
complete -c berth -n "__fish_berth_using_subcommand run" -l cpus -d 'CPU limit, in CPUs (`1.5`)' -r
complete -c berth -n "__fish_berth_using_subcommand run" -l pids-limit -d 'Maximum number of processes (`-1`: unlimited)' -r
complete -c berth -n "__fish_berth_using_subcommand run" -l cgroups -d '`enabled`: limits go into a cgroup of the container\'s own; `disabled`: no cgroup (and no limit flag)' -r -f -a "enabled\t''
disabled\t''"
complete -c berth -n "__fish_berth_using_subcommand run" -l runtime -d 'OCI runtime: the embedded one (default), or `runc`/`crun`/`youki`/a path' -r
complete -c berth -n "__fish_berth_using_subcommand run" -l storage-driver -d 'Storage driver: overlay, fuse-overlayfs, copy [default: the first that works]' -r
complete -c berth -n "__fish_berth_using_subcommand run" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand run" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand run" -l rm -d 'Remove the container when it exits'
complete -c berth -n "__fish_berth_using_subcommand run" -s d -l detach -d 'Run in the background and print the container ID'
complete -c berth -n "__fish_berth_using_subcommand run" -s i -l interactive -d 'Keep standard input open (else the container reads /dev/null)'
complete -c berth -n "__fish_berth_using_subcommand run" -l init -d 'Run an init as PID 1 that forwards signals and reaps zombies (the embedded runtime\'s own; with an external runtime, catatonit or tini from the host)'
complete -c berth -n "__fish_berth_using_subcommand run" -l insecure-policy -d 'Accept every image without checking the signature policy'
complete -c berth -n "__fish_berth_using_subcommand run" -s t -l tty -d 'Allocate a pseudo-terminal for the container (its controlling terminal)'
complete -c berth -n "__fish_berth_using_subcommand run" -l read-only -d 'Mount the container\'s root filesystem read-only'
complete -c berth -n "__fish_berth_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c berth -n "__fish_berth_using_subcommand run" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand exec" -s e -l env -d 'Set an environment variable (`KEY=VALUE`, or `KEY` to take it from this environment)' -r
complete -c berth -n "__fish_berth_using_subcommand exec" -s u -l user -d 'User (`name`, `uid`, `uid:gid`) to run as [default: the container\'s]' -r
complete -c berth -n "__fish_berth_using_subcommand exec" -s w -l workdir -d 'Working directory inside the container [default: the container\'s]' -r
complete -c berth -n "__fish_berth_using_subcommand exec" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand exec" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand exec" -s i -l interactive -d 'Keep standard input open (else the command reads /dev/null)'
complete -c berth -n "__fish_berth_using_subcommand exec" -s t -l tty -d 'Allocate a pseudo-terminal for the command'
complete -c berth -n "__fish_berth_using_subcommand exec" -s d -l detach -d 'Run the command in the background'
complete -c berth -n "__fish_berth_using_subcommand exec" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand exec" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand ps" -l format -d '`json`, `table`, or a Go template such as `{{.Names}} {{.ExitCode}}`' -r
complete -c berth -n "__fish_berth_using_subcommand ps" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand ps" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand ps" -s a -l all -d 'Show all containers (default: only running ones)'
complete -c berth -n "__fish_berth_using_subcommand ps" -s q -l quiet -d 'Print only container IDs'
complete -c berth -n "__fish_berth_using_subcommand ps" -l no-trunc -d 'Do not truncate IDs'
complete -c berth -n "__fish_berth_using_subcommand ps" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand ps" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand port" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand port" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand port" -s a -l all -d 'Show the published ports of every running container'
complete -c berth -n "__fish_berth_using_subcommand port" -s l -l latest -d 'Act on the newest container'
complete -c berth -n "__fish_berth_using_subcommand port" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand port" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand logs" -l tail -d 'Print only the last N lines' -r
complete -c berth -n "__fish_berth_using_subcommand logs" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand logs" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand logs" -s f -l follow -d 'Keep printing new output until the container exits'
complete -c berth -n "__fish_berth_using_subcommand logs" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand logs" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand stop" -s t -l time -d 'Seconds to wait before killing the container' -r
complete -c berth -n "__fish_berth_using_subcommand stop" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand stop" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand stop" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand stop" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand kill" -s s -l signal -d 'Signal name (`TERM`, `SIGKILL`) or number' -r
complete -c berth -n "__fish_berth_using_subcommand kill" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand kill" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand kill" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand kill" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand rm" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand rm" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand rm" -s f -l force -d 'Kill running containers first'
complete -c berth -n "__fish_berth_using_subcommand rm" -s v -l volumes -d 'Also remove the containers\' anonymous volumes (made for the image\'s `VOLUME`s)'
complete -c berth -n "__fish_berth_using_subcommand rm" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand rm" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand wait" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand wait" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand wait" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand wait" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand inspect" -s f -l format -d 'A Go template such as `{{.State.Status}}` instead of JSON' -r
complete -c berth -n "__fish_berth_using_subcommand inspect" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand inspect" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand inspect" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand inspect" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand info" -s f -l format -d '`json`, or a Go template such as `{{.Store.Driver}}`' -r
complete -c berth -n "__fish_berth_using_subcommand info" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand info" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand info" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand info" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand unshare" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand unshare" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand unshare" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand unshare" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand volume; and not __fish_seen_subcommand_from create ls inspect rm prune help" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand volume; and not __fish_seen_subcommand_from create ls inspect rm prune help" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand volume; and not __fish_seen_subcommand_from create ls inspect rm prune help" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand volume; and not __fish_seen_subcommand_from create ls inspect rm prune help" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand volume; and not __fish_seen_subcommand_from create ls inspect rm prune help" -f -a "create" -d 'Create a named volume'
complete -c berth -n "__fish_berth_using_subcommand volume; and not __fish_seen_subcommand_from create ls inspect rm prune help" -f -a "ls" -d 'List volumes'
complete -c berth -n "__fish_berth_using_subcommand volume; and not __fish_seen_subcommand_from create ls inspect rm prune help" -f -a "inspect" -d 'Show volumes\' details as JSON'
complete -c berth -n "__fish_berth_using_subcommand volume; and not __fish_seen_subcommand_from create ls inspect rm prune help" -f -a "rm" -d 'Remove volumes'
complete -c berth -n "__fish_berth_using_subcommand volume; and not __fish_seen_subcommand_from create ls inspect rm prune help" -f -a "prune" -d 'Remove every volume no container uses'
complete -c berth -n "__fish_berth_using_subcommand volume; and not __fish_seen_subcommand_from create ls inspect rm prune help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from create" -s l -l label -d 'Set a label (`KEY=VALUE`)' -r
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from create" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from create" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from create" -l ignore -d 'Do nothing (and succeed) when the volume exists'
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from create" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from create" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from ls" -l format -d '`json`, `table`, or a Go template such as `{{.Name}} {{.Mountpoint}}`' -r
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from ls" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from ls" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from ls" -s q -l quiet -d 'Print only volume names'
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from ls" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from ls" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from inspect" -s f -l format -d 'A Go template such as `{{.Mountpoint}}` instead of JSON' -r
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from inspect" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from inspect" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from inspect" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from inspect" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from rm" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from rm" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from rm" -s f -l force -d 'Remove the containers that use the volumes first (killing running ones)'
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from rm" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from rm" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from prune" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from prune" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from prune" -s f -l force -d 'Do not ask for confirmation'
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from prune" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from prune" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "create" -d 'Create a named volume'
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "ls" -d 'List volumes'
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "inspect" -d 'Show volumes\' details as JSON'
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "rm" -d 'Remove volumes'
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "prune" -d 'Remove every volume no container uses'
complete -c berth -n "__fish_berth_using_subcommand volume; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c berth -n "__fish_berth_using_subcommand container-monitor" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand container-monitor" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand container-monitor" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand container-monitor" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand container-cleanup" -l exit-code -d 'The container\'s exit code (128+N for signal N), when known' -r
complete -c berth -n "__fish_berth_using_subcommand container-cleanup" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c berth -n "__fish_berth_using_subcommand container-cleanup" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c berth -n "__fish_berth_using_subcommand container-cleanup" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand container-cleanup" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from import images rmi pull run exec ps port logs stop kill rm wait inspect info unshare volume container-monitor container-cleanup help" -f -a "import" -d 'Create an image from a root filesystem tarball'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from import images rmi pull run exec ps port logs stop kill rm wait inspect info unshare volume container-monitor container-cleanup help" -f -a "images" -d 'List images in local storage'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from import images rmi pull run exec ps port logs stop kill rm wait inspect info unshare volume container-monitor container-cleanup help" -f -a "rmi" -d 'Remove one or more images from local storage'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from import images rmi pull run exec ps port logs stop kill rm wait inspect info unshare volume container-monitor container-cleanup help" -f -a "pull" -d 'Copy an image from a registry or any transport into local storage'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from import images rmi pull run exec ps port logs stop kill rm wait inspect info unshare volume container-monitor container-cleanup help" -f -a "run" -d 'Run a command in a new container'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from import images rmi pull run exec ps port logs stop kill rm wait inspect info unshare volume container-monitor container-cleanup help" -f -a "exec" -d 'Run a command in a running container'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from import images rmi pull run exec ps port logs stop kill rm wait inspect info unshare volume container-monitor container-cleanup help" -f -a "ps" -d 'List containers'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from import images rmi pull run exec ps port logs stop kill rm wait inspect info unshare volume container-monitor container-cleanup help" -f -a "port" -d 'List a container\'s published ports, or the host address of one of them'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from import images rmi pull run exec ps port logs stop kill rm wait inspect info unshare volume container-monitor container-cleanup help" -f -a "logs" -d 'Print a detached container\'s output'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from import images rmi pull run exec ps port logs stop kill rm wait inspect info unshare volume container-monitor container-cleanup help" -f -a "stop" -d 'Stop running containers (the stop signal, then SIGKILL after a timeout)'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from import images rmi pull run exec ps port logs stop kill rm wait inspect info unshare volume container-monitor container-cleanup help" -f -a "kill" -d 'Send a signal to running containers'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from import images rmi pull run exec ps port logs stop kill rm wait inspect info unshare volume container-monitor container-cleanup help" -f -a "rm" -d 'Remove containers'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from import images rmi pull run exec ps port logs stop kill rm wait inspect info unshare volume container-monitor container-cleanup help" -f -a "wait" -d 'Wait for containers to exit and print their exit codes'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from import images rmi pull run exec ps port logs stop kill rm wait inspect info unshare volume container-monitor container-cleanup help" -f -a "inspect" -d 'Show a container\'s or an image\'s configuration as JSON'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from import images rmi pull run exec ps port logs stop kill rm wait inspect info unshare volume container-monitor container-cleanup help" -f -a "info" -d 'Show the storage driver, rootless mode, runtimes and store root'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from import images rmi pull run exec ps port logs stop kill rm wait inspect info unshare volume container-monitor container-cleanup help" -f -a "unshare" -d 'Run a command in berth\'s rootless user and mount namespace'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from import images rmi pull run exec ps port logs stop kill rm wait inspect info unshare volume container-monitor container-cleanup help" -f -a "volume" -d 'Manage named volumes'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from import images rmi pull run exec ps port logs stop kill rm wait inspect info unshare volume container-monitor container-cleanup help" -f -a "container-monitor" -d 'Watch a detached container (internal)'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from import images rmi pull run exec ps port logs stop kill rm wait inspect info unshare volume container-monitor container-cleanup help" -f -a "container-cleanup" -d 'Record a detached container\'s end and clean up after it (internal)'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from import images rmi pull run exec ps port logs stop kill rm wait inspect info unshare volume container-monitor container-cleanup help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c berth -n "__fish_berth_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "create" -d 'Create a named volume'
complete -c berth -n "__fish_berth_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "ls" -d 'List volumes'
complete -c berth -n "__fish_berth_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "inspect" -d 'Show volumes\' details as JSON'
complete -c berth -n "__fish_berth_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "rm" -d 'Remove volumes'
complete -c berth -n "__fish_berth_using_subcommand help; and __fish_seen_subcommand_from volume" -f -a "prune" -d 'Remove every volume no container uses'
