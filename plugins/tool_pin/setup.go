package toolpin

import (
	"errors"
	"fmt"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/kindconfig"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/listitems"
)

// KindName is the kind's name in plugins[].kind.
const KindName = "tool_pin"

// Values of on_change and on_new.
const (
	OnChangeBlock = "block"
	OnChangeAudit = "audit"
	OnNewAllow    = "allow"
	OnNewBlock    = "block"
)

// Config is the kind's settings (plugins[].config).
type Config struct {
	// PinsFile is the lockfile (required), read when the plugin is built:
	// at start-up and at every policy reload.
	PinsFile string `yaml:"pins_file"`
	// OnChange is what a tool whose fingerprint differs from its pin gets:
	// block (hidden, calls refused) or audit (listed, flagged).
	OnChange string `yaml:"on_change"`
	// OnNew is what a tool without a pin gets: allow, or block (hidden,
	// calls refused).
	OnNew string `yaml:"on_new"`
	// MaxServers and MaxItemsPerServer bound what is remembered of changed
	// tools between a list and a later call.
	MaxServers        int `yaml:"max_servers"`
	MaxItemsPerServer int `yaml:"max_items_per_server"`
}

// DefaultConfig returns the settings a plugin gets when its config says nothing.
func DefaultConfig() Config {
	return Config{OnChange: OnChangeBlock, OnNew: OnNewAllow, MaxServers: 1024, MaxItemsPerServer: 10000}
}

func init() {
	framework.Register(framework.Kind{
		Name:        KindName,
		Description: "pins tool definitions by fingerprint (a lockfile written by `extproc pin`): hides and refuses tools whose definition changed, or that are not pinned",
		Hooks:       []framework.HookType{framework.ToolsPostList, framework.ToolPreInvoke},
		Defaults:    DefaultConfig(),
		New:         kindconfig.Factory(DefaultConfig, New),
		Inline:      true,
	})
}

// New checks cfg, reads the lockfile and builds a plugin. Errors name the
// offending key.
func New(cfg Config) (*Plugin, error) {
	if cfg.PinsFile == "" {
		return nil, errors.New("config.pins_file: required (write one with `extproc pin`)")
	}
	if cfg.OnChange != OnChangeBlock && cfg.OnChange != OnChangeAudit {
		return nil, kindconfig.BadChoice("config.on_change", string(cfg.OnChange), "block", "audit")
	}
	if cfg.OnNew != OnNewAllow && cfg.OnNew != OnNewBlock {
		return nil, kindconfig.BadChoice("config.on_new", string(cfg.OnNew), "allow", "block")
	}
	if cfg.MaxServers <= 0 || cfg.MaxItemsPerServer <= 0 {
		return nil, errors.New("config.max_servers, config.max_items_per_server: must be positive")
	}
	lf, err := ReadLockfile(cfg.PinsFile)
	if err != nil {
		return nil, fmt.Errorf("config.pins_file: %w", err)
	}
	digests, err := decodeDigests(lf)
	if err != nil {
		return nil, fmt.Errorf("config.pins_file: %w", err)
	}
	return &Plugin{lock: lf, digests: digests, onChange: cfg.OnChange, onNew: cfg.OnNew,
		changed: listitems.NewVerdicts(cfg.MaxServers, cfg.MaxItemsPerServer),
		memo:    listitems.NewMemo[fingerprinted](8192),
		lists:   listitems.NewListMemo[listOutcome](8 << 20)}, nil
}
