//! Evaluates the expressions that build module sources and versions, keeping where each piece of
//! text was written (file and byte range), within a fixed budget of work.
//!
//! Why not hcl-rs's `hcl::eval`: an update must edit a version at the bytes that write it, in the
//! file that writes it (a map of versions in `_common/common.hcl`), and hcl-rs's values carry no
//! position (`Value::String(String)`): `local.versions.vpc` evaluates to `"v1.4.0"` with nothing
//! to tell which of the file's `"v1.4.0"` literals it came from. Its functions are plain `fn`
//! pointers, which cannot reach the unit's folder or other files (`find_in_parent_folders`,
//! `read_terragrunt_config`), and evaluation has no bound: a template that repeats a local 40
//! times, five levels deep, built a 1 GB string at the fourth level in 1.3 s with hcl-rs 0.19.10.
//! So this evaluator walks hcl-edit's syntax tree (which has the spans), covers what live
//! repositories use to build sources (locals, includes, `read_terragrunt_config`, maps and
//! indexes, conditionals and comparisons, `for` expressions, splats and template directives in
//! `forms`, a set of Terragrunt and Terraform functions listed in [`functions::FUNCTIONS`]), and
//! counts its work: see [`MAX_VALUE`] and [`MAX_WORK`]. hcl-rs evaluates `for` and directives
//! too, but into values without positions, so the same gap applies to them.
//!
//! Values that exist only when Terraform or Terragrunt runs (`var.*`, `values.*`, `get_env`
//! without a default, dependency outputs) evaluate to "unknown" with the reason; `get_env` with a
//! default gives the default and writes a note (see [`Evaluator::take_notes`]); inside a string they become an
//! unknown piece, so a source whose address is known and whose `?ref=` is not keeps its ID.

use super::{Files, LoadedFile};
use hcl_edit::Span;
use hcl_edit::expr::{
    BinaryOperator, Expression, ObjectKey, Traversal, TraversalOperator, UnaryOperator,
};
use hcl_edit::structure::Structure;
use rustc_hash::FxHashMap;
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;

mod forms;
pub mod functions;

/// The largest value evaluation may build, in bytes of text plus pieces and elements. A module
/// source is a few hundred bytes; a map of versions a few kilobytes.
pub const MAX_VALUE: usize = 256 * 1024;
/// The most work evaluating one scanned file may do (expressions evaluated plus the weight of
/// the values built), includes and files read with `read_terragrunt_config` included, plus
/// [`WORK_PER_BYTE`] for each byte of the scanned file (a file of 60,000 blocks is legitimate).
pub const MAX_WORK: u64 = 4_000_000;
/// Work allowed per byte of the scanned file, on top of [`MAX_WORK`].
pub const WORK_PER_BYTE: u64 = 32;
/// How many references (locals, includes, files read) one chain may follow.
const MAX_HOPS: usize = 32;
/// How deep evaluation may recurse, syntax and references together.
const MAX_RECURSION: usize = 400;
/// What an unknown piece of a string reads as: a private-use character that no address holds.
pub const UNKNOWN_MARK: &str = "\u{e000}";

/// Why a value could not be had.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Known only when Terraform or Terragrunt runs (environment, variables, outputs).
    Unknown,
    /// `values.*` of a stack template: set by the stack that uses the file, absent here; `try`
    /// falls back as it does when Terragrunt runs the template without that value.
    Unset,
    /// The expression fails as written (a key the map does not have, a wrong type): `try` falls
    /// back, as it would when Terragrunt runs.
    Failed,
    /// Baton does not evaluate this construct, or may not read this file.
    Unsupported,
    /// Over the limits on value size or work: the whole file is reported.
    TooLarge,
}

/// Why a value could not be had, and what says so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Why {
    /// What kind of failure.
    pub kind: Kind,
    /// A sentence naming the expression and, where one would, the file that defines it.
    pub message: String,
}

/// The result of evaluating something.
pub type Eval<T> = Result<T, Rc<Why>>;

fn fail<T>(kind: Kind, message: impl Into<String>) -> Eval<T> {
    Err(Rc::new(Why {
        kind,
        message: message.into(),
    }))
}

/// Where a piece of text comes from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// Written as is in a file (an index into the evaluator's files), at these bytes of its text
    /// without BOM.
    Written {
        /// The file.
        file: usize,
        /// The bytes.
        span: Range<usize>,
    },
    /// A string literal whose bytes are not its value (escape sequences, heredoc indentation).
    Escaped,
    /// Produced by a function, a number or a boolean.
    Computed,
    /// Not known: the piece's text is [`UNKNOWN_MARK`].
    Unknown(Rc<Why>),
}

/// A piece of a string value.
#[derive(Debug, Clone)]
pub struct Piece {
    /// The text.
    pub text: Rc<str>,
    /// Where it comes from.
    pub origin: Origin,
}

/// A string value: its pieces, in order.
#[derive(Debug, Clone, Default)]
pub struct Str {
    pieces: Rc<Vec<Piece>>,
    len: usize,
}

impl Str {
    fn from_pieces(pieces: Vec<Piece>) -> Str {
        let len = pieces.iter().map(|p| p.text.len()).sum();
        Str {
            pieces: Rc::new(pieces),
            len,
        }
    }

    fn computed(text: &str) -> Str {
        Str::from_pieces(vec![Piece {
            text: text.into(),
            origin: Origin::Computed,
        }])
    }

    /// The pieces.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The text, unknown pieces read as [`UNKNOWN_MARK`].
    pub fn text(&self) -> String {
        let mut out = String::with_capacity(self.len);
        for p in self.pieces.iter() {
            out.push_str(&p.text);
        }
        out
    }

    /// The first unknown piece's reason, if any.
    pub fn unknown(&self) -> Option<&Rc<Why>> {
        self.pieces.iter().find_map(|p| match &p.origin {
            Origin::Unknown(why) => Some(why),
            _ => None,
        })
    }

    fn weight(&self) -> usize {
        self.len + self.pieces.len()
    }

    /// The known text, or why it is not known.
    fn known(&self) -> Eval<String> {
        match self.unknown() {
            Some(why) => Err(why.clone()),
            None => Ok(self.text()),
        }
    }

    /// The pieces covering bytes `range` of the text (cut where needed; a cut piece written in a
    /// file keeps the matching part of its span).
    fn slice(&self, range: Range<usize>) -> Str {
        let mut out = Vec::new();
        let mut pos = 0;
        for p in self.pieces.iter() {
            let end = pos + p.text.len();
            let (s, e) = (range.start.max(pos), range.end.min(end));
            if s < e {
                let rel = s - pos..e - pos;
                if rel == (0..p.text.len()) {
                    out.push(p.clone());
                } else if let Some(text) = p.text.get(rel.clone()) {
                    let origin = match &p.origin {
                        Origin::Written { file, span } => Origin::Written {
                            file: *file,
                            span: span.start + rel.start..span.start + rel.end,
                        },
                        other => other.clone(),
                    };
                    out.push(Piece {
                        text: text.into(),
                        origin,
                    });
                }
            }
            pos = end;
        }
        Str::from_pieces(out)
    }

    fn concat(parts: &[Str]) -> Str {
        let pieces = parts
            .iter()
            .flat_map(|s| s.pieces.iter().cloned())
            .collect();
        Str::from_pieces(pieces)
    }
}

/// A value.
#[derive(Debug, Clone)]
pub enum Value {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string, with the origin of its pieces.
    Str(Str),
    /// A list or tuple.
    List(Rc<Collection<Vec<Value>>>),
    /// An object or map.
    Object(Rc<Collection<BTreeMap<String, Value>>>),
    /// An element of a collection that could not be evaluated: an error only where it is used.
    Bad(Rc<Why>),
    /// The `locals` of a file (by index), evaluated one by one as they are used.
    Locals(usize),
    /// A whole file read with `read_terragrunt_config` or an include.
    Config(usize),
}

/// The items of a list or object, and their total weight.
#[derive(Debug)]
pub struct Collection<T> {
    /// The items.
    pub items: T,
    weight: usize,
}

impl Value {
    fn weight(&self) -> usize {
        match self {
            Value::Str(s) => s.weight(),
            Value::List(l) => l.weight,
            Value::Object(o) => o.weight,
            _ => 1,
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::Str(_) => "a string",
            Value::List(_) => "a list",
            Value::Object(_) | Value::Locals(_) => "a map",
            Value::Bad(_) => "a value that could not be evaluated",
            Value::Config(_) => "a whole configuration",
        }
    }
}

/// A file's locals and includes, indexed: structure positions in its body.
struct Scope {
    file: Arc<LoadedFile>,
    /// What `get_terragrunt_dir()` returns here, and what relative paths start from: the
    /// scanned file's folder, a file read with `read_terragrunt_config`'s own folder, and for an
    /// included file the folder of the file that includes it (Terragrunt evaluates an include
    /// in the context of the including unit).
    dir: PathBuf,
    /// Local name → (index of the `locals` block, index of the attribute in it); the first
    /// definition wins.
    locals: HashMap<String, (usize, usize)>,
    /// Include label (empty without one) → index of the `include` block.
    includes: HashMap<String, usize>,
    /// Whether the file was opened as the include of the file whose folder is `dir` (its
    /// `path_relative_to_include()` and `get_parent_terragrunt_dir()` are its own).
    included: bool,
}

impl Scope {
    fn new(file: Arc<LoadedFile>, dir: PathBuf, included: bool) -> Scope {
        let mut locals = HashMap::new();
        let mut includes = HashMap::new();
        for (i, st) in file.body.iter().enumerate() {
            let Structure::Block(block) = st else {
                continue;
            };
            match block.ident.as_str() {
                "locals" => {
                    for (j, st) in block.body.iter().enumerate() {
                        if let Structure::Attribute(a) = st {
                            locals.entry(a.key.as_str().to_string()).or_insert((i, j));
                        }
                    }
                }
                "include" => {
                    let label = block.labels.first().map_or("", |l| l.as_str());
                    includes.entry(label.to_string()).or_insert(i);
                }
                _ => {}
            }
        }
        Scope {
            file,
            dir,
            locals,
            includes,
            included,
        }
    }

    fn local(&self, name: &str) -> Option<&Expression> {
        let &(i, j) = self.locals.get(name)?;
        let Some(Structure::Block(b)) = self.file.body.get(i) else {
            return None;
        };
        match b.body.get(j)? {
            Structure::Attribute(a) => Some(&a.value),
            Structure::Block(_) => None,
        }
    }

    /// The label of the include a Terragrunt function without a name refers to: the first
    /// `include` block of the file.
    fn first_include(&self) -> Option<&str> {
        self.includes
            .iter()
            .min_by_key(|(_, i)| **i)
            .map(|(label, _)| label.as_str())
    }

    fn include_path(&self, name: &str) -> Option<&Expression> {
        let &i = self.includes.get(name)?;
        let Some(Structure::Block(b)) = self.file.body.get(i) else {
            return None;
        };
        b.body.get_attribute("path").map(|a| &a.value)
    }

    fn snippet(&self, span: Option<Range<usize>>) -> String {
        snippet(&self.file.text, span)
    }
}

enum Memo {
    InProgress,
    /// The value, and the notes evaluating it wrote (given again each time it is used).
    Done(Eval<Value>, Rc<[Rc<str>]>),
}

/// Evaluates the expressions of one scanned file (file 0) and of the files it reads.
pub struct Evaluator<'a> {
    files: &'a dyn Files,
    terragrunt_dir: PathBuf,
    scopes: RefCell<Vec<Rc<Scope>>>,
    /// Files opened, by path, context folder and whether as an include.
    by_path: RefCell<FxHashMap<(PathBuf, PathBuf, bool), usize>>,
    memo: RefCell<HashMap<(usize, String), Memo>>,
    /// The variables of the `for` expressions and directives being evaluated, innermost last;
    /// set aside while a local or an include of any file is evaluated.
    bindings: RefCell<Vec<(String, Value)>>,
    /// What evaluation assumed so far (a `get_env` default), for [`Evaluator::take_notes`].
    notes: RefCell<Vec<Rc<str>>>,
    work: Cell<u64>,
    limit: u64,
    hops: Cell<usize>,
    recursion: Cell<usize>,
}

impl<'a> Evaluator<'a> {
    /// An evaluator for `scanned` (file 0), reading other files through `files`.
    pub fn new(scanned: Arc<LoadedFile>, files: &'a dyn Files) -> Evaluator<'a> {
        let terragrunt_dir = scanned.path.parent().unwrap_or(Path::new("")).to_path_buf();
        let path = scanned.path.clone();
        let limit =
            MAX_WORK.saturating_add(WORK_PER_BYTE.saturating_mul(scanned.text.len() as u64));
        Evaluator {
            files,
            scopes: RefCell::new(vec![Rc::new(Scope::new(
                scanned,
                terragrunt_dir.clone(),
                false,
            ))]),
            by_path: RefCell::new(FxHashMap::from_iter([(
                (path, terragrunt_dir.clone(), false),
                0,
            )])),
            terragrunt_dir,
            memo: RefCell::default(),
            bindings: RefCell::default(),
            notes: RefCell::default(),
            work: Cell::new(0),
            limit,
            hops: Cell::new(0),
            recursion: Cell::new(0),
        }
    }

    /// The file with this index.
    pub fn file(&self, index: usize) -> Arc<LoadedFile> {
        self.scope(index).file.clone()
    }

    /// Work done so far.
    pub fn work(&self) -> u64 {
        self.work.get()
    }

    fn scope(&self, index: usize) -> Rc<Scope> {
        self.scopes.borrow()[index].clone()
    }

    /// Evaluates an expression of the scanned file.
    pub fn eval_scanned(&self, expr: &Expression) -> Eval<Value> {
        self.eval(0, expr)
    }

    /// What evaluation assumed since the last call (`get_env("X", "v1")` gave its default),
    /// each once, in order.
    pub fn take_notes(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for note in self.notes.borrow_mut().drain(..) {
            if !out.iter().any(|n| **n == *note) {
                out.push(note.to_string());
            }
        }
        out
    }

    /// Records what evaluation assumed.
    fn note(&self, note: String) {
        self.notes.borrow_mut().push(note.into());
    }

    /// How many notes there are, to drop those of an evaluation `try` passes over.
    fn notes_mark(&self) -> usize {
        self.notes.borrow().len()
    }

    /// Drops the notes written since `mark`.
    fn notes_back_to(&self, mark: usize) {
        self.notes.borrow_mut().truncate(mark);
    }

    /// Evaluates `f` without the variables of the `for` expressions around it (a local or an
    /// include is evaluated where it is written), keeping the notes it writes.
    fn apart<T>(&self, f: impl FnOnce() -> Eval<T>) -> (Eval<T>, Rc<[Rc<str>]>) {
        let saved = std::mem::take(&mut *self.bindings.borrow_mut());
        let mark = self.notes_mark();
        let out = f();
        *self.bindings.borrow_mut() = saved;
        let notes: Rc<[Rc<str>]> = self.notes.borrow()[mark..].into();
        (out, notes)
    }

    fn charge(&self, units: usize) -> Eval<()> {
        let work = self.work.get().saturating_add(units as u64);
        self.work.set(work);
        if work > self.limit {
            return fail(
                Kind::TooLarge,
                format!("evaluating the file takes more than {} steps", self.limit),
            );
        }
        Ok(())
    }

    /// Checks a value's size and charges for it.
    fn built(&self, value: Value) -> Eval<Value> {
        let weight = value.weight();
        if weight > MAX_VALUE {
            return fail(
                Kind::TooLarge,
                format!("a value would exceed {MAX_VALUE} bytes"),
            );
        }
        self.charge(weight)?;
        Ok(value)
    }

    fn eval(&self, file: usize, expr: &Expression) -> Eval<Value> {
        let depth = self.recursion.get() + 1;
        if depth > MAX_RECURSION {
            return fail(Kind::Unsupported, "expressions nested too deeply");
        }
        self.recursion.set(depth);
        let out = self.charge(1).and_then(|()| self.eval_inner(file, expr));
        self.recursion.set(depth - 1);
        out
    }

    fn eval_inner(&self, file: usize, expr: &Expression) -> Eval<Value> {
        let scope = self.scope(file);
        match expr {
            Expression::Null(_) => Ok(Value::Null),
            Expression::Bool(b) => Ok(Value::Bool(*b.value())),
            Expression::Number(n) => match n.value().as_f64() {
                Some(f) => Ok(Value::Number(f)),
                None => fail(Kind::Unsupported, "a number out of range"),
            },
            // A literal's size is bounded by its file's: only what evaluation builds is counted.
            Expression::String(s) => {
                let inner = s.span().map(|r| r.start + 1..r.end.saturating_sub(1));
                Ok(Value::Str(Str::from_pieces(vec![literal(
                    &scope,
                    file,
                    s.value(),
                    inner,
                )])))
            }
            Expression::StringTemplate(t) => self.template(file, t),
            Expression::HeredocTemplate(h) => self.template(file, &h.template),
            Expression::Parenthesis(p) => self.eval(file, p.inner()),
            Expression::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut weight = 1;
                for e in items.iter() {
                    let v = self.element(file, e)?;
                    weight += v.weight();
                    out.push(v);
                }
                self.built(Value::List(Rc::new(Collection { items: out, weight })))
            }
            Expression::Object(obj) => {
                let mut out = BTreeMap::new();
                let mut weight = 1;
                for (key, value) in obj.iter() {
                    let key = match key {
                        ObjectKey::Ident(id) => id.as_str().to_string(),
                        ObjectKey::Expression(e) => self.map_key(file, &scope, e)?,
                    };
                    let v = self.element(file, value.expr())?;
                    weight += key.len() + v.weight();
                    out.insert(key, v);
                }
                self.built(Value::Object(Rc::new(Collection { items: out, weight })))
            }
            Expression::Variable(v) => match self.bound(v.as_str()) {
                Some(value) => Ok(value),
                None => self.root_variable(&scope, v.as_str(), expr.span()),
            },
            Expression::Traversal(t) => self.traversal(file, &scope, t),
            Expression::FuncCall(call) => self.call(file, &scope, call),
            Expression::Conditional(c) => {
                let cond = self.eval(file, &c.cond_expr)?;
                if as_bool(&scope, &c.cond_expr, &cond)? {
                    self.eval(file, &c.true_expr)
                } else {
                    self.eval(file, &c.false_expr)
                }
            }
            Expression::UnaryOp(op) => {
                let v = self.eval(file, &op.expr)?;
                match op.operator.value() {
                    UnaryOperator::Not => Ok(Value::Bool(!as_bool(&scope, &op.expr, &v)?)),
                    UnaryOperator::Neg => Ok(Value::Number(-as_number(&scope, &op.expr, &v)?)),
                }
            }
            Expression::BinaryOp(op) => {
                let lhs = self.eval(file, &op.lhs_expr)?;
                let rhs = self.eval(file, &op.rhs_expr)?;
                // Comparing walks both values.
                self.charge(lhs.weight() + rhs.weight())?;
                binary(&scope, op, &lhs, &rhs)
            }
            Expression::ForExpr(f) => self.for_expr(file, &scope, f),
        }
    }

    /// A map key written as an expression: a string, or a number or boolean as text.
    fn map_key(&self, file: usize, scope: &Scope, e: &Expression) -> Eval<String> {
        match self.eval(file, e)? {
            Value::Str(s) => s.known(),
            Value::Number(n) => Ok(number_text(n)),
            Value::Bool(b) => Ok(b.to_string()),
            other => fail(
                Kind::Failed,
                format!(
                    "a map key in `{}` is {}",
                    scope.snippet(e.span()),
                    other.type_name()
                ),
            ),
        }
    }

    /// An element of a list or object: a failure is kept in place, to matter only where used.
    fn element(&self, file: usize, expr: &Expression) -> Eval<Value> {
        match self.eval(file, expr) {
            Ok(v) => Ok(v),
            Err(why) if why.kind == Kind::TooLarge => Err(why),
            Err(why) => Ok(Value::Bad(why)),
        }
    }

    fn root_variable(&self, scope: &Scope, name: &str, span: Option<Range<usize>>) -> Eval<Value> {
        let shown = scope.snippet(span);
        match name {
            "local" | "include" => fail(
                Kind::Failed,
                format!("`{shown}` needs an attribute (`{name}.x`)"),
            ),
            other => unknown_variable(other, &shown),
        }
    }

    fn traversal(&self, file: usize, scope: &Scope, t: &Traversal) -> Eval<Value> {
        let shown = || scope.snippet(t.span());
        let ops: Vec<&TraversalOperator> = t.operators.iter().map(|o| o.value()).collect();
        let (value, rest) = match &t.expr {
            Expression::Variable(v) => match (self.bound(v.as_str()), v.as_str(), ops.first()) {
                (Some(bound), _, _) => (bound, &ops[..]),
                (None, "local", Some(TraversalOperator::GetAttr(name))) => {
                    (self.local(file, name.as_str())?, &ops[1..])
                }
                (None, "include", Some(TraversalOperator::GetAttr(name))) => {
                    (self.include(file, scope, name.as_str())?, &ops[1..])
                }
                (None, other, _) => return unknown_variable(other, &shown()),
            },
            other => (self.eval(file, other)?, &ops[..]),
        };
        self.operators(file, scope, t, value, rest)
    }

    /// Applies one traversal operator.
    fn step(
        &self,
        file: usize,
        scope: &Scope,
        t: &Traversal,
        value: Value,
        op: &TraversalOperator,
    ) -> Eval<Value> {
        self.charge(1)?;
        let shown = || scope.snippet(t.span());
        let key = match op {
            TraversalOperator::GetAttr(name) => Key::Name(name.as_str().to_string()),
            TraversalOperator::LegacyIndex(i) => Key::Index(*i.value() as f64),
            TraversalOperator::Index(e) => match self.eval(file, e)? {
                Value::Str(s) => Key::Name(s.known()?),
                Value::Number(n) => Key::Index(n),
                other => {
                    return fail(
                        Kind::Failed,
                        format!("`{}`: an index is {}", shown(), other.type_name()),
                    );
                }
            },
            TraversalOperator::AttrSplat(_) | TraversalOperator::FullSplat(_) => {
                unreachable!("splats are applied by Evaluator::operators")
            }
        };
        match (value, key) {
            (Value::Bad(why), _) => Err(why),
            (Value::Object(o), Key::Name(k)) => match o.items.get(&k) {
                Some(Value::Bad(why)) => Err(why.clone()),
                Some(v) => Ok(v.clone()),
                None => fail(
                    Kind::Failed,
                    format!("`{}`: the map has no key {k:?}", shown()),
                ),
            },
            (Value::Object(o), Key::Index(n)) => {
                let k = number_text(n);
                match o.items.get(&k) {
                    Some(v) => Ok(v.clone()),
                    None => fail(
                        Kind::Failed,
                        format!("`{}`: the map has no key {k:?}", shown()),
                    ),
                }
            }
            (Value::List(l), Key::Index(n)) => {
                let item = (n >= 0.0 && n.fract() == 0.0)
                    .then(|| l.items.get(n as usize))
                    .flatten();
                match item {
                    Some(Value::Bad(why)) => Err(why.clone()),
                    Some(v) => Ok(v.clone()),
                    None => fail(
                        Kind::Failed,
                        format!(
                            "`{}`: index {} is out of range for a list of {}",
                            shown(),
                            number_text(n),
                            l.items.len()
                        ),
                    ),
                }
            }
            (Value::Locals(f), Key::Name(k)) => self.local(f, &k),
            (Value::Config(f), Key::Name(k)) if k == "locals" => Ok(Value::Locals(f)),
            (Value::Config(f), Key::Name(k)) => fail(
                Kind::Unsupported,
                format!(
                    "`{}`: only the locals of {} are read, not its `{k}`",
                    shown(),
                    self.files.show(&self.scope(f).file.path)
                ),
            ),
            (other, Key::Name(k)) => fail(
                Kind::Failed,
                format!(
                    "`{}`: {} has no attribute {k:?}",
                    shown(),
                    other.type_name()
                ),
            ),
            (other, Key::Index(_)) => fail(
                Kind::Failed,
                format!("`{}`: {} cannot be indexed", shown(), other.type_name()),
            ),
        }
    }

    /// Follows one more reference, or refuses when the chain is too long.
    fn hop<T>(&self, f: impl FnOnce() -> Eval<T>) -> Eval<T> {
        let hops = self.hops.get() + 1;
        if hops > MAX_HOPS {
            return fail(
                Kind::Unsupported,
                "locals or includes refer to each other too deeply",
            );
        }
        self.hops.set(hops);
        let out = f();
        self.hops.set(hops - 1);
        out
    }

    /// `local.<name>` of a file, evaluated once.
    fn local(&self, file: usize, name: &str) -> Eval<Value> {
        let key = (file, name.to_string());
        match self.memo.borrow().get(&key) {
            Some(Memo::Done(v, notes)) => {
                self.notes.borrow_mut().extend(notes.iter().cloned());
                return v.clone();
            }
            Some(Memo::InProgress) => {
                return fail(
                    Kind::Failed,
                    format!(
                        "local.{name} of {} refers to itself (locals or includes in a cycle)",
                        self.files.show(&self.scope(file).file.path)
                    ),
                );
            }
            None => {}
        }
        self.memo.borrow_mut().insert(key.clone(), Memo::InProgress);
        let scope = self.scope(file);
        let (out, notes) = self.apart(|| match scope.local(name) {
            Some(expr) => self.hop(|| self.eval(file, expr)),
            None => fail(
                Kind::Failed,
                format!(
                    "local.{name} is not defined in {}",
                    self.files.show(&scope.file.path)
                ),
            ),
        });
        self.memo
            .borrow_mut()
            .insert(key, Memo::Done(out.clone(), notes));
        out
    }

    /// `include.<name>`: the included file, its path evaluated in the including file.
    fn include(&self, file: usize, scope: &Scope, name: &str) -> Eval<Value> {
        self.included_file(file, scope, name).map(Value::Config)
    }

    /// The file of `include "<name>"`, opened as an include, once.
    fn included_file(&self, file: usize, scope: &Scope, name: &str) -> Eval<usize> {
        let key = (file, format!("\0include {name}"));
        if let Some(Memo::Done(v, notes)) = self.memo.borrow().get(&key) {
            self.notes.borrow_mut().extend(notes.iter().cloned());
            return v.clone().map(|v| match v {
                Value::Config(i) => i,
                _ => unreachable!("an include is memoized as a file"),
            });
        }
        let (out, notes) = self.apart(|| match scope.include_path(name) {
            Some(path_expr) => self.hop(|| {
                let path = self.path_arg(file, scope, path_expr)?;
                self.open(&path, scope.dir.clone(), true)
            }),
            None => fail(
                Kind::Failed,
                format!(
                    "include \"{name}\" is not defined in {}",
                    self.files.show(&scope.file.path)
                ),
            ),
        });
        self.memo
            .borrow_mut()
            .insert(key, Memo::Done(out.clone().map(Value::Config), notes));
        out
    }

    /// A path argument: a known string; relative paths start from the scope's folder.
    fn path_arg(&self, file: usize, scope: &Scope, expr: &Expression) -> Eval<PathBuf> {
        let text = match self.eval(file, expr)? {
            Value::Str(s) => s.known()?,
            other => {
                return fail(
                    Kind::Failed,
                    format!(
                        "`{}` is {}, not a path",
                        scope.snippet(expr.span()),
                        other.type_name()
                    ),
                );
            }
        };
        let p = Path::new(&text);
        Ok(super::normalize(&if p.is_absolute() {
            p.to_path_buf()
        } else {
            scope.dir.join(p)
        }))
    }

    /// Loads a file (once per context folder, and as an include or not) and returns its index.
    fn open(&self, path: &Path, dir: PathBuf, included: bool) -> Eval<usize> {
        let key = (path.to_path_buf(), dir, included);
        if let Some(&i) = self.by_path.borrow().get(&key) {
            return Ok(i);
        }
        if let Err(why) = self.files.may_read(path) {
            return fail(Kind::Unsupported, why);
        }
        let loaded = match self.files.load(path) {
            Ok(l) => l,
            Err(e) => return fail(Kind::Failed, e),
        };
        self.charge(loaded.text.len() / 64)?;
        let mut scopes = self.scopes.borrow_mut();
        scopes.push(Rc::new(Scope::new(loaded, key.1.clone(), included)));
        let i = scopes.len() - 1;
        self.by_path.borrow_mut().insert(key, i);
        Ok(i)
    }
}

enum Key {
    Name(String),
    Index(f64),
}

/// A literal's piece: written at `span` when the bytes there are its value.
fn literal(scope: &Scope, file: usize, value: &str, span: Option<Range<usize>>) -> Piece {
    let origin = match span {
        Some(span) if scope.file.text.get(span.clone()) == Some(value) => {
            Origin::Written { file, span }
        }
        Some(_) => Origin::Escaped,
        None => Origin::Computed,
    };
    Piece {
        text: value.into(),
        origin,
    }
}

/// Why a variable that is not `local` or `include` cannot be known, naming what defines it.
fn unknown_variable<T>(name: &str, shown: &str) -> Eval<T> {
    match name {
        "values" => fail(
            Kind::Unset,
            format!(
                "`{shown}` is set by the stack that uses this file (in the `values` of its unit or stack block, which Terragrunt writes to terragrunt.values.hcl beside the generated copy)"
            ),
        ),
        "var" => fail(
            Kind::Unknown,
            format!(
                "`{shown}` is set by whoever runs this module (a .tfvars file, -var, TF_VAR_… or the inputs of the Terragrunt unit that uses it)"
            ),
        ),
        "dependency" => fail(
            Kind::Unknown,
            format!("`{shown}` is an output of another unit, known once that unit is applied"),
        ),
        "feature" => fail(
            Kind::Unknown,
            format!("`{shown}` is a feature flag, set when Terragrunt runs"),
        ),
        "each" | "count" | "path" | "terraform" | "module" | "data" | "self" => fail(
            Kind::Unknown,
            format!("`{shown}` is known only when Terraform runs"),
        ),
        _ => fail(Kind::Unsupported, format!("`{shown}` is not evaluated")),
    }
}

fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

/// A value as a string, as templates and string functions convert it.
fn to_str(scope: &Scope, expr: &Expression, value: Value) -> Eval<Str> {
    match value {
        Value::Str(s) => Ok(s),
        Value::Number(n) => Ok(Str::computed(&number_text(n))),
        Value::Bool(b) => Ok(Str::computed(if b { "true" } else { "false" })),
        Value::Bad(why) => Err(why),
        other => fail(
            Kind::Failed,
            format!(
                "`{}` is {}, not a string",
                scope.snippet(expr.span()),
                other.type_name()
            ),
        ),
    }
}

fn as_bool(scope: &Scope, expr: &Expression, value: &Value) -> Eval<bool> {
    match value {
        Value::Bool(b) => Ok(*b),
        Value::Str(s) => match s.known()?.as_str() {
            "true" => Ok(true),
            "false" => Ok(false),
            other => fail(
                Kind::Failed,
                format!(
                    "`{}` is {other:?}, not a boolean",
                    scope.snippet(expr.span())
                ),
            ),
        },
        Value::Bad(why) => Err(why.clone()),
        other => fail(
            Kind::Failed,
            format!(
                "`{}` is {}, not a boolean",
                scope.snippet(expr.span()),
                other.type_name()
            ),
        ),
    }
}

fn as_number(scope: &Scope, expr: &Expression, value: &Value) -> Eval<f64> {
    match value {
        Value::Number(n) => Ok(*n),
        Value::Str(s) => match s.known()?.trim().parse::<f64>() {
            Ok(n) => Ok(n),
            Err(_) => fail(
                Kind::Failed,
                format!("`{}` is not a number", scope.snippet(expr.span())),
            ),
        },
        Value::Bad(why) => Err(why.clone()),
        other => fail(
            Kind::Failed,
            format!(
                "`{}` is {}, not a number",
                scope.snippet(expr.span()),
                other.type_name()
            ),
        ),
    }
}

/// Whether two values are equal, as `==` compares them (a string and a number never are).
fn equal(a: &Value, b: &Value) -> Eval<bool> {
    Ok(match (a, b) {
        (Value::Bad(why), _) | (_, Value::Bad(why)) => return Err(why.clone()),
        (Value::Null, Value::Null) => true,
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Number(x), Value::Number(y)) => x == y,
        (Value::Str(x), Value::Str(y)) => x.known()? == y.known()?,
        (Value::List(x), Value::List(y)) => {
            if x.items.len() != y.items.len() {
                return Ok(false);
            }
            for (p, q) in x.items.iter().zip(&y.items) {
                if !equal(p, q)? {
                    return Ok(false);
                }
            }
            true
        }
        (Value::Object(x), Value::Object(y)) => {
            if x.items.len() != y.items.len() {
                return Ok(false);
            }
            for ((kp, p), (kq, q)) in x.items.iter().zip(&y.items) {
                if kp != kq || !equal(p, q)? {
                    return Ok(false);
                }
            }
            true
        }
        (Value::Locals(x), Value::Locals(y)) | (Value::Config(x), Value::Config(y)) => x == y,
        _ => false,
    })
}

fn binary(scope: &Scope, op: &hcl_edit::expr::BinaryOp, lhs: &Value, rhs: &Value) -> Eval<Value> {
    use BinaryOperator as B;
    let (l, r) = (&op.lhs_expr, &op.rhs_expr);
    Ok(match op.operator.value() {
        B::Eq => Value::Bool(equal(lhs, rhs)?),
        B::NotEq => Value::Bool(!equal(lhs, rhs)?),
        B::And => Value::Bool(as_bool(scope, l, lhs)? & as_bool(scope, r, rhs)?),
        B::Or => Value::Bool(as_bool(scope, l, lhs)? | as_bool(scope, r, rhs)?),
        cmp @ (B::Less | B::LessEq | B::Greater | B::GreaterEq) => {
            let (a, b) = (as_number(scope, l, lhs)?, as_number(scope, r, rhs)?);
            Value::Bool(match cmp {
                B::Less => a < b,
                B::LessEq => a <= b,
                B::Greater => a > b,
                _ => a >= b,
            })
        }
        arith => {
            let (a, b) = (as_number(scope, l, lhs)?, as_number(scope, r, rhs)?);
            let n = match arith {
                B::Plus => a + b,
                B::Minus => a - b,
                B::Mul => a * b,
                B::Div if b != 0.0 => a / b,
                B::Mod if b != 0.0 => a % b,
                _ => {
                    return fail(
                        Kind::Failed,
                        format!("`{}`: division by zero", scope.snippet(op.span())),
                    );
                }
            };
            Value::Number(n)
        }
    })
}

/// The text of a span, shortened for messages.
pub fn snippet(text: &str, span: Option<Range<usize>>) -> String {
    let s = span.and_then(|r| text.get(r)).unwrap_or("?").trim();
    if s.chars().count() > 80 {
        format!("{}…", s.chars().take(80).collect::<String>())
    } else {
        s.to_string()
    }
}
