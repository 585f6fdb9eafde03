FROM busybox
COPY --from=nosuchstage /x /x
