package framework

import "maps"

// GlobalContext is shared by every plugin that runs in one exchange. Identity
// fields come from the adapter (request headers, forwarded JWT claims); State
// and Metadata are for plugins to pass information along the pipeline.
type GlobalContext struct {
	RequestID string `json:"request_id"`
	User      string `json:"user,omitempty"`
	TenantID  string `json:"tenant_id,omitempty"`
	ServerID  string `json:"server_id,omitempty"`
	// ContentType is the request's Content-Type (cpex's
	// GlobalContext.content_type), which content_types conditions match.
	ContentType string `json:"content_type,omitempty"`
	// Claims are the forwarded JWT claims (mcp.identity.claims_header),
	// nil when there are none. Read-only. They stay in process: the cpex
	// wire format has no field for them.
	Claims   map[string]any `json:"-"`
	State    map[string]any `json:"state,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
	// text is the decoded strings of the running hook's payload
	// (PluginContext.Text), set by the executor for the run.
	text *textCache
}

// PluginContext is one plugin's view of an exchange: its own State and
// Metadata, which persist from its pre hook to its post hook of the same
// exchange, and the shared GlobalContext.
type PluginContext struct {
	State    map[string]any `json:"state,omitempty"`
	Metadata map[string]any `json:"metadata,omitempty"`
	Global   *GlobalContext `json:"global_context,omitempty"`
}

// ContextTable holds the contexts of one exchange (one JSON-RPC request and
// its response). The adapter creates one per hooked request, passes it to the
// pre hook, keeps it, and passes the same table to the post hook.
//
// A ContextTable is used by one goroutine at a time: the executor never runs
// two hooks of one exchange at once, and concurrent plugins work on copies.
type ContextTable struct {
	Global GlobalContext
	// The plugins' contexts: the first few in the table itself (a policy
	// rarely runs more on one request), the rest in a map.
	first   [4]namedContext
	n       int
	plugins map[string]*PluginContext
	text    textCache
}

type namedContext struct {
	name string
	pc   PluginContext
}

// NewContextTable returns a table with the given global context.
func NewContextTable(g GlobalContext) *ContextTable {
	return &ContextTable{Global: g}
}

// Plugin returns the named plugin's context, creating it on first use.
func (t *ContextTable) Plugin(name string) *PluginContext {
	for i := range t.n {
		if t.first[i].name == name {
			return &t.first[i].pc
		}
	}
	if pc, ok := t.plugins[name]; ok {
		return pc
	}
	if t.n < len(t.first) {
		t.first[t.n] = namedContext{name: name, pc: PluginContext{Global: &t.Global}}
		t.n++
		return &t.first[t.n-1].pc
	}
	if t.plugins == nil {
		t.plugins = make(map[string]*PluginContext, 2)
	}
	pc := &PluginContext{Global: &t.Global}
	t.plugins[name] = pc
	return pc
}

// snapshot returns a copy of a plugin context, with its own maps and its own
// copy of the global context: every plugin call works on one, so that a call
// abandoned at its deadline, or running beside others, shares no map with
// the exchange. adoptInto or mergeInto bring the changes back.
func (pc *PluginContext) snapshot() *PluginContext {
	g := *pc.Global
	g.State = maps.Clone(g.State)
	g.Metadata = maps.Clone(g.Metadata)
	return &PluginContext{State: maps.Clone(pc.State), Metadata: maps.Clone(pc.Metadata), Global: &g}
}

// adoptInto makes what a plugin left in its snapshot the exchange's state:
// its own state and metadata, and the global state and metadata.
func (pc *PluginContext) adoptInto(dst *PluginContext) {
	dst.State, dst.Metadata = pc.State, pc.Metadata
	dst.Global.State, dst.Global.Metadata = pc.Global.State, pc.Global.Metadata
}

// mergeInto copies the state and metadata a concurrent plugin set on its
// snapshot back into the exchange's contexts.
func (pc *PluginContext) mergeInto(dst *PluginContext) {
	dst.State = mergeMap(dst.State, pc.State)
	dst.Metadata = mergeMap(dst.Metadata, pc.Metadata)
	dst.Global.State = mergeMap(dst.Global.State, pc.Global.State)
	dst.Global.Metadata = mergeMap(dst.Global.Metadata, pc.Global.Metadata)
}

func mergeMap(dst, src map[string]any) map[string]any {
	if len(src) == 0 {
		return dst
	}
	if dst == nil {
		dst = make(map[string]any, len(src))
	}
	maps.Copy(dst, src)
	return dst
}
