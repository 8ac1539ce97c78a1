package sqlsanitizer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/kindconfig"
)

// KindName is the kind's name in plugins[].kind.
const KindName = "sql_sanitizer"

// Action is what a message with an issue gets.
type Action string

// The actions.
const (
	ActionBlock Action = "block"
	ActionLog   Action = "log"
)

// Config is the kind's settings (plugins[].config). Key names follow
// ContextForge's SQLSanitizerPlugin where they mean the same.
type Config struct {
	// Action: block (UNSAFE_SQL) or log. Empty: block_on_violation decides.
	Action Action `yaml:"action"`
	// Fields names the argument keys holding SQL; their strings are read as
	// SQL whatever they look like. Empty: every string argument is looked
	// at, and only those with a statement of SQL's shape are read as SQL.
	Fields []string `yaml:"fields"`
	// Dialects are the database families whose lexical rules are applied:
	// postgres, mysql, sqlite, sqlserver.
	Dialects []string `yaml:"dialects"`
	// BlockedStatements are keywords refused wherever they appear as a
	// keyword (not in a string, identifier or comment, not as a function
	// name). ContextForge's \bDROP\b spelling is accepted.
	BlockedStatements []string `yaml:"blocked_statements"`
	// BlockStackedStatements refuses more than one statement in a text.
	BlockStackedStatements bool `yaml:"block_stacked_statements"`
	// BlockDeleteWithoutWhere refuses DELETE with no WHERE at its top level.
	BlockDeleteWithoutWhere bool `yaml:"block_delete_without_where"`
	// BlockUpdateWithoutWhere refuses UPDATE with no WHERE at its top level.
	BlockUpdateWithoutWhere bool `yaml:"block_update_without_where"`
	// BlockTautologies refuses DELETE and UPDATE whose WHERE is always
	// true (WHERE 1=1, WHERE TRUE) and injected OR 1=1.
	BlockTautologies bool `yaml:"block_tautologies"`
	// BlockCommentTricks refuses MySQL executable comments (/*! … */),
	// unterminated strings and comments, and comments holding SQL.
	BlockCommentTricks bool `yaml:"block_comment_tricks"`
	// DetectInjection also reads free-text arguments as the rest of a
	// quoted literal, to catch fragments made to break out of one.
	DetectInjection bool `yaml:"detect_injection"`
	// RequireParameterization refuses string literals in SQL (values must
	// be bound parameters) and template markers ({…}, %s).
	RequireParameterization bool `yaml:"require_parameterization"`
	// StripComments removes comments from SQL arguments before they reach
	// the server, when every dialect agrees where they are.
	StripComments bool `yaml:"strip_comments"`
	// BlockOnViolation is ContextForge's switch: with no action, true
	// means block and false log.
	BlockOnViolation bool `yaml:"block_on_violation"`
}

// DefaultConfig returns the settings a plugin gets when its config says nothing.
func DefaultConfig() Config {
	return Config{
		Fields:                  []string{},
		Dialects:                []string{"postgres", "mysql", "sqlite", "sqlserver"},
		BlockedStatements:       []string{"DROP", "TRUNCATE", "ALTER", "GRANT", "REVOKE"},
		BlockStackedStatements:  true,
		BlockDeleteWithoutWhere: true,
		BlockUpdateWithoutWhere: true,
		BlockTautologies:        true,
		BlockCommentTricks:      true,
		DetectInjection:         true,
		BlockOnViolation:        true,
	}
}

func init() {
	framework.Register(framework.Kind{
		Name: KindName,
		Aliases: []string{
			"cpex_sql_sanitizer.sql_sanitizer.SQLSanitizerPlugin",
			"cpex_sql_sanitizer.SQLSanitizerPlugin",
			"plugins.sql_sanitizer.sql_sanitizer.SQLSanitizerPlugin",
			"SQLSanitizerPlugin",
		},
		Description: "lex SQL in tool and prompt arguments; flag stacked statements, DROP/TRUNCATE, DELETE/UPDATE without WHERE, comment tricks, injection fragments",
		Hooks:       []framework.HookType{framework.ToolPreInvoke, framework.PromptPreFetch},
		Defaults:    DefaultConfig(),
		New:         kindconfig.Factory(DefaultConfig, New),
		Inline:      true,
	})
}

// New checks cfg and builds a plugin from it. Errors name the offending key.
func New(cfg Config) (*Plugin, error) {
	p := &Plugin{
		action: cfg.Action,
		strip:  cfg.StripComments,
		rules: rules{
			blocked:      map[string]bool{},
			stacked:      cfg.BlockStackedStatements,
			deleteWhere:  cfg.BlockDeleteWithoutWhere,
			updateWhere:  cfg.BlockUpdateWithoutWhere,
			tautologies:  cfg.BlockTautologies,
			commentTrick: cfg.BlockCommentTricks,
			injection:    cfg.DetectInjection,
			literals:     cfg.RequireParameterization,
		},
	}
	switch strings.ToLower(string(cfg.Action)) {
	case "":
		p.action = ActionLog
		if cfg.BlockOnViolation {
			p.action = ActionBlock
		}
	case string(ActionBlock), string(ActionLog):
		p.action = Action(strings.ToLower(string(cfg.Action)))
		if !cfg.BlockOnViolation {
			return nil, fmt.Errorf("config.action: set together with ContextForge's block_on_violation; use one or the other")
		}
	default:
		return nil, kindconfig.BadChoice("config.action", string(cfg.Action), "block", "log")
	}
	for i, f := range cfg.Fields {
		if strings.TrimSpace(f) == "" {
			return nil, fmt.Errorf("config.fields[%d]: must not be empty", i)
		}
		if p.fields == nil {
			p.fields = map[string]bool{}
		}
		p.fields[strings.ToLower(f)] = true
	}
	if len(cfg.Dialects) == 0 {
		return nil, fmt.Errorf("config.dialects: must name at least one of postgres, mysql, sqlite, sqlserver")
	}
	for i, name := range cfg.Dialects {
		d, ok := dialects[strings.ToLower(name)]
		if !ok {
			return nil, fmt.Errorf("config.dialects[%d]: %q is not one of postgres, mysql, sqlite, sqlserver", i, name)
		}
		if !slices.ContainsFunc(p.dialects, func(x *dialect) bool { return x.name == d.name }) {
			p.dialects = append(p.dialects, &d)
		}
	}
	for i, k := range cfg.BlockedStatements {
		w, err := parseKeyword(k)
		if err != nil {
			return nil, fmt.Errorf("config.blocked_statements[%d]: %w", i, err)
		}
		p.rules.blocked[w] = true
	}
	p.kws = knownKeywords(p.rules.blocked)
	for f := range features(numFeatureSets) {
		p.groups[f] = groupDialects(p.dialects, f)
	}
	return p, nil
}

// parseKeyword reads a blocked_statements entry: a keyword, or ContextForge's
// regular expression for one (\bDROP\b).
func parseKeyword(k string) (string, error) {
	w := strings.TrimSpace(k)
	w = strings.TrimSuffix(strings.TrimPrefix(w, `\b`), `\b`)
	if w == "" {
		return "", fmt.Errorf("must not be empty")
	}
	if len(w) > maxKeyword || w[0] == '_' {
		return "", fmt.Errorf("%q is not a keyword: write one SQL keyword such as DROP", k)
	}
	for i := 0; i < len(w); i++ {
		c := w[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '_') {
			return "", fmt.Errorf("%q is not a keyword: write one SQL keyword such as DROP (ContextForge's \\bDROP\\b is read as DROP)", k)
		}
	}
	return strings.ToUpper(w), nil
}
