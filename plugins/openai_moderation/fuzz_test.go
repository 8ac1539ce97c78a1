package openaimoderation

import (
	"testing"
)

// FuzzDecode: whatever the service answers, decoding does not panic and
// accepts only one result per input, each with categories and scores.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"results":[{"flagged":true,"categories":{"hate":true},"category_scores":{"hate":0.9}}]}`,
		`{"results":[]}`, `null`, `{"results":[{"flagged":false}]}`, `{"results":[{"categories":{},"category_scores":{}},{}]}`} {
		f.Add(s, 1)
	}
	f.Fuzz(func(t *testing.T, body string, inputs int) {
		results, err := decode(200, []byte(body), inputs)
		if err != nil {
			return
		}
		if len(results) != inputs {
			t.Fatalf("%d results for %d inputs", len(results), inputs)
		}
		for _, r := range results {
			if r.Categories == nil || r.Scores == nil {
				t.Fatalf("%q: a result without categories or scores", body)
			}
		}
		p := &Plugin{thresholds: map[string]float64{"hate": 0.5}}
		_ = p.verdict(results)
	})
}
