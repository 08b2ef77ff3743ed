# syntax=docker/dockerfile:1
#
# Two images from one build:
#
#   docker build --target static -t yoloarchive:static .
#       FROM scratch: the static yoloarchive alone (about 24 MB). Everything
#       but mask polygons; capture runs with masks need --no-polygons.
#   docker build -t yoloarchive .
#       debian:bookworm-slim with the OpenCV 4.6 runtime and the contours
#       helper beside yoloarchive: everything.
#
# docker run --rm -v "$PWD:/data" -w /data yoloarchive capture runs/detect/train -o train.tar.zst

ARG GO_VERSION=1.26

FROM golang:${GO_VERSION}-bookworm AS build
RUN apt-get update \
 && apt-get install -y --no-install-recommends libopencv-dev pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
# --version says VERSION when given (docker build --build-arg VERSION=v1.2.0),
# else what the build info holds.
ARG VERSION=
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.Version=${VERSION}" -o /out/yoloarchive ./cmd/yoloarchive \
 && bash scripts/build-helper.sh /out/yoloarchive-contours -trimpath -ldflags "-s -w -X main.Version=${VERSION}" \
 && mkdir -m 1777 /out/tmp

FROM scratch AS static
COPY --from=build /etc/ssl/certs/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY --from=build /out/tmp /tmp
COPY --from=build /out/yoloarchive /usr/local/bin/yoloarchive
ENV HOME=/tmp TMPDIR=/tmp
ENTRYPOINT ["/usr/local/bin/yoloarchive"]

FROM debian:bookworm-slim AS full
# The two OpenCV 4.6 libraries the helper links (scripts/build-helper.sh).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
      libopencv-core406 libopencv-imgproc406 \
 && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/yoloarchive /out/yoloarchive-contours /usr/local/bin/
RUN yoloarchive-contours --version
ENTRYPOINT ["/usr/local/bin/yoloarchive"]
