# syntax=docker/dockerfile:1
# Accrue gateway: REST, webhooks, /healthz, /readyz and /metrics on :8080.
# Build from the repository root (see docs/deploy.md):
#   docker build -f deploy/docker/gateway.Dockerfile \
#     --build-arg VERSION=$(git describe --tags --always) --build-arg REVISION=$(git rev-parse HEAD) \
#     -t accrue/gateway:$(git describe --tags --always) .
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
# The sources this binary imports, and the probe its HEALTHCHECK runs.
COPY gen/go/ gen/go/
COPY internal/platform/ internal/platform/
COPY gateway/ gateway/
COPY deploy/checks/cmd/httpprobe/ deploy/checks/cmd/httpprobe/
# The gateway links the service package but does not print the stamp yet; `go version -m` shows it.
ARG VERSION=dev
ARG REVISION=unknown
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath \
      -ldflags="-s -w -X github.com/accrue/accrue/internal/platform/service.version=${VERSION} -X github.com/accrue/accrue/internal/platform/service.commit=${REVISION}" \
      -o /out/gateway ./gateway/cmd/gateway
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath -ldflags="-s -w" -o /out/httpprobe ./deploy/checks/cmd/httpprobe

FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="accrue-gateway" \
      org.opencontainers.image.description="Accrue gateway: REST, webhooks, /healthz, /readyz and /metrics on :8080" \
      org.opencontainers.image.source="https://github.com/accrue/accrue" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /out/gateway /usr/local/bin/gateway
COPY --from=build /out/httpprobe /usr/local/bin/httpprobe
ENV ACCRUE_HTTP_ADDR=:8080
EXPOSE 8080
USER 65532:65532
# Ready when every upstream service's gRPC health check says SERVING.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/httpprobe", "http://127.0.0.1:8080/readyz"]
ENTRYPOINT ["/usr/local/bin/gateway"]
