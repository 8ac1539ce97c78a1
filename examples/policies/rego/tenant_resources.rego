package mcp.resources

default decision := {
	"allow": false,
	"rule": "own-tenant-only",
	"code": "TENANT_RESOURCE",
	"reason": "resources of other tenants are not readable",
}

decision := {"allow": true} if {
	input.tenant != ""
	input.resource.scheme == "https"
	input.resource.host == "files.example.com"
	startswith(input.resource.path, concat("", ["/tenants/", input.tenant, "/"]))
}
