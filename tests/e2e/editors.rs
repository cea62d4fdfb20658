//! The editor and agent configurations of editors/, and Helix as far as it
//! can be tried here (it is in no package registry):
//! editors/helix/languages.toml is valid and starts `dowse lsp` for every
//! language it lists, and the server answers the standard requests Helix
//! sends for Space S (`workspace/symbol`, re-sent as the user types) and
//! `gr` (`textDocument/references`) the way Helix's pickers need: a sentence
//! finds the right `render` first, its row names the class it belongs to,
//! names stay short so the container and path columns stay in view, and
//! every reference is listed.

use std::path::PathBuf;
use std::time::Duration;

use dowse_tests::TestWorkspace;
use dowse_tests::lsp::{LspClient, file_uri};
use serde_json::{Value, json};

/// Every ready-to-paste MCP client configuration parses and starts
/// `dowse mcp --path ...`.
#[test]
fn the_mcp_client_configs_start_dowse_mcp() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../editors/mcp");
    let mut checked = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let (command, args): (String, Vec<String>) = match path.extension().and_then(|e| e.to_str())
        {
            Some("json") => {
                let value: Value = serde_json::from_str(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                let server = ["mcpServers", "servers", "context_servers"]
                    .iter()
                    .find_map(|k| value.get(k))
                    .and_then(|servers| servers.get("dowse"))
                    .unwrap_or_else(|| panic!("{}: no dowse server", path.display()));
                let command = server.get("command").unwrap();
                let (command, args) = match command {
                    Value::Object(c) => (c["path"].clone(), c["args"].clone()),
                    other => (other.clone(), server["args"].clone()),
                };
                (
                    command.as_str().unwrap().to_owned(),
                    serde_json::from_value(args).unwrap(),
                )
            }
            Some("toml") => {
                let value: toml::Table = toml::from_str(&text).unwrap();
                let server = &value["mcp_servers"]["dowse"];
                (
                    server["command"].as_str().unwrap().to_owned(),
                    server["args"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|a| a.as_str().unwrap().to_owned())
                        .collect(),
                )
            }
            _ => continue,
        };
        assert_eq!(command, "dowse", "{}", path.display());
        assert_eq!(args[..2], ["mcp", "--path"], "{}", path.display());
        checked += 1;
    }
    assert!(checked >= 5, "{checked} configurations");
}

#[test]
fn the_languages_toml_starts_dowse_for_every_language_it_lists() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../editors/helix/languages.toml");
    let text = std::fs::read_to_string(&path).expect("editors/helix/languages.toml");
    let config: toml::Table = toml::from_str(&text).expect("valid TOML");
    let server = &config["language-server"]["dowse"];
    assert_eq!(server["command"].as_str(), Some("dowse"));
    assert_eq!(server["args"].as_array().unwrap()[0].as_str(), Some("lsp"));
    let languages = config["language"].as_array().expect("[[language]] tables");
    assert!(languages.len() >= 2);
    for language in languages {
        let servers: Vec<&str> = language["language-servers"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|s| s.as_str())
            .collect();
        assert!(servers.contains(&"dowse"), "{language:?}");
    }
}

const TEMPLATES: &str = r##""""Templates and widgets."""


class Template:
    """A text template with named placeholders."""

    def __init__(self, source):
        self.source = source

    def render(self, context):
        """Render the template, filling each placeholder from the context."""
        out = self.source
        for key, value in context.items():
            out = out.replace("{" + key + "}", str(value))
        return out


class Widget:
    """A box drawn on the terminal."""

    def render(self, width):
        """Draw the widget's border as wide as the terminal."""
        return "+" + "-" * (width - 2) + "+"


def greet(name):
    return Template("Hello {name}").render({"name": name})


def page(title, body):
    header = Template("# {title}").render({"title": title})
    return header + "\n" + Template("{body}").render({"body": body})
"##;

/// The capabilities Helix 25.07 sends that matter here.
fn helix_capabilities() -> Value {
    json!({
        "general": {"positionEncodings": ["utf-8", "utf-32", "utf-16"]},
        "window": {"workDoneProgress": true},
        "workspace": {"symbol": {"dynamicRegistration": false}, "workspaceFolders": true},
    })
}

#[test]
fn space_s_finds_the_right_render_by_a_sentence_and_gr_lists_every_reference() {
    let ws = TestWorkspace::empty();
    ws.write("app/templates.py", TEMPLATES);
    // A file whose chunks have no symbol: long first lines must not become
    // long names.
    ws.write(
        "docs/notes.md",
        format!(
            "# Notes\n\n{}\n",
            "A very long line of prose about rendering templates that goes on and on. ".repeat(4)
        ),
    );
    let mut client = LspClient::spawn(ws.command(&["lsp"]));
    let init = client.initialize(&ws.root, helix_capabilities(), Value::Null);
    assert_eq!(init["result"]["capabilities"]["positionEncoding"], "utf-8");
    let ready = client.wait_for(Duration::from_secs(60), |n| {
        n["method"] == "dowse/status" && n["params"]["phase"] == "ready"
    });
    assert!(ready.is_some());

    // Helix re-sends the query as the user types: every prefix answers.
    let mut symbols = Vec::new();
    for query in [
        "render",
        "render the template",
        "render the template with the context",
    ] {
        let response = client.request("workspace/symbol", json!({"query": query}));
        symbols = response["result"].as_array().cloned().unwrap_or_default();
        assert!(!symbols.is_empty(), "{query}: {response}");
    }
    let first = &symbols[0];
    assert_eq!(first["name"], "render", "{symbols:#?}");
    assert_eq!(first["containerName"], "class Template", "{symbols:#?}");
    assert_eq!(first["location"]["range"]["start"]["line"], 9);
    let widget = symbols
        .iter()
        .find(|s| s["containerName"] == "class Widget")
        .expect("the other render is listed too");
    assert_eq!(widget["name"], "render");
    for symbol in &symbols {
        let name = symbol["name"].as_str().unwrap();
        assert!(
            name.len() <= 32,
            "a long name widens Helix's name column: {name:?}"
        );
    }
    assert!(
        symbols.iter().any(|s| s["location"]["uri"]
            .as_str()
            .unwrap()
            .ends_with("docs/notes.md")),
        "{symbols:#?}"
    );

    // gr on `render` in `def render(self, context):` (line 10, 0-based 9).
    let uri = file_uri(&ws.path("app/templates.py"));
    client.notify(
        "textDocument/didOpen",
        json!({"textDocument": {"uri": uri, "languageId": "python", "version": 0, "text": TEMPLATES}}),
    );
    let references = client.request(
        "textDocument/references",
        json!({"textDocument": {"uri": uri}, "position": {"line": 9, "character": 8},
               "context": {"includeDeclaration": true}}),
    );
    let mut lines: Vec<u64> = references["result"]
        .as_array()
        .unwrap_or_else(|| panic!("{references}"))
        .iter()
        .map(|l| l["range"]["start"]["line"].as_u64().unwrap())
        .collect();
    lines.sort_unstable();
    // The definition and the three calls of Template.render; not
    // Widget.render (line 20), not the docstring's "Render".
    assert_eq!(lines, [9, 26, 30, 31], "{references:#}");
    client.shutdown();
}
