package mcpparse

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"strings"
	"testing"
)

func gz(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func zl(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w := zlib.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func rawDeflate(t testing.TB, b []byte) []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestSpeed)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestDecodeContent(t *testing.T) {
	body := []byte(toolCall)
	bomb := bytes.Repeat([]byte{'0'}, 8<<20) // 8 MiB of zeros: ~8 KiB compressed
	tests := []struct {
		name     string
		encoding string
		in       []byte
		limit    int
		want     []byte
		err      error
	}{
		{"identity", "identity", body, 1 << 20, body, nil},
		{"empty encoding", "", body, 1 << 20, body, nil},
		{"identity over limit", "", body, 10, nil, ErrTooLarge},
		{"gzip", "gzip", gz(t, body), 1 << 20, body, nil},
		{"gzip case and spaces", " GZip ", gz(t, body), 1 << 20, body, nil},
		{"x-gzip", "x-gzip", gz(t, body), 1 << 20, body, nil},
		{"gzip members concatenated", "gzip", append(gz(t, body[:10]), gz(t, body[10:])...), 1 << 20, body, nil},
		{"deflate zlib", "deflate", zl(t, body), 1 << 20, body, nil},
		{"deflate raw", "deflate", rawDeflate(t, body), 1 << 20, body, nil},
		{"exactly at limit", "gzip", gz(t, body), len(body), body, nil},
		{"one over limit", "gzip", gz(t, body), len(body) - 1, nil, ErrTooLarge},
		{"gzip bomb", "gzip", gz(t, bomb), 1 << 20, nil, ErrTooLarge},
		{"deflate bomb", "deflate", zl(t, bomb), 1 << 20, nil, ErrTooLarge},
		{"zero limit", "gzip", gz(t, body), 0, nil, ErrTooLarge},
		{"br", "br", body, 1 << 20, nil, ErrUnsupportedEncoding},
		{"zstd", "zstd", body, 1 << 20, nil, ErrUnsupportedEncoding},
		{"compress", "compress", body, 1 << 20, nil, ErrUnsupportedEncoding},
		{"stacked gzip", "gzip, gzip", gz(t, gz(t, body)), 1 << 20, nil, ErrUnsupportedEncoding},
		{"stacked identity", "identity, gzip", gz(t, body), 1 << 20, nil, ErrUnsupportedEncoding},
		{"not gzip", "gzip", body, 1 << 20, nil, ErrCorruptContent},
		{"truncated gzip", "gzip", gz(t, body)[:20], 1 << 20, nil, ErrCorruptContent},
		{"gzip trailing garbage", "gzip", append(gz(t, body), "garbage"...), 1 << 20, nil, ErrCorruptContent},
		{"zlib trailing garbage", "deflate", append(zl(t, body), "garbage"...), 1 << 20, nil, ErrCorruptContent},
		{"zlib bad checksum", "deflate", func() []byte { b := zl(t, body); b[len(b)-1] ^= 1; return b }(), 1 << 20, nil, ErrCorruptContent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := DecodeContent(tt.encoding, tt.in, tt.limit)
			if tt.err != nil {
				if !errors.Is(err, tt.err) {
					t.Fatalf("err = %v, want %v", err, tt.err)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tt.want) {
				t.Fatalf("= %q, %v", got, err)
			}
		})
	}
}

// SupportedEncoding agrees with DecodeContent on what it can undo.
func TestSupportedEncodingAgreesWithDecodeContent(t *testing.T) {
	for _, enc := range []string{"", "identity", "gzip", "x-gzip", "deflate", " GZIP ", "br", "zstd", "compress", "gzip, gzip"} {
		_, err := DecodeContent(enc, nil, 10)
		unsupported := errors.Is(err, ErrUnsupportedEncoding)
		if SupportedEncoding(enc) == unsupported {
			t.Errorf("%q: SupportedEncoding=%v, DecodeContent error %v", enc, SupportedEncoding(enc), err)
		}
	}
}

// What EncodeContent writes, DecodeContent reads back, for every coding it
// writes; others are refused.
func TestEncodeContentRoundTrip(t *testing.T) {
	body := []byte(`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"[REDACTED]"}]}}`)
	for _, coding := range []string{"", "identity", "gzip", "x-gzip", "deflate", " GZIP "} {
		enc, err := EncodeContent(coding, body)
		if err != nil {
			t.Fatalf("%q: %v", coding, err)
		}
		if c := strings.ToLower(strings.TrimSpace(coding)); c != "" && c != "identity" && bytes.Equal(enc, body) {
			t.Fatalf("%q: body not coded", coding)
		}
		got, err := DecodeContent(coding, enc, 1<<20)
		if err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%q: decoded %q, %v", coding, got, err)
		}
	}
	if _, err := EncodeContent("br", body); !errors.Is(err, ErrUnsupportedEncoding) {
		t.Fatalf("br: %v", err)
	}
}
