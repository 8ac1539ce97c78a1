// What a TypeScript-SDK application sees for a blocked tools/call: it calls
// the tool named by its second argument on the server at its first, and
// prints one JSON object, {thrown} (the McpError's message, as an app shows
// it) or {isError, text} (the tool result the model reads).
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const [url, tool] = process.argv.slice(2);
const client = new Client({ name: "e2e-ts-blocked", version: "1.0.0" });
await client.connect(new StreamableHTTPClientTransport(new URL(url)));
let out;
try {
  const res = await client.callTool({ name: tool, arguments: {} });
  out = { isError: res.isError ?? false, text: res.content.map((c) => c.text).join("") };
} catch (e) {
  out = { thrown: e.message };
}
await client.close();
console.log(JSON.stringify(out));
