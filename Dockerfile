# mcp-extproc: a static, non-root image of the ext_proc server.
#   docker build -t mcp-extproc .
#   docker run -p 50051:50051 -p 9090:9090 mcp-extproc            # embedded default policy
#   docker run -v $PWD/policy.yaml:/etc/mcp-extproc/policy.yaml mcp-extproc serve --config /etc/mcp-extproc/policy.yaml
# Build with TARGET=./examples/mcp-server for the example MCP server.
FROM golang:1.26-bookworm AS build
ARG TARGET=./cmd/extproc
ARG VERSION=dev
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION}" -o /out/app ${TARGET}

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/app /app
USER 65532:65532
EXPOSE 50051 9090
ENTRYPOINT ["/app"]
