// Self-test: runs the compiled server (dist/) over STDIO and Streamable HTTP
// with the official SDK client and checks the cpex 0.1.x wire format.
// Run with `npm test` (which builds first).

import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { loadSettings } from "../dist/moderation.js";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const serverJs = join(root, "dist", "server.js");
const PLUGIN = "keyword-moderation";

/** A client connected over STDIO to a fresh server with extra env and args. */
async function stdioClient(env = {}, args = []) {
  const client = new Client({ name: "keyword-moderation-test", version: "0.0.0" });
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [serverJs, ...args],
    env: { PATH: process.env.PATH ?? "", ...env },
    stderr: "pipe",
  });
  await client.connect(transport);
  return client;
}

/** Calls a tool and parses the JSON of its single text content. */
async function call(client, name, args) {
  const r = await client.callTool({ name, arguments: args });
  assert.equal(r.isError, undefined, JSON.stringify(r));
  assert.equal(r.content.length, 1);
  assert.equal(r.content[0].type, "text");
  return JSON.parse(r.content[0].text);
}

const invoke = (client, hook_type, payload, context, plugin_name = PLUGIN) =>
  call(client, "invoke_hook", { hook_type, plugin_name, payload, ...(context === undefined ? {} : { context }) });

const ctx = (state = {}) => ({ state, metadata: {}, global_context: { request_id: "req-1", user: "alice" } });

describe("STDIO, action=block (defaults)", () => {
  let client;
  before(async () => (client = await stdioClient()));
  after(async () => client?.close());

  test("get_plugin_configs and get_plugin_config", async () => {
    const all = await call(client, "get_plugin_configs", {});
    assert.ok(Array.isArray(all) && all.length === 1);
    const cfg = await call(client, "get_plugin_config", { name: PLUGIN });
    assert.deepEqual(cfg, all[0]);
    assert.equal(cfg.name, PLUGIN);
    assert.equal(cfg.kind, "external");
    assert.equal(cfg.mode, "enforce");
    assert.equal(cfg.priority, 50);
    for (const h of ["tool_pre_invoke", "tool_post_invoke", "prompt_pre_fetch", "prompt_post_fetch"]) assert.ok(cfg.hooks.includes(h), h);
    assert.deepEqual(cfg.config, {
      words: ["forbidden", "classified", "launch codes"],
      case_sensitive: false,
      action: "block",
      redaction: "[moderated]",
    });
    assert.deepEqual(await call(client, "get_plugin_config", { name: "nope" }), {});
  });

  test("invoke_hook blocks a banned word at any depth", async () => {
    const r = await invoke(client, "tool_pre_invoke", { name: "send", args: { to: "ops", msg: { parts: ["hi", "the Launch\n codes"] } } }, ctx());
    assert.equal(r.plugin_name, PLUGIN);
    assert.equal(r.result.continue_processing, false);
    assert.equal(r.result.modified_payload, undefined);
    assert.deepEqual(r.result.violation, {
      reason: "Keyword moderation",
      description: "tool_pre_invoke: a string at args.msg.parts[1] in the tool arguments matched a banned word",
      code: "KEYWORD_BLOCKED",
      details: { field: "args.msg.parts[1]", word: "launch codes" },
    });
  });

  test("invoke_hook blocks a banned word in a key and in a tool result", async () => {
    const k = await invoke(client, "tool_pre_invoke", { name: "t", args: { "FORBIDDEN key": 1 } }, ctx());
    assert.equal(k.result.continue_processing, false);
    assert.deepEqual(k.result.violation.details, { field: 'args["FORBIDDEN key"]', word: "forbidden" });
    const p = await invoke(client, "tool_post_invoke", { name: "t", result: { content: [{ type: "text", text: "ok" }], structuredContent: { doc: "Classified" } } }, ctx());
    assert.equal(p.result.continue_processing, false);
    assert.deepEqual(p.result.violation.details, { field: "result.structuredContent.doc", word: "classified" });
  });

  test("invoke_hook continues on clean payloads", async () => {
    for (const [hook, payload] of [
      ["tool_pre_invoke", { name: "t", args: { q: "weather in Paris", n: 3, ok: true, none: null } }],
      ["tool_pre_invoke", { name: "t" }],
      ["tool_post_invoke", { name: "t", result: { content: [{ type: "text", text: "sunny" }], isError: false } }],
      ["prompt_pre_fetch", { prompt_id: "greet", args: { who: "Bob" } }],
      ["prompt_post_fetch", { prompt_id: "greet", result: { messages: [{ role: "user", content: { type: "text", text: "hello" } }] } }],
    ]) {
      const r = await invoke(client, hook, payload, ctx());
      assert.equal(r.result.continue_processing, true, hook);
      assert.equal(r.result.violation, undefined, hook);
      assert.equal(r.result.modified_payload, undefined, hook);
    }
  });

  test("context.state.checks round trip", async () => {
    const first = await invoke(client, "tool_pre_invoke", { name: "t", args: {} });
    assert.deepEqual(first.context, { state: { checks: 1 }, metadata: {} });
    const second = await invoke(client, "tool_post_invoke", { name: "t", result: { content: [] } }, first.context);
    assert.equal(second.context.state.checks, 2);
    const kept = await invoke(client, "prompt_pre_fetch", { prompt_id: "p", args: {} }, {
      state: { checks: 41, mine: "x" },
      metadata: { m: 1 },
      global_context: { request_id: "r", state: { g: true } },
    });
    assert.deepEqual(kept.context, { state: { checks: 42, mine: "x" }, metadata: { m: 1 }, global_context: { state: { g: true } } });
  });

  test("failures use the error shape and the server keeps serving", async () => {
    const u = await invoke(client, "tool_pre_invoke", { name: "t", args: {} }, ctx(), "other-plugin");
    assert.deepEqual(Object.keys(u).sort(), ["error", "plugin_name"]);
    assert.equal(u.plugin_name, "other-plugin");
    assert.equal(u.error.code, "UNKNOWN_PLUGIN");
    assert.equal(u.error.plugin_name, "other-plugin");
    assert.equal(typeof u.error.message, "string");
    assert.equal(typeof u.error.mcp_error_code, "number");
    assert.deepEqual(typeof u.error.details, "object");

    assert.equal((await invoke(client, "tool_mid_invoke", { name: "t" }, ctx())).error.code, "UNKNOWN_HOOK");
    assert.equal((await invoke(client, "resource_pre_fetch", { uri: "file:///x" }, ctx())).error.code, "HOOK_NOT_IMPLEMENTED");
    for (const bad of ["not an object", { args: {} }, { name: "t", args: "forbidden" }, { name: "t", args: [1] }]) {
      assert.equal((await invoke(client, "tool_pre_invoke", bad, ctx())).error.code, "INVALID_PAYLOAD", JSON.stringify(bad));
    }
    assert.equal((await invoke(client, "tool_post_invoke", { name: "t" }, ctx())).error.code, "INVALID_PAYLOAD");
    assert.equal((await invoke(client, "tool_pre_invoke", { name: "t" }, { state: [] })).error.code, "INVALID_CONTEXT");
    assert.equal((await call(client, "invoke_hook", {})).error.code, "INVALID_REQUEST");
    // Nesting beyond the walk's limit is refused, not walked.
    let deep = "forbidden";
    for (let i = 0; i < 1500; i++) deep = [deep];
    const d = await invoke(client, "tool_pre_invoke", { name: "t", args: { deep } }, ctx());
    assert.equal(d.error.code, "INVALID_PAYLOAD");
    assert.match(d.error.message, /nested deeper/);
    assert.equal((await invoke(client, "tool_pre_invoke", { name: "t", args: {} }, ctx())).result.continue_processing, true);
  });

  test("per-hook tools answer like invoke_hook", async () => {
    const payload = { name: "t", args: { q: "forbidden fruit" } };
    const viaHook = await call(client, "tool_pre_invoke", { plugin_name: PLUGIN, payload, context: ctx() });
    assert.deepEqual(viaHook, await invoke(client, "tool_pre_invoke", payload, ctx()));
    assert.equal(viaHook.result.continue_processing, false);
    const pf = await call(client, "prompt_post_fetch", {
      plugin_name: PLUGIN,
      payload: { prompt_id: "p", result: { messages: [{ role: "assistant", content: { type: "text", text: "all clear" } }] } },
      context: ctx({ checks: 7 }),
    });
    assert.equal(pf.result.continue_processing, true);
    assert.equal(pf.context.state.checks, 8);
    assert.equal((await call(client, "tool_post_invoke", { plugin_name: "x", payload: {} })).error.code, "UNKNOWN_PLUGIN");
  });
});

describe("STDIO, action=redact (env config)", () => {
  let client;
  before(async () => (client = await stdioClient({ KEYWORD_MODERATION_ACTION: "redact", KEYWORD_MODERATION_WORDS: "secret, launch codes" })));
  after(async () => client?.close());

  test("redacts arguments and results", async () => {
    const payload = { name: "send", args: { body: "a SECRET and the launch  codes, secret!", n: 1, list: ["ok", "secret"] }, headers: { "x-a": "b" } };
    const r = await invoke(client, "tool_pre_invoke", payload, ctx());
    assert.equal(r.result.continue_processing, true);
    assert.equal(r.result.violation, undefined);
    assert.deepEqual(r.result.modified_payload, {
      name: "send",
      args: { body: "a [moderated] and the [moderated], [moderated]!", n: 1, list: ["ok", "[moderated]"] },
      headers: { "x-a": "b" },
    });
    assert.deepEqual(r.result.metadata, { redactions: 4 });

    const post = await invoke(client, "tool_post_invoke", { name: "t", result: { content: [{ type: "text", text: "top secret" }], isError: false } }, ctx());
    assert.deepEqual(post.result.modified_payload.result, { content: [{ type: "text", text: "top [moderated]" }], isError: false });

    const clean = await invoke(client, "prompt_pre_fetch", { prompt_id: "p", args: { a: "forbidden is not configured here" } }, ctx());
    assert.equal(clean.result.continue_processing, true);
    assert.equal(clean.result.modified_payload, undefined);
  });

  test("a banned word in a key blocks even when redacting", async () => {
    const r = await invoke(client, "tool_pre_invoke", { name: "t", args: { secret: "x" } }, ctx());
    assert.equal(r.result.continue_processing, false);
    assert.deepEqual(r.result.violation.details, { field: "args.secret", word: "secret" });
  });
});

describe("configuration", () => {
  test("file, then environment; bad values are rejected", () => {
    const dir = mkdtempSync(join(tmpdir(), "kwm-"));
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify({ words: ["Alpha"], case_sensitive: true, action: "redact", redaction: "***" }));
    assert.deepEqual(loadSettings(file, {}).config, { words: ["Alpha"], case_sensitive: true, action: "redact", redaction: "***" });
    const s = loadSettings(file, { KEYWORD_MODERATION_ACTION: "block", KEYWORD_MODERATION_PLUGIN_NAME: "kw", KEYWORD_MODERATION_PRIORITY: "10" });
    assert.equal(s.config.action, "block");
    assert.equal(s.name, "kw");
    assert.equal(s.priority, 10);
    assert.throws(() => loadSettings(undefined, { KEYWORD_MODERATION_ACTION: "drop" }), /action/);
    assert.throws(() => loadSettings(undefined, { KEYWORD_MODERATION_ACTION: "redact", KEYWORD_MODERATION_REDACTION: "[forbidden]" }), /redaction/);
    writeFileSync(file, JSON.stringify({ wrods: [] }));
    assert.throws(() => loadSettings(file, {}), /unknown key/);
  });

  test("case_sensitive from a --config file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kwm-"));
    const file = join(dir, "config.json");
    writeFileSync(file, JSON.stringify({ words: ["Alpha"], case_sensitive: true }));
    const client = await stdioClient({}, ["--config", file]);
    try {
      assert.equal((await invoke(client, "tool_pre_invoke", { name: "t", args: { a: "alpha" } }, ctx())).result.continue_processing, true);
      assert.equal((await invoke(client, "tool_pre_invoke", { name: "t", args: { a: "Alpha" } }, ctx())).result.continue_processing, false);
    } finally {
      await client.close();
    }
  });
});

describe("Streamable HTTP", () => {
  let child;
  let base;
  before(async () => {
    child = spawn(process.execPath, [serverJs, "--http", "127.0.0.1:0"], { stdio: ["ignore", "pipe", "pipe"] });
    base = await new Promise((resolve, reject) => {
      let err = "";
      const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 10000);
      child.stderr.on("data", (d) => {
        err += d;
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once("exit", (code) => reject(new Error(`server exited ${code}: ${err}`)));
    });
  });
  after(() => child?.kill("SIGTERM"));

  test("GET /health", async () => {
    const r = await fetch(`${base}/health`);
    assert.equal(r.status, 200);
    assert.deepEqual(await r.json(), { status: "healthy" });
    assert.equal((await fetch(`${base}/nope`)).status, 404);
    assert.equal((await fetch(`${base}/mcp`)).status, 405);
  });

  test("invoke_hook over /mcp", async () => {
    const client = new Client({ name: "keyword-moderation-test", version: "0.0.0" });
    await client.connect(new StreamableHTTPClientTransport(new URL(`${base}/mcp`)));
    try {
      const r = await invoke(client, "tool_pre_invoke", { name: "t", args: { x: "classified" } }, ctx({ checks: 1 }));
      assert.equal(r.result.continue_processing, false);
      assert.equal(r.result.violation.code, "KEYWORD_BLOCKED");
      assert.equal(r.context.state.checks, 2);
    } finally {
      await client.close();
    }
  });

  test("a foreign Host header is refused", async () => {
    const { port } = new URL(base);
    const status = await new Promise((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port, path: "/mcp", method: "POST", headers: { host: "evil.example", "content-type": "application/json", accept: "application/json, text/event-stream" } },
        (res) => {
          res.resume();
          resolve(res.statusCode);
        },
      );
      req.on("error", reject);
      req.end(JSON.stringify({ jsonrpc: "2.0", id: 1, method: "tools/list" }));
    });
    assert.equal(status, 403);
  });
});
