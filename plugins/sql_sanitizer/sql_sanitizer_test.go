package sqlsanitizer_test

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/plugins/internal/plugintest"
	sqlsanitizer "github.com/mcp-extproc/mcp-extproc/plugins/sql_sanitizer"
)

func load(t testing.TB, config string) framework.ToolPreInvoker {
	t.Helper()
	return plugintest.Load(t, plugintest.Policy("sql", "sql_sanitizer", config)).(framework.ToolPreInvoker)
}

// call runs tool_pre_invoke with {"query": q} and returns the result.
func call(t *testing.T, pl framework.ToolPreInvoker, key, q string) framework.Result[framework.ToolPreInvokePayload] {
	t.Helper()
	raw, _ := json.Marshal(map[string]any{key: q, "limit": 10})
	res, err := pl.ToolPreInvoke(context.Background(), &framework.ToolPreInvokePayload{Name: "run_sql", Args: raw}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// issues lists the issue kinds of a violation, sorted, with keywords as kind:KEYWORD.
func issues(v *framework.Violation) string {
	if v == nil {
		return ""
	}
	var out []string
	for _, it := range v.Details["issues"].([]map[string]any) {
		k := it["issue"].(string)
		if kw, ok := it["keyword"].(string); ok {
			k += ":" + kw
		}
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return strings.Join(out, " ")
}

func TestSQLFields(t *testing.T) {
	pl := load(t, `{fields: [query, sql]}`)
	for _, tc := range []struct{ sql, want string }{
		{"SELECT * FROM users WHERE id = $1", ""},
		{"select name from t where note = 'DROP TABLE x; --'", ""},  // keywords inside a string
		{`SELECT "drop", "; DELETE FROM t" FROM t WHERE a = 1`, ""}, // inside quoted identifiers (not in MySQL!)
		{"UPDATE accounts SET balance = 0 WHERE id = ?", ""},
		{"DELETE FROM sessions WHERE expires < now()", ""},
		{"SELECT TRUNCATE(price, 2) FROM items", ""},                                      // a function, not the statement
		{"SELECT $$ ; DROP TABLE t $$ FROM t", "blocked_keyword:DROP stacked_statements"}, // dollar quotes are PostgreSQL's only
		{"DROP TABLE users", "blocked_keyword:DROP"},
		{"drop table users", "blocked_keyword:DROP"},
		{"SELECT 1; DROP TABLE users", "blocked_keyword:DROP stacked_statements"},
		{"TRUNCATE audit_log", "blocked_keyword:TRUNCATE"},
		{"DELETE FROM users", "delete_without_where"},
		{"DELETE FROM users -- WHERE id = 1", "comment_hides_sql delete_without_where"},
		{"DELETE FROM t USING (SELECT * FROM x WHERE y) s", "delete_without_where"}, // a WHERE in a subquery does not count
		{"UPDATE users SET admin = true", "update_without_where"},
		{"UPDATE users SET admin = true WHERE 1=1", "where_tautology"},
		{"DELETE FROM users WHERE TRUE", "where_tautology"},
		{"WITH old AS (SELECT id FROM t) DELETE FROM t", "delete_without_where"},
		{"SELECT * FROM t DELETE FROM t", "delete_without_where"}, // two statements to SQL Server
		{"UPDATE t SET a = 1 WHERE id = 2 OR 1=1", "where_tautology"},
		{"DELETE FROM t WHERE id = 2 OR (a = 1 OR 'x'='x')", "where_tautology"},
		{"DELETE FROM t WHERE id = 2 OR (1=1)", "where_tautology"},
		{"DELETE FROM t WHERE id = 2 OR id = 3", ""},
		{"SELECT * FROM t WHERE id = 1 FOR UPDATE", ""},
		{"INSERT INTO t (a) VALUES (1) ON DUPLICATE KEY UPDATE a = 2", ""},
		{"INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = 2", ""},
		{"CREATE TABLE t (id int REFERENCES u ON DELETE CASCADE ON UPDATE SET NULL)", ""},
		{"GRANT SELECT, UPDATE ON t TO bob", "blocked_keyword:GRANT"},
		{"CREATE TRIGGER g AFTER DELETE ON t FOR EACH ROW DELETE FROM log", "delete_without_where"},
		{"SELECT 1 /*M! ; DROP TABLE users */", "blocked_keyword:DROP executable_comment stacked_statements"},
		{"SELECT 1 /*! ; DROP TABLE users */", "blocked_keyword:DROP executable_comment stacked_statements"},
		{"SELECT 'it''s'", ""},
		{`SELECT 'a\'; DROP TABLE t; --'`, "blocked_keyword:DROP stacked_statements"}, // standard SQL: the string ends at \'
		{"SELECT 1 -- trailing note", ""},
		{"SELECT 1 /* unterminated", "unterminated"},
		{"SELECT * FROM t WHERE name = 'x", "unterminated"},
		{"SELECT /* /* nested */ ; DROP TABLE t */ 1", "blocked_keyword:DROP stacked_statements"}, // nested in PostgreSQL, not in MySQL/SQLite
		{"SELECT 1 #; DROP TABLE t\n", "blocked_keyword:DROP stacked_statements"},                 // # is a comment only in MySQL
		{"SELECT 1 --x; DROP TABLE t", "blocked_keyword:DROP stacked_statements"},                 // --x is no comment in MySQL
		{`SELECT "a\"; DROP TABLE t; SELECT \"" FROM t`, "blocked_keyword:DROP stacked_statements"},
	} {
		res := call(t, pl, "query", tc.sql)
		if got := issues(res.Violation); got != tc.want {
			t.Errorf("%q:\n got  %q\n want %q", tc.sql, got, tc.want)
		}
		if tc.want != "" && (res.Violation.Code != sqlsanitizer.CodeUnsafeSQL || res.Metadata["sql_issues"] == nil) {
			t.Errorf("%q: %+v", tc.sql, res)
		}
	}
	// Only the configured fields are read.
	if res := call(t, pl, "note", "DROP TABLE users"); res.Violation != nil {
		t.Errorf("unconfigured field: %+v", res.Violation)
	}
	// Dialects say which reading found it: # is an operator but in MySQL.
	v := call(t, pl, "sql", "SELECT 1 #; DROP TABLE t\n").Violation
	if d := v.Details["issues"].([]map[string]any)[0]["dialects"]; !slices.Equal(d.([]string), []string{"postgres", "sqlite", "sqlserver"}) {
		t.Errorf("dialects %v", d)
	}
}

func TestFreeText(t *testing.T) {
	pl := load(t, `{}`)
	for _, tc := range []struct{ text, want string }{
		{"please delete from the list the old entries", ""},
		{"Don't worry; update me later", ""},
		{"It's fine; drop me a line -- really", ""},
		{"select the best option from the menu", ""}, // SELECT … FROM: read as SQL, and harmless
		{"We should DROP TABLE users tonight", ""},   // no statement starts with it
		{"DROP TABLE users", "blocked_keyword:DROP"},
		{"DELETE FROM users", "delete_without_where"},
		{"x'; DROP TABLE users; --", "blocked_keyword:DROP stacked_statements"},
		{"admin'--", "comment_hides_sql"},
		{"admin' #", "comment_hides_sql"},
		{"x' OR '1'='1", "tautology"},
		{"1' OR 1=1 --", "tautology"},
		{"x' UNION SELECT password FROM users --", "union_select"},
		{`x" OR "a"="a`, "tautology"}, // MySQL reads "…" as a string
		{"O'Brien said hello", ""},
		{"I'd like to select a seat from row 5", ""},
		{"select the seat you'd like from the list", ""},
		{"Use SELECT name FROM users WHERE id = 1 to look it up", ""},
		{"note: we'll update it = soon -- promise", ""},
	} {
		res := call(t, pl, "note", tc.text)
		if got := issues(res.Violation); got != tc.want {
			t.Errorf("%q:\n got  %q\n want %q", tc.text, got, tc.want)
		}
	}
	if res := call(t, load(t, `{detect_injection: false}`), "note", "x'; DROP TABLE users; --"); res.Violation != nil {
		t.Errorf("detect_injection off: %+v", res.Violation)
	}
}

func TestSwitchesAndActions(t *testing.T) {
	for _, tc := range []struct{ config, sql, want string }{
		{`{block_delete_without_where: false}`, "DELETE FROM t", ""},
		{`{block_update_without_where: false}`, "UPDATE t SET a = 1", ""},
		{`{block_stacked_statements: false}`, "SELECT 1 FROM a; SELECT 2 FROM b", ""},
		{`{}`, "SELECT 1 FROM a; SELECT 2 FROM b", "stacked_statements"},
		{`{blocked_statements: []}`, "DROP TABLE t", ""},
		{`{blocked_statements: ['\bDROP\b', shutdown]}`, "SHUTDOWN", "blocked_keyword:SHUTDOWN"},
		{`{block_comment_tricks: false}`, "SELECT 1 /*! FROM t */", ""},
		{`{block_tautologies: false}`, "DELETE FROM t WHERE 1=1", ""},
		{`{require_parameterization: true}`, "SELECT * FROM t WHERE name = 'bob'", "literal_value"},
		{`{require_parameterization: true}`, "SELECT * FROM t WHERE name = {name}", "interpolation"},
		{`{require_parameterization: true}`, "SELECT * FROM t WHERE name = %s", "interpolation"},
		{`{require_parameterization: true}`, "SELECT * FROM t WHERE name = :name AND id = $2", ""},
		{`{dialects: [mysql]}`, "SELECT 1 #; DROP TABLE t\n", ""},
	} {
		res := call(t, load(t, tc.config), "query", tc.sql)
		if got := issues(res.Violation); got != tc.want {
			t.Errorf("%s %q: got %q, want %q", tc.config, tc.sql, got, tc.want)
		}
	}
	res := call(t, load(t, `{action: log}`), "query", "DROP TABLE t")
	if res.Violation != nil || res.Metadata["sql_issues"] == nil {
		t.Fatalf("log: %+v", res)
	}
}

func TestStripComments(t *testing.T) {
	pl := load(t, `{fields: [query], strip_comments: true}`)
	res := call(t, pl, "query", "SELECT a /* pick a */ FROM t -- all rows\nWHERE b = 1")
	if res.Violation != nil || res.ModifiedPayload == nil {
		t.Fatalf("%+v", res)
	}
	if got := string(res.ModifiedPayload.Args); got != `{"limit":10,"query":"SELECT a   FROM t  \nWHERE b = 1"}` {
		t.Fatalf("stripped: %s", got)
	}
	// Where the dialects disagree about a comment, nothing is stripped.
	res = call(t, pl, "query", "SELECT 1 #x\n FROM t WHERE a = 1")
	if res.ModifiedPayload != nil {
		t.Fatalf("stripped an ambiguous comment: %s", res.ModifiedPayload.Args)
	}
}

// ContextForge's SQLSanitizer entry, as its plugins/config.yaml writes it.
func TestContextForgeConfig(t *testing.T) {
	pl := plugintest.Load(t, `plugins:
  - name: SQLSanitizer
    kind: cpex_sql_sanitizer.sql_sanitizer.SQLSanitizerPlugin
    hooks: [prompt_pre_fetch, tool_pre_invoke]
    config:
      block_delete_without_where: true
      block_on_violation: true
      block_update_without_where: true
      blocked_statements: ['\bDROP\b', '\bTRUNCATE\b', '\bALTER\b', '\bGRANT\b', '\bREVOKE\b']
      fields: [sql, query, statement]
      require_parameterization: false
      strip_comments: true
`).(framework.PromptPreFetcher)
	res, err := pl.PromptPreFetch(context.Background(), &framework.PromptPreFetchPayload{PromptID: "p", Args: json.RawMessage(`{"statement":"ALTER TABLE t ADD c int"}`)}, nil)
	if err != nil || issues(res.Violation) != "blocked_keyword:ALTER" {
		t.Fatalf("%v %+v", err, res.Violation)
	}
	if _, err := plugintest.Instantiate(plugintest.Policy("s", "sql_sanitizer", `{blocked_statements: ['DROP\s+TABLE']}`)); err == nil ||
		!strings.Contains(err.Error(), "config.blocked_statements[0]") {
		t.Fatalf("a regexp that is not a keyword: %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	for config, want := range map[string]string{
		`{action: deny}`: "config.action",
		`{action: block, block_on_violation: false}`: "config.action",
		`{dialects: [oracle]}`:                       "config.dialects[0]",
		`{dialects: []}`:                             "config.dialects",
		`{fields: [""]}`:                             "config.fields[0]",
		`{blocked_statements: ["DROP TABLE"]}`:       "config.blocked_statements[0]",
		`{nope: 1}`:                                  "nope",
	} {
		if _, err := plugintest.Instantiate(plugintest.Policy("s", "sql_sanitizer", config)); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: err = %v, want %q", config, err, want)
		}
	}
}
