FROM busybox
RUN true
COPY does-not-exist.txt /
