package listitems

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tidwall/gjson"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

func TestFilter(t *testing.T) {
	hideB := func(it gjson.Result) *framework.HiddenItem {
		if it.Get("name").Str == "b" {
			return &framework.HiddenItem{Name: "b", Code: "X"}
		}
		return nil
	}
	out, hidden, err := Filter([]byte(`[{"name":"a"}, {"name":"b"},{"name":"c","x":[1]}]`), hideB)
	if err != nil || string(out) != `[{"name":"a"},{"name":"c","x":[1]}]` || len(hidden) != 1 || hidden[0].Name != "b" {
		t.Fatalf("got %s %v %v", out, hidden, err)
	}
	out, hidden, err = Filter([]byte(`[{"name":"a"}]`), hideB)
	if err != nil || out != nil || hidden != nil {
		t.Fatalf("nothing hidden must return nil: %s %v %v", out, hidden, err)
	}
	if out, _, _ = Filter([]byte(`[{"name":"b"}]`), hideB); string(out) != `[]` {
		t.Fatalf("all hidden: %s", out)
	}
	if _, _, err = Filter([]byte(`{"name":"b"}`), hideB); err != ErrNotArray {
		t.Fatalf("object: %v", err)
	}
}

func TestVerdictsBounded(t *testing.T) {
	v := NewVerdicts(2, 3)
	for i := range 10 {
		v.Refuse("s1", fmt.Sprint(i), framework.HiddenItem{Code: "X"})
	}
	if n := len(v.servers["s1"]); n != 3 {
		t.Fatalf("per-server bound: %d entries", n)
	}
	v.Refuse("s2", "a", framework.HiddenItem{})
	v.Refuse("s3", "a", framework.HiddenItem{})
	if n := len(v.servers); n != 2 {
		t.Fatalf("server bound: %d servers", n)
	}
	if _, ok := v.Lookup("s3", "a"); !ok {
		t.Fatal("the newest entry must be kept")
	}
	v.Clear("s3", "a")
	if _, ok := v.Lookup("s3", "a"); ok {
		t.Fatal("cleared entry still refused")
	}
}

func TestMemo(t *testing.T) {
	m := NewMemo[int](2)
	m.Put("a", 1)
	m.Put("b", 2)
	if v, ok := m.Get("a"); !ok || v != 1 {
		t.Fatal("a forgotten")
	}
	m.Put("c", 3) // full: starts afresh
	if _, ok := m.Get("a"); ok {
		t.Fatal("memo grew past its bound")
	}
	if v, _ := m.Get("c"); v != 3 {
		t.Fatal("c not remembered")
	}
}

func TestListMemo(t *testing.T) {
	m := NewListMemo[int](40)
	m.Put([]byte("[1,2,3]"), "a", 1)
	if v, ok := m.Get([]byte("[1,2,3]"), "a"); !ok || v != 1 {
		t.Fatal("not remembered")
	}
	if _, ok := m.Get([]byte("[1,2,3]"), "b"); ok {
		t.Fatal("another tag must not match")
	}
	m.Put([]byte("[0123456789012345]"), "a", 2) // over a quarter of the bound: not kept
	if _, ok := m.Get([]byte("[0123456789012345]"), "a"); ok {
		t.Fatal("a list over a quarter of the bound was kept")
	}
	for i := range 10 {
		m.Put([]byte(fmt.Sprintf("[%d,0000]", i)), "a", i)
	}
	if m.bytes > 40 {
		t.Fatalf("%d bytes held, bound 40", m.bytes)
	}
	// A list is known by its bytes, never by the buffer that holds them:
	// the same buffer changed is another list, even just after the text
	// last looked up (the one compared first).
	buf := []byte("[7,7,7]")
	m.Put(buf, "a", 7)
	if v, ok := m.Get([]byte("[7,7,7]"), "a"); !ok || v != 7 {
		t.Fatal("equal bytes in another buffer not remembered")
	}
	buf[1] = '8'
	if _, ok := m.Get(buf, "a"); ok {
		t.Fatal("the buffer changed in place still matches")
	}
	if _, ok := m.Get([]byte("[7,7,7,"), "a"); ok {
		t.Fatal("a list that begins as a remembered one matches")
	}
}

// filterRef is Filter as it was, collecting every kept item: the reference
// that Filter, which copies only once something is hidden, must match.
func filterRef(raw []byte, judge func(gjson.Result) *framework.HiddenItem) (string, int) {
	var kept []string
	n := 0
	gjson.ParseBytes(raw).ForEach(func(_, item gjson.Result) bool {
		if judge(item) != nil {
			n++
		} else {
			kept = append(kept, item.Raw)
		}
		return true
	})
	if n == 0 {
		return "", 0
	}
	return "[" + strings.Join(kept, ",") + "]", n
}

// Whatever is hidden, wherever, the rebuilt list is the kept items in order.
func FuzzFilterMatchesReference(f *testing.F) {
	f.Add(`[{"name":"a"}, {"name":"b"} ,{"name":"c","x":[1]}]`, uint64(0b010))
	f.Add(" [ 1 ,\n\"x\" , {\"a\":[]} , [2] ] ", uint64(0b1001))
	f.Add(`[{"name":"a"},{"name":"b"}]`, uint64(0b11))
	f.Add(`[]`, uint64(1))
	f.Fuzz(func(t *testing.T, list string, hide uint64) {
		if !gjson.Valid(list) || !gjson.Parse(list).IsArray() {
			return
		}
		judge := func() func(gjson.Result) *framework.HiddenItem {
			i := 0
			return func(gjson.Result) *framework.HiddenItem {
				defer func() { i++ }()
				if hide>>(i%64)&1 == 1 {
					return &framework.HiddenItem{Name: "x"}
				}
				return nil
			}
		}
		out, hidden, err := Filter([]byte(list), judge())
		want, n := filterRef([]byte(list), judge())
		if err != nil || string(out) != want || len(hidden) != n {
			t.Fatalf("%q hide %b: got %q (%d hidden, %v), want %q (%d)", list, hide, out, len(hidden), err, want, n)
		}
	})
}
