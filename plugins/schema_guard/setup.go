package schemaguard

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/kindconfig"
)

// KindName is the kind's name in plugins[].kind.
const KindName = "schema_guard"

// on_missing_schema values.
const (
	MissingAllow = "allow"
	MissingBlock = "block"
)

// Config is the kind's settings (plugins[].config). arg_schemas,
// result_schemas and block_on_violation are ContextForge's keys, so its
// SchemaGuardPlugin block loads unchanged.
type Config struct {
	// Tools gives schemas per tool name. They apply to that tool on every
	// server and take precedence over what a server announces.
	Tools map[string]ToolSchemas `yaml:"tools"`
	// ArgSchemas is ContextForge's form of tools.<name>.input_schema.
	ArgSchemas map[string]any `yaml:"arg_schemas"`
	// ResultSchemas is ContextForge's result schema per tool; here it is
	// tools.<name>.output_schema, checked against structuredContent.
	ResultSchemas map[string]any `yaml:"result_schemas"`
	// BlockOnViolation refuses a message that fails its schema (default
	// true); false logs the findings and lets it pass.
	BlockOnViolation bool `yaml:"block_on_violation"`
	// OnMissingSchema is what a tools/call gets when no input schema is
	// known for its tool: allow (default) or block.
	OnMissingSchema string `yaml:"on_missing_schema"`
	// LearnFromToolsList remembers the schemas servers announce in
	// tools/list results (default true; needs the tools_post_list hook).
	LearnFromToolsList bool `yaml:"learn_from_tools_list"`
	// Store bounds what is learned from tools/list.
	Store StoreConfig `yaml:"store"`
	// MaxFindings is how many failing locations a violation names.
	MaxFindings int `yaml:"max_findings"`
}

// ToolSchemas are one tool's schemas; either may be left out.
type ToolSchemas struct {
	// InputSchema validates params.arguments.
	InputSchema any `yaml:"input_schema"`
	// OutputSchema validates the result's structuredContent.
	OutputSchema any `yaml:"output_schema"`
}

// StoreConfig is StoreLimits in the policy.
type StoreConfig struct {
	MaxServers        int `yaml:"max_servers"`
	MaxToolsPerServer int `yaml:"max_tools_per_server"`
	MaxSchemaBytes    int `yaml:"max_schema_bytes"`
}

// DefaultConfig returns the settings a plugin gets when its config says
// nothing.
func DefaultConfig() Config {
	return Config{
		Tools:              map[string]ToolSchemas{},
		BlockOnViolation:   true,
		OnMissingSchema:    MissingAllow,
		LearnFromToolsList: true,
		Store:              StoreConfig{MaxServers: 1000, MaxToolsPerServer: 1000, MaxSchemaBytes: 64 << 10},
		MaxFindings:        5,
	}
}

func init() {
	framework.Register(framework.Kind{
		Name:        KindName,
		Aliases:     []string{"plugins.schema_guard.schema_guard.SchemaGuardPlugin", "SchemaGuardPlugin"},
		Description: "validate tools/call arguments and structuredContent against JSON Schema 2020-12 (from config or tools/list)",
		Hooks:       []framework.HookType{framework.ToolPreInvoke, framework.ToolPostInvoke, framework.ToolsPostList},
		Inline:      true,
		Defaults:    DefaultConfig(),
		New:         kindconfig.NamedFactory(DefaultConfig, New),
	})
}

// New checks cfg, compiles its schemas and builds the plugin named name.
func New(name string, cfg Config) (*Plugin, error) {
	p := &Plugin{name: name, block: cfg.BlockOnViolation, configured: map[string]Schemas{}}
	switch cfg.OnMissingSchema {
	case MissingAllow, MissingBlock:
		p.blockMissing = cfg.OnMissingSchema == MissingBlock
	default:
		return nil, kindconfig.BadChoice("config.on_missing_schema", string(cfg.OnMissingSchema), "allow", "block")
	}
	if cfg.MaxFindings < 1 {
		return nil, fmt.Errorf("config.max_findings: must be at least 1, got %d", cfg.MaxFindings)
	}
	p.maxFindings = cfg.MaxFindings
	type entry struct {
		at, tool string
		doc      any
		out      bool
	}
	var entries []entry
	for _, t := range slices.Sorted(maps.Keys(cfg.Tools)) {
		ts := cfg.Tools[t]
		if ts.InputSchema == nil && ts.OutputSchema == nil {
			return nil, fmt.Errorf("config.tools.%s: set input_schema, output_schema or both", t)
		}
		entries = append(entries, entry{"tools." + t + ".input_schema", t, ts.InputSchema, false}, entry{"tools." + t + ".output_schema", t, ts.OutputSchema, true})
	}
	for _, t := range slices.Sorted(maps.Keys(cfg.ArgSchemas)) {
		entries = append(entries, entry{"arg_schemas." + t, t, cfg.ArgSchemas[t], false})
	}
	for _, t := range slices.Sorted(maps.Keys(cfg.ResultSchemas)) {
		entries = append(entries, entry{"result_schemas." + t, t, cfg.ResultSchemas[t], true})
	}
	for _, e := range entries {
		if e.doc == nil {
			continue
		}
		tool := e.tool
		s := p.configured[tool]
		if (e.out && s.Output != nil) || (!e.out && s.Input != nil) {
			return nil, fmt.Errorf("config.%s: tool %q already has this schema (tools and arg_schemas/result_schemas both set it)", e.at, tool)
		}
		doc, err := json.Marshal(e.doc)
		if err != nil {
			return nil, fmt.Errorf("config.%s: %w", e.at, err)
		}
		sch, err := compile(doc)
		if err != nil {
			return nil, fmt.Errorf("config.%s: %w", e.at, err)
		}
		if e.out {
			s.Output = sch
		} else {
			s.Input = sch
		}
		p.configured[tool] = s
	}
	if cfg.LearnFromToolsList {
		st, err := NewStore(StoreLimits{MaxServers: cfg.Store.MaxServers, MaxToolsPerServer: cfg.Store.MaxToolsPerServer, MaxSchemaBytes: cfg.Store.MaxSchemaBytes})
		if err != nil {
			return nil, fmt.Errorf("config.store: %w", err)
		}
		p.store = st
	} else if len(p.configured) == 0 {
		return nil, fmt.Errorf("config.tools: with learn_from_tools_list off, give at least one schema")
	}
	return p, nil
}
