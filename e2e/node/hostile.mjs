// A TypeScript-SDK MCP client for the hostile-server test: it calls each
// tool named on the command line and prints, as one JSON object, what the
// SDK handed back for it (the result, or the error's message and data).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const url = new URL(process.argv[2]);
const tools = process.argv.slice(3);
const client = new Client({ name: "e2e-ts-hostile", version: "1.0.0" });
client.onerror = () => {}; // unreadable events are reported here; the call then times out
await client.connect(new StreamableHTTPClientTransport(url));

const out = {};
for (const name of tools) {
  try {
    const res = await client.callTool({ name, arguments: {} }, undefined, { timeout: 3000 });
    out[name] = { result: res };
  } catch (e) {
    out[name] = { error: { message: e.message, data: e.data ?? null } };
  }
}
await client.close();
console.log(JSON.stringify(out));
