package mcp.rbac

# The caller's roles grant patterns per family: a tools/call needs a tool
# grant, a prompts/get a prompt grant. No role, no access. "*" matches any
# run of characters: the delimiter ":" is one MCP names may not contain.

default allow := false

family := "tools" if input.hook == "tool_pre_invoke"

family := "prompts" if input.hook == "prompt_pre_fetch"

name := input.tool.name if family == "tools"

name := input.prompt.name if family == "prompts"

allow if {
	some role in input.claims.roles
	some pattern in data.roles[role][family]
	glob.match(pattern, [":"], name)
}
