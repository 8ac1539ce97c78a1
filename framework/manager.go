package framework

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"
)

// Manager is one loaded policy: the plugins of a Config, instantiated and
// ordered per hook. It is immutable once built and safe for concurrent use;
// a config reload builds a new Manager and shuts the old one down when the
// exchanges that started on it are done. There is no process-wide Manager.
type Manager struct {
	cfg        *Config
	entries    []*entry
	byHook     [numHooks][]*entry
	maxPayload int
	logger     *slog.Logger
	observer   Observer

	pool       chan struct{} // execution_pool slots for concurrent and fire_and_forget calls
	workers    *workerPool   // warm goroutines for calls that may block
	background sync.WaitGroup
	retries    sync.WaitGroup // background retries of plugins that did not load
	retryCtx   context.Context
	stopRetry  context.CancelFunc
	registry   *Registry
	retryMin   time.Duration
	retryMax   time.Duration
	bgCtx      context.Context
	bgCancel   context.CancelFunc
	shutdown   sync.Once
}

// Option configures NewManager.
type Option func(*managerOptions)

type managerOptions struct {
	registry           *Registry
	logger             *slog.Logger
	observer           Observer
	retryMin, retryMax time.Duration
}

// WithRetryBackoff sets how a plugin that failed to start is retried in the
// background: after min, doubling up to max (default 1s to 30s).
func WithRetryBackoff(min, max time.Duration) Option {
	return func(o *managerOptions) { o.retryMin, o.retryMax = min, max }
}

// WithRegistry resolves kinds in r instead of the default registry.
func WithRegistry(r *Registry) Option { return func(o *managerOptions) { o.registry = r } }

// WithLogger sends the Manager's logs (audit records, plugin failures) to l.
func WithLogger(l *slog.Logger) Option { return func(o *managerOptions) { o.logger = l } }

// WithObserver reports plugin calls and hook runs to obs (metrics).
func WithObserver(obs Observer) Option { return func(o *managerOptions) { o.observer = obs } }

// NewManager instantiates and initialises the plugins of cfg.
//
// A factory error (the kind rejects its settings) always fails: it is a
// mistake in the file. An Initialize error (a server that cannot be reached,
// a command that does not exist) fails when
// plugin_settings.fail_on_plugin_error is true. Otherwise the plugin stays
// in the pipeline as unavailable: on the hooks and conditions it would have
// run, an enforce or concurrent plugin blocks with PLUGIN_UNAVAILABLE (unless
// its on_error is ignore or disable), while it is retried in the background;
// Unavailable lists it. An entry the loader marked Unrunnable (a kind this
// build does not have) is unavailable the same way, without retries.
func NewManager(ctx context.Context, cfg *Config, opts ...Option) (*Manager, error) {
	o := managerOptions{registry: defaultRegistry, observer: nopObserver{}, retryMin: time.Second, retryMax: 30 * time.Second}
	for _, opt := range opts {
		opt(&o)
	}
	if o.logger == nil {
		o.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	m := &Manager{
		cfg:        cfg,
		maxPayload: cfg.PluginSettings.MaxPayloadSize,
		logger:     o.logger,
		observer:   o.observer,
		pool:       make(chan struct{}, max(1, cfg.PluginSettings.ExecutionPool)),
		workers:    newWorkerPool(max(64, 8*cfg.PluginSettings.ExecutionPool)),
		registry:   o.registry,
		retryMin:   o.retryMin,
		retryMax:   max(o.retryMin, o.retryMax),
	}
	m.bgCtx, m.bgCancel = context.WithCancel(context.Background())
	m.retryCtx, m.stopRetry = context.WithCancel(context.Background())

	var errs []error
	for i := range cfg.Plugins {
		pc := &cfg.Plugins[i]
		if pc.Mode == ModeDisabled {
			continue
		}
		if pc.Unrunnable != "" {
			m.logger.Error("plugin cannot run in this build; its hooks fail closed per its mode and on_error", "plugin", pc.Name, "reason", pc.Unrunnable)
			m.entries = append(m.entries, m.newPendingEntry(pc, nil, pc.Unrunnable, false))
			continue
		}
		pl, err := Instantiate(pc, o.registry)
		if err != nil {
			if errors.Is(err, ErrNotServed) && !cfg.PluginSettings.FailOnPluginError {
				m.logger.Error("plugin's settings are not served by its kind; its hooks fail closed per its mode and on_error", "plugin", pc.Name, "reason", err.Error())
				m.entries = append(m.entries, m.newPendingEntry(pc, nil, err.Error(), false))
				continue
			}
			errs = append(errs, err)
			continue
		}
		timeout := pc.EffectiveTimeout(cfg.PluginSettings)
		if ls, ok := pl.(LoggerSetter); ok {
			ls.SetLogger(m.logger.With("plugin", pc.Name))
		}
		if init, ok := pl.(Initializer); ok {
			// Initialize may complete pc (an external plugin fills in what the
			// file left unset from its server), so the entry is built after it.
			ictx, cancel := context.WithTimeout(ctx, timeout)
			err := init.Initialize(ictx)
			cancel()
			if err != nil {
				err = fmt.Errorf("%s: plugins[%d] %q: initialize: %w", pc.Pos(), i, pc.Name, err)
				shutdownPlugin(pl, timeout)
				if cfg.PluginSettings.FailOnPluginError {
					errs = append(errs, err)
				} else {
					m.logger.Error("plugin failed to start; its hooks fail closed per its mode and on_error while it is retried in the background", "plugin", pc.Name, "error", err.Error())
					m.entries = append(m.entries, m.newPendingEntry(pc, pl, err.Error(), true))
				}
				continue
			}
			if pc.Mode == ModeDisabled {
				shutdownPlugin(pl, timeout)
				continue
			}
		}
		e := &entry{cfg: pc, name: pc.Name, mode: pc.Mode, onError: pc.OnError, priority: pc.Priority, timeout: pc.EffectiveTimeout(cfg.PluginSettings), plugin: pl}
		e.hooks = hooksOf(pl, pc)
		if er, ok := pl.(ErrorResultReader); ok {
			e.readsErrors = er.ReadsErrorResults()
		}
		if k, ok := o.registry.Resolve(pc.Kind); ok {
			e.inline = k.Inline
		}
		m.entries = append(m.entries, e)
	}
	if len(errs) > 0 {
		_ = m.Shutdown(ctx)
		return nil, errors.Join(errs...)
	}
	for _, e := range m.entries {
		for _, h := range e.hooks {
			m.byHook[h.index()] = append(m.byHook[h.index()], e)
		}
		if e.pending != nil && e.pending.retry {
			m.retries.Add(1)
			go m.retryPending(e)
		}
	}
	for i := range m.byHook {
		// Lower priority runs first; ties keep file order; then cpex's mode
		// phases where they cannot change a deny (order.go).
		sort.SliceStable(m.byHook[i], func(a, b int) bool { return m.byHook[i][a].priority < m.byHook[i][b].priority })
		orderEntries(m.byHook[i])
	}
	return m, nil
}

// HookLister is implemented by plugins whose hooks are known only at run
// time (external plugins); it narrows the hooks found by type assertion.
type HookLister interface {
	Hooks() []HookType
}

// hooksOf returns the hooks a plugin runs on: those it implements,
// narrowed to the config's hooks: list when that is not empty.
func hooksOf(pl Plugin, pc *PluginConfig) []HookType {
	impl := ImplementedHooks(pl)
	if hl, ok := pl.(HookLister); ok {
		var narrowed []HookType
		for _, h := range hl.Hooks() {
			if slices.Contains(impl, h) {
				narrowed = append(narrowed, h)
			}
		}
		impl = narrowed
	}
	if len(pc.Hooks) == 0 {
		return impl
	}
	var out []HookType
	for _, h := range impl {
		if slices.Contains(pc.Hooks, h) {
			out = append(out, h)
		}
	}
	return out
}

// Instantiate builds one plugin through its kind's factory, without
// initialising it. `extproc validate` uses it to check each kind's settings.
func Instantiate(pc *PluginConfig, reg *Registry) (Plugin, error) {
	if reg == nil {
		reg = defaultRegistry
	}
	kind, ok := reg.Resolve(pc.Kind)
	if !ok && pc.Kind == KindExternal {
		return nil, fmt.Errorf("%s: plugins[%d] %q: kind external is not available in this build (import framework/external)", pc.Pos(), pc.Index, pc.Name)
	}
	if !ok {
		return nil, fmt.Errorf("%s: plugins[%d] %q: unknown kind %q", pc.Pos(), pc.Index, pc.Name, pc.Kind)
	}
	pl, err := kind.New(pc)
	if err != nil {
		var ces ConfigErrors
		if errors.As(err, &ces) {
			return nil, ces
		}
		if ce := pc.keyError(err); ce != nil {
			return nil, ConfigErrors{ce}
		}
		return nil, fmt.Errorf("%s: plugins[%d] %q: %w", pc.Pos(), pc.Index, pc.Name, err)
	}
	if pl == nil {
		return nil, fmt.Errorf("%s: plugins[%d] %q: kind %s returned no plugin", pc.Pos(), pc.Index, pc.Name, pc.Kind)
	}
	if len(kind.Hooks) > 0 && !sameHooks(kind.Hooks, ImplementedHooks(pl)) {
		// A kind's documented hooks and its methods must agree: the
		// methods are what runs.
		return nil, fmt.Errorf("plugins[%d] %q: kind %s declares hooks %v but its plugin implements %v (a bug in the kind)", pc.Index, pc.Name, pc.Kind, kind.Hooks, ImplementedHooks(pl))
	}
	return pl, nil
}

func sameHooks(a, b []HookType) bool {
	if len(a) != len(b) {
		return false
	}
	for _, h := range a {
		if !slices.Contains(b, h) {
			return false
		}
	}
	return true
}

// Config returns the configuration the Manager was built from.
func (m *Manager) Config() *Config { return m.cfg }

// Plugins returns the names of the loaded plugins, in file order.
func (m *Manager) Plugins() []string {
	out := make([]string, len(m.entries))
	for i, e := range m.entries {
		out[i] = e.name
	}
	return out
}

// PluginsFor returns the names of the plugins registered for h, in run order.
func (m *Manager) PluginsFor(h HookType) []string {
	var out []string
	if h.Valid() {
		for _, e := range m.byHook[h.index()] {
			out = append(out, e.name)
		}
	}
	return out
}

// HasHook reports whether any plugin is registered for h, so that the
// adapter can skip building a payload when nothing would read it.
func (m *Manager) HasHook(h HookType) bool { return h.Valid() && len(m.byHook[h.index()]) > 0 }

// HookCount returns how many hooks have at least one plugin.
func (m *Manager) HookCount() int {
	n := 0
	for _, es := range m.byHook {
		if len(es) > 0 {
			n++
		}
	}
	return n
}

// ToolPreInvoke runs the tool_pre_invoke pipeline.
func (m *Manager) ToolPreInvoke(ctx context.Context, p *ToolPreInvokePayload, t *ContextTable) Outcome[ToolPreInvokePayload] {
	return execute(ctx, m, toolPreInvokeSpec, p, t, false)
}

// ToolPostInvoke runs the tool_post_invoke pipeline.
func (m *Manager) ToolPostInvoke(ctx context.Context, p *ToolPostInvokePayload, t *ContextTable) Outcome[ToolPostInvokePayload] {
	return execute(ctx, m, toolPostInvokeSpec, p, t, false)
}

// PromptPreFetch runs the prompt_pre_fetch pipeline.
func (m *Manager) PromptPreFetch(ctx context.Context, p *PromptPreFetchPayload, t *ContextTable) Outcome[PromptPreFetchPayload] {
	return execute(ctx, m, promptPreFetchSpec, p, t, false)
}

// PromptPostFetch runs the prompt_post_fetch pipeline.
func (m *Manager) PromptPostFetch(ctx context.Context, p *PromptPostFetchPayload, t *ContextTable) Outcome[PromptPostFetchPayload] {
	return execute(ctx, m, promptPostFetchSpec, p, t, false)
}

// ResourcePreFetch runs the resource_pre_fetch pipeline.
func (m *Manager) ResourcePreFetch(ctx context.Context, p *ResourcePreFetchPayload, t *ContextTable) Outcome[ResourcePreFetchPayload] {
	return execute(ctx, m, resourcePreFetchSpec, p, t, false)
}

// ResourcePostFetch runs the resource_post_fetch pipeline.
func (m *Manager) ResourcePostFetch(ctx context.Context, p *ResourcePostFetchPayload, t *ContextTable) Outcome[ResourcePostFetchPayload] {
	return execute(ctx, m, resourcePostFetchSpec, p, t, false)
}

// ToolsPostList runs the tools_post_list pipeline over one page of a
// tools/list result.
func (m *Manager) ToolsPostList(ctx context.Context, p *ToolsPostListPayload, t *ContextTable) Outcome[ToolsPostListPayload] {
	return execute(ctx, m, toolsPostListSpec, p, t, false)
}

// PromptsPostList runs the prompts_post_list pipeline.
func (m *Manager) PromptsPostList(ctx context.Context, p *PromptsPostListPayload, t *ContextTable) Outcome[PromptsPostListPayload] {
	return execute(ctx, m, promptsPostListSpec, p, t, false)
}

// ResourcesPostList runs the resources_post_list pipeline.
func (m *Manager) ResourcesPostList(ctx context.Context, p *ResourcesPostListPayload, t *ContextTable) Outcome[ResourcesPostListPayload] {
	return execute(ctx, m, resourcesPostListSpec, p, t, false)
}

// ToolPostInvokeError runs the tool_post_invoke plugins that read errors
// (ErrorResultReader) over a JSON-RPC error answering a tools/call; p.Result
// is the error in ErrorPayload's shape.
func (m *Manager) ToolPostInvokeError(ctx context.Context, p *ToolPostInvokePayload, t *ContextTable) Outcome[ToolPostInvokePayload] {
	return execute(ctx, m, toolPostInvokeSpec, p, t, true)
}

// PromptPostFetchError is ToolPostInvokeError for prompts/get.
func (m *Manager) PromptPostFetchError(ctx context.Context, p *PromptPostFetchPayload, t *ContextTable) Outcome[PromptPostFetchPayload] {
	return execute(ctx, m, promptPostFetchSpec, p, t, true)
}

// ResourcePostFetchError is ToolPostInvokeError for resources/read; p.Content
// is the error in ErrorPayload's shape.
func (m *Manager) ResourcePostFetchError(ctx context.Context, p *ResourcePostFetchPayload, t *ContextTable) Outcome[ResourcePostFetchPayload] {
	return execute(ctx, m, resourcePostFetchSpec, p, t, true)
}

// ReadsErrors reports whether a plugin that reads errors is registered for
// post hook h, so the adapter can skip errors nothing would read.
func (m *Manager) ReadsErrors(h HookType) bool {
	if !h.Valid() {
		return false
	}
	for _, e := range m.byHook[h.index()] {
		if e.readsErrors {
			return true
		}
	}
	return false
}

func (m *Manager) acquire(ctx context.Context) error {
	select {
	case m.pool <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (m *Manager) tryAcquire() bool {
	select {
	case m.pool <- struct{}{}:
		return true
	default:
		return false
	}
}

func (m *Manager) release() { <-m.pool }

// Shutdown waits for fire_and_forget calls still running (until ctx ends,
// then cancels them) and shuts every plugin down. It is safe to call twice.
func (m *Manager) Shutdown(ctx context.Context) error {
	var errs []error
	m.shutdown.Do(func() {
		// Retries stop first: a plugin they bring up now would not be shut down.
		m.stopRetry()
		m.retries.Wait()
		done := make(chan struct{})
		go func() { m.background.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
			m.bgCancel()
			<-done
		}
		m.bgCancel()
		m.workers.close()
		for _, e := range m.entries {
			pl := e.plugin
			if e.pending != nil {
				if lp := e.pending.live.Load(); lp != nil {
					pl = lp.plugin
				}
			}
			if pl == nil {
				continue
			}
			if err := shutdownPluginCtx(ctx, pl, e.timeout); err != nil {
				errs = append(errs, fmt.Errorf("plugin %q: shutdown: %w", e.name, err))
			}
		}
	})
	return errors.Join(errs...)
}

func shutdownPlugin(pl Plugin, timeout time.Duration) {
	_ = shutdownPluginCtx(context.Background(), pl, timeout)
}

func shutdownPluginCtx(ctx context.Context, pl Plugin, timeout time.Duration) error {
	s, ok := pl.(Shutdowner)
	if !ok {
		return nil
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return s.Shutdown(sctx)
}
