package plugintest

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
)

// proseFiller is the text of Prose.
const proseFiller = "The quick brown fox jumps over the lazy dog near the river bank. "

// Prose returns n texts of about 1,000 bytes of English prose, with needle
// and a space once every `every` bytes of text, counted across the texts.
func Prose(n, every int, needle string) []string {
	texts := make([]string, n)
	since := 0
	for i := range texts {
		var b strings.Builder
		for b.Len() < 1000 {
			if since >= every {
				b.WriteString(needle + " ")
				since = 0
				continue
			}
			b.WriteString(proseFiller)
			since += len(proseFiller)
		}
		texts[i] = b.String()
	}
	return texts
}

// ToolResult is a tools/call result with a text content block for each of
// texts.
func ToolResult(texts ...string) json.RawMessage {
	blocks := make([]string, len(texts))
	for i, t := range texts {
		blocks[i] = `{"type":"text","text":` + quote(t) + `}`
	}
	return json.RawMessage(`{"content":[` + strings.Join(blocks, ",") + `],"isError":false}`)
}

// ResourceContents is a resources/read result with a text/plain content for
// each of texts, at https://docs.example.com/p/<index>.
func ResourceContents(texts ...string) json.RawMessage {
	var b strings.Builder
	b.WriteString(`{"contents":[`)
	for i, t := range texts {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"uri":"https://docs.example.com/p/%d","mimeType":"text/plain","text":%s}`, i, quote(t))
	}
	b.WriteString(`]}`)
	return json.RawMessage(b.String())
}

// LogVocab is the vocabulary of LogTexts.
type LogVocab struct {
	Words   []string // the words of a line
	Noise   []string // phrases that look like a finding but are none: versions, times, ids
	Planted []string // phrases that hold what the benchmark's plugin finds
}

// LogTexts returns 4 KiB texts of log- and prose-like lines, about size
// bytes in all once quoted in a tool result: each line is 12 random words
// and a random noise phrase; every plantEvery-th line adds a random planted
// phrase (0: only one line, past the middle; -1: none). The texts are the
// same on every call.
func LogTexts(size, plantEvery int, v LogVocab) []string {
	r := rand.New(rand.NewPCG(1, 2))
	var texts []string
	total, line, planted := 0, 0, false
	for total < size {
		var b strings.Builder
		for b.Len() < 4096 {
			line++
			for range 12 {
				b.WriteString(v.Words[r.IntN(len(v.Words))])
				b.WriteByte(' ')
			}
			b.WriteString(v.Noise[r.IntN(len(v.Noise))])
			if plantEvery > 0 && line%plantEvery == 0 || plantEvery == 0 && !planted && total > size/2 {
				b.WriteString(", " + v.Planted[r.IntN(len(v.Planted))])
				planted = true
			}
			b.WriteString(".\n")
		}
		texts = append(texts, b.String())
		total += len(quote(b.String())) + 24
	}
	return texts
}

func quote(s string) string {
	q, err := json.Marshal(s)
	if err != nil {
		panic(err) // a string always marshals
	}
	return string(q)
}
