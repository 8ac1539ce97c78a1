package extproc

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strings"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// RunOptions configure Run.
type RunOptions struct {
	// ConfigPath is the policy file to watch and reload; "" (the embedded
	// default) disables reloading.
	ConfigPath string
	// Reload triggers a reload (SIGHUP).
	Reload <-chan struct{}
	// Override, if set, adjusts each policy a reload reads before it
	// replaces the running one: the command line's --listen and the
	// environment's EXTPROC_* win over the file on a reload too. (The first
	// policy is the caller's, adjusted already.)
	Override func(*framework.Config)
	// Logger receives JSON logs.
	Logger *slog.Logger
	// Registry resolves plugin kinds; nil means the default registry.
	Registry *framework.Registry
	// TracerProvider traces MCP exchanges when set (NewTracerProvider).
	TracerProvider trace.TracerProvider
	// Started, if set, is called with the bound addresses once serving
	// (the metrics address is nil when metrics are disabled).
	Started func(grpcAddr, metricsAddr net.Addr, s *Server)
}

// Run serves ext_proc (and metrics) for cfg until ctx ends, then drains:
// readiness and gRPC health turn NOT_SERVING, new streams are refused and
// open ones get server.shutdown_grace to finish.
func Run(ctx context.Context, cfg *framework.Config, ro RunOptions) error {
	logger := ro.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	// The server's families go in a registry of its own (a reload or a
	// test can build another); /metrics also gathers the process-wide
	// default registry, which holds the Go and process collectors and what
	// plugins register there (the outbound service metrics).
	reg := prometheus.NewRegistry()
	// /metrics serves the server's families and the default registry's:
	// the Go and process collectors, and those plugins register from their
	// package (mcp_extproc_rate_limit_backend_errors_total).
	metrics := prometheus.Gatherers{reg, prometheus.DefaultGatherer}
	srv, err := NewServer(ctx, cfg, Options{Logger: logger, Metrics: NewMetrics(reg), Registry: ro.Registry, TracerProvider: ro.TracerProvider})
	if err != nil {
		return err
	}

	lis, err := listen(cfg.Server.Listen)
	if err != nil {
		return err
	}
	if gc, ok := tuneGC(); ok {
		logger.Debug("garbage collector target set (GOGC is not in the environment)", "gogc", gc)
	}
	gopts := GRPCServerOptions(cfg)
	if cfg.Server.TLS.Enabled() {
		tc, err := serverTLS(cfg.Server.TLS)
		if err != nil {
			lis.Close()
			return err
		}
		gopts = append(gopts, grpc.Creds(credentials.NewTLS(tc)))
	}
	gs := grpc.NewServer(gopts...)
	extprocv3.RegisterExternalProcessorServer(gs, srv)
	hs := health.NewServer()
	hs.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	hs.SetServingStatus(extprocv3.ExternalProcessor_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)
	healthpb.RegisterHealthServer(gs, hs)

	var metricsAddr net.Addr
	var hsrv *http.Server
	if cfg.Server.MetricsListen != "" {
		mlis, err := listen(cfg.Server.MetricsListen)
		if err != nil {
			lis.Close()
			return err
		}
		metricsAddr = mlis.Addr()
		hsrv = &http.Server{Handler: srv.OpsHandler(metrics), ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := hsrv.Serve(mlis); err != nil && !errors.Is(err, http.ErrServerClosed) {
				logger.Error("metrics server stopped", "error", err.Error())
			}
		}()
	}

	stopSweep := make(chan struct{})
	go srv.sessions.run(stopSweep)
	defer close(stopSweep)

	reloadCtx, stopReload := context.WithCancel(ctx)
	defer stopReload()
	reloads := make(chan struct{}, 1)
	if ro.ConfigPath != "" {
		err := watchFile(reloadCtx, ro.ConfigPath, 200*time.Millisecond,
			func() { trigger(reloads) },
			func(err error) { logger.Warn("config watch error", "error", err.Error()) })
		if err != nil {
			logger.Warn("config file is not watched; reload with SIGHUP", "path", ro.ConfigPath, "error", err.Error())
		}
	}
	go func() {
		for {
			select {
			case <-reloadCtx.Done():
				return
			case <-ro.Reload:
				trigger(reloads)
			case <-reloads:
				reloadFrom(reloadCtx, srv, ro, logger)
			}
		}
	}()

	serveErr := make(chan error, 1)
	go func() { serveErr <- gs.Serve(lis) }()
	logger.Info("ext_proc server listening", "listen", lis.Addr().String(), "metrics", addrString(metricsAddr),
		"policy", cfg.Source, "plugins", srv.policy.Load().mgr.Plugins(), "hooks", srv.policy.Load().mgr.HookCount())
	if ro.Started != nil {
		ro.Started(lis.Addr(), metricsAddr, srv)
	}

	select {
	case err := <-serveErr:
		return fmt.Errorf("ext_proc server: %w", err)
	case <-ctx.Done():
	}
	grace := cfg.Server.ShutdownGrace.Std()
	logger.Info("shutting down: draining open streams", "grace", grace.String())
	srv.draining.Store(true)
	hs.Shutdown()
	done := make(chan struct{})
	go func() { gs.GracefulStop(); close(done) }()
	select {
	case <-done:
	case <-time.After(grace):
		logger.Warn("shutdown grace elapsed; closing remaining streams")
		gs.Stop()
		<-done
	}
	if hsrv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_ = hsrv.Shutdown(sctx)
		cancel()
	}
	cctx, cancel := context.WithTimeout(context.Background(), grace+time.Second)
	defer cancel()
	return srv.Close(cctx)
}

func trigger(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

func reloadFrom(ctx context.Context, srv *Server, ro RunOptions, logger *slog.Logger) {
	if ro.ConfigPath == "" {
		logger.Info("reload requested, but the embedded default policy is in use; nothing to reload")
		return
	}
	cfg, warns, err := framework.Load(ro.ConfigPath, framework.LoadOptions{Registry: ro.Registry})
	for _, w := range warns {
		logger.Warn("config warning", "warning", w.String())
	}
	if err == nil {
		if ro.Override != nil {
			ro.Override(cfg)
		}
		err = srv.Reload(ctx, cfg)
	} else {
		srv.metrics.ConfigReloads.WithLabelValues("failure").Inc()
	}
	if err != nil {
		logger.Error("config reload rejected; the previous policy keeps serving", "path", ro.ConfigPath, "error", err.Error())
		return
	}
	logger.Info("config reloaded", "path", ro.ConfigPath, "plugins", srv.policy.Load().mgr.Plugins())
}

// listen opens "host:port" (TCP) or "unix:///path" (a unix socket; a stale
// socket file from a previous run is removed first).
func listen(addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix://"); ok {
		if fi, err := os.Stat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
			_ = os.Remove(path)
		}
		l, err := net.Listen("unix", path)
		if err != nil {
			return nil, fmt.Errorf("listen %s: %w", addr, err)
		}
		return l, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen %s: %w", addr, err)
	}
	return l, nil
}

func serverTLS(c framework.TLSConfig) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(c.CertFile, c.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("server.tls: %w", err)
	}
	tc := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if c.ClientCAFile != "" {
		pem, err := os.ReadFile(c.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("server.tls.client_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("server.tls.client_ca_file: no certificates in %s", c.ClientCAFile)
		}
		tc.ClientCAs = pool
		tc.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return tc, nil
}

func addrString(a net.Addr) string {
	if a == nil {
		return "disabled"
	}
	return a.String()
}

// GRPCServerOptions are the options of the gRPC server Run serves cfg's
// ext_proc service on, but for TLS: message size limits and
// streamOptions. A test that serves a Server on its own gRPC server
// should use them, so that it runs as the filter does.
func GRPCServerOptions(cfg *framework.Config) []grpc.ServerOption {
	return append([]grpc.ServerOption{
		grpc.MaxRecvMsgSize(cfg.Server.MaxMessageBytes),
		grpc.MaxSendMsgSize(cfg.Server.MaxMessageBytes),
	}, streamOptions()...)
}

// streamOptions are the gRPC server options of the ext_proc service that
// shape how streams run; the load benchmark's filter server uses them too.
//
// Fixed flow-control windows: by default grpc-go grows a stream's receive
// window with its bandwidth-delay estimate, up to 16 MiB, and Envoy sends
// a streamed body's chunks without waiting for their answers, so a filter
// busy with a long event stream could hold megabytes of chunks it has not
// read yet. A fixed window bounds what one stream can have in flight
// (Envoy keeps the rest, under its own buffer limits); Envoy and the
// filter are a hop apart, so a window of 1 MiB is not what limits speed.
//
// (gRPC's stream workers, warm goroutines whose grown stacks streams
// reuse, were tried: with growStack, which grows a fresh stream's stack
// once at a shallow point, they made no difference in the load benchmark.)
//
// And extprocCodec, which reads Envoy's messages and writes the answers
// without protobuf's reflection.
func streamOptions() []grpc.ServerOption {
	return []grpc.ServerOption{
		grpc.InitialWindowSize(streamWindow),
		grpc.InitialConnWindowSize(connWindow),
		grpc.ForceServerCodecV2(newExtprocCodec()),
	}
}

// DefaultGCPercent is the garbage collector's target (GOGC) that Run sets
// unless GOGC is in the environment. The filter's live heap is small — the
// policy, the session table, a few MiB — and it allocates a few KiB per
// exchange, so at Go's default of 100 it collects many times a second and
// each collection's fixed costs add up: in the load benchmark (both
// servers run with the same target) 200 lowers the filter's CPU per
// exchange by about a tenth for about 4 MiB more resident memory under
// load. GOGC (and GOMEMLIMIT, which Run leaves to the environment) still
// decide when set.
const DefaultGCPercent = 200

// tuneGC sets DefaultGCPercent unless GOGC is set; it reports the target
// it set.
func tuneGC() (int, bool) {
	if _, set := os.LookupEnv("GOGC"); set {
		return 0, false
	}
	debug.SetGCPercent(DefaultGCPercent)
	return DefaultGCPercent, true
}

const (
	streamWindow = 1 << 20 // bytes one stream may have in flight to the filter
	connWindow   = 8 << 20 // and all streams of one connection
)
