package opapolicy

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/loader"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/storage/inmem"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/kindconfig"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/policyinput"
)

// KindName is the kind's name in plugins[].kind.
const KindName = "opa_policy"

// CodeDenied is the violation code of a deny whose decision names no code.
const CodeDenied = "OPA_DENIED"

// DefaultQuery is the decision the plugin asks for.
const DefaultQuery = "data.mcp.authz"

// Config is the kind's settings (plugins[].config). Exactly one source of
// policy: policy_files, bundle, or url.
type Config struct {
	// PolicyFiles are Rego files, relative to the policy file.
	PolicyFiles []string `yaml:"policy_files"`
	// Bundle is an OPA bundle directory (Rego and data.json/data.yaml files).
	Bundle string `yaml:"bundle"`
	// DataFiles are JSON or YAML documents loaded under data.
	DataFiles []string `yaml:"data_files"`
	// Query is the decision, a reference such as data.mcp.authz.
	Query string `yaml:"query"`
	// URL is an OPA server's base URL (http://127.0.0.1:8181): the
	// decision is asked of its data API instead of compiled in.
	URL string `yaml:"url"`
	// Headers are sent with every request to URL (an Authorization bearer
	// token for an OPA server that requires one).
	Headers map[string]string `yaml:"headers"`
}

// DefaultConfig returns the settings a plugin gets when its config says nothing.
func DefaultConfig() Config {
	return Config{PolicyFiles: []string{}, DataFiles: []string{}, Query: DefaultQuery, Headers: map[string]string{}}
}

func init() {
	framework.Register(framework.Kind{
		Name:        KindName,
		Description: "allow or deny calls with Open Policy Agent: Rego compiled in, or an OPA server's data API",
		Hooks:       policyinput.Hooks(),
		Defaults:    DefaultConfig(),
		New:         kindconfig.PositionedFactory(DefaultConfig, New),
	})
}

// New checks cfg and compiles its policy (reading the files it names; it
// does not reach a url). Mistakes are framework.ConfigErrors: in the policy
// file at the offending key, or in a Rego file at its line.
func New(cfg Config, pc *framework.PluginConfig) (*Plugin, error) {
	bad := func(path, format string, args ...any) error {
		return framework.ConfigErrors{pc.ConfigError(path, 0, fmt.Sprintf(format, args...), nil)}
	}
	ref, err := ast.ParseRef(cfg.Query)
	if err != nil || !ref.HasPrefix(ast.DefaultRootRef) || !ref.IsGround() {
		return nil, bad("query", "expected a reference under data such as %s, got %q", DefaultQuery, cfg.Query)
	}
	sources := 0
	for _, set := range []bool{len(cfg.PolicyFiles) > 0, cfg.Bundle != "", cfg.URL != ""} {
		if set {
			sources++
		}
	}
	if sources != 1 {
		return nil, bad("", "set exactly one of policy_files, bundle and url")
	}
	p := &Plugin{query: cfg.Query}
	p.Decide = p.decide
	// Rego decides every input it is given, so a policy written for calls
	// would hide every listed item: the list hooks run only when the
	// plugin's hooks: list names them.
	p.Lists = func(h framework.HookType) bool { return slices.Contains(pc.Hooks, h) }
	if cfg.URL != "" {
		if len(cfg.DataFiles) > 0 {
			return nil, bad("data_files", "the OPA server at url holds its own data")
		}
		r, err := newRemote(cfg.URL, ref, cfg.Headers)
		if err != nil {
			return nil, bad("url", "%v", err)
		}
		p.remote = r
		return p, nil
	}
	if len(cfg.Headers) > 0 {
		return nil, bad("headers", "only used with url")
	}
	opts := []func(*rego.Rego){rego.Query(cfg.Query)}
	var modules []*ast.Module
	for k, f := range cfg.PolicyFiles {
		path := pc.ResolvePath(f)
		src, err := os.ReadFile(path)
		if err != nil {
			return nil, bad(fmt.Sprintf("policy_files[%d]", k), "%v", err)
		}
		mod, err := ast.ParseModule(path, string(src))
		if err != nil {
			return nil, regoErrors(pc, fmt.Sprintf("policy_files[%d]", k), err)
		}
		opts = append(opts, rego.ParsedModule(mod))
		modules = append(modules, mod)
	}
	if cfg.Bundle != "" {
		b, err := loader.NewFileLoader().AsBundle(pc.ResolvePath(cfg.Bundle))
		if err != nil {
			return nil, regoErrors(pc, "bundle", err)
		}
		opts = append(opts, rego.ParsedBundle(cfg.Bundle, b))
		for _, m := range b.Modules {
			modules = append(modules, m.Parsed)
		}
	}
	if len(cfg.DataFiles) > 0 {
		paths := make([]string, len(cfg.DataFiles))
		for k, f := range cfg.DataFiles {
			paths[k] = pc.ResolvePath(f)
			if strings.HasSuffix(f, ".rego") {
				return nil, bad(fmt.Sprintf("data_files[%d]", k), "%s is Rego: list it in policy_files", f)
			}
		}
		res, err := loader.NewFileLoader().Filtered(paths, nil)
		if err != nil {
			return nil, regoErrors(pc, "data_files", err)
		}
		opts = append(opts, rego.Store(inmem.NewFromObject(res.Documents)))
	}
	pq, err := rego.New(opts...).PrepareForEval(context.Background())
	if err != nil {
		return nil, regoErrors(pc, "policy_files", err)
	}
	p.prepared = &pq
	p.uses = inputUses(modules)
	return p, nil
}

// regoErrors turns OPA's errors into configuration errors at the Rego file
// and line they name; others are reported at the config key.
func regoErrors(pc *framework.PluginConfig, key string, err error) error {
	var aes ast.Errors
	if !errors.As(err, &aes) || len(aes) == 0 {
		return framework.ConfigErrors{pc.ConfigError(key, 0, "Rego: "+err.Error(), err)}
	}
	var out framework.ConfigErrors
	for _, e := range aes {
		ce := pc.ConfigError(key, 0, "Rego: "+e.Message, err)
		if e.Location != nil && e.Location.File != "" {
			ce.File, ce.Line, ce.Column = e.Location.File, e.Location.Row, e.Location.Col
		}
		out = append(out, ce)
	}
	return out
}

// dataPath is the data API path of a query reference: data.mcp.authz is
// /v1/data/mcp/authz.
func dataPath(ref ast.Ref) (string, error) {
	parts := []string{"/v1/data"}
	for _, t := range ref[1:] {
		s, ok := t.Value.(ast.String)
		if !ok {
			return "", fmt.Errorf("query %s has a part that is not a name", ref)
		}
		parts = append(parts, url.PathEscape(string(s)))
	}
	return strings.Join(parts, "/"), nil
}
