//! Helpers for end-to-end tests: find the real `dowse` binary, copy a fixture
//! workspace into a temporary directory, and run commands against it with an
//! isolated index directory, cache and home.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `dowse` binary under test: `$DOWSE_BIN`, or the one cargo built next
/// to this test executable (`target/<profile>/dowse`).
pub mod lsp;
pub mod mcp;
pub mod qdrant;

pub fn dowse_bin() -> PathBuf {
    if let Some(bin) = std::env::var_os("DOWSE_BIN") {
        return PathBuf::from(bin);
    }
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/<test>-<hash> -> target/<profile>/dowse
    let profile_dir = exe
        .parent()
        .and_then(Path::parent)
        .expect("target/<profile>");
    let bin = profile_dir.join("dowse");
    assert!(
        bin.exists(),
        "{} does not exist: build it first with `cargo build -p dowse-cli` (the README's test command does)",
        bin.display()
    );
    bin
}

/// The real embedding model's directory: `$DOWSE_MODEL_DIR`, or where
/// `dowse model install` puts it for the user running the tests. Panics with
/// the fix when it is missing: tests that need the model never skip.
pub fn real_model_dir() -> PathBuf {
    let dir = std::env::var_os("DOWSE_MODEL_DIR").map_or_else(
        || {
            std::env::var_os("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))
                .expect("HOME or XDG_CACHE_HOME is set")
                .join("dowse/models/all-MiniLM-L6-v2-int8")
        },
        PathBuf::from,
    );
    assert!(
        dir.join("model.onnx").is_file(),
        "the real embedding model is not in {}: run `dowse model install` (scripts/test does)",
        dir.display()
    );
    dir
}

/// The repository's `tests/fixtures` directory.
pub fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures")
}

/// A workspace in a temporary directory, with its own index directory and an
/// isolated home and cache, so tests never touch the user's.
pub struct TestWorkspace {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub index_dir: PathBuf,
    pub home: PathBuf,
}

impl TestWorkspace {
    /// An empty workspace.
    pub fn empty() -> TestWorkspace {
        let dir = tempfile::tempdir().expect("temp dir");
        let base = dir.path().canonicalize().expect("canonical temp dir");
        let root = base.join("workspace");
        let index_dir = base.join("index");
        let home = base.join("home");
        std::fs::create_dir_all(&root).expect("create workspace");
        std::fs::create_dir_all(&home).expect("create home");
        TestWorkspace {
            _dir: dir,
            root,
            index_dir,
            home,
        }
    }

    /// A copy of `tests/fixtures/<name>`.
    pub fn fixture(name: &str) -> TestWorkspace {
        let ws = TestWorkspace::empty();
        copy_dir(&fixtures_dir().join(name), &ws.root);
        ws
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.root.join(rel)
    }

    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) {
        let path = self.path(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("create parent");
        std::fs::write(path, content).expect("write file");
    }

    /// `dowse ARGS` run in the workspace root with the isolated environment.
    pub fn dowse(&self, args: &[&str]) -> Run {
        let output = self.command(args).output().expect("run dowse");
        Run(output)
    }

    /// `dowse ARGS` with the real embedding model.
    pub fn dowse_with_model(&self, args: &[&str]) -> Run {
        let output = self
            .command(args)
            .env("DOWSE_MODEL_DIR", real_model_dir())
            .output()
            .expect("run dowse");
        Run(output)
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(dowse_bin());
        cmd.args(args)
            .current_dir(&self.root)
            .env("DOWSE_INDEX_DIR", &self.index_dir)
            .env("HOME", &self.home)
            .env("XDG_CACHE_HOME", self.home.join(".cache"))
            .env("XDG_CONFIG_HOME", self.home.join(".config"))
            .env_remove("DOWSE_LOG")
            .env_remove("DOWSE_MODEL_DIR")
            .env_remove("ORT_DYLIB_PATH");
        cmd
    }
}

/// The result of one `dowse` run.
pub struct Run(pub Output);

impl Run {
    pub fn code(&self) -> i32 {
        self.0.status.code().unwrap_or(-1)
    }

    pub fn stdout(&self) -> String {
        String::from_utf8_lossy(&self.0.stdout).into_owned()
    }

    pub fn stderr(&self) -> String {
        String::from_utf8_lossy(&self.0.stderr).into_owned()
    }

    /// Asserts success and parses stdout as JSON.
    pub fn json(&self) -> serde_json::Value {
        assert_eq!(self.code(), 0, "dowse failed:\n{}", self.stderr());
        serde_json::from_slice(&self.0.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}):\n{}", self.stdout()))
    }

    /// Asserts success.
    pub fn ok(&self) -> &Run {
        assert_eq!(
            self.code(),
            0,
            "dowse failed:\nstdout:\n{}\nstderr:\n{}",
            self.stdout(),
            self.stderr()
        );
        self
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read fixture dir") {
        let entry = entry.expect("fixture entry");
        let target = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).expect("copy fixture file");
        }
    }
}
