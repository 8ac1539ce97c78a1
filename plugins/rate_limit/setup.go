package ratelimit

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/kindconfig"
)

// KindName is the kind's name in plugins[].kind.
const KindName = "rate_limit"

// Backends and on_backend_error values.
const (
	BackendMemory = "memory"
	BackendRedis  = "redis"

	OnBackendErrorAllow = "allow"
	OnBackendErrorBlock = "block"
)

// Config is the kind's settings (plugins[].config). The by_user, by_tenant,
// by_tool, algorithm, redis_url and redis_key_prefix keys are ContextForge's
// (cpex_rate_limiter), so its block loads unchanged; they add limits to
// those of limits.
type Config struct {
	// Limits are checked together: a request passes when every limit that
	// applies to it admits it, and then counts against each of them.
	Limits []Limit `yaml:"limits"`
	// Backend keeps the limits' state: memory (this process) or redis
	// (shared by every replica using the same Redis).
	Backend string `yaml:"backend"`
	// Redis configures the redis backend.
	Redis RedisConfig `yaml:"redis"`
	// Memory configures the memory backend.
	Memory MemoryConfig `yaml:"memory"`
	// OnBackendError is what a request gets when the backend cannot answer:
	// allow (default) lets it pass, block refuses it. Either way it is
	// counted in mcp_extproc_rate_limit_backend_errors_total and logged.
	OnBackendError string `yaml:"on_backend_error"`

	// ByUser is ContextForge's per-user limit: {by: [user], rate: <it>}.
	ByUser string `yaml:"by_user"`
	// ByTenant is ContextForge's per-tenant limit: {by: [tenant], rate: <it>}.
	ByTenant string `yaml:"by_tenant"`
	// ByTool is ContextForge's per-tool limits, tool name to rate: each is
	// {by: [tool], tools: [<name>], rate: <rate>}, one bucket per tool
	// shared by every caller.
	ByTool map[string]string `yaml:"by_tool"`
	// Algorithm is accepted for ContextForge (fixed_window, sliding_window,
	// token_bucket); every limit is enforced by GCRA whatever it says.
	Algorithm string `yaml:"algorithm"`
	// RedisURL is ContextForge's name for redis.url.
	RedisURL string `yaml:"redis_url"`
	// RedisKeyPrefix is ContextForge's name for redis.key_prefix.
	RedisKeyPrefix string `yaml:"redis_key_prefix"`
}

// Limit is one rate limit.
type Limit struct {
	// By lists what the limit is kept per: user, tenant, server, tool (the
	// tool's or prompt's name) and header:<name> (a header listed in
	// mcp.forward_headers). Empty: one bucket for every request.
	By []string `yaml:"by"`
	// Rate is the sustained rate, "<count>/<unit>" with unit s, m, h or d.
	Rate string `yaml:"rate"`
	// Burst is how many requests a full bucket admits at once; 0 means the
	// rate's count (60/m admits 60 at once, then one a second).
	Burst int `yaml:"burst"`
	// Tools restricts the limit to tools/call of tools matching one of
	// these globs.
	Tools []string `yaml:"tools"`
	// Prompts restricts the limit to prompts/get of prompts matching one of
	// these globs. With neither Tools nor Prompts the limit applies to both
	// methods.
	Prompts []string `yaml:"prompts"`
}

// RedisConfig configures the redis backend.
type RedisConfig struct {
	// URL is redis://[user:password@]host:port/db or rediss:// for TLS.
	URL string `yaml:"url"`
	// KeyPrefix starts every key the plugin writes.
	KeyPrefix string `yaml:"key_prefix"`
	// Timeout bounds one check (connect, script, answer).
	Timeout framework.Duration `yaml:"timeout"`
}

// MemoryConfig configures the memory backend.
type MemoryConfig struct {
	// MaxKeys bounds the buckets kept; past it, buckets that are full again
	// are forgotten first, then the ones closest to full.
	MaxKeys int `yaml:"max_keys"`
}

// DefaultConfig returns the settings a plugin gets when its config says
// nothing (it still needs a limit).
func DefaultConfig() Config {
	return Config{
		Limits:         []Limit{},
		Backend:        BackendMemory,
		Redis:          RedisConfig{KeyPrefix: "mcp-extproc:rl", Timeout: framework.Duration(100 * time.Millisecond)},
		Memory:         MemoryConfig{MaxKeys: 100_000},
		OnBackendError: OnBackendErrorAllow,
	}
}

func init() {
	framework.Register(framework.Kind{
		Name:        KindName,
		Aliases:     []string{"cpex_rate_limiter.RateLimiterPlugin", "plugins.rate_limiter.rate_limiter.RateLimiterPlugin", "RateLimiterPlugin"},
		Description: "limit tools/call and prompts/get per user, tenant, server, tool or header; memory or Redis; HTTP 429 with Retry-After",
		Hooks:       []framework.HookType{framework.ToolPreInvoke, framework.PromptPreFetch},
		Defaults:    DefaultConfig(),
		New:         kindconfig.NamedFactory(DefaultConfig, New),
	})
}

// Key names of Limit.By.
const (
	keyUser   = "user"
	keyTenant = "tenant"
	keyServer = "server"
	keyTool   = "tool"
	keyHeader = "header:"
)

// maxBurst bounds burst so the GCRA arithmetic stays exact.
const maxBurst = 1_000_000

// New checks cfg and builds the plugin named name (the name is part of its
// keys, so that two rate_limit plugins never share buckets). It does no
// I/O: the redis backend connects on first use.
func New(name string, cfg Config) (*Plugin, error) {
	type source struct {
		at string // the key it was written under, for errors
		l  Limit
	}
	var limits []source
	for i, l := range cfg.Limits {
		limits = append(limits, source{fmt.Sprintf("limits[%d]", i), l})
	}
	if cfg.ByUser != "" {
		limits = append(limits, source{"by_user", Limit{By: []string{keyUser}, Rate: cfg.ByUser}})
	}
	if cfg.ByTenant != "" {
		limits = append(limits, source{"by_tenant", Limit{By: []string{keyTenant}, Rate: cfg.ByTenant}})
	}
	tools := slices.Sorted(maps.Keys(cfg.ByTool)) // map order must not change the limits' keys
	for _, t := range tools {
		limits = append(limits, source{"by_tool." + t, Limit{By: []string{keyTool}, Tools: []string{t}, Rate: cfg.ByTool[t]}})
	}
	if len(limits) == 0 {
		return nil, errors.New("config.limits: set at least one limit (or by_user, by_tenant, by_tool)")
	}
	switch cfg.Algorithm {
	case "", "fixed_window", "sliding_window", "token_bucket":
	default:
		return nil, kindconfig.BadChoice("config.algorithm", string(cfg.Algorithm), "fixed_window", "sliding_window", "token_bucket")
	}
	p := &Plugin{name: name, block: cfg.OnBackendError == OnBackendErrorBlock}
	switch cfg.OnBackendError {
	case OnBackendErrorAllow, OnBackendErrorBlock:
	default:
		return nil, kindconfig.BadChoice("config.on_backend_error", string(cfg.OnBackendError), "allow", "block")
	}
	for _, src := range limits {
		cl, err := compileLimit(src.l)
		if err != nil {
			return nil, fmt.Errorf("config.%s: %w", src.at, err)
		}
		p.limits = append(p.limits, cl)
	}

	if cfg.RedisURL != "" {
		if cfg.Redis.URL != "" && cfg.Redis.URL != cfg.RedisURL {
			return nil, errors.New("config.redis_url: set redis.url or redis_url, not both")
		}
		cfg.Redis.URL = cfg.RedisURL
	}
	if cfg.RedisKeyPrefix != "" {
		cfg.Redis.KeyPrefix = cfg.RedisKeyPrefix
	}
	switch cfg.Backend {
	case BackendMemory:
		if cfg.Memory.MaxKeys <= 0 {
			return nil, fmt.Errorf("config.memory.max_keys: must be positive, got %d", cfg.Memory.MaxKeys)
		}
		p.prefix = name
		p.store = newMemoryStore(cfg.Memory.MaxKeys, monotonicClock())
	case BackendRedis:
		if cfg.Redis.URL == "" {
			return nil, errors.New("config.redis.url: the redis backend needs a URL (redis://host:6379/0)")
		}
		if cfg.Redis.Timeout <= 0 {
			return nil, fmt.Errorf("config.redis.timeout: must be positive, got %s", time.Duration(cfg.Redis.Timeout))
		}
		opts, err := redisOptions(cfg.Redis.URL, time.Duration(cfg.Redis.Timeout))
		if err != nil {
			return nil, fmt.Errorf("config.redis.url: %w", err)
		}
		p.prefix = cfg.Redis.KeyPrefix + ":" + name
		p.timeout = time.Duration(cfg.Redis.Timeout)
		p.store = newRedisStore(opts)
	default:
		return nil, kindconfig.BadChoice("config.backend", string(cfg.Backend), "memory", "redis")
	}
	return p, nil
}

// limit is a checked Limit.
type limit struct {
	by             []string // key names, header names lower-cased
	rate           string   // as written, for messages
	interval       int64    // µs
	burst          int64
	tools, prompts []string
}

func compileLimit(l Limit) (limit, error) {
	r, err := parseRate(l.Rate)
	if err != nil {
		return limit{}, fmt.Errorf("rate: %w", err)
	}
	iv := r.interval().Microseconds()
	if iv < 1 {
		return limit{}, fmt.Errorf("rate: %q is faster than one request a microsecond", l.Rate)
	}
	burst := int64(l.Burst)
	if l.Burst == 0 {
		burst = r.Count
	}
	if burst < 1 || burst > maxBurst {
		return limit{}, fmt.Errorf("burst: must be from 1 to %d (0 means the rate's count), got %d", maxBurst, l.Burst)
	}
	cl := limit{rate: strings.TrimSpace(l.Rate), interval: iv, burst: burst, tools: l.Tools, prompts: l.Prompts}
	seen := map[string]bool{}
	for j, k := range l.By {
		k = strings.ToLower(strings.TrimSpace(k))
		switch {
		case k == keyUser || k == keyTenant || k == keyServer || k == keyTool:
		case strings.HasPrefix(k, keyHeader) && len(k) > len(keyHeader):
		default:
			return limit{}, fmt.Errorf("by[%d]: %q is not one of user, tenant, server, tool, header:<name>", j, l.By[j])
		}
		if seen[k] {
			return limit{}, fmt.Errorf("by[%d]: %q is listed twice", j, l.By[j])
		}
		seen[k] = true
		cl.by = append(cl.by, k)
	}
	for _, list := range []struct {
		key  string
		pats []string
	}{{"tools", l.Tools}, {"prompts", l.Prompts}} {
		for j, pat := range list.pats {
			if pat == "" {
				return limit{}, fmt.Errorf("%s[%d]: must not be empty", list.key, j)
			}
		}
	}
	return cl, nil
}
