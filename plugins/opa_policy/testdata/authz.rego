package mcp.authz

# Transfers over the caller's limit need approval; limits come from data.
default allow := false

allow if not deny

deny if {
	input.tool.name == "transfer_funds"
	input.tool.args.amount > data.limits[input.tenant]
}

code := "TRANSFER_LIMIT" if deny

reason := sprintf("transfers over %d need approval", [data.limits[input.tenant]]) if deny

rule := "big-transfers" if deny

decision := {"allow": allow, "code": code, "reason": reason, "rule": rule} if deny

decision := {"allow": allow} if not deny
