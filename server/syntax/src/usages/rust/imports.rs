//! `use` trees: every leaf is an import binding its last segment or its
//! alias, `use a::b::{self}` binds `b`, globs are kept as such, and `super`
//! inside an inline module climbs one level less.

use tree_sitter::Node;

use super::super::{Ctx, DefKind, Expr, Import, OccId, RefKind, Role, ScopeKind};
use super::{Walker, path_nodes, path_segments};

impl Walker {
    /// `use` trees: every leaf becomes an import binding its last segment
    /// (or its alias).
    pub(super) fn use_tree(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>, prefix: &[String]) {
        match node.kind() {
            "scoped_use_list" => {
                let mut path = prefix.to_vec();
                if let Some(p) = node.child_by_field_name("path") {
                    path.extend(path_segments(ctx, p));
                    self.use_path_refs(ctx, p);
                }
                if let Some(list) = node.child_by_field_name("list") {
                    self.use_tree(ctx, list, &path);
                }
            }
            "use_list" => {
                let mut cursor = node.walk();
                let items: Vec<Node<'_>> = node.named_children(&mut cursor).collect();
                for item in items {
                    self.use_tree(ctx, item, prefix);
                }
            }
            "use_as_clause" => {
                let Some(path) = node.child_by_field_name("path") else {
                    return;
                };
                let mut full = prefix.to_vec();
                full.extend(path_segments(ctx, path));
                let mut occurrences = self.use_path_refs(ctx, path);
                if let Some(alias) = node.child_by_field_name("alias") {
                    let occ = ctx.occurrence(alias, Role::Definition(DefKind::Import), None);
                    occurrences.push(occ);
                    let local_name = ctx.text(alias).to_owned();
                    ctx.bind(&local_name, occ);
                    self.push_import(ctx, local_name, full, false, occurrences);
                }
            }
            "use_wildcard" => {
                let mut path = prefix.to_vec();
                if let Some(p) = node.named_child(0) {
                    path.extend(path_segments(ctx, p));
                    self.use_path_refs(ctx, p);
                }
                self.push_import(ctx, "*".to_owned(), path, true, Vec::new());
            }
            "identifier" | "scoped_identifier" | "self" | "crate" | "super" => {
                let mut full = prefix.to_vec();
                full.extend(path_segments(ctx, node));
                let occurrences = self.use_path_refs(ctx, node);
                let Some(last) = full.last().cloned() else {
                    return;
                };
                // `use a::b::{self}` binds `b`.
                let local_name = if last == "self" {
                    full.iter().rev().nth(1).cloned().unwrap_or(last)
                } else {
                    last
                };
                if let Some(&bound) = occurrences.last() {
                    ctx.bind(&local_name, bound);
                }
                self.push_import(ctx, local_name, full, false, occurrences);
            }
            _ => {}
        }
    }

    /// The occurrences of a path in a `use`, each with its prefix.
    pub(super) fn use_path_refs(&mut self, ctx: &mut Ctx<'_>, node: Node<'_>) -> Vec<OccId> {
        let nodes = path_nodes(node);
        let segments: Vec<String> = nodes.iter().map(|n| ctx.text(*n).to_owned()).collect();
        let mut out = Vec::new();
        for (i, segment) in nodes.iter().enumerate() {
            if segment.kind() != "identifier" {
                continue;
            }
            let receiver = (i > 0).then(|| ctx.push_expr(Expr::path(&segments[..i])));
            out.push(ctx.occurrence(*segment, Role::Reference(RefKind::Import), receiver));
        }
        out
    }

    pub(super) fn push_import(
        &mut self,
        ctx: &mut Ctx<'_>,
        local_name: String,
        full: Vec<String>,
        glob: bool,
        occurrences: Vec<OccId>,
    ) {
        // `super` relative to an inline module climbs one level less.
        let mut module = full;
        let name = if glob { None } else { module.pop() };
        if self.inline_modules > 0 && module.first().is_some_and(|s| s == "super") {
            module.remove(0);
            if module.is_empty() {
                module.push("self".to_owned());
            }
        }
        let top_level = ctx.scope_stack.iter().all(|s| s.kind == ScopeKind::Module);
        ctx.out.imports.push(Import {
            local_name,
            module,
            name,
            glob,
            occurrences,
            top_level,
        });
    }
}
