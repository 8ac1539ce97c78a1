package framework

import (
	"strconv"
	"testing"
)

// Each plugin gets its own context, the same one on every call, whether it
// lives in the table's first slots or in the map beyond them.
func TestContextTablePluginContexts(t *testing.T) {
	tbl := NewContextTable(GlobalContext{RequestID: "r"})
	for i := range 7 {
		pc := tbl.Plugin("p" + strconv.Itoa(i))
		pc.State = map[string]any{"i": i}
		if pc.Global != &tbl.Global {
			t.Fatalf("plugin %d does not see the table's global context", i)
		}
	}
	for i := range 7 {
		if got := tbl.Plugin("p" + strconv.Itoa(i)).State["i"]; got != i {
			t.Errorf("plugin %d's state = %v, want %d", i, got, i)
		}
	}
	p0, p5 := tbl.Plugin("p0"), tbl.Plugin("p5")
	if tbl.Plugin("p0") != p0 || tbl.Plugin("p5") != p5 {
		t.Error("a plugin's context changed between calls")
	}
}
