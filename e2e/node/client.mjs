// A TypeScript-SDK MCP client for the end-to-end tests. It connects to the
// URL given as its argument, makes the calls the Go test checks, and prints
// one JSON object describing what it saw.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const url = new URL(process.argv[2]);
const client = new Client({ name: "e2e-ts-client", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(url));

const out = { events: [] };

const echo = await client.callTool({ name: "echo", arguments: { text: "hello" } });
out.echo = echo.content.map((c) => c.text).join("");

try {
  await client.callTool({ name: "delete_everything", arguments: {} });
  out.blocked = null;
} catch (e) {
  out.blocked = { code: e.code, message: e.message, data: e.data ?? null };
}

const job = await client.callTool(
  { name: "long_job", arguments: {} },
  undefined,
  { onprogress: (p) => out.events.push(`progress ${p.progress}/${p.total}`) },
);
out.events.push("result: " + job.content.map((c) => c.text).join(""));

await client.close();
console.log(JSON.stringify(out));
