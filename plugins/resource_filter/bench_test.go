package resourcefilter_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

// benchContents is a 64 KiB resources/read result: 64 text contents of
// about 1 KiB of prose, with one "password=…" every `every` bytes of text.
func benchContents(every int) []byte {
	return plugintest.ResourceContents(plugintest.Prose(64, every, "password=hunter2")...)
}

func BenchmarkContentFilters(b *testing.B) {
	pl := plugintest.Load(b, withConfig(`{content_filters: [{pattern: 'password=\S+'}, {pattern: 'api[_-]?key=\w+'}]}`)).(framework.ResourcePostFetcher)
	for _, bc := range []struct {
		name  string
		every int
	}{{"few", 16 << 10}, {"many", 64}} {
		raw := benchContents(bc.every)
		if !json.Valid(raw) {
			b.Fatal("bad bench input")
		}
		b.Run(fmt.Sprintf("64KiB/%s", bc.name), func(b *testing.B) {
			p := &framework.ResourcePostFetchPayload{URI: "https://docs.example.com/p", Content: raw}
			pc := &framework.PluginContext{Global: &framework.GlobalContext{}}
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				res, err := pl.ResourcePostFetch(context.Background(), p, pc)
				if err != nil || res.ModifiedPayload == nil {
					b.Fatal("not filtered", err)
				}
			}
		})
	}
	b.Run("64KiB/size-only", func(b *testing.B) {
		pl := plugintest.Load(b, withConfig(`{}`)).(framework.ResourcePostFetcher)
		raw := benchContents(16 << 10)
		p := &framework.ResourcePostFetchPayload{URI: "https://docs.example.com/p", Content: raw}
		pc := &framework.PluginContext{Global: &framework.GlobalContext{}}
		b.SetBytes(int64(len(raw)))
		b.ReportAllocs()
		for b.Loop() {
			if res, err := pl.ResourcePostFetch(context.Background(), p, pc); err != nil || res.Violation != nil || res.ModifiedPayload != nil {
				b.Fatal("unexpected result", err)
			}
		}
	})
}

func BenchmarkPreFetch(b *testing.B) {
	pl := plugintest.Load(b, withConfig(`{blocked_domains: [evil.com, bad.example, tracker.net, ads.example.org]}`)).(framework.ResourcePreFetcher)
	p := &framework.ResourcePreFetchPayload{URI: "https://docs.example.com/guide/intro?lang=en"}
	pc := &framework.PluginContext{Global: &framework.GlobalContext{}}
	b.ReportAllocs()
	for b.Loop() {
		if res, _ := pl.ResourcePreFetch(context.Background(), p, pc); res.Violation != nil {
			b.Fatal("blocked")
		}
	}
}
