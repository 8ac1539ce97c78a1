package plugintest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// HundredTools is a tools/list page of 100 tools: a title, a sentence or
// two of description (some not in English), an input schema of three
// described properties and annotations; about 520 bytes each, 52 KB in
// all. Its members are in sorted order at every level, as Go writes maps,
// which is the canonical (RFC 8785) order: HundredToolsInServerOrder is the
// same tools as servers write them. The list plugins' benchmarks share it.
func HundredTools() json.RawMessage {
	tools := make([]string, 100)
	for i := range tools {
		t := map[string]any{
			"name":        fmt.Sprintf("tool_%03d", i),
			"title":       fmt.Sprintf("Tool %d", i),
			"description": hundredDescriptions[i%len(hundredDescriptions)],
			"inputSchema": map[string]any{"type": "object", "required": []string{"id"}, "properties": map[string]any{
				"id":    map[string]any{"type": "string", "description": "the record's id, e.g. c-1001"},
				"limit": map[string]any{"type": "integer", "minimum": 1, "maximum": 100, "description": "how many results to return"},
				"query": map[string]any{"type": "string", "description": "free text to search for"},
			}},
			"annotations": map[string]any{"readOnlyHint": true, "openWorldHint": false},
		}
		b, _ := json.Marshal(t)
		tools[i] = string(b)
	}
	return json.RawMessage("[" + strings.Join(tools, ",") + "]")
}

// HundredToolsInServerOrder is HundredTools with each object's members in
// the order the reference TypeScript server (@modelcontextprotocol/
// server-everything) writes them: name, title, description, inputSchema,
// annotations; in a schema type, properties, required; in a property type
// first. Its canonical form, and so every fingerprint, is HundredTools'.
func HundredToolsInServerOrder() json.RawMessage {
	tools := make([]string, 100)
	for i := range tools {
		desc, _ := json.Marshal(hundredDescriptions[i%len(hundredDescriptions)])
		tools[i] = fmt.Sprintf(`{"name":"tool_%03d","title":"Tool %d","description":%s,`+
			`"inputSchema":{"type":"object","properties":{"id":{"type":"string","description":"the record's id, e.g. c-1001"},`+
			`"limit":{"type":"integer","minimum":1,"maximum":100,"description":"how many results to return"},`+
			`"query":{"type":"string","description":"free text to search for"}},"required":["id"]},`+
			`"annotations":{"readOnlyHint":true,"openWorldHint":false}}`, i, i, desc)
	}
	return json.RawMessage("[" + strings.Join(tools, ",") + "]")
}

var hundredDescriptions = []string{
	"Look up a customer record by its id and return the contact details, open tickets and the account's plan.",
	"Recherche un client par son identifiant et renvoie ses coordonnées — tickets ouverts, offre souscrite.",
	"顧客IDで顧客レコードを検索し、連絡先、未解決のチケット、契約プランを返します。",
	"Search the knowledge base 📚 for articles that match the query; results are ranked by relevance 👩‍💻.",
}
