//! What a Terragrunt unit passes to its module: its `inputs`, merged over those of its includes,
//! and the `extra_arguments` that pass variables from files Baton does not read.

use super::env::Env;
use super::{
    CallSite, FileText, Passed, Place, Reader, Unknown, Wanted, cached, code, does_not_parse,
    read_text, snippet,
};
use crate::find::hcl::inputs::{self, literal_kind};
use crate::find::hcl::{self, LineIndex};
use hcl_edit::Span;
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::{Attribute, Body};
use std::path::Path;

/// An included file, read once for every unit that includes it.
#[derive(Debug)]
pub(super) struct Included {
    /// The file as shown: relative to the working directory when inside it.
    shown: String,
    /// Its `inputs` (names and what hides them), or why it cannot be read.
    inputs: Result<CallSite, String>,
}

impl Reader {
    /// The call site of the unit whose text is `read` and whose usage is at `here`.
    pub(super) fn unit(&self, read: &FileText<'_>, here: Place, wanted: &Wanted) -> CallSite {
        let mut site = CallSite::default();
        let file = here.file.as_str();
        let path = self.root.join(file);
        let text = &*read.text;
        // The `inputs` read without the parser when they are written plainly; the parser then
        // reads only the includes (and `extra_arguments`), once for all units written alike.
        let light = read
            .items()
            .and_then(|items| inputs::unit_inputs_in(text, items));
        let shared = light.as_ref().map(|l| {
            let kept = &l.kept;
            let body = cached(&self.kept, kept.text.clone(), || {
                hcl::parse(&kept.text).ok()
            });
            (body, kept)
        });
        let own;
        let (body, body_text, kept) = match shared
            .as_ref()
            .and_then(|(b, k)| Some((b.as_ref().as_ref()?, *k)))
        {
            Some((body, kept)) => (body, kept.text.as_str(), Some(kept)),
            None => {
                own = match hcl::parse(text) {
                    Ok(body) => body,
                    Err(e) => {
                        site.unknowns.push(does_not_parse(&here, &e));
                        return site;
                    }
                };
                (&own, text, None)
            }
        };
        let lines = LineIndex::new(text);
        // A place in the unit, from an offset in the text parsed.
        let place = |offset: usize| Place {
            file: file.to_string(),
            line: lines.line(kept.map_or(offset, |k| k.original(offset))),
        };
        let dir = path.parent().unwrap_or(&self.root).to_path_buf();
        // Includes first: the unit's own inputs override theirs.
        self.includes(body_text, body, (&dir, wanted), &place, &mut site);
        match light.as_ref().map(|l| l.inputs.as_ref()) {
            Some(Some(entries)) => {
                for e in entries.iter().filter(|e| wanted.input(e.name)) {
                    // An offset in the unit's own text.
                    let at = Place {
                        file: file.to_string(),
                        line: lines.line(e.at),
                    };
                    let passed = Passed {
                        at,
                        literal: e.literal,
                    };
                    site.passes.insert(e.name.to_string(), passed);
                }
            }
            Some(None) => {}
            None => {
                if let Some(attr) = body.get_attribute("inputs") {
                    collect_inputs(attr, body_text, &place, &mut site);
                    site.passes.retain(|name, _| wanted.input(name));
                }
            }
        }
        extra_arguments(body, &place, &mut site);
        site
    }

    /// Merges the `inputs` of the unit's includes into `site`, in order.
    fn includes(
        &self,
        text: &str,
        body: &Body,
        (dir, wanted): (&Path, &Wanted),
        place: &dyn Fn(usize) -> Place,
        site: &mut CallSite,
    ) {
        for block in body.blocks().filter(|b| b.ident.as_str() == "include") {
            let name = block.labels.first().map_or("", |l| l.as_str());
            let at = place(block.span().map_or(0, |s| s.start));
            let strategy = block
                .body
                .get_attribute("merge_strategy")
                .and_then(|a| a.value.as_str().map(str::to_string));
            if strategy.as_deref() == Some("no_merge") {
                continue;
            }
            let Some(path_attr) = block.body.get_attribute("path") else {
                continue;
            };
            let exists = |p: &Path| self.exists(p);
            let find_up = |from: &Path, name: &str| self.find_up(from, name);
            let env = Env {
                text,
                body,
                dir,
                exists: &exists,
                find_up: &find_up,
            };
            let included = match env.path(&path_attr.value) {
                Ok(p) => p,
                Err(why) => {
                    site.unknowns.push(Unknown {
                        at,
                        what: format!("the path of include \"{name}\" cannot be resolved ({why}), so its `inputs` are not known"),
                        inputs: true,
                    });
                    continue;
                }
            };
            let read = cached(&self.includes, included.clone(), || {
                self.included(&included)
            });
            match &read.inputs {
                Ok(inputs) => {
                    let passes = inputs.passes.iter().filter(|(k, _)| wanted.input(k));
                    site.passes
                        .extend(passes.map(|(k, v)| (k.clone(), v.clone())));
                    site.unknowns.extend(inputs.unknowns.iter().cloned());
                }
                Err(why) => site.unknowns.push(Unknown {
                    at,
                    what: format!(
                        "the included file {} cannot be read ({why}), so its `inputs` are not known",
                        read.shown
                    ),
                    inputs: true,
                }),
            }
        }
    }

    /// Reads the `inputs` of the included file at `path` (absolute).
    fn included(&self, path: &Path) -> Included {
        let shown = self.shown(path);
        let inputs = read_text(path).map_err(|e| e.to_string()).and_then(|text| {
            let (text, _) = hcl::strip_bom(&text);
            let body =
                hcl::parse(text).map_err(|e| format!("{}:{}: {}", e.line, e.column, e.message))?;
            let mut site = CallSite::default();
            if let Some(attr) = body.get_attribute("inputs") {
                let lines = LineIndex::new(text);
                let at = |offset: usize| Place {
                    file: shown.clone(),
                    line: lines.line(offset),
                };
                collect_inputs(attr, text, &at, &mut site);
            }
            Ok(site)
        });
        Included { shown, inputs }
    }
}

/// `extra_arguments` may pass variables through var files.
fn extra_arguments(body: &Body, place: &dyn Fn(usize) -> Place, site: &mut CallSite) {
    for tf in body.blocks().filter(|b| b.ident.as_str() == "terraform") {
        for extra in tf
            .body
            .blocks()
            .filter(|b| b.ident.as_str() == "extra_arguments")
        {
            for var_files in ["required_var_files", "optional_var_files"] {
                if let Some(a) = extra.body.get_attribute(var_files) {
                    site.unknowns.push(Unknown {
                        at: place(a.span().map_or(0, |s| s.start)),
                        what: format!(
                            "`{var_files}` passes variables from files Baton does not read"
                        ),
                        inputs: true,
                    });
                }
            }
        }
    }
}

/// The names of an `inputs` value: an object literal, or `merge()` of object literals.
fn collect_inputs(
    attr: &Attribute,
    text: &str,
    place: &dyn Fn(usize) -> Place,
    site: &mut CallSite,
) {
    let mut objects = Vec::new();
    let mut hidden = Vec::new();
    match &attr.value {
        Expression::Object(_) => objects.push(&attr.value),
        Expression::FuncCall(call) if call.name.name.as_str() == "merge" => {
            for arg in call.args.iter() {
                match arg {
                    Expression::Object(_) => objects.push(arg),
                    other => hidden.push(other),
                }
            }
        }
        other => hidden.push(other),
    }
    for expr in hidden {
        site.unknowns.push(Unknown {
            at: place(expr.span().map_or(0, |s| s.start)),
            what: format!(
                "`inputs` takes values from {}, which Baton does not evaluate",
                code(&snippet(text, expr.span()))
            ),
            inputs: true,
        });
    }
    for expr in objects {
        let Expression::Object(object) = expr else {
            continue;
        };
        for (key, value) in object.iter() {
            let (name, offset) = match key {
                ObjectKey::Ident(i) => (i.as_str().to_string(), i.span().map_or(0, |s| s.start)),
                ObjectKey::Expression(Expression::String(s)) => {
                    (s.value().to_string(), s.span().map_or(0, |s| s.start))
                }
                ObjectKey::Expression(other) => {
                    site.unknowns.push(Unknown {
                        at: place(other.span().map_or(0, |s| s.start)),
                        what: format!(
                            "an input is named by the expression {}",
                            code(&snippet(text, other.span()))
                        ),
                        inputs: true,
                    });
                    continue;
                }
            };
            site.passes.insert(
                name,
                Passed {
                    at: place(offset),
                    literal: literal_kind(value.expr()),
                },
            );
        }
    }
}
