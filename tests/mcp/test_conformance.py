"""The protocol's official conformance suite (npm, Node 24) against the MCP
endpoint of a running `dowse lsp`. The suite does not know dowse's bearer
token: a loopback proxy (token_proxy.py) adds it and forwards everything
else untouched. Scenarios that test capabilities dowse does not have (the
reference server's test tools, resources, prompts) are listed, with the
reason, in conformance-expected-failures.yml; every other one must pass."""
import json
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).parent
NODE = HERE / "node_modules" / ".bin" / "node"
SUITE = HERE / "node_modules" / ".bin" / "conformance"


def test_the_conformance_suite_passes_every_applicable_scenario(workspace, lsp, tmp_path):
    assert NODE.exists() and SUITE.exists(), "run `npm ci` in tests/mcp (scripts/test does)"
    found = json.loads((workspace.index / "mcp.json").read_text())
    proxy = subprocess.Popen([sys.executable, str(HERE / "token_proxy.py"), found["url"], found["token"]],
                             stdout=subprocess.PIPE, text=True)
    try:
        url = proxy.stdout.readline().strip()
        done = subprocess.run(
            [str(NODE), str(SUITE), "server", "--url", url,
             "--expected-failures", str(HERE / "conformance-expected-failures.yml"),
             "-o", str(tmp_path / "results")],
            capture_output=True, text=True, timeout=600)
    finally:
        proxy.kill()
    summary = done.stdout[done.stdout.find("=== SUMMARY"):]
    assert done.returncode == 0, summary + done.stderr[-2000:]
    for scenario in ["server-initialize", "ping", "tools-list", "dns-rebinding-protection",
                     "server-sse-multiple-streams"]:
        assert f"✓ {scenario}" in summary, summary
