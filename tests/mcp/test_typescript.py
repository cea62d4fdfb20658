"""The MCP TypeScript SDK (npm, on the Node 24 installed beside it) against
`dowse mcp` on stdio. The README's test command installs the npm packages;
without them this test fails, it does not skip."""
import subprocess
from pathlib import Path

from conftest import dowse_bin

HERE = Path(__file__).parent
NODE = HERE / "node_modules" / ".bin" / "node"


def test_the_typescript_sdk_calls_every_kind_of_tool(workspace):
    assert NODE.exists(), "run `npm ci` in tests/mcp (scripts/test does)"
    done = subprocess.run([str(NODE), str(HERE / "ts_stdio.mjs"), dowse_bin(), str(workspace.root)],
                          env=workspace.env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok: the TypeScript SDK" in done.stdout
