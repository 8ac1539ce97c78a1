package external

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// resourceMasker is a served plugin that records the resource content it
// is handed, masks "secret" and blocks "forbidden".
type resourceMasker struct {
	mu   *sync.Mutex
	seen *[]string
}

func (r resourceMasker) ResourcePostFetch(_ context.Context, p *framework.ResourcePostFetchPayload, _ *framework.PluginContext) (framework.Result[framework.ResourcePostFetchPayload], error) {
	r.mu.Lock()
	*r.seen = append(*r.seen, string(p.Content))
	r.mu.Unlock()
	s := string(p.Content)
	switch {
	case strings.Contains(s, "forbidden"):
		return framework.Result[framework.ResourcePostFetchPayload]{Violation: &framework.Violation{Reason: "no", Code: "FORBIDDEN"}}, nil
	case strings.Contains(s, "secret"):
		return framework.Result[framework.ResourcePostFetchPayload]{ModifiedPayload: &framework.ResourcePostFetchPayload{URI: p.URI,
			Content: json.RawMessage(strings.ReplaceAll(s, "secret", "[masked]"))}}, nil
	}
	return framework.Result[framework.ResourcePostFetchPayload]{}, nil
}

// A resource read through an external plugin crosses the boundary in
// ContextForge's ResourceContent shape, one call per content item; the
// served plugin reads MCP's shape; what it changes comes back into the
// right item, and the rest of the result (other items, _meta, blobs) is
// kept.
func TestResourceContentCrossesAsContextForgeShape(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string
	)
	m, wireOf := servedOverHTTP(t, framework.Kind{Name: "masker", Hooks: []framework.HookType{framework.ResourcePostFetch},
		New: func(*framework.PluginConfig) (framework.Plugin, error) { return resourceMasker{&mu, &seen}, nil }}, "params.arguments.payload.content")
	tbl := func() *framework.ContextTable {
		return framework.NewContextTable(framework.GlobalContext{RequestID: "r"})
	}

	content := `{"contents":[{"uri":"file:///a.txt","mimeType":"text/plain","text":"a secret here","_meta":{"k":1}},` +
		`{"uri":"file:///b.bin","mimeType":"application/octet-stream","blob":"AAEC"}],"_meta":{"page":2}}`
	out := m.ResourcePostFetch(context.Background(), &framework.ResourcePostFetchPayload{URI: "file:///a.txt", Content: []byte(content)}, tbl())
	if out.Blocked() || !out.Modified {
		t.Fatalf("blocked %v modified %v", out.Violation, out.Modified)
	}
	got := gjson.ParseBytes(out.Payload.Content)
	if got.Get("contents.0.text").String() != "a [masked] here" || got.Get("contents.0._meta.k").Int() != 1 || got.Get("contents.0.mimeType").String() != "text/plain" ||
		got.Get("contents.1.blob").String() != "AAEC" || got.Get("_meta.page").Int() != 2 || got.Get("contents.#").Int() != 2 {
		t.Fatalf("content folded back wrong: %s", out.Payload.Content)
	}
	wire := wireOf()
	mu.Lock()
	if len(wire) != 2 || len(seen) != 2 {
		t.Fatalf("want one call per item: wire %v seen %v", wire, seen)
	}
	// On the wire: ContextForge's ResourceContent.
	w0 := gjson.Parse(wire[0])
	if w0.Get("type").String() != "resource" || w0.Get("uri").String() != "file:///a.txt" || w0.Get("mime_type").String() != "text/plain" ||
		w0.Get("text").String() != "a secret here" || w0.Get("contents").Exists() || w0.Get("mimeType").Exists() {
		t.Errorf("wire content %s", wire[0])
	}
	if w1 := gjson.Parse(wire[1]); w1.Get("blob").String() != "AAEC" || w1.Get("text").Exists() {
		t.Errorf("wire content %s", wire[1])
	}
	// In the served plugin: MCP's shape.
	if s0 := gjson.Parse(seen[0]); s0.Get("contents.0.text").String() != "a secret here" || s0.Get("contents.0.mimeType").String() != "text/plain" {
		t.Errorf("served plugin saw %s", seen[0])
	}
	mu.Unlock()

	// A violation on any item blocks.
	blocked := m.ResourcePostFetch(context.Background(), &framework.ResourcePostFetchPayload{URI: "file:///c",
		Content: []byte(`{"contents":[{"uri":"file:///c","text":"fine"},{"uri":"file:///d","text":"forbidden"}]}`)}, tbl())
	if !blocked.Blocked() || blocked.Violation.Code != "FORBIDDEN" {
		t.Fatalf("second item's violation lost: %+v", blocked.Violation)
	}
	// Nothing to change: nothing modified.
	if clean := m.ResourcePostFetch(context.Background(), &framework.ResourcePostFetchPayload{URI: "file:///c",
		Content: []byte(`{"contents":[{"uri":"file:///c","text":"fine"}]}`)}, tbl()); clean.Blocked() || clean.Modified {
		t.Fatalf("clean content: %+v %v", clean.Violation, clean.Modified)
	}
}

// Our server answers a ResourceContent (as cpex's client sends it, from the
// captured fixture) in the same shape, keeping ContextForge's type and id.
func TestServerAnswersResourceContentInKind(t *testing.T) {
	fixtures, _ := readCpexFixtures(t)
	var in invokeRequest
	if err := json.Unmarshal(fixtures["resource_post_fetch"].Request, &in); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var seen []string
	s := serveKind(t, framework.Kind{Name: "masker", Hooks: []framework.HookType{framework.ResourcePostFetch},
		New: func(*framework.PluginConfig) (framework.Plugin, error) { return resourceMasker{&mu, &seen}, nil }}, "EncodedExfilDetector")
	// The fixture's text holds "secret" inside base64 only; make it plain.
	in.Payload = []byte(strings.Replace(string(in.Payload), "aws_access_key_id", "a secret", 1))
	resp := s.invoke(context.Background(), &in)
	if resp.Error != nil {
		t.Fatal(resp.Error)
	}
	if len(seen) != 1 || gjson.Get(seen[0], "contents.0.mimeType").String() != "text/plain" || !strings.Contains(gjson.Get(seen[0], "contents.0.text").String(), "a secret") {
		t.Fatalf("served plugin saw %v", seen)
	}
	c := gjson.GetBytes(resp.Result, "modified_payload.content")
	if c.Get("type").String() != "resource" || c.Get("id").String() != "1" || c.Get("mime_type").String() != "text/plain" ||
		!strings.Contains(c.Get("text").String(), "a [masked]") || c.Get("contents").Exists() {
		t.Fatalf("answer not in ContextForge's shape: %s", resp.Result)
	}
}

// servedOverHTTP serves one plugin of kind k from our plugin server over
// Streamable HTTP and returns a client Manager for it, and a function that
// returns the JSON at path of every request the server received.
func servedOverHTTP(t *testing.T, k framework.Kind, path string) (*framework.Manager, func() []string) {
	t.Helper()
	srv := serveKind(t, k, "served")
	var (
		mu   sync.Mutex
		wire []string
	)
	h := srv.Handler()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if c := gjson.GetBytes(b, path); c.Exists() {
			mu.Lock()
			wire = append(wire, c.Raw)
			mu.Unlock()
		}
		r.Body = io.NopCloser(bytes.NewReader(b))
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)
	ccfg, _, err := framework.Parse([]byte("plugins:\n  - {name: served, kind: external, mcp: {proto: STREAMABLEHTTP, url: \""+ts.URL+"/mcp\"}}\n"), "client.yaml", framework.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	m, err := framework.NewManager(context.Background(), ccfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	return m, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), wire...)
	}
}
