package mcpparse

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// makeToolCall builds a realistic tools/call body of about size bytes: a mix
// of nested objects, arrays, numbers and text with escapes and non-ASCII.
func makeToolCall(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"jsonrpc":"2.0","id":42,"method":"tools/call","params":{"_meta":{"progressToken":"p-1"},"name":"search_documents","arguments":{"query":"quarterly report","filters":{"year":2024,"tags":["finance","q3"]},"items":[`)
	for i := 0; b.Len() < size-120; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":%d,"title":"Document %d — résumé","score":%d.%03d,"body":"Line one\nLine \"two\" with a tab\tand text to scan for PII like alice@example.com","ok":true}`, i, i, i%10, i%1000)
	}
	b.WriteString(`]}}}`)
	return b.Bytes()
}

// makeToolResult builds a tools/call result of about size bytes.
func makeToolResult(size int) []byte {
	var b bytes.Buffer
	b.WriteString(`{"content":[`)
	for i := 0; b.Len() < size-200; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"type":"text","text":"Row %d: customer alice@example.com paid 1234 EUR\nnext line with \"quotes\" and ünïcödé"}`, i)
	}
	b.WriteString(`],"structuredContent":{"total":12,"rows":[{"email":"bob@example.com","n":1}]},"isError":false}`)
	return b.Bytes()
}

func BenchmarkParseToolCall(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		body := makeToolCall(size)
		if _, err := Parse(body, Options{}); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				p, err := Parse(body, Options{})
				if err != nil {
					b.Fatal(err)
				}
				name, args, err := p.Messages[0].ToolCall()
				if err != nil || name == "" || !args.Present() {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkRewriteArguments(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10} {
		body := makeToolCall(size)
		b.Run(fmt.Sprintf("%dKiB", size>>10), func(b *testing.B) {
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				p, _ := Parse(body, Options{})
				_, args, _ := p.Messages[0].ToolCall()
				out, err := ApplyEdits(body, []Edit{args.Replace([]byte(`{"query":"[REDACTED]"}`))})
				if err != nil || len(out) == 0 {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkWalkStrings(b *testing.B) {
	result := makeToolResult(64 << 10)
	b.Run("64KiB/nochange", func(b *testing.B) {
		b.SetBytes(int64(len(result)))
		b.ReportAllocs()
		for b.Loop() {
			_, changed, err := WalkStrings(result, WalkOptions{}, func(_ Path, s string) (string, bool) {
				return s, strings.Contains(s, "sk-live-")
			})
			if err != nil || changed {
				b.Fatal(err, changed)
			}
		}
	})
	b.Run("64KiB/change", func(b *testing.B) {
		b.SetBytes(int64(len(result)))
		b.ReportAllocs()
		for b.Loop() {
			_, changed, err := WalkStrings(result, WalkOptions{}, func(_ Path, s string) (string, bool) {
				if strings.Contains(s, "alice@example.com") {
					return strings.ReplaceAll(s, "alice@example.com", "[EMAIL]"), true
				}
				return s, false
			})
			if err != nil || !changed {
				b.Fatal(err, changed)
			}
		}
	})
}

func BenchmarkSSEDecode(b *testing.B) {
	var stream bytes.Buffer
	for i := 0; stream.Len() < 1<<20; i++ {
		fmt.Fprintf(&stream, "id: %d\nevent: message\ndata: %s\n\n", i, makeToolCall(1<<10))
		if i%8 == 0 {
			stream.WriteString(": keep-alive\n\n")
		}
	}
	data := stream.Bytes()
	const chunk = 16 << 10
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d := NewSSEDecoder()
		n := 0
		for pos := 0; pos < len(data); pos += chunk {
			n += len(d.Feed(data[pos:min(pos+chunk, len(data))]))
		}
		n += len(d.Flush())
		if n == 0 {
			b.Fatal("no events")
		}
	}
}

func BenchmarkDecodeContentGzip(b *testing.B) {
	body := makeToolCall(64 << 10)
	z := gz(b, body)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := DecodeContent("gzip", z, 1<<20); err != nil {
			b.Fatal(err)
		}
	}
}
