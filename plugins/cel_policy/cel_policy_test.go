package celpolicy_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/policyinput/policytest"
)

// The example: transfers over 1000 need approval, whatever number
// type the client wrote the amount in.
const transferPolicy = `plugins:
  - name: authz
    kind: cel_policy
    config:
      default: allow
      rules:
        - name: big-transfers
          action: deny
          when: 'tool.name == "transfer_funds" && double(tool.args.amount) > 1000.0'
          reason: "transfers over 1000 need approval"
          code: TRANSFER_LIMIT
          hooks: [tool_pre_invoke]
`

func transfer(amount string) string {
	return `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"transfer_funds","arguments":{"amount":` + amount + `}}}`
}

const okResult = `{"jsonrpc":"2.0","id":7,"result":{"content":[{"type":"text","text":"ok"}]}}`

func TestReasonAndCodeReachTheClient(t *testing.T) {
	srv := extproctest.New(t, transferPolicy)
	for _, amount := range []string{"1500", "1000.5", "1e4"} {
		out := srv.Call(t, transfer(amount), extproctest.JSON(okResult))
		if !out.Blocked || !strings.Contains(out.Client, `"message":"transfers over 1000 need approval: policy rule big-transfers denied this tool_pre_invoke"`) ||
			!strings.Contains(out.Client, `"code":"TRANSFER_LIMIT"`) || !strings.Contains(out.Client, `"rule":"big-transfers"`) ||
			!strings.Contains(out.Client, `"id":7`) {
			t.Errorf("amount %s: %+v", amount, out)
		}
	}
	for _, amount := range []string{"1000", "999.99", "0"} {
		if out := srv.Call(t, transfer(amount), extproctest.JSON(okResult)); out.Blocked {
			t.Errorf("amount %s was blocked: %+v", amount, out)
		}
	}
}

// A missing field read without has() is an evaluation error: on_error
// fail (the default) blocks; has() guards it; on_error ignore lets it pass.
func TestMissingFieldFailsClosed(t *testing.T) {
	call := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"transfer_funds","arguments":{}}}`
	srv := extproctest.New(t, transferPolicy)
	if out := srv.Call(t, call, extproctest.JSON(okResult)); !out.Blocked || !strings.Contains(out.Client, framework.CodePluginError) {
		t.Fatalf("a missing amount must fail closed: %+v", out)
	}
	guarded := strings.Replace(transferPolicy, `double(tool.args.amount)`, `has(tool.args.amount) && double(tool.args.amount)`, 1)
	if out := extproctest.New(t, guarded).Call(t, call, extproctest.JSON(okResult)); out.Blocked {
		t.Fatalf("has() guards the field: %+v", out)
	}
	ignore := strings.Replace(transferPolicy, "kind: cel_policy\n", "kind: cel_policy\n    on_error: ignore\n", 1)
	if out := extproctest.New(t, ignore).Call(t, call, extproctest.JSON(okResult)); out.Blocked {
		t.Fatalf("on_error ignore lets it pass: %+v", out)
	}
}

// Rules run in order and the first that holds decides; then the default.
func TestFirstMatchingRuleDecides(t *testing.T) {
	policy := `plugins:
  - name: authz
    kind: cel_policy
    config:
      default: deny
      rules:
        - {name: admins, action: allow, when: 'user == "root"'}
        - {name: no-delete, when: 'tool.name.startsWith("delete_")', code: NO_DELETE}
        - {name: reads, action: allow, when: 'tool.name.startsWith("get_") || tool.name.startsWith("delete_")'}
`
	pl := plugintest.Load(t, policy).(framework.ToolPreInvoker)
	for _, tc := range []struct {
		user, tool, want string // want: "" passes, else the violation's rule
	}{
		{"root", "delete_all", ""},
		{"ann", "delete_all", "no-delete"},
		{"ann", "get_user", ""},
		{"ann", "put_user", "default"},
	} {
		pc := &framework.PluginContext{Global: &framework.GlobalContext{User: tc.user}}
		res, err := pl.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Name: tc.tool, Args: []byte(`{}`)}, pc)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if res.Violation != nil {
			got = res.Violation.Details["rule"].(string)
		}
		if got != tc.want {
			t.Errorf("%s calling %s: decided by %q, want %q", tc.user, tc.tool, got, tc.want)
		}
	}
}

// Without hooks:, a rule runs on every hook that has its variables: a
// rule on resource does not deny a tools/call, even with default allow.
func TestRulesRunWhereTheirVariablesExist(t *testing.T) {
	srv := extproctest.New(t, `plugins:
  - name: authz
    kind: cel_policy
    config:
      default: allow
      rules:
        - {name: internal, when: 'resource.host.endsWith(".internal")', code: INTERNAL_HOST}
`)
	read := `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"https://db.INTERNAL./x"}}`
	contents := `{"jsonrpc":"2.0","id":1,"result":{"contents":[{"uri":"u","text":"x"}]}}`
	if out := srv.Call(t, read, extproctest.JSON(contents)); !out.Blocked || !strings.Contains(out.Client, "INTERNAL_HOST") {
		t.Fatalf("internal host: %+v", out)
	}
	if out := srv.Call(t, transfer("1"), extproctest.JSON(okResult)); out.Blocked {
		t.Fatalf("a resource rule must not run on tools/call: %+v", out)
	}
}

// A host that does not normalise, or an http URI a browser and Go read two
// ways, cannot be decided on: the rule fails, closed.
func TestUnreadableResourceFailsClosed(t *testing.T) {
	srv := extproctest.New(t, `plugins:
  - name: authz
    kind: cel_policy
    config:
      default: allow
      rules:
        - {name: internal, when: 'resource.host == "evil.com"'}
`)
	contents := `{"jsonrpc":"2.0","id":1,"result":{"contents":[{"uri":"u","text":"x"}]}}`
	for _, uri := range []string{"https://ev\u00adil\u200d.com/", "http:evil.com/x", "https://xn--a.com/"} {
		read := `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"` + uri + `"}}`
		if out := srv.Call(t, read, extproctest.JSON(contents)); !out.Blocked || !strings.Contains(out.Client, framework.CodePluginError) {
			t.Errorf("%q: %+v", uri, out)
		}
	}
	for _, uri := range []string{"https://EVIL.com./x", "https://%65vil.com/", "https://ｅｖｉｌ。com/"} {
		read := `{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"` + uri + `"}}`
		out := srv.Call(t, read, extproctest.JSON(contents))
		if !out.Blocked {
			t.Errorf("%q is evil.com and must be denied: %+v", uri, out)
		}
	}
}

// A comprehension over a large argument stops at the cost limit, as an
// error (fail closed), rather than running unbounded.
func TestCostLimitBoundsEvaluation(t *testing.T) {
	pl := plugintest.Load(t, `plugins:
  - name: authz
    kind: cel_policy
    config:
      default: allow
      cost_limit: 1000
      rules:
        - {name: any-secret, when: 'tool.args.items.exists(x, x.exists(y, y == "secret"))'}
`).(framework.ToolPreInvoker)
	items := "[" + strings.Repeat(`["a","b","c","d","e","f","g","h"],`, 500) + `["z"]]`
	_, err := pl.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Name: "t", Args: []byte(`{"items":` + items + `}`)}, nil)
	if err == nil || !strings.Contains(err.Error(), "cost") {
		t.Fatalf("want a cost limit error, got %v", err)
	}
	if _, err := pl.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Name: "t", Args: []byte(`{"items":[["a"]]}`)}, nil); err != nil {
		t.Fatalf("a small argument is within the limit: %v", err)
	}
}

// The audit record of a deny names the rule.
func TestAuditRecordNamesTheRule(t *testing.T) {
	cfg, _, err := framework.Parse([]byte(transferPolicy), "p.yaml", framework.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	m, err := framework.NewManager(context.Background(), cfg, framework.WithLogger(slog.New(slog.NewJSONHandler(&logs, nil))))
	if err != nil {
		t.Fatal(err)
	}
	out := m.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Name: "transfer_funds", Args: []byte(`{"amount":5000}`)},
		framework.NewContextTable(framework.GlobalContext{RequestID: "r1"}))
	if !out.Blocked() || !strings.Contains(logs.String(), `"audit":true`) || !strings.Contains(logs.String(), `"details":{"rule":"big-transfers"}`) {
		t.Fatalf("blocked %v, logs: %s", out.Blocked(), logs.String())
	}
}

// Every mistake in a rule is a configuration error at its line, naming
// plugins[i].config.rules[j].when and CEL's message.
func TestCompileErrorsNameLineAndPath(t *testing.T) {
	policy := `plugins:
  - name: other
    kind: cel_policy
    config: {default: allow, rules: [{name: ok, when: 'true'}]}
  - name: authz
    kind: cel_policy
    config:
      default: allow
      rules:
        - name: typo
          when: 'tool.nme == "x" && toool.name == "y"'
        - name: not-bool
          when: 'tool.name + "x"'
        - name: multi
          when: |
            tool.name == "a" &&
              tool.args.n > > 3
        - name: wrong-hook
          when: 'headers["x-a"] == "1"'
          hooks: [resource_pre_fetch]
        - name: typo
          action: maybe
          when: 'true'
`
	cfg, _, err := framework.Parse([]byte(policy), "authz.yaml", framework.LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = framework.Instantiate(&cfg.Plugins[1], nil)
	var ces framework.ConfigErrors
	if !errors.As(err, &ces) {
		t.Fatalf("want ConfigErrors, got %v", err)
	}
	text := err.Error()
	for _, want := range []string{
		"authz.yaml:11: plugins[1].config.rules[0].when: CEL: undeclared reference to 'toool' (did you mean 'tool'?) (expression line 1, column 20)",
		"authz.yaml:13:17: plugins[1].config.rules[1].when: CEL: the expression is of type string; a rule must be a bool",
		"authz.yaml:17: plugins[1].config.rules[2].when: CEL: Syntax error: extraneous input '>'",
		"authz.yaml:20:18: plugins[1].config.rules[3].hooks: the rule reads headers, which resource_pre_fetch does not have",
		`authz.yaml:21:17: plugins[1].config.rules[4].name: rule "typo" is defined twice`,
		`authz.yaml:22:19: plugins[1].config.rules[4].action: expected deny or allow, got "maybe"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("missing %q in:\n%s", want, text)
		}
	}
	for _, bad := range []string{
		plugintest.Policy("p", "cel_policy", `{rules: [{name: a, when: 'true'}]}`),
		plugintest.Policy("p", "cel_policy", `{default: allow}`),
		plugintest.Policy("p", "cel_policy", `{default: allow, rules: [{when: 'true'}]}`),
		plugintest.Policy("p", "cel_policy", `{default: allow, rules: [{name: a, when: 'true', hooks: [tools_lists]}]}`),
		plugintest.Policy("p", "cel_policy", `{default: allow, rules: [{name: a, when: 'item.name == "x"', hooks: [tool_pre_invoke]}]}`),
	} {
		if _, err := plugintest.Instantiate(bad); err == nil {
			t.Errorf("loaded: %s", bad)
		}
	}
}

// A has() guard keeps SSE and JSON post hooks apart from the request: the
// claims of a token with no groups claim do not match, and do not fail.
func TestClaimsGuardedWithHas(t *testing.T) {
	srv := extproctest.New(t, policytest.MCP+`plugins:
  - name: authz
    kind: cel_policy
    config:
      default: deny
      rules:
        - {name: finance, action: allow, when: 'has(claims.groups) && "finance" in claims.groups'}
`)
	for rname, resp := range policytest.Responses {
		if out := policytest.Play(t, srv, framework.ToolPostInvoke, resp); out.Blocked || strings.Contains(out.Client, `"error"`) {
			t.Errorf("%s: the finance group is allowed: %+v", rname, out)
		}
		out := policytest.Play(t, srv, framework.ToolPreInvoke, resp, "x-jwt-payload", "eyJzdWIiOiJib2IifQ")
		if !out.Blocked || !strings.Contains(out.Client, "CEL_DENIED") {
			t.Errorf("%s: bob has no groups and is denied by default: %+v", rname, out)
		}
	}
}
