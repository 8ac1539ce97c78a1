#!/usr/bin/env python3
"""Run cpex-pii-filter and cpex-secrets-detection (their manifest defaults,
in cpex's own plugin server, in process) over testdata/corpus.tsv, one
tool_pre_invoke per line with the line as the only argument. Prints one JSON
object per line ({"i", "pii", "secret"}) and a last {"ns_per_call": {...}}.
"""

import asyncio
import json
import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))


async def main():
    from cpex.framework import ExternalPluginServer

    server = ExternalPluginServer(os.path.join(here, "testdata", "cpex-corpus.yaml"))
    await server.initialize()
    lines = [l.rstrip("\n").split("\t") for l in open(os.path.join(here, "testdata", "corpus.tsv"), encoding="utf-8") if not l.startswith("#")]
    spent = {"PIIFilter": 0, "SecretsDetection": 0}
    for i, (_, _, text) in enumerate(lines):
        out = {"i": i}
        for name, key in (("PIIFilter", "pii"), ("SecretsDetection", "secret")):
            ctx = {"state": {}, "metadata": {}, "global_context": {"request_id": f"c{i}"}}
            start = time.perf_counter_ns()
            r = await server.invoke_hook("tool_pre_invoke", name, {"name": "corpus", "args": {"text": text}}, ctx)
            spent[name] += time.perf_counter_ns() - start
            res = r.get("result") or {}
            out[key] = bool(res.get("violation")) or res.get("modified_payload") is not None or res.get("continue_processing") is False
        print(json.dumps(out), flush=True)
    print(json.dumps({"ns_per_call": {k: v // max(1, len(lines)) for k, v in spent.items()}}))
    await server.shutdown()


asyncio.run(main())
