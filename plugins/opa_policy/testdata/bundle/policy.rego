package mcp.authz

default allow := false

allow if input.tool.name in data.allowed_tools
