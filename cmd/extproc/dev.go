package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mcp-extproc/mcp-extproc/envoy"
	"github.com/mcp-extproc/mcp-extproc/extproc"
)

// cmdDev runs the ext_proc server and an in-process stand-in for Envoy's
// ext_proc filter in front of an MCP server: a development aid to try a
// policy without Envoy. Production is Envoy.
func cmdDev(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dev", stderr)
	upstream := fs.String("upstream", "", "base URL of the MCP server, e.g. http://127.0.0.1:3001 (required)")
	listen := fs.String("listen", "127.0.0.1:8080", "where MCP clients connect")
	config := fs.String("config", "", "policy file (default: $EXTPROC_CONFIG, else the embedded default policy)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "extproc dev — DEVELOPMENT AID: an Envoy stand-in and the ext_proc server in one process.\nIt mirrors the ext_proc filter of envoy/envoy.yaml; production is Envoy.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	u, err := url.Parse(*upstream)
	if *upstream == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintln(stderr, "extproc dev: --upstream must be a base URL such as http://127.0.0.1:3001")
		return errUsage
	}
	logger := slog.New(slog.NewJSONHandler(stderr, nil))
	cfg, path, err := loadPolicy(*config, logger, stderr)
	if err != nil {
		return err
	}
	filter, err := envoy.ShippedExtProcFilter()
	if err != nil {
		return err
	}
	// The ext_proc server listens on a private loopback port; metrics stay
	// off unless the policy names a port explicitly.
	cfg.Server.Listen = "127.0.0.1:0"
	if cfg.Server.MetricsListen == "0.0.0.0:9090" {
		cfg.Server.MetricsListen = ""
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	started := make(chan net.Addr, 1)
	runErr := make(chan error, 1)
	go func() {
		runErr <- extproc.Run(ctx, cfg, extproc.RunOptions{ConfigPath: path, Logger: logger,
			Started: func(g, _ net.Addr, _ *extproc.Server) { started <- g }})
	}()
	var grpcAddr net.Addr
	select {
	case grpcAddr = <-started:
	case err := <-runErr:
		return err
	}
	proxy, err := newDevProxy(filter, grpcAddr.String(), u)
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *listen, err)
	}
	hs := &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(lis) }()
	logger.Warn("extproc dev is a DEVELOPMENT AID, not a production proxy: use Envoy in production",
		"listen", "http://"+lis.Addr().String(), "upstream", u.String(), "policy", cfg.Source)
	fmt.Fprintf(stdout, "extproc dev: MCP clients connect to http://%s (forwarded to %s)\n", lis.Addr(), u)
	err = <-runErr
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	if errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}
