package denylist_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
)

// benchArgs is about 64 KiB of tools/call arguments: 256 string values of
// about 250 bytes in nested objects, with a denied word in every `every`-th
// value (0: none).
func benchArgs(every int) []byte {
	const filler = "please summarise the quarterly report and list the open action items for the team "
	var b strings.Builder
	b.WriteString(`{"items":[`)
	for i := range 256 {
		if i > 0 {
			b.WriteByte(',')
		}
		text := filler + filler + filler
		if every > 0 && i%every == every-1 {
			text += "then DROP TABLE users"
		}
		fmt.Fprintf(&b, `{"id":%d,"note":{"text":%q}}`, i, text)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

func BenchmarkDenyList(b *testing.B) {
	words := `[drop table, "rm -rf", shutdown, truncate, exfiltrate, password, "delete from", malware, ransomware, keylogger]`
	for _, bc := range []struct {
		name   string
		config string
		every  int
	}{
		{"none", `{words: ` + words + `}`, 0},
		{"one-at-end", `{words: ` + words + `}`, 256},
		{"many", `{words: ` + words + `}`, 1},
		{"none/word", `{words: ` + words + `, match: word}`, 0},
		{"none/case_sensitive", `{words: ` + words + `, case_sensitive: true}`, 0},
	} {
		args := benchArgs(bc.every)
		if !json.Valid(args) {
			b.Fatal("bad bench input")
		}
		pl := plugintest.Load(b, withConfig(bc.config)).(framework.ToolPreInvoker)
		b.Run("64KiB/"+bc.name, func(b *testing.B) {
			p := &framework.ToolPreInvokePayload{Name: "report", Args: args}
			pc := &framework.PluginContext{Global: &framework.GlobalContext{}}
			b.SetBytes(int64(len(args)))
			b.ReportAllocs()
			for b.Loop() {
				res, err := pl.ToolPreInvoke(context.Background(), p, pc)
				if err != nil || (res.Violation != nil) != (bc.every > 0) {
					b.Fatal("wrong verdict", err)
				}
			}
		})
	}
}
