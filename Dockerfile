# mcp-extproc: a static, non-root, distroless image of the ext_proc server.
#   docker build -t mcp-extproc .
#   docker buildx build --platform linux/amd64,linux/arm64 -t REGISTRY/mcp-extproc:TAG --push .
#   docker run -p 50051:50051 -p 9090:9090 mcp-extproc            # embedded default policy
#   docker run -v $PWD/policy.yaml:/etc/mcp-extproc/policy.yaml mcp-extproc serve --config /etc/mcp-extproc/policy.yaml
# Build with --build-arg TARGET=./examples/mcp-server for the example MCP server.
# deploy/image_test.go checks this file's shape (make test).

# The toolchain runs on the builder's platform and cross-compiles (no emulation).
FROM --platform=$BUILDPLATFORM golang:1.26-bookworm AS build
ARG TARGET=./cmd/extproc
ARG VERSION=dev
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 GOOS=${TARGETOS} GOARCH=${TARGETARCH} \
    go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/app ${TARGET}

# No shell, no package manager, no root: the binary and CA certificates only.
FROM gcr.io/distroless/static-debian12:nonroot
ARG VERSION=dev
LABEL org.opencontainers.image.title="mcp-extproc" \
      org.opencontainers.image.description="Envoy ext_proc policy filter for MCP traffic" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /out/app /app
USER 65532:65532
EXPOSE 50051 9090
ENTRYPOINT ["/app"]
