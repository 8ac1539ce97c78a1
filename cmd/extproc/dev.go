package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"time"

	"github.com/mcp-extproc/mcp-extproc/envoy"
	"github.com/mcp-extproc/mcp-extproc/extproc"
)

// cmdDev runs the ext_proc server and an in-process stand-in for Envoy's
// ext_proc filter in front of an MCP server: a development aid to try a
// policy without Envoy. Production is Envoy. With --extproc the stand-in
// talks to an ext_proc server that is already running instead.
func cmdDev(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("dev", stderr)
	upstream := fs.String("upstream", "", "base URL of the MCP server, e.g. http://127.0.0.1:3001 (required)")
	listen := fs.String("listen", "127.0.0.1:8080", "where MCP clients connect")
	config := fs.String("config", "", "policy file (default: $EXTPROC_CONFIG, else the embedded default policy)")
	extprocAddr := fs.String("extproc", "", "host:port of an ext_proc server already running (extproc serve): put the stand-in in front of it instead of starting one; --config does not apply")
	logLevel := logFlag(fs)
	setUsage(fs, "dev --upstream URL [--listen ADDR] [--config FILE | --extproc ADDR] [--log-level LEVEL]",
		"DEVELOPMENT AID: an Envoy stand-in and the ext_proc server in one process, to put a policy\n"+
			"in front of an MCP server without Envoy. It mirrors the ext_proc filter of envoy/envoy.yaml;\n"+
			"production is Envoy. SIGHUP reloads the policy file (also watched); SIGINT or SIGTERM stops.")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	u, err := url.Parse(*upstream)
	if *upstream == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		fmt.Fprintln(stderr, "extproc dev: --upstream must be a base URL such as http://127.0.0.1:3001")
		return errUsage
	}
	if *extprocAddr != "" && *config != "" {
		fmt.Fprintln(stderr, "extproc dev: --config and --extproc exclude each other (the running server has its policy)")
		return errUsage
	}
	logger, err := newLogger("dev", *logLevel, stderr)
	if err != nil {
		return err
	}
	filter, err := envoy.ShippedExtProcFilter()
	if err != nil {
		return err
	}
	ctx, reload, stop := serverSignals()
	defer stop()

	grpcAddr, mcpPath, policyName := *extprocAddr, "", "the ext_proc server at "+*extprocAddr
	runErr := make(chan error, 1)
	if *extprocAddr == "" {
		cfg, path, err := loadPolicy(*config, logger, stderr)
		if err != nil {
			return err
		}
		// The ext_proc server listens on a private loopback port; metrics
		// stay off unless the policy names a port explicitly.
		cfg.Server.Listen = "127.0.0.1:0"
		if cfg.Server.MetricsListen == "0.0.0.0:9090" {
			cfg.Server.MetricsListen = ""
		}
		if len(cfg.MCP.Paths) > 0 {
			mcpPath = cfg.MCP.Paths[0]
		}
		policyName = cfg.Source
		started := make(chan net.Addr, 1)
		go func() {
			runErr <- extproc.Run(ctx, cfg, extproc.RunOptions{ConfigPath: path, Reload: reload, Logger: logger,
				Started: func(g, _ net.Addr, _ *extproc.Server) { started <- g }})
		}()
		select {
		case g := <-started:
			grpcAddr = g.String()
		case err := <-runErr:
			return err
		}
	} else {
		go func() {
			for range reload {
				logger.Info("SIGHUP: the policy is the running ext_proc server's; reload it there (extproc serve reloads on SIGHUP)")
			}
		}()
	}
	proxy, err := newDevProxy(filter, grpcAddr, u)
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", *listen, err)
	}
	hs := &http.Server{Handler: proxy, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = hs.Serve(lis) }()
	client := clientURL(lis.Addr().String(), mcpPath, u)
	logger.Warn("extproc dev is a DEVELOPMENT AID, not a production proxy: use Envoy in production",
		"listen", client, "upstream", u.String(), "policy", policyName)
	fmt.Fprintf(stdout, "extproc dev: MCP clients connect to %s (forwarded to %s; policy: %s)\n", client, u, policyName)

	// Stop: the clients' connections first (an open event stream would
	// otherwise hold the server's drain for its whole grace), then the server.
	select {
	case <-ctx.Done():
	case err := <-runErr: // the server stopped on its own
		_ = hs.Close()
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil {
		_ = hs.Close()
	}
	if *extprocAddr == "" {
		err = <-runErr
	}
	if errors.Is(err, context.Canceled) {
		err = nil
	}
	if err == nil {
		logger.Info("extproc dev stopped")
	}
	return err
}

// clientURL is the URL an MCP client is given: the stand-in's address and
// the MCP path — the policy's first mcp.paths entry, else the path of
// --upstream, else /mcp, where MCP servers usually serve (every path is
// forwarded as received, as Envoy does).
func clientURL(addr, policyPath string, upstream *url.URL) string {
	path := policyPath
	if path == "" && upstream.Path != "" && upstream.Path != "/" {
		path = upstream.Path
	}
	if path == "" {
		path = "/mcp"
	}
	return (&url.URL{Scheme: "http", Host: addr, Path: path}).String()
}
