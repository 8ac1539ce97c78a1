// Keyword moderation: configuration and the scan / redact walk over JSON values.
// Nothing here does I/O except loadSettings, which reads the optional config file.

import { readFileSync } from "node:fs";

export type Action = "block" | "redact";

/** The plugin's own settings: the `config` object of its plugin config. */
export interface ModerationConfig {
  words: string[];
  case_sensitive: boolean;
  action: Action;
  redaction: string;
}

/** Everything the server needs: the plugin's identity plus its settings. */
export interface Settings {
  name: string;
  priority: number;
  config: ModerationConfig;
}

export const DEFAULT_NAME = "keyword-moderation";
export const DEFAULT_PRIORITY = 50;
export const DEFAULT_CONFIG: ModerationConfig = {
  words: ["forbidden", "classified", "launch codes"],
  case_sensitive: false,
  action: "block",
  redaction: "[moderated]",
};

const CONFIG_KEYS = new Set(["words", "case_sensitive", "action", "redaction"]);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function parseBool(name: string, raw: string): boolean {
  const v = raw.trim().toLowerCase();
  if (["1", "true", "yes", "on"].includes(v)) return true;
  if (["0", "false", "no", "off", ""].includes(v)) return false;
  throw new Error(`${name}: want true or false, got ${JSON.stringify(raw)}`);
}

/** Checks a (partial) config object as found in a config file. */
function fromObject(where: string, o: unknown): Partial<ModerationConfig> {
  if (!isObject(o)) throw new Error(`${where}: want a JSON object`);
  const out: Partial<ModerationConfig> = {};
  for (const k of Object.keys(o)) {
    if (!CONFIG_KEYS.has(k)) throw new Error(`${where}: unknown key ${JSON.stringify(k)} (want ${[...CONFIG_KEYS].join(", ")})`);
  }
  if ("words" in o) {
    if (!Array.isArray(o.words) || !o.words.every((w) => typeof w === "string")) {
      throw new Error(`${where}: words: want an array of strings`);
    }
    out.words = o.words as string[];
  }
  if ("case_sensitive" in o) {
    if (typeof o.case_sensitive !== "boolean") throw new Error(`${where}: case_sensitive: want true or false`);
    out.case_sensitive = o.case_sensitive;
  }
  if ("action" in o) out.action = o.action as Action; // checked in validate
  if ("redaction" in o) {
    if (typeof o.redaction !== "string") throw new Error(`${where}: redaction: want a string`);
    out.redaction = o.redaction;
  }
  return out;
}

function validate(c: ModerationConfig): ModerationConfig {
  if (c.action !== "block" && c.action !== "redact") {
    throw new Error(`action: want "block" or "redact", got ${JSON.stringify(c.action)}`);
  }
  const words = c.words.map((w) => w.trim());
  if (words.some((w) => w === "")) throw new Error("words: an entry is empty");
  const cfg = { ...c, words };
  if (cfg.action === "redact" && new Moderator(cfg).firstMatch(cfg.redaction) !== null) {
    throw new Error("redaction: the replacement text itself contains a banned word");
  }
  return cfg;
}

/**
 * Settings from, in increasing precedence: the defaults, the JSON file named by
 * `--config FILE` (the `config` object: words, case_sensitive, action, redaction),
 * and the environment (KEYWORD_MODERATION_WORDS as a comma-separated list,
 * KEYWORD_MODERATION_CASE_SENSITIVE, KEYWORD_MODERATION_ACTION,
 * KEYWORD_MODERATION_REDACTION, KEYWORD_MODERATION_PLUGIN_NAME,
 * KEYWORD_MODERATION_PRIORITY). Throws with a readable message on bad input.
 */
export function loadSettings(configFile: string | undefined, env: NodeJS.ProcessEnv): Settings {
  let cfg: ModerationConfig = { ...DEFAULT_CONFIG, words: [...DEFAULT_CONFIG.words] };
  if (configFile) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(readFileSync(configFile, "utf8"));
    } catch (e) {
      throw new Error(`${configFile}: ${(e as Error).message}`);
    }
    cfg = { ...cfg, ...fromObject(configFile, parsed) };
  }
  if (env.KEYWORD_MODERATION_WORDS !== undefined) {
    cfg.words = env.KEYWORD_MODERATION_WORDS.split(",").map((w) => w.trim()).filter((w) => w !== "");
  }
  if (env.KEYWORD_MODERATION_CASE_SENSITIVE !== undefined) {
    cfg.case_sensitive = parseBool("KEYWORD_MODERATION_CASE_SENSITIVE", env.KEYWORD_MODERATION_CASE_SENSITIVE);
  }
  if (env.KEYWORD_MODERATION_ACTION !== undefined) cfg.action = env.KEYWORD_MODERATION_ACTION.trim() as Action;
  if (env.KEYWORD_MODERATION_REDACTION !== undefined) cfg.redaction = env.KEYWORD_MODERATION_REDACTION;

  const name = (env.KEYWORD_MODERATION_PLUGIN_NAME ?? DEFAULT_NAME).trim();
  if (name === "") throw new Error("KEYWORD_MODERATION_PLUGIN_NAME: empty");
  let priority = DEFAULT_PRIORITY;
  if (env.KEYWORD_MODERATION_PRIORITY !== undefined) {
    priority = Number(env.KEYWORD_MODERATION_PRIORITY);
    if (!Number.isInteger(priority)) throw new Error("KEYWORD_MODERATION_PRIORITY: want an integer");
  }
  return { name, priority, config: validate(cfg) };
}

/** Where a banned word was found: a JSON path and the configured word. */
export interface Match {
  field: string;
  word: string;
  /** The word is in an object key (field is that property's path). */
  inKey: boolean;
}

export interface RedactOutcome {
  value: unknown;
  /** Number of replaced occurrences in string values. */
  replaced: number;
  /** A banned word in an object key: keys are never rewritten, so this blocks. */
  keyMatch: Match | null;
}

/** Payloads nested deeper than this are refused (DepthError), not walked. */
export const MAX_DEPTH = 1000;

export class DepthError extends Error {
  constructor() {
    super(`payload nested deeper than ${MAX_DEPTH} levels`);
  }
}

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A JSON path such as `args.items[0]["a b"]`. */
export function formatPath(root: string, segs: ReadonlyArray<string | number>): string {
  let p = root;
  for (const s of segs) {
    if (typeof s === "number") p += `[${s}]`;
    else p += IDENT.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
  }
  return p;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * Matches the configured words as substrings. Whitespace inside a multi-word
 * entry matches any run of whitespace ("launch   codes", "launch\ncodes").
 * Longer words are tried first so the reported word is the most specific one.
 */
export class Moderator {
  private readonly re: RegExp | null;
  private readonly words: string[];

  constructor(readonly config: ModerationConfig) {
    this.words = [...config.words].sort((a, b) => b.length - a.length);
    if (this.words.length === 0) {
      this.re = null;
      return;
    }
    const alts = this.words.map((w) => "(" + w.split(/\s+/).map(escapeRegExp).join("\\s+") + ")");
    this.re = new RegExp(alts.join("|"), config.case_sensitive ? "gu" : "giu");
  }

  /** The configured word behind a match: the index of its capture group. */
  private wordFor(m: RegExpExecArray): string {
    const i = m.findIndex((g, j) => j > 0 && g !== undefined);
    return this.words[i - 1] ?? "";
  }

  /** The configured word found in s, or null. */
  firstMatch(s: string): string | null {
    if (!this.re) return null;
    this.re.lastIndex = 0;
    const m = this.re.exec(s);
    return m ? this.wordFor(m) : null;
  }

  /** First banned word in any string or object key of v, in document order. */
  scan(v: unknown, root: string): Match | null {
    // Path segments are kept on a stack and joined only for a match, so a wide
    // or deep payload costs no per-node path strings.
    const segs: Array<string | number> = [];
    const walk = (x: unknown): Match | null => {
      if (typeof x === "string") {
        const w = this.firstMatch(x);
        return w === null ? null : { field: formatPath(root, segs), word: w, inKey: false };
      }
      if (x === null || typeof x !== "object") return null;
      if (segs.length >= MAX_DEPTH) throw new DepthError();
      if (Array.isArray(x)) {
        for (let i = 0; i < x.length; i++) {
          segs.push(i);
          const m = walk(x[i]);
          segs.pop();
          if (m) return m;
        }
        return null;
      }
      for (const [k, child] of Object.entries(x)) {
        segs.push(k);
        const w = this.firstMatch(k);
        const m = w !== null ? { field: formatPath(root, segs), word: w, inKey: true } : walk(child);
        segs.pop();
        if (m) return m;
      }
      return null;
    };
    return walk(v);
  }

  /** A copy of v with every banned word in string values replaced. */
  redact(v: unknown, root: string): RedactOutcome {
    let replaced = 0;
    let keyMatch: Match | null = null;
    const segs: Array<string | number> = [];
    const walk = (x: unknown): unknown => {
      if (typeof x === "string") {
        if (!this.re) return x;
        return x.replace(this.re, () => {
          replaced++;
          return this.config.redaction;
        });
      }
      if (x === null || typeof x !== "object") return x;
      if (segs.length >= MAX_DEPTH) throw new DepthError();
      if (Array.isArray(x)) {
        return x.map((e, i) => {
          segs.push(i);
          const out = walk(e);
          segs.pop();
          return out;
        });
      }
      const out: Record<string, unknown> = {};
      for (const [k, child] of Object.entries(x)) {
        segs.push(k);
        if (keyMatch === null) {
          const w = this.firstMatch(k);
          if (w !== null) keyMatch = { field: formatPath(root, segs), word: w, inKey: true };
        }
        // defineProperty, so that a "__proto__" key stays an ordinary key.
        Object.defineProperty(out, k, { value: walk(child), enumerable: true, writable: true, configurable: true });
        segs.pop();
      }
      return out;
    };
    const value = walk(v);
    return { value, replaced, keyMatch };
  }
}
