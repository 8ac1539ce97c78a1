#!/usr/bin/env node
// Keyword moderation as a ContextForge (cpex 0.1.x) external plugin server:
// an MCP server, over STDIO (default) or Streamable HTTP on 127.0.0.1, whose
// tools are get_plugin_configs, get_plugin_config, invoke_hook and the
// per-hook tools. stdout is the STDIO channel, so every log line goes to stderr.

import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import * as z from "zod";
import { loadSettings, Moderator, type Settings } from "./moderation.js";
import { handleHook, HOOK_TYPES, pluginConfig, VERSION, type HookResponse } from "./plugin.js";

const MAX_BODY_BYTES = 8 * 1024 * 1024;

function log(msg: string): void {
  process.stderr.write(`keyword-moderation: ${msg}\n`);
}

const USAGE = `usage: node dist/server.js [--stdio | --http 127.0.0.1:PORT] [--config FILE]

  --stdio          serve MCP over stdin/stdout (the default)
  --http ADDR      serve MCP over Streamable HTTP at http://ADDR/mcp, plus GET /health;
                   ADDR is 127.0.0.1:PORT, localhost:PORT or PORT (loopback only; port 0 picks one)
  --config FILE    JSON object with any of: words, case_sensitive, action, redaction

environment (overrides the file): KEYWORD_MODERATION_WORDS (comma-separated),
  KEYWORD_MODERATION_CASE_SENSITIVE, KEYWORD_MODERATION_ACTION (block|redact),
  KEYWORD_MODERATION_REDACTION, KEYWORD_MODERATION_PLUGIN_NAME, KEYWORD_MODERATION_PRIORITY
`;

interface Options {
  http?: { host: string; port: number };
  configFile?: string;
}

function parseArgs(argv: string[]): Options {
  const o: Options = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === "--stdio") o.http = undefined;
    else if (a === "--http") o.http = parseAddr(value());
    else if (a.startsWith("--http=")) o.http = parseAddr(a.slice("--http=".length));
    else if (a === "--config") o.configFile = value();
    else if (a.startsWith("--config=")) o.configFile = a.slice("--config=".length);
    else if (a === "-h" || a === "--help") {
      process.stderr.write(USAGE);
      process.exit(0);
    } else throw new Error(`unknown argument ${JSON.stringify(a)}`);
  }
  return o;
}

function parseAddr(s: string): { host: string; port: number } {
  const m = /^(?:(.*):)?(\d{1,5})$/.exec(s);
  const host = m?.[1] === undefined || m[1] === "" || m[1] === "localhost" ? "127.0.0.1" : m[1];
  const port = Number(m?.[2]);
  if (!m || port > 65535) throw new Error(`--http ${s}: want 127.0.0.1:PORT`);
  if (host !== "127.0.0.1") throw new Error(`--http ${s}: this plugin binds 127.0.0.1 only`);
  return { host, port };
}

function textResult(v: unknown) {
  return { content: [{ type: "text" as const, text: JSON.stringify(v) }] };
}

function logOutcome(hook: string, r: HookResponse): void {
  if ("error" in r) {
    log(`${hook}: error ${r.error.code}: ${r.error.message}`);
  } else if (r.result.violation) {
    const d = r.result.violation.details;
    log(`${hook}: blocked (field ${String(d.field)}, word ${JSON.stringify(d.word)})`);
  } else if (r.result.modified_payload) {
    log(`${hook}: redacted ${String(r.result.metadata.redactions)} occurrence(s)`);
  }
}

// The argument schemas are deliberately loose: a malformed call must get the
// wire format's {plugin_name, error} answer, not an SDK validation error.
const hookArgs = {
  plugin_name: z.unknown().optional().describe("name of the plugin to run (string)"),
  payload: z.unknown().optional().describe("the hook payload (object), e.g. {name, args} for tool_pre_invoke"),
  context: z.unknown().optional().describe("{state, metadata, global_context}"),
};

/** One MCP server exposing the plugin's tools. */
export function createPluginServer(settings: Settings, moderator: Moderator): McpServer {
  const server = new McpServer({ name: "keyword-moderation-plugin", version: VERSION }, { capabilities: { tools: {} } });

  server.registerTool(
    "get_plugin_configs",
    { description: "The configs of the plugins this server hosts, as a JSON array." },
    async () => textResult([pluginConfig(settings)]),
  );
  server.registerTool(
    "get_plugin_config",
    {
      description: "The config of the named plugin as JSON ({} when unknown).",
      inputSchema: { name: z.unknown().optional().describe("plugin name (string)") },
    },
    async ({ name }) => textResult(name === settings.name ? pluginConfig(settings) : {}),
  );
  server.registerTool(
    "invoke_hook",
    {
      description: "Runs a hook of a plugin: {hook_type, plugin_name, payload, context} -> {plugin_name, result, context} or {plugin_name, error}.",
      inputSchema: { hook_type: z.unknown().optional().describe(`one of ${HOOK_TYPES.join(", ")}`), ...hookArgs },
    },
    async (args) => {
      const r = handleHook(settings, moderator, args);
      logOutcome(String(args.hook_type), r);
      return textResult(r);
    },
  );
  for (const hook of HOOK_TYPES) {
    server.registerTool(
      hook,
      { description: `Runs ${hook} of a plugin: {plugin_name, payload, context}.`, inputSchema: hookArgs },
      async (args) => {
        const r = handleHook(settings, moderator, { ...args, hook_type: hook });
        logOutcome(hook, r);
        return textResult(r);
      },
    );
  }
  return server;
}

async function serveStdio(settings: Settings, moderator: Moderator): Promise<void> {
  const server = createPluginServer(settings, moderator);
  await server.connect(new StdioServerTransport());
  process.stdin.once("end", () => process.exit(0));
  log(`plugin ${JSON.stringify(settings.name)} (${settings.config.action}, ${settings.config.words.length} words) serving over STDIO`);
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

function jsonRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  sendJson(res, status, { jsonrpc: "2.0", error: { code, message }, id: null });
}

/** The request body as JSON, or undefined after an error answer has been sent. */
async function readJson(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) {
      jsonRpcError(res, 413, -32600, `request body over ${MAX_BODY_BYTES} bytes`);
      req.destroy();
      return undefined;
    }
    chunks.push(chunk as Buffer);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    jsonRpcError(res, 400, -32700, "parse error");
    return undefined;
  }
}

async function serveHttp(settings: Settings, moderator: Moderator, addr: { host: string; port: number }): Promise<void> {
  let allowedHosts: string[] = [];

  const http = createHttpServer(async (req, res) => {
    try {
      const path = new URL(req.url ?? "/", "http://127.0.0.1").pathname;
      if (path === "/health") {
        if (req.method !== "GET" && req.method !== "HEAD") return sendJson(res, 405, { error: "method not allowed" }, { allow: "GET, HEAD" });
        return sendJson(res, 200, { status: "healthy" });
      }
      if (path !== "/mcp") return sendJson(res, 404, { error: "not found" });
      // Stateless Streamable HTTP: no sessions, so no GET stream and no DELETE.
      if (req.method !== "POST") return sendJson(res, 405, { jsonrpc: "2.0", error: { code: -32000, message: "method not allowed" }, id: null }, { allow: "POST" });
      const body = await readJson(req, res);
      if (body === undefined) return;

      const server = createPluginServer(settings, moderator);
      const transport = new StreamableHTTPServerTransport({
        sessionIdGenerator: undefined,
        enableJsonResponse: true,
        enableDnsRebindingProtection: true,
        allowedHosts,
      });
      res.on("close", () => {
        void transport.close();
        void server.close();
      });
      await server.connect(transport);
      await transport.handleRequest(req, res, body);
    } catch (e) {
      log(`http: ${e instanceof Error ? e.message : String(e)}`);
      if (!res.headersSent) jsonRpcError(res, 500, -32603, "internal error");
      else res.end();
    }
  });
  http.on("clientError", (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    http.once("error", reject);
    http.listen(addr.port, addr.host, () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  allowedHosts.push(`127.0.0.1:${port}`, `localhost:${port}`);
  log(
    `plugin ${JSON.stringify(settings.name)} (${settings.config.action}, ${settings.config.words.length} words) ` +
      `listening on http://127.0.0.1:${port}/mcp (health: /health)`,
  );
  const stop = () => http.close(() => process.exit(0));
  process.once("SIGTERM", stop);
  process.once("SIGINT", stop);
}

async function main(): Promise<void> {
  let opts: Options;
  let settings: Settings;
  try {
    opts = parseArgs(process.argv.slice(2));
    settings = loadSettings(opts.configFile, process.env);
  } catch (e) {
    log((e as Error).message);
    process.stderr.write(USAGE);
    process.exit(2);
  }
  if (settings.config.words.length === 0) log("warning: no words configured; every call passes");
  const moderator = new Moderator(settings.config);
  // A bug in one call must not take the server down.
  process.on("uncaughtException", (e: NodeJS.ErrnoException) => {
    if (e.code === "EPIPE") process.exit(0); // the host went away
    log(`uncaught: ${e.stack ?? e.message}`);
  });
  process.on("unhandledRejection", (e) => log(`unhandled rejection: ${String(e)}`));
  if (opts.http) await serveHttp(settings, moderator, opts.http);
  else await serveStdio(settings, moderator);
}

main().catch((e) => {
  log(`fatal: ${e instanceof Error ? e.message : String(e)}`);
  process.exit(1);
});
