//! A real Qdrant server for the team index tests: the binary named by
//! `DOWSE_QDRANT_BIN` (scripts/test installs `../shared/qdrant`), on
//! loopback ports of its own, with storage in a temporary directory; killed
//! when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// The Qdrant binary. Panics with the fix when it is not given: the tests
/// that need it fail rather than pass without it (scripts/test says which
/// it could not run when there is no Qdrant at all).
pub fn qdrant_bin() -> PathBuf {
    let bin = std::env::var_os("DOWSE_QDRANT_BIN")
        .map(PathBuf::from)
        .expect(
            "DOWSE_QDRANT_BIN is not set: point it at a Qdrant 1.18 server binary \
         (scripts/test installs ../shared/qdrant and sets it)",
        );
    assert!(
        bin.is_file(),
        "DOWSE_QDRANT_BIN={} is not a file",
        bin.display()
    );
    bin
}

/// A free loopback port (free when asked; the server binds it next).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// One Qdrant node.
pub struct QdrantNode {
    child: Option<Child>,
    pub http_port: u16,
    pub grpc_port: u16,
    pub p2p_port: u16,
    pub dir: PathBuf,
    args: Vec<String>,
}

impl QdrantNode {
    /// A single node, storage under `dir`.
    pub fn start(dir: &Path) -> QdrantNode {
        QdrantNode::launch(dir, None, false)
    }

    /// A node of a cluster: the first (`bootstrap` = None) or one that
    /// joins the node whose p2p port is `bootstrap`.
    pub fn start_in_cluster(dir: &Path, bootstrap: Option<u16>) -> QdrantNode {
        QdrantNode::launch(dir, bootstrap, true)
    }

    fn launch(dir: &Path, bootstrap: Option<u16>, cluster: bool) -> QdrantNode {
        std::fs::create_dir_all(dir).expect("node dir");
        let (http_port, grpc_port, p2p_port) = (free_port(), free_port(), free_port());
        let config = format!(
            "log_level: WARN\ntelemetry_disabled: true\nstorage:\n  storage_path: {storage}\n  \
             snapshots_path: {snapshots}\nservice:\n  host: 127.0.0.1\n  http_port: {http_port}\n  \
             grpc_port: {grpc_port}\ncluster:\n  enabled: {cluster}\n  p2p:\n    port: {p2p_port}\n",
            storage = dir.join("storage").display(),
            snapshots = dir.join("snapshots").display(),
        );
        let config_path = dir.join("config.yaml");
        std::fs::write(&config_path, config).expect("write config");
        let mut args = vec![
            "--config-path".to_owned(),
            config_path.display().to_string(),
        ];
        if cluster {
            args.push("--uri".into());
            args.push(format!("http://127.0.0.1:{p2p_port}"));
            if let Some(first) = bootstrap {
                args.push("--bootstrap".into());
                args.push(format!("http://127.0.0.1:{first}"));
            }
        }
        let mut node = QdrantNode {
            child: None,
            http_port,
            grpc_port,
            p2p_port,
            dir: dir.to_path_buf(),
            args,
        };
        node.restart();
        node
    }

    /// Starts the node (again, on the same ports and storage) and waits
    /// until it answers.
    pub fn restart(&mut self) {
        let log = std::fs::File::create(self.dir.join("qdrant.log")).expect("log");
        let child = Command::new(qdrant_bin())
            .args(&self.args)
            // Its relative paths (config/, ./static) resolve in its folder.
            .current_dir(&self.dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn()
            .expect("start qdrant");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if self.ready() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "qdrant did not start in 30 s; its log:\n{}",
            std::fs::read_to_string(self.dir.join("qdrant.log")).unwrap_or_default()
        );
    }

    /// `kill -9`.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The gRPC URL dowse talks to.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.grpc_port)
    }

    /// Whether the node says it is ready (`/readyz`), without panicking
    /// while it is not listening yet.
    fn ready(&self) -> bool {
        TcpStream::connect(("127.0.0.1", self.http_port)).is_ok()
            && crate::mcp::http(&self.rest_url("/readyz"), "GET", &[], "").0 == 200
    }

    fn rest_url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.http_port)
    }

    /// A REST call; the JSON answer (panics on a failed request).
    pub fn rest(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let (status, _, text) = crate::mcp::http(
            &self.rest_url(path),
            method,
            &[("Content-Type", "application/json")],
            &body,
        );
        assert!(status < 300, "{method} {path}: HTTP {status}: {text}");
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{method} {path}: {e}: {text}"))
    }

    /// Points of `collection` matching `filter` (exact count).
    pub fn count(&self, collection: &str, filter: Value) -> u64 {
        self.rest(
            "POST",
            &format!("/collections/{collection}/points/count"),
            Some(serde_json::json!({ "filter": filter, "exact": true })),
        )["result"]["count"]
            .as_u64()
            .expect("a count")
    }
}

impl Drop for QdrantNode {
    fn drop(&mut self) {
        self.kill();
    }
}
