//! Macro calls: tree-sitter leaves a macro's arguments as a flat token
//! tree, so they are parsed again, in place, as call arguments (so that
//! `assert!(self.cmd.find(id)...)` has receivers like any other code), and
//! `{NAME}` captures in format strings count as references.

use tree_sitter::Node;

use super::super::{Ctx, RefKind, Role};
use super::Walker;
use crate::Language;

/// Macro arguments are re-parsed at most this many levels deep.
const MAX_MACRO_DEPTH: usize = 3;

impl Walker {
    pub(super) fn macro_call(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>) {
        if let Some(name) = node.child_by_field_name("macro") {
            if name.kind() == "identifier" {
                ctx.occurrence(name, Role::Reference(RefKind::Macro), None);
            } else {
                self.node(ctx, name);
            }
        }
        let mut cursor = node.walk();
        let Some(tokens) = node
            .named_children(&mut cursor)
            .find(|c| c.kind() == "token_tree")
        else {
            return;
        };
        self.format_captures(ctx, tokens);
        if self.macro_depth >= MAX_MACRO_DEPTH || tokens.end_byte() - tokens.start_byte() < 2 {
            return;
        }
        // Parse the arguments again, in place: the token tree `(a, b.c())`
        // read as an expression (a tuple, an array, a block), so that byte
        // offsets stay those of the file.
        let Some(tree) = reparse(ctx.body, tokens) else {
            return;
        };
        self.macro_depth += 1;
        ctx.in_macro += 1;
        self.children(ctx, tree.root_node());
        // Names the parse could not place (`checker!(a requires b)`).
        self.token_identifiers(ctx, tokens);
        ctx.in_macro -= 1;
        self.macro_depth -= 1;
    }

    /// Every identifier of a token tree not yet seen, as a plain name.
    pub(super) fn token_identifiers(&mut self, ctx: &mut Ctx<'_>, tokens: Node<'_>) {
        let mut cursor = tokens.walk();
        let children: Vec<Node<'_>> = tokens.named_children(&mut cursor).collect();
        for child in children {
            match child.kind() {
                "identifier" if !ctx.by_node.contains_key(&child.start_byte()) => {
                    self.name(ctx, child, RefKind::Name);
                }
                "token_tree" => self.token_identifiers(ctx, child),
                _ => {}
            }
        }
    }

    /// `{NAME}` and `{name:?}` in string literals of a macro call are reads
    /// of those names (inline format arguments).
    pub(super) fn format_captures(&mut self, ctx: &mut Ctx<'_>, tokens: Node<'_>) {
        let mut cursor = tokens.walk();
        let literals: Vec<Node<'_>> = tokens
            .named_children(&mut cursor)
            .filter(|c| c.kind() == "string_literal")
            .collect();
        for literal in literals {
            let text = ctx.text(literal);
            let base = literal.start_byte();
            let bytes = text.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                if bytes[i] == b'{' {
                    if bytes.get(i + 1) == Some(&b'{') {
                        i += 2;
                        continue;
                    }
                    let start = i + 1;
                    let mut end = start;
                    while end < bytes.len()
                        && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_')
                    {
                        end += 1;
                    }
                    let ident = &text[start..end];
                    let starts_like_name = ident
                        .chars()
                        .next()
                        .is_some_and(|c| c.is_alphabetic() || c == '_');
                    if starts_like_name && matches!(bytes.get(end), Some(b'}') | Some(b':')) {
                        let local = ctx.lookup(ident);
                        let occ = ctx.occurrence_at(
                            base + start..base + end,
                            Role::Reference(RefKind::Name),
                        );
                        ctx.out.occurrences[occ as usize].set_local(local);
                    }
                    i = end;
                } else {
                    i += 1;
                }
            }
        }
    }
}

/// Parses the text of a macro's token tree alone, keeping the file's byte
/// offsets.
fn reparse(body: &str, tokens: Node<'_>) -> Option<tree_sitter::Tree> {
    let mut parser = tree_sitter::Parser::new();
    parser.set_language(&Language::Rust.grammar()).ok()?;
    let range = tree_sitter::Range {
        start_byte: tokens.start_byte(),
        end_byte: tokens.end_byte(),
        start_point: tokens.start_position(),
        end_point: tokens.end_position(),
    };
    parser.set_included_ranges(&[range]).ok()?;
    parser.parse(body, None)
}
