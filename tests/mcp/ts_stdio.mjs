// The MCP TypeScript SDK (stdio) against `dowse mcp`: lists the tools and
// calls them, checking structured content against the fixture workspace.
// Usage: node ts_stdio.mjs DOWSE_BIN WORKSPACE   (environment passed through)
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import assert from "node:assert/strict";

const [bin, workspace] = process.argv.slice(2);
const transport = new StdioClientTransport({ command: bin, args: ["mcp"], cwd: workspace, env: process.env });
const client = new Client({ name: "dowse-ts-test", version: "1.0.0" });
await client.connect(transport);

const { tools } = await client.listTools();
assert.deepEqual(tools.map((t) => t.name).sort(),
  ["build_index", "find_similar_code", "find_usages", "get_code_context", "health_check", "semantic_search"]);

const search = await client.callTool({ name: "semantic_search", arguments: { query: "turn a duration string into seconds", limit: 3 } });
assert.equal(search.isError, false);
assert.equal(search.structuredContent.results[0].symbol, "parse_duration");
assert.match(search.content[0].text, /src\/util\/duration\.py:6-14/);

const usages = await client.callTool({ name: "find_usages", arguments: { symbol: "parse_duration" } });
assert.equal(usages.structuredContent.definitions[0].path, "src/util/duration.py");

const bad = await client.callTool({ name: "find_similar_code", arguments: { file: "../../etc/passwd", line: 1 } });
assert.equal(bad.isError, true);
assert.match(bad.content[0].text, /outside the workspace/);

const context = await client.callTool({ name: "get_code_context", arguments: { query: "upload files", max_tokens: 200 } });
assert.ok(context.structuredContent.tokens <= 200);

await client.close();
console.log("ok: the TypeScript SDK talked to dowse mcp");
