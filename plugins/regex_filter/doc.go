// Package regexfilter is the built-in regex_filter plugin kind: it rewrites
// tool and prompt arguments and results with an ordered list of regular
// expression search-and-replace rules, applied to every string at any depth.
//
// It answers to ContextForge's SearchReplacePlugin (search_replace) class
// path and reads the same configuration. Patterns are Go RE2 expressions,
// not Python ones (see README.md). It never blocks; a rule that should stop
// a message belongs in deny_list. Importing the package registers the kind.
package regexfilter
