//! What one usage of a module hands it and takes from it: the input names a Terragrunt unit
//! passes (its `inputs`, with those merged from its includes) or a `module` block's arguments,
//! and the `module.<name>.<output>` references of the same folder's `.tf` files. Whatever hides a
//! name from a syntax-only reading (an `inputs` built by an expression, a module used as a whole)
//! is reported as unknown, never guessed.

use crate::find::hcl::{self, FileKind, LineIndex, UsageKind};
use crate::find::scan::MAX_FILE_BYTES;
use hcl_edit::Span;
use hcl_edit::expr::{Expression, ObjectKey, TraversalOperator};
use hcl_edit::structure::{Attribute, Body};
use hcl_edit::visit::{self, Visit};
use std::collections::{BTreeMap, HashMap};
use std::path::{Component, Path, PathBuf};

/// How deep an include path may refer to locals before Baton gives up.
const MAX_DEPTH: usize = 8;

/// The arguments of a `module` block that are not inputs of the module.
const META_ARGUMENTS: &[&str] = &[
    "source",
    "version",
    "providers",
    "count",
    "for_each",
    "depends_on",
];

/// A place in the environment: a file relative to the working directory and a line.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Place {
    /// File relative to the working directory (`/`-separated), or an absolute path for a file
    /// outside it.
    pub file: String,
    /// 1-based line.
    pub line: usize,
}

/// An input the usage passes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passed {
    /// Where the name is written (the include's file for an input merged from an include).
    pub at: Place,
    /// The value's kind when it is a literal (`string`, `number`, `bool`, `list`, `object`,
    /// `null`), for type checks.
    pub literal: Option<&'static str>,
}

/// A read of one of the module's outputs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Read {
    /// The output's name.
    pub output: String,
    /// The reference as written (`module.vpc.nat_ids`).
    pub text: String,
    /// Where.
    pub at: Place,
}

/// Something that hides inputs or output reads from Baton.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unknown {
    /// Where.
    pub at: Place,
    /// What Baton could not read, as a sentence fragment (`inputs are built by …`).
    pub what: String,
    /// True when it may hide inputs; false when it may hide output reads.
    pub inputs: bool,
}

/// What a usage passes to its module and reads from it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallSite {
    /// Inputs passed, by name: the place that wins (the unit's own over an include's).
    pub passes: BTreeMap<String, Passed>,
    /// Reads of the module's outputs.
    pub reads: Vec<Read>,
    /// What could not be read.
    pub unknowns: Vec<Unknown>,
}

impl CallSite {
    /// True when every input passed is known (nothing hides one).
    pub fn inputs_complete(&self) -> bool {
        !self.unknowns.iter().any(|u| u.inputs)
    }
}

/// Reads the call site of the usage at `file:line` (relative to `root`, the working directory).
pub fn read(root: &Path, file: &str, line: usize, kind: UsageKind) -> CallSite {
    let mut site = CallSite::default();
    let path = root.join(file);
    let here = Place {
        file: file.to_string(),
        line,
    };
    let text = match read_text(&path) {
        Ok(t) => t,
        Err(e) => {
            site.unknowns.push(Unknown {
                at: here,
                what: format!("the file cannot be read ({e})"),
                inputs: true,
            });
            return site;
        }
    };
    let (text, _) = hcl::strip_bom(&text);
    let body = match hcl::parse(text) {
        Ok(b) => b,
        Err(e) => {
            site.unknowns.push(Unknown {
                at: here,
                what: format!(
                    "the file does not parse ({}:{}: {})",
                    e.line, e.column, e.message
                ),
                inputs: true,
            });
            return site;
        }
    };
    match kind {
        UsageKind::Terragrunt => terragrunt(root, &path, file, text, &body, &mut site),
        UsageKind::Module => module(root, &path, file, text, &body, line, &mut site),
        UsageKind::Unit | UsageKind::Stack => site.unknowns.push(Unknown {
            at: here,
            what: format!(
                "a stack `{}` passes `values` to the unit's own configuration, which Baton does not follow",
                kind.as_str()
            ),
            inputs: true,
        }),
    }
    site
}

/// A unit's `inputs`, merged over those of its includes.
fn terragrunt(root: &Path, path: &Path, file: &str, text: &str, body: &Body, site: &mut CallSite) {
    let lines = LineIndex::new(text);
    let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    let place = |offset: usize| Place {
        file: file.to_string(),
        line: lines.line(offset),
    };
    // Includes first: the unit's own inputs override theirs.
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
        let env = Env {
            text,
            body,
            dir: &dir,
        };
        let included = match env.eval(&path_attr.value, 0) {
            Ok(p) => {
                let p = PathBuf::from(p);
                normalize(&if p.is_absolute() { p } else { dir.join(p) })
            }
            Err(why) => {
                site.unknowns.push(Unknown {
                    at,
                    what: format!("the path of include \"{name}\" cannot be resolved ({why}), so its `inputs` are not known"),
                    inputs: true,
                });
                continue;
            }
        };
        let shown = shown_path(root, &included);
        let loaded = read_text(&included)
            .map_err(|e| e.to_string())
            .and_then(|t| {
                let (t, _) = hcl::strip_bom(&t);
                let t = t.to_string();
                hcl::parse(&t)
                    .map(|b| (t.clone(), b))
                    .map_err(|e| format!("{}:{}: {}", e.line, e.column, e.message))
            });
        match loaded {
            Ok((inc_text, inc_body)) => {
                let inc_lines = LineIndex::new(&inc_text);
                if let Some(attr) = inc_body.get_attribute("inputs") {
                    let at = |offset: usize| Place {
                        file: shown.clone(),
                        line: inc_lines.line(offset),
                    };
                    collect_inputs(attr, &inc_text, &at, site);
                }
            }
            Err(why) => site.unknowns.push(Unknown {
                at,
                what: format!("the included file {shown} cannot be read ({why}), so its `inputs` are not known"),
                inputs: true,
            }),
        }
    }
    if let Some(attr) = body.get_attribute("inputs") {
        collect_inputs(attr, text, &place, site);
    }
    // `extra_arguments` may pass variables through var files.
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

/// A `module` block's arguments, and the reads of its outputs in the folder's `.tf` files.
fn module(
    root: &Path,
    path: &Path,
    file: &str,
    text: &str,
    body: &Body,
    line: usize,
    site: &mut CallSite,
) {
    let lines = LineIndex::new(text);
    // The block whose `source` is on the usage's line.
    let block = body.blocks().find(|b| {
        b.ident.as_str() == "module"
            && b.body
                .get_attribute("source")
                .and_then(|a| a.value.span())
                .is_some_and(|s| lines.line(s.start) == line)
    });
    let Some(block) = block else {
        site.unknowns.push(Unknown {
            at: Place {
                file: file.to_string(),
                line,
            },
            what: "the module block was not found again in the file".into(),
            inputs: true,
        });
        return;
    };
    let name = block.labels.first().map_or("", |l| l.as_str()).to_string();
    for attr in block.body.attributes() {
        let key = attr.key.as_str();
        if META_ARGUMENTS.contains(&key) {
            continue;
        }
        site.passes.insert(
            key.to_string(),
            Passed {
                at: Place {
                    file: file.to_string(),
                    line: lines.line(attr.span().map_or(0, |s| s.start)),
                },
                literal: literal_kind(&attr.value),
            },
        );
    }
    // Every `.tf` file of the folder may read `module.<name>.<output>`.
    let dir = path.parent().unwrap_or(Path::new(""));
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| FileKind::of(p) == Some(FileKind::Terraform) && p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    for other in files {
        let shown = shown_path(root, &other);
        let Ok(other_text) = read_text(&other) else {
            site.unknowns.push(Unknown {
                at: Place {
                    file: shown,
                    line: 1,
                },
                what: "the file cannot be read, so its references to the module's outputs are not known".into(),
                inputs: false,
            });
            continue;
        };
        let (other_text, _) = hcl::strip_bom(&other_text);
        let Ok(other_body) = hcl::parse(other_text) else {
            site.unknowns.push(Unknown {
                at: Place {
                    file: shown,
                    line: 1,
                },
                what: "the file does not parse, so its references to the module's outputs are not known".into(),
                inputs: false,
            });
            continue;
        };
        let mut refs = References {
            root: "module",
            module: &name,
            skip: 0,
            text: other_text,
            lines: LineIndex::new(other_text),
            file: &shown,
            site,
        };
        refs.visit_body(&other_body);
    }
}

/// Reads of Terragrunt units' outputs by other units (`dependency.<name>.outputs.<output>`),
/// indexed by the folder of the unit read: the environment's units are parsed once, whatever
/// the number of usages checked.
#[derive(Debug, Default)]
pub struct Dependents {
    by_dir: HashMap<PathBuf, CallSite>,
    unresolved: Vec<Unknown>,
}

impl Dependents {
    /// Indexes the `dependency` blocks of `units` (files relative to `root`).
    pub fn index(root: &Path, units: &[String]) -> Dependents {
        use rayon::prelude::*;
        let found: Vec<Readers> = units
            .par_iter()
            .map(|file| readers_in(root, file))
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
    pub fn add_to(&self, root: &Path, unit: &str, site: &mut CallSite) {
        let dir = normalize(root.join(unit).parent().unwrap_or(root));
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
fn readers_in(root: &Path, file: &str) -> Readers {
    let mut sites = Vec::new();
    let mut unresolved = Vec::new();
    let path = root.join(file);
    let Ok(text) = read_text(&path) else {
        return (sites, unresolved);
    };
    // Most units read no outputs: skip them without parsing.
    if !(text.contains("dependency") && text.contains("config_path")) {
        return (sites, unresolved);
    }
    let (text, _) = hcl::strip_bom(&text);
    let Ok(body) = hcl::parse(text) else {
        return (sites, unresolved);
    };
    let lines = LineIndex::new(text);
    let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    for block in body.blocks().filter(|b| b.ident.as_str() == "dependency") {
        let Some(name) = block.labels.first().map(|l| l.as_str().to_string()) else {
            continue;
        };
        let Some(config) = block.body.get_attribute("config_path") else {
            continue;
        };
        let env = Env {
            text,
            body: &body,
            dir: &dir,
        };
        let target = match env.eval(&config.value, 0) {
            Ok(p) => {
                let p = PathBuf::from(p);
                normalize(&if p.is_absolute() { p } else { dir.join(p) })
            }
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
        let mut refs = References {
            root: "dependency",
            module: &name,
            skip: 1,
            text,
            lines: LineIndex::new(text),
            file,
            site: &mut site,
        };
        refs.visit_body(&body);
        sites.push((target, site));
    }
    (sites, unresolved)
}

/// Finds `module.<name>…` (or `dependency.<name>.outputs…`) in expressions.
struct References<'a> {
    /// `module`, or `dependency` for Terragrunt's reads of another unit's outputs.
    root: &'a str,
    module: &'a str,
    /// Operators between the name and the output (`outputs` for a dependency).
    skip: usize,
    text: &'a str,
    lines: LineIndex<'a>,
    file: &'a str,
    site: &'a mut CallSite,
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
        let is_ours = matches!(t.operators.first().map(|o| o.value()),
                Some(TraversalOperator::GetAttr(n)) if n.as_str() == self.module)
            && t.operators.iter().skip(1).take(self.skip).all(
                |o| matches!(o.value(), TraversalOperator::GetAttr(n) if n.as_str() == "outputs"),
            );
        if is_ours {
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
            match output.flatten() {
                Some(output) => self.site.reads.push(Read { output, text, at }),
                None => self.site.unknowns.push(Unknown {
                    at,
                    what: format!("{} uses the module's outputs as a whole", code(&text)),
                    inputs: false,
                }),
            }
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
                self.site.unknowns.push(Unknown {
                    at,
                    what: "`module` is used as a whole".into(),
                    inputs: false,
                });
            }
        }
        visit::visit_expr(self, expr);
    }
}

/// The kind of a literal value, for type checks.
fn literal_kind(expr: &Expression) -> Option<&'static str> {
    match expr {
        Expression::String(_) => Some("string"),
        Expression::Number(_) => Some("number"),
        Expression::Bool(_) => Some("bool"),
        Expression::Null(_) => Some("null"),
        Expression::Array(_) => Some("list"),
        Expression::Object(_) => Some("object"),
        _ => None,
    }
}

/// Whether a value of literal kind `kind` cannot be of the declared type `ty` (compact form).
/// Only clear mismatches count; anything uncertain is `false`.
pub fn mismatch(kind: &str, ty: &str) -> bool {
    let head = ty.split('(').next().unwrap_or(ty);
    let expected = match head {
        "string" => "string",
        "number" => "number",
        "bool" => "bool",
        "list" | "set" | "tuple" => "list",
        "map" | "object" => "object",
        _ => return false,
    };
    // Terraform converts numbers and bools to strings and back where it can.
    let convertible = matches!(
        (kind, expected),
        ("number" | "bool", "string") | ("string", "number" | "bool")
    );
    kind != "null" && kind != expected && !convertible
}

/// An include path: strings, templates, `local.x` of the unit and Terragrunt's path functions.
struct Env<'a> {
    text: &'a str,
    body: &'a Body,
    dir: &'a Path,
}

impl Env<'_> {
    fn eval(&self, expr: &Expression, depth: usize) -> Result<String, String> {
        if depth > MAX_DEPTH {
            return Err("locals refer to each other too deeply".into());
        }
        match expr {
            Expression::String(s) => Ok(s.value().to_string()),
            Expression::StringTemplate(t) => {
                let mut out = String::new();
                for el in t.iter() {
                    match el {
                        hcl_edit::template::Element::Literal(l) => out.push_str(l.value()),
                        hcl_edit::template::Element::Interpolation(i) => {
                            out.push_str(&self.eval(&i.expr, depth + 1)?)
                        }
                        hcl_edit::template::Element::Directive(_) => {
                            return Err("template directives are not evaluated".into());
                        }
                    }
                }
                Ok(out)
            }
            Expression::Parenthesis(p) => self.eval(p.inner(), depth + 1),
            Expression::Traversal(t) => {
                let local = match (&t.expr, t.operators.as_slice()) {
                    (Expression::Variable(v), [op]) if v.as_str() == "local" => match op.value() {
                        TraversalOperator::GetAttr(name) => Some(name.as_str()),
                        _ => None,
                    },
                    _ => None,
                };
                let name = local.ok_or_else(|| code(&snippet(self.text, t.span())))?;
                let value = self
                    .body
                    .blocks()
                    .filter(|b| b.ident.as_str() == "locals")
                    .find_map(|b| b.body.get_attribute(name))
                    .ok_or_else(|| format!("local.{name} is not defined"))?;
                self.eval(&value.value, depth + 1)
            }
            Expression::FuncCall(call) => {
                let args: Vec<&Expression> = call.args.iter().collect();
                let arg = |i: usize| -> Result<String, String> {
                    args.get(i)
                        .map(|e| self.eval(e, depth + 1))
                        .unwrap_or_else(|| Err("a missing argument".into()))
                };
                match call.name.name.as_str() {
                    "find_in_parent_folders" => {
                        let wanted = if args.is_empty() {
                            "terragrunt.hcl".to_string()
                        } else {
                            arg(0)?
                        };
                        self.dir
                            .ancestors()
                            .skip(1)
                            .take(64)
                            .map(|d| d.join(&wanted))
                            .find(|p| p.exists())
                            .map(|p| p.to_string_lossy().into_owned())
                            .ok_or_else(|| {
                                format!("find_in_parent_folders(\"{wanted}\") finds nothing")
                            })
                    }
                    "dirname" => Ok(Path::new(&arg(0)?)
                        .parent()
                        .unwrap_or(Path::new(""))
                        .to_string_lossy()
                        .into_owned()),
                    "get_terragrunt_dir" | "get_original_terragrunt_dir" => {
                        Ok(self.dir.to_string_lossy().into_owned())
                    }
                    "get_repo_root" => self
                        .dir
                        .ancestors()
                        .find(|d| d.join(".git").exists())
                        .map(|d| d.to_string_lossy().into_owned())
                        .ok_or_else(|| "get_repo_root() finds no git repository".into()),
                    other => Err(format!("{other}() is not evaluated")),
                }
            }
            other => Err(code(&snippet(self.text, other.span()))),
        }
    }
}

/// Reads a regular file of at most [`MAX_FILE_BYTES`] as UTF-8.
fn read_text(path: &Path) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind, Read as _};
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "not a regular file of at most 8 MiB",
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(MAX_FILE_BYTES)
        .read_to_end(&mut bytes)?;
    String::from_utf8(bytes).map_err(|_| Error::new(ErrorKind::InvalidData, "not UTF-8 text"))
}

/// A path as shown: relative to the working directory when inside it.
fn shown_path(root: &Path, path: &Path) -> String {
    let root = std::fs::canonicalize(root).unwrap_or_else(|_| root.to_path_buf());
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| normalize(path));
    match path.strip_prefix(&root) {
        Ok(rel) => rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        Err(_) => path.display().to_string(),
    }
}

/// Removes `.` and `..` components without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            Component::CurDir => {}
            c => out.push(c),
        }
    }
    out
}

/// A markdown code span that holds `text` whatever it contains (backticks, line breaks): text
/// read from files is shown through it.
pub fn code(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        if c == '`' {
            run += 1;
            longest = longest.max(run);
        } else {
            run = 0;
        }
    }
    if longest == 0 {
        format!("`{text}`")
    } else {
        let fence = "`".repeat(longest + 1);
        format!("{fence} {text} {fence}")
    }
}

/// The text of a span, shortened for messages.
fn snippet(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    let s: String = span
        .and_then(|r| text.get(r))
        .unwrap_or("?")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (rel, text) in files {
            let p = dir.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        }
        dir
    }

    const COMMON: &str = "inputs = {\n  enable_classiclink = true\n  name = \"from-common\"\n}\n";

    #[test]
    fn terragrunt_inputs_merge_over_includes() {
        let unit = r#"include "root" {
  path = find_in_parent_folders("root.hcl")
}
include "envcommon" {
  path = "${dirname(find_in_parent_folders("root.hcl"))}/_envcommon/vpc.hcl"
}
terraform {
  source = "github.com/acme/mods//modules/vpc?ref=v1.0.0"
}
inputs = {
  name       = "dev"
  "azs"      = "us-east-1a"
  cidr_block = local.cidr
}
"#;
        let dir = tree(&[
            ("root.hcl", "locals {}\n"),
            ("_envcommon/vpc.hcl", COMMON),
            ("dev/vpc/terragrunt.hcl", unit),
        ]);
        let site = read(
            dir.path(),
            "dev/vpc/terragrunt.hcl",
            8,
            UsageKind::Terragrunt,
        );
        assert!(site.unknowns.is_empty(), "{:?}", site.unknowns);
        assert_eq!(
            site.passes.keys().collect::<Vec<_>>(),
            ["azs", "cidr_block", "enable_classiclink", "name"]
        );
        assert_eq!(
            site.passes["enable_classiclink"].at,
            Place {
                file: "_envcommon/vpc.hcl".into(),
                line: 2
            }
        );
        assert_eq!(site.passes["name"].at.file, "dev/vpc/terragrunt.hcl");
        assert_eq!(site.passes["name"].at.line, 11, "the unit's own value wins");
        assert_eq!(site.passes["azs"].literal, Some("string"));
        assert_eq!(site.passes["cidr_block"].literal, None);
    }

    #[test]
    fn no_merge_includes_and_hidden_inputs() {
        let unit = r#"include {
  path = "../common.hcl"
  merge_strategy = "no_merge"
}
include "x" {
  path = get_env("X")
}
locals {
  common = {}
}
inputs = merge(local.common, { a = 1 })
"#;
        let dir = tree(&[("common.hcl", COMMON), ("dev/terragrunt.hcl", unit)]);
        let site = read(dir.path(), "dev/terragrunt.hcl", 1, UsageKind::Terragrunt);
        assert_eq!(site.passes.keys().collect::<Vec<_>>(), ["a"]);
        assert!(!site.inputs_complete());
        let whats: Vec<&str> = site.unknowns.iter().map(|u| u.what.as_str()).collect();
        assert!(whats[0].contains("include \"x\""), "{whats:?}");
        assert!(whats[1].contains("`local.common`"), "{whats:?}");
        assert_eq!(site.unknowns[1].at.line, 11);
    }

    #[test]
    fn module_arguments_and_output_reads_in_the_folder() {
        let main = r#"module "vpc" {
  source  = "github.com/acme/mods//modules/vpc?ref=v1.0.0"
  count   = 1
  name    = "dev"
  enable_classiclink = true
}
module "other" {
  source = "./x"
  ids = module.vpc[0].nat_ids
  depends_on = [module.vpc]
}
"#;
        let outputs = r#"output "ids" {
  value = module.vpc[0].vpc_id
}
output "all" {
  value = module.vpc
}
locals {
  x = [for v in module.vpc[*].private_subnets : v]
}
"#;
        let dir = tree(&[
            ("dev/root/main.tf", main),
            ("dev/root/outputs.tf", outputs),
            ("dev/root/notes.md", "module.vpc.gone"),
        ]);
        let site = read(dir.path(), "dev/root/main.tf", 2, UsageKind::Module);
        assert_eq!(
            site.passes.keys().collect::<Vec<_>>(),
            ["enable_classiclink", "name"]
        );
        assert_eq!(site.passes["enable_classiclink"].at.line, 5);
        let reads: Vec<(String, String, usize)> = site
            .reads
            .iter()
            .map(|r| (r.output.clone(), r.at.file.clone(), r.at.line))
            .collect();
        assert_eq!(
            reads,
            vec![
                ("nat_ids".into(), "dev/root/main.tf".into(), 9),
                ("vpc_id".into(), "dev/root/outputs.tf".into(), 2),
                ("private_subnets".into(), "dev/root/outputs.tf".into(), 8),
            ]
        );
        assert_eq!(site.unknowns.len(), 1, "{:?}", site.unknowns);
        assert!(site.unknowns[0].what.contains("as a whole"));
        assert!(!site.unknowns[0].inputs);
        assert!(site.inputs_complete());
    }

    #[test]
    fn other_units_read_outputs_through_dependency_blocks() {
        let reader = r#"dependency "vpc" {
  config_path = "../vpc"
}
dependency "other" {
  config_path = "../other"
}
dependency "lost" {
  config_path = get_env("X")
}
inputs = {
  nats  = dependency.vpc.outputs.nat_ids
  all   = dependency.vpc.outputs
  other = dependency.other.outputs.nat_ids
}
"#;
        let dir = tree(&[
            ("dev/vpc/terragrunt.hcl", "terraform {}\n"),
            ("dev/app/terragrunt.hcl", reader),
            ("dev/quiet/terragrunt.hcl", "inputs = {}\n"),
        ]);
        let units: Vec<String> = [
            "dev/app/terragrunt.hcl",
            "dev/quiet/terragrunt.hcl",
            "dev/vpc/terragrunt.hcl",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut site = CallSite::default();
        Dependents::index(dir.path(), &units).add_to(
            dir.path(),
            "dev/vpc/terragrunt.hcl",
            &mut site,
        );
        assert_eq!(site.reads.len(), 1, "{:?}", site.reads);
        assert_eq!(site.reads[0].output, "nat_ids");
        assert_eq!(site.reads[0].text, "dependency.vpc.outputs.nat_ids");
        assert_eq!(site.reads[0].at.line, 11);
        let whats: Vec<&str> = site.unknowns.iter().map(|u| u.what.as_str()).collect();
        assert_eq!(whats.len(), 2, "{whats:?}");
        assert!(
            whats.iter().any(|w| w.contains("dependency \"lost\"")),
            "{whats:?}"
        );
        assert!(
            whats
                .iter()
                .any(|w| w.contains("`dependency.vpc.outputs` uses")),
            "{whats:?}"
        );
    }

    #[test]
    fn literal_kinds_against_types() {
        assert!(mismatch("string", "list(string)"));
        assert!(mismatch("list", "string"));
        assert!(mismatch("object", "list(string)"));
        assert!(!mismatch("list", "set(string)"));
        assert!(!mismatch("number", "string"));
        assert!(!mismatch("null", "list(string)"));
        assert!(!mismatch("string", "any"));
        assert!(!mismatch("object", "map(string)"));
    }
}
