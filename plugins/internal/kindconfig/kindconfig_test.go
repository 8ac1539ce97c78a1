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

// named is a kind built with NamedFactory.
type named struct {
	name string
	cfg  config
}

func init() {
	framework.Register(framework.Kind{
		Name: "kindconfig_named_test",
		New: kindconfig.NamedFactory(func() config { return config{Fold: true} }, func(name string, c config) (*named, error) {
			if len(c.Words) == 0 {
				return nil, errors.New("words: must list at least one word")
			}
			return &named{name, c}, nil
		}),
	})
}

func TestNamedFactory(t *testing.T) {
	pl, err := plugintest.Instantiate(plugintest.Policy("guard", "kindconfig_named_test", "{words: [a]}"))
	if err != nil {
		t.Fatal(err)
	}
	if n := pl.(*named); n.name != "guard" || !n.cfg.Fold || n.cfg.Words[0] != "a" {
		t.Fatalf("built %+v", n)
	}
	_, err = plugintest.Instantiate(plugintest.Policy("guard", "kindconfig_named_test", "{}"))
	if err == nil || !strings.Contains(err.Error(), `"guard": config.words: must list at least one word`) {
		t.Fatalf("err = %v", err)
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
