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
complete -c berth -n "__fish_berth_needs_command" -f -a "images" -d 'List images in local storage'
complete -c berth -n "__fish_berth_needs_command" -f -a "rmi" -d 'Remove one or more images from local storage'
complete -c berth -n "__fish_berth_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
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
complete -c berth -n "__fish_berth_using_subcommand rmi" -s h -l help -d 'Print help'
complete -c berth -n "__fish_berth_using_subcommand rmi" -s V -l version -d 'Print version'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from images rmi help" -f -a "images" -d 'List images in local storage'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from images rmi help" -f -a "rmi" -d 'Remove one or more images from local storage'
complete -c berth -n "__fish_berth_using_subcommand help; and not __fish_seen_subcommand_from images rmi help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
