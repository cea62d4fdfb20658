//! `dowse-mcp`: dowse for agents, over the Model Context Protocol. The only
//! crate that knows MCP types.
//!
//! The tools ([`tools`]) are a front end on the workspace host, like the
//! language server: an agent sees what the editor sees, unsaved edits
//! included, from the same index and the same model in memory. Two ways in:
//!
//! - **Inside `dowse lsp`**, a streamable-HTTP endpoint on 127.0.0.1
//!   ([`http`]): a bearer token (256 random bits per process, compared in
//!   constant time), `Origin` and `Host` checked, bodies capped, requests
//!   rate-limited per client and bounded in number. The URL, token and pid
//!   are written to `mcp.json` (mode 0600) in the index directory
//!   ([`discovery`]), and removed on exit.
//! - **`dowse mcp`**, on stdio ([`serve_stdio`]): it relays to the live
//!   `dowse lsp` of the workspace when `mcp.json` names one that answers
//!   ([`relay`]), else serves from a host of its own.

pub mod discovery;
pub mod http;
pub mod relay;
pub mod tools;

use dowse_host::Host;
use rmcp::ServiceExt;

pub use tools::DowseTools;

/// Serves MCP on stdin/stdout from `host` until the client leaves.
pub async fn serve_stdio(host: Host) -> Result<(), String> {
    let service = DowseTools::new(host)
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| format!("cannot start the MCP server: {e}"))?;
    service
        .waiting()
        .await
        .map_err(|e| format!("the MCP server stopped: {e}"))?;
    Ok(())
}
