package sqlsanitizer

import (
	"strings"
	"unicode/utf8"
)

// tokKind classifies a token.
type tokKind uint8

const (
	tkWord        tokKind = iota // keyword or bare identifier
	tkQuotedIdent                // "x", `x`, [x]
	tkString                     // '…', E'…', $tag$…$tag$, MySQL "…"
	tkNumber                     //
	tkParam                      // ?, $1, :name, @name
	tkSemicolon                  //
	tkLParen                     //
	tkRParen                     //
	tkComment                    // -- …, # …, /* … */ (not executable ones)
	tkExecComment                // the opening of a MySQL /*! … */ executable comment
	tkOp                         // any other character
)

// token is one lexeme of a SQL text: its kind and byte range, and whether
// it runs to the end of the text without its closing delimiter.
type token struct {
	kind         tokKind
	unterminated bool
	start, end   int
	// kw numbers a word's keyword when it is one the checks know (see
	// keywords), else 0; blocked says it is in blocked_statements. Tokens
	// hold no pointer, so that copying them costs no write barrier.
	kw      uint16
	blocked bool
}

// dialect is how one database family reads the lexical details that SQL
// dialects disagree on. The sanitizer reads a text with every configured
// dialect and reports what any reading finds, so that a text cannot hide
// a statement from the filter by meaning one thing to it and another to
// the database.
type dialect struct {
	name              string
	backslashEscapes  bool // \ escapes in '…' (and "…" strings)
	doubleQuoteString bool // "…" is a string, not an identifier
	backtickIdent     bool // `…` is an identifier
	bracketIdent      bool // […] is an identifier
	hashComment       bool // # starts a line comment
	dashNeedsSpace    bool // -- is a comment only before a space or control character
	nestedComments    bool // /* /* */ */ nests
	dollarQuotes      bool // $tag$…$tag$ strings, $1 parameters
	eStrings          bool // E'…' strings take backslash escapes
	execComments      bool // /*! … */ (and MariaDB's /*M! … */) is code
}

// The dialects, by the names of the dialects setting.
var dialects = map[string]dialect{
	"postgres":  {name: "postgres", nestedComments: true, dollarQuotes: true, eStrings: true},
	"mysql":     {name: "mysql", backslashEscapes: true, doubleQuoteString: true, backtickIdent: true, hashComment: true, dashNeedsSpace: true, execComments: true},
	"sqlite":    {name: "sqlite", backtickIdent: true, bracketIdent: true},
	"sqlserver": {name: "sqlserver", bracketIdent: true, nestedComments: true},
}

// lex splits s into tokens under dialect d. It never fails: text it cannot
// classify becomes tkOp tokens, and an unclosed string, identifier or
// comment becomes one token, marked unterminated, that runs to the end.
func lex(s string, d *dialect, kws *keywords, out []token) []token {
	inExec := false // inside a MySQL /*! … */, whose */ is not code
	for i := 0; i < len(s); {
		c := s[i]
		start := i
		// Spaces and words first: they are most of any text.
		if byteClass[c]&clsSpace != 0 {
			i++
			continue
		}
		if byteClass[c]&clsWordStart != 0 && !(d.eStrings && c|0x20 == 'e' && i+1 < len(s) && s[i+1] == '\'') {
			i++
			for i < len(s) && byteClass[s[i]]&clsWord != 0 {
				i++
			}
			k := kws.lookup(s[start:i])
			out = append(out, token{kind: tkWord, start: start, end: i, kw: k.id, blocked: k.blocked})
			continue
		}
		switch {
		case inExec && c == '*' && i+1 < len(s) && s[i+1] == '/':
			inExec = false
			i += 2
			continue
		case c == '-' && i+1 < len(s) && s[i+1] == '-' && (!d.dashNeedsSpace || i+2 >= len(s) || s[i+2] <= ' '),
			c == '#' && d.hashComment:
			i = lineEnd(s, i)
			out = append(out, token{kind: tkComment, start: start, end: i})
			continue
		case c == '/' && i+1 < len(s) && s[i+1] == '*':
			if d.execComments && !inExec && (strings.HasPrefix(s[i+2:], "!") || strings.HasPrefix(s[i+2:], "M!")) {
				i += 3
				if s[i-1] == 'M' {
					i++
				}
				for i < len(s) && s[i] >= '0' && s[i] <= '9' {
					i++
				}
				inExec = true
				out = append(out, token{kind: tkExecComment, start: start, end: i})
				continue
			}
			end, ok := blockCommentEnd(s, i, d.nestedComments)
			i = end
			out = append(out, token{kind: tkComment, start: start, end: end, unterminated: !ok})
			continue
		case c == '\'':
			end, ok := quotedEnd(s, i, '\'', d.backslashEscapes)
			i = end
			out = append(out, token{kind: tkString, start: start, end: end, unterminated: !ok})
			continue
		case c == '"':
			end, ok := quotedEnd(s, i, '"', d.backslashEscapes && d.doubleQuoteString)
			i = end
			k := tkQuotedIdent
			if d.doubleQuoteString {
				k = tkString
			}
			out = append(out, token{kind: k, start: start, end: end, unterminated: !ok})
			continue
		case c == '`' && d.backtickIdent:
			end, ok := quotedEnd(s, i, '`', false)
			i = end
			out = append(out, token{kind: tkQuotedIdent, start: start, end: end, unterminated: !ok})
			continue
		case c == '[' && d.bracketIdent:
			end, ok := quotedEnd(s, i, ']', false)
			i = end
			out = append(out, token{kind: tkQuotedIdent, start: start, end: end, unterminated: !ok})
			continue
		case (c == 'E' || c == 'e') && d.eStrings && i+1 < len(s) && s[i+1] == '\'':
			end, ok := quotedEnd(s, i+1, '\'', true)
			i = end
			out = append(out, token{kind: tkString, start: start, end: end, unterminated: !ok})
			continue
		case c == '$' && d.dollarQuotes:
			if i+1 < len(s) && isDigit(s[i+1]) {
				i += 2
				for i < len(s) && isDigit(s[i]) {
					i++
				}
				out = append(out, token{kind: tkParam, start: start, end: i})
				continue
			}
			if tagEnd, ok := dollarTag(s, i); ok {
				tag := s[i:tagEnd]
				k := strings.Index(s[tagEnd:], tag)
				if k < 0 {
					out = append(out, token{kind: tkString, start: start, end: len(s), unterminated: true})
					i = len(s)
					continue
				}
				i = tagEnd + k + len(tag)
				out = append(out, token{kind: tkString, start: start, end: i})
				continue
			}
		case isDigit(c) || c == '.' && i+1 < len(s) && isDigit(s[i+1]):
			i++
			for i < len(s) && (isWordByte(s[i]) || s[i] == '.') {
				i++
			}
			out = append(out, token{kind: tkNumber, start: start, end: i})
			continue
		case c == '?':
			out = append(out, token{kind: tkParam, start: start, end: i + 1})
			i++
			continue
		case (c == ':' || c == '@') && i+1 < len(s) && isWordStart(s[i+1]):
			i += 2
			for i < len(s) && isWordByte(s[i]) {
				i++
			}
			out = append(out, token{kind: tkParam, start: start, end: i})
			continue
		case c == ';' || c == '(' || c == ')':
			out = append(out, token{kind: punctKinds[c], start: start, end: i + 1})
			i++
			continue
		}
		_, size := utf8.DecodeRuneInString(s[i:])
		i += size
		out = append(out, token{kind: tkOp, start: start, end: i})
	}
	return out
}

// punctKinds are the kinds of the one-byte tokens the checks look at.
var punctKinds = map[byte]tokKind{';': tkSemicolon, '(': tkLParen, ')': tkRParen}

// lineEnd returns the index of the line break ending the comment at s[i].
func lineEnd(s string, i int) int {
	for i < len(s) && s[i] != '\n' && s[i] != '\r' {
		i++
	}
	return i
}

// blockCommentEnd returns the end of the /* comment at s[i].
func blockCommentEnd(s string, i int, nested bool) (int, bool) {
	depth := 0
	for j := i; j+1 < len(s); {
		switch {
		case s[j] == '/' && s[j+1] == '*' && (nested || depth == 0):
			depth++
			j += 2
		case s[j] == '*' && s[j+1] == '/':
			depth--
			j += 2
			if depth == 0 {
				return j, true
			}
		default:
			j++
		}
	}
	return len(s), false
}

// quotedEnd returns the end of the quoted text opened at s[i] and closed by
// q; a doubled q stands for itself, and with backslash a \ escapes the next
// byte.
func quotedEnd(s string, i int, q byte, backslash bool) (int, bool) {
	for j := i + 1; j < len(s); j++ {
		switch {
		case backslash && s[j] == '\\':
			j++
		case s[j] == q:
			if j+1 < len(s) && s[j+1] == q {
				j++
				continue
			}
			return j + 1, true
		}
	}
	return len(s), false
}

// dollarTag reports whether a PostgreSQL dollar-quote opener ($$ or $tag$)
// starts at s[i], and where it ends.
func dollarTag(s string, i int) (int, bool) {
	j := i + 1
	if j < len(s) && (isWordStart(s[j]) && s[j] < 0x80) {
		for j < len(s) && (isWordByte(s[j]) && s[j] != '$' && s[j] < 0x80) {
			j++
		}
	}
	if j < len(s) && s[j] == '$' {
		return j + 1, true
	}
	return 0, false
}

// Byte classes of the lexer.
const (
	clsSpace     = 1 << iota // space, tab, line breaks, form feed, vertical tab
	clsWordStart             // letters, '_', and bytes of non-ASCII characters
	clsWord                  // what may follow in a word: also digits and '$'
)

var byteClass = func() (t [256]uint8) {
	for c := 0; c < 256; c++ {
		b := byte(c)
		if b == ' ' || b == '\t' || b == '\n' || b == '\r' || b == '\f' || b == '\v' {
			t[c] |= clsSpace
		}
		if 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || b == '_' || b >= 0x80 {
			t[c] |= clsWordStart | clsWord
		}
		if '0' <= b && b <= '9' || b == '$' {
			t[c] |= clsWord
		}
	}
	return t
}()

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isWordStart(c byte) bool { return byteClass[c]&clsWordStart != 0 }

func isWordByte(c byte) bool { return byteClass[c]&clsWord != 0 }

// keywords are the upper-case keywords the checks compare words with, so
// that a token carries its keyword as a number, found without hashing or
// allocating: by first letter and length, then compared byte by byte.
type keywords struct {
	names   []string // by id; names[0] is ""
	blocked []bool   // by id
	buckets [26][maxKeyword + 1][]uint16
}

// maxKeyword is the longest keyword the table holds.
const maxKeyword = 16

// keyword is a known keyword: its number, and whether it is blocked.
type keyword struct {
	id      uint16
	blocked bool
}

func newKeywords() *keywords { return &keywords{names: []string{""}, blocked: []bool{false}} }

// add adds an upper-case keyword of letters and '_'.
func (k *keywords) add(w string, blocked bool) {
	if len(w) == 0 || len(w) > maxKeyword || w[0] < 'A' || w[0] > 'Z' {
		return
	}
	b := &k.buckets[w[0]-'A'][len(w)]
	for _, id := range *b {
		if k.names[id] == w {
			k.blocked[id] = k.blocked[id] || blocked
			return
		}
	}
	*b = append(*b, uint16(len(k.names)))
	k.names = append(k.names, w)
	k.blocked = append(k.blocked, blocked)
}

// lookup returns w's keyword, case-insensitively, or the zero keyword.
func (k *keywords) lookup(w string) keyword {
	if k == nil || len(w) > maxKeyword {
		return keyword{}
	}
	c := w[0] &^ 0x20
	if c < 'A' || c > 'Z' {
		return keyword{}
	}
next:
	for _, id := range k.buckets[c-'A'][len(w)] {
		name := k.names[id]
		for i := 1; i < len(w); i++ {
			b := w[i]
			if 'a' <= b && b <= 'z' {
				b -= 'a' - 'A'
			}
			if b != name[i] {
				continue next
			}
		}
		return keyword{id: id, blocked: k.blocked[id]}
	}
	return keyword{}
}

// features are the characters of a text that dialects read differently,
// a bit each.
type features uint16

const (
	fBackslash features = 1 << iota
	fDoubleQuote
	fBacktick
	fBracket
	fHash
	fDashGlued
	fBlockComment
	fExecComment
	fDollarTag
	fEQuote
	numFeatureSets = 1 << iota
)

// featureByte marks the bytes featuresOf looks at.
var featureByte = func() (t [256]bool) {
	for _, c := range []byte("\\\"`[#-/$eE") {
		t[c] = true
	}
	return t
}()

// featuresOf finds the features of s.
func featuresOf(s string) features {
	var f features
	for i := 0; i < len(s); i++ {
		if !featureByte[s[i]] {
			continue
		}
		next := byte(0)
		if i+1 < len(s) {
			next = s[i+1]
		}
		switch s[i] {
		case '\\':
			f |= fBackslash
		case '"':
			f |= fDoubleQuote
		case '`':
			f |= fBacktick
		case '[':
			f |= fBracket
		case '#':
			f |= fHash
		case '-':
			if next == '-' && (i+2 >= len(s) || s[i+2] > ' ') {
				f |= fDashGlued
			}
		case '/':
			if next == '*' {
				f |= fBlockComment
				if strings.HasPrefix(s[i+2:], "!") || strings.HasPrefix(s[i+2:], "M!") {
					f |= fExecComment
				}
			}
		case '$':
			if next == '$' || isWordStart(next) {
				f |= fDollarTag
			}
		case 'e', 'E':
			if next == '\'' {
				f |= fEQuote
			}
		}
	}
	return f
}

// effective is d with the rules that s's features do not exercise turned
// off: two dialects with equal effective forms lex s into the same tokens,
// save for the kinds of $1 parameters, which no check looks at.
func (d dialect) effective(f features) dialect {
	return dialect{
		backslashEscapes:  d.backslashEscapes && f&fBackslash != 0,
		doubleQuoteString: d.doubleQuoteString && f&fDoubleQuote != 0,
		backtickIdent:     d.backtickIdent && f&fBacktick != 0,
		bracketIdent:      d.bracketIdent && f&fBracket != 0,
		hashComment:       d.hashComment && f&fHash != 0,
		dashNeedsSpace:    d.dashNeedsSpace && f&fDashGlued != 0,
		nestedComments:    d.nestedComments && f&fBlockComment != 0,
		dollarQuotes:      d.dollarQuotes && f&fDollarTag != 0,
		eStrings:          d.eStrings && f&fEQuote != 0,
		execComments:      d.execComments && f&fExecComment != 0,
	}
}

// dialectGroup is a reading shared by the dialects named.
type dialectGroup struct {
	d     dialect
	names []string
}

// groupDialects groups ds by their effective form for a text with f.
func groupDialects(ds []*dialect, f features) []dialectGroup {
	var gs []dialectGroup
	for _, d := range ds {
		e := d.effective(f)
		found := false
		for i := range gs {
			if gs[i].d == e {
				gs[i].names = append(gs[i].names, d.name)
				found = true
				break
			}
		}
		if !found {
			gs = append(gs, dialectGroup{d: e, names: []string{d.name}})
		}
	}
	return gs
}
