package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/mcp-extproc/mcp-extproc/extproc"
)

// cmdServe runs the ext_proc server until SIGTERM or SIGINT; SIGHUP reloads
// the policy file (which is also watched for changes).
func cmdServe(args []string, _, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	config := fs.String("config", "", "policy file (default: $EXTPROC_CONFIG, else the embedded default policy)")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "extproc serve: --log-level: %v\n", err)
		return errUsage
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: level}))

	cfg, path, err := loadPolicy(*config, logger, stderr)
	if err != nil {
		return err
	}
	if path == "" {
		logger.Info("no --config given: running the " + cfg.Source)
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	go func() {
		for range hup {
			select {
			case reload <- struct{}{}:
			default:
			}
		}
	}()
	// Tracing is off unless the standard OTEL_* variables turn it on.
	tp, shutdownTracing, err := extproc.NewTracerProvider(ctx, version)
	if err != nil {
		return err
	}
	defer func() { _ = shutdownTracing(context.Background()) }()
	return extproc.Run(ctx, cfg, extproc.RunOptions{ConfigPath: path, Reload: reload, Logger: logger, TracerProvider: tp})
}
