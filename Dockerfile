# syntax=docker/dockerfile:1
# The pipec image that the manifests of `pipec compile` name (`pipec:<version>` by default, or `--image REF`):
#   docker build -t pipec:0.1.0 .
# Stage 1 builds pipec exactly as a developer machine does (tools/setup --no-run); stage 2 holds only the binary,
# the shared libraries it links and the well-known .proto files, and runs as a non-root user.

FROM debian:12 AS build
WORKDIR /src
COPY . .
RUN rm -rf build && tools/setup --no-run && strip build/tools/pipec

FROM debian:12-slim AS runtime
# Exactly the packages of the shared libraries that build/tools/pipec links (`ldd`, each path through `dpkg -S`).
# tests/image/run_image_packages.sh compares this list with the build, so that a new library cannot be forgotten.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       libbrotli1 \
       libc6 \
       libcpp-httplib0.11 \
       libfmt9 \
       libgcc-s1 \
       libhiredis0.14 \
       libjemalloc2 \
       liblz4-1 \
       libprotobuf32 \
       librdkafka1 \
       libsasl2-2 \
       libssl3 \
       libstdc++6 \
       libyaml-cpp0.7 \
       libzstd1 \
       zlib1g \
    && rm -rf /var/lib/apt/lists/*
# pipec resolves imports of google/protobuf/*.proto (Timestamp, wrappers) from the directory it was built against.
COPY --from=build /usr/include/google/protobuf/*.proto /usr/include/google/protobuf/
COPY --from=build /src/build/tools/pipec /usr/local/bin/pipec
RUN useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin pipec
USER 10001:10001
WORKDIR /tmp
# The Deployment's container command is `pipec run --plan /etc/pipec/plan.pb …`.
CMD ["pipec", "--help"]
