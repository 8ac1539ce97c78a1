package main

import (
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"google.golang.org/grpc/grpclog"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Environment variables that override the policy file, for every policy
// (a container sets them; the flags of the same name win over them).
const (
	envListen        = "EXTPROC_LISTEN"         // server.listen
	envMetricsListen = "EXTPROC_METRICS_LISTEN" // server.metrics_listen ("" disables)
	envLogLevel      = "EXTPROC_LOG_LEVEL"      // --log-level
)

// logFlag adds --log-level (default $EXTPROC_LOG_LEVEL, else info).
func logFlag(fs *flag.FlagSet) *string {
	def := os.Getenv(envLogLevel)
	if def == "" {
		def = "info"
	}
	return fs.String("log-level", def, "debug, info, warn or error (default $"+envLogLevel+", else info)")
}

// newLogger is the process's one logger: JSON on stderr at level. The
// server, every plugin and the external plugins' stderr log through it. A
// bad level is a usage error of command.
func newLogger(command, level string, stderr io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		fmt.Fprintf(stderr, "extproc %s: --log-level: %q is not one of debug, info, warn, error\n", command, level)
		return nil, errUsage
	}
	logger := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: l}))
	grpclog.SetLoggerV2(grpcLog{logger})
	return logger, nil
}

// listenFlags are serve's --listen and --metrics-listen.
type listenFlags struct {
	fs                    *flag.FlagSet
	listen, metricsListen *string
}

func addListenFlags(fs *flag.FlagSet) listenFlags {
	return listenFlags{
		fs:            fs,
		listen:        fs.String("listen", "", "gRPC ext_proc address, host:port or unix:///path (overrides server.listen and $"+envListen+")"),
		metricsListen: fs.String("metrics-listen", "", "metrics, /healthz and /readyz address; \"\" disables (overrides server.metrics_listen and $"+envMetricsListen+")"),
	}
}

// override returns the function that sets the listeners of a loaded policy
// — the file's, then the environment's, then the flags' — applied to the
// first policy and to every reload, so that a reload does not see a
// listener change that is not one. It fails on an empty listen address.
func (lf listenFlags) override() (func(*framework.Config), error) {
	listen, lset := os.LookupEnv(envListen)
	metrics, mset := os.LookupEnv(envMetricsListen)
	what := "$" + envListen
	lf.fs.Visit(func(f *flag.Flag) {
		switch f.Name {
		case "listen":
			listen, lset, what = *lf.listen, true, "--listen"
		case "metrics-listen":
			metrics, mset = *lf.metricsListen, true
		}
	})
	if lset && listen == "" {
		return nil, fmt.Errorf("%s must not be empty", what)
	}
	return func(cfg *framework.Config) {
		if lset {
			cfg.Server.Listen = listen
		}
		if mset {
			cfg.Server.MetricsListen = metrics
		}
	}, nil
}
