#!/usr/bin/env bash
# Capture the golden fixtures of framework/external/testdata/cpex/ from real
# cpex output: cpex's own client (PluginManager, kind: external, as
# ContextForge's gateway runs it) calls cpex's own plugin server hosting
# ContextForge's published plugins, and drive.py's record-server writes each
# invoke_hook request and answer as it was on the wire.
#
#   e2e/cpex/capture_wire.sh PYTHON   # PYTHON: the interpreter of a venv
#                                     # installed from e2e/cpex/requirements.txt
set -euo pipefail
py=${1:?usage: capture_wire.sh PYTHON}
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../../framework/external/testdata/cpex
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
entry() { # name hooks
  cat <<E
  - name: $1
    kind: external
    hooks: $2
    mcp:
      proto: STDIO
      cmd: [$py, $here/drive.py, record-server, $work]
      env: {PLUGINS_CONFIG_PATH: $here/testdata/cpex-plugins.yaml, PLUGINS_LOG_LEVEL: WARNING}
E
}
{
  echo "plugins:"
  entry PIIFilter "[tool_pre_invoke, tool_post_invoke, prompt_pre_fetch, prompt_post_fetch]"
  entry URLReputation "[resource_pre_fetch]"
  entry EncodedExfilDetector "[resource_post_fetch]"
  printf 'plugin_settings:\n  plugin_timeout: 30\n  fail_on_plugin_error: true\n'
} > "$work/client.yaml"
(cd "$work" && "$py" "$here/drive.py" run client.yaml > verdicts.jsonl 2> stderr.log) || { cat "$work/stderr.log"; exit 1; }
mkdir -p "$out"
cp "$work"/*.json "$out"/
cp "$work/verdicts.jsonl" "$out/verdicts.jsonl"
echo "wrote $(ls "$out" | wc -l) files to $out"
