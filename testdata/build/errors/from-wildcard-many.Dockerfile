FROM busybox AS src
RUN mkdir /out && echo a > /out/a.txt && echo b > /out/b.txt
FROM busybox
COPY --from=src /out/*.txt /w
