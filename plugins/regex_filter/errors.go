package regexfilter

import "github.com/mcp-extproc/mcp-extproc/framework"

var _ framework.ErrorResultReader = (*Plugin)(nil)

// ReadsErrorResults opts the post hooks in to JSON-RPC errors that answer
// their requests: an error's message and data reach the model like a
// result, so they are scanned like one.
func (*Plugin) ReadsErrorResults() bool { return true }
