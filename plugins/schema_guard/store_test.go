package schemaguard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	schemaguard "github.com/mcp-extproc/mcp-extproc/plugins/schema_guard"
)

// toolsList is a tools/list result as an MCP server sends it.
func toolsList(tools ...string) json.RawMessage {
	return json.RawMessage(`{"tools":[` + strings.Join(tools, ",") + `],"nextCursor":"p2"}`)
}

func tool(name, input string) string {
	return fmt.Sprintf(`{"name":%q,"description":"d","inputSchema":%s}`, name, input)
}

const objWithQ = `{"type":"object","required":["q"],"properties":{"q":{"type":"string"}}}`

func newStore(t *testing.T, servers, tools, bytes int) *schemaguard.Store {
	t.Helper()
	s, err := schemaguard.NewStore(schemaguard.StoreLimits{MaxServers: servers, MaxToolsPerServer: tools, MaxSchemaBytes: bytes})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStoreRecordAndLookup(t *testing.T) {
	s := newStore(t, 10, 10, 1<<10)
	rec, err := s.Record("a", toolsList(tool("search", objWithQ), `{"name":"out","inputSchema":{"type":"object"},"outputSchema":{"type":"object","required":["n"]}}`))
	if err != nil || rec.Learned != 2 || rec.Skipped != 0 {
		t.Fatalf("record = %+v, %v", rec, err)
	}
	sch, ok := s.Lookup("a", "search")
	if !ok || sch.Input == nil || sch.Output != nil {
		t.Fatalf("lookup search = %+v, %v", sch, ok)
	}
	if sch, ok := s.Lookup("a", "out"); !ok || sch.Output == nil {
		t.Fatalf("lookup out = %+v, %v", sch, ok)
	}
	// Schemas are per server.
	if _, ok := s.Lookup("b", "search"); ok {
		t.Fatal("server b has server a's schema")
	}
	// A second page adds to the first; the same schema again is not recompiled.
	rec, _ = s.Record("a", json.RawMessage(`[`+tool("fetch", `{"type":"object"}`)+`,`+tool("search", objWithQ)+`]`))
	if rec.Learned != 1 || rec.Unchanged != 1 {
		t.Fatalf("second page = %+v", rec)
	}
	if _, ok := s.Lookup("a", "search"); !ok {
		t.Fatal("the second page erased the first")
	}
	// A changed schema replaces the old one.
	rec, _ = s.Record("a", toolsList(tool("search", `{"type":"array"}`)))
	if sch, _ := s.Lookup("a", "search"); rec.Learned != 1 || sch.Input.Types == nil || sch.Input.Types.String() != "[array]" {
		t.Fatalf("changed schema not replaced: %+v", rec)
	}
}

func TestStoreBounds(t *testing.T) {
	s := newStore(t, 2, 2, 200)
	// Per server: at most MaxToolsPerServer tools; the rest are skipped.
	rec, _ := s.Record("a", toolsList(tool("t1", `{}`), tool("t2", `{}`), tool("t3", `{}`)))
	if rec.Learned != 2 || rec.Skipped != 1 || !strings.Contains(rec.Errors[0], `tool "t3"`) {
		t.Fatalf("record = %+v", rec)
	}
	// A tool already known can still change when the server is full.
	if rec, _ := s.Record("a", toolsList(tool("t1", `{"type":"object"}`))); rec.Learned != 1 {
		t.Fatalf("update at the bound = %+v", rec)
	}
	// Schemas over MaxSchemaBytes are not learned.
	big := `{"description":"` + strings.Repeat("x", 300) + `"}`
	if rec, _ := s.Record("b", toolsList(tool("big", big))); rec.Skipped != 1 || !strings.Contains(rec.Errors[0], "over the 200-byte bound") {
		t.Fatalf("big schema = %+v", rec)
	}
	// Servers: the least recently used one goes.
	s.Lookup("a", "t1") // a is now more recent than b
	s.Record("c", toolsList(tool("t", `{}`)))
	if s.Servers() != 2 {
		t.Fatalf("%d servers remembered, bound is 2", s.Servers())
	}
	if _, ok := s.Lookup("a", "t1"); !ok {
		t.Fatal("the recently used server was forgotten")
	}
	if _, ok := s.Lookup("c", "t"); !ok {
		t.Fatal("the new server was not remembered")
	}
	for i := range 50 {
		s.Record(fmt.Sprint("srv", i), toolsList(tool("t", `{}`)))
	}
	if s.Servers() != 2 {
		t.Fatalf("%d servers remembered, bound is 2", s.Servers())
	}
}

// What a server announces cannot make the filter read files or fetch URLs,
// and a bad entry does not spoil the others.
func TestStoreRefusesBadSchemas(t *testing.T) {
	s := newStore(t, 10, 10, 1<<10)
	rec, err := s.Record("a", toolsList(
		tool("file", `{"$ref":"file:///etc/passwd"}`),
		tool("remote", `{"$ref":"http://127.0.0.1:1/schema.json"}`),
		tool("bad", `{"type":"objekt"}`),
		`{"inputSchema":{}}`,
		tool("good", objWithQ),
	))
	if err != nil || rec.Learned != 1 || rec.Skipped != 4 || len(rec.Errors) != 4 {
		t.Fatalf("record = %+v, %v", rec, err)
	}
	for _, name := range []string{"file", "remote", "bad"} {
		if _, ok := s.Lookup("a", name); ok {
			t.Errorf("%s was learned", name)
		}
	}
	for _, bad := range []string{`not json`, `{"tools":{}}`, `"x"`, `{"tools":[1,]}`} {
		if _, err := s.Record("a", json.RawMessage(bad)); err == nil {
			t.Errorf("%s: no error", bad)
		}
	}
	if _, err := schemaguard.NewStore(schemaguard.StoreLimits{MaxServers: 1}); err == nil {
		t.Error("zero bounds accepted")
	}
}

// The plugin validates with what its store learned for the exchange's
// server, and the policy's schemas win over a server's.
func TestPluginUsesLearnedSchemas(t *testing.T) {
	p := load(t, searchPolicy)
	if err := p.RecordToolsList(context.Background(), "s1", toolsList(tool("lookup", objWithQ), tool("search", `{"type":"object"}`), tool("bad", `{"$ref":"file:///etc/passwd"}`))); err != nil {
		t.Fatal(err)
	}
	if err := p.RecordToolsList(context.Background(), "s1", json.RawMessage(`{"tools":7}`)); err == nil {
		t.Fatal("a malformed list was accepted")
	}
	v := pre(t, p, "lookup", `{"q":5}`, pcFor("s1"))
	if v == nil || v.Details["schema_source"] != "tools/list" || findings(t, v)[0] != "/q: type" {
		t.Fatalf("learned schema not applied: %+v", v)
	}
	if v := pre(t, p, "lookup", `{"q":5}`, pcFor("s2")); v != nil {
		t.Fatalf("server s2 got server s1's schema: %+v", v)
	}
	if v := pre(t, p, "search", `{}`, pcFor("s1")); v == nil || v.Details["schema_source"] != "config" {
		t.Fatalf("the server's schema won over the policy's: %+v", v)
	}
	off := load(t, strings.Replace(searchPolicy, "      tools:\n", "      learn_from_tools_list: false\n      tools:\n", 1))
	if off.Store() != nil || off.RecordToolsList(context.Background(), "s1", toolsList(tool("lookup", objWithQ))) != nil {
		t.Fatal("learn_from_tools_list: false still learns")
	}
	if v := pre(t, off, "lookup", `{"q":5}`, pcFor("s1")); v != nil {
		t.Fatalf("learned with learning off: %+v", v)
	}
}

func FuzzStoreRecord(f *testing.F) {
	f.Add([]byte(toolsList(tool("search", objWithQ))))
	f.Add([]byte(`[{"name":"a","inputSchema":{"$ref":"#"}}]`))
	f.Add([]byte(`[{"name":"a","inputSchema":{"anyOf":[{"$ref":"#"}]}}]`))
	f.Fuzz(func(t *testing.T, list []byte) {
		s, _ := schemaguard.NewStore(schemaguard.StoreLimits{MaxServers: 2, MaxToolsPerServer: 4, MaxSchemaBytes: 1 << 10})
		rec, err := s.Record("x", list)
		if err != nil {
			return
		}
		if rec.Learned > 4 {
			t.Fatalf("learned %d tools, bound is 4", rec.Learned)
		}
		if sch, ok := s.Lookup("x", "a"); ok && sch.Input != nil {
			_ = sch.Input.Validate(map[string]any{"q": "x"})
		}
	})
}
