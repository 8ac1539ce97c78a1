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

// BenchmarkEmbedded is the cost embedded: block adds to every tool result:
// a 64 KiB text-only result (the prefilter finds no "resource" and skips
// the walk) and the same result with 64 resource links to check.
func BenchmarkEmbedded(b *testing.B) {
	pl := plugintest.Load(b, withConfig(`{blocked_domains: [evil.com]}`)).(framework.ToolPostInvoker)
	texts := plugintest.Prose(64, 16<<10, "password=hunter2")
	links := []byte(`{"content":[`)
	for i, s := range texts {
		if i > 0 {
			links = append(links, ',')
		}
		links = fmt.Appendf(links, `{"type":"text","text":%q},{"type":"resource_link","uri":"https://docs.example.com/p/%d","name":"p%d"}`, s, i, i)
	}
	links = append(links, "]}"...)
	for _, bc := range []struct {
		name string
		raw  json.RawMessage
	}{{"64KiB/text-only", plugintest.ToolResult(texts...)}, {"64KiB/64-links", links}} {
		if !json.Valid(bc.raw) {
			b.Fatal("bad bench input")
		}
		b.Run(bc.name, func(b *testing.B) {
			p := &framework.ToolPostInvokePayload{Name: "search", Result: bc.raw}
			pc := &framework.PluginContext{Global: &framework.GlobalContext{}}
			b.SetBytes(int64(len(bc.raw)))
			b.ReportAllocs()
			for b.Loop() {
				if res, err := pl.ToolPostInvoke(context.Background(), p, pc); err != nil || res.Violation != nil {
					b.Fatal("unexpected result", err)
				}
			}
		})
	}
}
