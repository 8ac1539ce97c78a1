package framework

import (
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// Config is the whole policy file (design section 2). Load fills defaults, so
// every field of a loaded Config holds the value in force.
type Config struct {
	Server         ServerConfig   `yaml:"server"`
	MCP            MCPConfig      `yaml:"mcp"`
	PluginSettings PluginSettings `yaml:"plugin_settings"`
	// PluginDirs is accepted for ContextForge compatibility and ignored.
	PluginDirs []string       `yaml:"plugin_dirs"`
	Plugins    []PluginConfig `yaml:"plugins"`

	// Source names where the config came from (a path, or "embedded default").
	Source string `yaml:"-"`
}

// ServerConfig is the ext_proc server's own settings.
type ServerConfig struct {
	Listen          string    `yaml:"listen"`
	MetricsListen   string    `yaml:"metrics_listen"`
	MaxMessageBytes int       `yaml:"max_message_bytes"`
	TLS             TLSConfig `yaml:"tls"`
	ShutdownGrace   Duration  `yaml:"shutdown_grace"`
	// Pprof serves Go's /debug/pprof on the metrics port (off by default:
	// profiles show payload sizes and timings; keep the port private). Read
	// at start-up.
	Pprof bool `yaml:"pprof"`
}

// TLSConfig configures TLS; with ClientCAFile set, clients must present a
// certificate signed by it (mTLS).
type TLSConfig struct {
	CertFile     string `yaml:"cert_file"`
	KeyFile      string `yaml:"key_file"`
	ClientCAFile string `yaml:"client_ca_file"`
}

// Enabled reports whether TLS is configured.
func (t TLSConfig) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// MCPConfig says how MCP traffic is recognised and answered.
type MCPConfig struct {
	Paths        []string     `yaml:"paths"`
	MaxBodyBytes int          `yaml:"max_body_bytes"`
	OnParseError OnParseError `yaml:"on_parse_error"`
	// OnUnreadableResponse says what happens to a response body or SSE
	// event on a hooked exchange that the filter cannot read as JSON-RPC.
	OnUnreadableResponse OnUnreadableResponse `yaml:"on_unreadable_response"`
	Batches              BatchPolicy          `yaml:"batches"`
	BlockResponse        BlockResponse        `yaml:"block_response"`
	BlockErrorCode       int                  `yaml:"block_error_code"`
	Identity             IdentityConfig       `yaml:"identity"`
	ForwardHeaders       []string             `yaml:"forward_headers"`
}

// IdentityConfig says where request id, user, tenant and server come from.
type IdentityConfig struct {
	RequestIDHeader string `yaml:"request_id_header"`
	UserHeader      string `yaml:"user_header"`
	TenantHeader    string `yaml:"tenant_header"`
	ServerIDHeader  string `yaml:"server_id_header"`
	ClaimsHeader    string `yaml:"claims_header"`
	UserClaim       string `yaml:"user_claim"`
	TenantClaim     string `yaml:"tenant_claim"`
}

// PluginSettings are the settings shared by all plugins.
type PluginSettings struct {
	PluginTimeout          Duration `yaml:"plugin_timeout"`
	FailOnPluginError      bool     `yaml:"fail_on_plugin_error"`
	MaxPayloadSize         int      `yaml:"max_payload_size"`
	ExecutionPool          int      `yaml:"execution_pool"`
	ContextMaxAge          Duration `yaml:"context_max_age"`
	ContextCleanupInterval Duration `yaml:"context_cleanup_interval"`
	ContextMaxEntries      int      `yaml:"context_max_entries"`
}

// PluginConfig is one entry of plugins:.
type PluginConfig struct {
	Name        string      `yaml:"name"`
	Kind        string      `yaml:"kind"`
	Description string      `yaml:"description"`
	Version     string      `yaml:"version"`
	Author      string      `yaml:"author"`
	Tags        []string    `yaml:"tags"`
	Hooks       []HookType  `yaml:"hooks"`
	Mode        Mode        `yaml:"mode"`
	OnError     OnError     `yaml:"on_error"`
	Priority    int         `yaml:"priority"`
	Timeout     Duration    `yaml:"timeout"`
	Conditions  []Condition `yaml:"conditions"`
	// Config is the kind's own settings, as generic values. Kinds decode it
	// strictly with DecodeConfig.
	Config map[string]any     `yaml:"config"`
	MCP    *ExternalMCPConfig `yaml:"mcp"`

	// Index is the entry's position in plugins: (ties in priority keep it).
	Index int `yaml:"-"`
	// Kind resolved through the registry's aliases ("" until resolved).
	ResolvedKind string `yaml:"-"`
	// Unrunnable says why this entry cannot run in this build (a kind it
	// does not have, a transport it does not speak). Parse sets it, with a
	// warning, when plugin_settings.fail_on_plugin_error is false; the
	// Manager then fails the entry's hooks closed per its mode and on_error,
	// and `extproc validate` reports it as an error.
	Unrunnable string `yaml:"-"`

	file       string
	line       int
	explicit   map[string]bool
	configNode *yaml.Node
	// hooksWritten counts the hooks: items in the file, before the ones we
	// do not run were dropped.
	hooksWritten int
	expand       func(string) (string, error)
}

// Pos returns "file:line" of the plugin entry, for messages.
func (p *PluginConfig) Pos() string { return pos(p.file, p.line) }

// Condition restricts when a plugin runs: every non-empty field must match.
type Condition struct {
	ServerIDs    []string `yaml:"server_ids" json:"server_ids,omitempty"`
	TenantIDs    []string `yaml:"tenant_ids" json:"tenant_ids,omitempty"`
	Tools        []string `yaml:"tools" json:"tools,omitempty"`
	Prompts      []string `yaml:"prompts" json:"prompts,omitempty"`
	Resources    []string `yaml:"resources" json:"resources,omitempty"`
	UserPatterns []string `yaml:"user_patterns" json:"user_patterns,omitempty"`
	ContentTypes []string `yaml:"content_types" json:"content_types,omitempty"`
}

// ExternalMCPConfig says how to reach an external plugin server.
type ExternalMCPConfig struct {
	Proto   Transport         `yaml:"proto"`
	URL     string            `yaml:"url"`
	Script  string            `yaml:"script"`
	Cmd     []string          `yaml:"cmd"`
	Env     map[string]string `yaml:"env"`
	Cwd     string            `yaml:"cwd"`
	Headers map[string]string `yaml:"headers"`
	TLS     ClientTLSConfig   `yaml:"tls"`
	// ErrorResults opts the plugin's post hooks in to JSON-RPC errors that
	// answer their requests (see framework.ErrorResultReader). Off by
	// default: cpex plugins written for ContextForge expect results.
	ErrorResults bool `yaml:"error_results"`
	// UDS, with STREAMABLEHTTP, connects over this Unix socket instead of
	// TCP; the URL then only gives the path and the Host header (cpex's uds).
	UDS string `yaml:"uds"`
	// ReconnectAttempts bounds the connection attempts when a session is
	// lost or cannot be made (0: until the call's deadline);
	// ReconnectDelay is the first wait between them, doubling (cpex's
	// reconnect_attempts and reconnect_delay, in seconds).
	ReconnectAttempts int      `yaml:"reconnect_attempts"`
	ReconnectDelay    Duration `yaml:"reconnect_delay"`
}

// ClientTLSConfig is the TLS a client uses towards an external plugin server.
// cpex's spellings are accepted: certfile, keyfile and ca_bundle for the
// files, verify: false for insecure_skip_verify, check_hostname: false to
// verify the chain without the host name.
type ClientTLSConfig struct {
	CAFile             string `yaml:"ca_file"`
	CertFile           string `yaml:"cert_file"`
	KeyFile            string `yaml:"key_file"`
	InsecureSkipVerify bool   `yaml:"insecure_skip_verify"`
	// SkipHostnameCheck verifies the server's chain but not its name
	// (cpex's check_hostname: false).
	SkipHostnameCheck bool `yaml:"-"`

	CpexCertFile      string `yaml:"certfile"`
	CpexKeyFile       string `yaml:"keyfile"`
	CpexCABundle      string `yaml:"ca_bundle"`
	CpexVerify        *bool  `yaml:"verify"`
	CpexCheckHostname *bool  `yaml:"check_hostname"`
}

// Defaults, as in design section 2.
const (
	DefaultListen          = "0.0.0.0:50051"
	DefaultMetricsListen   = "0.0.0.0:9090"
	DefaultMaxMessageBytes = 16 << 20
	DefaultShutdownGrace   = 10 * time.Second
	DefaultMaxBodyBytes    = 4 << 20
	DefaultBlockErrorCode  = -32000
	DefaultPluginTimeout   = 5 * time.Second
	DefaultMaxPayloadSize  = 1 << 20
	DefaultExecutionPool   = 10
	DefaultContextMaxAge   = time.Hour
	DefaultContextCleanup  = 5 * time.Minute
	DefaultContextEntries  = 100000
	DefaultPriority        = 100
)

// DefaultConfig returns a Config holding every default.
func DefaultConfig() Config {
	return Config{
		Server: ServerConfig{
			Listen:          DefaultListen,
			MetricsListen:   DefaultMetricsListen,
			MaxMessageBytes: DefaultMaxMessageBytes,
			ShutdownGrace:   Duration(DefaultShutdownGrace),
		},
		MCP: MCPConfig{
			MaxBodyBytes:         DefaultMaxBodyBytes,
			OnParseError:         OnParseErrorReject,
			OnUnreadableResponse: OnUnreadableBlock,
			Batches:              BatchesInspect,
			BlockResponse:        BlockJSONRPCError,
			BlockErrorCode:       DefaultBlockErrorCode,
			Identity: IdentityConfig{
				RequestIDHeader: "x-request-id",
				UserClaim:       "sub",
			},
		},
		PluginSettings: PluginSettings{
			PluginTimeout:          Duration(DefaultPluginTimeout),
			MaxPayloadSize:         DefaultMaxPayloadSize,
			ExecutionPool:          DefaultExecutionPool,
			ContextMaxAge:          Duration(DefaultContextMaxAge),
			ContextCleanupInterval: Duration(DefaultContextCleanup),
			ContextMaxEntries:      DefaultContextEntries,
		},
	}
}

// defaultPluginConfig is the starting point every plugins: entry is decoded onto.
func defaultPluginConfig() PluginConfig {
	return PluginConfig{Mode: ModeEnforce, OnError: OnErrorFail, Priority: DefaultPriority}
}

// EffectiveTimeout returns the plugin's timeout, or the shared one.
func (p *PluginConfig) EffectiveTimeout(s PluginSettings) time.Duration {
	if p.Timeout > 0 {
		return time.Duration(p.Timeout)
	}
	return time.Duration(s.PluginTimeout)
}
