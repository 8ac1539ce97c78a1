package findings

import (
	"context"
	"io"
	"log/slog"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// BenchmarkReportLog writes one masking record, as pii_filter does for
// every result it masks, through the server's JSON handler.
func BenchmarkReportLog(b *testing.B) {
	logger := slog.New(slog.NewJSONHandler(io.Discard, nil))
	var r Report
	r.Add("$.content[0].text", "email")
	pc := &framework.PluginContext{Global: &framework.GlobalContext{RequestID: "req-1"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		r.Log(ctx, logger, slog.LevelInfo, "PII detected", framework.ToolPostInvoke, pc, "masked")
	}
}
