"""The official Python MCP SDK against the real server, in its default
mode ("auto": server/discover, then initialize as a fallback) and pinned to
the legacy era, over Streamable HTTP and over the stdio command. Checks the
churn tests/mcp/run.sh made.

env: KWS_MCP_URL, KWS_SERVER_BINARY, KWS_MCP_NS, KWS_MCP_CONFIGMAP, KWS_MCP_POD
"""

import asyncio
import json
import os
import sys
import traceback

from mcp import Client
from mcp.client.stdio import StdioServerParameters

url = os.environ["KWS_MCP_URL"]
binary = os.environ["KWS_SERVER_BINARY"]
ns = os.environ["KWS_MCP_NS"]
config_map = os.environ["KWS_MCP_CONFIGMAP"]
pod = os.environ["KWS_MCP_POD"]

passed = 0
failed = 0


def check(what, ok, detail=""):
    global passed, failed
    if ok:
        passed += 1
        print(f"PASS: {what}")
    else:
        failed += 1
        print(f"FAIL: {what}{': ' + detail if detail else ''}")


async def exercise(name, client):
    tools = (await client.list_tools()).tools
    names = {t.name for t in tools}
    check(f"{name}: 15 tools listed", len(names) == 15 and "what_changed" in names,
          ",".join(sorted(names)))
    changed = await client.call_tool("what_changed", {"window": "1h", "namespace": ns})
    sc = changed.structured_content
    entry = next((e for e in sc["items"] if e["resourceName"] == config_map), None)
    check(f"{name}: what_changed has the ConfigMap with its patch",
          not changed.is_error and entry is not None and len(entry["patch"]) > 0,
          json.dumps(sc)[:500])
    text = json.loads(changed.content[0].text)
    check(f"{name}: the text block repeats structuredContent", text == sc)
    issues = await client.call_tool(
        "check_pod_issues", {"start_time": "1h", "end_time": "0s", "namespace": ns})
    pods = issues.structured_content["pods"]
    check(f"{name}: check_pod_issues finds ImagePullBackOff",
          any(p["resourceName"] == pod
              and any("ImagePullBackOff" in s["message"] for s in p["containerStates"])
              for p in pods),
          json.dumps(pods)[:500])
    bad = await client.call_tool("diff_versions", {"namespace": ns})
    check(f"{name}: bad arguments are an isError result naming the argument",
          bad.is_error and "argument resourceType" in bad.content[0].text,
          bad.content[0].text)
    prompt = await client.get_prompt("analyze_deployment_rollout",
                                     {"deployment_name": "web", "namespace": ns})
    check(f"{name}: prompts/get", "object_history" in prompt.messages[0].content.text)
    resource = await client.read_resource(f"audit://events/{ns}")
    records = json.loads(resource.contents[0].text)
    check(f"{name}: resources/read lists the namespace's changes",
          any(r["resourceName"] == pod for r in records))


async def main():
    stdio = StdioServerParameters(command=binary, args=["mcp", "--url", url])
    for name, server, mode in [
        ("python auto over HTTP", url, "auto"),
        ("python legacy over HTTP", url, "legacy"),
        ("python auto over stdio", stdio, "auto"),
    ]:
        try:
            async with Client(server, mode=mode) as client:
                await exercise(name, client)
        except Exception:  # noqa: BLE001 - reported as a failed check
            check(f"{name}: no exception", False, traceback.format_exc())
    print(f"{passed} passed, {failed} failed")
    sys.exit(0 if failed == 0 and passed > 0 else 1)


asyncio.run(main())
