package ratelimit_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

// benchCheck measures one tools/call with 1 KiB of arguments against two
// limits (per user and tool, per tenant), over 1,000 users, none of them
// limited: the check every request pays.
func benchCheck(b *testing.B, config string) {
	pl := plugintest.Load(b, plugintest.BlockPolicy("rl", "rate_limit", config)).(framework.ToolPreInvoker)
	args := []byte(`{"q":"` + strings.Repeat("x", 1010) + `"}`)
	pcs := make([]*framework.PluginContext, 1000)
	for i := range pcs {
		pcs[i] = &framework.PluginContext{Global: &framework.GlobalContext{User: fmt.Sprint("user-", i), TenantID: "acme"}}
	}
	p := &framework.ToolPreInvokePayload{Name: "search", Args: args}
	b.SetBytes(int64(len(args)))
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		res, err := pl.ToolPreInvoke(context.Background(), p, pcs[i%len(pcs)])
		if err != nil || res.Violation != nil {
			b.Fatalf("%v %+v", err, res.Violation)
		}
		i++
	}
}

const benchLimits = `limits:
  - {by: [user, tool], rate: "1000000/s"}
  - {by: [tenant], rate: "1000000/s"}
`

func BenchmarkMemory(b *testing.B) { benchCheck(b, benchLimits) }

// BenchmarkRedis is the same check against a local redis-server: one
// script call per request, so mostly the round trip.
func BenchmarkRedis(b *testing.B) {
	rs := startRedis(b)
	benchCheck(b, benchLimits+"backend: redis\nredis: {url: \""+rs.URL+"\"}\n")
}
