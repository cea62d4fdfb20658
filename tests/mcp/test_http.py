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
