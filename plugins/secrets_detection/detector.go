package secretsdetection

import (
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/anchors"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/findings"
)

// finding is one secret in a string.
type finding struct {
	start, end int
	typ        string
}

// detector finds secrets in a string. It is immutable once built and safe
// for concurrent use.
type detector struct {
	rules     []rule // the enabled built-in rules
	anchors   *anchors.Set
	awsPair   bool // look for an unlabelled secret access key next to a key id
	entropy   bool
	minLen    int
	threshold float64
	custom    []findings.Custom
	whitelist findings.Whitelist
}

// pairWindow is how far after an AWS access key id an unlabelled secret
// access key is looked for ("AKIA…,wJalr…" in a credentials CSV, or the
// next line of a config).
const pairWindow = 200

func newDetector(enabled map[string]bool) *detector {
	d := &detector{anchors: new(anchors.Set)}
	for _, r := range builtinRules() {
		if !enabled[r.typ] {
			continue
		}
		d.rules = append(d.rules, r)
		i := len(d.rules) - 1
		for _, p := range r.prefixes {
			d.anchors.Add(p, false, i)
		}
		for _, k := range r.keywords {
			d.anchors.Add(k, true, i)
		}
	}
	d.awsPair = enabled[TypeAWSAccessKeyID] && enabled[TypeAWSSecretAccessKey]
	return d
}

// find appends to out the secrets in s, in order and without overlaps
// (where two overlap, the one that starts first, then the longer, wins),
// leaving out whitelisted values.
func (d *detector) find(s string, out []finding) []finding {
	base := len(out)
	d.anchors.Scan(s, func(ri, start, end int) int {
		r := &d.rules[ri]
		vs, ve, ok := r.match(s, start, end)
		if !ok {
			return 0
		}
		out = append(out, finding{start: vs, end: ve, typ: r.typ})
		if d.awsPair && r.typ == TypeAWSAccessKeyID {
			if ps, pe, ok := pairedSecretKey(s, ve); ok {
				out = append(out, finding{start: ps, end: pe, typ: TypeAWSSecretAccessKey})
			}
		}
		return ve
	})
	if d.entropy {
		scanHighEntropy(s, d.minLen, d.threshold, &out, base)
	}
	for i := range d.custom {
		cr := &d.custom[i]
		cr.Find(s, func(start, end int) {
			out = append(out, finding{start: start, end: end, typ: cr.Type})
		})
	}
	return out[:base+len(findings.Resolve(s, out[base:], d.whitelist, finding.bounds))]
}

func (f finding) bounds() (int, int) { return f.start, f.end }

// pairedSecretKey looks, in the pairWindow bytes after an access key id
// that ended at from, for a standalone run of exactly 40 base64 characters
// mixing cases and digits: the shape of its secret access key.
func pairedSecretKey(s string, from int) (int, int, bool) {
	end := min(len(s), from+pairWindow)
	for i := from; i < end; {
		if !isBase64Byte(s[i]) || s[i] == '=' {
			i++
			continue
		}
		j := i
		for j < len(s) && isBase64Byte(s[j]) && s[j] != '=' {
			j++
		}
		if j-i == 40 && (j == len(s) || s[j] != '=') && mixedClasses(s[i:j]) {
			return i, j, true
		}
		i = j
	}
	return 0, 0, false
}
