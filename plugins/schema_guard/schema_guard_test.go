package schemaguard_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
	schemaguard "github.com/mcp-extproc/mcp-extproc/plugins/schema_guard"
)

// searchPolicy pins a search tool's schemas in the policy.
const searchPolicy = `plugins:
  - name: schemas
    kind: schema_guard
    config:
      tools:
        search:
          input_schema:
            type: object
            required: [query]
            additionalProperties: false
            properties:
              query: {type: string, minLength: 1, pattern: "^[^;]*$"}
              limit: {type: integer, minimum: 1, maximum: 100}
              mode: {enum: [fast, exact]}
              filters:
                type: array
                items:
                  type: object
                  required: [field]
                  properties:
                    field: {type: string}
                    value: {type: [string, number]}
          output_schema:
            type: object
            required: [hits]
            properties:
              hits: {type: array, items: {type: string}}
`

func load(t testing.TB, policy string) *schemaguard.Plugin {
	t.Helper()
	return plugintest.Load(t, policy).(*schemaguard.Plugin)
}

func pcFor(server string) *framework.PluginContext {
	return &framework.PluginContext{Global: &framework.GlobalContext{ServerID: server, RequestID: "r1"}}
}

func pre(t *testing.T, p *schemaguard.Plugin, tool, args string, pc *framework.PluginContext) *framework.Violation {
	t.Helper()
	res, err := p.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Name: tool, Args: json.RawMessage(args)}, pc)
	if err != nil {
		t.Fatal(err)
	}
	if res.ModifiedPayload != nil {
		t.Fatal("schema_guard must never modify a payload")
	}
	return res.Violation
}

func post(t *testing.T, p *schemaguard.Plugin, tool, result string, pc *framework.PluginContext) *framework.Violation {
	t.Helper()
	res, err := p.ToolPostInvoke(context.Background(), &framework.ToolPostInvokePayload{Name: tool, Result: json.RawMessage(result)}, pc)
	if err != nil {
		t.Fatal(err)
	}
	return res.Violation
}

func findings(t *testing.T, v *framework.Violation) []string {
	t.Helper()
	fs, ok := v.Details["findings"].([]schemaguard.Finding)
	if !ok {
		t.Fatalf("details: %#v", v.Details)
	}
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.String()
	}
	return out
}

func TestArguments(t *testing.T) {
	p := load(t, searchPolicy)
	for _, tc := range []struct {
		args string
		want []string // findings; nil passes
	}{
		{`{"query":"mcp"}`, nil},
		{`{"query":"mcp","limit":100,"mode":"exact","filters":[{"field":"lang","value":"go"},{"field":"year","value":2024}]}`, nil},
		{`{}`, []string{"/: required (query)"}},
		{``, []string{"/: required (query)"}}, // no arguments at all is {}
		{`{"query":"TOPSECRET-7731","limit":"ten"}`, []string{"/limit: type"}},
		{`{"query":"x","limit":101}`, []string{"/limit: maximum"}},
		{`{"query":"x","limit":2.5}`, []string{"/limit: type"}},
		{`{"query":""}`, []string{"/query: minLength"}},
		{`{"query":"TOPSECRET-7731; drop table"}`, []string{"/query: pattern"}},
		{`{"query":"x","mode":"TOPSECRET-7731"}`, []string{"/mode: enum"}},
		{`{"query":"x","TOPSECRET":1}`, []string{"/: additionalProperties"}},
		{`{"query":"x","filters":[{"field":"a"},{"value":true}]}`, []string{"/filters/1: required (field)", "/filters/1/value: type"}},
		{`{"query":"x","filters":{"field":"a"}}`, []string{"/filters: type"}},
		{`[]`, []string{"/: type"}},
	} {
		t.Run(tc.args, func(t *testing.T) {
			v := pre(t, p, "search", tc.args, pcFor("s1"))
			if tc.want == nil {
				if v != nil {
					t.Fatalf("refused: %+v", v)
				}
				return
			}
			if v == nil {
				t.Fatal("passed")
			}
			if v.Code != "SCHEMA_INVALID_ARGUMENTS" || v.MCPErrorCode != -32602 || v.Details["tool"] != "search" || v.Details["schema_source"] != "config" {
				t.Fatalf("violation = %+v", v)
			}
			if got := findings(t, v); strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("findings = %q, want %q", got, tc.want)
			}
			for _, want := range tc.want {
				if !strings.Contains(v.Description, want) {
					t.Errorf("description %q does not name %q", v.Description, want)
				}
			}
			// The value is never echoed, whatever keyword failed.
			b, _ := json.Marshal(v)
			if strings.Contains(string(b), "TOPSECRET-7731") || strings.Contains(string(b), "ten") || strings.Contains(string(b), "drop table") {
				t.Fatalf("violation leaks the value: %s", b)
			}
		})
	}
	// Tools without a schema pass (on_missing_schema: allow).
	if v := pre(t, p, "other", `{"anything":1}`, pcFor("s1")); v != nil {
		t.Fatalf("unknown tool refused: %+v", v)
	}
}

func TestFindingsAreBounded(t *testing.T) {
	p := load(t, `plugins:
  - name: s
    kind: schema_guard
    config:
      max_findings: 2
      tools:
        t:
          input_schema: {type: object, additionalProperties: {type: integer}}
`)
	v := pre(t, p, "t", `{"a":"x","b":"x","c":"x","d":"x"}`, nil)
	if v == nil || len(findings(t, v)) != 2 || v.Details["total_findings"] != 4 || !strings.HasSuffix(v.Description, "(and 2 more)") {
		t.Fatalf("violation = %+v", v)
	}
	long := strings.Repeat("k", 1000)
	v = pre(t, p, "t", `{"`+long+`":"x"}`, nil)
	if v == nil || len(v.Description) > 400 || !strings.Contains(v.Description, "…: type") {
		t.Fatalf("a long property name is not cut: %d bytes: %.80s", len(v.Description), v.Description)
	}
}

func TestResults(t *testing.T) {
	p := load(t, searchPolicy)
	for _, tc := range []struct {
		name, tool, result string
		want               string // "" passes, else the findings joined
	}{
		{"valid", "search", `{"content":[],"structuredContent":{"hits":["a","b"]}}`, ""},
		{"wrong item", "search", `{"content":[],"structuredContent":{"hits":["a",7]}}`, "/hits/1: type"},
		{"missing property", "search", `{"content":[],"structuredContent":{}}`, "/: required (hits)"},
		{"no structuredContent", "search", `{"content":[{"type":"text","text":"{}"}]}`, "/: required (structuredContent)"},
		{"error result", "search", `{"content":[{"type":"text","text":"boom"}],"isError":true}`, ""},
		{"no schema", "other", `{"content":[],"structuredContent":{"x":1}}`, ""},
		{"unmatched result", "", `{"content":[],"structuredContent":{"hits":[1]}}`, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := post(t, p, tc.tool, tc.result, pcFor(""))
			if tc.want == "" {
				if v != nil {
					t.Fatalf("refused: %+v", v)
				}
				return
			}
			if v == nil || v.Code != "SCHEMA_INVALID_RESULT" || strings.Join(findings(t, v), "|") != tc.want {
				t.Fatalf("violation = %+v, want %s", v, tc.want)
			}
		})
	}
}

func TestReportOnly(t *testing.T) {
	p := load(t, strings.Replace(searchPolicy, "      tools:\n", "      block_on_violation: false\n      tools:\n", 1))
	res, err := p.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Name: "search", Args: json.RawMessage(`{"limit":0}`)}, pcFor(""))
	if err != nil || res.Violation != nil {
		t.Fatalf("block_on_violation false still blocks: %+v, %v", res.Violation, err)
	}
	fs, _ := res.Metadata["schema_findings"].([]schemaguard.Finding)
	if len(fs) != 2 {
		t.Fatalf("metadata = %v", res.Metadata)
	}
}

func TestMissingSchemaBlock(t *testing.T) {
	p := load(t, strings.Replace(searchPolicy, "      tools:\n", "      on_missing_schema: block\n      tools:\n", 1))
	if v := pre(t, p, "other", `{}`, nil); v == nil || v.Code != "SCHEMA_UNKNOWN_TOOL" {
		t.Fatalf("violation = %+v", v)
	}
	if v := pre(t, p, "search", `{"query":"q"}`, nil); v != nil {
		t.Fatalf("known tool refused: %+v", v)
	}
}

func TestConfig(t *testing.T) {
	policy := func(config string) string { return plugintest.BlockPolicy("s", "schema_guard", config) }
	for _, tc := range []struct{ config, want string }{
		{"on_missing_schema: deny", `config.on_missing_schema: "deny" is not one of allow, block`},
		{"max_findings: 0", "config.max_findings: must be at least 1"},
		{"learn_from_tools_list: false", "config.tools: with learn_from_tools_list off, give at least one schema"},
		{"tools: {t: {}}", "config.tools.t: set input_schema, output_schema or both"},
		{"tools: {t: {input_schema: {type: objekt}}}", "config.tools.t.input_schema:"},
		{"tools: {t: {input_schema: {minimum: x}}}", "config.tools.t.input_schema:"},
		{`tools: {t: {input_schema: {$ref: "file:///etc/passwd"}}}`, "config.tools.t.input_schema:"},
		{`tools: {t: {input_schema: {$ref: "https://example.com/s.json"}}}`, "config.tools.t.input_schema:"},
		{"tools: {t: {input_schema: {type: object}}}\narg_schemas: {t: {type: object}}", `config.arg_schemas.t: tool "t" already has this schema`},
		{"store: {max_servers: 0}", "config.store: schema store: every limit must be positive"},
		{"tools: {t: {input_schema: {type: object}, bogus: 1}}", `unknown key "bogus"`},
	} {
		t.Run(tc.config, func(t *testing.T) {
			_, err := plugintest.Instantiate(policy(tc.config))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error = %v, want it to mention %q", err, tc.want)
			}
		})
	}
	// A $ref inside the schema resolves; a boolean schema is a schema.
	p := load(t, policy("tools:\n  t:\n    input_schema: {$defs: {n: {type: integer}}, properties: {a: {$ref: \"#/$defs/n\"}}}\n  u:\n    input_schema: false\n"))
	if v := pre(t, p, "t", `{"a":"x"}`, nil); v == nil || findings(t, v)[0] != "/a: type" {
		t.Fatalf("local $ref: %+v", v)
	}
	if v := pre(t, p, "u", `{}`, nil); v == nil || findings(t, v)[0] != "/: false" {
		t.Fatalf("false schema: %+v", v)
	}
}

// ContextForge's SchemaGuardPlugin block loads under its class path, and
// its arg_schemas and result_schemas are honoured.
func TestContextForgeConfig(t *testing.T) {
	for _, kind := range []string{"plugins.schema_guard.schema_guard.SchemaGuardPlugin", "SchemaGuardPlugin", "schema_guard"} {
		plugintest.Load(t, "plugins:\n  - name: SchemaGuardPlugin\n    kind: "+kind+"\n    config:\n      arg_schemas: {}\n      result_schemas: {}\n      block_on_violation: true\n")
	}
	p := load(t, `plugins:
  - name: SchemaGuardPlugin
    kind: plugins.schema_guard.schema_guard.SchemaGuardPlugin
    config:
      arg_schemas:
        search: {type: object, required: [q], properties: {q: {type: string}}}
      result_schemas:
        search: {type: object, required: [n]}
      block_on_violation: true
`)
	if v := pre(t, p, "search", `{"q":1}`, nil); v == nil || findings(t, v)[0] != "/q: type" {
		t.Fatalf("arg_schemas: %+v", v)
	}
	if v := post(t, p, "search", `{"content":[],"structuredContent":{}}`, pcFor("")); v == nil || findings(t, v)[0] != "/: required (n)" {
		t.Fatalf("result_schemas: %+v", v)
	}
}
