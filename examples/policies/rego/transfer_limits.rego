package mcp.transfers

# A transfer over the tenant's limit needs approval; a tenant with no limit
# may not transfer at all. Other tools pass.

limit := data.limits[input.tenant]

over if {
	input.tool.name == "transfer_funds"
	not limit
}

over if {
	input.tool.name == "transfer_funds"
	input.tool.args.amount > limit
}

decision := {
	"allow": false,
	"rule": "tenant-transfer-limit",
	"code": "TRANSFER_LIMIT",
	"reason": "this transfer is over your tenant's limit and needs approval",
} if over

decision := {"allow": true} if not over
