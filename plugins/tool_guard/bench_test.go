package toolguard

import (
	"testing"

	"github.com/tidwall/gjson"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

// Scanning one typical tool (600 bytes) with the default checks, nothing
// remembered: the cost of a tool seen for the first time.
func BenchmarkScanTool(b *testing.B) {
	for name, desc := range map[string]string{
		"english":  "Look up a customer record by its id and return the contact details, open tickets and the account's plan.",
		"japanese": "顧客IDで顧客レコードを検索し、連絡先、未解決のチケット、契約プランを返します。",
	} {
		b.Run(name, func(b *testing.B) {
			p, err := New(DefaultConfig())
			if err != nil {
				b.Fatal(err)
			}
			tool := gjson.Parse(`{"name":"lookup_customer","title":"Look up a customer","description":"` + desc + `",` +
				`"inputSchema":{"type":"object","required":["id"],"properties":{"id":{"type":"string","description":"the record's id, e.g. c-1001"},` +
				`"limit":{"type":"integer","minimum":1,"maximum":100,"description":"how many results to return"},"query":{"type":"string","description":"free text to search for"}}},` +
				`"annotations":{"readOnlyHint":true,"openWorldHint":false}}`)
			s := scanner{p: p}
			b.SetBytes(int64(len(tool.Raw)))
			b.ReportAllocs()
			for b.Loop() {
				if f := s.item(famTool, tool); f != nil {
					b.Fatal(f)
				}
			}
		})
	}
}

// Judging a 100-tool page none of whose tools was seen before: the
// prefilter's passes over the whole page, and the item-by-item walk it
// spares.
func BenchmarkJudgeList(b *testing.B) {
	p, err := New(DefaultConfig())
	if err != nil {
		b.Fatal(err)
	}
	list := plugintest.HundredTools()
	b.Run("prefilter", func(b *testing.B) {
		b.SetBytes(int64(len(list)))
		b.ReportAllocs()
		for b.Loop() {
			if !p.pre.clean(list) {
				b.Fatal("not clean")
			}
		}
	})
	b.Run("items", func(b *testing.B) {
		b.SetBytes(int64(len(list)))
		b.ReportAllocs()
		for b.Loop() {
			s := scanner{p: p}
			gjson.ParseBytes(list).ForEach(func(_, it gjson.Result) bool {
				if f := s.item(famTool, it); f != nil {
					b.Fatal(f)
				}
				return true
			})
		}
	})
}
