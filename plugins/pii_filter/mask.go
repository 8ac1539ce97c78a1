package piifilter

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"hash"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/mcp-extproc/mcp-extproc/plugins/internal/anchors"
)

// masker replaces detected values. It is immutable and safe for concurrent
// use.
type masker struct {
	strategy  MaskStrategy
	redaction string
	// tokenKey keys the tokenize strategy's HMAC: random per plugin
	// instance, so tokens are stable within a process and cannot be
	// reversed by hashing guesses without the key.
	tokenKey []byte
	macs     sync.Pool // of hash.Hash: HMAC-SHA256 under tokenKey
}

func newMasker(c *Config) *masker {
	key := make([]byte, 32)
	rand.Read(key) // never fails (crypto/rand panics rather than return an error)
	m := &masker{strategy: c.MaskStrategy, redaction: c.RedactionText, tokenKey: key}
	m.macs.New = func() any { return hmac.New(sha256.New, m.tokenKey) }
	return m
}

// apply returns s with each finding (in order, not overlapping) masked.
func (m *masker) apply(s string, fs []finding) string {
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for _, f := range fs {
		b.WriteString(s[last:f.start])
		strategy := f.strategy
		if strategy == "" {
			strategy = m.strategy
		}
		b.WriteString(m.mask(f.typ, s[f.start:f.end], strategy))
		last = f.end
	}
	b.WriteString(s[last:])
	return b.String()
}

// mask returns the replacement of one value.
func (m *masker) mask(typ, v string, strategy MaskStrategy) string {
	switch strategy {
	case MaskPartial:
		return partial(typ, v)
	case MaskHash:
		sum := sha256.Sum256([]byte(v))
		return "[HASH:" + hex.EncodeToString(sum[:4]) + "]"
	case MaskTokenize:
		h := m.macs.Get().(hash.Hash)
		h.Reset()
		io.WriteString(h, typ)
		h.Write([]byte{0})
		io.WriteString(h, v)
		var sum [sha256.Size]byte
		token := "[TOKEN:" + hex.EncodeToString(h.Sum(sum[:0])[:8]) + "]"
		m.macs.Put(h)
		return token
	case MaskRemove:
		return ""
	}
	return m.redaction
}

// partial keeps the part of a value that lets a person recognise it.
func partial(typ, v string) string {
	switch typ {
	case TypeSSN:
		return "***-**-" + lastDigits(v, 4)
	case TypeCreditCard:
		return "****-****-****-" + lastDigits(v, 4)
	case TypeEmail:
		if at := strings.LastIndexByte(v, '@'); at > 0 {
			_, n := utf8.DecodeRuneInString(v)
			return v[:n] + "***" + v[at:]
		}
	case TypeIPAddress:
		if a, err := netip.ParseAddr(v); err == nil {
			if a.Is4() {
				b := a.As4()
				return strconv.Itoa(int(b[0])) + "." + strconv.Itoa(int(b[1])) + ".*.*"
			}
			b := a.As16()
			return hex.EncodeToString(b[0:2]) + ":" + hex.EncodeToString(b[2:4]) + ":*"
		}
	}
	return keepLast(v, 4)
}

// lastDigits returns the last n digits of v.
func lastDigits(v string, n int) string {
	end := len(v)
	i := end
	for i > 0 && n > 0 {
		i--
		if anchors.IsDigit(v[i]) {
			n--
		}
	}
	var b strings.Builder
	for j := i; j < end; j++ {
		if anchors.IsDigit(v[j]) {
			b.WriteByte(v[j])
		}
	}
	return b.String()
}

// keepLast stars every letter and digit but the last n, keeping punctuation
// so the value's shape stays readable ((***) ***-4567). A value with fewer
// than 2n letters and digits is starred entirely.
func keepLast(v string, n int) string {
	rs := []rune(v)
	alnum := 0
	for _, r := range rs {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			alnum++
		}
	}
	keep := n
	if alnum < 2*n {
		keep = 0
	}
	for i := len(rs) - 1; i >= 0; i-- {
		if !unicode.IsLetter(rs[i]) && !unicode.IsDigit(rs[i]) {
			continue
		}
		if keep > 0 {
			keep--
			continue
		}
		rs[i] = '*'
	}
	return string(rs)
}
