// Package policytest holds the exchanges that cel_policy's and opa_policy's
// tests play through the server, and the value every variable must have on
// every hook for them, so that both engines are held to the same input.
// It is a normal package, for those tests only.
package policytest

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/mcp-extproc/mcp-extproc/extproc/extproctest"
	"github.com/mcp-extproc/mcp-extproc/framework"
	"github.com/mcp-extproc/mcp-extproc/mcpparse"
)

// MCP is the mcp: block of every test policy: identity from headers and
// forwarded claims, one forwarded header.
const MCP = `mcp:
  identity:
    tenant_header: x-tenant-id
    server_id_header: x-server-id
    claims_header: x-jwt-payload
    user_claim: sub
  forward_headers: [X-Api-Version]
`

// Claims are the forwarded JWT claims of every exchange.
const Claims = `{"sub":"alice","groups":["finance","ops"],"level":3,"org":{"name":"acme"}}`

// Headers are the request headers of every exchange.
var Headers = []string{
	"x-tenant-id", "acme", "x-server-id", "bank",
	"x-jwt-payload", base64.RawURLEncoding.EncodeToString([]byte(Claims)),
	"x-api-version", "2", "authorization", "Bearer secret",
}

// Exchange is one request and the response the MCP server gives it.
type Exchange struct {
	Request, Response string
}

// URI is the resource every resources/read asks for: a host and a path a
// fetcher normalises.
const URI = `https://Docs.EXAMPLE.com./a/../b%20c`

// Exchanges has one exchange per hook family.
var Exchanges = map[mcpparse.Family]Exchange{
	mcpparse.FamilyTool: {
		`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"transfer_funds","arguments":{"amount":1500,"rate":0.5,"to":"bob","tags":["rent"]}}}`,
		`{"jsonrpc":"2.0","id":1,"result":{"content":[{"type":"text","text":"done"}],"isError":false}}`,
	},
	mcpparse.FamilyPrompt: {
		`{"jsonrpc":"2.0","id":1,"method":"prompts/get","params":{"name":"summarize","arguments":{"lang":"fr"}}}`,
		`{"jsonrpc":"2.0","id":1,"result":{"description":"d","messages":[{"role":"user","content":{"type":"text","text":"hi"}}]}}`,
	},
	mcpparse.FamilyResource: {
		`{"jsonrpc":"2.0","id":1,"method":"resources/read","params":{"uri":"` + URI + `"}}`,
		`{"jsonrpc":"2.0","id":1,"result":{"contents":[{"uri":"u","mimeType":"text/plain","text":"x"}]}}`,
	},
}

// ListExchanges has one exchange per list hook: a page with one item.
var ListExchanges = map[framework.HookType]Exchange{
	framework.ToolsPostList: {
		`{"jsonrpc":"2.0","id":1,"method":"tools/list"}`,
		`{"jsonrpc":"2.0","id":1,"result":{"tools":[{"name":"transfer_funds","description":"moves money","inputSchema":{"type":"object"},"annotations":{"destructiveHint":true}}],"nextCursor":"p2"}}`,
	},
	framework.PromptsPostList: {
		`{"jsonrpc":"2.0","id":1,"method":"prompts/list"}`,
		`{"jsonrpc":"2.0","id":1,"result":{"prompts":[{"name":"summarize","description":"d"}]}}`,
	},
	framework.ResourcesPostList: {
		`{"jsonrpc":"2.0","id":1,"method":"resources/list"}`,
		`{"jsonrpc":"2.0","id":1,"result":{"resources":[{"uri":"docs://a","name":"a"}]}}`,
	},
}

func exchangeFor(h framework.HookType) Exchange {
	if h.IsList() {
		return ListExchanges[h]
	}
	return Exchanges[h.Family()]
}

// Check says that, on Hook, the value at Path (a variable and its fields,
// "tool.args.amount") equals Want, a JSON value.
type Check struct {
	Hook framework.HookType
	Path string
	Want string
}

// Checks lists every variable on every hook.
func Checks() []Check {
	var out []Check
	common := map[string]string{
		"user": `"alice"`, "tenant": `"acme"`, "server": `"bank"`,
		"claims.groups": `["finance","ops"]`, "claims.level": `3`, "claims.org.name": `"acme"`,
	}
	methods := map[mcpparse.Family]string{mcpparse.FamilyTool: "tools/call", mcpparse.FamilyPrompt: "prompts/get", mcpparse.FamilyResource: "resources/read"}
	listMethods := map[mcpparse.Family]string{mcpparse.FamilyTool: "tools/list", mcpparse.FamilyPrompt: "prompts/list", mcpparse.FamilyResource: "resources/list"}
	for _, h := range framework.Hooks {
		method := methods[h.Family()]
		if h.IsList() {
			method = listMethods[h.Family()]
		}
		out = append(out, Check{h, "hook", `"` + string(h) + `"`}, Check{h, "method", `"` + method + `"`})
		for path, want := range common {
			out = append(out, Check{h, path, want})
		}
	}
	add := func(h framework.HookType, kv ...string) {
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, Check{h, kv[i], kv[i+1]})
		}
	}
	add(framework.ToolPreInvoke, "tool.name", `"transfer_funds"`, "tool.args.amount", `1500`, "tool.args.rate", `0.5`,
		"tool.args.to", `"bob"`, "tool.args.tags", `["rent"]`, "headers", `{"x-api-version":"2"}`)
	add(framework.ToolPostInvoke, "tool.name", `"transfer_funds"`, "result.content[0].text", `"done"`, "result.isError", `false`)
	add(framework.PromptPreFetch, "prompt.name", `"summarize"`, "prompt.args.lang", `"fr"`)
	add(framework.PromptPostFetch, "prompt.name", `"summarize"`, "result.messages[0].role", `"user"`)
	for _, h := range []framework.HookType{framework.ResourcePreFetch, framework.ResourcePostFetch} {
		add(h, "resource.uri", `"`+URI+`"`, "resource.scheme", `"https"`, "resource.host", `"docs.example.com"`, "resource.path", `"/b c"`)
	}
	add(framework.ResourcePostFetch, "result.contents[0].text", `"x"`)
	add(framework.ToolsPostList, "item.name", `"transfer_funds"`, "item.annotations.destructiveHint", `true`, "item.inputSchema.type", `"object"`)
	add(framework.PromptsPostList, "item.name", `"summarize"`, "item.description", `"d"`)
	add(framework.ResourcesPostList, "item.uri", `"docs://a"`, "item.name", `"a"`)
	return out
}

// Responses are the two ways a result reaches the filter.
var Responses = map[string]func(string) extproctest.Response{
	"json": extproctest.JSON,
	"sse":  func(m string) extproctest.Response { return extproctest.SSE(m) },
}

// Play sends hook's exchange through srv with the test headers (and extra
// ones), its response as resp does.
func Play(t testing.TB, srv *extproctest.Server, h framework.HookType, resp func(string) extproctest.Response, extra ...string) extproctest.Outcome {
	t.Helper()
	ex := exchangeFor(h)
	return srv.Call(t, ex.Request, resp(ex.Response), append(append([]string{}, Headers...), extra...)...)
}

// Denied reports whether the plugin stopped hook's exchange with code:
// before the server for a pre hook, in place of the result for a post hook;
// on a list hook, the one listed item is hidden (nextCursor kept).
func Denied(h framework.HookType, out extproctest.Outcome, code string) bool {
	if h.IsList() {
		return !out.Blocked && strings.Contains(out.Client, `s":[]`) && !strings.Contains(out.Client, `"error"`)
	}
	if !strings.Contains(out.Client, `"code":"`+code+`"`) {
		return false
	}
	if h.IsPre() {
		return out.Blocked
	}
	return !out.Blocked && !strings.Contains(out.Client, `"result"`)
}
