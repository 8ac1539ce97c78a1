package secretsdetection_test

import (
	"strings"
	"testing"

	secretsdetection "github.com/mcp-extproc/mcp-extproc/plugins/secrets_detection"
)

func TestExportedDetector(t *testing.T) {
	d, err := secretsdetection.NewDetector(secretsdetection.DefaultConfig())
	if err != nil {
		t.Fatal(err)
	}
	s := "token " + ghToken + " end"
	got := d.Find(s, nil)
	if len(got) != 1 || got[0].Type != secretsdetection.TypeGitHubToken || s[got[0].Start:got[0].End] != ghToken {
		t.Fatalf("found %+v", got)
	}
	if got := d.Find("nothing to see", nil); len(got) != 0 {
		t.Fatalf("found %+v", got)
	}
	// Detection settings count; action settings do not.
	cfg := secretsdetection.DefaultConfig()
	cfg.Enabled = map[string]bool{"github": false}
	cfg.Action, cfg.Redact = "", true
	d, err = secretsdetection.NewDetector(cfg)
	if err != nil || len(d.Find(s, nil)) != 0 {
		t.Fatalf("github disabled: %v", err)
	}
	cfg = secretsdetection.DefaultConfig()
	cfg.Enabled = map[string]bool{"no_such_type": true}
	if _, err := secretsdetection.NewDetector(cfg); err == nil || !strings.Contains(err.Error(), "enabled.no_such_type") {
		t.Fatalf("bad type: %v", err)
	}
}
