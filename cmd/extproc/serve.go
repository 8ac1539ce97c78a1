package main

import (
	"context"
	"fmt"
	"io"

	"github.com/mcp-extproc/mcp-extproc/extproc"
)

// cmdServe runs the ext_proc server until SIGTERM or SIGINT; SIGHUP reloads
// the policy file (which is also watched for changes).
func cmdServe(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	config := fs.String("config", "", "policy file (default: $EXTPROC_CONFIG, else the embedded default policy)")
	logLevel := logFlag(fs)
	lf := addListenFlags(fs)
	setUsage(fs, "[serve] [--config FILE] [--listen ADDR] [--metrics-listen ADDR] [--log-level LEVEL]",
		"Run the ext_proc server that Envoy's ext_proc filter talks to. SIGHUP reloads the policy\n"+
			"file, which is also watched; SIGTERM and SIGINT drain open streams and stop.\n"+
			"Without --config or $EXTPROC_CONFIG the embedded default policy runs.\n"+
			"$EXTPROC_LISTEN, $EXTPROC_METRICS_LISTEN and $EXTPROC_LOG_LEVEL override any policy;\n"+
			"the flags override them.")
	if err := parseFlags(fs, args, stdout); err != nil {
		return err
	}
	logger, err := newLogger("serve", *logLevel, stderr)
	if err != nil {
		return err
	}
	override, err := lf.override()
	if err != nil {
		fmt.Fprintf(stderr, "extproc serve: %v\n", err)
		return errUsage
	}
	cfg, path, err := loadPolicy(*config, logger, stderr)
	if err != nil {
		return err
	}
	override(cfg)
	if path == "" {
		logger.Info("no --config given: running the " + cfg.Source)
	}

	ctx, reload, stop := serverSignals()
	defer stop()
	// Tracing is off unless the standard OTEL_* variables turn it on.
	tp, shutdownTracing, err := extproc.NewTracerProvider(ctx, version)
	if err != nil {
		return err
	}
	defer func() { _ = shutdownTracing(context.Background()) }()
	return extproc.Run(ctx, cfg, extproc.RunOptions{ConfigPath: path, Reload: reload, Override: override, Logger: logger, TracerProvider: tp})
}
