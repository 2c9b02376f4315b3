//! What a `module` block passes to its module (its arguments), and the reads of the module's
//! outputs in the `.tf` files of its folder.

use super::references::{Found, may_read};
use super::{CallSite, Passed, Place, Reader, Unknown, Wanted, cached, does_not_parse};
use crate::find::hcl::inputs::literal_kind;
use crate::find::hcl::{self, FileKind, LineIndex};
use hcl_edit::Span;
use std::path::Path;

/// The arguments of a `module` block that are not inputs of the module.
const META_ARGUMENTS: &[&str] = &[
    "source",
    "version",
    "providers",
    "count",
    "for_each",
    "depends_on",
];

impl Reader {
    /// The call site of the `module` block whose `source` is at `here`, in `file` (whose text
    /// is `text`). Only that block is parsed, for its own usage, and nothing is kept after.
    pub(super) fn module(&self, file: &str, text: &str, here: Place, wanted: &Wanted) -> CallSite {
        let mut site = CallSite::default();
        let b = text.as_bytes();
        let line_start = match here.line {
            0 | 1 => Some(0),
            n => memchr::memchr_iter(b'\n', b).nth(n - 2).map(|at| at + 1),
        };
        let body = match hcl::parse_item_at(text, line_start.unwrap_or(0)) {
            Ok(body) => body,
            Err(e) => {
                site.unknowns.push(does_not_parse(&here, &e));
                return site;
            }
        };
        let lines = LineIndex::new(text);
        let line = |span: Option<std::ops::Range<usize>>| lines.line(span.map_or(0, |s| s.start));
        // The block whose `source` is on the usage's line.
        let block = body.blocks().find(|b| {
            b.ident.as_str() == "module"
                && (b.body.get_attribute("source"))
                    .is_some_and(|a| line(a.value.span()) == here.line)
        });
        let Some(block) = block else {
            site.unknowns.push(Unknown {
                at: here,
                what: "the module block was not found again in the file".into(),
                inputs: true,
            });
            return site;
        };
        for a in block.body.attributes() {
            let name = a.key.as_str();
            if META_ARGUMENTS.contains(&name) || !wanted.input(name) {
                continue;
            }
            let at = Place {
                file: file.to_string(),
                line: line(a.span()),
            };
            let literal = literal_kind(&a.value);
            site.passes.insert(name.to_string(), Passed { at, literal });
        }
        if wanted.reads {
            let path = self.root.join(file);
            let dir = hcl::normalize(path.parent().unwrap_or(&self.root));
            let name = block.labels.first().map_or("", |l| l.as_str());
            let found = cached(&self.folders, dir.clone(), || self.folder_reads(&dir));
            found.add_to(name, &mut site);
        }
        site
    }

    /// The reads of module outputs in the `.tf` files of `dir` (absolute), by module name.
    fn folder_reads(&self, dir: &Path) -> Found {
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .map(|e| e.path())
                    .filter(|p| FileKind::of(p) == Some(FileKind::Terraform) && p.is_file())
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        let mut found = Found::default();
        for path in files {
            let shown = self.shown(&path);
            let hidden = |what: &str| Unknown {
                at: Place {
                    file: shown.clone(),
                    line: 1,
                },
                what: format!(
                    "the file {what}, so its references to the module's outputs are not known"
                ),
                inputs: false,
            };
            let Ok(text) = self.text_at(&path) else {
                found.hidden(hidden("cannot be read"));
                continue;
            };
            // A file whose words cannot read a module's outputs is not parsed: whether it
            // parses or not, it hides no read.
            if !may_read(&text, "module") {
                continue;
            }
            let Ok(body) = hcl::parse(&text) else {
                found.hidden(hidden("does not parse"));
                continue;
            };
            found.visit("module", &text, &shown, &body);
        }
        found
    }
}
