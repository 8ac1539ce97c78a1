package external

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

var update = flag.Bool("update", false, "rewrite the golden wire fixtures")

// wireKeyword is a plugin for the wire fixtures: it blocks "forbidden",
// masks "mask-me", fails on "fail-now" and counts calls in its state.
type wireKeyword struct{}

func (wireKeyword) ToolPreInvoke(_ context.Context, p *framework.ToolPreInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	n, _ := pc.State["checks"].(float64)
	pc.State = map[string]any{"checks": n + 1}
	pc.Global.State = map[string]any{"moderated": true}
	args := string(p.Args)
	switch {
	case strings.Contains(args, "fail-now"):
		return framework.Result[framework.ToolPreInvokePayload]{}, errors.New("boom")
	case strings.Contains(args, "forbidden"):
		return framework.Result[framework.ToolPreInvokePayload]{Violation: &framework.Violation{Reason: "Keyword moderation",
			Description: "the arguments matched a banned word", Code: "KEYWORD_BLOCKED", Details: map[string]any{"field": "$.text", "word": "forbidden"}}}, nil
	case strings.Contains(args, "mask-me"):
		return framework.Result[framework.ToolPreInvokePayload]{ModifiedPayload: &framework.ToolPreInvokePayload{Name: p.Name,
			Args: []byte(strings.ReplaceAll(args, "mask-me", "[moderated]"))}}, nil
	}
	return framework.Result[framework.ToolPreInvokePayload]{}, nil
}

func wireServer(t testing.TB) *Server {
	t.Helper()
	reg := framework.NewRegistry()
	reg.Register(framework.Kind{Name: "wire_keyword", Hooks: []framework.HookType{framework.ToolPreInvoke},
		New: func(*framework.PluginConfig) (framework.Plugin, error) { return wireKeyword{}, nil }})
	cfg, _, err := framework.Parse([]byte("plugins:\n  - {name: keyword-moderation, kind: wire_keyword, description: Keyword moderation, version: 0.1.0, priority: 50}\n"),
		"server.yaml", framework.LoadOptions{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(context.Background(), cfg, framework.WithRegistry(reg))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, got, "", "  "); err != nil {
		t.Fatalf("%s: %v: %s", name, err, got)
	}
	buf.WriteByte('\n')
	path := filepath.Join("testdata", "wire", name)
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("%s differs from the golden file:\n got %s\nwant %s", name, buf.Bytes(), want)
	}
}

// The exact cpex-style messages, checked on both sides: the client writes
// the request fixture, the server answers it with the response fixture, and
// the client reads each response as the framework result it stands for.
func TestWireGolden(t *testing.T) {
	srv := wireServer(t)
	client := &Plugin{pc: &framework.PluginConfig{Name: "keyword-moderation"}}
	cases := []struct {
		name, args string
		check      func(t *testing.T, res framework.Result[framework.ToolPreInvokePayload], pc *framework.PluginContext, err error)
	}{
		{"success", `{"text":"hello"}`, func(t *testing.T, res framework.Result[framework.ToolPreInvokePayload], pc *framework.PluginContext, err error) {
			if err != nil || res.Violation != nil || res.ModifiedPayload != nil || pc.State["checks"] != 2.0 || pc.Global.State["moderated"] != true {
				t.Fatalf("%+v %v state %v", res, err, pc.State)
			}
		}},
		{"block", `{"text":"forbidden words"}`, func(t *testing.T, res framework.Result[framework.ToolPreInvokePayload], _ *framework.PluginContext, err error) {
			if err != nil || res.Violation == nil || res.Violation.Code != "KEYWORD_BLOCKED" || res.Violation.Details["word"] != "forbidden" {
				t.Fatalf("%+v %v", res, err)
			}
		}},
		{"modify", `{"text":"please mask-me"}`, func(t *testing.T, res framework.Result[framework.ToolPreInvokePayload], _ *framework.PluginContext, err error) {
			if err != nil || res.ModifiedPayload == nil || string(res.ModifiedPayload.Args) != `{"text":"please [moderated]"}` {
				t.Fatalf("%+v %v", res, err)
			}
		}},
		{"error", `{"text":"fail-now"}`, func(t *testing.T, _ framework.Result[framework.ToolPreInvokePayload], _ *framework.PluginContext, err error) {
			var pe *PluginError
			if !errors.As(err, &pe) || pe.Code != framework.CodePluginError {
				t.Fatalf("want a PluginError, got %v", err)
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := &framework.GlobalContext{RequestID: "req-1", User: "ann@example.com", TenantID: "acme", State: map[string]any{"trace": "t-1"}}
			pc := &framework.PluginContext{State: map[string]any{"checks": 1.0}, Global: g}
			tool, req, err := client.request(framework.ToolPreInvoke, &framework.ToolPreInvokePayload{Name: "send_message", Args: []byte(tc.args)}, pc)
			if err != nil || tool != "invoke_hook" {
				t.Fatal(tool, err)
			}
			reqJSON, _ := json.Marshal(req)
			golden(t, tc.name+".request.json", reqJSON)

			var in invokeRequest
			if err := json.Unmarshal(reqJSON, &in); err != nil {
				t.Fatal(err)
			}
			respJSON, _ := json.Marshal(srv.invoke(context.Background(), &in))
			golden(t, tc.name+".response.json", respJSON)

			raw, err := client.parseResponse(string(respJSON), pc)
			var res framework.Result[framework.ToolPreInvokePayload]
			if err == nil {
				if uerr := json.Unmarshal(raw, &res); uerr != nil {
					t.Fatal(uerr)
				}
			}
			tc.check(t, res, pc, err)
		})
	}
}

// get_plugin_config answers the plugin's config in cpex's field names, or {}.
func TestGetPluginConfig(t *testing.T) {
	srv := wireServer(t)
	b, _ := json.Marshal(srv.plugins["keyword-moderation"].configJSON())
	golden(t, "get_plugin_config.response.json", b)
	cfg, _, err := framework.Parse([]byte("plugins:\n  - {name: keyword-moderation, kind: external, mcp: {proto: STREAMABLEHTTP, url: \"http://127.0.0.1:1/mcp\"}}\n"), "client.yaml", framework.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	p := &Plugin{pc: &cfg.Plugins[0]}
	var rc remoteConfig
	if err := json.Unmarshal(b, &rc); err != nil {
		t.Fatal(err)
	}
	if err := p.merge(&rc); err != nil || p.pc.Priority != 50 || p.pc.Description != "Keyword moderation" || len(p.hooks) != 1 || p.hooks[0] != framework.ToolPreInvoke {
		t.Fatalf("merge: %v %+v hooks %v", err, p.pc, p.hooks)
	}
}

// Unknown plugins and hooks are errors in the cpex shape.
func TestInvokeErrors(t *testing.T) {
	srv := wireServer(t)
	for _, in := range []invokeRequest{
		{HookType: framework.ToolPreInvoke, PluginName: "nope", Payload: []byte(`{}`)},
		{HookType: "tool_post_list", PluginName: "keyword-moderation", Payload: []byte(`{}`)},
		{HookType: framework.ToolPreInvoke, PluginName: "keyword-moderation", Payload: []byte(`[1]`)},
	} {
		resp := srv.invoke(context.Background(), &in)
		if resp.Error == nil || resp.Result != nil || resp.Error.PluginName != in.PluginName || resp.Error.MCPErrorCode != -32603 {
			t.Errorf("%+v → %+v", in, resp)
		}
	}
}
