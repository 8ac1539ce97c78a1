package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	neturl "net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// takeScript is admit (store.go) for every bucket of a request, in one
// atomic step on the Redis server: either every bucket takes the request or
// none does. The time is Redis's own (TIME), so replicas whose clocks
// disagree still share one timeline. A bucket's key expires when the
// bucket is full again, so idle keys cost nothing.
//
// KEYS: the buckets' keys. ARGV: interval and burst (µs, count) per key.
// Returns {1, 0, 0} when admitted, else {0, wait µs, 1-based index of the
// refusing bucket}.
var takeScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nexts = {}
local wait, denied = 0, 0
for i = 1, #KEYS do
  local interval = tonumber(ARGV[2 * i - 1])
  local burst = tonumber(ARGV[2 * i])
  local tat = tonumber(redis.call('GET', KEYS[i]) or 0) or 0
  if tat < now then tat = now end
  local nxt = tat + interval
  local at = nxt - burst * interval
  if now < at then
    if at - now > wait then wait, denied = at - now, i end
  end
  nexts[i] = nxt
end
if denied > 0 then return {0, wait, denied} end
for i = 1, #KEYS do
  local ttl = math.ceil((nexts[i] - now) / 1000)
  redis.call('SET', KEYS[i], string.format('%.0f', nexts[i]), 'PX', math.max(ttl, 1))
end
return {1, 0, 0}
`)

// redisStore keeps buckets in Redis, shared by every replica that uses the
// same URL and key prefix.
type redisStore struct {
	client *redis.Client
	// logger is the plugin's (the server's logger); go-redis's own messages
	// about this store's calls go to it (see redisLog).
	logger atomic.Pointer[slog.Logger]
}

// newRedisStore builds the client; it does not connect (go-redis dials on
// first use), so a factory may call it.
func newRedisStore(opts *redis.Options) *redisStore {
	return &redisStore{client: redis.NewClient(opts)}
}

func (s *redisStore) take(ctx context.Context, buckets []bucket) (decision, error) {
	keys := make([]string, len(buckets))
	args := make([]any, 0, 2*len(buckets))
	for i, b := range buckets {
		keys[i] = b.key
		args = append(args, b.interval, b.burst)
	}
	res, err := takeScript.Run(s.logTo(ctx), s.client, keys, args...).Int64Slice()
	if err != nil {
		return decision{}, fmt.Errorf("redis: %w", err)
	}
	if len(res) != 3 || res[2] < 0 || res[2] > int64(len(buckets)) {
		return decision{}, fmt.Errorf("redis: unexpected script answer %v", res)
	}
	if res[0] == 1 {
		return decision{allowed: true, denied: -1}, nil
	}
	return decision{denied: int(res[2]) - 1, wait: time.Duration(res[1]) * time.Microsecond}, nil
}

func (s *redisStore) ping(ctx context.Context) error { return s.client.Ping(s.logTo(ctx)).Err() }

type redisLoggerKey struct{}

// logTo marks ctx with the store's logger for go-redis's messages about
// the call.
func (s *redisStore) logTo(ctx context.Context) context.Context {
	if l := s.logger.Load(); l != nil {
		return context.WithValue(ctx, redisLoggerKey{}, l)
	}
	return ctx
}

func (s *redisStore) close() error { return s.client.Close() }

// redisOptions reads a redis:// or rediss:// URL (database, user,
// password, TLS) and applies the per-operation timeout.
func redisOptions(url string, timeout time.Duration) (*redis.Options, error) {
	opts, err := redis.ParseURL(escapeUserinfo(url))
	if err != nil {
		// net/url quotes the whole URL in its errors, password included.
		if ue, ok := errors.AsType[*neturl.Error](err); ok {
			err = ue.Err
		}
		return nil, err
	}
	opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout = timeout, timeout, timeout, timeout
	opts.ContextTimeoutEnabled = true
	// A limiter that cannot reach Redis answers by on_backend_error at
	// once rather than retrying into the plugin's deadline.
	opts.MaxRetries = -1
	opts.DialerRetries = 1
	return opts, nil
}

// escapeUserinfo percent-encodes the user and password of a URL, which
// net/url otherwise refuses when they hold characters a URL may not (a
// ContextForge Helm profile writes "redis://:{{ env.REDIS_PASSWORD }}@host"):
// a password is opaque, and a wrong one fails when the plugin connects, as
// it does in ContextForge, not when the policy loads.
func escapeUserinfo(url string) string {
	scheme, rest, ok := strings.Cut(url, "://")
	if !ok {
		return url
	}
	authority := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		authority = rest[:i]
	}
	at := strings.LastIndexByte(authority, '@')
	if at < 0 {
		return url
	}
	user, pass, hasPass := strings.Cut(authority[:at], ":")
	if u, err := neturl.PathUnescape(user); err == nil {
		user = u
	}
	if p, err := neturl.PathUnescape(pass); err == nil {
		pass = p
	}
	info := neturl.User(user)
	if hasPass {
		info = neturl.UserPassword(user, pass)
	}
	return scheme + "://" + info.String() + rest[at:]
}

// redisLog sends go-redis's own messages (one per failed dial) at debug
// level to the logger of the plugin whose call they are about — go-redis
// has one logger per process, the plugins one each; the plugin logs an
// outage itself, once in a while. A message about no call of ours (ctx
// unmarked) is dropped, never sent to slog.Default.
type redisLog struct{}

func (redisLog) Printf(ctx context.Context, format string, v ...any) {
	if ctx == nil {
		return
	}
	if l, ok := ctx.Value(redisLoggerKey{}).(*slog.Logger); ok {
		l.Log(ctx, slog.LevelDebug, "go-redis: "+fmt.Sprintf(format, v...))
	}
}

func init() { redis.SetLogger(redisLog{}) }
