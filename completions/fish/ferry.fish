# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ferry_global_optspecs
    string join \n root= log-level= h/help V/version
end

function __fish_ferry_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_ferry_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_ferry_using_subcommand
    set -l cmd (__fish_ferry_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c ferry -n "__fish_ferry_needs_command" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c ferry -n "__fish_ferry_needs_command" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c ferry -n "__fish_ferry_needs_command" -s h -l help -d 'Print help'
complete -c ferry -n "__fish_ferry_needs_command" -s V -l version -d 'Print version'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "manifest-digest" -d 'Compute the digest of a manifest file'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ferry -n "__fish_ferry_using_subcommand manifest-digest" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand manifest-digest" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c ferry -n "__fish_ferry_using_subcommand manifest-digest" -s h -l help -d 'Print help'
complete -c ferry -n "__fish_ferry_using_subcommand manifest-digest" -s V -l version -d 'Print version'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from manifest-digest help" -f -a "manifest-digest" -d 'Compute the digest of a manifest file'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from manifest-digest help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
