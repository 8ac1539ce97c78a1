package framework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// textReader is a plugin that reads the strings of the tool arguments
// through PluginContext.Text, notes what it saw, and, with rewrite set,
// upper-cases every value.
type textReader struct {
	name    string
	rewrite bool
	seen    *textLog
}

type textLog struct {
	mu    sync.Mutex
	texts map[string]*mcpparse.Text // by plugin name
	vals  map[string]string
}

func (r *textReader) ToolPreInvoke(_ context.Context, pl *ToolPreInvokePayload, pc *PluginContext) (Result[ToolPreInvokePayload], error) {
	t, err := pc.Text(pl.Args)
	if err != nil {
		return Result[ToolPreInvokePayload]{}, err
	}
	var vals []string
	var edits []mcpparse.TextEdit
	for i, s := range t.Strings {
		if !s.Path.IsKey() {
			vals = append(vals, s.Value)
			edits = append(edits, mcpparse.TextEdit{Index: i, Value: strings.ToUpper(s.Value)})
		}
	}
	r.seen.mu.Lock()
	r.seen.texts[r.name], r.seen.vals[r.name] = t, strings.Join(vals, ",")
	r.seen.mu.Unlock()
	if !r.rewrite {
		return Result[ToolPreInvokePayload]{}, nil
	}
	out, _ := t.Replace(edits)
	return Result[ToolPreInvokePayload]{ModifiedPayload: &ToolPreInvokePayload{Name: pl.Name, Args: out}}, nil
}

func textManager(t *testing.T, inline bool, mode Mode, rewriters map[string]bool, names ...string) (*Manager, *textLog) {
	t.Helper()
	log := &textLog{texts: map[string]*mcpparse.Text{}, vals: map[string]string{}}
	reg := NewRegistry()
	reg.Register(Kind{Name: "reader", Hooks: []HookType{ToolPreInvoke}, Inline: inline, New: func(pc *PluginConfig) (Plugin, error) {
		return &textReader{name: pc.Name, rewrite: rewriters[pc.Name], seen: log}, nil
	}})
	cfg := DefaultConfig()
	for i, n := range names {
		pc := defaultPluginConfig()
		pc.Name, pc.Kind, pc.Index, pc.Mode = n, "reader", i, mode
		cfg.Plugins = append(cfg.Plugins, pc)
	}
	m, err := NewManager(context.Background(), &cfg, WithRegistry(reg))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown(context.Background()) })
	return m, log
}

// The plugins of one hook run share one decoding of the payload's strings;
// a plugin that rewrites the payload hands the next ones a decoding of the
// new bytes; the next run decodes afresh and the table keeps nothing.
func TestTextOncePerRun(t *testing.T) {
	for _, inline := range []bool{true, false} {
		t.Run(fmt.Sprintf("inline=%v", inline), func(t *testing.T) {
			m, log := textManager(t, inline, ModeEnforce, map[string]bool{"b": true}, "a", "b", "c", "d")
			tbl := NewContextTable(GlobalContext{RequestID: "r"})
			p := &ToolPreInvokePayload{Name: "t", Args: json.RawMessage(`{"q":"hello","n":[1,"two"]}`)}
			o := m.ToolPreInvoke(context.Background(), p, tbl)
			if o.Violation != nil || !o.Modified || string(o.Payload.Args) != `{"q":"HELLO","n":[1,"TWO"]}` {
				t.Fatalf("outcome %+v, args %s", o, o.Payload.Args)
			}
			tx := log.texts
			if tx["a"] != tx["b"] || tx["c"] != tx["d"] || tx["b"] == tx["c"] {
				t.Fatalf("texts a=%p b=%p c=%p d=%p: want a=b (the input) and c=d (b's rewrite)", tx["a"], tx["b"], tx["c"], tx["d"])
			}
			if log.vals["a"] != "hello,two" || log.vals["c"] != "HELLO,TWO" || log.vals["d"] != "HELLO,TWO" {
				t.Fatalf("values seen %v", log.vals)
			}
			if tbl.Global.text != nil {
				t.Fatal("the table's global context keeps the run's text")
			}
			for _, e := range tbl.text.entries {
				if e.raw != nil || e.text != nil {
					t.Fatal("the table keeps the run's text")
				}
			}
		})
	}
}

// Concurrent plugins share the run's decoding too (run with -race).
func TestTextConcurrentPlugins(t *testing.T) {
	m, log := textManager(t, false, ModeConcurrent, nil, "a", "b", "c")
	p := &ToolPreInvokePayload{Name: "t", Args: json.RawMessage(`{"q":"hello"}`)}
	for range 20 {
		if o := m.ToolPreInvoke(context.Background(), p, NewContextTable(GlobalContext{})); o.Violation != nil || o.Modified {
			t.Fatalf("outcome %+v", o)
		}
		if log.texts["a"] != log.texts["b"] || log.texts["b"] != log.texts["c"] {
			t.Fatal("concurrent plugins decoded the payload each")
		}
	}
}

// Outside a hook run a plugin still gets its text, decoded for it alone,
// and bad JSON is mcpparse's error.
func TestTextOutsideRun(t *testing.T) {
	var pc *PluginContext
	tx, err := pc.Text([]byte(`{"a":"b"}`))
	if err != nil || len(tx.Strings) != 2 || tx.Strings[1].Value != "b" {
		t.Fatalf("nil context: %v, %v", tx, err)
	}
	_, err = (&PluginContext{Global: &GlobalContext{}}).Text([]byte(`{"a":`))
	var perr *mcpparse.Error
	if err == nil || !errors.As(err, &perr) {
		t.Fatalf("bad JSON: %v", err)
	}
}
