package celpolicy

import (
	"context"
	"fmt"

	"cel.dev/cel-go/common/types"
	"cel.dev/cel-go/common/types/ref"
	"cel.dev/cel-go/interpreter"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/policyinput"
)

// Plugin is a compiled cel_policy: its rules, grouped by the hooks they run
// on, in file order. It is safe for concurrent calls.
type Plugin struct {
	// HookMethods are the hooks: each builds the call's input and decides.
	policyinput.HookMethods
	byHook      map[framework.HookType][]*rule
	defaultDeny bool
}

// rule is one compiled rule.
type rule struct {
	name   string
	deny   bool
	prg    *program
	reason string
	code   string
}

var (
	_ framework.ToolPreInvoker      = (*Plugin)(nil)
	_ framework.ToolPostInvoker     = (*Plugin)(nil)
	_ framework.PromptPreFetcher    = (*Plugin)(nil)
	_ framework.PromptPostFetcher   = (*Plugin)(nil)
	_ framework.ResourcePreFetcher  = (*Plugin)(nil)
	_ framework.ResourcePostFetcher = (*Plugin)(nil)
)

// decide runs the hook's rules in order: the first that holds decides, then
// the default. A rule that cannot be evaluated is an error, never a pass.
func (p *Plugin) decide(ctx context.Context, in *policyinput.Input) (*framework.Violation, error) {
	act := &activation{in: in}
	for _, r := range p.byHook[in.Hook()] {
		holds, err := r.eval(ctx, act)
		if err != nil {
			return nil, fmt.Errorf("cel_policy rule %q on %s: %w", r.name, in.Hook(), err)
		}
		if !holds {
			continue
		}
		if !r.deny {
			return nil, nil
		}
		return &framework.Violation{
			Reason:      r.reason,
			Description: fmt.Sprintf("policy rule %s denied this %s", r.name, in.Hook()),
			Code:        r.code,
			Details:     map[string]any{"rule": r.name},
		}, nil
	}
	if !p.defaultDeny {
		return nil, nil
	}
	return &framework.Violation{
		Reason:      "denied by policy: no rule allows this",
		Description: fmt.Sprintf("no policy rule allowed this %s and the default is deny", in.Hook()),
		Code:        CodeDenied,
		Details:     map[string]any{"rule": "default"},
	}, nil
}

func (r *rule) eval(ctx context.Context, act *activation) (bool, error) {
	var out ref.Val
	var err error
	if r.prg.tracked {
		out, _, err = r.prg.prg.ContextEval(ctx, act)
	} else {
		out, _, err = r.prg.prg.Eval(act)
	}
	if act.err != nil {
		// The variable could not be built (a host that does not
		// normalise): say that, not CEL's "no such attribute".
		return false, act.err
	}
	if err != nil {
		return false, err
	}
	b, ok := out.(types.Bool)
	if !ok {
		return false, fmt.Errorf("the expression yielded %s, not a bool", out.Type())
	}
	return bool(b), nil
}

// activation resolves a rule's variables from the input, building each
// only when a rule reads it.
type activation struct {
	in  *policyinput.Input
	err error
	// subject (tool or prompt) and result, once built
	subject, result any
}

var _ interpreter.Activation = (*activation)(nil)

func (a *activation) ResolveName(name string) (any, bool) {
	v, ok, err := a.resolve(name)
	if err != nil {
		if a.err == nil {
			a.err = err
		}
		return nil, false
	}
	if v == nil && ok {
		return types.NullValue, true
	}
	return v, ok
}

func (a *activation) Parent() interpreter.Activation { return nil }

// resolve reads the payload's JSON (arguments, result) in place; the other
// variables come from the input as plain values.
func (a *activation) resolve(name string) (any, bool, error) {
	h := a.in.Hook()
	if !policyinput.Has(h, name) {
		return nil, false, nil
	}
	switch name {
	case policyinput.VarTool, policyinput.VarPrompt:
		if a.subject != nil {
			return a.subject, true, nil
		}
		if !h.IsPre() {
			a.subject = map[string]any{"name": a.in.Name()}
			return a.subject, true, nil
		}
		args, err := newJSON(a.in.Args(), true)
		if err != nil {
			return nil, true, fmt.Errorf("%s arguments: %w", name, err)
		}
		a.subject = map[string]any{"name": a.in.Name(), "args": args}
		return a.subject, true, nil
	case policyinput.VarResult:
		if a.result != nil {
			return a.result, true, nil
		}
		if len(a.in.Result()) == 0 {
			return types.NullValue, true, nil
		}
		v, err := newJSON(a.in.Result(), false)
		if err != nil {
			return nil, true, fmt.Errorf("result: %w", err)
		}
		a.result = v
		return v, true, nil
	case policyinput.VarItem:
		v, err := newJSON(a.in.Item(), false)
		if err != nil {
			return nil, true, fmt.Errorf("item: %w", err)
		}
		return v, true, nil
	}
	return a.in.Value(name)
}
