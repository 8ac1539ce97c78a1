package ratelimit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Violation codes of the rate_limit kind.
const (
	// CodeRateLimited: a limit was exceeded (HTTP 429, Retry-After).
	CodeRateLimited = "RATE_LIMITED"
	// CodeBackendUnavailable: the backend could not answer and
	// on_backend_error is block (HTTP 503).
	CodeBackendUnavailable = "RATE_LIMIT_BACKEND_UNAVAILABLE"
)

// Plugin is a loaded rate_limit. It is safe for concurrent use.
type Plugin struct {
	logger  *slog.Logger // the server's, from SetLogger
	name    string
	prefix  string // starts every bucket key
	limits  []limit
	store   store
	timeout time.Duration // per check, redis only
	block   bool          // on_backend_error: block
	// lastLog is when a backend error was last logged (unix ns), so that a
	// Redis outage logs once in a while rather than once per request.
	lastLog atomic.Int64
}

var (
	_ framework.ToolPreInvoker   = (*Plugin)(nil)
	_ framework.PromptPreFetcher = (*Plugin)(nil)
	_ framework.Initializer      = (*Plugin)(nil)
	_ framework.Shutdowner       = (*Plugin)(nil)
)

// request is what a limit's key is made of.
type request struct {
	family  byte // 't' tools/call, 'p' prompts/get
	name    string
	headers map[string]string
	global  *framework.GlobalContext
}

// ToolPreInvoke counts a tools/call against the limits that apply to it.
func (p *Plugin) ToolPreInvoke(ctx context.Context, pl *framework.ToolPreInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	v, err := p.check(ctx, request{family: 't', name: pl.Name, headers: pl.Headers, global: global(pc)})
	return framework.Result[framework.ToolPreInvokePayload]{Violation: v}, err
}

// PromptPreFetch counts a prompts/get against the limits that apply to it.
func (p *Plugin) PromptPreFetch(ctx context.Context, pl *framework.PromptPreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPreFetchPayload], error) {
	v, err := p.check(ctx, request{family: 'p', name: pl.PromptID, global: global(pc)})
	return framework.Result[framework.PromptPreFetchPayload]{Violation: v}, err
}

func global(pc *framework.PluginContext) *framework.GlobalContext {
	if pc == nil || pc.Global == nil {
		return &framework.GlobalContext{}
	}
	return pc.Global
}

func (p *Plugin) check(ctx context.Context, r request) (*framework.Violation, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	var buf [4]bucket
	buckets := buf[:0]
	var applied [4]int
	which := applied[:0] // index in p.limits of each bucket
	for i := range p.limits {
		l := &p.limits[i]
		if !l.applies(r) {
			continue
		}
		buckets = append(buckets, bucket{key: p.key(i, l, r), interval: l.interval, burst: l.burst})
		which = append(which, i)
	}
	if len(buckets) == 0 {
		return nil, nil
	}
	if p.timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.timeout)
		defer cancel()
	}
	d, err := p.store.take(ctx, buckets)
	if err != nil {
		return p.backendError(ctx, err), nil
	}
	if d.allowed {
		return nil, nil
	}
	return p.exceeded(which[d.denied], d.wait), nil
}

// applies reports whether the limit counts requests like r.
func (l *limit) applies(r request) bool {
	if len(l.tools) == 0 && len(l.prompts) == 0 {
		return true
	}
	pats := l.tools
	if r.family == 'p' {
		pats = l.prompts
	}
	_, ok := framework.MatchAny(pats, r.name)
	return ok
}

// key names the bucket of limit i for r: the plugin, the limit and a hash
// of the values it is kept per, each length-prefixed so that no two
// different sets of values share a bucket. Hashing keeps keys short and
// free of whatever bytes a header carries.
func (p *Plugin) key(i int, l *limit, r request) string {
	h := sha256.New()
	var n [8]byte
	part := func(s string) {
		binary.BigEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	for _, k := range l.by {
		switch k {
		case keyUser:
			part(r.global.User)
		case keyTenant:
			part(r.global.TenantID)
		case keyServer:
			part(r.global.ServerID)
		case keyTool:
			part(string(r.family) + r.name)
		default:
			part(r.headers[strings.TrimPrefix(k, keyHeader)])
		}
	}
	var sum [sha256.Size]byte
	return p.prefix + ":" + strconv.Itoa(i) + ":" + hex.EncodeToString(h.Sum(sum[:0])[:16])
}

// exceeded is the violation of limit i, to be retried after wait.
func (p *Plugin) exceeded(i int, wait time.Duration) *framework.Violation {
	l := &p.limits[i]
	secs := int64(math.Ceil(wait.Seconds()))
	secs = max(secs, 1)
	by := "every request"
	if len(l.by) > 0 {
		by = strings.Join(l.by, ", ")
	}
	return &framework.Violation{
		Reason:         "Rate limit exceeded",
		Description:    fmt.Sprintf("limit of %s (burst %d) per %s exceeded; retry after %ds", l.rate, l.burst, by, secs),
		Code:           CodeRateLimited,
		HTTPStatusCode: 429,
		HTTPHeaders:    map[string]string{"retry-after": strconv.FormatInt(secs, 10)},
		Details: map[string]any{
			"limit": i, "by": l.by, "rate": l.rate, "burst": l.burst, "retry_after_seconds": secs,
		},
	}
}

// backendError applies on_backend_error, counts the error and logs it now
// and then.
func (p *Plugin) backendError(ctx context.Context, err error) *framework.Violation {
	outcome := OnBackendErrorAllow
	if p.block {
		outcome = OnBackendErrorBlock
	}
	backendErrors.WithLabelValues(p.name, outcome).Inc()
	now := time.Now().UnixNano()
	if last := p.lastLog.Load(); now-last >= int64(logEvery) && p.lastLog.CompareAndSwap(last, now) {
		p.log().LogAttrs(ctx, slog.LevelWarn, "rate_limit backend unavailable",
			slog.String("on_backend_error", outcome), slog.String("error", err.Error()))
	}
	if !p.block {
		return nil
	}
	return &framework.Violation{
		Reason:         "Rate limit unavailable",
		Description:    "the rate limit backend cannot be reached",
		Code:           CodeBackendUnavailable,
		HTTPStatusCode: 503,
	}
}

// logEvery spaces the log lines of a backend outage.
const logEvery = 10 * time.Second

// Initialize checks that Redis answers. A Redis that does not is logged but
// does not stop the plugin from loading: requests then get on_backend_error,
// and the plugin recovers by itself when Redis comes back.
func (p *Plugin) Initialize(ctx context.Context) error {
	rs, ok := p.store.(*redisStore)
	if !ok {
		return nil
	}
	if err := rs.ping(ctx); err != nil {
		p.log().LogAttrs(ctx, slog.LevelWarn, "rate_limit: redis does not answer yet",
			slog.String("error", err.Error()))
	}
	return nil
}

// Shutdown closes the backend's connections.
func (p *Plugin) Shutdown(context.Context) error { return p.store.close() }

var _ framework.LoggerSetter = (*Plugin)(nil)

// SetLogger implements framework.LoggerSetter.
func (p *Plugin) SetLogger(l *slog.Logger) {
	p.logger = l
	if rs, ok := p.store.(*redisStore); ok {
		rs.logger.Store(l)
	}
}

func (p *Plugin) log() *slog.Logger {
	if p.logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.logger
}
