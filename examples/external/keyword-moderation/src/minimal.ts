#!/usr/bin/env node
// The smallest external plugin: an MCP server whose invoke_hook tool answers
// tool_pre_invoke in ContextForge's (cpex 0.1.x) wire format. It refuses a
// tool call whose arguments mention "launch codes"; everything else passes.
// Built with the full example (npm ci runs tsc); run as
//   plugins: [{name: minimal, kind: external, mcp: {proto: STDIO, cmd: [node, dist/minimal.js]}}]
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import * as z from "zod";

const NAME = "minimal";
const json = (v: unknown) => ({ content: [{ type: "text" as const, text: JSON.stringify(v) }] });
const server = new McpServer({ name: "minimal-plugin", version: "0.1.0" });

// What the host merges under its plugins: entry at start-up.
server.registerTool("get_plugin_config", { inputSchema: { name: z.string().optional() } }, async () =>
  json({ name: NAME, kind: "external", hooks: ["tool_pre_invoke"], mode: "enforce", priority: 50, config: {} }),
);

// One call per hook: {hook_type, plugin_name, payload, context} in,
// {plugin_name, result, context} out, as JSON in the first text content.
const anyValue = z.any().optional();
server.registerTool(
  "invoke_hook",
  { inputSchema: { hook_type: z.string(), plugin_name: z.string().optional(), payload: anyValue, context: anyValue } },
  async ({ hook_type, payload, context }) => {
    const args = JSON.stringify(payload?.args ?? {}).toLowerCase();
    const result =
      hook_type === "tool_pre_invoke" && args.includes("launch codes")
        ? { continue_processing: false, violation: { reason: "Off-limits topic", code: "OFF_LIMITS",
            description: `tool ${JSON.stringify(payload.name)} was asked about launch codes`, details: {} } }
        : { continue_processing: true };
    return json({ plugin_name: NAME, result, context });
  },
);

await server.connect(new StdioServerTransport());
