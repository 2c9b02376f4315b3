//! Which units read a unit's outputs: the `dependency` blocks of the environment's units,
//! indexed once by the folder each leads to.

use super::env::Env;
use super::references::{Found, may_read};
use super::{CallSite, Place, Reader, Unknown};
use crate::find::hcl::{self, Keep, LineIndex};
use hcl_edit::Span;
use std::collections::HashMap;
use std::path::PathBuf;

/// Reads of Terragrunt units' outputs by other units (`dependency.<name>.outputs.<output>`),
/// indexed by the folder of the unit read: the environment's units are parsed once, whatever
/// the number of usages checked.
#[derive(Debug, Default)]
pub struct Dependents {
    by_dir: HashMap<PathBuf, CallSite>,
    unresolved: Vec<Unknown>,
}

impl Dependents {
    /// Indexes the `dependency` blocks of `units` (files relative to the working directory).
    pub fn index(reader: &Reader, units: &[String]) -> Dependents {
        use rayon::prelude::*;
        let found: Vec<Readers> = units
            .par_iter()
            .map(|file| readers_in(reader, file))
            .collect();
        let mut out = Dependents::default();
        for (sites, unresolved) in found {
            for (dir, site) in sites {
                let entry = out.by_dir.entry(dir).or_default();
                entry.reads.extend(site.reads);
                entry.unknowns.extend(site.unknowns);
            }
            out.unresolved.extend(unresolved);
        }
        out
    }

    /// Adds the reads of `unit`'s outputs by other units (and the `config_path`s that cannot be
    /// resolved, which may lead to it) to `site`.
    pub fn add_to(&self, reader: &Reader, unit: &str, site: &mut CallSite) {
        let root = reader.root();
        let dir = hcl::normalize(root.join(unit).parent().unwrap_or(root));
        if let Some(found) = self.by_dir.get(&dir) {
            site.reads.extend(found.reads.iter().cloned());
            site.unknowns.extend(found.unknowns.iter().cloned());
        }
        site.unknowns.extend(
            self.unresolved
                .iter()
                .filter(|u| u.at.file != unit)
                .cloned(),
        );
    }
}

/// What one unit's `dependency` blocks read, by the folder each leads to, and those whose
/// `config_path` cannot be resolved.
type Readers = (Vec<(PathBuf, CallSite)>, Vec<Unknown>);

/// The `dependency` blocks of one unit: what each reads, by the folder it leads to, and those
/// whose `config_path` cannot be resolved.
fn readers_in(reader: &Reader, file: &str) -> Readers {
    let mut sites = Vec::new();
    let mut unresolved = Vec::new();
    let path = reader.root().join(file);
    let Ok(read) = reader.text_of(file) else {
        return (sites, unresolved);
    };
    let text = &*read.text;
    // Most units read no outputs: skip them without parsing. A unit that reads none cannot read
    // this one's either, whatever its `config_path`s lead to.
    if !(may_read(text, "dependency") && text.contains("config_path")) {
        return (sites, unresolved);
    }
    // Only the items that mention `dependency` (and the locals they use) are parsed.
    let Ok(body) = hcl::parse_items(text, Keep::Dependencies) else {
        return (sites, unresolved);
    };
    let lines = LineIndex::new(text);
    let dir = path.parent().unwrap_or(reader.root()).to_path_buf();
    // Every read of `dependency.<name>.outputs…` in the unit, found in one visit.
    let mut found = Found::default();
    found.visit("dependency", text, file, &body);
    for block in body.blocks().filter(|b| b.ident.as_str() == "dependency") {
        let Some(name) = block.labels.first().map(|l| l.as_str().to_string()) else {
            continue;
        };
        let Some(config) = block.body.get_attribute("config_path") else {
            continue;
        };
        let exists = |p: &std::path::Path| reader.exists(p);
        let find_up = |from: &std::path::Path, name: &str| reader.find_up(from, name);
        let env = Env {
            text,
            body: &body,
            dir: &dir,
            exists: &exists,
            find_up: &find_up,
        };
        let target = match env.path(&config.value) {
            Ok(p) => p,
            Err(why) => {
                unresolved.push(Unknown {
                    at: Place {
                        file: file.to_string(),
                        line: lines.line(config.span().map_or(0, |s| s.start)),
                    },
                    what: format!(
                        "the `config_path` of dependency \"{name}\" cannot be resolved ({why}); it may read this unit's outputs"
                    ),
                    inputs: false,
                });
                continue;
            }
        };
        let mut site = CallSite::default();
        found.add_to(&name, &mut site);
        sites.push((target, site));
    }
    (sites, unresolved)
}
