package framework

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync/atomic"
	"time"
)

// CodePluginUnavailable is the violation of a plugin that is configured but
// not running (a server that could not be reached, a command that does not
// exist, a kind this build does not have).
const CodePluginUnavailable = "PLUGIN_UNAVAILABLE"

// ErrPluginUnavailable is the error of a call to a plugin that is configured
// but not running. The executor turns it into a PLUGIN_UNAVAILABLE violation
// for enforce and concurrent plugins with on_error: fail.
var ErrPluginUnavailable = errors.New("plugin is configured but not running")

// OutcomeUnavailable is the outcome of a call to a plugin that is not running.
const OutcomeUnavailable CallOutcome = "unavailable"

// Unavailable describes a configured plugin that is not running.
type Unavailable struct {
	Plugin string
	Reason string
}

// pending is the state of an entry whose plugin did not load: why, and the
// plugin once a background retry brings it up. Calls read live without a
// lock; until it is set they fail with ErrPluginUnavailable.
type pending struct {
	reason atomic.Pointer[string]
	live   atomic.Pointer[livePlugin]
	// retry is false when nothing can change by retrying (an unknown kind).
	retry bool
}

type livePlugin struct {
	plugin Plugin
	hooks  []HookType
}

// plugin returns the plugin to call for h: the entry's own, the one a retry
// brought up, or nil with ok false when it is still not running. A plugin
// that came up without h (an external server that declares fewer hooks than
// the entry stood for) is skipped: ok true, nil plugin.
func (e *entry) pluginFor(h HookType) (pl Plugin, ok bool) {
	if e.pending == nil {
		return e.plugin, true
	}
	lp := e.pending.live.Load()
	if lp == nil {
		return nil, false
	}
	if !slices.Contains(lp.hooks, h) {
		return nil, true
	}
	return lp.plugin, true
}

func (e *entry) unavailableError() error {
	return fmt.Errorf("%w: %s", ErrPluginUnavailable, *e.pending.reason.Load())
}

// standInHooks are the hooks a plugin that did not load stands for: the
// file's hooks: list, else every hook its kind implements (the six cpex
// hooks for an external plugin or a kind this build does not have).
func standInHooks(pc *PluginConfig, pl Plugin) []HookType {
	if len(pc.Hooks) > 0 {
		return pc.Hooks
	}
	if pl != nil && pc.Kind != KindExternal {
		return ImplementedHooks(pl)
	}
	// An external plugin or unknown kind stands for cpex's six hooks: the
	// list hooks reach external servers only when they declare them.
	var hs []HookType
	for _, h := range Hooks {
		if !h.IsList() {
			hs = append(hs, h)
		}
	}
	return hs
}

// newPendingEntry builds the entry of a plugin that did not load. It takes
// part in the pipeline like any other, so that its conditions, mode and
// on_error decide what its absence does.
func (m *Manager) newPendingEntry(pc *PluginConfig, pl Plugin, reason string, retry bool) *entry {
	e := &entry{cfg: pc, name: pc.Name, mode: pc.Mode, onError: pc.OnError, priority: pc.Priority,
		timeout: pc.EffectiveTimeout(m.cfg.PluginSettings), pending: &pending{retry: retry}, hooks: standInHooks(pc, pl)}
	e.pending.reason.Store(&reason)
	return e
}

// Unavailable lists the configured plugins that are not running now, in
// file order.
func (m *Manager) Unavailable() []Unavailable {
	var out []Unavailable
	for _, e := range m.entries {
		if e.pending != nil && e.pending.live.Load() == nil {
			out = append(out, Unavailable{Plugin: e.name, Reason: *e.pending.reason.Load()})
		}
	}
	return out
}

// retryPending brings a plugin that failed to initialise up in the
// background: it builds a fresh instance (on a copy of its config, so that
// what a server sends back does not change the entry the pipeline reads) and
// initialises it, backing off from m.retryMin doubling to m.retryMax, until
// it succeeds or the Manager shuts down.
func (m *Manager) retryPending(e *entry) {
	defer m.retries.Done()
	delay := m.retryMin
	for attempt := 1; ; attempt++ {
		select {
		case <-m.retryCtx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, m.retryMax)
		pc := *e.cfg
		pl, err := Instantiate(&pc, m.registry)
		if err == nil {
			if init, ok := pl.(Initializer); ok {
				ctx, cancel := context.WithTimeout(m.retryCtx, e.timeout)
				err = init.Initialize(ctx)
				cancel()
				if err != nil {
					shutdownPlugin(pl, e.timeout)
				}
			}
		}
		if err != nil {
			reason := err.Error()
			e.pending.reason.Store(&reason)
			m.logger.Warn("plugin still unavailable; retrying", "plugin", e.name, "attempt", attempt, "next_in", delay.String(), "error", reason)
			continue
		}
		hooks := hooksOf(pl, &pc)
		var live []HookType
		for _, h := range hooks {
			if slices.Contains(e.hooks, h) {
				live = append(live, h)
			}
		}
		e.pending.live.Store(&livePlugin{plugin: pl, hooks: live})
		m.logger.Info("plugin is running again after a failed start", "plugin", e.name, "attempts", attempt, "hooks", fmt.Sprint(live))
		return
	}
}
