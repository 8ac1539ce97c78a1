package encodedexfil

import (
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"strings"
	"unsafe"
)

// Byte classes of the alphabet encodings.
const (
	clsB64    = 1 << iota // A-Z a-z 0-9 + /
	clsB64URL             // A-Z a-z 0-9 - _
	clsHex                // 0-9 a-f A-F
	clsB32Up              // A-Z 2-7
	clsB32Low             // a-z 2-7
)

var class [256]uint8

func init() {
	for c := 0; c < 256; c++ {
		b := byte(c)
		alnum := 'A' <= b && b <= 'Z' || 'a' <= b && b <= 'z' || '0' <= b && b <= '9'
		if alnum || b == '+' || b == '/' {
			class[c] |= clsB64
		}
		if alnum || b == '-' || b == '_' {
			class[c] |= clsB64URL
		}
		if '0' <= b && b <= '9' || 'a' <= b && b <= 'f' || 'A' <= b && b <= 'F' {
			class[c] |= clsHex
		}
		if 'A' <= b && b <= 'Z' || '2' <= b && b <= '7' {
			class[c] |= clsB32Up
		}
		if 'a' <= b && b <= 'z' || '2' <= b && b <= '7' {
			class[c] |= clsB32Low
		}
	}
}

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// alphabet describes one alphabet encoding: its byte class, how many '='
// may pad a run, the size of its quantum in characters (every alignment
// within one is tried), and its decoder.
type alphabet struct {
	name    string
	cls     uint8
	pad     int
	quantum int
	valid   func(n int) bool // whether n characters (no padding) can decode
	decode  func(dst []byte, src string) (int, bool)
}

var alphabets = []alphabet{
	{EncBase64, clsB64, 2, 4, func(n int) bool { return n%4 != 1 }, func(dst []byte, src string) (int, bool) {
		n, err := base64.RawStdEncoding.Decode(dst, bytesOf(src))
		return n, err == nil
	}},
	{EncBase64URL, clsB64URL, 2, 4, func(n int) bool { return n%4 != 1 }, func(dst []byte, src string) (int, bool) {
		n, err := base64.RawURLEncoding.Decode(dst, bytesOf(src))
		return n, err == nil
	}},
	{EncHex, clsHex, 0, 2, func(n int) bool { return n%2 == 0 }, func(dst []byte, src string) (int, bool) {
		n, err := hex.Decode(dst, bytesOf(src))
		return n, err == nil
	}},
	{EncBase32, clsB32Up, 6, 8, validB32, func(dst []byte, src string) (int, bool) {
		n, err := b32.Decode(dst, bytesOf(src))
		return n, err == nil
	}},
	{EncBase32, clsB32Low, 6, 8, validB32, func(dst []byte, src string) (int, bool) {
		n, err := b32.Decode(dst, []byte(strings.ToUpper(src)))
		return n, err == nil
	}},
}

func validB32(n int) bool {
	switch n % 8 {
	case 1, 3, 6:
		return false
	}
	return true
}

// decoded is one way of reading a run: the run's bounds in the text, the
// encoding, the alignment tried (characters skipped at its start) and the
// bytes it decodes to (valid only during the callback).
type decoded struct {
	start, end int
	enc        string
	skip       int
	bytes      []byte
}

// eachDecoding calls fn for every reading of every run in s: each enabled
// alphabet encoding's maximal runs of at least minEnc characters, at every
// alignment (a run found in text may start inside a word, and base64, hex
// and base32 decode by fixed groups, so one of the alignments reads the
// encoded data right after a few garbage bytes), and every percent- or
// \x-escaped token. Readings shorter than minDec bytes are skipped. buf is
// scratch for the decoded bytes.
func (p *Plugin) eachDecoding(s string, buf *[]byte, fn func(d decoded)) {
	// Every alphabet's runs lie inside a run of bytes of any alphabet: find
	// those in one pass (prose has few long ones), then read each alphabet
	// inside them. Lines made only of such bytes (PEM, MIME and hex dumps
	// wrap their data) are joined into one run first.
	for i := 0; i < len(s); {
		if class[s[i]] == 0 {
			i++
			continue
		}
		j := i + 1
		for j < len(s) && class[s[j]] != 0 {
			j++
		}
		if end, ok := wrappedBlock(s, i, j); ok {
			joined := strings.NewReplacer("\r", "", "\n", "").Replace(s[i:end])
			p.alphabetRuns(joined, 0, len(joined), buf, func(d decoded) {
				d.start, d.end = i, end
				fn(d)
			})
			i = end
			continue
		}
		if j-i+6 >= p.cfg.MinEncodedLength {
			p.alphabetRuns(s, i, j, buf, fn)
		}
		i = j
	}
	if p.enabled[EncPercent] {
		p.escapedTokens(s, "%", 3, "?&=#", buf, EncPercent, fn)
	}
	if p.enabled[EncEscapedHex] {
		p.escapedTokens(s, `\x`, 4, "", buf, EncEscapedHex, fn)
	}
}

// wrappedBlock reports whether the run s[i:j] fills its line and is
// followed by more lines made only of alphabet bytes (the last may end
// with '=' padding), and where the block of such lines ends.
func wrappedBlock(s string, i, j int) (int, bool) {
	if i > 0 && s[i-1] != '\n' && s[i-1] != '\r' {
		return 0, false
	}
	end, lines := j, 1
	for end < len(s) && (s[end] == '\n' || s[end] == '\r') {
		k := end + 1
		if s[end] == '\r' && k < len(s) && s[k] == '\n' {
			k++
		}
		m := k
		for m < len(s) && class[s[m]] != 0 {
			m++
		}
		for m < len(s) && s[m] == '=' {
			m++
		}
		if m == k || m < len(s) && s[m] != '\n' && s[m] != '\r' {
			break
		}
		end, lines = m, lines+1
		if s[m-1] == '=' {
			break
		}
	}
	return end, lines > 1
}

// alphabetRuns reads the runs of each enabled alphabet inside s[lo:hi]
// (their padding may follow hi).
func (p *Plugin) alphabetRuns(s string, lo, hi int, buf *[]byte, fn func(d decoded)) {
	minEnc, minDec := p.cfg.MinEncodedLength, p.cfg.MinDecodedLength
	for ai := range alphabets {
		a := &alphabets[ai]
		if !p.enabled[a.name] {
			continue
		}
		for i := lo; i < hi; {
			if class[s[i]]&a.cls == 0 {
				i++
				continue
			}
			j := i
			for j < hi && class[s[j]]&a.cls != 0 {
				j++
			}
			body := j
			for k := 0; k < a.pad && j < len(s) && s[j] == '='; k++ {
				j++
			}
			start := i
			i = j
			if j-start < minEnc {
				continue
			}
			// A URL-safe run without '-' or '_' is also a standard run,
			// already read.
			if a.name == EncBase64URL && !strings.ContainsAny(s[start:body], "-_") {
				continue
			}
			for skip := 0; skip < a.quantum && body-start-skip >= minEnc/2; skip++ {
				src := s[start+skip : body]
				for len(src) > 0 && !a.valid(len(src)) {
					src = src[:len(src)-1]
				}
				if cap(*buf) < len(src) {
					*buf = make([]byte, len(src))
				}
				n, ok := a.decode((*buf)[:len(src)], src)
				if ok && n >= minDec {
					fn(decoded{start: start, end: j, enc: a.name, skip: skip, bytes: (*buf)[:n]})
				}
			}
		}
	}
}

// escapedTokens finds tokens (runs between spaces, quotes and the bytes of
// stops) holding at least minEscapes escapes of the form prefix + two hex
// digits, and decodes them, other characters kept as they are. For
// percent-encoding the stops are the delimiters of a URL query, so that a
// parameter's value is the token.
func (p *Plugin) escapedTokens(s, prefix string, minEscapes int, stops string, buf *[]byte, enc string, fn func(d decoded)) {
	for pos := 0; pos < len(s); {
		k := strings.Index(s[pos:], prefix)
		if k < 0 {
			return
		}
		at := pos + k
		start, end := at, at
		for start > 0 && !tokenStop(s[start-1], stops) {
			start--
		}
		for end < len(s) && !tokenStop(s[end], stops) {
			end++
		}
		pos = max(end, at+len(prefix))
		if end-start < p.cfg.MinEncodedLength {
			continue
		}
		out := (*buf)[:0]
		escapes := 0
		for i := start; i < end; {
			if strings.HasPrefix(s[i:end], prefix) && i+len(prefix)+2 <= end && isHex(s[i+len(prefix)]) && isHex(s[i+len(prefix)+1]) {
				out = append(out, unhex(s[i+len(prefix)])<<4|unhex(s[i+len(prefix)+1]))
				i += len(prefix) + 2
				escapes++
				continue
			}
			out = append(out, s[i])
			i++
		}
		*buf = out
		if escapes >= minEscapes && len(out) >= p.cfg.MinDecodedLength {
			fn(decoded{start: start, end: end, enc: enc, bytes: out})
		}
	}
}

func tokenStop(c byte, stops string) bool {
	return c <= ' ' || c == '"' || c == '\'' || c == '<' || c == '>' || c == '`' || c == 0x7f || strings.IndexByte(stops, c) >= 0
}

func isHex(c byte) bool { return class[c]&clsHex != 0 }

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

// bytesOf views s as bytes for a decoder that only reads them.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }
