package opapolicy_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/logging"
	"github.com/open-policy-agent/opa/v1/runtime"

	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

// startOPA runs OPA's own server (its runtime package, as `opa run
// --server` does) on 127.0.0.1 with the given policy and data files, and
// returns its base URL.
func startOPA(t *testing.T, paths ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	params := runtime.NewParams()
	params.Addrs = &[]string{"127.0.0.1:0"}
	params.Paths = paths
	params.Output = io.Discard
	params.Logger = logging.NewNoOpLogger()
	params.ConsoleLogger = logging.NewNoOpLogger()
	rt, err := runtime.NewRuntime(ctx, params)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = rt.Serve(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	deadline := time.Now().Add(10 * time.Second)
	for len(rt.Addrs()) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("OPA server did not start")
		}
		time.Sleep(10 * time.Millisecond)
	}
	return "http://" + rt.Addrs()[0]
}

// The same policy and data, asked of a real OPA server's data API, decide
// the same way as compiled in; an undefined decision denies; a server that
// is gone fails closed.
func TestRemoteOPAServer(t *testing.T) {
	base := startOPA(t, "testdata/authz.rego", "testdata/limits.json")
	srv := extproctest.New(t, transferPolicy(`      url: `+base))
	checkTransfers(t, srv)

	undefined := extproctest.New(t, strings.Replace(transferPolicy(`      url: `+base), "data.mcp.authz.decision", "data.mcp.nothing", 1))
	if out := undefined.Call(t, strings.Replace(transferCall, "AMOUNT", "1", 1), extproctest.JSON(okResult)); !out.Blocked ||
		!strings.Contains(out.Client, `"message":"the policy decision is undefined: policy data.mcp.nothing denied this tool_pre_invoke"`) {
		t.Errorf("an undefined decision must deny: %+v", out)
	}

	gone := extproctest.New(t, transferPolicy(`      url: http://127.0.0.1:1`))
	if out := gone.Call(t, strings.Replace(transferCall, "AMOUNT", "1", 1), extproctest.JSON(okResult)); !out.Blocked ||
		!strings.Contains(out.Client, framework.CodePluginError) {
		t.Errorf("an unreachable OPA server must fail closed: %+v", out)
	}
}

func writeRego(t *testing.T, src string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "authz.rego")
	if err := os.WriteFile(f, []byte(src), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// A decision of the wrong shape is an error (fail closed), not a pass.
func TestMalformedDecisionFailsClosed(t *testing.T) {
	for _, decision := range []string{`"yes"`, `{"allowed": true}`, `{"allow": "true"}`, `{"allow": false, "code": 7}`} {
		f := writeRego(t, "package mcp\n\nauthz := "+decision+"\n")
		pl := plugintest.Load(t, plugintest.Policy("p", "opa_policy", `{policy_files: ["`+f+`"]}`)).(framework.ToolPreInvoker)
		_, err := pl.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Name: "x", Args: []byte(`{}`)}, nil)
		if err == nil {
			t.Errorf("decision %s: want an error", decision)
		}
	}
}

// Rego mistakes are configuration errors at the Rego file's line, with
// OPA's message; policy-file mistakes at their key.
func TestLoadErrorsNameFileAndLine(t *testing.T) {
	f := writeRego(t, "package mcp.authz\n\nallow if {\n\tinput.tool.name ==\n}\n")
	_, err := plugintest.Instantiate(plugintest.Policy("p", "opa_policy", `{policy_files: ["`+f+`"]}`))
	var ces framework.ConfigErrors
	if !errors.As(err, &ces) || !strings.Contains(err.Error(), f+":5:") || !strings.Contains(err.Error(), "Rego: ") {
		t.Fatalf("want an error at %s:5, got %v", f, err)
	}
	f = writeRego(t, "package mcp.authz\n\nallow if {\n\tundefined_function(input.x)\n}\n")
	_, err = plugintest.Instantiate(plugintest.Policy("p", "opa_policy", `{policy_files: ["`+f+`"]}`))
	if !strings.Contains(err.Error(), f+":4:") || !strings.Contains(err.Error(), "undefined function undefined_function") {
		t.Fatalf("want an error at %s:4, got %v", f, err)
	}
	for bad, want := range map[string]string{
		`{}`: "set exactly one of policy_files, bundle and url",
		`{policy_files: [testdata/authz.rego], url: "http://127.0.0.1:8181"}`: "set exactly one",
		`{policy_files: [testdata/nope.rego]}`:                                "policy_files[0]",
		`{url: "ftp://x"}`:                                                    "plugins[0].config.url",
		`{url: "http://127.0.0.1:8181", query: "input.x"}`:                    "plugins[0].config.query",
		`{bundle: testdata/bundle, data_files: [testdata/authz.rego]}`:        "is Rego",
		`{bundle: testdata/bundle, headers: {a: b}}`:                          "only used with url",
	} {
		_, err := plugintest.Instantiate(plugintest.Policy("p", "opa_policy", bad))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: want %q, got %v", bad, want, err)
		}
	}
}
