package opapolicy

import (
	"fmt"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/tidwall/gjson"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/policyinput"
)

// inputValue builds the input document as OPA values: the payload's JSON
// (arguments, result) is converted in one pass from its bytes, the other
// fields from the input's plain values. It has the fields Document has that
// the policy reads (use; nil: all of them).
func inputValue(in *policyinput.Input, use *inputUse) (ast.Value, error) {
	h := in.Hook()
	vars := policyinput.Vars(h)
	obj := ast.NewObjectWithCapacity(len(vars))
	for _, name := range vars {
		if !use.needs(name) {
			continue
		}
		var v ast.Value
		var err error
		switch name {
		case policyinput.VarTool, policyinput.VarPrompt:
			sub := ast.NewObject(ast.Item(ast.InternedTerm("name"), ast.StringTerm(in.Name())))
			if h.IsPre() && use.needsArgs(name) {
				args, err := jsonToValue(in.Args(), true)
				if err != nil {
					return nil, fmt.Errorf("%s arguments: %w", name, err)
				}
				sub.Insert(ast.InternedTerm("args"), ast.NewTerm(args))
			}
			v = sub
		case policyinput.VarResult:
			if v, err = jsonToValue(in.Result(), false); err != nil {
				return nil, fmt.Errorf("result: %w", err)
			}
		case policyinput.VarItem:
			if v, err = jsonToValue(in.Item(), false); err != nil {
				return nil, fmt.Errorf("item: %w", err)
			}
		default:
			var x any
			if x, _, err = in.Value(name); err != nil {
				return nil, err
			}
			if t, ok := x.(time.Time); ok {
				x = t.Format(time.RFC3339Nano)
			}
			if v, err = ast.InterfaceToValue(x); err != nil {
				return nil, err
			}
		}
		obj.Insert(ast.InternedTerm(name), ast.NewTerm(v))
	}
	return obj, nil
}

// jsonToValue converts a payload's JSON to an OPA value
// (policyinput.ParseJSON says what it accepts).
func jsonToValue(raw []byte, object bool) (ast.Value, error) {
	r, err := policyinput.ParseJSON(raw, object)
	if err != nil {
		return nil, err
	}
	return gjsonValue(r), nil
}

func gjsonValue(r gjson.Result) ast.Value {
	switch r.Type {
	case gjson.String:
		return ast.String(r.Str)
	case gjson.True:
		return ast.Boolean(true)
	case gjson.False:
		return ast.Boolean(false)
	case gjson.Number:
		return ast.Number(r.Raw)
	case gjson.JSON:
		if r.IsArray() {
			var terms []*ast.Term
			r.ForEach(func(_, v gjson.Result) bool {
				terms = append(terms, ast.NewTerm(gjsonValue(v)))
				return true
			})
			return ast.NewArray(terms...)
		}
		obj := ast.NewObject()
		r.ForEach(func(k, v gjson.Result) bool {
			obj.Insert(ast.StringTerm(k.Str), ast.NewTerm(gjsonValue(v)))
			return true
		})
		return obj
	}
	return ast.Null{}
}
