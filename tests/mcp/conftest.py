"""Fixtures for the MCP end-to-end tests: the real `dowse` binary (built by
the README's test command), the real model (installed by it), a copy of the
fixture workspace with an isolated home and index, and a minimal LSP client
to drive `dowse lsp` as an editor would."""
import json
import os
import shutil
import subprocess
import threading
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def dowse_bin() -> str:
    return os.environ.get("DOWSE_BIN", str(REPO / "target" / "debug" / "dowse"))


def model_dir() -> str:
    home = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    path = Path(os.environ.get("DOWSE_MODEL_DIR", home / "dowse/models/all-MiniLM-L6-v2-int8"))
    assert (path / "model.onnx").is_file(), f"no model in {path}: run `dowse model install` (scripts/test does)"
    return str(path)


class Workspace:
    def __init__(self, base: Path):
        self.root = (base / "workspace").resolve()
        shutil.copytree(REPO / "tests/fixtures/workspace", self.root)
        self.index = base / "index"
        self.home = base / "home"
        self.home.mkdir()
        self.env = {
            **os.environ,
            "HOME": str(self.home),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            "DOWSE_INDEX_DIR": str(self.index),
            "DOWSE_MODEL_DIR": model_dir(),
        }
        self.env.pop("DOWSE_LOG", None)

    def path(self, rel: str) -> Path:
        return self.root / rel

    def uri(self, rel: str) -> str:
        return self.path(rel).as_uri()


@pytest.fixture
def workspace(tmp_path) -> Workspace:
    return Workspace(tmp_path)


class LspClient:
    """Just enough LSP to play an editor: framing, requests, notifications."""

    def __init__(self, ws: Workspace):
        self.process = subprocess.Popen(
            [dowse_bin(), "lsp"], cwd=ws.root, env=ws.env,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        self.next_id = 1
        self.responses = {}
        self.notifications = []
        self.lock = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        out = self.process.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                line = line.strip()
                if not line:
                    break
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            message = json.loads(out.read(length))
            if "method" in message and "id" in message:
                self._send({"jsonrpc": "2.0", "id": message["id"], "result": None})
            with self.lock:
                if "method" in message:
                    self.notifications.append(message)
                else:
                    self.responses[message["id"]] = message
                self.lock.notify_all()

    def _send(self, message):
        body = json.dumps(message).encode()
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def notify(self, method, params):
        self._send({"jsonrpc": "2.0", "method": method, "params": params})

    def request(self, method, params, timeout=60):
        id_ = self.next_id
        self.next_id += 1
        self._send({"jsonrpc": "2.0", "id": id_, "method": method, "params": params})
        deadline = time.time() + timeout
        with self.lock:
            while id_ not in self.responses:
                assert self.lock.wait(deadline - time.time()), f"no answer to {method}"
            return self.responses.pop(id_)

    def wait_for(self, pred, timeout=120):
        deadline = time.time() + timeout
        with self.lock:
            while not any(pred(n) for n in self.notifications):
                left = deadline - time.time()
                if left <= 0:
                    raise AssertionError(f"timed out; notifications: {self.notifications[-5:]}")
                self.lock.wait(left)

    def close(self):
        if self.process.poll() is not None:
            return
        try:
            self.request("shutdown", None, timeout=20)
            self.notify("exit", None)
            self.process.wait(20)
        finally:
            if self.process.poll() is None:
                self.process.kill()


@pytest.fixture
def lsp(workspace):
    """`dowse lsp` on the workspace, initialized, indexed and embedded, its
    MCP endpoint's discovery file written."""
    client = LspClient(workspace)
    uri = workspace.root.as_uri()
    client.request("initialize", {
        "processId": os.getpid(), "rootUri": uri,
        "workspaceFolders": [{"uri": uri, "name": "workspace"}],
        "capabilities": {}, "initializationOptions": {"debounce_ms": 20},
    })
    client.notify("initialized", {})
    client.wait_for(lambda n: n["method"] == "dowse/status" and n["params"]["phase"] == "ready")
    deadline = time.time() + 30
    while not (workspace.index / "mcp.json").exists():
        assert time.time() < deadline, "no mcp.json"
        time.sleep(0.05)
    yield client
    client.close()
