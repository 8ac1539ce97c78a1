// Package toolfilter is the built-in tool_filter plugin kind: it lets a
// tools/call through or refuses it by the tool's name, with allow and deny
// lists of glob patterns. Combined with plugin conditions (tenant_ids,
// user_patterns) it gives each tenant or user their own set of tools.
//
// It looks at the name only, never at the arguments (deny_list does that).
// The same entry removes the tools it would refuse from tools/list results
// (hide_denied, on by default), so a caller is not shown what it cannot
// call. Importing the package registers the kind.
package toolfilter
