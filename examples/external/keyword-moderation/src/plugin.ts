// The ContextForge (cpex 0.1.x) external plugin wire format: the plugin config
// served by get_plugin_config(s), and the answer to invoke_hook and to the
// per-hook tools. Pure functions: no I/O, so they never touch the transport.

import { DepthError, Moderator, type Match, type Settings } from "./moderation.js";

export const VERSION = "0.1.0";

/** Every hook type of the cpex 0.1.x MCP hooks. */
export const HOOK_TYPES = [
  "tool_pre_invoke",
  "tool_post_invoke",
  "prompt_pre_fetch",
  "prompt_post_fetch",
  "resource_pre_fetch",
  "resource_post_fetch",
] as const;
export type HookType = (typeof HOOK_TYPES)[number];

interface HookShape {
  /** The payload field naming the tool, prompt or resource. */
  nameField: string;
  /** The payload field whose strings are moderated. */
  target: string;
  /** Whether target may be absent or null (no arguments). */
  optional: boolean;
  /** What is moderated, for the violation description. */
  what: string;
}

/** The hooks this plugin implements and what each one moderates. */
const IMPLEMENTED: Partial<Record<HookType, HookShape>> = {
  tool_pre_invoke: { nameField: "name", target: "args", optional: true, what: "tool arguments" },
  tool_post_invoke: { nameField: "name", target: "result", optional: false, what: "tool result" },
  prompt_pre_fetch: { nameField: "prompt_id", target: "args", optional: true, what: "prompt arguments" },
  prompt_post_fetch: { nameField: "prompt_id", target: "result", optional: false, what: "prompt result" },
  resource_post_fetch: { nameField: "uri", target: "content", optional: false, what: "resource content" },
};

export const IMPLEMENTED_HOOKS = Object.keys(IMPLEMENTED) as HookType[];

type JSONObject = Record<string, unknown>;

export interface Violation {
  reason: string;
  description: string;
  code: string;
  details: JSONObject;
  mcp_error_code?: number;
  http_status_code?: number;
}

export interface PluginResult {
  continue_processing: boolean;
  modified_payload?: JSONObject;
  violation?: Violation;
  metadata: JSONObject;
}

export interface WireContext {
  state: JSONObject;
  metadata: JSONObject;
  global_context?: { state?: JSONObject; metadata?: JSONObject };
}

export interface PluginErrorBody {
  message: string;
  plugin_name: string;
  code: string;
  details: JSONObject;
  mcp_error_code: number;
}

export type HookResponse =
  | { plugin_name: string; result: PluginResult; context?: WireContext }
  | { plugin_name: string; error: PluginErrorBody };

// JSON-RPC codes carried in the error body's mcp_error_code.
const INVALID_PARAMS = -32602;
const INTERNAL_ERROR = -32603;

function isObject(v: unknown): v is JSONObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function nonEmpty(o: JSONObject | undefined): o is JSONObject {
  return o !== undefined && Object.keys(o).length > 0;
}

/** The plugin config object served by get_plugin_config / get_plugin_configs. */
export function pluginConfig(s: Settings): JSONObject {
  return {
    name: s.name,
    kind: "external",
    description: "Blocks or redacts configured keywords in tool and prompt arguments and results.",
    version: VERSION,
    author: "mcp-extproc examples",
    hooks: IMPLEMENTED_HOOKS,
    mode: "enforce",
    priority: s.priority,
    tags: ["moderation", "keywords", "example"],
    config: { ...s.config, words: [...s.config.words] },
  };
}

class HookError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly mcpErrorCode: number = INVALID_PARAMS,
    readonly details: JSONObject = {},
  ) {
    super(message);
  }
}

function failure(pluginName: string, e: unknown): HookResponse {
  const he =
    e instanceof HookError
      ? e
      : e instanceof DepthError
        ? new HookError("INVALID_PAYLOAD", e.message)
        : new HookError("INTERNAL_ERROR", `internal error: ${e instanceof Error ? e.message : String(e)}`, INTERNAL_ERROR);
  return {
    plugin_name: pluginName,
    error: { message: he.message, plugin_name: pluginName, code: he.code, details: he.details, mcp_error_code: he.mcpErrorCode },
  };
}

/** The optional state / metadata maps of a context object. */
function maps(where: string, v: unknown): { state: JSONObject; metadata: JSONObject } {
  if (v === undefined || v === null) return { state: {}, metadata: {} };
  if (!isObject(v)) throw new HookError("INVALID_CONTEXT", `${where}: want an object`);
  const out = { state: {} as JSONObject, metadata: {} as JSONObject };
  for (const k of ["state", "metadata"] as const) {
    const m = v[k];
    if (m === undefined || m === null) continue;
    if (!isObject(m)) throw new HookError("INVALID_CONTEXT", `${where}.${k}: want an object`);
    out[k] = m;
  }
  return out;
}

/** What a block looks like on the wire. Only the path and the configured word are reported. */
function violation(hook: HookType, shape: HookShape, m: Match): Violation {
  const where = m.inKey ? `an object key at ${m.field}` : `a string at ${m.field}`;
  return {
    reason: "Keyword moderation",
    description: `${hook}: ${where} in the ${shape.what} matched a banned word`,
    code: "KEYWORD_BLOCKED",
    details: { field: m.field, word: m.word },
  };
}

/**
 * Answers one hook call: invoke_hook's {hook_type, plugin_name, payload,
 * context}, or a per-hook tool's arguments with hook_type set by the tool.
 * Never throws: every problem becomes the {plugin_name, error} shape.
 */
export function handleHook(settings: Settings, moderator: Moderator, args: unknown): HookResponse {
  const a = isObject(args) ? args : {};
  const pluginName = typeof a.plugin_name === "string" ? a.plugin_name : "";
  try {
    if (!isObject(args)) throw new HookError("INVALID_REQUEST", "arguments: want an object");
    if (typeof a.plugin_name !== "string") throw new HookError("INVALID_REQUEST", "plugin_name: want a string");
    if (pluginName !== settings.name) {
      throw new HookError("UNKNOWN_PLUGIN", `unknown plugin ${JSON.stringify(pluginName)}; this server hosts ${JSON.stringify(settings.name)}`);
    }
    const hookType = a.hook_type;
    if (typeof hookType !== "string" || !(HOOK_TYPES as readonly string[]).includes(hookType)) {
      throw new HookError("UNKNOWN_HOOK", `unknown hook_type ${JSON.stringify(hookType)}`, INVALID_PARAMS, { known: [...HOOK_TYPES] });
    }
    const hook = hookType as HookType;
    const shape = IMPLEMENTED[hook];
    if (!shape) {
      throw new HookError("HOOK_NOT_IMPLEMENTED", `${hook} is not implemented by ${settings.name}`, INVALID_PARAMS, {
        hooks: IMPLEMENTED_HOOKS,
      });
    }

    // Context: the plugin's own state/metadata and the shared global context.
    const ctx = maps("context", a.context);
    const global = isObject(a.context) ? maps("context.global_context", a.context.global_context) : { state: {}, metadata: {} };

    // Payload shape for this hook.
    const payload = a.payload;
    if (!isObject(payload)) throw new HookError("INVALID_PAYLOAD", `${hook}: payload: want an object`);
    if (typeof payload[shape.nameField] !== "string") {
      throw new HookError("INVALID_PAYLOAD", `${hook}: payload.${shape.nameField}: want a string`);
    }
    const target = payload[shape.target];
    const absent = target === undefined || target === null;
    if (absent ? !shape.optional : !isObject(target)) {
      throw new HookError("INVALID_PAYLOAD", `${hook}: payload.${shape.target}: want an object`);
    }

    // The per-request counter that exercises the caller's context round trip.
    const prev = ctx.state.checks;
    const checks = (typeof prev === "number" && Number.isFinite(prev) ? prev : 0) + 1;
    const context: WireContext = { state: { ...ctx.state, checks }, metadata: ctx.metadata };
    if (nonEmpty(global.state) || nonEmpty(global.metadata)) {
      context.global_context = {};
      if (nonEmpty(global.state)) context.global_context.state = global.state;
      if (nonEmpty(global.metadata)) context.global_context.metadata = global.metadata;
    }

    let result: PluginResult;
    if (absent) {
      result = { continue_processing: true, metadata: {} };
    } else if (settings.config.action === "block") {
      const m = moderator.scan(target, shape.target);
      result = m
        ? { continue_processing: false, violation: violation(hook, shape, m), metadata: {} }
        : { continue_processing: true, metadata: {} };
    } else {
      const r = moderator.redact(target, shape.target);
      if (r.keyMatch) {
        // Rewriting a key would change what the call means (an argument's name), so a key blocks.
        result = { continue_processing: false, violation: violation(hook, shape, r.keyMatch), metadata: {} };
      } else if (r.replaced > 0) {
        result = {
          continue_processing: true,
          modified_payload: { ...payload, [shape.target]: r.value },
          metadata: { redactions: r.replaced },
        };
      } else {
        result = { continue_processing: true, metadata: {} };
      }
    }
    return { plugin_name: pluginName, result, context };
  } catch (e) {
    return failure(pluginName, e);
  }
}
