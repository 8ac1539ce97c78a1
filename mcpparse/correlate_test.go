package mcpparse

import "testing"

func TestCorrelationKey(t *testing.T) {
	id := func(raw string) ID {
		t.Helper()
		v, err := IDFromRaw([]byte(raw))
		if err != nil {
			t.Fatalf("IDFromRaw(%s): %v", raw, err)
		}
		return v
	}
	// Each group: ids a real client would take as the same request.
	same := [][]string{
		{`7`, `"7"`, `7.0`, `7e0`, `70e-1`, `"7.0"`, `" 7 "`, `"\t7\n"`, `"0x7"`, `"0o7"`, `"0b111"`, `"+7"`, `7.9`, `"\u00a07"`},
		{`0`, `""`, `"  "`, `-0`, `0.5`, `"0"`, `"-0"`},
		{`1000`, `"1_000"`, `"1e3"`, `1E3`},
		{`-3`, `"-3"`, `-3.2`, `"-3.0"`},
		{`9007199254740992`, `9007199254740993`},
		{`"abc"`, `"\u0061bc"`},
		{`"07"`, `7`}, // JavaScript reads "07" as 7
	}
	for _, g := range same {
		want := id(g[0]).CorrelationKey()
		for _, raw := range g[1:] {
			if got := id(raw).CorrelationKey(); got != want {
				t.Errorf("CorrelationKey(%s) = %q, want %q (as %s)", raw, got, want, g[0])
			}
		}
	}
	different := [][2]string{
		{`7`, `8`},
		{`"7a"`, `7`},
		{`"0x"`, `0`},
		{`"1__0"`, `10`},
		{`"++7"`, `7`},
		{`"-0x7"`, `-7`}, // JavaScript refuses a sign before 0x
		{`null`, `0`},
		{`"abc"`, `"ABC"`},
		{`"Infinity"`, `"abc"`},
		{`1e30`, `1e31`},
	}
	for _, d := range different {
		if a, b := id(d[0]).CorrelationKey(), id(d[1]).CorrelationKey(); a == b {
			t.Errorf("CorrelationKey(%s) = CorrelationKey(%s) = %q, want them apart", d[0], d[1], a)
		}
	}
	for raw, want := range map[string]string{`7`: "7", `-7`: "-7", `0`: "0", `-0`: "0", `"7"`: "7", `"abc"`: `"abc`, `1e30`: "f:1e+30", `null`: "null"} {
		if got := id(raw).CorrelationKey(); got != want {
			t.Errorf("CorrelationKey(%s) = %q, want %q", raw, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = id(`12345`).CorrelationKey() }); n > 1 {
		t.Errorf("a plain integer id allocates %v times for its key", n)
	}
	if k := (ID{}).CorrelationKey(); k != "" {
		t.Errorf("absent id key = %q, want empty", k)
	}
}

func FuzzCorrelationKey(f *testing.F) {
	for _, s := range []string{"7", " 7 ", "0x1f", "1_000", "1e3", ".5", "5.", "-Infinity", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		k := StringID(s).CorrelationKey()
		if k == "" {
			t.Fatalf("empty key for %q", s)
		}
		// A string that is a JSON number keys like that number (the TS
		// SDK's Number("7") is 7), and the same number written another way
		// (with a fraction or an exponent of zero) keys the same too.
		if n, err := IDFromRaw([]byte(s)); err == nil && n.IsNumber() {
			if nk := n.CorrelationKey(); nk != k {
				t.Fatalf("string %q keys %q, the number %s keys %q", s, k, s, nk)
			}
			if e, err := IDFromRaw([]byte(s + "e0")); err == nil && e.CorrelationKey() != k {
				t.Fatalf("%se0 keys %q, %s keys %q", s, e.CorrelationKey(), s, k)
			}
		}
	})
}
