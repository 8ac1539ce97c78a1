package framework

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// probe is a test plugin whose behaviour is set by its config: it lets the
// tests drive every mode against every outcome.
type probe struct {
	name   string
	cfg    probeConfig
	mu     sync.Mutex
	calls  []HookType
	seen   []string // the trail it saw, per call
	states []any    // its plugin state "count" seen in each call
}

type probeConfig struct {
	// Action is continue, modify, violation, error, timeout (honours ctx),
	// hang (ignores ctx) or panic.
	Action string `yaml:"action"`
	// Sleep delays the call, honouring ctx.
	Sleep Duration `yaml:"sleep"`
	// Barrier, when set, is waited on (concurrency tests).
	Barrier string `yaml:"barrier"`
	Code    string `yaml:"code"`
}

var (
	probes   sync.Map // name -> *probe
	barriers sync.Map // name -> *sync.WaitGroup
)

func probeKind() Kind {
	return Kind{
		Name:        "probe",
		Aliases:     []string{"tests.probe.ProbePlugin"},
		Description: "test plugin",
		Hooks:       []HookType{ToolPreInvoke, ToolPostInvoke, PromptPreFetch, ResourcePostFetch},
		Defaults:    probeConfig{Action: "continue"},
		New: func(pc *PluginConfig) (Plugin, error) {
			p := &probe{name: pc.Name, cfg: probeConfig{Action: "continue", Code: "PROBE"}}
			if err := pc.DecodeConfig(&p.cfg); err != nil {
				return nil, err
			}
			switch p.cfg.Action {
			case "continue", "modify", "violation", "error", "timeout", "hang", "panic":
			default:
				return nil, fmt.Errorf("unknown action %q", p.cfg.Action)
			}
			probes.Store(pc.Name, p)
			return p, nil
		},
	}
}

func testRegistry() *Registry {
	r := NewRegistry()
	r.Register(probeKind())
	inline := probeKind()
	inline.Name, inline.Aliases, inline.Inline = "probe_inline", nil, true
	r.Register(inline)
	r.Register(Kind{Name: "pii_filter", Aliases: []string{"plugins.pii_filter.pii_filter.PIIFilterPlugin"}, Hooks: ImplementedHooks(&probe{}),
		New: func(*PluginConfig) (Plugin, error) { return &probe{cfg: probeConfig{Action: "continue"}}, nil }})
	r.Register(Kind{Name: "regex_filter", Aliases: []string{"plugins.regex_filter.search_replace.SearchReplacePlugin"}, Hooks: ImplementedHooks(&probe{}),
		New: func(*PluginConfig) (Plugin, error) { return &probe{cfg: probeConfig{Action: "continue"}}, nil }})
	r.Register(Kind{Name: "deny_list", Aliases: []string{"plugins.deny_filter.deny.DenyListPlugin"}, Hooks: []HookType{PromptPreFetch, ToolPreInvoke},
		New: func(*PluginConfig) (Plugin, error) { return &probe{cfg: probeConfig{Action: "continue"}}, nil }})
	return r
}

func getProbe(t testing.TB, name string) *probe {
	t.Helper()
	v, ok := probes.Load(name)
	if !ok {
		t.Fatalf("no probe %q", name)
	}
	return v.(*probe)
}

// act runs the configured behaviour; modify appends the probe's name to the
// "trail" string of the JSON object it is given.
func (p *probe) act(ctx context.Context, h HookType, raw json.RawMessage, pc *PluginContext) (json.RawMessage, *Violation, error) {
	var obj map[string]any
	_ = json.Unmarshal(raw, &obj)
	trail, _ := obj["trail"].(string)
	p.mu.Lock()
	p.calls = append(p.calls, h)
	p.seen = append(p.seen, trail)
	if pc != nil {
		p.states = append(p.states, pc.State["count"])
	}
	p.mu.Unlock()
	if pc != nil {
		n, _ := pc.State["count"].(int)
		if pc.State == nil {
			pc.State = map[string]any{}
		}
		pc.State["count"] = n + 1
	}
	if p.cfg.Barrier != "" {
		if wg, ok := barriers.Load(p.cfg.Barrier); ok {
			wg.(*sync.WaitGroup).Done()
			wg.(*sync.WaitGroup).Wait()
		}
	}
	if p.cfg.Sleep > 0 {
		select {
		case <-time.After(p.cfg.Sleep.Std()):
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	}
	switch p.cfg.Action {
	case "modify":
		if obj == nil {
			obj = map[string]any{}
		}
		obj["trail"] = trail + p.name
		b, _ := json.Marshal(obj)
		return b, nil, nil
	case "violation":
		return nil, &Violation{Reason: "probe says no", Description: "blocked by " + p.name, Code: p.cfg.Code, MCPErrorCode: -32099, Details: map[string]any{"field": "args.x"}}, nil
	case "error":
		return nil, nil, errors.New("probe failure with internal detail")
	case "timeout":
		<-ctx.Done()
		return nil, nil, ctx.Err()
	case "hang":
		time.Sleep(300 * time.Millisecond)
		return nil, nil, nil
	case "panic":
		panic("probe panic")
	}
	return nil, nil, nil
}

func (p *probe) ToolPreInvoke(ctx context.Context, in *ToolPreInvokePayload, pc *PluginContext) (Result[ToolPreInvokePayload], error) {
	mod, v, err := p.act(ctx, ToolPreInvoke, in.Args, pc)
	if err != nil || v != nil {
		return Result[ToolPreInvokePayload]{Violation: v}, err
	}
	if mod != nil {
		return Result[ToolPreInvokePayload]{ModifiedPayload: &ToolPreInvokePayload{Name: in.Name, Args: mod, Headers: in.Headers}}, nil
	}
	return Result[ToolPreInvokePayload]{}, nil
}

func (p *probe) ToolPostInvoke(ctx context.Context, in *ToolPostInvokePayload, pc *PluginContext) (Result[ToolPostInvokePayload], error) {
	mod, v, err := p.act(ctx, ToolPostInvoke, in.Result, pc)
	if err != nil || v != nil {
		return Result[ToolPostInvokePayload]{Violation: v}, err
	}
	if mod != nil {
		return Result[ToolPostInvokePayload]{ModifiedPayload: &ToolPostInvokePayload{Name: in.Name, Result: mod}}, nil
	}
	return Result[ToolPostInvokePayload]{}, nil
}

func (p *probe) PromptPreFetch(ctx context.Context, in *PromptPreFetchPayload, pc *PluginContext) (Result[PromptPreFetchPayload], error) {
	_, v, err := p.act(ctx, PromptPreFetch, in.Args, pc)
	return Result[PromptPreFetchPayload]{Violation: v}, err
}

func (p *probe) ResourcePostFetch(ctx context.Context, in *ResourcePostFetchPayload, pc *PluginContext) (Result[ResourcePostFetchPayload], error) {
	_, v, err := p.act(ctx, ResourcePostFetch, in.Content, pc)
	return Result[ResourcePostFetchPayload]{Violation: v}, err
}

func (p *probe) callCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.calls)
}
