package schemaguard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// benchArgs is about 1 KiB of arguments valid for searchPolicy's schema,
// dense with values: 16 filter objects, 55 values in all, each checked by
// its own subschema (text_1KiB is the common shape: a long text and two
// small fields).
func benchArgs() json.RawMessage {
	var filters []string
	for i := range 16 {
		filters = append(filters, fmt.Sprintf(`{"field":"field_%02d","value":"value number %02d"}`, i, i))
	}
	return json.RawMessage(`{"query":"` + strings.Repeat("mcp extproc ", 20) + `","limit":50,"mode":"exact","filters":[` + strings.Join(filters, ",") + `]}`)
}

func BenchmarkArguments(b *testing.B) {
	p := load(b, searchPolicy)
	args := benchArgs()
	pc := pcFor("s1")
	for _, tc := range []struct {
		name string
		args json.RawMessage
		fail bool
	}{
		{"text_1KiB", json.RawMessage(`{"query":"` + strings.Repeat("what does the filter do with ", 33) + `","limit":10,"mode":"fast"}`), false},
		{"valid_1KiB", args, false},
		{"invalid_1KiB", json.RawMessage(strings.Replace(string(args), `"limit":50`, `"limit":500`, 1)), true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			payload := &framework.ToolPreInvokePayload{Name: "search", Args: tc.args}
			res, err := p.ToolPreInvoke(context.Background(), payload, pc)
			if err != nil || (res.Violation != nil) != tc.fail {
				b.Fatalf("violation %+v, err %v", res.Violation, err)
			}
			b.SetBytes(int64(len(tc.args)))
			b.ReportAllocs()
			for b.Loop() {
				_, _ = p.ToolPreInvoke(context.Background(), payload, pc)
			}
		})
	}
}

func BenchmarkResult(b *testing.B) {
	p := load(b, searchPolicy)
	hits := make([]string, 40)
	for i := range hits {
		hits[i] = fmt.Sprintf(`"https://docs.example.com/page/%04d"`, i)
	}
	result := json.RawMessage(`{"content":[],"structuredContent":{"hits":[` + strings.Join(hits, ",") + `]}}`)
	payload := &framework.ToolPostInvokePayload{Name: "search", Result: result}
	pc := pcFor("s1")
	if res, _ := p.ToolPostInvoke(context.Background(), payload, pc); res.Violation != nil {
		b.Fatal(res.Violation)
	}
	b.SetBytes(int64(len(result)))
	b.ReportAllocs()
	for b.Loop() {
		_, _ = p.ToolPostInvoke(context.Background(), payload, pc)
	}
}
