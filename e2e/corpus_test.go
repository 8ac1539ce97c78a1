package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

type corpusLine struct{ family, label, text string }

func readCorpus(t *testing.T) []corpusLine {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), "e2e", "cpex", "testdata", "corpus.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	var out []corpusLine
	for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		f := strings.SplitN(l, "\t", 3)
		out = append(out, corpusLine{f[0], f[1], f[2]})
	}
	return out
}

// tally counts, for one label, where the two detectors agree.
type tally struct{ n, both, onlyOurs, onlyTheirs, neither int }

// Our pii_filter and secrets_detection against ContextForge's Rust
// cpex-pii-filter and cpex-secrets-detection (their defaults, in cpex's
// server) on one labelled corpus (e2e/cpex/testdata/corpus.tsv, from
// gen_corpus.py). The table is logged (go test -v -run TestSideBySide
// ./e2e/) and copied into each plugin's README. Where theirs finds a true
// positive ours misses, or ours flags a look-alike theirs lets be, the test
// fails: that is a defect of ours to fix.
func TestSideBySideCorpus(t *testing.T) {
	py := cpexPython(t)
	lines := readCorpus(t)
	cmd := exec.Command(py, filepath.Join(repoRoot(t), "e2e", "cpex", "corpus_cpex.py"))
	cmd.Dir = t.TempDir()
	cmd.Env = append(os.Environ(), "PLUGINS_LOG_LEVEL=ERROR")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("corpus_cpex.py: %v\n%s", err, stderr.String())
	}
	theirs := map[int]map[string]bool{}
	var theirNs map[string]int64
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		var v struct {
			I      *int             `json:"i"`
			PII    bool             `json:"pii"`
			Secret bool             `json:"secret"`
			Ns     map[string]int64 `json:"ns_per_call"`
		}
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		if v.I == nil {
			theirNs = v.Ns
			continue
		}
		theirs[*v.I] = map[string]bool{"pii": v.PII, "secret": v.Secret}
	}
	if len(theirs) != len(lines) {
		t.Fatalf("cpex answered %d of %d lines", len(theirs), len(lines))
	}
	ours := map[string]*framework.Manager{
		"pii":    loadManager(t, "plugins:\n  - {name: pii, kind: pii_filter, hooks: [tool_pre_invoke], config: {detect_bank_account: true, detect_date_of_birth: true, detect_passport: true, detect_driver_license: true, detect_medical_record: true, detect_bsn: true}}\n"),
		"secret": loadManager(t, "plugins:\n  - {name: secrets, kind: secrets_detection, hooks: [tool_pre_invoke]}\n"),
	}
	spent := map[string]time.Duration{}
	tallies := map[string]*tally{}
	var defects []string
	for i, l := range lines {
		args, _ := json.Marshal(map[string]string{"text": l.text})
		start := time.Now()
		o := ours[l.family].ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Name: "corpus", Args: args}, framework.NewContextTable(framework.GlobalContext{}))
		spent[l.family] += time.Since(start)
		us, them := o.Blocked() || o.Modified, theirs[i][l.family]
		key := l.family + "/" + l.label
		if tallies[key] == nil {
			tallies[key] = &tally{}
		}
		tl := tallies[key]
		tl.n++
		switch {
		case us && them:
			tl.both++
		case us:
			tl.onlyOurs++
		case them:
			tl.onlyTheirs++
		default:
			tl.neither++
		}
		positive := l.label != "none"
		if them && !us && positive {
			defects = append(defects, fmt.Sprintf("missed (cpex finds it): %s %q", l.label, l.text))
		}
		if us && !them && !positive {
			defects = append(defects, fmt.Sprintf("false positive (cpex lets it be): %q", l.text))
		}
	}
	keys := make([]string, 0, len(tallies))
	for k := range tallies {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("| family / true label | lines | both detect | only ours | only cpex | neither |\n|---|---:|---:|---:|---:|---:|\n")
	for _, k := range keys {
		tl := tallies[k]
		fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d |\n", k, tl.n, tl.both, tl.onlyOurs, tl.onlyTheirs, tl.neither)
	}
	n := map[string]int{}
	for _, l := range lines {
		n[l.family]++
	}
	fmt.Fprintf(&b, "\nper call: our pii_filter %s, cpex-pii-filter %s; our secrets_detection %s, cpex-secrets-detection %s (cpex timed around its server's invoke_hook, in process)\n",
		(spent["pii"] / time.Duration(n["pii"])).Round(time.Microsecond/10), time.Duration(theirNs["PIIFilter"]).Round(time.Microsecond/10),
		(spent["secret"] / time.Duration(n["secret"])).Round(time.Microsecond/10), time.Duration(theirNs["SecretsDetection"]).Round(time.Microsecond/10))
	t.Log("\n" + b.String())
	for _, d := range defects {
		t.Error(d)
	}
}
