package extproc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync/atomic"
	"time"

	extprocv3 "github.com/envoyproxy/go-control-plane/envoy/service/ext_proc/v3"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Server implements Envoy's ExternalProcessor service. One Server serves
// every stream; each stream (one HTTP exchange) gets its own exchange state
// and runs to its end on the policy that was active when it started.
type Server struct {
	extprocv3.UnimplementedExternalProcessorServer

	policy   atomic.Pointer[policy]
	metrics  *Metrics
	sessions *SessionTable
	logger   *slog.Logger
	opts     Options
	draining atomic.Bool
}

// Options configure a Server.
type Options struct {
	// Logger receives the server's JSON logs; nil discards them.
	Logger *slog.Logger
	// Metrics records the Prometheus families; nil creates unregistered ones.
	Metrics *Metrics
	// Registry resolves plugin kinds; nil means the default registry.
	Registry *framework.Registry
	// TracerProvider, when set, traces each MCP exchange (tracing.go).
	TracerProvider trace.TracerProvider
}

// policy is one generation of configuration: the config and the Manager
// built from it. Streams hold a reference while they run, so that a reload
// retires a Manager only once the exchanges that started on it are done.
type policy struct {
	cfg *framework.Config
	mgr *framework.Manager
	// readsResponses: some hook of the policy runs on responses (results
	// or list results), so every response on an MCP path is read. Decided
	// once per policy, not per exchange.
	readsResponses bool
	// paths are mcp.paths as isMCPPath compares them, made once.
	paths   []mcpPath
	refs    atomic.Int64
	retired atomic.Bool // replaced by a reload
	shut    atomic.Bool // its Manager has been shut down
}

// NewServer builds the plugin pipeline of cfg and returns a server for it.
func NewServer(ctx context.Context, cfg *framework.Config, opts Options) (*Server, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	if opts.Metrics == nil {
		opts.Metrics = NewMetrics(prometheus.NewRegistry())
	}
	s := &Server{
		metrics: opts.Metrics,
		logger:  opts.Logger,
		opts:    opts,
		sessions: NewSessionTable(cfg.PluginSettings.ContextMaxAge.Std(),
			cfg.PluginSettings.ContextCleanupInterval.Std(), cfg.PluginSettings.ContextMaxEntries),
	}
	s.sessions.gauge = func(n int) { s.metrics.SessionEntries.Set(float64(n)) }
	unavailable := s.Unavailable
	s.metrics.Unavailable.source.Store(&unavailable)
	p, err := s.build(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s.policy.Store(p)
	return s, nil
}

func (s *Server) build(ctx context.Context, cfg *framework.Config) (*policy, error) {
	mopts := []framework.Option{framework.WithLogger(s.logger), framework.WithObserver(s.metrics)}
	if s.opts.Registry != nil {
		mopts = append(mopts, framework.WithRegistry(s.opts.Registry))
	}
	mgr, err := framework.NewManager(ctx, cfg, mopts...)
	if err != nil {
		return nil, err
	}
	return &policy{cfg: cfg, mgr: mgr, readsResponses: anyPostHook(mgr), paths: mcpPaths(cfg.MCP.Paths)}, nil
}

// Unavailable lists the plugins of the policy in force that are configured
// but not running.
func (s *Server) Unavailable() []framework.Unavailable {
	if p := s.policy.Load(); p != nil {
		return p.mgr.Unavailable()
	}
	return nil
}

// Config returns the configuration in force.
func (s *Server) Config() *framework.Config { return s.policy.Load().cfg }

// Sessions returns the per-session request table.
func (s *Server) Sessions() *SessionTable { return s.sessions }

// Reload builds cfg and, if it loads, makes it the policy for new streams.
// Streams already running finish on the policy they started with; the old
// Manager is shut down when the last of them ends. A config that fails to
// build is rejected and the old one keeps serving.
func (s *Server) Reload(ctx context.Context, cfg *framework.Config) error {
	p, err := s.build(ctx, cfg)
	if err != nil {
		s.metrics.ConfigReloads.WithLabelValues("failure").Inc()
		return err
	}
	if changed := needsRestart(s.policy.Load().cfg, cfg); len(changed) > 0 {
		s.logger.Warn("config reloaded, but these server settings take effect only after a restart; the old ones stay in force", "settings", changed)
	}
	ps := cfg.PluginSettings
	s.sessions.Configure(ps.ContextMaxAge.Std(), ps.ContextCleanupInterval.Std(), ps.ContextMaxEntries)
	old := s.policy.Swap(p)
	s.metrics.ConfigReloads.WithLabelValues("success").Inc()
	s.retire(old)
	return nil
}

// needsRestart lists the settings that differ between a and b and are read
// only at start-up (plugin settings, the session table's included, apply on
// reload).
func needsRestart(a, b *framework.Config) []string {
	var out []string
	for _, s := range []struct {
		name    string
		changed bool
	}{
		{"server.listen", a.Server.Listen != b.Server.Listen},
		{"server.metrics_listen", a.Server.MetricsListen != b.Server.MetricsListen},
		{"server.tls", a.Server.TLS != b.Server.TLS},
		{"server.max_message_bytes", a.Server.MaxMessageBytes != b.Server.MaxMessageBytes},
		{"server.shutdown_grace", a.Server.ShutdownGrace != b.Server.ShutdownGrace},
		{"server.pprof", a.Server.Pprof != b.Server.Pprof},
	} {
		if s.changed {
			out = append(out, s.name)
		}
	}
	return out
}

// acquire returns the current policy with a reference held.
func (s *Server) acquire() *policy {
	for {
		p := s.policy.Load()
		p.refs.Add(1)
		if s.policy.Load() == p {
			return p
		}
		s.release(p) // swapped meanwhile: use the new one
	}
}

func (s *Server) release(p *policy) {
	if p.refs.Add(-1) == 0 && p.retired.Load() {
		s.shutdownPolicy(p)
	}
}

func (s *Server) retire(p *policy) {
	p.retired.Store(true)
	if p.refs.Load() == 0 {
		s.shutdownPolicy(p)
	}
}

func (s *Server) shutdownPolicy(p *policy) {
	if !p.shut.CompareAndSwap(false, true) {
		return
	}
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := p.mgr.Shutdown(ctx); err != nil {
			s.logger.Warn("retired policy shut down with errors", "error", err.Error())
		}
	}()
}

// Close shuts the active policy's plugins down; call it after the gRPC
// server has stopped.
func (s *Server) Close(ctx context.Context) error {
	return s.policy.Load().mgr.Shutdown(ctx)
}

// Process serves one ext_proc stream: one HTTP request and its response.
func (s *Server) Process(stream extprocv3.ExternalProcessor_ProcessServer) error {
	s.metrics.ActiveStreams.Inc()
	defer s.metrics.ActiveStreams.Dec()
	p := s.acquire()
	defer s.release(p)

	growStack() // before the first Recv, whose decoding would grow it too
	ex := newExchange(s, p, stream.Context())
	defer ex.endTrace()
	for {
		req, err := stream.Recv()
		if err != nil {
			// Envoy ends a stream with EOF when the exchange is done, or
			// cancels it when the client goes away: both are normal.
			if errors.Is(err, io.EOF) || status.Code(err) == codes.Canceled || errors.Is(err, context.Canceled) {
				return nil
			}
			return err
		}
		for _, resp := range ex.handle(req) {
			if err := stream.Send(resp); err != nil {
				if status.Code(err) == codes.Canceled || errors.Is(err, io.EOF) {
					return nil
				}
				return fmt.Errorf("send: %w", err)
			}
		}
	}
}
