package kindconfig_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/kindconfig"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

type config struct {
	Words []string `yaml:"words"`
	Fold  bool     `yaml:"fold"`
}

type plugin struct{ cfg config }

var errEmpty = errors.New("config.words: must list at least one word")

func build(c config) (*plugin, error) {
	if len(c.Words) == 0 {
		return nil, errEmpty
	}
	return &plugin{c}, nil
}

func init() {
	framework.Register(framework.Kind{
		Name:     "kindconfig_test",
		Defaults: config{Fold: true},
		New:      kindconfig.Factory(func() config { return config{Fold: true} }, build),
	})
}

type named struct{ name string }

func init() {
	framework.Register(framework.Kind{
		Name: "kindconfig_named_test",
		New:  kindconfig.NamedFactory(func() config { return config{} }, func(name string, _ config) (*named, error) { return &named{name}, nil }),
	})
}

func TestNamedFactory(t *testing.T) {
	pl, err := plugintest.Instantiate(plugintest.Policy("limits-a", "kindconfig_named_test", "{}"))
	if p, ok := pl.(*named); err != nil || !ok || p.name != "limits-a" {
		t.Fatalf("name not passed: %+v, %v", pl, err)
	}
}

func load(config string) (framework.Plugin, error) {
	return plugintest.Instantiate(plugintest.Policy("x", "kindconfig_test", config))
}

func TestFactory(t *testing.T) {
	pl, err := load("{words: [a, b]}")
	if p, ok := pl.(*plugin); err != nil || !ok || strings.Join(p.cfg.Words, ",") != "a,b" || !p.cfg.Fold {
		t.Fatalf("decoded over defaults: %+v, %v", pl, err)
	}
	if _, err := load("{fold: false}"); !errors.Is(err, errEmpty) {
		t.Fatalf("build error: %v", err)
	}
	if _, err := load("{word: [a]}"); err == nil || !strings.Contains(err.Error(), `unknown key "word"`) {
		t.Fatalf("decode error: %v", err)
	}
}

// An enum setting's error lists the choices and suggests the likely one.
func TestBadChoice(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{"redakt", `config.action: "redakt" is not one of block, redact, log (did you mean "redact"?)`},
		{"Block", `config.action: "Block" is not one of block, redact, log (did you mean "block"?)`},
		{"quarantine", `config.action: "quarantine" is not one of block, redact, log`},
	} {
		if err := kindconfig.BadChoice("config.action", c.got, "block", "redact", "log"); err == nil || err.Error() != c.want {
			t.Errorf("%q: %v, want %s", c.got, err, c.want)
		}
	}
}
