package framework

import "time"

// CallOutcome classifies one plugin call, for metrics.
type CallOutcome string

// The outcomes of a plugin call.
const (
	OutcomeContinue  CallOutcome = "continue"
	OutcomeModified  CallOutcome = "modified"
	OutcomeViolation CallOutcome = "violation"
	OutcomeError     CallOutcome = "error"
	OutcomeTimeout   CallOutcome = "timeout"
	OutcomePanic     CallOutcome = "panic"
)

// IsError reports whether the call failed (error, timeout, panic, or the
// plugin was not running).
func (o CallOutcome) IsError() bool {
	return o == OutcomeError || o == OutcomeTimeout || o == OutcomePanic || o == OutcomeUnavailable
}

// PluginCall describes one finished plugin call.
type PluginCall struct {
	Hook     HookType
	Plugin   string
	Mode     Mode
	Duration time.Duration
	Outcome  CallOutcome
	// Violation is set when Outcome is OutcomeViolation.
	Violation *Violation
	// Blocked says whether the call stopped the message.
	Blocked bool
}

// HookRun describes one finished hook pipeline.
type HookRun struct {
	Hook     HookType
	Duration time.Duration
	Plugins  int // plugins that ran
	Modified bool
	Blocked  bool
}

// Observer receives measurements from a Manager; package extproc turns them
// into Prometheus metrics. Methods are called from many goroutines and must
// not block.
type Observer interface {
	ObservePluginCall(PluginCall)
	ObserveHookRun(HookRun)
}

// HiddenItemsObserver is implemented by observers that count the list items
// plugins hide (see MetadataHiddenItems).
type HiddenItemsObserver interface {
	ObserveHiddenItems(plugin string, hook HookType, items []HiddenItem)
}

// FlaggedItemsObserver is implemented by observers that count the list
// items plugins flag without hiding them (see MetadataFlaggedItems).
type FlaggedItemsObserver interface {
	ObserveFlaggedItems(plugin string, hook HookType, items []HiddenItem)
}

type nopObserver struct{}

func (nopObserver) ObservePluginCall(PluginCall) {}
func (nopObserver) ObserveHookRun(HookRun)       {}
