// Package sqlsanitizer is the built-in sql_sanitizer plugin kind: it reads
// the SQL in tool and prompt arguments with a SQL lexer (strings, quoted
// identifiers, escapes, dollar quotes, nested and executable comments) and
// flags stacked statements, blocked keywords (DROP, TRUNCATE, …), DELETE
// and UPDATE without a WHERE (or with an always-true one), comment tricks
// and, in free-text arguments, injection fragments (x'; DROP …, admin'--,
// ' OR '1'='1). It blocks or logs.
//
// A text is read the way each configured database family reads it (the
// dialects disagree on backslashes in strings, "…", #, -- and nested
// comments), and what any reading finds counts, so that a text cannot
// mean one thing to the filter and another to the database. It parses no
// grammar beyond what these checks need, and answers to the class paths of
// ContextForge's SQLSanitizerPlugin. Importing the package registers the
// kind.
package sqlsanitizer
