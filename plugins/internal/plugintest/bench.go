package plugintest

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// BenchDetections measures pl's ToolPostInvoke on a tools/call result, with
// no PluginContext, as a detector (pii_filter, secrets_detection) sees it.
// The count the first call puts in its metadata under countKey (an int) is
// reported as matches/op; the benchmark fails unless it is nonzero exactly
// when wantFound.
func BenchDetections(b *testing.B, pl framework.ToolPostInvoker, result json.RawMessage, countKey string, wantFound bool) {
	b.Helper()
	payload := &framework.ToolPostInvokePayload{Name: "t", Result: result}
	res, _ := pl.ToolPostInvoke(context.Background(), payload, nil)
	matches, _ := res.Metadata[countKey].(int)
	if (matches != 0) != wantFound {
		b.Fatalf("%d matches", matches)
	}
	b.SetBytes(int64(len(result)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pl.ToolPostInvoke(context.Background(), payload, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(matches), "matches/op")
}

// BenchToolPreInvoke measures pl's ToolPreInvoke on args, with a fresh
// PluginContext from newPC per call (nil: none); the benchmark fails on an
// error or a violation.
func BenchToolPreInvoke(b *testing.B, pl framework.ToolPreInvoker, name string, args json.RawMessage, newPC func() *framework.PluginContext) {
	b.Helper()
	p := &framework.ToolPreInvokePayload{Name: name, Args: args}
	b.SetBytes(int64(len(args)))
	b.ReportAllocs()
	for b.Loop() {
		var pc *framework.PluginContext
		if newPC != nil {
			pc = newPC()
		}
		res, err := pl.ToolPreInvoke(context.Background(), p, pc)
		if err != nil || res.Violation != nil {
			b.Fatal("wrong verdict", err, res.Violation)
		}
	}
}
