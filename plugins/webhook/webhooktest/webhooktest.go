// Package webhooktest is a stand-in, for tests, for a team's policy
// service that the webhook kind calls: an HTTP server on 127.0.0.1 that
// reads the hook call (hook_type, plugin_name, payload, context — the
// arguments of ContextForge's invoke_hook) and answers with ContextForge's
// PluginResult JSON (continue_processing, modified_payload, violation,
// metadata), as Decide says.
//
// It checks what it receives: a POST of application/json whose body is an
// object with exactly those four members, hook_type a hook name, payload
// and context objects; anything else is answered 400, so that a client's
// mistake shows in its tests. SetFault makes it slow, failing or
// malformed.
package webhooktest

import (
	"bytes"
	"encoding/json"
	"net/http"
	"slices"
	"strings"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/servicetest"
)

// Fault changes how the server answers (servicetest.Fault).
type Fault = servicetest.Fault

// Hooks are the hook names a call may carry.
var Hooks = []string{"tool_pre_invoke", "tool_post_invoke", "prompt_pre_fetch", "prompt_post_fetch", "resource_pre_fetch", "resource_post_fetch"}

// Call is one hook call the server received.
type Call struct {
	HookType   string          `json:"hook_type"`
	PluginName string          `json:"plugin_name"`
	Payload    json.RawMessage `json:"payload"`
	Context    json.RawMessage `json:"context"`
	Header     http.Header     `json:"-"`
}

// Global returns the call's global context (request_id, user, tenant_id,
// server_id).
func (c Call) Global() map[string]any {
	var ctx struct {
		Global map[string]any `json:"global_context"`
	}
	_ = json.Unmarshal(c.Context, &ctx)
	return ctx.Global
}

// Server is the stand-in. URL is the endpoint to configure.
type Server struct {
	URL string
	// Decide answers a call: the HTTP status and the body (marshalled to
	// JSON unless it is a string, sent as it is). nil answers
	// {"continue_processing":true}.
	Decide func(Call) (int, any)

	stop   func()
	faults servicetest.Faults
	log    servicetest.Log[Call]
}

// New starts a server; its endpoint is URL (…/hooks).
func New(decide func(Call) (int, any)) (*Server, error) {
	s := &Server{Decide: decide}
	mux := http.NewServeMux()
	mux.HandleFunc("/hooks", s.hook)
	base, stop, err := servicetest.Serve(mux)
	if err != nil {
		return nil, err
	}
	s.URL, s.stop = base+"/hooks", stop
	return s, nil
}

// Close stops the server.
func (s *Server) Close() { s.stop() }

// SetFault sets how the following calls are answered.
func (s *Server) SetFault(f Fault) { s.faults.Set(f) }

// Calls returns the calls received so far.
func (s *Server) Calls() []Call { return s.log.All() }

func (s *Server) hook(w http.ResponseWriter, r *http.Request) {
	fault := s.faults.Get()
	if !fault.Wait(r) {
		return
	}
	if r.Method != http.MethodPost || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		http.Error(w, "POST application/json only", http.StatusBadRequest)
		return
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(http.MaxBytesReader(w, r.Body, 8<<20)); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var c Call
	dec := json.NewDecoder(&b)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		http.Error(w, "body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if !slices.Contains(Hooks, c.HookType) || c.PluginName == "" || !isObject(c.Payload) || !isObject(c.Context) {
		http.Error(w, "hook_type, plugin_name, payload and context are required", http.StatusBadRequest)
		return
	}
	c.Header = r.Header.Clone()
	s.log.Add(c)
	if fault.Respond(w) {
		return
	}
	status, body := http.StatusOK, any(map[string]any{"continue_processing": true})
	if s.Decide != nil {
		status, body = s.Decide(c)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if str, ok := body.(string); ok {
		_, _ = w.Write([]byte(str))
		return
	}
	if body != nil {
		_ = json.NewEncoder(w).Encode(body)
	}
}

func isObject(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && t[0] == '{'
}
