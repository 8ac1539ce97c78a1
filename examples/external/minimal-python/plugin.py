"""The smallest external plugin, in Python: an MCP server (the official
`mcp` SDK, 2.x) whose invoke_hook tool answers tool_pre_invoke in
ContextForge's (cpex 0.1.x) wire format. It refuses a tool call whose
arguments mention "launch codes"; everything else passes. Run as

  plugins: [{name: minimal, kind: external, mcp: {proto: STDIO, cmd: [python3, plugin.py]}}]
"""

import json
from typing import Any

from mcp.server.mcpserver import MCPServer

NAME = "minimal"
server = MCPServer("minimal-plugin")


@server.tool()
def get_plugin_config(name: str = "") -> str:
    """What the host merges under its plugins: entry at start-up."""
    return json.dumps({"name": NAME, "kind": "external", "hooks": ["tool_pre_invoke"],
                       "mode": "enforce", "priority": 50, "config": {}})


@server.tool()
def invoke_hook(hook_type: str, payload: dict[str, Any], context: dict[str, Any] | None = None, plugin_name: str = "") -> str:
    """{hook_type, plugin_name, payload, context} in; {plugin_name, result, context} out."""
    args = json.dumps(payload.get("args", {}), ensure_ascii=False).lower()
    result: dict[str, Any] = {"continue_processing": True}
    if hook_type == "tool_pre_invoke" and "launch codes" in args:
        result = {"continue_processing": False, "violation": {
            "reason": "Off-limits topic", "code": "OFF_LIMITS", "details": {},
            "description": f"tool {json.dumps(payload.get('name'))} was asked about launch codes"}}
    return json.dumps({"plugin_name": NAME, "result": result, "context": context})


if __name__ == "__main__":
    server.run()  # STDIO: stdout is the channel, log to stderr only
