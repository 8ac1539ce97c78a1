package resourcefilter

import (
	"context"
	"fmt"
	"slices"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Violation codes of the resource_filter kind.
const (
	CodeInvalidURI          = "INVALID_URI"
	CodeProtocolBlocked     = "PROTOCOL_BLOCKED"
	CodeDomainBlocked       = "DOMAIN_BLOCKED"
	CodeContentSizeExceeded = "CONTENT_SIZE_EXCEEDED"
)

// Plugin is a loaded resource_filter. It is immutable and safe for
// concurrent use.
type Plugin struct {
	allowed   map[string]bool
	protocols []string // allowed, in config order, for violation details
	blocked   []string // normalised blocked_domains
	maxSize   int
	filters   []filter
	embedded  Embedded
}

// ResourcePreFetch refuses URIs that are unparsable, have no scheme, use a
// protocol not in allowed_protocols, or name a blocked domain.
func (p *Plugin) ResourcePreFetch(ctx context.Context, pl *framework.ResourcePreFetchPayload, _ *framework.PluginContext) (framework.Result[framework.ResourcePreFetchPayload], error) {
	var res framework.Result[framework.ResourcePreFetchPayload]
	if err := ctx.Err(); err != nil {
		return res, err
	}
	res.Violation = p.uriViolation(p.checkURI(pl.URI))
	return res, nil
}

// ResourcePostFetch refuses results whose text and blob content exceed
// max_content_size, and applies content_filters to text contents.
//
// It keeps no state from the pre hook on purpose: a result delivered on
// another stream, matched to no request, is checked the same way.
func (p *Plugin) ResourcePostFetch(ctx context.Context, pl *framework.ResourcePostFetchPayload, pc *framework.PluginContext) (framework.Result[framework.ResourcePostFetchPayload], error) {
	var res framework.Result[framework.ResourcePostFetchPayload]
	out, size, changed, err := p.scanContents(ctx, pc, pl.Content)
	if err != nil {
		return res, fmt.Errorf("resource_filter: %w", err)
	}
	if p.maxSize > 0 && size > p.maxSize {
		res.Violation = &framework.Violation{
			Reason:      "Content exceeds maximum size",
			Description: fmt.Sprintf("resource content is %d bytes; max_content_size is %d", size, p.maxSize),
			Code:        CodeContentSizeExceeded,
			Details:     map[string]any{"size": size, "max_size": p.maxSize},
		}
		return res, nil
	}
	if changed {
		res.ModifiedPayload = &framework.ResourcePostFetchPayload{URI: pl.URI, Content: out}
	}
	return res, nil
}

// uriViolation turns a verdict into the violation the client sees. Details
// name the protocol and host, never the whole URI: its query or user info
// may carry credentials.
func (p *Plugin) uriViolation(v uriVerdict) *framework.Violation {
	switch v.code {
	case CodeInvalidURI:
		desc := "the resource URI could not be parsed"
		switch v.problem {
		case "missing_scheme":
			desc = "the resource URI must have a scheme (protocol)"
		case "missing_host":
			desc = fmt.Sprintf("a %s URI must name a host after //", v.protocol)
		case "bad_host":
			desc = fmt.Sprintf("the host of the %s URI does not normalise to a name or address (IDNA UTS #46, as browsers and Go's net/http read it)", v.protocol)
		}
		return &framework.Violation{Reason: "Invalid URI", Description: desc, Code: CodeInvalidURI,
			Details: map[string]any{"problem": v.problem}}
	case CodeProtocolBlocked:
		return &framework.Violation{Reason: "Protocol not allowed",
			Description: fmt.Sprintf("protocol %q is not in allowed_protocols", v.protocol),
			Code:        CodeProtocolBlocked,
			Details:     map[string]any{"protocol": v.protocol, "allowed": slices.Clone(p.protocols)}}
	case CodeDomainBlocked:
		return &framework.Violation{Reason: "Domain is blocked",
			Description: fmt.Sprintf("domain %q is blocked", v.domain),
			Code:        CodeDomainBlocked,
			Details:     map[string]any{"domain": v.domain, "blocked_domain": v.rule}}
	}
	return nil
}

var (
	_ framework.ResourcePreFetcher  = (*Plugin)(nil)
	_ framework.ResourcePostFetcher = (*Plugin)(nil)
)
