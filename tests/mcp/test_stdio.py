"""The official MCP Python SDK (2.x, which opens with `server/discover`)
against `dowse mcp` on stdio, serving from a host of its own: every tool,
its structured content checked against the fixture workspace, and the
errors an agent can act on."""
import os

import anyio
import pytest
from mcp import Client, StdioServerParameters

from conftest import dowse_bin

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


def stdio(ws):
    return StdioServerParameters(command=dowse_bin(), args=["mcp"], env=ws.env, cwd=str(ws.root))


async def call(client, tool, args):
    result = await client.call_tool(tool, args)
    return result


async def test_every_tool_answers_with_text_and_structured_content(workspace):
    async with Client(stdio(workspace)) as client:
        assert client.protocol_version == "2026-07-28"
        tools = {t.name: t for t in (await client.list_tools()).tools}
        assert set(tools) == {"semantic_search", "find_usages", "find_similar_code",
                              "get_code_context", "build_index", "health_check"}
        for name, tool in tools.items():
            assert tool.output_schema and tool.output_schema["type"] == "object", name
            assert tool.description and len(tool.description) > 40, name
            assert tool.annotations.read_only_hint == (name != "build_index"), name
            assert tool.annotations.idempotent_hint is True, name
        assert set(tools["semantic_search"].input_schema["properties"]) == {"query", "mode", "limit", "path_prefix", "lang", "scope"}

        r = await call(client, "semantic_search", {"query": "retry failed uploads after a connection error", "limit": 3})
        assert not r.is_error
        first = r.structured_content["results"][0]
        assert (first["path"], first["symbol"]) == ("src/net/uploader.py", "retry_failed_uploads")
        assert first["start_line"] == 26 and first["root"] == str(workspace.root)
        assert "src/net/uploader.py:26-40" in r.content[0].text

        r = await call(client, "semantic_search", {"query": "parse", "mode": "lexical", "path_prefix": "src/util"})
        assert r.structured_content["mode"] == "lexical"
        assert {x["path"] for x in r.structured_content["results"]} <= {"src/util/duration.py", "src/util/legacy.py"}

        r = await call(client, "semantic_search", {"query": "retry uploads", "mode": "lexical", "lang": ["markdown"]})
        assert r.structured_content["results"], r
        assert {x["language"] for x in r.structured_content["results"]} == {"markdown"}
        r = await call(client, "semantic_search", {"query": "retry uploads", "lang": ["klingon"]})
        assert r.is_error and "no language `klingon`" in r.content[0].text

        r = await call(client, "find_usages", {"symbol": "StorageClient.put"})
        refs = [(u["path"], u["line"]) for u in r.structured_content["references"]]
        assert refs == [("src/net/uploader.py", 24)], r.structured_content
        r = await call(client, "find_usages", {"file": "src/net/uploader.py", "line": 22, "column": 9})
        assert r.structured_content["symbol"] == "upload"
        assert [u["line"] for u in r.structured_content["references"]] == [32]

        r = await call(client, "find_similar_code", {"file": "src/util/duration.py", "line": 8, "limit": 3})
        assert r.structured_content["source"]["symbol"] == "parse_duration"
        assert r.structured_content["results"], r

        r = await call(client, "get_code_context", {"query": "how are uploads retried", "max_tokens": 300})
        ctx = r.structured_content
        assert ctx["tokens"] <= 300 and ctx["token_count"] == "model"
        lines = workspace.path(ctx["chunks"][0]["path"]).read_text().splitlines()
        chunk = ctx["chunks"][0]
        assert chunk["text"] == "\n".join(lines[chunk["start_line"] - 1:chunk["end_line"]])

        r = await call(client, "build_index", {})
        assert r.structured_content["files"] == 7 and r.structured_content["vectors"] == r.structured_content["vectors_total"]

        r = await call(client, "health_check", {})
        assert r.structured_content["components"]["lexical"]["status"] == "healthy"
        assert r.structured_content["status"] in {"healthy", "degraded"}


async def test_mistakes_are_tool_errors_that_say_what_to_do(workspace):
    outside = workspace.root.parent / "outside"
    outside.mkdir()
    (outside / "secret.py").write_text("def secret():\n    return 1\n")
    os.symlink(outside, workspace.path("escape"))
    async with Client(stdio(workspace)) as client:
        cases = [
            ("semantic_search", {"query": "x", "limit": 0}, "limit"),
            ("semantic_search", {"query": "x", "mode": "fuzzy"}, "hybrid, lexical, semantic"),
            ("semantic_search", {"query": "   "}, "empty"),
            ("semantic_search", {"query": "x", "path_prefix": "../.."}, "outside the workspace"),
            ("find_usages", {}, "give a symbol or a position"),
            ("find_similar_code", {"file": "../outside/secret.py", "line": 1}, "outside the workspace"),
            ("find_similar_code", {"file": "escape/secret.py", "line": 1}, "outside the workspace"),
            ("find_similar_code", {"file": str(outside / "secret.py"), "line": 1}, "outside the workspace"),
            ("find_usages", {"file": "escape/secret.py", "line": 1, "column": 5}, "outside the workspace"),
            ("get_code_context", {"query": "upload", "max_tokens": 5}, "max_tokens"),
            ("health_check", {"verbose": True}, "no arguments"),
            ("semantic_search", {"query": "x", "colour": 1}, "unknown field"),
        ]
        for tool, args, said in cases:
            r = await call(client, tool, args)
            assert r.is_error, (tool, args, r)
            assert said in r.content[0].text, (tool, args, r.content[0].text)
        # Still serving after all that.
        r = await call(client, "semantic_search", {"query": "parse_duration", "limit": 1})
        assert r.structured_content["results"][0].get("symbol") == "parse_duration", r.structured_content
