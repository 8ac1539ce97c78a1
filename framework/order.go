package framework

import (
	"fmt"
	"slices"
	"strings"
)

// The order of a hook's plugins follows cpex 0.1.x: by mode phase —
// enforce (cpex's sequential), permissive (transform), audit, concurrent,
// fire_and_forget — and by priority inside each phase, ties in file order.
// cpex's order is not kept where it would put a plugin that can block on
// the other side of a plugin that can change the payload than priority
// order does: the blocking plugin would then judge another payload (a
// permissive redactor moved after an enforcing check, a concurrent gate
// moved after a rewrite), and a deny could be lost. That hook then runs by
// priority alone, and loading warns (phaseOrderWarnings).

// phase is a mode's place in cpex's order of execution.
func (m Mode) phase() int {
	switch m {
	case ModeEnforce, ModeEnforceIgnoreError:
		return 0
	case ModePermissive:
		return 1
	case ModeAudit:
		return 2
	case ModeConcurrent:
		return 3
	}
	return 4 // fire_and_forget: after the decision
}

// orderedPlugin is what ordering needs to know of a plugin.
type orderedPlugin struct {
	name     string
	mode     Mode
	priority int
}

// phaseConflict returns the first pair of plugins (in priority order) that
// cpex's phase order would swap while one can block and the other can
// change the payload. ps must be in priority order (stable).
func phaseConflict(ps []orderedPlugin) (a, b int, ok bool) {
	for i := range ps {
		for j := i + 1; j < len(ps); j++ {
			if ps[j].mode.phase() >= ps[i].mode.phase() {
				continue // the phase order keeps them as they are
			}
			x, y := ps[i].mode, ps[j].mode
			if (x.blocksOnViolation() && y.chainsPayload()) || (x.chainsPayload() && y.blocksOnViolation()) {
				return i, j, true
			}
		}
	}
	return 0, 0, false
}

// orderEntries puts one hook's entries, given in priority order, in the
// order they run: cpex's phase order unless phaseConflict finds a pair.
func orderEntries(es []*entry) {
	ps := make([]orderedPlugin, len(es))
	for i, e := range es {
		ps[i] = orderedPlugin{e.name, e.mode, e.priority}
	}
	if _, _, conflict := phaseConflict(ps); conflict {
		return
	}
	slices.SortStableFunc(es, func(a, b *entry) int { return a.mode.phase() - b.mode.phase() })
}

// phaseOrderWarnings warns, once per pair of plugins, where a hook keeps
// priority order because cpex's phase order could change a deny. A
// plugin's hooks are its hooks: list, else its kind's (every hook for an
// external plugin, whose server says which at start-up).
func phaseOrderWarnings(d *yamlDecoder, cfg *Config, reg *Registry) {
	byHook := map[HookType][]int{}
	for i := range cfg.Plugins {
		p := &cfg.Plugins[i]
		if p.Mode == ModeDisabled {
			continue
		}
		hooks := p.Hooks
		if len(hooks) == 0 {
			if k, ok := reg.Resolve(p.Kind); ok && p.Kind != KindExternal {
				hooks = k.Hooks
			} else {
				hooks = Hooks
			}
		}
		for _, h := range hooks {
			byHook[h] = append(byHook[h], i)
		}
	}
	type pair struct{ a, b int }
	found := map[pair][]string{}
	var order []pair
	for _, h := range Hooks {
		idx := byHook[h]
		slices.SortStableFunc(idx, func(a, b int) int { return cfg.Plugins[a].Priority - cfg.Plugins[b].Priority })
		ps := make([]orderedPlugin, len(idx))
		for i, pi := range idx {
			p := &cfg.Plugins[pi]
			ps[i] = orderedPlugin{p.Name, p.Mode, p.Priority}
		}
		if a, b, ok := phaseConflict(ps); ok {
			k := pair{idx[a], idx[b]}
			if found[k] == nil {
				order = append(order, k)
			}
			found[k] = append(found[k], string(h))
		}
	}
	for _, k := range order {
		a, b := &cfg.Plugins[k.a], &cfg.Plugins[k.b]
		d.warnf(nil, fmt.Sprintf("plugins[%d].priority", k.b),
			"%q (%s, priority %d) runs after %q (%s, priority %d) on %s, by priority; cpex would run it first (by mode phase), which could change what a deny sees, so these hooks keep priority order: give priorities in mode order (enforce, permissive, audit, concurrent) to run as cpex does",
			b.Name, b.Mode, b.Priority, a.Name, a.Mode, a.Priority, strings.Join(found[k], ", "))
	}
}
