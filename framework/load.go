package framework

import (
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"

	yaml "go.yaml.in/yaml/v3"
)

// LoadOptions tunes Load and Parse.
type LoadOptions struct {
	// Registry resolves kinds; nil means the default registry.
	Registry *Registry
	// LookupEnv resolves ${VAR}; nil means os.LookupEnv.
	LookupEnv func(string) (string, bool)
	// Strict makes an entry that could not run in this build (an unknown
	// kind, a transport it does not have) an error whatever
	// plugin_settings.fail_on_plugin_error says; `extproc validate` uses it.
	Strict bool
}

func (o LoadOptions) registry() *Registry {
	if o.Registry != nil {
		return o.Registry
	}
	return defaultRegistry
}

// Load reads and checks a policy file. On failure the error is a
// ConfigErrors listing every mistake with its file, line and path.
func Load(path string, opts LoadOptions) (*Config, []Warning, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read config: %w", err)
	}
	return Parse(data, path, opts)
}

// Keys that ContextForge files carry and we do not use, by the struct that
// holds them, with the reason shown in the warning.
var contextForgeKeys = map[reflect.Type]map[string]string{
	reflect.TypeFor[Config](): {
		"server_settings":      "external plugin servers are configured with extproc plugin-server flags",
		"grpc_server_settings": "not used by mcp-extproc",
	},
	reflect.TypeFor[PluginSettings](): {
		"parallel_execution_within_band": "use mode: concurrent",
		"enable_plugin_api":              "not used by mcp-extproc",
		"plugin_health_check_interval":   "not used by mcp-extproc",
		"include_user_info":              "identity always reaches plugins through the global context",
	},
	reflect.TypeFor[PluginConfig](): {
		"namespace":        "not used by mcp-extproc",
		"applied_to":       "not used by mcp-extproc; use conditions",
		"capabilities":     "mcp-extproc grants plugins no extension capabilities",
		"max_content_size": "use plugin_settings.max_payload_size",
		"grpc":             "the gRPC transport is not supported; use mcp",
		"unix_socket":      "cpex's unix-socket transport is not supported; use mcp with uds",
	},
	reflect.TypeFor[Condition](): {
		"agents": "mcp-extproc has no agent hooks",
	},
}

// Check reads a policy file for a validator: as Load does, but beside the
// errors it returns the config as far as it decoded (nil only when the file
// cannot be read or is not YAML), so that the caller can go on to build each
// plugin whose kind resolved and report every mistake of the file in one
// pass. A config returned with errors must not be served.
func Check(path string, opts LoadOptions) (*Config, []Warning, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read config: %w", err)
	}
	cfg, warns, errs := parse(data, path, opts)
	if len(errs) > 0 {
		return cfg, warns, errs
	}
	return cfg, warns, nil
}

// Parse checks a policy held in memory; name is used in messages.
func Parse(data []byte, name string, opts LoadOptions) (*Config, []Warning, error) {
	cfg, warns, errs := parse(data, name, opts)
	if len(errs) > 0 {
		return nil, warns, errs
	}
	return cfg, warns, nil
}

// parse decodes and checks a policy, returning the config as far as it
// decoded and every error (nil config only for a YAML syntax error).
func parse(data []byte, name string, opts LoadOptions) (*Config, []Warning, ConfigErrors) {
	lookup := opts.LookupEnv
	if lookup == nil {
		lookup = os.LookupEnv
	}
	d := &yamlDecoder{
		file:      name,
		tolerated: contextForgeKeys,
		expand:    func(s string) (string, error) { return expandEnv(s, lookup) },
	}
	cfg := DefaultConfig()
	cfg.Source = name

	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, nil, ConfigErrors{yamlSyntaxError(name, data, err)}
	}
	if len(root.Content) > 0 {
		d.decode(&root, reflect.ValueOf(&cfg).Elem(), "")
	}
	for i := range cfg.Plugins {
		cfg.Plugins[i].Index = i
		cfg.Plugins[i].expand = d.expand
	}
	checkConfig(d, &cfg, opts.registry(), opts.Strict)
	// Report in file order, whichever pass found the mistake.
	slices.SortStableFunc(d.errs, func(a, b *ConfigError) int { return cmp.Compare(a.Line, b.Line) })
	slices.SortStableFunc(d.warns, func(a, b Warning) int { return cmp.Compare(a.Line, b.Line) })
	return &cfg, d.warns, d.errs
}

func yamlSyntaxError(file string, data []byte, err error) *ConfigError {
	line := syntaxErrorLine(data)
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var te *yaml.TypeError
	if errors.As(err, &te) && len(te.Errors) > 0 {
		msg = te.Errors[0]
	}
	// The position is the ConfigError's; yaml.v3 starts some messages with
	// a line of its own (where the construct began), which only confuses.
	if rest, ok := strings.CutPrefix(msg, "line "); ok {
		if i := strings.Index(rest, ": "); i > 0 && strings.Trim(rest[:i], "0123456789") == "" {
			msg = rest[i+2:]
		}
	}
	return &ConfigError{File: file, Line: line, Msg: "invalid YAML: " + msg, Err: err}
}

// syntaxErrorLine finds the line of a YAML syntax error from the parser's
// verdicts alone (yaml.v3's errors carry no position, only text): the
// shortest run of leading lines that no longer parses ends on the line where
// the document stops being YAML. Found by bisection, since a file's first
// lines parse and the whole does not. 0 when it cannot tell.
func syntaxErrorLine(data []byte) int {
	var ends []int // ends[i] is the offset just past line i+1
	for i, b := range data {
		if b == '\n' {
			ends = append(ends, i+1)
		}
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		ends = append(ends, len(data))
	}
	parses := func(lines int) bool {
		if lines == 0 {
			return true
		}
		var n yaml.Node
		return yaml.Unmarshal(data[:ends[lines-1]], &n) == nil
	}
	lo, hi := 0, len(ends) // parses(lo), !parses(hi)
	if hi == 0 || parses(hi) {
		return 0
	}
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		if parses(mid) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return hi
}

// recordNode keeps the entry's position and its config subtree, so that the
// kind can decode its settings strictly with positions (DecodeConfig).
func (p *PluginConfig) recordNode(file string, n *yaml.Node) {
	p.file, p.line = file, n.Line
	p.explicit = map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		p.explicit[n.Content[i].Value] = true
		switch v := n.Content[i+1]; n.Content[i].Value {
		case "config":
			p.configNode = v
		case "hooks":
			if v.Kind == yaml.SequenceNode {
				p.hooksWritten = len(v.Content)
			}
		}
	}
}

// IsSet reports whether the policy file wrote key (a plugins[] entry key
// such as "priority") rather than leaving it to its default. An external
// plugin's server fills in what the file left unset. For a PluginConfig
// built in code every key counts as set.
func (p *PluginConfig) IsSet(key string) bool {
	return p.explicit == nil || p.explicit[key]
}

func (*PluginConfig) defaults() reflect.Value { return reflect.ValueOf(defaultPluginConfig()) }

func (*HookType) tolerate(s string) (string, bool) {
	if contextForgeOnlyHooks[s] {
		return fmt.Sprintf("ContextForge hook %q is not run by mcp-extproc; ignored", s), true
	}
	if !HookType(s).Valid() {
		// cpex lets plugins define hooks of their own (email_pre_send, …);
		// such a hook never fires here.
		return fmt.Sprintf("hook %q%s is not one mcp-extproc runs (%v); ignored", s, Suggest(s, (*HookType)(nil).values()), Hooks), true
	}
	return "", false
}

// ConfigError returns a mistake found in the plugin's config after decoding
// (an expression that does not compile, a file that does not parse) as a
// ConfigError at the value's position. path is relative to config:
// ("rules[2].when"); line is the 1-based line inside the value where the
// mistake is (a multi-line expression), 0 when the value as a whole is wrong.
// A factory returns it wrapped in ConfigErrors, like DecodeConfig's errors.
func (p *PluginConfig) ConfigError(path string, line int, msg string, err error) *ConfigError {
	file := p.file
	if file == "" {
		file = "plugin " + p.Name
	}
	at := fmt.Sprintf("plugins[%d].config", p.Index)
	if path != "" {
		at = joinPath(at, path)
	}
	e := &ConfigError{File: file, Line: p.line, Path: at, Msg: msg, Err: err}
	if n := configNodeAt(p.configNode, path); n != nil {
		e.Line, e.Column = n.Line, n.Column
		if line > 0 {
			e.Line, e.Column = n.Line+line, 0
			if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) == 0 {
				e.Line-- // a flow scalar's text starts on its key's line
			}
		}
	}
	return e
}

// configNodeAt walks a config subtree along a path such as "rules[2].when".
func configNodeAt(n *yaml.Node, path string) *yaml.Node {
	for rest := path; n != nil && rest != ""; {
		n = resolveAlias(n)
		if n == nil {
			return nil
		}
		if rest[0] == '[' {
			end := strings.IndexByte(rest, ']')
			var i int
			if end < 0 || n.Kind != yaml.SequenceNode {
				return nil
			}
			if _, err := fmt.Sscanf(rest[1:end], "%d", &i); err != nil || i < 0 || i >= len(n.Content) {
				return nil
			}
			n, rest = n.Content[i], strings.TrimPrefix(rest[end+1:], ".")
			continue
		}
		key := rest
		if i := strings.IndexAny(rest, ".["); i >= 0 {
			key, rest = rest[:i], strings.TrimPrefix(rest[i:], ".")
		} else {
			rest = ""
		}
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		n = next
	}
	return resolveAlias(n)
}

// ResolvePath returns a path the plugin's config names (a policy file, a
// data directory) relative to the directory of the policy file that holds
// it; absolute paths, and paths in a policy not read from a file, are
// returned as written.
func (p *PluginConfig) ResolvePath(name string) string {
	if name == "" || filepath.IsAbs(name) || p.file == "" {
		return name
	}
	return filepath.Join(filepath.Dir(p.file), name)
}

// DecodeConfig decodes the plugin's config: block strictly into v (a pointer
// to the kind's settings struct, pre-filled with defaults). Errors name the
// file, line and path (plugins[2].config.detect_ssn).
func (p *PluginConfig) DecodeConfig(v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("DecodeConfig needs a non-nil pointer, got %T", v)
	}
	node := p.configNode
	if node == nil {
		if len(p.Config) == 0 {
			return nil
		}
		node = new(yaml.Node)
		if err := node.Encode(p.Config); err != nil {
			return fmt.Errorf("plugins[%d] %q: config: %w", p.Index, p.Name, err)
		}
	}
	file := p.file
	if file == "" {
		file = "plugin " + p.Name
	}
	d := &yamlDecoder{file: file, expand: p.expand}
	d.decode(node, rv.Elem(), fmt.Sprintf("plugins[%d].config", p.Index))
	if len(d.errs) > 0 {
		return d.errs
	}
	return nil
}

// checkConfig applies the rules that a single value's type cannot express.
func checkConfig(d *yamlDecoder, cfg *Config, reg *Registry, strict bool) {
	s := &cfg.Server
	if s.Listen == "" {
		d.errorf(nil, "server.listen", "must not be empty")
	}
	if s.MaxMessageBytes <= 0 {
		d.errorf(nil, "server.max_message_bytes", "must be positive")
	}
	if (s.TLS.CertFile == "") != (s.TLS.KeyFile == "") {
		d.errorf(nil, "server.tls", "cert_file and key_file go together")
	}
	if s.TLS.ClientCAFile != "" && !s.TLS.Enabled() {
		d.errorf(nil, "server.tls.client_ca_file", "needs cert_file and key_file")
	}
	m := &cfg.MCP
	if m.MaxBodyBytes <= 0 {
		d.errorf(nil, "mcp.max_body_bytes", "must be positive")
	}
	for i, p := range m.Paths {
		if !strings.HasPrefix(p, "/") {
			d.errorf(nil, fmt.Sprintf("mcp.paths[%d]", i), "%q must start with /", p)
		}
	}
	for i, h := range m.ForwardHeaders {
		m.ForwardHeaders[i] = strings.ToLower(strings.TrimSpace(h))
		if m.ForwardHeaders[i] == "" {
			d.errorf(nil, fmt.Sprintf("mcp.forward_headers[%d]", i), "must not be empty")
		}
	}
	id := &m.Identity
	for _, h := range []*string{&id.RequestIDHeader, &id.UserHeader, &id.TenantHeader, &id.ServerIDHeader, &id.ClaimsHeader} {
		*h = strings.ToLower(strings.TrimSpace(*h))
	}
	ps := &cfg.PluginSettings
	if ps.PluginTimeout <= 0 {
		d.errorf(nil, "plugin_settings.plugin_timeout", "must be positive")
	}
	if ps.MaxPayloadSize <= 0 {
		d.errorf(nil, "plugin_settings.max_payload_size", "must be positive")
	}
	if ps.ExecutionPool < 1 {
		d.errorf(nil, "plugin_settings.execution_pool", "must be at least 1")
	}
	if ps.ContextMaxAge <= 0 || ps.ContextCleanupInterval <= 0 || ps.ContextMaxEntries <= 0 {
		d.errorf(nil, "plugin_settings", "context_max_age, context_cleanup_interval and context_max_entries must be positive")
	}
	if len(cfg.PluginDirs) > 0 {
		d.warnf(nil, "plugin_dirs", "ignored: mcp-extproc loads built-in kinds and external plugins only")
	}
	names := map[string]int{}
	for i := range cfg.Plugins {
		checkPlugin(d, &cfg.Plugins[i], fmt.Sprintf("plugins[%d]", i), reg, names, strict || ps.FailOnPluginError)
	}
	phaseOrderWarnings(d, cfg, reg)
}

// markUnrunnable records why an entry cannot run here, as a warning: with
// plugin_settings.fail_on_plugin_error false the server starts, as
// ContextForge does, and the entry's hooks fail closed per its mode and
// on_error (see Manager).
func (p *PluginConfig) markUnrunnable(d *yamlDecoder, path, reason string) {
	p.Unrunnable = reason
	d.warnf(nil, path, "%s: not run; its hooks fail closed with %s per its mode and on_error (plugin_settings.fail_on_plugin_error is false)", reason, CodePluginUnavailable)
}

func checkPlugin(d *yamlDecoder, p *PluginConfig, path string, reg *Registry, names map[string]int, failOnPluginError bool) {
	var at *yaml.Node // errors find their line through the path
	if p.Name == "" {
		d.errorf(at, path+".name", "is required")
	} else if prev, dup := names[p.Name]; dup {
		d.errorf(at, path+".name", "%q is already used by plugins[%d]; plugin names must be unique", p.Name, prev)
	} else {
		names[p.Name] = p.Index
	}
	if p.Timeout < 0 {
		d.errorf(at, path+".timeout", "must not be negative")
	}
	for ci, c := range p.Conditions {
		for _, pats := range [][]string{c.Tools, c.Prompts, c.Resources, c.UserPatterns, c.ServerIDs, c.TenantIDs, c.ContentTypes} {
			for _, pat := range pats {
				if pat == "" {
					d.errorf(at, fmt.Sprintf("%s.conditions[%d]", path, ci), "empty pattern")
				}
			}
		}
		for ui, pat := range c.UserPatterns {
			if strings.ContainsAny(pat, "*?") {
				d.warnf(at, fmt.Sprintf("%s.conditions[%d].user_patterns[%d]", path, ci, ui),
					"cpex reads %q as a substring, '*' and '?' literally; mcp-extproc also reads it as a glob, so the plugin is not skipped for the users it names", pat)
			}
		}
		if len(c.ContentTypes) > 0 {
			d.warnf(at, fmt.Sprintf("%s.conditions[%d].content_types", path, ci),
				"match the request's Content-Type as in cpex and, unlike cpex, also the MIME type of a resource read (resource_post_fetch)")
		}
	}
	if p.hooksWritten > 0 && len(p.Hooks) == 0 && p.Mode != ModeDisabled {
		// Every hook it lists is one we do not run: it would otherwise run
		// on every hook, which is not what the file asked for.
		d.warnf(at, path+".hooks", "none of the listed hooks is run by mcp-extproc; the plugin is not run")
		p.Mode = ModeDisabled
	}
	seenHook := map[HookType]bool{}
	for hi, h := range p.Hooks {
		if seenHook[h] {
			d.errorf(at, fmt.Sprintf("%s.hooks[%d]", path, hi), "%s is listed twice", h)
		}
		seenHook[h] = true
	}
	switch {
	case p.Kind == "":
		d.errorf(at, path+".kind", "is required")
	case p.Kind == KindExternal:
		p.ResolvedKind = KindExternal
		checkExternal(d, p, path, at, failOnPluginError)
	default:
		if p.MCP != nil {
			d.errorf(at, path+".mcp", "is only for kind: external")
		}
		k, ok := reg.Resolve(p.Kind)
		if !ok {
			names := []string{KindExternal}
			for _, k := range reg.Kinds() {
				names = append(names, k.Name)
			}
			hint := Suggest(p.Kind, names)
			switch {
			case p.Mode == ModeDisabled:
				d.warnf(at, path+".kind", "unknown kind %q%s (plugin is disabled, so this is not an error)", p.Kind, hint)
			case failOnPluginError:
				d.errorf(at, path+".kind", "unknown kind %q%s; see `extproc plugins` for the built-in kinds", p.Kind, hint)
			default:
				p.markUnrunnable(d, path+".kind", fmt.Sprintf("unknown kind %q%s", p.Kind, hint))
			}
			return
		}
		p.ResolvedKind = k.Name
		for hi, h := range p.Hooks {
			if !slices.Contains(k.Hooks, h) {
				d.warnf(at, fmt.Sprintf("%s.hooks[%d]", path, hi), "kind %s does not implement %s; ignored", k.Name, h)
			}
		}
	}
}

// checkClientTLS folds cpex's TLS spellings into ours; the same setting
// written both ways must agree.
func checkClientTLS(d *yamlDecoder, t *ClientTLSConfig, path string) {
	for _, f := range []struct {
		ours, cpex *string
		names      string
	}{{&t.CertFile, &t.CpexCertFile, "cert_file and certfile"}, {&t.KeyFile, &t.CpexKeyFile, "key_file and keyfile"}, {&t.CAFile, &t.CpexCABundle, "ca_file and ca_bundle"}} {
		switch {
		case *f.cpex == "":
		case *f.ours == "":
			*f.ours = *f.cpex
		case *f.ours != *f.cpex:
			d.errorf(nil, path, "%s name different files", f.names)
		}
	}
	if t.KeyFilePassword != "" && t.KeyFile == "" {
		d.errorf(nil, path+".keyfile_password", "needs keyfile (key_file)")
	}
	if t.CpexVerify != nil && !*t.CpexVerify {
		t.InsecureSkipVerify = true
	}
	if t.CpexCheckHostname != nil && !*t.CpexCheckHostname {
		t.SkipHostnameCheck = true
	}
}

func checkExternal(d *yamlDecoder, p *PluginConfig, path string, at *yaml.Node, failOnPluginError bool) {
	if len(p.Config) > 0 {
		d.errorf(at, path+".config", "is not allowed with kind: external; the plugin server provides its config")
	}
	if p.MCP == nil && (p.explicit["grpc"] || p.explicit["unix_socket"]) && p.Mode != ModeDisabled {
		transport := "grpc"
		if !p.explicit["grpc"] {
			transport = "unix_socket"
		}
		if failOnPluginError {
			d.errorf(at, path+"."+transport, "transport %s is not supported; use mcp", transport)
		} else {
			p.markUnrunnable(d, path+"."+transport, "transport "+transport+" is not supported")
		}
		return
	}
	if p.MCP == nil {
		d.errorf(at, path+".mcp", "is required with kind: external")
		return
	}
	m := p.MCP
	checkClientTLS(d, &m.TLS, path+".mcp.tls")
	if m.UDS != "" && m.Proto != TransportStreamableHTTP {
		d.errorf(at, path+".mcp.uds", "is only for STREAMABLEHTTP")
	}
	if m.ReconnectAttempts < 0 || m.ReconnectDelay < 0 {
		d.errorf(at, path+".mcp", "reconnect_attempts and reconnect_delay must not be negative")
	}
	switch m.Proto {
	case "":
		d.errorf(at, path+".mcp.proto", "is required; expected one of STDIO, STREAMABLEHTTP, SSE")
	case TransportSTDIO:
		if (m.Script == "") == (len(m.Cmd) == 0) {
			d.errorf(at, path+".mcp", "STDIO needs exactly one of script or cmd")
		}
		if m.URL != "" {
			d.errorf(at, path+".mcp.url", "is not used with STDIO")
		}
	case TransportStreamableHTTP, TransportSSE:
		u, err := url.Parse(m.URL)
		if m.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			d.errorf(at, path+".mcp.url", "%s needs an http:// or https:// url, got %q", m.Proto, m.URL)
		}
		if m.Script != "" || len(m.Cmd) > 0 {
			d.errorf(at, path+".mcp", "script and cmd are only for STDIO")
		}
	}
}

// keyError places a factory's error about one key of its config at that
// key. Kinds name the key they reject the way messages show it to the
// operator — "config.by_user: rate "3/x": …", the path relative to the
// entry, as DecodeConfig's errors do (see framework/README.md) — so the
// error is read back along that path, and it points at the value's own line
// rather than the entry's first one. nil when err does not name a key of
// the entry's config, which then stays an error about the entry.
func (p *PluginConfig) keyError(err error) *ConfigError {
	rest, ok := strings.CutPrefix(err.Error(), "config.")
	if !ok || p.configNode == nil {
		return nil
	}
	i := strings.Index(rest, ": ")
	if i <= 0 {
		return nil
	}
	path := rest[:i]
	if strings.ContainsAny(path, " ,") || configNodeAt(p.configNode, path) == nil {
		return nil
	}
	return p.ConfigError(path, 0, rest[i+2:], err)
}
