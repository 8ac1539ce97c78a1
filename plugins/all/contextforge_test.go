package all_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	yaml "go.yaml.in/yaml/v3"

	"github.com/mcp-extproc/mcp-extproc/framework"
	_ "github.com/mcp-extproc/mcp-extproc/plugins/all"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

// cfConfigs are ContextForge's and cpex's own plugin files, kept beside
// the repository (../shared) as test data.
const cfConfigs = "../../../shared/compat/contextforge-configs"

// Every url_reputation, encoded_exfil and sql_sanitizer entry of
// ContextForge's published configuration files loads as written (kind by
// class path, every config key) and builds a plugin.
func TestContextForgeEntriesOfTheContentGuardsLoad(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(cfConfigs, "*.yaml"))
	if len(files) == 0 {
		t.Fatalf("no ContextForge files in %s (CI checks ../shared out beside the repository)", cfConfigs)
	}
	kinds := map[string]int{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Plugins []map[string]any `yaml:"plugins"`
		}
		if yaml.Unmarshal(raw, &doc) != nil {
			continue
		}
		for _, entry := range doc.Plugins {
			kind, _ := entry["kind"].(string)
			k, ok := framework.DefaultRegistry().Resolve(kind)
			if !ok || !slices.Contains([]string{"url_reputation", "encoded_exfil", "sql_sanitizer"}, k.Name) {
				continue
			}
			entry["mode"] = "enforce" // their files ship most of them disabled
			policy, _ := yaml.Marshal(map[string]any{"plugins": []any{entry}})
			if _, err := plugintest.Instantiate(string(policy)); err != nil {
				t.Errorf("%s: %s: %v", filepath.Base(f), kind, err)
			}
			kinds[k.Name]++
		}
	}
	for _, k := range []string{"url_reputation", "encoded_exfil", "sql_sanitizer"} {
		if kinds[k] == 0 {
			t.Errorf("no ContextForge entry of %s found", k)
		}
	}
	t.Logf("entries loaded: %v", kinds)
}
