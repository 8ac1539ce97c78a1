package findings

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/textwalk"
)

// digits is a detector of runs of digits, typed by their length.
var digits = Detector[[2]int]{
	Find: func(s string, dst [][2]int) [][2]int {
		for i := 0; i < len(s); {
			if s[i] < '0' || s[i] > '9' {
				i++
				continue
			}
			j := i
			for j < len(s) && '0' <= s[j] && s[j] <= '9' {
				j++
			}
			dst = append(dst, [2]int{i, j})
			i = j
		}
		return dst
	},
	Type: func(f [2]int) string { return strings.Repeat("d", f[1]-f[0]) },
	Replace: func(s string, fs [][2]int) string {
		for i := len(fs) - 1; i >= 0; i-- {
			s = s[:fs[i][0]] + "#" + s[fs[i][1]:]
		}
		return s
	},
}

func TestScan(t *testing.T) {
	raw := []byte(`{"a":"call 12 or 345","b":{"c":"no digits","d":"7"},"content":[{"type":"image","data":"99999"}]}`)
	var rep Report
	out, changed, err := Scan(context.Background(), nil, "k", textwalk.Result, raw, 1, "$", &rep, digits, true)
	if err != nil || !changed {
		t.Fatalf("changed %v, err %v", changed, err)
	}
	// The image's data is binary in a result: neither counted nor masked.
	if want := `{"a":"call # or #","b":{"c":"no digits","d":"#"},"content":[{"type":"image","data":"99999"}]}`; string(out) != want {
		t.Fatalf("out %s\nwant %s", out, want)
	}
	if rep.Total != 3 || rep.Counts["dd"] != 1 || rep.Counts["ddd"] != 1 || rep.Counts["d"] != 1 ||
		!slices.Equal(rep.Fields, []string{"$.a", "$.b.d"}) || !slices.Equal(rep.Types(), []string{"d", "dd", "ddd"}) {
		t.Fatalf("report %+v", rep)
	}

	// Without rewrite the bytes stay; under a root, paths are reported below it.
	rep = Report{}
	out, changed, err = Scan(context.Background(), nil, "k", textwalk.Arguments, raw, 1, "$._meta", &rep, digits, false)
	if err != nil || changed || string(out) != string(raw) {
		t.Fatalf("no rewrite: changed %v, err %v", changed, err)
	}
	if rep.Total != 4 || !slices.Equal(rep.Fields, []string{"$._meta.a", "$._meta.b.d", "$._meta.content[0].data"}) {
		t.Fatalf("report %+v", rep)
	}
}

func TestReportFieldsBounded(t *testing.T) {
	var rep Report
	for i := range 2 * MaxFields {
		rep.Add("$.f"+strings.Repeat("x", i), "t")
		rep.Add("$.f", "t") // a field is listed once
	}
	if rep.Total != 4*MaxFields || len(rep.Fields) != MaxFields || rep.Counts["t"] != 4*MaxFields {
		t.Fatalf("total %d, %d fields", rep.Total, len(rep.Fields))
	}
}
