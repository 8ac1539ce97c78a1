package toolguard

import (
	"fmt"
	"slices"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/kindconfig"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/listitems"
)

// memoSize bounds how many distinct items' verdicts a plugin remembers.
const memoSize = 8192

// listMemoBytes bounds the bytes of whole lists whose outcome a plugin
// remembers (per family).
const listMemoBytes = 8 << 20

// KindName is the kind's name in plugins[].kind.
const KindName = "tool_guard"

// The actions of config.action.
const (
	ActionHide  = "hide"
	ActionBlock = "block"
	ActionAudit = "audit"
)

// DefaultPhrases are the instruction-injection phrases checked when config
// says nothing: the wording of published tool-poisoning attacks (hidden
// instructions to the model, secrecy towards the user, fake system turns).
var DefaultPhrases = []string{
	"ignore previous instructions", "ignore all previous instructions", "ignore prior instructions",
	"ignore all prior instructions", "ignore the above instructions", "ignore your instructions",
	"disregard previous instructions", "disregard all previous instructions", "disregard prior instructions",
	"forget previous instructions", "forget all previous instructions", "forget your instructions",
	"override your instructions", "new instructions:",
	"<important>", "</important>", "<system>", "</system>", "<instructions>", "<|im_start|>", "<|system|>",
	"do not tell the user", "don't tell the user", "do not mention this to the user", "do not inform the user",
	"without telling the user", "without informing the user", "without the user knowing",
	"the user must not know", "hide this from the user", "keep this secret from the user",
}

// DefaultSecretReferences are the references to secret material checked
// when config says nothing: key files, credential stores and password files
// that poisoned tools ask the model to read and pass along.
var DefaultSecretReferences = []string{
	"~/.ssh", ".ssh/id_", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519",
	".env", "/etc/passwd", "/etc/shadow", ".aws/credentials", ".netrc", ".git-credentials",
	".kube/config", ".pgpass", ".docker/config.json",
}

// Config is the kind's settings (plugins[].config).
type Config struct {
	// Action is what a poisoned item gets: hide (removed from the list and
	// refused when called), block (the whole list refused) or audit.
	Action string `yaml:"action"`
	// Phrases replaces DefaultPhrases; ExtraPhrases adds to them.
	Phrases      []string `yaml:"phrases"`
	ExtraPhrases []string `yaml:"extra_phrases"`
	// SecretReferences replaces DefaultSecretReferences; ExtraSecretReferences adds.
	SecretReferences      []string `yaml:"secret_references"`
	ExtraSecretReferences []string `yaml:"extra_secret_references"`
	// MaxDescriptionLength bounds every description, in characters; 0 turns
	// the check off.
	MaxDescriptionLength int `yaml:"max_description_length"`
	// MaxServers and MaxItemsPerServer bound what is remembered of hidden
	// items between a list and a later call.
	MaxServers        int `yaml:"max_servers"`
	MaxItemsPerServer int `yaml:"max_items_per_server"`
}

// DefaultConfig returns the settings a plugin gets when its config says nothing.
func DefaultConfig() Config {
	return Config{
		Action:               ActionHide,
		Phrases:              slices.Clone(DefaultPhrases),
		SecretReferences:     slices.Clone(DefaultSecretReferences),
		MaxDescriptionLength: 4096,
		MaxServers:           1024,
		MaxItemsPerServer:    10000,
	}
}

func init() {
	framework.Register(framework.Kind{
		Name:        KindName,
		Description: "hides (or blocks, or reports) listed tools, prompts and resources with invisible characters, injection phrases, secret-file references or oversized descriptions, and refuses calls to what it hid",
		Hooks: []framework.HookType{framework.ToolsPostList, framework.PromptsPostList, framework.ResourcesPostList,
			framework.ToolPreInvoke, framework.PromptPreFetch, framework.ResourcePreFetch},
		Defaults: DefaultConfig(),
		New:      kindconfig.Factory(DefaultConfig, New),
		Inline:   true,
	})
}

type configError struct {
	key   string
	index int
}

func (e *configError) Error() string {
	return fmt.Sprintf("config.%s[%d]: must contain something other than white space and invisible characters", e.key, e.index)
}

// New checks cfg and builds a plugin from it. Errors name the offending key.
func New(cfg Config) (*Plugin, error) {
	switch cfg.Action {
	case ActionHide, ActionBlock, ActionAudit:
	default:
		return nil, kindconfig.BadChoice("config.action", string(cfg.Action), "hide", "block", "audit")
	}
	for _, b := range []struct {
		key string
		v   int
	}{{"max_description_length", cfg.MaxDescriptionLength}, {"max_servers", cfg.MaxServers}, {"max_items_per_server", cfg.MaxItemsPerServer}} {
		if b.v < 0 || b.v == 0 && b.key != "max_description_length" {
			return nil, fmt.Errorf("config.%s: must be positive, got %d", b.key, b.v)
		}
	}
	m, err := compilePatterns([]patternList{
		{"phrases", kindPhrase, cfg.Phrases}, {"extra_phrases", kindPhrase, cfg.ExtraPhrases},
		{"secret_references", kindSecret, cfg.SecretReferences}, {"extra_secret_references", kindSecret, cfg.ExtraSecretReferences},
	})
	if err != nil {
		return nil, err
	}
	p := &Plugin{action: cfg.Action, matcher: m, maxDesc: cfg.MaxDescriptionLength, pre: newPrefilter(m, m.folded, cfg.MaxDescriptionLength)}
	for i := range p.hidden {
		p.hidden[i] = listitems.NewVerdicts(cfg.MaxServers, cfg.MaxItemsPerServer)
		p.memo[i] = listitems.NewMemo[judged](memoSize)
		p.lists[i] = listitems.NewListMemo[listOutcome](listMemoBytes)
	}
	return p, nil
}
