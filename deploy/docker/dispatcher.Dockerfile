# syntax=docker/dockerfile:1
# Accrue outbound webhook dispatcher: gRPC on :7006, Prometheus metrics on :9106.
# Build from the repository root (see docs/deploy.md):
#   docker build -f deploy/docker/dispatcher.Dockerfile \
#     --build-arg VERSION=$(git describe --tags --always) --build-arg REVISION=$(git rev-parse HEAD) \
#     -t accrue/dispatcher:$(git describe --tags --always) .
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
# The sources this binary imports.
COPY gen/go/ gen/go/
COPY internal/platform/ internal/platform/
COPY gateway/ gateway/
ARG VERSION=dev
ARG REVISION=unknown
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    go build -trimpath \
      -ldflags="-s -w -X github.com/accrue/accrue/internal/platform/service.version=${VERSION} -X github.com/accrue/accrue/internal/platform/service.commit=${REVISION}" \
      -o /out/dispatcher ./gateway/cmd/dispatcher

# No shell, no package manager; uid 65532 is distroless's "nonroot".
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
ARG REVISION=unknown
LABEL org.opencontainers.image.title="accrue-dispatcher" \
      org.opencontainers.image.description="Accrue outbound webhook dispatcher: gRPC on :7006, Prometheus metrics on :9106" \
      org.opencontainers.image.source="https://github.com/accrue/accrue" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
COPY --from=build /out/dispatcher /usr/local/bin/dispatcher
# Listen on every interface of the container (the code's defaults are loopback, for make run).
ENV ACCRUE_GRPC_ADDR=:7006 ACCRUE_METRICS_ADDR=:9106
EXPOSE 7006 9106
USER 65532:65532
# The binary's own gRPC health check (grpc.health.v1, the "" service: SERVING while Postgres and
# Redis answer). `dispatcher migrate` runs the migrations and exits (compose and Kubernetes jobs).
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/dispatcher", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/dispatcher"]
CMD ["serve"]
