package framework

import (
	"strings"

	"github.com/tidwall/gjson"

	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// Conditions decide whether a plugin runs for one hook call: with none the
// plugin always runs; otherwise at least one condition must match (OR), and
// inside a condition every non-empty list must match (AND). Every list holds
// exact values or glob patterns ('*', '?').
//
//   - tools, prompts, resources match the payload's name for the hook's
//     family (tools for tool hooks, …); a list for another family does not
//     apply. An unknown name ("", a result that could not be matched to its
//     request) matches, so that masking never depends on matching.
//   - server_ids and tenant_ids match the global context.
//   - user_patterns match the user as cpex does, as a substring ("admin"
//     matches "superadmin"), and also as a glob, so that a pattern written
//     for mcp-extproc ("admin*") still selects the users it names.
//   - content_types match the request's Content-Type as cpex does (without
//     parameters, ignoring case) and, on resource_post_fetch, the MIME types
//     of the resource read: for MCP the request is always JSON, and the
//     resource's type is what a rule about content means.
//
// Where cpex and mcp-extproc differ a condition matches when either would:
// a plugin is never skipped where one of them runs it.
func conditionsMatch(conds []Condition, h HookType, name string, g *GlobalContext, content []byte) bool {
	if len(conds) == 0 {
		return true
	}
	for i := range conds {
		if conds[i].matches(h, name, g, content) {
			return true
		}
	}
	return false
}

func (c *Condition) matches(h HookType, name string, g *GlobalContext, content []byte) bool {
	if len(c.ServerIDs) > 0 && !matchList(c.ServerIDs, g.ServerID) {
		return false
	}
	if len(c.TenantIDs) > 0 && !matchList(c.TenantIDs, g.TenantID) {
		return false
	}
	if len(c.UserPatterns) > 0 && !matchUser(c.UserPatterns, g.User) {
		return false
	}
	var names []string
	switch h.Family() {
	case mcpparse.FamilyTool:
		names = c.Tools
	case mcpparse.FamilyPrompt:
		names = c.Prompts
	case mcpparse.FamilyResource:
		names = c.Resources
	}
	if len(names) > 0 && name != "" && !matchList(names, name) {
		return false
	}
	if len(c.ContentTypes) > 0 && !matchContentType(c.ContentTypes, h, g.ContentType, content) {
		return false
	}
	return true
}

// matchUser: a substring of the user (cpex), or a glob on it.
func matchUser(patterns []string, user string) bool {
	for _, p := range patterns {
		if (user != "" && strings.Contains(user, p)) || GlobMatch(p, user) {
			return true
		}
	}
	return false
}

// matchContentType: the request's content type (cpex), or on
// resource_post_fetch one of the resource's MIME types.
func matchContentType(patterns []string, h HookType, request string, content []byte) bool {
	if request != "" && matchMIME(patterns, request) {
		return true
	}
	if h != ResourcePostFetch {
		return false
	}
	found := false
	gjson.GetBytes(content, "contents.#.mimeType").ForEach(func(_, v gjson.Result) bool {
		found = matchMIME(patterns, v.String())
		return !found
	})
	return found
}

// matchMIME compares a media type without its parameters, ignoring case.
func matchMIME(patterns []string, mime string) bool {
	base, _, _ := strings.Cut(mime, ";")
	base = strings.ToLower(strings.TrimSpace(base))
	for _, p := range patterns {
		if GlobMatch(strings.ToLower(strings.TrimSpace(p)), base) {
			return true
		}
	}
	return false
}
