package mcp.destructive

# MCP's default for destructiveHint is true when readOnlyHint is false, so
# a tool is destructive unless it says it is not or that it only reads.

tool := t if {
	some t in data.tools
	t.name == input.tool.name
}

read_only if tool.annotations.readOnlyHint == true

non_destructive if tool.annotations.destructiveHint == false

destructive if {
	not read_only
	not non_destructive
}

admin if "admin" in input.claims.roles

default decision := {"allow": true}

decision := {
	"allow": false,
	"rule": "destructive-needs-admin",
	"code": "ADMIN_REQUIRED",
	"reason": sprintf("%s is destructive and needs the admin role", [input.tool.name]),
} if {
	destructive
	not admin
}
