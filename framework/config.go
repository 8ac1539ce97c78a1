package framework

import (
	"encoding/json"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// Config is the whole policy file (design section 2). Load fills defaults, so
// every field of a loaded Config holds the value in force.
type Config struct {
	// Server is the ext_proc server: listeners, TLS, limits, shutdown.
	Server ServerConfig `yaml:"server"`
	// MCP says which traffic is MCP and how blocked messages are answered.
	MCP MCPConfig `yaml:"mcp"`
	// PluginSettings are the settings shared by every plugin.
	PluginSettings PluginSettings `yaml:"plugin_settings"`
	// PluginDirs is accepted for ContextForge compatibility and ignored.
	PluginDirs []string `yaml:"plugin_dirs"`
	// Plugins is the pipeline: each entry names a kind, its mode and when it
	// runs. An empty list lets every message through.
	Plugins []PluginConfig `yaml:"plugins"`

	// Source names where the config came from (a path, or "embedded default").
	Source string `yaml:"-"`
}

// ServerConfig is the ext_proc server's own settings.
type ServerConfig struct {
	// Listen is the gRPC ext_proc address, host:port or unix:///path.
	Listen string `yaml:"listen"`
	// MetricsListen serves /metrics, /healthz and /readyz; "" disables it.
	MetricsListen string `yaml:"metrics_listen"`
	// MaxMessageBytes is the largest gRPC message accepted from Envoy (a
	// buffered body arrives in one message; grpc-go's 4 MiB is too small).
	MaxMessageBytes int `yaml:"max_message_bytes"`
	// TLS serves ext_proc over TLS, and mTLS with ClientCAFile.
	TLS TLSConfig `yaml:"tls"`
	// ShutdownGrace is how long open streams may run on after SIGTERM.
	ShutdownGrace Duration `yaml:"shutdown_grace"`
	// Pprof serves Go's /debug/pprof on the metrics port (off by default:
	// profiles show payload sizes and timings; keep the port private). Read
	// at start-up.
	Pprof bool `yaml:"pprof"`
}

// TLSConfig configures TLS; with ClientCAFile set, clients must present a
// certificate signed by it (mTLS).
type TLSConfig struct {
	// CertFile is the server certificate (PEM); it goes with KeyFile.
	CertFile string `yaml:"cert_file"`
	// KeyFile is the server's private key (PEM).
	KeyFile string `yaml:"key_file"`
	// ClientCAFile, when set, makes clients present a certificate it signed.
	ClientCAFile string `yaml:"client_ca_file"`
}

// Enabled reports whether TLS is configured.
func (t TLSConfig) Enabled() bool { return t.CertFile != "" || t.KeyFile != "" }

// MCPConfig says how MCP traffic is recognised and answered.
type MCPConfig struct {
	// Paths are where MCP lives on the route (each covers the paths below
	// it, compared in canonical form); empty means every path.
	Paths []string `yaml:"paths"`
	// MaxBodyBytes bounds an MCP request body, after decompression; a larger
	// one is rejected, never passed uninspected.
	MaxBodyBytes int `yaml:"max_body_bytes"`
	// OnParseError is what a POST body on an MCP path that is not valid
	// JSON-RPC gets: reject (a JSON-RPC parse error) or allow (passed on).
	OnParseError OnParseError `yaml:"on_parse_error"`
	// OnUnreadableResponse is what a response body or SSE event of a hooked
	// exchange that cannot be read as JSON-RPC gets: block (replaced by a
	// JSON-RPC error, or the stream ends with an error event) or allow
	// (passed on unread, counted).
	OnUnreadableResponse OnUnreadableResponse `yaml:"on_unreadable_response"`
	// Batches is inspect (every element of a JSON-RPC batch is hooked) or
	// reject (batches are refused).
	Batches BatchPolicy `yaml:"batches"`
	// BlockResponse is the shape of the answer to a blocked message:
	// jsonrpc_error, or tool_error (a tools/call result with isError, which
	// the model can read).
	BlockResponse BlockResponse `yaml:"block_response"`
	// BlockErrorCode is the JSON-RPC error code of a block whose violation
	// names none.
	BlockErrorCode int `yaml:"block_error_code"`
	// Identity says where request id, user, tenant and server come from.
	Identity IdentityConfig `yaml:"identity"`
	// ForwardHeaders are request headers shown to tool_pre_invoke plugins as
	// payload.headers (lower-cased). Authorization is shown only if listed.
	ForwardHeaders []string `yaml:"forward_headers"`
}

// IdentityConfig says where request id, user, tenant and server come from.
type IdentityConfig struct {
	// RequestIDHeader carries the request id (Envoy sets x-request-id); one
	// is generated when it is missing.
	RequestIDHeader string `yaml:"request_id_header"`
	// UserHeader carries the user, e.g. x-user-id.
	UserHeader string `yaml:"user_header"`
	// TenantHeader carries the tenant id.
	TenantHeader string `yaml:"tenant_header"`
	// ServerIDHeader carries the MCP server's id.
	ServerIDHeader string `yaml:"server_id_header"`
	// ClaimsHeader carries base64url JSON claims of a token Envoy verified
	// (jwt_authn forward_payload_header).
	ClaimsHeader string `yaml:"claims_header"`
	// UserClaim is the claim that names the user.
	UserClaim string `yaml:"user_claim"`
	// TenantClaim is the claim that names the tenant.
	TenantClaim string `yaml:"tenant_claim"`
}

// PluginSettings are the settings shared by all plugins.
type PluginSettings struct {
	// PluginTimeout bounds each plugin call unless the plugin sets timeout.
	PluginTimeout Duration `yaml:"plugin_timeout"`
	// FailOnPluginError makes a plugin whose initialisation fails abort
	// start-up (and reload) instead of loading as unavailable, its hooks
	// blocking with PLUGIN_UNAVAILABLE per its mode and on_error.
	FailOnPluginError bool `yaml:"fail_on_plugin_error"`
	// MaxPayloadSize bounds a hook's payload; a larger one is blocked with
	// PAYLOAD_TOO_LARGE.
	MaxPayloadSize int `yaml:"max_payload_size"`
	// ExecutionPool bounds how many concurrent and fire_and_forget calls run
	// at once.
	ExecutionPool int `yaml:"execution_pool"`
	// ContextMaxAge is how long a hooked request is remembered for matching
	// its result on another stream.
	ContextMaxAge Duration `yaml:"context_max_age"`
	// ContextCleanupInterval is how often expired entries are swept.
	ContextCleanupInterval Duration `yaml:"context_cleanup_interval"`
	// ContextMaxEntries bounds the remembered requests.
	ContextMaxEntries int `yaml:"context_max_entries"`
}

// PluginConfig is one entry of plugins:.
type PluginConfig struct {
	// Name is unique in the file; it labels metrics, logs and violations.
	Name string `yaml:"name"`
	// Kind is a built-in kind, one of its ContextForge aliases, or external.
	Kind string `yaml:"kind"`
	// Description is for the reader of the policy.
	Description string `yaml:"description"`
	// Version is for the reader of the policy.
	Version string `yaml:"version"`
	// Author is for the reader of the policy.
	Author string `yaml:"author"`
	// Tags are for the reader of the policy.
	Tags []string `yaml:"tags"`
	// Hooks restricts the plugin to some of its kind's hooks; empty means
	// every hook the kind implements.
	Hooks []HookType `yaml:"hooks"`
	// Mode says how the plugin's outcome affects the message (see Plugin
	// modes).
	Mode Mode `yaml:"mode"`
	// OnError is what an enforcing plugin's error or timeout does: fail
	// (block), ignore, or disable the plugin until the next reload.
	OnError OnError `yaml:"on_error"`
	// Priority orders the pipeline inside a mode phase (enforce,
	// permissive, audit, concurrent, fire_and_forget, as cpex runs them):
	// lower runs first; ties keep file order.
	Priority int `yaml:"priority"`
	// Timeout overrides plugin_settings.plugin_timeout for this plugin.
	Timeout Duration `yaml:"timeout"`
	// Conditions restrict when the plugin runs: one of them must match.
	Conditions []Condition `yaml:"conditions"`
	// Config is the kind's own settings (see Built-in kinds), decoded as
	// strictly as the rest of the file.
	Config map[string]any `yaml:"config"`
	// MCP says how to reach the plugin server of kind: external.
	MCP *ExternalMCPConfig `yaml:"mcp"`

	// Capabilities and AppliedTo are cpex's, as a plugin server declared
	// them (in a file they are accepted with a warning and not kept): they
	// are shown, not applied.
	Capabilities []string        `yaml:"-"`
	AppliedTo    json.RawMessage `yaml:"-"`

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
	// ServerIDs match the server id of the identity.
	ServerIDs []string `yaml:"server_ids" json:"server_ids,omitempty"`
	// TenantIDs match the tenant of the identity.
	TenantIDs []string `yaml:"tenant_ids" json:"tenant_ids,omitempty"`
	// Tools match the tool name of tools/call hooks.
	Tools []string `yaml:"tools" json:"tools,omitempty"`
	// Prompts match the prompt name of prompts/get hooks.
	Prompts []string `yaml:"prompts" json:"prompts,omitempty"`
	// Resources match the URI of resources/read hooks.
	Resources []string `yaml:"resources" json:"resources,omitempty"`
	// UserPatterns match the user of the identity: as a substring (cpex)
	// or as a glob.
	UserPatterns []string `yaml:"user_patterns" json:"user_patterns,omitempty"`
	// ContentTypes match the request's Content-Type (cpex) or the MIME
	// types of a resource result.
	ContentTypes []string `yaml:"content_types" json:"content_types,omitempty"`
}

// ExternalMCPConfig says how to reach an external plugin server.
type ExternalMCPConfig struct {
	// Proto is the MCP transport: STDIO (a child process), STREAMABLEHTTP or
	// SSE (a server at URL).
	Proto Transport `yaml:"proto"`
	// URL is the server's MCP endpoint (STREAMABLEHTTP, SSE).
	URL string `yaml:"url"`
	// Script is a program to run as the STDIO server, with the interpreter
	// its extension names (.py python3, .js node, .ts npx tsx, .sh sh).
	Script string `yaml:"script"`
	// Cmd is the STDIO server's command line, instead of Script.
	Cmd []string `yaml:"cmd"`
	// Env is added to the STDIO server's environment.
	Env map[string]string `yaml:"env"`
	// Cwd is the STDIO server's working directory.
	Cwd string `yaml:"cwd"`
	// Headers are sent with every HTTP request to the server.
	Headers map[string]string `yaml:"headers"`
	// TLS is how the client connects to an https:// server.
	TLS ClientTLSConfig `yaml:"tls"`
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
	ReconnectAttempts int `yaml:"reconnect_attempts"`
	// ReconnectDelay is the first wait between connection attempts, doubling.
	ReconnectDelay Duration `yaml:"reconnect_delay"`
}

// ClientTLSConfig is the TLS a client uses towards an external plugin server.
// cpex's spellings are accepted: certfile, keyfile and ca_bundle for the
// files, verify: false for insecure_skip_verify, check_hostname: false to
// verify the chain without the host name.
type ClientTLSConfig struct {
	// CAFile is the PEM bundle that verifies the plugin server.
	CAFile string `yaml:"ca_file"`
	// CertFile and KeyFile are the client certificate (mTLS).
	CertFile string `yaml:"cert_file"`
	// KeyFile is the client certificate's key.
	KeyFile string `yaml:"key_file"`
	// KeyFilePassword decrypts an encrypted KeyFile (PKCS#8 with PBES2, or
	// legacy PEM encryption); cpex's keyfile_password.
	KeyFilePassword string `yaml:"keyfile_password"`
	// InsecureSkipVerify accepts any server certificate (tests only).
	InsecureSkipVerify bool `yaml:"insecure_skip_verify"`
	// SkipHostnameCheck verifies the server's chain but not its name
	// (cpex's check_hostname: false).
	SkipHostnameCheck bool `yaml:"-"`

	// CpexCertFile is cpex's name for cert_file.
	CpexCertFile string `yaml:"certfile"`
	// CpexKeyFile is cpex's name for key_file.
	CpexKeyFile string `yaml:"keyfile"`
	// CpexCABundle is cpex's name for ca_file.
	CpexCABundle string `yaml:"ca_bundle"`
	// CpexVerify false is cpex's insecure_skip_verify: true.
	CpexVerify *bool `yaml:"verify"`
	// CpexCheckHostname false verifies the chain but not the server's name.
	CpexCheckHostname *bool `yaml:"check_hostname"`
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
