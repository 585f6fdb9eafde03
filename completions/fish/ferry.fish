# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_ferry_global_optspecs
    string join \n root= log-level= override-os= override-arch= override-variant= registries-conf= policy= insecure-policy registries.d= h/help V/version
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
complete -c ferry -n "__fish_ferry_needs_command" -l override-os -d 'Use OS instead of the running OS when choosing an image' -r
complete -c ferry -n "__fish_ferry_needs_command" -l override-arch -d 'Use ARCH instead of the machine\'s architecture when choosing an image' -r
complete -c ferry -n "__fish_ferry_needs_command" -l override-variant -d 'Use VARIANT instead of the machine\'s architecture variant' -r
complete -c ferry -n "__fish_ferry_needs_command" -l registries-conf -d 'Use FILE as registries.conf (instead of $CONTAINERS_REGISTRIES_CONF or the default files)' -r -F
complete -c ferry -n "__fish_ferry_needs_command" -l policy -d 'Trust policy file (containers-policy.json); default $HOME/.config/containers/policy.json, else /etc/containers/policy.json' -r -F
complete -c ferry -n "__fish_ferry_needs_command" -l registries.d -d 'Registries.d directory: where signatures are stored (lookaside, sigstore attachments)' -r -F
complete -c ferry -n "__fish_ferry_needs_command" -l insecure-policy -d 'Copy without checking the signature policy'
complete -c ferry -n "__fish_ferry_needs_command" -s h -l help -d 'Print help'
complete -c ferry -n "__fish_ferry_needs_command" -s V -l version -d 'Print version'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "manifest-digest" -d 'Compute the digest of a manifest file'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "inspect" -d 'Show an image\'s manifest, configuration or skopeo\'s summary'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "copy" -d 'Copy an image between transports'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "sync" -d 'Copy every image of a repository, directory or YAML list to a registry or directory'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "list-tags" -d 'List the tags of a repository'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "delete" -d 'Delete an image from a registry'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "login" -d 'Store credentials for a registry'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "logout" -d 'Remove stored credentials'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "generate-sigstore-key" -d 'Generate a sigstore (cosign) key pair for --sign-by-sigstore-private-key'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "standalone-sign" -d 'Sign a manifest file with a GPG key (simple signing), without a registry'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "standalone-verify" -d 'Verify a simple-signing signature of a manifest file; prints the digest'
complete -c ferry -n "__fish_ferry_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c ferry -n "__fish_ferry_using_subcommand manifest-digest" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand manifest-digest" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c ferry -n "__fish_ferry_using_subcommand manifest-digest" -l override-os -d 'Use OS instead of the running OS when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand manifest-digest" -l override-arch -d 'Use ARCH instead of the machine\'s architecture when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand manifest-digest" -l override-variant -d 'Use VARIANT instead of the machine\'s architecture variant' -r
complete -c ferry -n "__fish_ferry_using_subcommand manifest-digest" -l registries-conf -d 'Use FILE as registries.conf (instead of $CONTAINERS_REGISTRIES_CONF or the default files)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand manifest-digest" -l policy -d 'Trust policy file (containers-policy.json); default $HOME/.config/containers/policy.json, else /etc/containers/policy.json' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand manifest-digest" -l registries.d -d 'Registries.d directory: where signatures are stored (lookaside, sigstore attachments)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand manifest-digest" -l insecure-policy -d 'Copy without checking the signature policy'
complete -c ferry -n "__fish_ferry_using_subcommand manifest-digest" -s h -l help -d 'Print help'
complete -c ferry -n "__fish_ferry_using_subcommand manifest-digest" -s V -l version -d 'Print version'
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -s f -l format -d 'Format the output with a Go template, e.g. \'{{.Digest}}\'' -r
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -l tls-verify -d 'Require HTTPS and verify certificates (`--tls-verify=false` allows plain HTTP)' -r -f -a "true\t''
false\t''"
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -l creds -d 'Credentials USER[:PASSWORD] for the registry' -r
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -l username -d 'User name for the registry (with --password)' -r
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -l password -d 'Password for the registry (with --username)' -r
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -l cert-dir -d 'Use certificates (*.crt, *.cert, *.key) in DIR' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -l authfile -d 'Auth file [default: ${XDG_RUNTIME_DIR}/containers/auth.json]' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -l retry-times -d 'Retry a failed request this many times' -r
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -l retry-delay -d 'Fixed delay between retries, e.g. 2s or 500ms (default: exponential backoff)' -r
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -l override-os -d 'Use OS instead of the running OS when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -l override-arch -d 'Use ARCH instead of the machine\'s architecture when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -l override-variant -d 'Use VARIANT instead of the machine\'s architecture variant' -r
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -l registries-conf -d 'Use FILE as registries.conf (instead of $CONTAINERS_REGISTRIES_CONF or the default files)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -l policy -d 'Trust policy file (containers-policy.json); default $HOME/.config/containers/policy.json, else /etc/containers/policy.json' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -l registries.d -d 'Registries.d directory: where signatures are stored (lookaside, sigstore attachments)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -l raw -d 'Print the manifest (or index) exactly as stored'
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -l config -d 'Print the image configuration'
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -s n -l no-tags -d 'Do not list the repository\'s tags'
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -l attestations -d 'Print the in-toto statements (SBOM, provenance) attached to the image as OCI 1.1 referrers, as a JSON array (registries through the referrers API or its tag fallback, oci: layouts, store: images)'
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -l no-creds -d 'Access the registry anonymously'
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -l insecure-policy -d 'Copy without checking the signature policy'
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -s h -l help -d 'Print help'
complete -c ferry -n "__fish_ferry_using_subcommand inspect" -s V -l version -d 'Print version'
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l multi-arch -d 'How to copy an index: system (one image), all, index-only (not supported)' -r -f -a "system\t''
all\t''"
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l digestfile -d 'Write the digest of the copied manifest to this file' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l image-parallel-copies -d 'Large blob transfers in flight at once; blobs up to 1 MiB and existence checks run up to 32 at once beside them (their cost is round trips, not bytes)' -r
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l sign-identity -d 'The identity signatures name (a full docker reference); default: the destination' -r
complete -c ferry -n "__fish_ferry_using_subcommand copy" -s f -l format -d 'Manifest format of the destination: oci or v2s2' -r -f -a "oci\t''
v2s2\t''
docker\t''"
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l dest-compress-format -d 'Compress layers with this format while copying: gzip or zstd (zstd needs OCI manifests)' -r -f -a "gzip\t''
zstd\t''"
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l dest-compress-level -d 'Compression level of recompressed layers (gzip 0-9, zstd 1-22)' -r
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l retry-times -d 'Retry a failed transfer this many times' -r
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l retry-delay -d 'Fixed delay between retries, e.g. 2s or 500ms (default: exponential backoff)' -r
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l src-tls-verify -d 'Require HTTPS and verify certificates of the source registry' -r -f -a "true\t''
false\t''"
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l dest-tls-verify -d 'Require HTTPS and verify certificates of the destination registry' -r -f -a "true\t''
false\t''"
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l src-creds -d 'Credentials for the source registry' -r
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l dest-creds -d 'Credentials for the destination registry' -r
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l src-username -d 'User name for the source registry (with --src-password)' -r
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l src-password -d 'Password for the source registry (with --src-username)' -r
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l dest-username -d 'User name for the destination registry (with --dest-password)' -r
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l dest-password -d 'Password for the destination registry (with --dest-username)' -r
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l src-cert-dir -d 'Certificates for the source registry' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l dest-cert-dir -d 'Certificates for the destination registry' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l authfile -d 'Auth file for both sides' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l src-authfile -d 'Auth file for the source registry' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l dest-authfile -d 'Auth file for the destination registry' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l sign-by -d 'Sign the image with the GPG key of this fingerprint' -r
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l sign-by-sigstore-private-key -d 'Sign the image with this sigstore (cosign) private key' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l sign-passphrase-file -d 'Read the signing key\'s passphrase from the first line of PATH (default: $COSIGN_PASSWORD, else none)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l registry-referrers-mode -d 'Where sigstore signatures go: legacy (the sha256-HEX.sig tag) or oci-1-1 (an OCI 1.1 referrer of the image), as cosign\'s flag of the same name' -r -f -a "legacy\t''
oci-1-1\t''"
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l override-os -d 'Use OS instead of the running OS when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l override-arch -d 'Use ARCH instead of the machine\'s architecture when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l override-variant -d 'Use VARIANT instead of the machine\'s architecture variant' -r
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l registries-conf -d 'Use FILE as registries.conf (instead of $CONTAINERS_REGISTRIES_CONF or the default files)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l policy -d 'Trust policy file (containers-policy.json); default $HOME/.config/containers/policy.json, else /etc/containers/policy.json' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l registries.d -d 'Registries.d directory: where signatures are stored (lookaside, sigstore attachments)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand copy" -s a -l all -d 'Copy every image of a multi-architecture index'
complete -c ferry -n "__fish_ferry_using_subcommand copy" -s q -l quiet -d 'Print nothing while copying'
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l preserve-digests -d 'Fail rather than change any manifest digest'
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l referrers -d 'Also copy the image\'s referrers (signatures, SBOMs, attestations; OCI 1.1 referrers API or its tag fallback), recursively'
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l dest-compress -d 'Compress layers that are not (gzip unless --dest-compress-format says otherwise)'
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l dest-decompress -d 'Store layers uncompressed at the destination (their digests become their diff IDs)'
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l src-no-creds -d 'Access the source registry anonymously'
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l dest-no-creds -d 'Access the destination registry anonymously'
complete -c ferry -n "__fish_ferry_using_subcommand copy" -l insecure-policy -d 'Copy without checking the signature policy'
complete -c ferry -n "__fish_ferry_using_subcommand copy" -s h -l help -d 'Print help'
complete -c ferry -n "__fish_ferry_using_subcommand copy" -s V -l version -d 'Print version'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -s s -l src -d 'Transport of SOURCE: docker, dir or yaml' -r -f -a "docker\t''
dir\t''
yaml\t''"
complete -c ferry -n "__fish_ferry_using_subcommand sync" -s d -l dest -d 'Transport of DESTINATION: docker or dir' -r -f -a "docker\t''
dir\t''"
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l append-suffix -d 'Append this to every destination tag' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l digestfile -d 'Write "DIGEST REFERENCE" of every synced image to this file' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l image-parallel-copies -d 'Large blob transfers in flight at once; blobs up to 1 MiB and existence checks run up to 32 at once beside them (their cost is round trips, not bytes)' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -s f -l format -d 'Manifest format of the destination: oci or v2s2' -r -f -a "oci\t''
v2s2\t''
docker\t''"
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l dest-compress-format -d 'Compress layers with this format while copying: gzip or zstd (zstd needs OCI manifests)' -r -f -a "gzip\t''
zstd\t''"
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l dest-compress-level -d 'Compression level of recompressed layers (gzip 0-9, zstd 1-22)' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l retry-times -d 'Retry a failed transfer this many times' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l retry-delay -d 'Fixed delay between retries, e.g. 2s or 500ms (default: exponential backoff)' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l src-tls-verify -d 'Require HTTPS and verify certificates of the source registry' -r -f -a "true\t''
false\t''"
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l dest-tls-verify -d 'Require HTTPS and verify certificates of the destination registry' -r -f -a "true\t''
false\t''"
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l src-creds -d 'Credentials for the source registry' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l dest-creds -d 'Credentials for the destination registry' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l src-username -d 'User name for the source registry (with --src-password)' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l src-password -d 'Password for the source registry (with --src-username)' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l dest-username -d 'User name for the destination registry (with --dest-password)' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l dest-password -d 'Password for the destination registry (with --dest-username)' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l src-cert-dir -d 'Certificates for the source registry' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l dest-cert-dir -d 'Certificates for the destination registry' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l authfile -d 'Auth file for both sides' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l src-authfile -d 'Auth file for the source registry' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l dest-authfile -d 'Auth file for the destination registry' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l sign-by -d 'Sign the image with the GPG key of this fingerprint' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l sign-by-sigstore-private-key -d 'Sign the image with this sigstore (cosign) private key' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l sign-passphrase-file -d 'Read the signing key\'s passphrase from the first line of PATH (default: $COSIGN_PASSWORD, else none)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l registry-referrers-mode -d 'Where sigstore signatures go: legacy (the sha256-HEX.sig tag) or oci-1-1 (an OCI 1.1 referrer of the image), as cosign\'s flag of the same name' -r -f -a "legacy\t''
oci-1-1\t''"
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l override-os -d 'Use OS instead of the running OS when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l override-arch -d 'Use ARCH instead of the machine\'s architecture when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l override-variant -d 'Use VARIANT instead of the machine\'s architecture variant' -r
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l registries-conf -d 'Use FILE as registries.conf (instead of $CONTAINERS_REGISTRIES_CONF or the default files)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l policy -d 'Trust policy file (containers-policy.json); default $HOME/.config/containers/policy.json, else /etc/containers/policy.json' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l registries.d -d 'Registries.d directory: where signatures are stored (lookaside, sigstore attachments)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l scoped -d 'Keep the full source path (registry host included) below DESTINATION'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -s a -l all -d 'Copy every image of a multi-architecture index, and the index'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l dry-run -d 'List what would be copied; copy nothing'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l keep-going -d 'Go on after an image fails; fail at the end'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -s q -l quiet -d 'Print nothing while copying'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l preserve-digests -d 'Fail rather than change any manifest digest'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l referrers -d 'Also copy the image\'s referrers (signatures, SBOMs, attestations; OCI 1.1 referrers API or its tag fallback), recursively'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l dest-compress -d 'Compress layers that are not (gzip unless --dest-compress-format says otherwise)'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l dest-decompress -d 'Store layers uncompressed at the destination (their digests become their diff IDs)'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l src-no-creds -d 'Access the source registry anonymously'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l dest-no-creds -d 'Access the destination registry anonymously'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -l insecure-policy -d 'Copy without checking the signature policy'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -s h -l help -d 'Print help'
complete -c ferry -n "__fish_ferry_using_subcommand sync" -s V -l version -d 'Print version'
complete -c ferry -n "__fish_ferry_using_subcommand list-tags" -l tls-verify -d 'Require HTTPS and verify certificates (`--tls-verify=false` allows plain HTTP)' -r -f -a "true\t''
false\t''"
complete -c ferry -n "__fish_ferry_using_subcommand list-tags" -l creds -d 'Credentials USER[:PASSWORD] for the registry' -r
complete -c ferry -n "__fish_ferry_using_subcommand list-tags" -l username -d 'User name for the registry (with --password)' -r
complete -c ferry -n "__fish_ferry_using_subcommand list-tags" -l password -d 'Password for the registry (with --username)' -r
complete -c ferry -n "__fish_ferry_using_subcommand list-tags" -l cert-dir -d 'Use certificates (*.crt, *.cert, *.key) in DIR' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand list-tags" -l authfile -d 'Auth file [default: ${XDG_RUNTIME_DIR}/containers/auth.json]' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand list-tags" -l retry-times -d 'Retry a failed request this many times' -r
complete -c ferry -n "__fish_ferry_using_subcommand list-tags" -l retry-delay -d 'Fixed delay between retries, e.g. 2s or 500ms (default: exponential backoff)' -r
complete -c ferry -n "__fish_ferry_using_subcommand list-tags" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand list-tags" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c ferry -n "__fish_ferry_using_subcommand list-tags" -l override-os -d 'Use OS instead of the running OS when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand list-tags" -l override-arch -d 'Use ARCH instead of the machine\'s architecture when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand list-tags" -l override-variant -d 'Use VARIANT instead of the machine\'s architecture variant' -r
complete -c ferry -n "__fish_ferry_using_subcommand list-tags" -l registries-conf -d 'Use FILE as registries.conf (instead of $CONTAINERS_REGISTRIES_CONF or the default files)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand list-tags" -l policy -d 'Trust policy file (containers-policy.json); default $HOME/.config/containers/policy.json, else /etc/containers/policy.json' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand list-tags" -l registries.d -d 'Registries.d directory: where signatures are stored (lookaside, sigstore attachments)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand list-tags" -l no-creds -d 'Access the registry anonymously'
complete -c ferry -n "__fish_ferry_using_subcommand list-tags" -l insecure-policy -d 'Copy without checking the signature policy'
complete -c ferry -n "__fish_ferry_using_subcommand list-tags" -s h -l help -d 'Print help'
complete -c ferry -n "__fish_ferry_using_subcommand list-tags" -s V -l version -d 'Print version'
complete -c ferry -n "__fish_ferry_using_subcommand delete" -l tls-verify -d 'Require HTTPS and verify certificates (`--tls-verify=false` allows plain HTTP)' -r -f -a "true\t''
false\t''"
complete -c ferry -n "__fish_ferry_using_subcommand delete" -l creds -d 'Credentials USER[:PASSWORD] for the registry' -r
complete -c ferry -n "__fish_ferry_using_subcommand delete" -l username -d 'User name for the registry (with --password)' -r
complete -c ferry -n "__fish_ferry_using_subcommand delete" -l password -d 'Password for the registry (with --username)' -r
complete -c ferry -n "__fish_ferry_using_subcommand delete" -l cert-dir -d 'Use certificates (*.crt, *.cert, *.key) in DIR' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand delete" -l authfile -d 'Auth file [default: ${XDG_RUNTIME_DIR}/containers/auth.json]' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand delete" -l retry-times -d 'Retry a failed request this many times' -r
complete -c ferry -n "__fish_ferry_using_subcommand delete" -l retry-delay -d 'Fixed delay between retries, e.g. 2s or 500ms (default: exponential backoff)' -r
complete -c ferry -n "__fish_ferry_using_subcommand delete" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand delete" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c ferry -n "__fish_ferry_using_subcommand delete" -l override-os -d 'Use OS instead of the running OS when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand delete" -l override-arch -d 'Use ARCH instead of the machine\'s architecture when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand delete" -l override-variant -d 'Use VARIANT instead of the machine\'s architecture variant' -r
complete -c ferry -n "__fish_ferry_using_subcommand delete" -l registries-conf -d 'Use FILE as registries.conf (instead of $CONTAINERS_REGISTRIES_CONF or the default files)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand delete" -l policy -d 'Trust policy file (containers-policy.json); default $HOME/.config/containers/policy.json, else /etc/containers/policy.json' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand delete" -l registries.d -d 'Registries.d directory: where signatures are stored (lookaside, sigstore attachments)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand delete" -l no-creds -d 'Access the registry anonymously'
complete -c ferry -n "__fish_ferry_using_subcommand delete" -l insecure-policy -d 'Copy without checking the signature policy'
complete -c ferry -n "__fish_ferry_using_subcommand delete" -s h -l help -d 'Print help'
complete -c ferry -n "__fish_ferry_using_subcommand delete" -s V -l version -d 'Print version'
complete -c ferry -n "__fish_ferry_using_subcommand login" -s u -l username -r
complete -c ferry -n "__fish_ferry_using_subcommand login" -s p -l password -r
complete -c ferry -n "__fish_ferry_using_subcommand login" -l authfile -d 'Auth file to write [default: ${XDG_RUNTIME_DIR}/containers/auth.json]' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand login" -l tls-verify -d 'Require HTTPS and verify certificates' -r -f -a "true\t''
false\t''"
complete -c ferry -n "__fish_ferry_using_subcommand login" -l cert-dir -d 'Use certificates in DIR' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand login" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand login" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c ferry -n "__fish_ferry_using_subcommand login" -l override-os -d 'Use OS instead of the running OS when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand login" -l override-arch -d 'Use ARCH instead of the machine\'s architecture when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand login" -l override-variant -d 'Use VARIANT instead of the machine\'s architecture variant' -r
complete -c ferry -n "__fish_ferry_using_subcommand login" -l registries-conf -d 'Use FILE as registries.conf (instead of $CONTAINERS_REGISTRIES_CONF or the default files)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand login" -l policy -d 'Trust policy file (containers-policy.json); default $HOME/.config/containers/policy.json, else /etc/containers/policy.json' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand login" -l registries.d -d 'Registries.d directory: where signatures are stored (lookaside, sigstore attachments)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand login" -l password-stdin -d 'Read the password from standard input'
complete -c ferry -n "__fish_ferry_using_subcommand login" -l insecure-policy -d 'Copy without checking the signature policy'
complete -c ferry -n "__fish_ferry_using_subcommand login" -s h -l help -d 'Print help'
complete -c ferry -n "__fish_ferry_using_subcommand login" -s V -l version -d 'Print version'
complete -c ferry -n "__fish_ferry_using_subcommand logout" -l authfile -r -F
complete -c ferry -n "__fish_ferry_using_subcommand logout" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand logout" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c ferry -n "__fish_ferry_using_subcommand logout" -l override-os -d 'Use OS instead of the running OS when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand logout" -l override-arch -d 'Use ARCH instead of the machine\'s architecture when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand logout" -l override-variant -d 'Use VARIANT instead of the machine\'s architecture variant' -r
complete -c ferry -n "__fish_ferry_using_subcommand logout" -l registries-conf -d 'Use FILE as registries.conf (instead of $CONTAINERS_REGISTRIES_CONF or the default files)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand logout" -l policy -d 'Trust policy file (containers-policy.json); default $HOME/.config/containers/policy.json, else /etc/containers/policy.json' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand logout" -l registries.d -d 'Registries.d directory: where signatures are stored (lookaside, sigstore attachments)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand logout" -s a -l all -d 'Remove every stored credential'
complete -c ferry -n "__fish_ferry_using_subcommand logout" -l insecure-policy -d 'Copy without checking the signature policy'
complete -c ferry -n "__fish_ferry_using_subcommand logout" -s h -l help -d 'Print help'
complete -c ferry -n "__fish_ferry_using_subcommand logout" -s V -l version -d 'Print version'
complete -c ferry -n "__fish_ferry_using_subcommand generate-sigstore-key" -l output-prefix -d 'Write the keys to PREFIX.pub and PREFIX.private' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand generate-sigstore-key" -l passphrase-file -d 'Read the passphrase that encrypts the private key from the first line of PATH (default: $COSIGN_PASSWORD, else none)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand generate-sigstore-key" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand generate-sigstore-key" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c ferry -n "__fish_ferry_using_subcommand generate-sigstore-key" -l override-os -d 'Use OS instead of the running OS when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand generate-sigstore-key" -l override-arch -d 'Use ARCH instead of the machine\'s architecture when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand generate-sigstore-key" -l override-variant -d 'Use VARIANT instead of the machine\'s architecture variant' -r
complete -c ferry -n "__fish_ferry_using_subcommand generate-sigstore-key" -l registries-conf -d 'Use FILE as registries.conf (instead of $CONTAINERS_REGISTRIES_CONF or the default files)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand generate-sigstore-key" -l policy -d 'Trust policy file (containers-policy.json); default $HOME/.config/containers/policy.json, else /etc/containers/policy.json' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand generate-sigstore-key" -l registries.d -d 'Registries.d directory: where signatures are stored (lookaside, sigstore attachments)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand generate-sigstore-key" -l insecure-policy -d 'Copy without checking the signature policy'
complete -c ferry -n "__fish_ferry_using_subcommand generate-sigstore-key" -s h -l help -d 'Print help'
complete -c ferry -n "__fish_ferry_using_subcommand generate-sigstore-key" -s V -l version -d 'Print version'
complete -c ferry -n "__fish_ferry_using_subcommand standalone-sign" -s o -l output -d 'Write the signature to FILE' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand standalone-sign" -l passphrase-file -d 'Read the key\'s passphrase from the first line of PATH' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand standalone-sign" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand standalone-sign" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c ferry -n "__fish_ferry_using_subcommand standalone-sign" -l override-os -d 'Use OS instead of the running OS when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand standalone-sign" -l override-arch -d 'Use ARCH instead of the machine\'s architecture when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand standalone-sign" -l override-variant -d 'Use VARIANT instead of the machine\'s architecture variant' -r
complete -c ferry -n "__fish_ferry_using_subcommand standalone-sign" -l registries-conf -d 'Use FILE as registries.conf (instead of $CONTAINERS_REGISTRIES_CONF or the default files)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand standalone-sign" -l policy -d 'Trust policy file (containers-policy.json); default $HOME/.config/containers/policy.json, else /etc/containers/policy.json' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand standalone-sign" -l registries.d -d 'Registries.d directory: where signatures are stored (lookaside, sigstore attachments)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand standalone-sign" -l insecure-policy -d 'Copy without checking the signature policy'
complete -c ferry -n "__fish_ferry_using_subcommand standalone-sign" -s h -l help -d 'Print help'
complete -c ferry -n "__fish_ferry_using_subcommand standalone-sign" -s V -l version -d 'Print version'
complete -c ferry -n "__fish_ferry_using_subcommand standalone-verify" -l public-key-file -d 'Trust the public keys in FILE instead of the GPG keyring' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand standalone-verify" -l root -d 'Store root directory [default: $XDG_DATA_HOME/wharf, or /var/lib/wharf for root]' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand standalone-verify" -l log-level -d 'Log messages at this level and above to stderr' -r -f -a "error\t''
warn\t''
info\t''
debug\t''
trace\t''"
complete -c ferry -n "__fish_ferry_using_subcommand standalone-verify" -l override-os -d 'Use OS instead of the running OS when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand standalone-verify" -l override-arch -d 'Use ARCH instead of the machine\'s architecture when choosing an image' -r
complete -c ferry -n "__fish_ferry_using_subcommand standalone-verify" -l override-variant -d 'Use VARIANT instead of the machine\'s architecture variant' -r
complete -c ferry -n "__fish_ferry_using_subcommand standalone-verify" -l registries-conf -d 'Use FILE as registries.conf (instead of $CONTAINERS_REGISTRIES_CONF or the default files)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand standalone-verify" -l policy -d 'Trust policy file (containers-policy.json); default $HOME/.config/containers/policy.json, else /etc/containers/policy.json' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand standalone-verify" -l registries.d -d 'Registries.d directory: where signatures are stored (lookaside, sigstore attachments)' -r -F
complete -c ferry -n "__fish_ferry_using_subcommand standalone-verify" -l insecure-policy -d 'Copy without checking the signature policy'
complete -c ferry -n "__fish_ferry_using_subcommand standalone-verify" -s h -l help -d 'Print help'
complete -c ferry -n "__fish_ferry_using_subcommand standalone-verify" -s V -l version -d 'Print version'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from manifest-digest inspect copy sync list-tags delete login logout generate-sigstore-key standalone-sign standalone-verify help" -f -a "manifest-digest" -d 'Compute the digest of a manifest file'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from manifest-digest inspect copy sync list-tags delete login logout generate-sigstore-key standalone-sign standalone-verify help" -f -a "inspect" -d 'Show an image\'s manifest, configuration or skopeo\'s summary'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from manifest-digest inspect copy sync list-tags delete login logout generate-sigstore-key standalone-sign standalone-verify help" -f -a "copy" -d 'Copy an image between transports'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from manifest-digest inspect copy sync list-tags delete login logout generate-sigstore-key standalone-sign standalone-verify help" -f -a "sync" -d 'Copy every image of a repository, directory or YAML list to a registry or directory'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from manifest-digest inspect copy sync list-tags delete login logout generate-sigstore-key standalone-sign standalone-verify help" -f -a "list-tags" -d 'List the tags of a repository'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from manifest-digest inspect copy sync list-tags delete login logout generate-sigstore-key standalone-sign standalone-verify help" -f -a "delete" -d 'Delete an image from a registry'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from manifest-digest inspect copy sync list-tags delete login logout generate-sigstore-key standalone-sign standalone-verify help" -f -a "login" -d 'Store credentials for a registry'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from manifest-digest inspect copy sync list-tags delete login logout generate-sigstore-key standalone-sign standalone-verify help" -f -a "logout" -d 'Remove stored credentials'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from manifest-digest inspect copy sync list-tags delete login logout generate-sigstore-key standalone-sign standalone-verify help" -f -a "generate-sigstore-key" -d 'Generate a sigstore (cosign) key pair for --sign-by-sigstore-private-key'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from manifest-digest inspect copy sync list-tags delete login logout generate-sigstore-key standalone-sign standalone-verify help" -f -a "standalone-sign" -d 'Sign a manifest file with a GPG key (simple signing), without a registry'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from manifest-digest inspect copy sync list-tags delete login logout generate-sigstore-key standalone-sign standalone-verify help" -f -a "standalone-verify" -d 'Verify a simple-signing signature of a manifest file; prints the digest'
complete -c ferry -n "__fish_ferry_using_subcommand help; and not __fish_seen_subcommand_from manifest-digest inspect copy sync list-tags delete login logout generate-sigstore-key standalone-sign standalone-verify help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
