//! The MCP side of the binary: the endpoint `dowse lsp` serves beside the
//! editor (and its `mcp.json`), and `dowse mcp` on stdio, which relays to a
//! live language server of the workspace or serves from a host of its own.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use dowse_engine::{Config, ConfigSources};
use dowse_host::{Host, HostOptions};
use dowse_mcp::discovery::{self, Discovery};
use dowse_mcp::http::{self, HttpOptions};

/// The endpoint of a `dowse lsp`, once started: the index directories its
/// `mcp.json` files were written to.
#[derive(Clone, Default)]
pub struct Slot {
    written: Arc<Mutex<Vec<PathBuf>>>,
    /// The endpoint's URL and token, once it serves.
    served: Arc<Mutex<Option<(String, String)>>>,
}

impl Slot {
    /// The language server's hook: starts the endpoint on the host's
    /// runtime when the host exists (unless `mcp = false`).
    pub fn starter(&self) -> dowse_lsp::HostHook {
        let written = self.written.clone();
        let served = self.served.clone();
        Arc::new(move |host: &Host| {
            let Some(first) = host.roots().into_iter().next() else {
                return;
            };
            let settings = first.engine.config().mcp.clone();
            if !settings.enabled {
                return;
            }
            let (host, written, served) = (host.clone(), written.clone(), served.clone());
            tokio::spawn(async move {
                let options = HttpOptions {
                    bind: settings.bind,
                    port: settings.port,
                    allow_remote: settings.allow_remote,
                    ..HttpOptions::default()
                };
                let endpoint = match http::serve(host.clone(), options).await {
                    Ok(endpoint) => endpoint,
                    Err(err) => {
                        tracing::warn!("no MCP endpoint: {err}");
                        return;
                    }
                };
                tracing::info!("MCP endpoint at {}", endpoint.url);
                *served.lock().expect("slot lock") =
                    Some((endpoint.url.clone(), endpoint.token.clone()));
                let found = Discovery {
                    url: endpoint.url.clone(),
                    token: endpoint.token.clone(),
                    pid: std::process::id(),
                };
                for root in host.roots() {
                    let dir = root.engine.index_dir().root().to_path_buf();
                    match discovery::write(&dir, &found) {
                        Ok(_) => written.lock().expect("slot lock").push(dir),
                        Err(err) => tracing::warn!(
                            "cannot write {} in {}: {err}",
                            discovery::FILE,
                            dir.display()
                        ),
                    }
                }
                // Dropping the handle leaves the server running for the
                // rest of the process.
                drop(endpoint);
            });
        })
    }

    /// The language server's `dowse/mcpEndpoint`: the URL and token, once
    /// the endpoint serves.
    pub fn reader(&self) -> dowse_lsp::EndpointReader {
        let served = self.served.clone();
        Arc::new(move || {
            served
                .lock()
                .expect("slot lock")
                .as_ref()
                .map(|(url, token)| serde_json::json!({"url": url, "token": token}))
        })
    }

    /// Removes the `mcp.json` files this process wrote.
    pub fn stopper(&self) -> Arc<dyn Fn() + Send + Sync> {
        let written = self.written.clone();
        Arc::new(move || {
            for dir in written.lock().expect("slot lock").drain(..) {
                discovery::remove(&dir);
            }
        })
    }
}

/// `dowse mcp`: relays to the live `dowse lsp` of the workspace when
/// `mcp.json` names one that answers, else serves from a host of its own
/// (read-only when another process holds the index).
pub async fn serve_stdio(
    root: PathBuf,
    config: Config,
    sources: ConfigSources,
) -> anyhow::Result<()> {
    let index_dir = config
        .index_dir
        .clone()
        .map_or_else(|| dowse_engine::default_index_dir(&root), Ok)?;
    // The relay hands the agent's whole conversation over: only to a live
    // dowse of this user on loopback that proves it knows the token.
    if index_dir.join(discovery::FILE).exists() {
        let trusted = match discovery::trusted(&index_dir) {
            Ok(found) => dowse_mcp::relay::verify(&found).await.map(|()| found),
            Err(why) => Err(why),
        };
        match trusted {
            Ok(found) => {
                tracing::info!("relaying to the language server at {}", found.url);
                return dowse_mcp::relay::relay(found)
                    .await
                    .map_err(anyhow::Error::msg);
            }
            Err(why) => crate::output::note(&format!(
                "not relaying to the language server named in {}: {why}; serving from an index \
                 of this process's own",
                index_dir.join(discovery::FILE).display()
            )),
        }
    }
    let options = HostOptions {
        sources,
        ..HostOptions::default()
    };
    let host = tokio::task::spawn_blocking(move || Host::start(&[root], options))
        .await?
        .map_err(anyhow::Error::msg)?;
    for error in host.take_errors() {
        tracing::warn!("{error}");
    }
    let served = dowse_mcp::serve_stdio(host.clone()).await;
    let timeout = config.shutdown_timeout;
    tokio::task::spawn_blocking(move || host.shutdown(timeout.max(Duration::from_millis(100))))
        .await?;
    served.map_err(anyhow::Error::msg)
}
