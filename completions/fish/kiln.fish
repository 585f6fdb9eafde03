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
complete -c kiln -n "__fish_kiln_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kiln -n "__fish_kiln_using_subcommand build" -s t -l tag -d 'Name for the built image (repeatable); a name without a registry goes under localhost/' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -s f -l file -d 'The Dockerfile [default: CONTEXT/Containerfile or CONTEXT/Dockerfile]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand build" -l build-arg -d 'Set a build argument (KEY=VALUE; KEY alone takes the value from the environment)' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l target -d 'Build this stage and the stages it needs, not the last one' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l iidfile -d 'Write the image ID to this file' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand build" -l format -d 'Image format' -r -f -a "oci\t''
docker\t''"
complete -c kiln -n "__fish_kiln_using_subcommand build" -l timestamp -d 'Created times of the image and its history, and the latest mtime in new layers, in seconds since the epoch [default: $SOURCE_DATE_EPOCH]' -r
complete -c kiln -n "__fish_kiln_using_subcommand build" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand build" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand build" -l no-cache -d 'Do not use cached results; run every instruction'
complete -c kiln -n "__fish_kiln_using_subcommand build" -s q -l quiet -d 'Print only the image ID'
complete -c kiln -n "__fish_kiln_using_subcommand build" -l check -d 'Run BuildKit\'s build checks on the Dockerfile and report them, without building; exit 1 when there are findings'
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
complete -c kiln -n "__fish_kiln_using_subcommand pull" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand pull" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand pull" -l all-platforms -d 'Pull every image of a multi-architecture index'
complete -c kiln -n "__fish_kiln_using_subcommand pull" -s q -l quiet -d 'Print nothing but the image ID'
complete -c kiln -n "__fish_kiln_using_subcommand pull" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand pull" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand push" -l tls-verify -d 'Require HTTPS and verify certificates (`--tls-verify=false` allows plain HTTP)' -r -f -a "true\t''
false\t''"
complete -c kiln -n "__fish_kiln_using_subcommand push" -l creds -d 'Credentials USER:PASSWORD for the registry' -r
complete -c kiln -n "__fish_kiln_using_subcommand push" -l cert-dir -d 'Use certificates (*.crt, *.cert, *.key) in DIR' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand push" -l authfile -d 'Auth file' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand push" -s f -l format -d 'Manifest format: oci or v2s2' -r -f -a "oci\t''
v2s2\t''
docker\t''"
complete -c kiln -n "__fish_kiln_using_subcommand push" -l digestfile -d 'Write the pushed manifest\'s digest to this file' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand push" -l retry -d 'Retry a failed transfer this many times' -r
complete -c kiln -n "__fish_kiln_using_subcommand push" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand push" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c kiln -n "__fish_kiln_using_subcommand push" -s q -l quiet -d 'Print nothing while pushing'
complete -c kiln -n "__fish_kiln_using_subcommand push" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand push" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand inspect" -s f -l format -d 'Format the output with a Go template, e.g. `{{.Config.config.Cmd}}`' -r
complete -c kiln -n "__fish_kiln_using_subcommand inspect" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c kiln -n "__fish_kiln_using_subcommand inspect" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
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
complete -c kiln -n "__fish_kiln_using_subcommand system; and not __fish_seen_subcommand_from prune check help" -f -a "check" -d 'Re-hash every blob and check every reference in the store'
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
complete -c kiln -n "__fish_kiln_using_subcommand system; and __fish_seen_subcommand_from check" -s h -l help -d 'Print help'
complete -c kiln -n "__fish_kiln_using_subcommand system; and __fish_seen_subcommand_from check" -s V -l version -d 'Print version'
complete -c kiln -n "__fish_kiln_using_subcommand system; and __fish_seen_subcommand_from help" -f -a "prune" -d 'Remove dangling images, then unreferenced blobs and unpacked layers'
complete -c kiln -n "__fish_kiln_using_subcommand system; and __fish_seen_subcommand_from help" -f -a "check" -d 'Re-hash every blob and check every reference in the store'
complete -c kiln -n "__fish_kiln_using_subcommand system; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system help" -f -a "build" -d 'Build an image from a Dockerfile and a context directory'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system help" -f -a "images" -d 'List images in local storage'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system help" -f -a "pull" -d 'Copy an image from a registry or any transport into local storage'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system help" -f -a "push" -d 'Copy a local image to a registry or any transport'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system help" -f -a "inspect" -d 'Show an image\'s configuration and manifest as JSON'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system help" -f -a "tag" -d 'Add names to a local image'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system help" -f -a "rmi" -d 'Remove one or more images from local storage'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system help" -f -a "parse" -d 'Print a Dockerfile\'s syntax tree in BuildKit\'s dump format'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system help" -f -a "lint" -d 'Check a Dockerfile against BuildKit\'s build checks'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system help" -f -a "system" -d 'Maintain the local store'
complete -c kiln -n "__fish_kiln_using_subcommand help; and not __fish_seen_subcommand_from build images pull push inspect tag rmi parse lint system help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kiln -n "__fish_kiln_using_subcommand help; and __fish_seen_subcommand_from system" -f -a "prune" -d 'Remove dangling images, then unreferenced blobs and unpacked layers'
complete -c kiln -n "__fish_kiln_using_subcommand help; and __fish_seen_subcommand_from system" -f -a "check" -d 'Re-hash every blob and check every reference in the store'
