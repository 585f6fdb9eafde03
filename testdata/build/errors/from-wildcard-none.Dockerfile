FROM busybox AS src
RUN mkdir /out && echo a > /out/a.txt
FROM busybox
COPY --from=src /out/*.md /w/
