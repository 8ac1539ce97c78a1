// Package denylist is the built-in deny_list plugin kind: it refuses a
// tools/call or prompts/get whose arguments contain one of a list of words,
// anywhere in them — every string value and every key, at any depth.
//
// It answers to ContextForge's DenyListPlugin class path. It blocks; it never
// rewrites (regex_filter does that). Matching is literal, after Unicode
// simple case folding unless case_sensitive is set; it does not normalise
// look-alike characters or remove invisible ones. Importing the package
// registers the kind.
package denylist
