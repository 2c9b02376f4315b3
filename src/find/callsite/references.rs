//! The reads of outputs in a file's expressions: `module.<name>.<output>` of the modules a
//! root module calls, `dependency.<name>.outputs.<output>` of the units a unit depends on. A file
//! is visited once for every name it reads.

use super::{CallSite, Place, Read, Unknown, code, snippet};
use crate::find::hcl::LineIndex;
use hcl_edit::Span;
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::{Attribute, Body};
use hcl_edit::visit::{self, Visit};

/// What expressions read, in the order written: each read or unknown with the module (or
/// dependency) name it concerns, `None` for every name (`module` used as a whole, a file that
/// cannot be read).
#[derive(Debug, Default)]
pub(super) struct Found {
    items: Vec<(Option<String>, Item)>,
}

/// A read, or something that hides reads.
#[derive(Debug)]
enum Item {
    Read(Read),
    Unknown(Unknown),
}

impl Found {
    /// Adds what concerns `name` to `site`, in order.
    pub(super) fn add_to(&self, name: &str, site: &mut CallSite) {
        for (of, item) in &self.items {
            if of.as_deref().is_some_and(|of| of != name) {
                continue;
            }
            match item {
                Item::Read(r) => site.reads.push(r.clone()),
                Item::Unknown(u) => site.unknowns.push(u.clone()),
            }
        }
    }

    /// Records something that hides every name's reads.
    pub(super) fn hidden(&mut self, unknown: Unknown) {
        self.items.push((None, Item::Unknown(unknown)));
    }

    /// Records the reads in `body` (of the file `file`, shown as written) of `module.<name>…`
    /// when `root` is `module`, of `dependency.<name>.outputs…` when it is `dependency`.
    pub(super) fn visit(&mut self, root: &str, text: &str, file: &str, body: &Body) {
        let mut refs = References {
            root,
            skip: usize::from(root == "dependency"),
            text,
            lines: LineIndex::new(text),
            file,
            found: self,
        };
        refs.visit_body(body);
    }
}

/// Finds `module.<name>…` (or `dependency.<name>.outputs…`) in expressions.
struct References<'a> {
    /// `module`, or `dependency` for Terragrunt's reads of another unit's outputs.
    root: &'a str,
    /// Operators between the name and the output (`outputs` for a dependency).
    skip: usize,
    text: &'a str,
    lines: LineIndex<'a>,
    file: &'a str,
    found: &'a mut Found,
}

impl Visit for References<'_> {
    fn visit_attr(&mut self, attr: &Attribute) {
        // `depends_on = [module.x]` orders resources; it reads no output.
        if attr.key.as_str() != "depends_on" {
            visit::visit_attr(self, attr);
        }
    }

    fn visit_traversal(&mut self, t: &hcl_edit::expr::Traversal) {
        let on_module = matches!(&t.expr, Expression::Variable(v) if v.as_str() == self.root);
        if !on_module {
            return visit::visit_traversal(self, t);
        }
        let name = match t.operators.first().map(|o| o.value()) {
            Some(TraversalOperator::GetAttr(n)) => Some(n.as_str()),
            _ => None,
        };
        let through =
            t.operators.iter().skip(1).take(self.skip).all(
                |o| matches!(o.value(), TraversalOperator::GetAttr(n) if n.as_str() == "outputs"),
            );
        if let Some(name) = name.filter(|_| through) {
            let at = Place {
                file: self.file.to_string(),
                line: self.lines.line(t.span().map_or(0, |s| s.start)),
            };
            // `module.x.out`, `module.x[0].out`, `module.x["k"].out`, `module.x[*].out`.
            let output = t
                .operators
                .iter()
                .skip(1 + self.skip)
                .find_map(|op| match op.value() {
                    TraversalOperator::GetAttr(out) => Some(Some(out.as_str().to_string())),
                    TraversalOperator::Index(_)
                    | TraversalOperator::LegacyIndex(_)
                    | TraversalOperator::FullSplat(_)
                    | TraversalOperator::AttrSplat(_) => None,
                });
            let text = snippet(self.text, t.span());
            let item = match output.flatten() {
                Some(output) => Item::Read(Read { output, text, at }),
                None => Item::Unknown(Unknown {
                    at,
                    what: format!("{} uses the module's outputs as a whole", code(&text)),
                    inputs: false,
                }),
            };
            self.found.items.push((Some(name.to_string()), item));
        }
        // Index expressions may hold references of their own.
        for op in &t.operators {
            self.visit_traversal_operator(op);
        }
    }

    fn visit_expr(&mut self, expr: &Expression) {
        // A bare `module` (e.g. `for_each = module`) would hide every read.
        if let Expression::Variable(v) = expr {
            if v.as_str() == "module" && self.root == "module" {
                let at = Place {
                    file: self.file.to_string(),
                    line: self.lines.line(expr.span().map_or(0, |s| s.start)),
                };
                self.found.hidden(Unknown {
                    at,
                    what: "`module` is used as a whole".into(),
                    inputs: false,
                });
            }
        }
        visit::visit_expr(self, expr);
    }
}

/// Whether `text` may read outputs through `root` (`module` or `dependency`), from its words
/// alone: the word `root` followed by a `.` (blank space and line breaks between are allowed, as
/// in expressions), or, for `module`, used bare (`for_each = module`, which hides every read):
/// followed on its line by nothing, a comment, an operator or a closing bracket. A block's label
/// (`module "x"`), a quote or another word after it (`the module's`, `this module calls`) is
/// neither. A test of the words only, so it may answer yes for a comment or a string, never no
/// for a read: a file it answers no for is not parsed.
pub(super) fn may_read(text: &str, root: &str) -> bool {
    let b = text.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_';
    memchr::memmem::find_iter(b, root.as_bytes()).any(|at| {
        // A `-` before the word may be a minus (`1-module.a.n`); after it, it continues a name.
        let word_start = at == 0 || !ident(b[at - 1]);
        let after = &b[at + root.len()..];
        let word_end = after.first().is_none_or(|&c| !ident(c) && c != b'-');
        if !(word_start && word_end) {
            return false;
        }
        let next = after.iter().copied().find(|c| !c.is_ascii_whitespace());
        let on_line = after.iter().copied().find(|&c| c != b' ' && c != b'\t');
        next == Some(b'.')
            || (root == "module"
                && on_line.is_none_or(|c| {
                    matches!(
                        c,
                        b'\r'
                            | b'\n'
                            | b'#'
                            | b'/'
                            | b','
                            | b')'
                            | b']'
                            | b'}'
                            | b'['
                            | b'?'
                            | b':'
                            | b'='
                            | b'!'
                            | b'&'
                            | b'|'
                            | b'+'
                            | b'-'
                            | b'*'
                            | b'%'
                            | b'<'
                            | b'>'
                    )
                }))
    })
}

#[cfg(test)]
mod tests {
    use super::may_read;

    #[test]
    fn only_files_whose_words_may_read_outputs_are_parsed() {
        for (text, root, may) in [
            ("x = dependency.vpc.outputs.id\n", "dependency", true),
            (
                "x = \"${dependency .vpc.outputs.id}\"\n",
                "dependency",
                true,
            ),
            ("dependency\n  .vpc", "dependency", true),
            (
                "dependency \"vpc\" {\n  config_path = \"../vpc\"\n}\n",
                "dependency",
                false,
            ),
            ("x = my_dependency.vpc\n", "dependency", false),
            ("x = dependency", "dependency", false),
            ("x = module.vpc.id\n", "module", true),
            ("x = \"${module.vpc.id}\"\n", "module", true),
            ("for_each = module\n", "module", true),
            ("x = [module]", "module", true),
            ("module", "module", true),
            ("module \"vpc\" {\n}\n# module \"old\"\n", "module", false),
            (
                "x = modules.vpc\nx = module-x.vpc\nx = sub_module.a\n",
                "module",
                false,
            ),
            ("x = 1-module.a.n\n", "module", true),
            ("x = 1-dependency.a.outputs.n\n", "dependency", true),
            ("x = module # all of them\n", "module", true),
            (
                "x = [module, 1]\ny = module == null ? 1 : 2\n",
                "module",
                true,
            ),
            ("x = (module\n  .vpc.id)\n", "module", true),
            ("module {\n}\n", "module", false),
            // Prose is no read: another word or a quote after it.
            (
                "# see the module's README\n# this module calls another\n",
                "module",
                false,
            ),
            (
                "description = \"the module for ${var.x}\"\n",
                "module",
                false,
            ),
            // Words in comments and strings may answer yes: the parser then decides.
            ("# calls the vpc module\n", "module", true),
            ("# see module.vpc\n", "module", true),
        ] {
            assert_eq!(may_read(text, root), may, "{root} in {text:?}");
        }
    }
}
