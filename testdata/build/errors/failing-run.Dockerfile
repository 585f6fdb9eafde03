FROM busybox
RUN echo first-step-ok
RUN echo boom-output; exit 3
