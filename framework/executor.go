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
	// disabled is set by on_error: disable; it lasts until the Manager is
	// replaced by a config reload.
	disabled atomic.Bool
}

func (e *entry) applies(h HookType, name string, g *GlobalContext, content []byte) bool {
	return !e.disabled.Load() && conditionsMatch(e.cfg.Conditions, h, name, g, content)
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
func invokeUntraced[P Payload](ctx context.Context, e *entry, spec *hookSpec[P], p *P, pc *PluginContext) (Result[P], CallOutcome, *PluginContext, error) {
	cctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	snap := pc.snapshot()
	ch := make(chan callResult[P], 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				ch <- callResult[P]{err: &PanicError{Value: r, Stack: debug.Stack()}}
			}
		}()
		res, err := spec.call(e.plugin, cctx, p, snap)
		ch <- callResult[P]{res, err}
	}()
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

// execute runs the pipeline of one hook over a payload (design section 3).
// When no plugin applies it returns without allocating.
func execute[P Payload](ctx context.Context, m *Manager, spec *hookSpec[P], payload *P, t *ContextTable) Outcome[P] {
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
	ctx, span := startHookSpan(ctx, spec.hook, name)
	hookStart := time.Now()
	var deferred []deferredCall[P]
	sizeChecked := false

	for i := 0; i < len(entries); {
		e := entries[i]
		if out.Violation != nil {
			// Decided: only fire_and_forget plugins still get their copy.
			if e.mode == ModeFireAndForget && e.applies(spec.hook, name, &t.Global, content) {
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
			calls := concurrentCalls(spec, entries[i:j], name, t, content)
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
			out.Violation = runConcurrent(ctx, m, spec, calls, out.Payload, t, name)
			continue
		}
		if !e.applies(spec.hook, name, &t.Global, content) {
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
		start := time.Now()
		pc := t.Plugin(e.name)
		res, oc, snap, err := invoke(ctx, e, spec, out.Payload, pc)
		if snap != nil {
			snap.adoptInto(pc)
		}
		out.Violation = m.settle(e, spec.hook, &t.Global, name, time.Since(start), res.Violation, err, oc)
		if oc == OutcomeModified && out.Violation == nil && e.mode.chainsPayload() {
			out.Payload = res.ModifiedPayload
			out.Modified = true
		}
	}
	for _, d := range deferred {
		fireAndForget(m, spec, d, &t.Global, name)
	}
	endHookSpan(span, out.Ran, out.Modified, out.Violation)
	if out.Ran > 0 || out.Violation != nil {
		m.observer.ObserveHookRun(HookRun{Hook: spec.hook, Plugins: out.Ran, Modified: out.Modified, Blocked: out.Violation != nil, Duration: time.Since(hookStart)})
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
		v.Plugin = e.name
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
	if oc == OutcomeTimeout {
		code, reason = CodePluginTimeout, "policy plugin timed out"
	}
	// The client learns which plugin failed, never why: the error may hold
	// internal detail.
	return &Violation{Reason: reason, Description: "the request could not be checked by policy, so it was not allowed", Code: code, Plugin: e.name}
}

// auditViolation writes the audit record of design section 8: who, where,
// which rule — never the payload.
func (m *Manager) auditViolation(e *entry, h HookType, g *GlobalContext, name string, v *Violation, blocked bool) {
	m.logger.Warn("policy violation",
		"audit", true, "plugin", e.name, "mode", string(e.mode), "hook", string(h), "code", v.Code, "reason", v.Reason,
		"blocked", blocked, "request_id", g.RequestID, "user", g.User, "tenant_id", g.TenantID, "server_id", g.ServerID,
		h.Family().String(), name)
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
func concurrentCalls[P Payload](spec *hookSpec[P], group []*entry, name string, t *ContextTable, content []byte) []concurrentCall[P] {
	var calls []concurrentCall[P]
	for _, e := range group {
		if e.applies(spec.hook, name, &t.Global, content) {
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
			c.res, c.oc, c.snap, c.err = invoke(ctx, c.e, spec, p, c.pc)
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
		res, oc, _, err := invoke(m.bgCtx, d.e, spec, d.p, d.pc)
		m.settle(d.e, spec.hook, d.pc.Global, name, time.Since(start), res.Violation, err, oc)
	}()
}
