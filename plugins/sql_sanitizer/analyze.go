package sqlsanitizer

import (
	"slices"
	"strings"
)

// The issues the sanitizer reports, as details name them.
const (
	IssueStacked            = "stacked_statements"
	IssueBlockedKeyword     = "blocked_keyword"
	IssueDeleteWithoutWhere = "delete_without_where"
	IssueUpdateWithoutWhere = "update_without_where"
	IssueWhereTautology     = "where_tautology"
	IssueTautology          = "tautology"
	IssueUnionSelect        = "union_select"
	IssueExecutableComment  = "executable_comment"
	IssueCommentHidesSQL    = "comment_hides_sql"
	IssueUnterminated       = "unterminated"
	IssueLiteralValue       = "literal_value"
	IssueInterpolation      = "interpolation"
)

// issue is one thing found wrong with a text: what, under which readings,
// and the keyword involved (for blocked_keyword).
type issue struct {
	kind     string
	keyword  string
	dialects []string
}

// rules are the checks a plugin runs.
type rules struct {
	blocked      map[string]bool // upper-case keywords
	stacked      bool
	deleteWhere  bool
	updateWhere  bool
	tautologies  bool
	commentTrick bool
	injection    bool
	literals     bool
}

// statement is a run of tokens between semicolons, comments left out.
type statement []token

// reading is one lexing of a text: its tokens, its tokens without
// comments, and its statements (slices of code).
type reading struct {
	kws   *keywords
	text  string
	toks  []token
	code  []token
	stmts []statement
}

// read lexes text under d into r, reusing r's slices.
func (r *reading) read(text string, d *dialect, kws *keywords) {
	r.text, r.kws = text, kws
	r.toks = lex(text, d, kws, r.toks[:0])
	r.code, r.stmts = r.code[:0], r.stmts[:0]
	from := 0
	for _, t := range r.toks {
		switch t.kind {
		case tkComment, tkExecComment:
		case tkSemicolon:
			if len(r.code) > from {
				r.stmts = append(r.stmts, r.code[from:len(r.code):len(r.code)])
			}
			from = len(r.code)
		default:
			r.code = append(r.code, t)
		}
	}
	if len(r.code) > from {
		r.stmts = append(r.stmts, r.code[from:len(r.code):len(r.code)])
	}
}

// word returns t's keyword (upper case), "" for other tokens and words.
func (r *reading) word(t token) string { return r.kws.names[t.kw] }

// knownKeywords are every word the checks compare with.
func knownKeywords(blocked map[string]bool) *keywords {
	k := newKeywords()
	for _, set := range []map[string]bool{verbs, objectWords, blocked} {
		for w := range set {
			k.add(w, blocked[w])
		}
	}
	for _, w := range append(clauseWords, "FROM", "INTO", "IGNORE", "SET", "ON", "TO", "AS", "RECURSIVE", "DATA", "WHERE", "TRUE", "ALL", "OR", "UNION",
		"FOR", "KEY", "OF", "BEFORE", "AFTER", "INSTEAD") {
		k.add(w, blocked[w])
	}
	return k
}

// verbs start SQL statements.
var verbs = map[string]bool{
	"SELECT": true, "INSERT": true, "UPDATE": true, "DELETE": true, "MERGE": true, "REPLACE": true,
	"DROP": true, "TRUNCATE": true, "ALTER": true, "CREATE": true, "GRANT": true, "REVOKE": true,
	"CALL": true, "EXEC": true, "EXECUTE": true, "COPY": true, "LOAD": true, "WITH": true,
	"RENAME": true, "SHUTDOWN": true, "ATTACH": true, "DETACH": true, "PRAGMA": true, "VACUUM": true,
	"SET": true, "DECLARE": true, "BEGIN": true, "DO": true, "HANDLER": true, "LOCK": true, "UNION": true,
}

// objectWords follow DROP, CREATE, ALTER in DDL.
var objectWords = map[string]bool{
	"TABLE": true, "DATABASE": true, "SCHEMA": true, "VIEW": true, "INDEX": true, "USER": true, "ROLE": true,
	"FUNCTION": true, "PROCEDURE": true, "TRIGGER": true, "SEQUENCE": true, "TABLESPACE": true, "EXTENSION": true,
	"COLUMN": true, "CONSTRAINT": true, "TYPE": true, "DOMAIN": true, "EVENT": true, "OWNED": true, "TEMPORARY": true,
	"TEMP": true, "UNIQUE": true, "IF": true, "MATERIALIZED": true, "LOGIN": true, "SERVER": true, "POLICY": true,
}

// shaped reports whether stmt starts the way a SQL statement does (and not
// merely with an English verb): SELECT … FROM, INSERT INTO, UPDATE x SET,
// DELETE FROM, DROP TABLE, TRUNCATE x, GRANT … TO/ON, WITH x AS (, … It
// decides which strings of free text are SQL.
func (r *reading) shaped(stmt statement) bool {
	w := func(i int) string {
		if i < len(stmt) {
			return r.word(stmt[i])
		}
		return ""
	}
	i := 0
	for i < len(stmt) && stmt[i].kind == tkLParen {
		i++
	}
	has := func(from int, words ...string) bool {
		for j := from; j < len(stmt); j++ {
			if slices.Contains(words, r.word(stmt[j])) {
				return true
			}
		}
		return false
	}
	switch w(i) {
	case "SELECT":
		return has(i+1, "FROM", "UNION", "INTO")
	case "INSERT", "REPLACE", "MERGE":
		return w(i+1) == "INTO" || w(i+1) == "IGNORE"
	case "UPDATE":
		return has(i+2, "SET")
	case "DELETE":
		return w(i+1) == "FROM" || has(i+1, "FROM")
	case "DROP", "CREATE", "ALTER":
		return objectWords[w(i+1)]
	case "TRUNCATE":
		return i+1 < len(stmt) && (stmt[i+1].kind == tkWord || stmt[i+1].kind == tkQuotedIdent)
	case "GRANT", "REVOKE":
		return has(i+1, "ON", "TO", "FROM")
	case "WITH":
		return i+2 < len(stmt) && r.word(stmt[i+2]) == "AS" || w(i+1) == "RECURSIVE"
	case "EXEC", "EXECUTE", "CALL":
		return i+1 < len(stmt) && stmt[i+1].kind != tkOp
	case "COPY":
		return has(i+1, "FROM", "TO")
	case "LOAD":
		return w(i+1) == "DATA"
	case "SHUTDOWN":
		return len(stmt) == i+1
	}
	return false
}

// topWords calls fn with the index and keyword of each word at
// parenthesis depth 0 of stmt, until fn returns false.
func (r *reading) topWords(stmt statement, fn func(i int, w string) bool) {
	depth := 0
	for i, t := range stmt {
		switch t.kind {
		case tkLParen:
			depth++
		case tkRParen:
			depth--
		case tkWord:
			if depth <= 0 && !fn(i, r.word(t)) {
				return
			}
		}
	}
}

// hasWhere reports whether stmt has a WHERE at depth 0, and where.
func (r *reading) hasWhere(stmt statement) (at int, ok bool) {
	r.topWords(stmt, func(i int, w string) bool {
		if w == "WHERE" {
			at, ok = i, true
		}
		return !ok
	})
	return at, ok
}

// tautologyAt reports whether the condition starting at stmt[i] is always
// true: TRUE, a bare nonzero number, or two equal literals compared with =
// (1=1, 'a'='a').
func (r *reading) tautologyAt(stmt statement, i int) bool {
	for i < len(stmt) && stmt[i].kind == tkLParen {
		i++
	}
	if i >= len(stmt) {
		return false
	}
	t := stmt[i]
	if r.word(t) == "TRUE" {
		return true
	}
	lit := func(t token) bool { return t.kind == tkNumber || t.kind == tkString }
	if i+2 < len(stmt) && lit(t) && stmt[i+1].kind == tkOp && r.text[stmt[i+1].start:stmt[i+1].end] == "=" && lit(stmt[i+2]) &&
		r.text[t.start:t.end] == r.text[stmt[i+2].start:stmt[i+2].end] {
		return true
	}
	if t.kind == tkNumber && (i+1 == len(stmt) || stmt[i+1].kind == tkWord) && strings.Trim(r.text[t.start:t.end], "0.") != "" {
		return true
	}
	return false
}

// check runs the rules over one reading. sqlText says the text is known to
// be SQL (a configured field); otherwise only texts with a statement of
// SQL's shape count.
func (ru *rules) check(r *reading, sqlText bool, add func(kind, keyword string)) {
	if !sqlText && !slices.ContainsFunc(r.stmts, r.shaped) {
		return
	}
	for _, stmt := range r.stmts {
		ru.statement(r, stmt, add)
	}
	if len(r.stmts) > 1 && ru.stacked {
		add(IssueStacked, "")
	}
	if ru.commentTrick {
		for _, t := range r.toks {
			switch {
			case t.kind == tkExecComment:
				add(IssueExecutableComment, "")
			case t.unterminated:
				add(IssueUnterminated, "")
			case t.kind == tkComment && commentHidesSQL(r.text[t.start:t.end]):
				add(IssueCommentHidesSQL, "")
			}
		}
	}
	if ru.literals {
		if slices.ContainsFunc(r.toks, func(t token) bool { return t.kind == tkString }) {
			add(IssueLiteralValue, "")
		}
		if interpolated(r) {
			add(IssueInterpolation, "")
		}
	}
}

// checkInjected runs the injection checks over a reading of a text as the
// rest of a quoted literal (the text with a quote put in front). The text
// is an injection if it closes the literal and goes on with SQL: comments
// out the rest of the query right away (admin'--), starts another
// statement (x'; DROP TABLE t), appends a UNION SELECT, or an OR that is
// always true (x' OR '1'='1).
func (ru *rules) checkInjected(r *reading, add func(kind, keyword string)) {
	if len(r.toks) == 0 || r.toks[0].kind != tkString || r.toks[0].unterminated {
		return
	}
	j := 1
	for j < len(r.toks) && (r.toks[j].kind == tkRParen || r.toks[j].kind == tkSemicolon) {
		j++
	}
	if ru.commentTrick && j < len(r.toks) && r.toks[j].kind == tkComment {
		add(IssueCommentHidesSQL, "")
	}
	for si, stmt := range r.stmts {
		if si > 0 && r.shaped(stmt) {
			ru.statement(r, stmt, add)
			if ru.stacked {
				add(IssueStacked, "")
			}
		}
		for i, t := range stmt {
			switch r.word(t) {
			case "UNION":
				k := i + 1
				if k < len(stmt) && r.word(stmt[k]) == "ALL" {
					k++
				}
				if k < len(stmt) && r.word(stmt[k]) == "SELECT" {
					add(IssueUnionSelect, "")
				}
			case "OR":
				if ru.tautologies && r.tautologyAt(stmt, i+1) {
					add(IssueTautology, "")
				}
			}
		}
	}
}

// statement checks one statement: blocked keywords, then each DELETE and
// UPDATE without a WHERE or with an always-true one.
func (ru *rules) statement(r *reading, stmt statement, add func(kind, keyword string)) {
	for i, t := range stmt {
		if t.blocked && (i+1 == len(stmt) || stmt[i+1].kind != tkLParen) {
			add(IssueBlockedKeyword, r.word(t))
		}
	}
	starts := r.dmlStarts(stmt)
	for k, at := range starts {
		end := len(stmt)
		if k+1 < len(starts) {
			end = starts[k+1]
		}
		seg := stmt[at:end]
		verb := r.word(seg[0])
		if verb == "DELETE" && !ru.deleteWhere || verb == "UPDATE" && !ru.updateWhere {
			continue
		}
		w, ok := r.hasWhere(seg)
		switch {
		case !ok && verb == "DELETE":
			add(IssueDeleteWithoutWhere, "")
		case !ok:
			add(IssueUpdateWithoutWhere, "")
		case ru.tautologies && r.alwaysTrue(seg, w):
			add(IssueWhereTautology, "")
		}
	}
}

// clauseBefore are the words after which DELETE or UPDATE is part of a
// clause (ON DELETE CASCADE, FOR UPDATE, ON CONFLICT DO UPDATE, AFTER
// DELETE ON, GRANT UPDATE ON), not a statement.
var clauseBefore = map[string]bool{"ON": true, "DO": true, "FOR": true, "KEY": true, "OF": true, "BEFORE": true,
	"AFTER": true, "INSTEAD": true, "OR": true, "GRANT": true, "REVOKE": true}

// dmlStarts returns where a DELETE or UPDATE statement starts at the top
// level of stmt: at its verb, and wherever one follows another statement
// without a semicolon, as SQL Server allows ("SELECT … DELETE FROM t").
func (r *reading) dmlStarts(stmt statement) []int {
	var out []int
	r.topWords(stmt, func(i int, w string) bool {
		if w != "DELETE" && w != "UPDATE" {
			return true
		}
		if i > 0 && (clauseBefore[r.word(stmt[i-1])] || stmt[i-1].kind == tkOp && r.text[stmt[i-1].start:stmt[i-1].end] == ",") {
			return true
		}
		out = append(out, i)
		return true
	})
	return out
}

// alwaysTrue reports whether the WHERE at stmt[w] is, or holds, an
// always-true condition: the condition itself, or an OR branch at any
// depth ("id = 2 OR (1=1)"). An OR 1=1 under an AND is not always true,
// but it is the shape of an injection, and reported as well.
func (r *reading) alwaysTrue(stmt statement, w int) bool {
	if r.tautologyAt(stmt, w+1) {
		return true
	}
	for i := w + 1; i < len(stmt); i++ {
		if r.word(stmt[i]) == "OR" && r.tautologyAt(stmt, i+1) {
			return true
		}
	}
	return false
}

// clauseWords in a comment, next to a quote or '=', mark SQL commented out.
var clauseWords = []string{"AND", "OR", "WHERE", "SELECT", "FROM", "UNION", "UPDATE", "DELETE", "DROP", "INSERT"}

// commentHidesSQL reports whether a comment's text is SQL rather than
// prose: a quote or '=' together with a clause keyword, as in
// "--' AND password = '…'", the rest of a query an injection commented out.
func commentHidesSQL(c string) bool {
	if !strings.ContainsAny(c, `'"=`) {
		return false
	}
	up := strings.ToUpper(c)
	for _, w := range clauseWords {
		for k := 0; k < len(up); {
			j := strings.Index(up[k:], w)
			if j < 0 {
				break
			}
			a, b := k+j, k+j+len(w)
			if (a == 0 || !isWordByte(up[a-1])) && (b == len(up) || !isWordByte(up[b])) {
				return true
			}
			k = b
		}
	}
	return false
}

// interpolated reports template markers outside strings: {…}, %s, %(name)s.
func interpolated(r *reading) bool {
	for i, t := range r.toks {
		if t.kind != tkOp {
			continue
		}
		switch r.text[t.start:t.end] {
		case "{":
			return true
		case "%":
			if i+1 < len(r.toks) && r.toks[i+1].start == t.end {
				next := r.text[r.toks[i+1].start:r.toks[i+1].end]
				if r.toks[i+1].kind == tkLParen || next == "s" || next == "d" {
					return true
				}
			}
		}
	}
	return false
}
