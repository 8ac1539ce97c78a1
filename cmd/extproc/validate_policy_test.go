package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// validate on a policy with a broken CEL rule and a broken Rego file prints
// each mistake at its file:line with the engine's own message.
func TestValidateBrokenPolicyRules(t *testing.T) {
	dir := t.TempDir()
	rego := filepath.Join(dir, "authz.rego")
	if err := os.WriteFile(rego, []byte("package mcp.authz\n\nallow if {\n\tinput.tool.name == \"x\"\n\tcount(input.tool.args) >\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "policy.yaml")
	policy := `plugins:
  - name: cel
    kind: cel_policy
    config:
      default: allow
      rules:
        - name: limits
          when: 'tool.name == "transfer" && tool.args.amount >'
  - name: opa
    kind: opa_policy
    config:
      policy_files: [authz.rego]
`
	if err := os.WriteFile(p, []byte(policy), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := runCLI(t, "validate", "--config", p)
	if code != 1 || out != "" {
		t.Fatalf("exit %d, out %q, err %q", code, out, errs)
	}
	for _, want := range []string{
		"error: " + p + ":8: plugins[0].config.rules[0].when: CEL: Syntax error: mismatched input '<EOF>'",
		"error: " + rego + ":6:1: plugins[1].config.policy_files[0]: Rego: unexpected } token",
	} {
		if !strings.Contains(errs, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errs)
		}
	}
}
