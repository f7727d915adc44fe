# syntax=docker/dockerfile:1
# accruectl, Accrue's development helper, and the compose credentials job.
# Build from the repository root (see docs/deploy.md):
#   docker build -f deploy/docker/accruectl.Dockerfile \
#     --build-arg VERSION=$(git describe --tags --always) --build-arg REVISION=$(git rev-parse HEAD) \
#     -t accrue/accruectl:$(git describe --tags --always) .
# Checked by deploy/checks (dockerfile_test.go): there is no Docker engine on the build machines.
ARG GO_VERSION=1.27.3

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# A static binary, and no toolchain download: the image's Go release is the Makefile's GOTOOLCHAIN.
ENV CGO_ENABLED=0 GOTOOLCHAIN=local
# The go.work workspace: go.work names every module, and the go command refuses a workspace whose
# modules are missing, so every module's go.mod and go.sum come first (deploy/checks asserts this
# list matches go.work).
COPY go.work go.work.sum ./
COPY deploy/checks/go.mod deploy/checks/go.sum deploy/checks/
COPY e2e/go.mod e2e/go.sum e2e/
COPY gateway/go.mod gateway/go.sum gateway/
COPY gen/go/go.mod gen/go/go.sum gen/go/
COPY internal/platform/go.mod internal/platform/go.sum internal/platform/
COPY services/billing/go.mod services/billing/go.sum services/billing/
COPY services/customer/go.mod services/customer/go.sum services/customer/
COPY services/project/go.mod services/project/go.sum services/project/
COPY services/resource/go.mod services/resource/go.sum services/resource/
COPY services/timeexpense/go.mod services/timeexpense/go.sum services/timeexpense/
COPY gen/go/ gen/go/
COPY internal/platform/ internal/platform/
COPY gateway/ gateway/
# accruectl does not link the service package: `go version -m` shows the stamp.
ARG VERSION=dev
ARG REVISION=unknown
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath \
      -ldflags="-s -w -X github.com/accrue/accrue/internal/platform/service.version=${VERSION} -X github.com/accrue/accrue/internal/platform/service.commit=${REVISION}" \
      -o /out/accruectl ./gateway/cmd/accruectl
# The credentials volume's mount point, owned by nonroot: Docker initialises a new named volume
# from it (content and ownership), so the job can write there.
RUN mkdir -p /out/credentials && echo "written by dev-credentials.sh" >/out/credentials/README

# A development tool, not a server: the debug variant keeps busybox's sh for dev-credentials.sh.
FROM gcr.io/distroless/static-debian12:debug-nonroot
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="accrue-accruectl" \
      org.opencontainers.image.description="accruectl, Accrue's development helper, and the compose credentials job" \
      org.opencontainers.image.source="https://github.com/accrue/accrue" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /out/accruectl /usr/local/bin/accruectl
COPY --chmod=0555 deploy/docker/dev-credentials.sh /usr/local/bin/dev-credentials.sh
COPY --from=build --chown=65532:65532 /out/credentials/ /credentials/
USER 65532:65532
# A one-shot command: nothing to probe.
HEALTHCHECK NONE
ENTRYPOINT ["/usr/local/bin/accruectl"]
