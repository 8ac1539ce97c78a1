package celpolicy

import (
	"fmt"
	"slices"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/kindconfig"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/policyinput"
)

// KindName is the kind's name in plugins[].kind.
const KindName = "cel_policy"

// CodeDenied is the violation code of a deny that names no code of its own.
const CodeDenied = "CEL_DENIED"

// DefaultCostLimit bounds one rule's evaluation, in CEL cost units (about
// one per operation; a comprehension costs per element).
const DefaultCostLimit = 100000

// Config is the kind's settings (plugins[].config).
type Config struct {
	// Default is what happens when no rule matches: allow or deny. It must
	// be set: a policy says which way it fails.
	Default string `yaml:"default"`
	// Rules are evaluated in order; the first whose when holds decides.
	Rules []Rule `yaml:"rules"`
	// CostLimit bounds each rule's evaluation; over it the evaluation is an
	// error (handled by on_error).
	CostLimit int `yaml:"cost_limit"`
}

// Rule is one condition and what it decides.
type Rule struct {
	// Name identifies the rule in violations and audit records.
	Name string `yaml:"name"`
	// Action is deny (the default) or allow.
	Action string `yaml:"action"`
	// When is a CEL expression of type bool.
	When string `yaml:"when"`
	// Reason is the message the client gets for a deny.
	Reason string `yaml:"reason"`
	// Code is the violation code of a deny (default CEL_DENIED).
	Code string `yaml:"code"`
	// Hooks restricts the rule to these hooks; empty means every hook
	// that has all the variables the rule reads.
	Hooks []string `yaml:"hooks"`
}

// DefaultConfig returns the settings a plugin gets when its config says nothing.
func DefaultConfig() Config { return Config{Rules: []Rule{}, CostLimit: DefaultCostLimit} }

func init() {
	framework.Register(framework.Kind{
		Name:        KindName,
		Description: "allow or deny calls with ordered CEL rules over tool, arguments, resource, identity, claims and results",
		Hooks:       policyinput.Hooks(),
		Defaults:    DefaultConfig(),
		New:         kindconfig.PositionedFactory(DefaultConfig, New),
	})
}

// New compiles cfg into a plugin. Mistakes are framework.ConfigErrors at the
// offending value's line (pc locates them; it may be a bare PluginConfig).
func New(cfg Config, pc *framework.PluginConfig) (*Plugin, error) {
	var errs framework.ConfigErrors
	bad := func(path string, line int, format string, args ...any) {
		errs = append(errs, pc.ConfigError(path, line, fmt.Sprintf(format, args...), nil))
	}
	p := &Plugin{byHook: map[framework.HookType][]*rule{}}
	p.Decide = p.decide
	// A list hook runs only the rules written for it (listing the hook, or
	// reading item); with none, the list passes and default does not apply.
	p.Lists = func(h framework.HookType) bool { return len(p.byHook[h]) > 0 }
	switch cfg.Default {
	case "allow":
	case "deny":
		p.defaultDeny = true
	case "":
		bad("default", 0, "must be set to allow or deny: what happens when no rule matches")
	default:
		bad("default", 0, "expected allow or deny, got %q", cfg.Default)
	}
	if len(cfg.Rules) == 0 {
		bad("rules", 0, "must list at least one rule")
	}
	if cfg.CostLimit <= 0 {
		bad("cost_limit", 0, "must be a positive number")
	}
	env, err := newEnv()
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{}
	for j, r := range cfg.Rules {
		at := fmt.Sprintf("rules[%d]", j)
		switch {
		case r.Name == "":
			bad(at+".name", 0, "must be set: violations and audit records name the rule")
		case seen[r.Name]:
			bad(at+".name", 0, "rule %q is defined twice", r.Name)
		}
		seen[r.Name] = true
		deny := true
		switch r.Action {
		case "", "deny":
		case "allow":
			deny = false
		default:
			bad(at+".action", 0, "expected deny or allow, got %q", r.Action)
		}
		if r.When == "" {
			bad(at+".when", 0, "must be a CEL expression")
			continue
		}
		prg, used, cerrs := compile(env, r.When, uint64(max(cfg.CostLimit, 1)))
		for _, ce := range cerrs {
			bad(at+".when", ce.line, "%s", ce.msg)
		}
		if len(cerrs) > 0 {
			continue
		}
		hooks, msg := ruleHooks(r.Hooks, used)
		if msg != "" {
			key := at + ".hooks"
			if len(r.Hooks) == 0 {
				key = at + ".when"
			}
			bad(key, 0, "%s", msg)
			continue
		}
		code := r.Code
		if code == "" {
			code = CodeDenied
		}
		reason := r.Reason
		if reason == "" {
			reason = "denied by policy rule " + r.Name
		}
		cr := &rule{name: r.Name, deny: deny, prg: prg, reason: reason, code: code}
		for _, h := range hooks {
			p.byHook[h] = append(p.byHook[h], cr)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return p, nil
}

// ruleHooks returns the hooks a rule runs on: the ones it lists, each of
// which must have every variable it reads, or else every hook that has them.
func ruleHooks(listed []string, used []string) ([]framework.HookType, string) {
	hasAll := func(h framework.HookType) string {
		for _, v := range used {
			if !policyinput.Has(h, v) {
				return v
			}
		}
		return ""
	}
	if len(listed) > 0 {
		var out []framework.HookType
		for _, s := range listed {
			h, err := framework.ParseHookType(s)
			if err != nil || !slices.Contains(policyinput.Hooks(), h) {
				return nil, fmt.Sprintf("unknown hook %q; expected one of %v", s, policyinput.Hooks())
			}
			if v := hasAll(h); v != "" {
				return nil, fmt.Sprintf("the rule reads %s, which %s does not have", v, h)
			}
			out = append(out, h)
		}
		return out, ""
	}
	var out []framework.HookType
	readsItem := slices.Contains(used, policyinput.VarItem)
	for _, h := range policyinput.Hooks() {
		// A rule that does not name its hooks runs on the list hooks only
		// when it reads item: "claims.level > 2" is about calls.
		if h.IsList() && !readsItem {
			continue
		}
		if hasAll(h) == "" {
			out = append(out, h)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Sprintf("no hook has every variable the rule reads (%v)", used)
	}
	return out, ""
}
