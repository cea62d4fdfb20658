"""The MCP endpoint inside `dowse lsp`: the Python SDK over streamable HTTP
with the token from `mcp.json`; an unsaved edit sent to the language server
found through HTTP and through `dowse mcp` (which relays to it); and the
endpoint's refusals: no token, a wrong token, a foreign Origin, a body too
large."""
import json
import os
import stat
import time
import urllib.error
import urllib.request

import anyio
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import create_mcp_http_client, streamable_http_client

from conftest import dowse_bin

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


def discovery(ws):
    path = ws.index / "mcp.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    return json.loads(path.read_text())


def http(ws):
    found = discovery(ws)
    client = create_mcp_http_client(headers={"Authorization": f"Bearer {found['token']}"})
    return streamable_http_client(found["url"], http_client=client)


async def search_until(client, query, predicate, timeout=30.0):
    deadline = time.time() + timeout
    while True:
        r = await client.call_tool("semantic_search", {"query": query, "mode": "semantic", "limit": 5})
        if predicate(r.structured_content["results"]) or time.time() > deadline:
            return r.structured_content["results"]
        await anyio.sleep(0.1)


async def test_an_unsaved_edit_is_seen_over_http_and_through_the_relay(workspace, lsp):
    found = discovery(workspace)
    assert found["url"].startswith("http://127.0.0.1:") and found["pid"] == lsp.process.pid
    assert len(found["token"]) == 64
    # The editor opens a file and types a function it has not saved.
    uri = workspace.uri("src/util/thermo.py")
    text = workspace.path("src/util/thermo.py").read_text()
    lsp.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "python", "version": 1, "text": text}})
    edited = text + "\n\ndef kilometres_to_miles(km):\n    return km * 0.621371\n"
    lsp.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": edited}]})
    query = "convert a distance from metric to imperial units"
    is_edit = lambda results: bool(results) and results[0].get("symbol") == "kilometres_to_miles"

    async with Client(http(workspace)) as client:
        results = await search_until(client, query, is_edit)
        assert is_edit(results), results
        tools = await client.list_tools()
        assert len(tools.tools) == 6

    # `dowse mcp` finds the live server in mcp.json and relays to it: the
    # same unsaved edit, with no index of its own.
    relay = StdioServerParameters(command=dowse_bin(), args=["mcp"], env=workspace.env, cwd=str(workspace.root))
    async with Client(relay) as client:
        results = await search_until(client, query, is_edit)
        assert is_edit(results), results
        r = await client.call_tool("find_usages", {"symbol": "kilometres_to_miles"})
        assert r.structured_content["definitions"][0]["line"] == 12


def post(url, body, headers):
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "Accept": "application/json, text/event-stream", **headers})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.headers
    except urllib.error.HTTPError as err:
        return err.code, err.headers


def test_the_endpoint_refuses_what_it_must(workspace, lsp):
    found = discovery(workspace)
    url, token = found["url"], found["token"]
    ping = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "ping"}).encode()
    status, headers = post(url, ping, {})
    assert status == 401 and headers["WWW-Authenticate"] == "Bearer"
    assert post(url, ping, {"Authorization": "Bearer " + "0" * 64})[0] == 401
    assert post(url, ping, {"Authorization": f"Bearer {token[:-1]}"})[0] == 401
    good = {"Authorization": f"Bearer {token}"}
    assert post(url, ping, {**good, "Origin": "https://evil.example"})[0] == 403
    huge = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "ping", "params": {"pad": "x" * (2 << 20)}}).encode()
    assert post(url, huge, good)[0] == 413
    assert post(url, ping, {**good, "Host": "evil.example"})[0] in (400, 403, 421)
    # The endpoint is on loopback only.
    assert found["url"].startswith("http://127.0.0.1:")


def test_the_discovery_file_goes_when_the_server_does(workspace, lsp):
    assert (workspace.index / "mcp.json").exists()
    lsp.close()
    assert not (workspace.index / "mcp.json").exists()


async def test_the_relay_sends_the_python_sdk_nothing_but_json_rpc(workspace, lsp, caplog):
    """Through `dowse mcp` relaying to the language server, the official SDK
    logs no parse error (an empty line on stdout is one to it)."""
    import logging
    caplog.set_level(logging.DEBUG)
    relay = StdioServerParameters(command=dowse_bin(), args=["mcp"], env=workspace.env, cwd=str(workspace.root))
    async with Client(relay) as client:
        tools = await client.list_tools()
        assert len(tools.tools) == 6
        r = await client.call_tool("semantic_search", {"query": "parse a duration", "limit": "3"})
        assert r.structured_content["results"], r
    complaints = [r.getMessage() for r in caplog.records
                  if any(word in r.getMessage().lower() for word in ("parse", "invalid json", "validation error"))]
    assert not complaints, complaints


def test_a_raw_client_gets_one_reply_per_request_and_none_for_a_notification(workspace, lsp):
    """Protocol 2025-06-18 by hand through the relay: initialize, initialized,
    tools/list, then end of input: exactly two replies, both with ids, and
    the request still in flight when stdin closed is answered."""
    import subprocess
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
            "protocolVersion": "2025-06-18", "capabilities": {},
            "clientInfo": {"name": "raw", "version": "0"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
    ]
    stdin = "".join(json.dumps(m) + "\n" for m in messages)
    out = subprocess.run([dowse_bin(), "mcp"], input=stdin.encode(), capture_output=True,
                         env=workspace.env, cwd=workspace.root, timeout=120)
    assert out.returncode == 0, out.stderr.decode()
    lines = out.stdout.decode().splitlines()
    assert len(lines) == 2, lines
    replies = [json.loads(line) for line in lines]
    assert sorted(r["id"] for r in replies) == [1, 2], replies
    by_id = {r["id"]: r for r in replies}
    assert by_id[1]["result"]["serverInfo"]["name"] == "dowse"
    assert len(by_id[2]["result"]["tools"]) == 6
    # It relayed to the language server (one index, one model).
    assert "not relaying" not in out.stderr.decode(), out.stderr.decode()


async def test_edits_an_editor_restores_at_start_are_searchable_when_the_first_index_ends(tmp_path):
    """VS Code restores its open files right after `initialized`, while the
    first index of a large workspace is still running: the unsaved edit is
    searchable as soon as that index ends, from the editor and from an agent
    relayed to the same server."""
    from conftest import LspClient, Workspace
    ws = Workspace(tmp_path)
    for i in range(1200):
        body = "".join(f"def step_{i}_{j}(ledger, entry):\n    return ledger.post(entry, {j})\n\n\n" for j in range(6))
        (ws.root / "bulk").mkdir(exist_ok=True)
        (ws.root / f"bulk/m{i}.py").write_text(body)
    client = LspClient(ws)
    uri = ws.root.as_uri()
    client.request("initialize", {
        "processId": os.getpid(), "rootUri": uri,
        "workspaceFolders": [{"uri": uri, "name": "workspace"}],
        "capabilities": {}, "initializationOptions": {"debounce_ms": 20},
    })
    client.notify("initialized", {})
    file_uri = ws.uri("src/util/thermo.py")
    text = ws.path("src/util/thermo.py").read_text()
    client.notify("textDocument/didOpen", {"textDocument": {"uri": file_uri, "languageId": "python", "version": 1, "text": text}})
    edited = text + "\n\ndef platypus_velocity(distance, seconds):\n    return distance / seconds\n"
    client.notify("textDocument/didChange", {"textDocument": {"uri": file_uri, "version": 2}, "contentChanges": [{"text": edited}]})
    # The edit went in while the first index ran.
    assert not any(n["method"] == "dowse/status" and n["params"]["phase"] in ("embedding", "ready")
                   for n in list(client.notifications)), "the first index ended before the edit was sent"
    client.wait_for(lambda n: n["method"] == "dowse/status" and n["params"]["phase"] in ("embedding", "ready"))
    ended = time.time()
    while True:
        r = client.request("dowse/search", {"query": "platypus_velocity", "mode": "lexical", "limit": 3})
        if any(x["path"] == "src/util/thermo.py" for x in r["result"]["results"]):
            break
        assert time.time() - ended < 5, f"not searchable 5 s after the first index ended: {r}"
        await anyio.sleep(0.05)
    deadline = time.time() + 30
    while not (ws.index / "mcp.json").exists():
        assert time.time() < deadline, "no mcp.json"
        await anyio.sleep(0.05)
    relay = StdioServerParameters(command=dowse_bin(), args=["mcp"], env=ws.env, cwd=str(ws.root))
    async with Client(relay) as agent:
        r = await agent.call_tool("semantic_search", {"query": "platypus_velocity", "mode": "lexical", "limit": 3})
        assert r.structured_content["results"][0]["path"] == "src/util/thermo.py", r.structured_content
    client.close()
