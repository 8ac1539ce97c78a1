package plugintest

import (
	"encoding/json"
	"fmt"
	"strings"
)

// HundredTools is a tools/list page of 100 tools: a title, a sentence or
// two of description (some not in English), an input schema of three
// described properties and annotations; about 520 bytes each, 52 KB in
// all. It is HundredToolsInServerOrder re-encoded by Go, which writes an
// object's members sorted: the canonical (RFC 8785) order at every level.
// The list plugins' benchmarks share both.
func HundredTools() json.RawMessage {
	var tools []any
	if err := json.Unmarshal(HundredToolsInServerOrder(), &tools); err != nil {
		panic(err)
	}
	b, err := json.Marshal(tools)
	if err != nil {
		panic(err)
	}
	return b
}

// HundredToolsInServerOrder is HundredTools with each object's members in
// the order the reference TypeScript server (@modelcontextprotocol/
// server-everything) writes them: name, title, description, inputSchema,
// annotations; in a schema type, properties, required; in a property type
// first. Its canonical form, and so every fingerprint, is HundredTools'.
// (Its descriptions are written as json.Marshal writes strings, so that
// HundredTools, re-encoded, keeps them byte for byte.)
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
