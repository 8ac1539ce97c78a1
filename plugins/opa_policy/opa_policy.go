package opapolicy

import (
	"context"
	"fmt"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/metrics"
	"github.com/open-policy-agent/opa/v1/rego"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/policyinput"
)

// Plugin asks OPA for a decision on every hook call. It is safe for
// concurrent calls.
type Plugin struct {
	// HookMethods are the hooks: each builds the call's input and decides.
	policyinput.HookMethods
	query    string
	prepared *rego.PreparedEvalQuery // embedded
	uses     *inputUse               // what of the input its rules read
	remote   *remote                 // or an OPA server
}

var (
	_ framework.ToolPreInvoker      = (*Plugin)(nil)
	_ framework.ToolPostInvoker     = (*Plugin)(nil)
	_ framework.PromptPreFetcher    = (*Plugin)(nil)
	_ framework.PromptPostFetcher   = (*Plugin)(nil)
	_ framework.ResourcePreFetcher  = (*Plugin)(nil)
	_ framework.ResourcePostFetcher = (*Plugin)(nil)
)

// decide evaluates the query on the call's input document and reads the
// decision. An input that cannot be built, a query that fails and a
// decision of the wrong shape are errors, never a pass.
func (p *Plugin) decide(ctx context.Context, in *policyinput.Input) (*framework.Violation, error) {
	var result any
	var defined bool
	var err error
	if p.remote != nil {
		doc, derr := in.Document()
		if derr != nil {
			return nil, fmt.Errorf("opa_policy input on %s: %w", in.Hook(), derr)
		}
		result, defined, err = p.remote.decide(ctx, doc)
	} else {
		input, ierr := inputValue(in, p.uses)
		if ierr != nil {
			return nil, fmt.Errorf("opa_policy input on %s: %w", in.Hook(), ierr)
		}
		result, defined, err = p.eval(ctx, input)
	}
	if err != nil {
		return nil, fmt.Errorf("opa_policy query %s on %s: %w", p.query, in.Hook(), err)
	}
	d, err := readDecision(result, defined)
	if err != nil {
		return nil, fmt.Errorf("opa_policy query %s on %s: %w", p.query, in.Hook(), err)
	}
	if d.allow {
		return nil, nil
	}
	rule := d.rule
	if rule == "" {
		rule = p.query
	}
	reason := d.reason
	if reason == "" {
		reason = "denied by policy " + p.query
	}
	code := d.code
	if code == "" {
		code = CodeDenied
	}
	return &framework.Violation{
		Reason:      reason,
		Description: fmt.Sprintf("policy %s denied this %s", rule, in.Hook()),
		Code:        code,
		Details:     map[string]any{"rule": rule},
	}, nil
}

// decision is what the query answered.
type decision struct {
	allow              bool
	reason, code, rule string
}

// readDecision accepts a bare boolean or an object with a boolean allow and
// optional string reason, code and rule. Undefined denies.
func readDecision(v any, defined bool) (decision, error) {
	if !defined {
		return decision{reason: "the policy decision is undefined"}, nil
	}
	switch x := v.(type) {
	case bool:
		return decision{allow: x}, nil
	case map[string]any:
		allow, ok := x["allow"].(bool)
		if !ok {
			return decision{}, fmt.Errorf("the decision has no boolean allow: %v", x["allow"])
		}
		d := decision{allow: allow}
		for key, dst := range map[string]*string{"reason": &d.reason, "code": &d.code, "rule": &d.rule} {
			switch s := x[key].(type) {
			case nil:
			case string:
				*dst = s
			default:
				return decision{}, fmt.Errorf("the decision's %s is not a string", key)
			}
		}
		return d, nil
	}
	return decision{}, fmt.Errorf("the decision is %T, want a boolean or {allow, reason, code}", v)
}

// noMetrics spares each evaluation the timers OPA would otherwise make and
// nobody reads.
var noMetrics = metrics.NoOp()

// eval runs the prepared query on the input document.
func (p *Plugin) eval(ctx context.Context, input ast.Value) (any, bool, error) {
	rs, err := p.prepared.Eval(ctx, rego.EvalParsedInput(input), rego.EvalMetrics(noMetrics))
	if err != nil || len(rs) == 0 || len(rs[0].Expressions) == 0 {
		return nil, false, err
	}
	return rs[0].Expressions[0].Value, true, nil
}
