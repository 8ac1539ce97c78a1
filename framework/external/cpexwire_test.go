package external

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// The fixtures in testdata/cpex/ were captured from real cpex 0.1.4 by
// e2e/cpex/capture_wire.sh: cpex's own client (as ContextForge's gateway
// runs it, with the user as an object) calling cpex's own plugin server
// hosting ContextForge's published plugins (cpex-pii-filter,
// cpex-url-reputation, cpex-encoded-exfil-detection). Our server must read
// every request, and our client every answer, to the same verdict.

type cpexFixture struct {
	Request json.RawMessage `json:"request"`
	Answer  json.RawMessage `json:"answer"`
}

type cpexVerdict struct {
	Hook               string `json:"hook"`
	ContinueProcessing bool   `json:"continue_processing"`
	Violation          *struct {
		Code string `json:"code"`
	} `json:"violation"`
	ModifiedPayload json.RawMessage `json:"modified_payload"`
}

// cpexHooks are the six hooks of cpex 0.1.x (the list hooks are ours).
func cpexHooks() []framework.HookType {
	var hs []framework.HookType
	for _, h := range framework.Hooks {
		if !h.IsList() {
			hs = append(hs, h)
		}
	}
	return hs
}

func readCpexFixtures(t *testing.T) (map[string]cpexFixture, []cpexVerdict) {
	t.Helper()
	dir := filepath.Join("testdata", "cpex")
	fixtures := map[string]cpexFixture{}
	for _, h := range cpexHooks() {
		b, err := os.ReadFile(filepath.Join(dir, string(h)+".json"))
		if err != nil {
			t.Fatal(err)
		}
		var f cpexFixture
		if err := json.Unmarshal(b, &f); err != nil {
			t.Fatalf("%s: %v", h, err)
		}
		fixtures[string(h)] = f
	}
	b, err := os.ReadFile(filepath.Join(dir, "verdicts.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	var verdicts []cpexVerdict
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var v cpexVerdict
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			t.Fatal(err)
		}
		verdicts = append(verdicts, v)
	}
	if len(verdicts) != len(cpexHooks()) {
		t.Fatalf("%d verdicts", len(verdicts))
	}
	return fixtures, verdicts
}

// seenBy records what a served plugin received.
type seenBy struct {
	mu      sync.Mutex
	global  map[framework.HookType]framework.GlobalContext
	payload map[framework.HookType]any
}

func (s *seenBy) see(h framework.HookType, p any, pc *framework.PluginContext) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.global[h], s.payload[h] = *pc.Global, p
}

type recorder struct{ s *seenBy }

func (r recorder) ToolPreInvoke(_ context.Context, p *framework.ToolPreInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	r.s.see(framework.ToolPreInvoke, *p, pc)
	return framework.Result[framework.ToolPreInvokePayload]{}, nil
}
func (r recorder) ToolPostInvoke(_ context.Context, p *framework.ToolPostInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPostInvokePayload], error) {
	r.s.see(framework.ToolPostInvoke, *p, pc)
	return framework.Result[framework.ToolPostInvokePayload]{}, nil
}
func (r recorder) PromptPreFetch(_ context.Context, p *framework.PromptPreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPreFetchPayload], error) {
	r.s.see(framework.PromptPreFetch, *p, pc)
	return framework.Result[framework.PromptPreFetchPayload]{}, nil
}
func (r recorder) PromptPostFetch(_ context.Context, p *framework.PromptPostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.PromptPostFetchPayload], error) {
	r.s.see(framework.PromptPostFetch, *p, pc)
	return framework.Result[framework.PromptPostFetchPayload]{}, nil
}
func (r recorder) ResourcePreFetch(_ context.Context, p *framework.ResourcePreFetchPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcePreFetchPayload], error) {
	r.s.see(framework.ResourcePreFetch, *p, pc)
	return framework.Result[framework.ResourcePreFetchPayload]{}, nil
}
func (r recorder) ResourcePostFetch(_ context.Context, p *framework.ResourcePostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcePostFetchPayload], error) {
	r.s.see(framework.ResourcePostFetch, *p, pc)
	return framework.Result[framework.ResourcePostFetchPayload]{}, nil
}

// Our plugin server reads what cpex's client sends for every hook: the
// user object (on main it refused the call as INVALID_REQUEST), the
// payloads, and plugin names in another case.
func TestCpexClientRequestsDecode(t *testing.T) {
	fixtures, _ := readCpexFixtures(t)
	seen := &seenBy{global: map[framework.HookType]framework.GlobalContext{}, payload: map[framework.HookType]any{}}
	// Served under lower-case names: cpex looks plugins up ignoring case.
	s := serveKind(t, framework.Kind{Name: "recorder", Hooks: framework.ImplementedHooks(recorder{}),
		New: func(*framework.PluginConfig) (framework.Plugin, error) { return recorder{seen}, nil }}, "piifilter", "urlreputation", "encodedexfildetector")
	for _, h := range cpexHooks() {
		var in invokeRequest
		if err := json.Unmarshal(fixtures[string(h)].Request, &in); err != nil {
			t.Fatalf("%s: cpex's request does not decode: %v", h, err)
		}
		resp := s.invoke(context.Background(), &in)
		if resp.Error != nil {
			t.Fatalf("%s: %+v", h, resp.Error)
		}
		g := seen.global[h]
		if g.User != "ann@example.com" || g.TenantID != "acme" || g.ServerID != "srv-1" || g.RequestID != "req-"+string(h) {
			t.Errorf("%s: global context %+v", h, g)
		}
		if seen.payload[h] == nil {
			t.Errorf("%s: the plugin was not called", h)
		}
	}
	if p := seen.payload[framework.ToolPreInvoke].(framework.ToolPreInvokePayload); p.Name != "send_email" || !strings.Contains(string(p.Args), "123-45-6789") {
		t.Errorf("tool_pre_invoke payload %+v", p)
	}
	if p := seen.payload[framework.ResourcePreFetch].(framework.ResourcePreFetchPayload); p.URI != "https://malicious.example.com/report" {
		t.Errorf("resource_pre_fetch payload %+v", p)
	}
}

// Our client reads cpex's server answers to the verdicts cpex's own client
// reached (verdicts.jsonl).
func TestCpexServerAnswersDecode(t *testing.T) {
	fixtures, verdicts := readCpexFixtures(t)
	for _, want := range verdicts {
		h := framework.HookType(want.Hook)
		var req invokeRequest
		_ = json.Unmarshal(fixtures[want.Hook].Request, &req)
		p := &Plugin{pc: &framework.PluginConfig{Name: req.PluginName}}
		pc := &framework.PluginContext{Global: &framework.GlobalContext{}}
		raw, err := p.parseResponse(string(fixtures[want.Hook].Answer), pc)
		if err != nil {
			t.Fatalf("%s: %v", h, err)
		}
		var (
			v        *framework.Violation
			modified []byte
		)
		switch h {
		case framework.ToolPreInvoke:
			v, modified = decodeVerdict[framework.ToolPreInvokePayload](t, raw)
		case framework.ToolPostInvoke:
			v, modified = decodeVerdict[framework.ToolPostInvokePayload](t, raw)
		case framework.PromptPreFetch:
			v, modified = decodeVerdict[framework.PromptPreFetchPayload](t, raw)
		case framework.PromptPostFetch:
			v, modified = decodeVerdict[framework.PromptPostFetchPayload](t, raw)
		case framework.ResourcePreFetch:
			v, modified = decodeVerdict[framework.ResourcePreFetchPayload](t, raw)
		case framework.ResourcePostFetch:
			v, modified = decodeVerdict[framework.ResourcePostFetchPayload](t, raw)
		}
		if (v == nil) != want.ContinueProcessing {
			t.Fatalf("%s: violation %+v, cpex continue_processing %v", h, v, want.ContinueProcessing)
		}
		if want.Violation != nil && v.Code != want.Violation.Code {
			t.Errorf("%s: code %s, cpex %s", h, v.Code, want.Violation.Code)
		}
		if (len(want.ModifiedPayload) > 0) != (modified != nil) {
			t.Errorf("%s: modified %s, cpex %s", h, modified, want.ModifiedPayload)
		}
		if modified != nil && (!strings.Contains(string(modified), "[REDACTED]") || strings.Contains(string(modified), "ann@example.com")) {
			t.Errorf("%s: modified payload %s", h, modified)
		}
	}
}

func decodeVerdict[P framework.Payload](t *testing.T, raw json.RawMessage) (*framework.Violation, []byte) {
	t.Helper()
	var r framework.Result[P]
	if err := json.Unmarshal(raw, &r); err != nil {
		t.Fatal(err)
	}
	if r.ModifiedPayload == nil {
		return r.Violation, nil
	}
	b, _ := json.Marshal(r.ModifiedPayload)
	return r.Violation, b
}

// serveKind is our plugin server serving plugins of kind k under names.
func serveKind(t *testing.T, k framework.Kind, names ...string) *Server {
	t.Helper()
	reg := framework.NewRegistry()
	reg.Register(k)
	var b strings.Builder
	b.WriteString("plugins:\n")
	for _, n := range names {
		b.WriteString("  - {name: " + n + ", kind: " + k.Name + "}\n")
	}
	return servePolicy(t, reg, b.String())
}

// servePolicy is our plugin server serving policy, whose kinds are reg's.
func servePolicy(t *testing.T, reg *framework.Registry, policy string) *Server {
	t.Helper()
	cfg, _, err := framework.Parse([]byte(policy), "server.yaml", framework.LoadOptions{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(context.Background(), cfg, framework.WithRegistry(reg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Shutdown(context.Background()) })
	return s
}
