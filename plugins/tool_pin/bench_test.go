package toolpin

import (
	"testing"

	"github.com/tidwall/gjson"
)

// A typical tool (600 bytes: title, description, a three-property schema,
// annotations), canonicalised and hashed with nothing remembered.
func BenchmarkFingerprint(b *testing.B) {
	tool := []byte(`{"name":"lookup_customer","title":"Look up a customer","description":"Look up a customer record by its id and return the contact details, open tickets and the account's plan.",` +
		`"inputSchema":{"type":"object","required":["id"],"properties":{"id":{"type":"string","description":"the record's id, e.g. c-1001"},` +
		`"limit":{"type":"integer","minimum":1,"maximum":100,"description":"how many results to return"},"query":{"type":"string","description":"free text to search for"}}},` +
		`"annotations":{"readOnlyHint":true,"openWorldHint":false}}`)
	t := gjson.ParseBytes(tool)
	buf := make([]byte, 0, 1024)
	b.SetBytes(int64(len(tool)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := fingerprintParsed(buf, t); err != nil {
			b.Fatal(err)
		}
	}
}
