package toolpin

import (
	"testing"

	"github.com/tidwall/gjson"
)

// A typical tool (600 bytes: title, description, a three-property schema,
// annotations), canonicalised and hashed with nothing remembered.
func BenchmarkFingerprint(b *testing.B) {
	// As Go writes a map: every object's keys sorted, the fast path's case.
	sorted := `{"annotations":{"openWorldHint":false,"readOnlyHint":true},"description":"Look up a customer record by its id and return the contact details, open tickets and the account's plan.",` +
		`"inputSchema":{"properties":{"id":{"description":"the record's id, e.g. c-1001","type":"string"},"limit":{"description":"how many results to return","maximum":100,"minimum":1,"type":"integer"},` +
		`"query":{"description":"free text to search for","type":"string"}},"required":["id"],"type":"object"},"name":"lookup_customer","title":"Look up a customer"}`
	b.Run("canonical", func(b *testing.B) {
		b.SetBytes(int64(len(sorted)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := fingerprintParsed(sorted); err != nil {
				b.Fatal(err)
			}
		}
	})
	tool := []byte(`{"name":"lookup_customer","title":"Look up a customer","description":"Look up a customer record by its id and return the contact details, open tickets and the account's plan.",` +
		`"inputSchema":{"type":"object","required":["id"],"properties":{"id":{"type":"string","description":"the record's id, e.g. c-1001"},` +
		`"limit":{"type":"integer","minimum":1,"maximum":100,"description":"how many results to return"},"query":{"type":"string","description":"free text to search for"}}},` +
		`"annotations":{"readOnlyHint":true,"openWorldHint":false}}`)
	b.Run("struct_order", func(b *testing.B) {
		b.SetBytes(int64(len(tool)))
		b.ReportAllocs()
		for b.Loop() {
			if _, err := fingerprintParsed(string(tool)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkCanonical compares the one-pass canonicaliser with the gjson
// tree walk it replaced, on members in canonical order and not.
func BenchmarkCanonical(b *testing.B) {
	sorted := `{"annotations":{"openWorldHint":false,"readOnlyHint":true},"description":"Look up a customer record by its id.",` +
		`"inputSchema":{"properties":{"id":{"description":"the record's id, e.g. c-1001","type":"string"},"limit":{"description":"how many","maximum":100,"minimum":1,"type":"integer"}},"required":["id"],"type":"object"},"name":"lookup_customer"}`
	unsorted := `{"name":"lookup_customer","description":"Look up a customer record by its id.","inputSchema":{"type":"object",` +
		`"properties":{"id":{"type":"string","description":"the record's id, e.g. c-1001"},"limit":{"type":"integer","minimum":1,"maximum":100,"description":"how many"}},"required":["id"]},"annotations":{"readOnlyHint":true,"openWorldHint":false}}`
	for _, in := range []struct{ name, tool string }{{"sorted", sorted}, {"unsorted", unsorted}} {
		buf := make([]byte, 0, 1024)
		b.Run(in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.tool)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := canonicalTool(buf, in.tool); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(in.name+"/gjson", func(b *testing.B) {
			t := gjson.Parse(in.tool)
			b.SetBytes(int64(len(in.tool)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := canonicalToolRef(buf, t); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
