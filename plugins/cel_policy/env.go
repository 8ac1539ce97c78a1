package celpolicy

import (
	"fmt"
	"slices"
	"strings"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/ext"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/policyinput"
)

// varTypes declares every variable rules may read, with its CEL type. Maps
// are read with field selection (tool.args.amount) and guarded with has();
// the values inside arguments, claims and results are dynamic.
var varTypes = map[string]*cel.Type{
	policyinput.VarHook:     cel.StringType,
	policyinput.VarMethod:   cel.StringType,
	policyinput.VarUser:     cel.StringType,
	policyinput.VarTenant:   cel.StringType,
	policyinput.VarServer:   cel.StringType,
	policyinput.VarClaims:   cel.MapType(cel.StringType, cel.DynType),
	policyinput.VarNow:      cel.TimestampType,
	policyinput.VarTool:     cel.MapType(cel.StringType, cel.DynType),
	policyinput.VarPrompt:   cel.MapType(cel.StringType, cel.DynType),
	policyinput.VarResource: cel.MapType(cel.StringType, cel.StringType),
	policyinput.VarHeaders:  cel.MapType(cel.StringType, cel.StringType),
	policyinput.VarResult:   cel.DynType,
	policyinput.VarItem:     cel.DynType,
}

// interruptEvery is how many comprehension iterations run between checks
// of the call's deadline.
const interruptEvery = 100

// newEnv is the CEL environment every rule compiles in: the variables, the
// standard library with numbers of different types comparable (1500 >
// 1000.0), optional field selection (tool.args.?limit.orValue(0)) and the
// strings and sets extensions.
func newEnv() (*cel.Env, error) {
	opts := []cel.EnvOption{
		cel.CrossTypeNumericComparisons(true),
		cel.OptionalTypes(),
		ext.Strings(),
		ext.Sets(),
	}
	for _, name := range policyinput.All {
		opts = append(opts, cel.Variable(name, varTypes[name]))
	}
	return cel.NewEnv(opts...)
}

// compileError is one CEL message, with the line inside the expression it
// points at.
type compileError struct {
	line int
	msg  string
}

// compile parses and type-checks a rule, checks that it yields a bool, and
// returns its program and the variables it reads.
func compile(env *cel.Env, expr string, costLimit uint64) (*program, []string, []compileError) {
	ast, iss := env.Compile(expr)
	if iss.Err() != nil {
		var out []compileError
		for _, e := range iss.Errors() {
			line, col := e.Location.Line(), e.Location.Column()
			msg := "CEL: " + e.Message
			if line > 0 {
				msg = fmt.Sprintf("CEL: %s (expression line %d, column %d)", e.Message, line, col+1)
			} else {
				line = 0
			}
			out = append(out, compileError{line: line, msg: msg})
		}
		return nil, nil, out
	}
	// A dyn expression (tool.args.approved) may be a bool; it is checked
	// when evaluated.
	if t := ast.OutputType(); !t.IsExactType(cel.BoolType) && !t.IsExactType(cel.DynType) {
		return nil, nil, []compileError{{msg: fmt.Sprintf("CEL: the expression is of type %s; a rule must be a bool", t)}}
	}
	// Without a comprehension (all, exists, map, filter…) an evaluation does
	// work bounded by the expression's length and the payload's size, and
	// needs no tracking; with one, the cost limit and the call's deadline
	// bound it.
	opts := []cel.ProgramOption{cel.EvalOptions(cel.OptOptimize)}
	loops := hasComprehension(ast)
	if loops {
		opts = append(opts, cel.CostLimit(costLimit), cel.InterruptCheckFrequency(interruptEvery))
	}
	prg, err := env.Program(ast, opts...)
	if err != nil {
		return nil, nil, []compileError{{msg: "CEL: " + err.Error()}}
	}
	return &program{prg: prg, tracked: loops}, usedVars(ast), nil
}

// program is a compiled rule; tracked ones are evaluated under the cost
// limit and the context's deadline.
type program struct {
	prg     cel.Program
	tracked bool
}

func hasComprehension(ast *cel.Ast) bool {
	found := false
	celast.PreOrderVisit(ast.NativeRep().Expr(), celast.NewExprVisitor(func(e celast.Expr) {
		if e.Kind() == celast.ComprehensionKind {
			found = true
		}
	}))
	return found
}

// usedVars lists the declared variables the checked expression refers to.
func usedVars(ast *cel.Ast) []string {
	var used []string
	for _, ref := range ast.NativeRep().ReferenceMap() {
		if len(ref.OverloadIDs) > 0 {
			continue
		}
		name, _, _ := strings.Cut(ref.Name, ".")
		if _, ok := varTypes[name]; ok && !slices.Contains(used, name) {
			used = append(used, name)
		}
	}
	slices.Sort(used)
	return used
}
