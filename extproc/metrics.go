package extproc

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Metrics are the Prometheus families of design section 8, all prefixed
// mcp_extproc_. Labels hold only bounded values: known MCP methods (others
// count as "other"), plugin names from the config, violation codes.
type Metrics struct {
	Requests       *prometheus.CounterVec   // method, outcome
	Results        *prometheus.CounterVec   // hook, outcome
	Rejections     *prometheus.CounterVec   // reason
	HookDuration   *prometheus.HistogramVec // hook
	PluginDuration *prometheus.HistogramVec // plugin, hook
	Violations     *prometheus.CounterVec   // plugin, code
	PluginErrors   *prometheus.CounterVec   // plugin, kind
	ActiveStreams  prometheus.Gauge
	ConfigReloads  *prometheus.CounterVec // result
	SessionEntries prometheus.Gauge
	Unreadable     *prometheus.CounterVec // action (block, allow)
	HiddenItems    *prometheus.CounterVec // plugin, code
	FlaggedItems   *prometheus.CounterVec // plugin, code
	// Unavailable reports, at each scrape, the configured plugins that are
	// not running (mcp_extproc_plugin_unavailable{plugin}); the Server
	// points it at its policy in force.
	Unavailable *unavailableCollector

	// The children the hot path counts on, cached (labelcache.go).
	requests       *children[prometheus.Counter]
	results        *children[prometheus.Counter]
	hookDuration   *children[prometheus.Observer]
	pluginDuration *children[prometheus.Observer]
	violations     *children[prometheus.Counter]
	pluginErrors   *children[prometheus.Counter]
}

// unavailableCollector exports the Manager's Unavailable list as a gauge
// read at scrape time, so that it follows reloads and background retries
// without bookkeeping.
type unavailableCollector struct {
	desc   *prometheus.Desc
	source atomic.Pointer[func() []framework.Unavailable]
}

func (c *unavailableCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *unavailableCollector) Collect(ch chan<- prometheus.Metric) {
	src := c.source.Load()
	if src == nil {
		return
	}
	for _, u := range (*src)() {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, 1, u.Plugin)
	}
}

// Request outcomes, the outcome label of mcp_extproc_requests_total.
const (
	OutcomeAllowed  = "allowed"
	OutcomeModified = "modified"
	OutcomeBlocked  = "blocked"
	OutcomeRejected = "rejected"
)

// NewMetrics creates the families and registers them with reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	buckets := []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}
	m := &Metrics{
		Requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_extproc_requests_total",
			Help: "MCP JSON-RPC messages seen, by method and outcome (allowed, modified, blocked, rejected).",
		}, []string{"method", "outcome"}),
		Results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_extproc_results_total",
			Help: "Results post-hooked, by hook and outcome (allowed, modified, blocked); matched says how the request was found.",
		}, []string{"hook", "outcome", "matched"}),
		Rejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_extproc_rejections_total",
			Help: "Bodies rejected before any plugin ran, by reason (parse_error, invalid_request, body_too_large, unsupported_encoding, header_mismatch, batch_rejected).",
		}, []string{"reason"}),
		HookDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mcp_extproc_hook_duration_seconds", Help: "Time to run one hook pipeline.", Buckets: buckets,
		}, []string{"hook"}),
		PluginDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "mcp_extproc_plugin_duration_seconds", Help: "Time of one plugin call.", Buckets: buckets,
		}, []string{"plugin", "hook"}),
		Violations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_extproc_violations_total", Help: "Policy violations raised, by plugin and code.",
		}, []string{"plugin", "code"}),
		PluginErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_extproc_plugin_errors_total", Help: "Plugin calls that failed, by plugin and kind (error, timeout, panic).",
		}, []string{"plugin", "kind"}),
		ActiveStreams: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mcp_extproc_active_streams", Help: "ext_proc streams open now.",
		}),
		ConfigReloads: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_extproc_config_reloads_total", Help: "Config reloads, by result (success, failure).",
		}, []string{"result"}),
		SessionEntries: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "mcp_extproc_session_table_entries", Help: "Hooked requests remembered for matching results on other streams.",
		}),
		Unreadable: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_extproc_unreadable_responses_total",
			Help: "Response bodies and SSE events of hooked exchanges that could not be read as JSON-RPC, by action taken (mcp.on_unreadable_response: block, allow).",
		}, []string{"action"}),
		HiddenItems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_extproc_list_items_hidden_total",
			Help: "Tools, prompts and resources removed from list results, by plugin and code.",
		}, []string{"plugin", "code"}),
		FlaggedItems: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "mcp_extproc_list_items_flagged_total",
			Help: "Tools, prompts and resources in list results that a plugin found fault with but left in the list (audit-only actions), by plugin and code.",
		}, []string{"plugin", "code"}),
	}
	m.Unavailable = &unavailableCollector{desc: prometheus.NewDesc("mcp_extproc_plugin_unavailable",
		"1 for each configured plugin that is not running (it failed to start, or its kind is not in this build); its hooks fail closed per its mode and on_error.",
		[]string{"plugin"}, nil)}
	reg.MustRegister(m.Unavailable, m.Requests, m.Results, m.Rejections, m.HookDuration, m.PluginDuration, m.Violations,
		m.PluginErrors, m.ActiveStreams, m.ConfigReloads, m.SessionEntries, m.Unreadable, m.HiddenItems, m.FlaggedItems)
	m.requests = newChildren(2, m.Requests.WithLabelValues)
	m.results = newChildren(3, m.Results.WithLabelValues)
	m.hookDuration = newChildren(1, m.HookDuration.WithLabelValues)
	m.pluginDuration = newChildren(2, m.PluginDuration.WithLabelValues)
	m.violations = newChildren(2, m.Violations.WithLabelValues)
	m.pluginErrors = newChildren(2, m.PluginErrors.WithLabelValues)
	m.preRegister()
	return m
}

// request counts one message in mcp_extproc_requests_total.
func (m *Metrics) request(method, outcome string) {
	m.requests.get(labelValues{method, outcome}).Inc()
}

// result counts one post-hooked result in mcp_extproc_results_total.
func (m *Metrics) result(hook framework.HookType, outcome, matched string) {
	m.results.get(labelValues{string(hook), outcome, matched}).Inc()
}

// preRegister creates the common series of the counters at zero, so that a
// scrape before any traffic shows them (and rate() has a starting point)
// rather than families that appear on first use. Series whose labels come
// from the policy (plugin names, violation codes) appear when first counted.
func (m *Metrics) preRegister() {
	outcomes := []string{OutcomeAllowed, OutcomeModified, OutcomeBlocked}
	for _, method := range []string{"tools/call", "prompts/get", "resources/read"} {
		for _, o := range append(outcomes, OutcomeRejected) {
			m.Requests.WithLabelValues(method, o)
		}
	}
	for _, hook := range []framework.HookType{framework.ToolPostInvoke, framework.PromptPostFetch, framework.ResourcePostFetch} {
		for _, o := range outcomes {
			m.Results.WithLabelValues(string(hook), o, matchStream)
		}
	}
	for _, r := range []string{rejectParse, rejectInvalid, rejectBodyTooLarge, rejectUnsupportedEncoding, rejectHeaderMismatch, rejectBatch, rejectResponse} {
		m.Rejections.WithLabelValues(r)
	}
	for _, r := range []string{"success", "failure"} {
		m.ConfigReloads.WithLabelValues(r)
	}
	for _, a := range []string{"block", "allow"} {
		m.Unreadable.WithLabelValues(a)
	}
}

// ObserveHiddenItems implements framework.HiddenItemsObserver.
func (m *Metrics) ObserveHiddenItems(plugin string, _ framework.HookType, items []framework.HiddenItem) {
	for _, it := range items {
		m.HiddenItems.WithLabelValues(plugin, it.Code).Inc()
	}
}

// ObserveFlaggedItems implements framework.FlaggedItemsObserver.
func (m *Metrics) ObserveFlaggedItems(plugin string, _ framework.HookType, items []framework.HiddenItem) {
	for _, it := range items {
		m.FlaggedItems.WithLabelValues(plugin, it.Code).Inc()
	}
}

// ObservePluginCall implements framework.Observer.
func (m *Metrics) ObservePluginCall(c framework.PluginCall) {
	m.pluginDuration.get(labelValues{c.Plugin, string(c.Hook)}).Observe(c.Duration.Seconds())
	if c.Violation != nil {
		m.violations.get(labelValues{c.Plugin, c.Violation.Code}).Inc()
	}
	if c.Outcome.IsError() {
		m.pluginErrors.get(labelValues{c.Plugin, string(c.Outcome)}).Inc()
	}
}

// ObserveHookRun implements framework.Observer.
func (m *Metrics) ObserveHookRun(r framework.HookRun) {
	m.hookDuration.get(labelValues{string(r.Hook)}).Observe(r.Duration.Seconds())
}

// knownMethods bounds the method label: anything else is "other".
var knownMethods = map[string]bool{
	"initialize": true, "ping": true, "tools/list": true, "tools/call": true,
	"prompts/list": true, "prompts/get": true, "resources/list": true, "resources/read": true,
	"resources/templates/list": true, "resources/subscribe": true, "resources/unsubscribe": true,
	"completion/complete": true, "logging/setLevel": true, "notifications/initialized": true,
	"notifications/cancelled": true, "notifications/progress": true,
}

func methodLabel(method string) string {
	if knownMethods[method] {
		return method
	}
	return "other"
}
