package framework

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"
)

// entry is one loaded plugin in a Manager's pipeline.
type entry struct {
	cfg      *PluginConfig
	name     string
	mode     Mode
	onError  OnError
	priority int
	timeout  time.Duration
	plugin   Plugin
	hooks    []HookType
	// pending is set when the plugin did not load (see unavailable.go).
	pending *pending
	// readsErrors: the plugin's post hooks also read JSON-RPC errors.
	readsErrors bool
	// inline: the kind runs on the caller's goroutine (Kind.Inline).
	inline bool
	// disabled is set by on_error: disable; it lasts until the Manager is
	// replaced by a config reload.
	disabled atomic.Bool
}

// call says what one hook run is about, for deciding which entries apply.
type call struct {
	hook    HookType
	name    string
	g       *GlobalContext
	content []byte
	// errorResult: the payload is a JSON-RPC error, not a result.
	errorResult bool
}

func (e *entry) applies(c *call) bool {
	return !e.disabled.Load() && (!c.errorResult || e.readsErrors) && conditionsMatch(e.cfg.Conditions, c.hook, c.name, c.g, c.content)
}

// Outcome is the decision of a hook pipeline.
type Outcome[P Payload] struct {
	// Payload is the payload to forward: the input, or the last modification.
	Payload *P
	// Modified says whether Payload differs from the input.
	Modified bool
	// Violation, when set, blocks the message.
	Violation *Violation
	// Ran counts the plugins that ran (0: nothing applied).
	Ran int
	// HTTPHeaders and RetryDelayMS are what the plugins whose results count
	// (enforce, enforce_ignore_error, permissive) asked of the HTTP answer
	// besides their verdict (cpex's result http_headers, such as a rate
	// limiter's X-RateLimit-Remaining, and retry_delay_ms): for a header
	// the first plugin in order wins, the delay is the longest.
	HTTPHeaders  map[string]string
	RetryDelayMS int
}

// addAllowed gathers a result's http_headers and retry_delay_ms.
func (o *Outcome[P]) addAllowed(h map[string]string, delay int) {
	o.HTTPHeaders = MergeHTTPHeaders(o.HTTPHeaders, h)
	o.RetryDelayMS = max(o.RetryDelayMS, delay)
}

// Blocked reports whether the message must not pass.
func (o Outcome[P]) Blocked() bool { return o.Violation != nil }

// PanicError is the error of a plugin that panicked.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("plugin panicked: %v", e.Value) }

// ErrPluginTimeout is the error of a plugin call that overran its deadline.
var ErrPluginTimeout = errors.New("plugin timed out")

type callResult[P Payload] struct {
	res Result[P]
	err error
}

// invokeUntraced calls one plugin under its deadline (invoke, in
// tracing.go, adds its span). The call runs in its own
// goroutine so that a plugin that ignores ctx cannot hold the exchange past
// its timeout; a panic becomes a PanicError.
//
// The plugin works on a snapshot of its context. The snapshot is returned
// when the call finished (whatever its outcome) so the caller can adopt what
// the plugin wrote; after a timeout it is nil: the abandoned call may still be
// running and must not share maps with the exchange.
func invokeUntraced[P Payload](ctx context.Context, m *Manager, e *entry, spec *hookSpec[P], p *P, pc *PluginContext) (Result[P], CallOutcome, *PluginContext, error) {
	pl, ok := e.pluginFor(spec.hook)
	if !ok {
		return Result[P]{}, OutcomeUnavailable, nil, e.unavailableError()
	}
	if pl == nil {
		return Result[P]{}, OutcomeContinue, nil, nil
	}
	cctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	snap := pc.snapshot()
	ch := make(chan callResult[P], 1)
	job := func() {
		defer func() {
			if r := recover(); r != nil {
				ch <- callResult[P]{err: &PanicError{Value: r, Stack: debug.Stack()}}
			}
		}()
		res, err := spec.call(pl, cctx, p, snap)
		ch <- callResult[P]{res, err}
	}
	if !m.workers.run(cctx, job) {
		// Every worker is busy (with calls that ignore their deadline):
		// this call gets no worker before its own deadline.
		if ctx.Err() != nil {
			return Result[P]{}, OutcomeError, nil, ctx.Err()
		}
		return Result[P]{}, OutcomeTimeout, nil, fmt.Errorf("%w after %s: no worker free", ErrPluginTimeout, e.timeout)
	}
	select {
	case r := <-ch:
		var pe *PanicError
		switch {
		case errors.As(r.err, &pe):
			return Result[P]{}, OutcomePanic, snap, r.err
		case r.err != nil && errors.Is(r.err, context.DeadlineExceeded) && cctx.Err() != nil:
			return Result[P]{}, OutcomeTimeout, snap, fmt.Errorf("%w after %s: %w", ErrPluginTimeout, e.timeout, r.err)
		case r.err != nil:
			return Result[P]{}, OutcomeError, snap, r.err
		case r.res.Violation != nil:
			return r.res, OutcomeViolation, snap, nil
		case r.res.ModifiedPayload != nil:
			return r.res, OutcomeModified, snap, nil
		}
		return r.res, OutcomeContinue, snap, nil
	case <-cctx.Done():
		if ctx.Err() != nil {
			// The exchange itself went away (Envoy closed the stream).
			return Result[P]{}, OutcomeError, nil, ctx.Err()
		}
		return Result[P]{}, OutcomeTimeout, nil, fmt.Errorf("%w after %s", ErrPluginTimeout, e.timeout)
	}
}

// invokeInline calls an Inline kind's plugin on the caller's goroutine, on
// the exchange's own context: nothing is abandoned, so nothing needs a copy.
// A panic is recovered; a call that returns after its timeout is a timeout
// and its result is discarded, as if the deadline had been enforced.
//
// start is when the call began, as the caller read the clock; end is when
// it returned (start when nothing was called). The clock is read once per
// call: the end of one call starts the next (execute), where reading it
// four times per call was 3% of an exchange's CPU.
func invokeInline[P Payload](ctx context.Context, e *entry, spec *hookSpec[P], p *P, pc *PluginContext, start time.Time) (res Result[P], oc CallOutcome, end time.Time, err error) {
	pl, ok := e.pluginFor(spec.hook)
	if !ok {
		return Result[P]{}, OutcomeUnavailable, start, e.unavailableError()
	}
	if pl == nil {
		return Result[P]{}, OutcomeContinue, start, nil
	}
	defer func() {
		if r := recover(); r != nil {
			res, oc, end, err = Result[P]{}, OutcomePanic, time.Now(), &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	res, err = spec.call(pl, ctx, p, pc)
	end = time.Now()
	switch {
	case end.Sub(start) > e.timeout:
		return Result[P]{}, OutcomeTimeout, end, fmt.Errorf("%w after %s (the call returned after its deadline)", ErrPluginTimeout, e.timeout)
	case err != nil:
		return Result[P]{}, OutcomeError, end, err
	case res.Violation != nil:
		return res, OutcomeViolation, end, nil
	case res.ModifiedPayload != nil:
		return res, OutcomeModified, end, nil
	}
	return res, OutcomeContinue, end, nil
}

// execute runs the pipeline of one hook over a payload (design section 3).
// When no plugin applies it returns without allocating.
func execute[P Payload](ctx context.Context, m *Manager, spec *hookSpec[P], payload *P, t *ContextTable, errorResult bool) Outcome[P] {
	out := Outcome[P]{Payload: payload}
	entries := m.byHook[spec.hook.index()]
	if len(entries) == 0 {
		return out
	}
	var content []byte
	if spec.content != nil {
		content = spec.content(payload)
	}
	name := spec.name(payload)
	c := &call{hook: spec.hook, name: name, g: &t.Global, content: content, errorResult: errorResult}
	t.Global.text = &t.text // the run's plugins decode the payload's strings once (PluginContext.Text)
	ctx, span := startHookSpan(ctx, spec.hook, name)
	hookStart := time.Now()
	clock := hookStart // the clock as last read: when the last call returned
	var deferred []deferredCall[P]
	sizeChecked := false
	// inlineOnly: every call of the run ran on this goroutine and returned,
	// so none still holds the run's decoded text.
	inlineOnly := true

	for i := 0; i < len(entries); {
		e := entries[i]
		if out.Violation != nil {
			// Decided: only fire_and_forget plugins still get their copy.
			if e.mode == ModeFireAndForget && e.applies(c) {
				deferred = append(deferred, deferredCall[P]{e, out.Payload, t.Plugin(e.name).snapshot()})
			}
			i++
			continue
		}
		if e.mode == ModeConcurrent {
			j := i + 1
			for j < len(entries) && entries[j].mode == ModeConcurrent && entries[j].priority == e.priority {
				j++
			}
			calls := concurrentCalls(spec, entries[i:j], c, t)
			i = j
			if len(calls) == 0 {
				continue
			}
			if !sizeChecked {
				sizeChecked = true
				if v := checkSize(m, spec, payload); v != nil {
					out.Violation = v
					continue
				}
			}
			out.Ran += len(calls)
			inlineOnly = false
			out.Violation = runConcurrent(ctx, m, spec, calls, out.Payload, t, name)
			clock = time.Now() // the group's time is not the next call's
			continue
		}
		if !e.applies(c) {
			i++
			continue
		}
		if !sizeChecked {
			sizeChecked = true
			if v := checkSize(m, spec, payload); v != nil {
				out.Violation = v
				continue // look at this entry again, for fire_and_forget
			}
		}
		i++
		if e.mode == ModeFireAndForget {
			deferred = append(deferred, deferredCall[P]{e, out.Payload, t.Plugin(e.name).snapshot()})
			continue
		}
		out.Ran++
		start := clock
		pc := t.Plugin(e.name)
		var (
			res Result[P]
			oc  CallOutcome
			err error
		)
		if e.inline {
			res, oc, clock, err = invokeInlineTraced(ctx, e, spec, out.Payload, pc, start)
		} else {
			inlineOnly = false
			var snap *PluginContext
			res, oc, snap, err = invoke(ctx, m, e, spec, out.Payload, pc)
			clock = time.Now()
			if snap != nil {
				snap.adoptInto(pc)
			}
		}
		out.Violation = m.settle(e, spec.hook, &t.Global, name, clock.Sub(start), res.Violation, err, oc)
		if out.Violation == nil && (oc == OutcomeModified || oc == OutcomeContinue) && e.mode.chainsPayload() {
			out.addAllowed(res.HTTPHeaders, res.RetryDelayMS)
		}
		applied := oc == OutcomeModified && out.Violation == nil && e.mode.chainsPayload()
		if applied {
			out.Payload = res.ModifiedPayload
			out.Modified = true
		}
		if spec.hook.IsList() && (oc == OutcomeModified || oc == OutcomeContinue) {
			m.reportHidden(e, spec.hook, &t.Global, res.Metadata, applied)
		}
	}
	// The run's decoded strings (PluginContext.Text) go with it.
	t.text.reset(inlineOnly)
	t.Global.text = nil
	for _, d := range deferred {
		d.pc.Global.text = nil // runs after the run: it decodes for itself
		fireAndForget(m, spec, d, &t.Global, name)
	}
	endHookSpan(span, out.Ran, out.Modified, out.Violation)
	if out.Ran > 0 || out.Violation != nil {
		m.observer.ObserveHookRun(HookRun{Hook: spec.hook, Plugins: out.Ran, Modified: out.Modified, Blocked: out.Violation != nil, Duration: clock.Sub(hookStart)})
	}
	return out
}

// chainsPayload reports whether a modification by a plugin in this mode is
// passed on to the next plugin and, in the end, to the message.
func (m Mode) chainsPayload() bool {
	return m == ModeEnforce || m == ModeEnforceIgnoreError || m == ModePermissive
}

// blocksOnViolation reports whether a violation in this mode stops the message.
func (m Mode) blocksOnViolation() bool {
	return m == ModeEnforce || m == ModeEnforceIgnoreError || m == ModeConcurrent
}

// honoursOnError reports whether on_error decides what an error does in
// this mode; in the others an error is logged and ignored.
func (m Mode) honoursOnError() bool { return m == ModeEnforce || m == ModeConcurrent }

func checkSize[P Payload](m *Manager, spec *hookSpec[P], p *P) *Violation {
	size := spec.size(p)
	if size <= m.maxPayload {
		return nil
	}
	return &Violation{
		Reason:      "payload too large",
		Description: fmt.Sprintf("the %s payload is %d bytes; plugin_settings.max_payload_size is %d", spec.hook, size, m.maxPayload),
		Code:        CodePayloadTooLarge,
		Details:     map[string]any{"size": size, "limit": m.maxPayload},
	}
}

// settle applies a plugin's mode and on_error to one call's outcome, reports
// it, and returns the violation that blocks the message, if any.
func (m *Manager) settle(e *entry, h HookType, g *GlobalContext, name string, d time.Duration, v *Violation, err error, oc CallOutcome) *Violation {
	call := PluginCall{Hook: h, Plugin: e.name, Mode: e.mode, Duration: d, Outcome: oc}
	var block *Violation
	switch {
	case oc == OutcomeViolation:
		// The plugin's Violation is its own (it may return a shared
		// value): the executor names the plugin on a copy.
		vc := *v
		vc.Plugin = e.name
		v = &vc
		call.Violation = v
		if e.mode.blocksOnViolation() {
			block = v
		}
		m.auditViolation(e, h, g, name, v, block != nil)
	case oc.IsError():
		block = m.pluginFailed(e, h, g, err, oc)
	}
	call.Blocked = block != nil
	m.observer.ObservePluginCall(call)
	return block
}

// pluginFailed handles an error, timeout or panic per mode and on_error.
func (m *Manager) pluginFailed(e *entry, h HookType, g *GlobalContext, err error, oc CallOutcome) *Violation {
	attrs := []any{"plugin", e.name, "hook", string(h), "mode", string(e.mode), "on_error", string(e.onError), "outcome", string(oc), "request_id", g.RequestID, "error", err.Error()}
	var pe *PanicError
	if errors.As(err, &pe) {
		attrs = append(attrs, "stack", string(pe.Stack))
	}
	if oc == OutcomeUnavailable && e.onError == OnErrorDisable {
		// Skipped while it is down, not disabled: a retry may bring it back.
		m.logger.Warn("plugin unavailable; skipped (on_error: disable)", attrs...)
		return nil
	}
	if e.onError == OnErrorDisable {
		e.disabled.Store(true)
		m.logger.Error("plugin failed; disabled until the next config reload", attrs...)
		return nil
	}
	if !e.mode.honoursOnError() || e.onError == OnErrorIgnore {
		m.logger.Warn("plugin failed; ignored", attrs...)
		return nil
	}
	m.logger.Error("plugin failed; message blocked", attrs...)
	code, reason := CodePluginError, "policy plugin error"
	switch oc {
	case OutcomeTimeout:
		code, reason = CodePluginTimeout, "policy plugin timed out"
	case OutcomeUnavailable:
		code, reason = CodePluginUnavailable, "policy plugin unavailable"
	}
	// The client learns which plugin failed, never why: the error may hold
	// internal detail.
	return &Violation{Reason: reason, Description: "the request could not be checked by policy, so it was not allowed", Code: code, Plugin: e.name}
}

// auditViolation writes the audit record of design section 8: who, where,
// which rule — never the payload.
func (m *Manager) auditViolation(e *entry, h HookType, g *GlobalContext, name string, v *Violation, blocked bool) {
	attrs := []any{"audit", true, "plugin", e.name, "mode", string(e.mode), "hook", string(h), "code", v.Code, "reason", v.Reason,
		"blocked", blocked, "request_id", g.RequestID, "user", g.User, "tenant_id", g.TenantID, "server_id", g.ServerID,
		h.Family().String(), name}
	if len(v.Details) > 0 {
		// Details name the rule that matched (never the payload, by contract).
		attrs = append(attrs, "details", v.Details)
	}
	m.logger.Warn("policy violation", attrs...)
}

// reportHidden writes an audit record for each list item a plugin hid (or,
// in a mode whose changes are discarded, would have hidden) and for each it
// flagged but left in the list, and counts them.
func (m *Manager) reportHidden(e *entry, h HookType, g *GlobalContext, md map[string]any, applied bool) {
	if flagged, _ := md[MetadataFlaggedItems].([]HiddenItem); len(flagged) > 0 {
		m.auditItems("list item flagged", e, h, g, flagged, false)
		if fo, ok := m.observer.(FlaggedItemsObserver); ok {
			fo.ObserveFlaggedItems(e.name, h, flagged)
		}
	}
	if items, _ := md[MetadataHiddenItems].([]HiddenItem); len(items) > 0 {
		m.auditItems("list item hidden", e, h, g, items, applied)
		if ho, ok := m.observer.(HiddenItemsObserver); ok && applied {
			ho.ObserveHiddenItems(e.name, h, items)
		}
	}
}

func (m *Manager) auditItems(msg string, e *entry, h HookType, g *GlobalContext, items []HiddenItem, hidden bool) {
	for _, it := range items {
		m.logger.Warn(msg,
			"audit", true, "plugin", e.name, "mode", string(e.mode), "hook", string(h), "code", it.Code, "reason", it.Reason,
			"hidden", hidden, "request_id", g.RequestID, "user", g.User, "tenant_id", g.TenantID, "server_id", g.ServerID,
			h.Family().String(), it.Name)
	}
}

// concurrentCall is one plugin of a concurrent group and what its call did.
type concurrentCall[P Payload] struct {
	e    *entry
	pc   *PluginContext
	snap *PluginContext
	res  Result[P]
	err  error
	oc   CallOutcome
	dur  time.Duration
}

// concurrentCalls returns the plugins of a concurrent group that apply,
// deciding each condition once.
func concurrentCalls[P Payload](spec *hookSpec[P], group []*entry, c *call, t *ContextTable) []concurrentCall[P] {
	var calls []concurrentCall[P]
	for _, e := range group {
		if e.applies(c) {
			if calls == nil {
				calls = make([]concurrentCall[P], 0, len(group))
			}
			calls = append(calls, concurrentCall[P]{e: e, pc: t.Plugin(e.name)})
		}
	}
	return calls
}

// runConcurrent runs the calls of a concurrent group side by side, each on a
// snapshot of its context; state they set is merged back in file order. The
// first violation (or failing plugin) in file order blocks.
func runConcurrent[P Payload](ctx context.Context, m *Manager, spec *hookSpec[P], calls []concurrentCall[P], p *P, t *ContextTable, name string) *Violation {
	var wg sync.WaitGroup
	for i := range calls {
		c := &calls[i]
		if err := m.acquire(ctx); err != nil {
			c.err, c.oc = err, OutcomeError
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer m.release()
			start := time.Now()
			c.res, c.oc, c.snap, c.err = invoke(ctx, m, c.e, spec, p, c.pc)
			c.dur = time.Since(start)
		}()
	}
	wg.Wait()
	var block *Violation
	for i := range calls {
		c := &calls[i]
		if c.snap != nil {
			c.snap.mergeInto(c.pc)
		}
		if v := m.settle(c.e, spec.hook, &t.Global, name, c.dur, c.res.Violation, c.err, c.oc); block == nil {
			block = v
		}
	}
	return block
}

type deferredCall[P Payload] struct {
	e  *entry
	p  *P
	pc *PluginContext
}

// fireAndForget runs a plugin after the decision, on a copy of its context,
// bounded by the execution pool: when the pool is full the call is dropped
// and counted, so that a slow observer cannot pile up goroutines.
func fireAndForget[P Payload](m *Manager, spec *hookSpec[P], d deferredCall[P], g *GlobalContext, name string) {
	if !m.tryAcquire() {
		m.logger.Warn("execution pool full; fire_and_forget call dropped", "plugin", d.e.name, "hook", string(spec.hook), "request_id", g.RequestID)
		m.observer.ObservePluginCall(PluginCall{Hook: spec.hook, Plugin: d.e.name, Mode: d.e.mode, Outcome: OutcomeError})
		return
	}
	m.background.Add(1)
	go func() {
		defer m.background.Done()
		defer m.release()
		start := time.Now()
		res, oc, _, err := invoke(m.bgCtx, m, d.e, spec, d.p, d.pc)
		m.settle(d.e, spec.hook, d.pc.Global, name, time.Since(start), res.Violation, err, oc)
	}()
}
