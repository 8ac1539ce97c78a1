package schemaguard

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"

	"github.com/tidwall/gjson"

	"github.com/mcp-extproc/mcp-extproc/framework"
)

// Violation codes of the schema_guard kind.
const (
	// CodeInvalidArguments: arguments fail the tool's input schema.
	CodeInvalidArguments = "SCHEMA_INVALID_ARGUMENTS"
	// CodeInvalidResult: structuredContent fails the tool's output schema,
	// or is missing although the tool has one.
	CodeInvalidResult = "SCHEMA_INVALID_RESULT"
	// CodeNoSchema: no input schema is known and on_missing_schema is block.
	CodeNoSchema = "SCHEMA_UNKNOWN_TOOL"
)

// jsonrpcInvalidParams is JSON-RPC's code for invalid method parameters,
// what a server would answer to arguments that fail its schema.
const jsonrpcInvalidParams = -32602

// Plugin is a loaded schema_guard. It is safe for concurrent use.
type Plugin struct {
	logger       *slog.Logger // the server's, from SetLogger
	name         string
	configured   map[string]Schemas // by tool name, from the policy
	store        *Store             // learned from tools/list; nil when off
	block        bool
	blockMissing bool
	maxFindings  int
}

var (
	_ framework.ToolPreInvoker  = (*Plugin)(nil)
	_ framework.ToolPostInvoker = (*Plugin)(nil)
	_ framework.ToolsPostLister = (*Plugin)(nil)
	_ framework.LoggerSetter    = (*Plugin)(nil)
)

// SetLogger implements framework.LoggerSetter.
func (p *Plugin) SetLogger(l *slog.Logger) { p.logger = l }

// ToolsPostList learns the input and output schemas the server announces
// (each page of tools/list), per server_id; it never changes the list.
func (p *Plugin) ToolsPostList(ctx context.Context, pl *framework.ToolsPostListPayload, pc *framework.PluginContext) (framework.Result[framework.ToolsPostListPayload], error) {
	server := pl.ServerID
	if server == "" && pc != nil && pc.Global != nil {
		server = pc.Global.ServerID
	}
	if err := p.RecordToolsList(ctx, server, pl.Tools); err != nil {
		p.log().LogAttrs(ctx, slog.LevelWarn, "schema_guard: tools/list not learned", slog.String("server_id", server), slog.String("error", err.Error()))
	}
	return framework.Result[framework.ToolsPostListPayload]{}, nil
}

func (p *Plugin) log() *slog.Logger {
	if p.logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.logger
}

// Store is where the plugin keeps the schemas learned from tools/list, nil
// when learn_from_tools_list is off. The tools_post_list hook records into
// it.
func (p *Plugin) Store() *Store { return p.store }

// RecordToolsList learns the schemas of a tools/list result (the object
// or its tools array) for serverID, and logs the tools it could not learn.
// It is what the tools_post_list hook calls; without learning it does
// nothing.
func (p *Plugin) RecordToolsList(ctx context.Context, serverID string, tools json.RawMessage) error {
	if p.store == nil {
		return nil
	}
	rec, err := p.store.Record(serverID, tools)
	if err != nil {
		return err
	}
	if rec.Skipped > 0 {
		p.log().LogAttrs(ctx, slog.LevelWarn, "schema_guard: tools/list schemas not learned",
			slog.String("server_id", serverID), slog.Int("skipped", rec.Skipped),
			slog.Int("learned", rec.Learned), slog.Any("reasons", rec.Errors))
	}
	return nil
}

// schemas returns the tool's schemas: the policy's, else the server's.
func (p *Plugin) schemas(tool string, pc *framework.PluginContext) (Schemas, string) {
	if s, ok := p.configured[tool]; ok {
		return s, "config"
	}
	if p.store != nil {
		server := ""
		if pc != nil && pc.Global != nil {
			server = pc.Global.ServerID
		}
		if s, ok := p.store.Lookup(server, tool); ok {
			return s, "tools/list"
		}
	}
	return Schemas{}, ""
}

// ToolPreInvoke validates the arguments against the tool's input schema.
func (p *Plugin) ToolPreInvoke(ctx context.Context, pl *framework.ToolPreInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPreInvokePayload], error) {
	var res framework.Result[framework.ToolPreInvokePayload]
	if err := ctx.Err(); err != nil {
		return res, err
	}
	s, source := p.schemas(pl.Name, pc)
	if s.Input == nil {
		if p.blockMissing {
			res.Violation = &framework.Violation{
				Reason:      "Unknown tool schema",
				Description: fmt.Sprintf("no input schema is known for tool %q", pl.Name),
				Code:        CodeNoSchema,
				Details:     map[string]any{"tool": pl.Name},
			}
		}
		return res, nil
	}
	args := pl.Args
	if len(bytes.TrimSpace(args)) == 0 {
		args = json.RawMessage(`{}`)
	}
	found, err := validate(s.Input, args)
	if err != nil {
		return res, fmt.Errorf("schema_guard: arguments: %w", err)
	}
	if found == nil {
		return res, nil
	}
	v := p.violation(ctx, CodeInvalidArguments, "Invalid tool arguments", "arguments of tool %q do not match its input schema", pl.Name, source, found, pc)
	if v != nil {
		v.MCPErrorCode = jsonrpcInvalidParams
	}
	res.Violation, res.Metadata = v, p.report(v, found)
	return res, nil
}

// ToolPostInvoke validates structuredContent against the tool's output
// schema. Error results (isError) are not checked: the schema describes
// what the tool returns when it succeeds. A result not matched to its
// request (no name) has no known schema and passes.
func (p *Plugin) ToolPostInvoke(ctx context.Context, pl *framework.ToolPostInvokePayload, pc *framework.PluginContext) (framework.Result[framework.ToolPostInvokePayload], error) {
	var res framework.Result[framework.ToolPostInvokePayload]
	if err := ctx.Err(); err != nil {
		return res, err
	}
	if pl.Name == "" {
		return res, nil
	}
	s, source := p.schemas(pl.Name, pc)
	if s.Output == nil || gjson.GetBytes(pl.Result, "isError").Bool() {
		return res, nil
	}
	sc := gjson.GetBytes(pl.Result, "structuredContent")
	var found []Finding
	if !sc.Exists() {
		found = []Finding{{Path: "", Keyword: "required", Missing: []string{"structuredContent"}}}
	} else {
		var err error
		if found, err = validate(s.Output, []byte(sc.Raw)); err != nil {
			return res, fmt.Errorf("schema_guard: structuredContent: %w", err)
		}
	}
	if found == nil {
		return res, nil
	}
	v := p.violation(ctx, CodeInvalidResult, "Invalid tool result", "the result of tool %q does not match its output schema", pl.Name, source, found, pc)
	res.Violation, res.Metadata = v, p.report(v, found)
	return res, nil
}

// violation builds the violation for found, or, with block_on_violation
// off, logs it and returns nil.
func (p *Plugin) violation(ctx context.Context, code, reason, what, tool, source string, found []Finding, pc *framework.PluginContext) *framework.Violation {
	shown := found[:min(len(found), p.maxFindings)]
	parts := make([]string, len(shown))
	for i, f := range shown {
		parts[i] = f.String()
	}
	desc := fmt.Sprintf(what, tool) + ": " + strings.Join(parts, "; ")
	if more := len(found) - len(shown); more > 0 {
		desc += fmt.Sprintf(" (and %d more)", more)
	}
	if !p.block {
		attrs := []slog.Attr{slog.String("code", code), slog.String("tool", tool),
			slog.String("schema_source", source), slog.Any("findings", shown)}
		if pc != nil && pc.Global != nil {
			attrs = append(attrs, slog.String("request_id", pc.Global.RequestID))
		}
		p.log().LogAttrs(ctx, slog.LevelWarn, "schema_guard: "+desc, attrs...)
		return nil
	}
	return &framework.Violation{
		Reason: reason, Description: desc, Code: code,
		Details: map[string]any{"tool": tool, "schema_source": source, "findings": shown, "total_findings": len(found)},
	}
}

// report is the result's metadata when the plugin lets a failing message
// pass (block_on_violation off).
func (p *Plugin) report(v *framework.Violation, found []Finding) map[string]any {
	if v != nil {
		return nil
	}
	return map[string]any{"schema_findings": found[:min(len(found), p.maxFindings)]}
}
