package framework

import (
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
//   - server_ids, tenant_ids and user_patterns match the global context.
//   - content_types match the MIME types of a resources/read result
//     (resource_post_fetch); on other hooks a condition with content_types
//     does not match.
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
	if len(c.UserPatterns) > 0 && !matchList(c.UserPatterns, g.User) {
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
	if len(c.ContentTypes) > 0 {
		if h != ResourcePostFetch {
			return false
		}
		found := false
		gjson.GetBytes(content, "contents.#.mimeType").ForEach(func(_, v gjson.Result) bool {
			if matchList(c.ContentTypes, v.String()) {
				found = true
				return false
			}
			return true
		})
		if !found {
			return false
		}
	}
	return true
}
