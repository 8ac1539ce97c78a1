package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/framework/external"
)

// cmdPluginServer serves the compiled-in plugins of a config as an external
// plugin server (ContextForge cpex 0.1.x wire format), over STDIO or
// Streamable HTTP.
func cmdPluginServer(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("plugin-server", stderr)
	config := fs.String("config", "", "policy file naming the plugins to serve (required)")
	stdio := fs.Bool("stdio", false, "serve over stdin/stdout")
	listen := fs.String("listen", "", "serve Streamable HTTP on this address (/mcp; legacy SSE on /sse; GET /health)")
	logLevel := logFlag(fs)
	setUsage(fs, "plugin-server --config FILE (--stdio | --listen ADDR) [--log-level LEVEL]",
		"Serve the config's plugins as an external plugin server (ContextForge cpex 0.1.x wire format),\n"+
			"for kind: external entries of another mcp-extproc or of ContextForge. Logs go to stderr as JSON.")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	if *config == "" || *stdio == (*listen != "") {
		fmt.Fprintln(stderr, "extproc plugin-server: --config FILE and exactly one of --stdio or --listen ADDR are required")
		return errUsage
	}
	// stdout is the protocol channel in --stdio mode: logs go to stderr.
	logger, err := newLogger("plugin-server", *logLevel, stderr)
	if err != nil {
		return err
	}
	cfg, _, err := loadPolicy(*config, logger, stderr)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	srv, err := external.NewServer(ctx, cfg, framework.WithLogger(logger))
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	logger.Info("plugin server ready", "plugins", srv.Plugins())
	if *stdio {
		err := srv.ServeStdio(ctx)
		if errors.Is(err, context.Canceled) || errors.Is(err, io.EOF) {
			return nil
		}
		return err
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *listen, err)
	}
	hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(sctx)
	}()
	fmt.Fprintf(stdout, "extproc plugin-server: listening on http://%s/mcp\n", lis.Addr())
	if err := hs.Serve(lis); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
