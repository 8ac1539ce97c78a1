package opapolicy

import (
	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/policyinput"
)

// inputUse is what of the input document the compiled policy can read: the
// top-level fields it names, and whether it reads tool or prompt arguments.
// Fields no rule names are not built: converting a call's arguments and
// claims to OPA values costs more than evaluating a small policy.
type inputUse struct {
	all  bool            // the policy reads input as a whole (or by a computed key)
	top  map[string]bool // input.<field>
	args map[string]bool // input.tool.args, input.prompt.args (or the whole tool/prompt)
}

// needs reports whether the field must be in the input document.
func (u *inputUse) needs(field string) bool { return u == nil || u.all || u.top[field] }

// needsArgs reports whether tool.args / prompt.args must be built.
func (u *inputUse) needsArgs(field string) bool { return u == nil || u.all || u.args[field] }

// inputUses finds every reference to input in the modules. Anything it
// cannot read by name (input itself, input[x], input.tool[x]) means the
// whole of it, so a pruned document never hides a field a rule reads.
func inputUses(modules []*ast.Module) *inputUse {
	u := &inputUse{top: map[string]bool{}, args: map[string]bool{}}
	var visit func(x any)
	visit = func(x any) {
		ast.NewGenericVisitor(func(n any) bool {
			switch n := n.(type) {
			case ast.Ref:
				if len(n) == 0 || !n[0].Equal(ast.InputRootDocument) {
					return false // data.x[input.y]: its elements are visited
				}
				u.ref(n)
				for _, t := range n[1:] {
					visit(t) // input[data.k]
				}
				return true
			case ast.Var:
				if n.Equal(ast.InputRootDocument.Value) {
					u.all = true // input as a value: x := input, with input as …
				}
			}
			return false
		}).Walk(x)
	}
	for _, m := range modules {
		visit(m)
	}
	return u
}

// ref records one input.… reference.
func (u *inputUse) ref(r ast.Ref) {
	key, ok := stringAt(r, 1)
	if !ok {
		u.all = true
		return
	}
	u.top[key] = true
	if key != policyinput.VarTool && key != policyinput.VarPrompt {
		return
	}
	if sub, ok := stringAt(r, 2); !ok || sub == "args" {
		u.args[key] = true // input.tool, input.tool[k], input.tool.args…
	}
}

// stringAt is r[i] when it is a string term.
func stringAt(r ast.Ref, i int) (string, bool) {
	if i >= len(r) {
		return "", false
	}
	s, ok := r[i].Value.(ast.String)
	return string(s), ok
}
