//! What a `module` block passes to its module (its arguments), and the reads of the module's
//! outputs in the `.tf` files of its folder.

use super::references::{Found, may_read};
use super::{CallSite, FileText, Passed, Place, Reader, Unknown, Wanted, cached, does_not_parse};
use crate::find::hcl::inputs::{self, literal_kind};
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
    /// The call site of the `module` block whose `source` is at `here`, in the file whose text
    /// is `read`. Only that block is read, for its own usage, and nothing is kept after.
    pub(super) fn module(&self, read: &FileText<'_>, here: Place, wanted: &Wanted) -> CallSite {
        let mut site = CallSite::default();
        let file = here.file.as_str();
        let (label, arguments) = match block_arguments(read, &here) {
            Ok(block) => block,
            Err(unknown) => {
                site.unknowns.push(unknown);
                return site;
            }
        };
        for (name, line, literal) in arguments {
            if META_ARGUMENTS.contains(&name.as_str()) || !wanted.input(&name) {
                continue;
            }
            let at = Place {
                file: file.to_string(),
                line,
            };
            site.passes.insert(name, Passed { at, literal });
        }
        if wanted.reads {
            let path = self.root.join(file);
            let dir = hcl::normalize(path.parent().unwrap_or(&self.root));
            let found = cached(&self.folders, dir.clone(), || self.folder_reads(&dir));
            found.add_to(&label, &mut site);
        }
        site
    }

    /// The reads of module outputs in the `.tf` files of `dir` (absolute), by module name.
    fn folder_reads(&self, dir: &Path) -> Found {
        // The kind of each entry as the folder lists it (no `stat`), but for symbolic links,
        // followed as a read would follow them.
        let regular = |e: &std::fs::DirEntry| match e.file_type() {
            Ok(t) if t.is_symlink() => e.path().is_file(),
            Ok(t) => t.is_file(),
            Err(_) => false,
        };
        let mut files: Vec<_> = std::fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(Result::ok)
                    .filter(|e| {
                        FileKind::of(Path::new(&e.file_name())) == Some(FileKind::Terraform)
                    })
                    .filter(regular)
                    .map(|e| e.path())
                    .collect()
            })
            .unwrap_or_default();
        files.sort();
        let mut found = Found::default();
        for path in files {
            // Shown (a path resolved on disk) only when something is found.
            let hidden = |what: &str| Unknown {
                at: Place {
                    file: self.shown(&path),
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
            found.visit("module", &text, &self.shown(&path), &body);
        }
        found
    }
}

/// An argument of a `module` block: its name, line and literal kind.
type Argument = (String, usize, Option<&'static str>);

/// The label and arguments of the `module` block whose `source` is on the line of `here`: read
/// without the parser when the block is written plainly (see [`inputs::module_block`]), else
/// from a parse of that block alone.
fn block_arguments(read: &FileText<'_>, here: &Place) -> Result<(String, Vec<Argument>), Unknown> {
    let text = &*read.text;
    let b = text.as_bytes();
    let line_start = match here.line {
        0 | 1 => Some(0),
        n => memchr::memchr_iter(b'\n', b).nth(n - 2).map(|at| at + 1),
    };
    let lines = LineIndex::new(text);
    let light = read
        .items()
        .and_then(|items| inputs::module_block_in(text, items, line_start.unwrap_or(0)));
    let light = light.filter(|block| {
        (block.arguments.iter()).any(|a| a.name == "source" && lines.line(a.at) == here.line)
    });
    if let Some(block) = light {
        let arguments = block.arguments.iter();
        let arguments = arguments.map(|a| (a.name.to_string(), lines.line(a.at), a.literal));
        return Ok((block.label.to_string(), arguments.collect()));
    }
    let body =
        hcl::parse_item_at(text, line_start.unwrap_or(0)).map_err(|e| does_not_parse(here, &e))?;
    let line = |span: Option<std::ops::Range<usize>>| lines.line(span.map_or(0, |s| s.start));
    // The block whose `source` is on the usage's line.
    let block = body.blocks().find(|b| {
        b.ident.as_str() == "module"
            && (b.body.get_attribute("source")).is_some_and(|a| line(a.value.span()) == here.line)
    });
    let Some(block) = block else {
        return Err(Unknown {
            at: here.clone(),
            what: "the module block was not found again in the file".into(),
            inputs: true,
        });
    };
    let arguments = block.body.attributes().map(|a| {
        let name = a.key.as_str().to_string();
        (name, line(a.span()), literal_kind(&a.value))
    });
    let label = block.labels.first().map_or("", |l| l.as_str());
    Ok((label.to_string(), arguments.collect()))
}
