package sqlsanitizer_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

// BenchmarkArgs: tools/call arguments of about 1 KiB: a query in a SQL
// field (four dialects read it), free-text prose (all-strings mode), and
// prose that mentions SQL words and has apostrophes (every reading runs).
func BenchmarkArgs(b *testing.B) {
	query := "SELECT o.id, o.total, c.name, c.email FROM orders o JOIN customers c ON c.id = o.customer_id " +
		"WHERE o.created_at >= $1 AND o.status IN ('paid', 'shipped') AND c.region = 'EU' -- recent EU orders\n"
	query = strings.Repeat(query+" UNION ALL ", 5) + "SELECT 1, 2, 'x', 'y' FROM dual"
	prose := strings.Join(plugintest.Prose(1, 1<<20, ""), "")
	wordy := strings.Repeat("We can't select the rows from last week's report; we'll update the plan and call it done. ", 12)
	for _, bc := range []struct{ name, config, key, text string }{
		{"sql-field", `{fields: [query]}`, "query", query},
		{"free-text/prose", `{}`, "note", prose},
		{"free-text/sql-words", `{}`, "note", wordy},
	} {
		pl := load(b, bc.config)
		raw, _ := json.Marshal(map[string]string{bc.key: bc.text})
		p := &framework.ToolPreInvokePayload{Name: "run", Args: raw}
		b.Run(bc.name, func(b *testing.B) {
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				if res, err := pl.ToolPreInvoke(context.Background(), p, nil); err != nil || res.Violation != nil {
					b.Fatal(err, res.Violation)
				}
			}
		})
	}
}
