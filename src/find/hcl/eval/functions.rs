//! The functions the evaluator evaluates: one Rust function per HCL function, and [`FUNCTIONS`],
//! the table that names each, bounds its number of arguments and says in one line what it
//! returns. A call is looked up there, its arguments counted against the table, then evaluated;
//! functions known only when Terragrunt runs are listed too, and evaluate to "unknown".

use super::{
    Collection, Eval, Evaluator, Kind, MAX_VALUE, Scope, Str, Value, Why, as_number, equal, fail,
    to_str,
};
use hcl_edit::Span;
use hcl_edit::expr::{Expression, FuncCall};
use std::collections::BTreeMap;
use std::fmt::{Display, Write as _};
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// The most arguments a variadic function takes: any number.
const ANY: usize = usize::MAX;

/// Evaluates one function's call.
type Impl = fn(&Call<'_, '_>) -> Eval<Value>;

/// What the evaluator does with a function's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Returns {
    /// A value the call built: checked against [`MAX_VALUE`] and charged for, as any value built.
    Built,
    /// One argument's value as it was evaluated (`try`, `coalesce`): returned as is.
    AsIs,
}

/// An HCL function the evaluator evaluates.
pub struct Function {
    /// Its name.
    pub name: &'static str,
    /// The fewest arguments it takes.
    pub min: usize,
    /// The most arguments it takes (`usize::MAX`: any number).
    pub max: usize,
    /// What it returns, in one line.
    pub doc: &'static str,
    /// What a call with fewer than `min` arguments is told, after the function's name.
    missing: &'static str,
    /// What becomes of its value.
    returns: Returns,
    /// Evaluates a call.
    eval: Impl,
}

impl Function {
    /// A function of `min` to `max` arguments, evaluated by `eval`, whose value is built.
    const fn new(name: &'static str, min: usize, max: usize, eval: Impl) -> Function {
        Function {
            name,
            min,
            max,
            doc: "",
            missing: "is missing an argument",
            returns: Returns::Built,
            eval,
        }
    }

    /// Sets the one-line description.
    const fn doc(self, doc: &'static str) -> Function {
        Function { doc, ..self }
    }

    /// Sets what a call with too few arguments is told (`needs a path`).
    const fn missing(self, missing: &'static str) -> Function {
        Function { missing, ..self }
    }

    /// Returns one argument's value as it was evaluated, not as a value built.
    const fn returns_argument(self) -> Function {
        Function {
            returns: Returns::AsIs,
            ..self
        }
    }

    /// Fails unless the call has from `min` to `max` arguments.
    fn check_arity(&self, c: &Call) -> Eval<()> {
        let n = c.args.len();
        if n < self.min {
            return c.fail(
                Kind::Failed,
                format_args!("{}() {}", self.name, self.missing),
            );
        }
        if n > self.max {
            let most = match self.max {
                0 => "no arguments".to_string(),
                1 => "at most 1 argument".to_string(),
                max => format!("at most {max} arguments"),
            };
            return c.fail(Kind::Failed, format_args!("{}() takes {most}", self.name));
        }
        Ok(())
    }
}

/// The functions evaluated, Terragrunt's then Terraform's.
pub static FUNCTIONS: &[Function] = &[
    // Terragrunt functions that read the tree.
    Function::new("find_in_parent_folders", 0, 2, find_in_parent_folders)
        .doc("The path of the nearest file of a name above the folder, or the fallback"),
    Function::new("read_terragrunt_config", 1, 2, read_terragrunt_config)
        .doc("Another file's configuration (its locals), or the default when it fails")
        .missing("needs a path"),
    Function::new("get_terragrunt_dir", 0, 0, get_terragrunt_dir)
        .doc("The folder of the file being evaluated (of the includer for an include)"),
    Function::new(
        "get_original_terragrunt_dir",
        0,
        0,
        get_original_terragrunt_dir,
    )
    .doc("The folder of the scanned file"),
    Function::new("get_repo_root", 0, 0, get_repo_root)
        .doc("The nearest folder at or above the folder that holds `.git`"),
    Function::new("get_path_from_repo_root", 0, 0, get_path_from_repo_root)
        .doc("The folder, relative to the repository's root"),
    Function::new("get_path_to_repo_root", 0, 0, get_path_to_repo_root)
        .doc("The relative path from the folder up to the repository's root (`../..`)"),
    Function::new("path_relative_to_include", 0, 1, path_relative_to_include)
        .doc("The unit's folder relative to the included file's folder (`.` without include)"),
    Function::new(
        "path_relative_from_include",
        0,
        1,
        path_relative_from_include,
    )
    .doc("The included file's folder relative to the unit's folder (`.` without include)"),
    Function::new("get_parent_terragrunt_dir", 0, 1, get_parent_terragrunt_dir)
        .doc("The folder of the included file (the unit's folder without include)"),
    Function::new("get_env", 1, 2, get_env)
        .doc("The default, said in a note; unknown without a default (an environment variable)"),
    // Terragrunt functions known only when Terragrunt runs.
    Function::new("run_cmd", 1, ANY, when_terragrunt_runs).doc("Unknown: a command's output"),
    Function::new("get_aws_account_id", 0, 0, when_terragrunt_runs)
        .doc("Unknown: the AWS account's ID"),
    Function::new("get_aws_account_alias", 0, 0, when_terragrunt_runs)
        .doc("Unknown: the AWS account's alias"),
    Function::new("get_aws_caller_identity_arn", 0, 0, when_terragrunt_runs)
        .doc("Unknown: the AWS caller's ARN"),
    Function::new(
        "get_aws_caller_identity_user_id",
        0,
        0,
        when_terragrunt_runs,
    )
    .doc("Unknown: the AWS caller's user ID"),
    Function::new("sops_decrypt_file", 1, 1, when_terragrunt_runs)
        .doc("Unknown: a file decrypted with sops"),
    Function::new("get_terraform_command", 0, 0, when_terragrunt_runs)
        .doc("Unknown: the Terraform command being run"),
    Function::new("get_terraform_cli_args", 0, 0, when_terragrunt_runs)
        .doc("Unknown: the Terraform command's arguments"),
    Function::new("get_terragrunt_source_cli_flag", 0, 0, when_terragrunt_runs)
        .doc("Unknown: the `--source` given to Terragrunt"),
    Function::new("timestamp", 0, 0, when_terragrunt_runs).doc("Unknown: the current time"),
    Function::new("uuid", 0, 0, when_terragrunt_runs).doc("Unknown: a random UUID"),
    // Terraform functions.
    Function::new("try", 1, ANY, try_)
        .doc("The first argument that evaluates, passing over those that fail or are unset")
        .missing("needs an argument")
        .returns_argument(),
    Function::new("can", 1, 1, can).doc("Whether the argument evaluates"),
    Function::new("coalesce", 0, ANY, coalesce)
        .doc("The first argument that is neither null nor an empty string")
        .returns_argument(),
    Function::new("lookup", 2, 3, lookup).doc("A map's value at a key, or the default"),
    Function::new("format", 1, ANY, format_).doc("A string formatted with `%s %d %v %q %%`"),
    Function::new("join", 1, ANY, join).doc("The items of lists, joined with a separator"),
    Function::new("concat", 0, ANY, concat).doc("Lists, one after the other, in one list"),
    Function::new("merge", 0, ANY, merge).doc("Maps merged, later keys winning; nulls skipped"),
    Function::new("zipmap", 2, 2, zipmap).doc("A map of a list of keys to a list of values"),
    Function::new("element", 2, 2, element).doc("A list's item at an index, wrapping around"),
    Function::new("length", 1, 1, length).doc("The characters of a string, items of a collection"),
    Function::new("contains", 2, 2, contains).doc("Whether a list holds a value"),
    Function::new("keys", 1, 1, keys).doc("A map's keys, in order"),
    Function::new("values", 1, 1, values).doc("A map's values, in the order of its keys"),
    Function::new("tostring", 1, 1, tostring).doc("A value as a string (null stays null)"),
    Function::new("lower", 1, 1, lower).doc("A string in lower case"),
    Function::new("upper", 1, 1, upper).doc("A string in upper case"),
    Function::new("trimspace", 1, 1, trimspace).doc("A string without leading or trailing space"),
    Function::new("trimprefix", 2, 2, trimprefix).doc("A string without a prefix, if it has it"),
    Function::new("trimsuffix", 2, 2, trimsuffix).doc("A string without a suffix, if it has it"),
    Function::new("startswith", 2, 2, startswith).doc("Whether a string starts with a prefix"),
    Function::new("endswith", 2, 2, endswith).doc("Whether a string ends with a suffix"),
    Function::new("replace", 3, 3, replace).doc("A string with a substring replaced everywhere"),
    Function::new("split", 2, 2, split).doc("The parts of a string between separators"),
    Function::new("dirname", 1, 1, dirname).doc("A path without its last part"),
    Function::new("basename", 1, 1, basename).doc("The last part of a path"),
];

/// A call being evaluated: where it is written and its arguments, not yet evaluated.
struct Call<'e, 'a> {
    /// The evaluator.
    ev: &'e Evaluator<'a>,
    /// The file the call is written in.
    file: usize,
    /// That file's scope.
    scope: &'e Scope,
    /// The call.
    call: &'e FuncCall,
    /// The function's name.
    name: &'e str,
    /// The arguments, as written.
    args: Vec<&'e Expression>,
}

impl Call<'_, '_> {
    /// The call as written, for messages.
    fn shown(&self) -> String {
        self.scope.snippet(self.call.span())
    }

    /// Fails with "`<the call>`: <what>".
    fn fail<T>(&self, kind: Kind, what: impl Display) -> Eval<T> {
        fail(kind, format!("`{}`: {what}", self.shown()))
    }

    /// Argument `i`, evaluated.
    fn arg(&self, i: usize) -> Eval<Value> {
        match self.args.get(i) {
            Some(e) => self.ev.eval(self.file, e),
            None => self.fail(
                Kind::Failed,
                format_args!("{}() is missing an argument", self.name),
            ),
        }
    }

    /// Argument `i` as a string.
    fn text_arg(&self, i: usize) -> Eval<Str> {
        let value = self.arg(i)?;
        to_str(self.scope, self.args[i], value)
    }

    /// Argument `i` as a known string.
    fn known_arg(&self, i: usize) -> Eval<String> {
        self.text_arg(i)?.known()
    }

    /// Argument `i` as a list, charged for its length (it is about to be walked).
    fn list_arg(&self, i: usize) -> Eval<Rc<Collection<Vec<Value>>>> {
        match self.arg(i)? {
            Value::List(l) => {
                self.ev.charge(l.items.len())?;
                Ok(l)
            }
            Value::Bad(why) => Err(why),
            other => fail(
                Kind::Failed,
                format!(
                    "`{}` is {}, not a list",
                    self.scope.snippet(self.args[i].span()),
                    other.type_name()
                ),
            ),
        }
    }

    /// Argument `i` as the keys and values of a map, for `name()` (`keys`, `values`).
    fn entries_arg(&self, i: usize) -> Eval<Vec<(String, Value)>> {
        match self.arg(i)? {
            Value::Object(o) => Ok(o
                .items
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()),
            Value::Locals(f) => Ok(self.ev.all_locals(f)?.into_iter().collect()),
            other => self.fail(
                Kind::Failed,
                format_args!("{}() of {}", self.name, other.type_name()),
            ),
        }
    }
}

impl Evaluator<'_> {
    /// A function call: looked up in [`FUNCTIONS`], its arguments counted, then evaluated.
    pub(super) fn call(&self, file: usize, scope: &Scope, call: &FuncCall) -> Eval<Value> {
        let name = call.name.name.as_str();
        let c = Call {
            ev: self,
            file,
            scope,
            call,
            name,
            args: call.args.iter().collect(),
        };
        if call.name.is_namespaced() {
            return c.fail(Kind::Unsupported, "provider functions are not evaluated");
        }
        let Some(function) = FUNCTIONS.iter().find(|f| f.name == name) else {
            return fail(
                Kind::Unsupported,
                format!("the function {name}() is not evaluated"),
            );
        };
        function.check_arity(&c)?;
        let value = (function.eval)(&c)?;
        match function.returns {
            Returns::Built => self.built(value),
            Returns::AsIs => Ok(value),
        }
    }

    /// Every local of a file, as an object (for `merge(x.locals, …)`).
    pub(super) fn all_locals(&self, file: usize) -> Eval<BTreeMap<String, Value>> {
        let scope = self.scope(file);
        let mut names: Vec<&String> = scope.locals.keys().collect();
        names.sort();
        let mut out = BTreeMap::new();
        for name in names {
            let v = match self.local(file, name) {
                Ok(v) => v,
                Err(why) if why.kind == Kind::TooLarge => return Err(why),
                Err(why) => Value::Bad(why),
            };
            out.insert(name.clone(), v);
        }
        Ok(out)
    }

    /// As Terragrunt: from the parent of the scope's folder upwards, inside what
    /// [`Files`](super::super::Files) may read.
    fn find_in_parent_folders(&self, dir: &Path, name: &str) -> Option<PathBuf> {
        dir.ancestors()
            .skip(1)
            .take(64)
            .map(|dir| super::super::normalize(&dir.join(name)))
            .find(|candidate| self.files.exists(candidate))
    }

    /// The nearest folder at or above `dir` that holds `.git`.
    fn repo_root(&self, dir: &Path) -> Option<PathBuf> {
        dir.ancestors()
            .find(|d| self.files.exists(&d.join(".git")))
            .map(Path::to_path_buf)
    }
}

/// A string that no file writes.
fn computed(text: &str) -> Value {
    Value::Str(Str::computed(text))
}

/// A list of these items, weighed.
fn list(items: Vec<Value>) -> Value {
    let weight = 1 + items.iter().map(Value::weight).sum::<usize>();
    Value::List(Rc::new(Collection { items, weight }))
}

/// Fails when a value of this weight would be over [`MAX_VALUE`].
fn check_weight(weight: usize) -> Eval<()> {
    if weight > MAX_VALUE {
        return fail(
            Kind::TooLarge,
            format!("a value would exceed {MAX_VALUE} bytes"),
        );
    }
    Ok(())
}

/// Whether `try` and `can` pass over this failure: the expression fails as written, or a
/// stack's value is unset.
fn falls_back(why: &Why) -> bool {
    matches!(why.kind, Kind::Failed | Kind::Unset)
}

/// `find_in_parent_folders(name = "terragrunt.hcl", fallback)`.
fn find_in_parent_folders(c: &Call) -> Eval<Value> {
    let wanted = if c.args.is_empty() {
        "terragrunt.hcl".to_string()
    } else {
        c.known_arg(0)?
    };
    match c.ev.find_in_parent_folders(&c.scope.dir, &wanted) {
        Some(p) => Ok(computed(&p.to_string_lossy())),
        None if c.args.len() > 1 => c.arg(1),
        None => fail(
            Kind::Failed,
            format!(
                "`{}` finds no {wanted} above {} inside the repository",
                c.shown(),
                c.ev.files.show(&c.scope.dir)
            ),
        ),
    }
}

/// `read_terragrunt_config(path, default)`: the file, evaluated in its own folder.
fn read_terragrunt_config(c: &Call) -> Eval<Value> {
    let path = c.ev.path_arg(c.file, c.scope, c.args[0])?;
    let dir = path.parent().unwrap_or(Path::new("")).to_path_buf();
    match c.ev.hop(|| c.ev.open(&path, dir, false)) {
        Ok(i) => Ok(Value::Config(i)),
        Err(why) if why.kind == Kind::Failed && c.args.len() > 1 => c.arg(1),
        Err(why) => Err(why),
    }
}

/// `get_terragrunt_dir()`.
fn get_terragrunt_dir(c: &Call) -> Eval<Value> {
    Ok(computed(&c.scope.dir.to_string_lossy()))
}

/// `get_original_terragrunt_dir()`.
fn get_original_terragrunt_dir(c: &Call) -> Eval<Value> {
    Ok(computed(&c.ev.terragrunt_dir.to_string_lossy()))
}

/// The repository's root and the scope's folder relative to it, for the `*repo_root` functions.
fn repo_root_and_folder(c: &Call) -> Eval<(PathBuf, PathBuf)> {
    match c.ev.repo_root(&c.scope.dir) {
        Some(root) => {
            let folder = c.scope.dir.strip_prefix(&root).unwrap_or(Path::new(""));
            let folder = folder.to_path_buf();
            Ok((root, folder))
        }
        None => fail(
            Kind::Failed,
            format!("{}() finds no git repository", c.name),
        ),
    }
}

/// `get_repo_root()`.
fn get_repo_root(c: &Call) -> Eval<Value> {
    let (root, _) = repo_root_and_folder(c)?;
    Ok(computed(&root.to_string_lossy()))
}

/// `get_path_from_repo_root()`.
fn get_path_from_repo_root(c: &Call) -> Eval<Value> {
    let (_, folder) = repo_root_and_folder(c)?;
    Ok(computed(&folder.to_string_lossy()))
}

/// `get_path_to_repo_root()`: `..` once per folder below the root, `.` at the root.
fn get_path_to_repo_root(c: &Call) -> Eval<Value> {
    let (_, folder) = repo_root_and_folder(c)?;
    let ups: Vec<&str> = folder.components().map(|_| "..").collect();
    if ups.is_empty() {
        Ok(computed("."))
    } else {
        Ok(computed(&ups.join("/")))
    }
}

/// The included file's folder and the unit's folder, as Terragrunt's include functions see them:
/// in an included file, its own folder and the folder of the unit that includes it; elsewhere the
/// folder of the include named (or the first include) and the file's own. `None` without include.
fn include_folders(c: &Call) -> Eval<Option<(PathBuf, PathBuf)>> {
    let child = c.scope.dir.clone();
    let folder = |p: &Path| p.parent().unwrap_or(Path::new("")).to_path_buf();
    if c.scope.included {
        return Ok(Some((folder(&c.scope.file.path), child)));
    }
    let name = if c.args.is_empty() {
        match c.scope.first_include() {
            Some(name) => name.to_string(),
            None => return Ok(None),
        }
    } else {
        c.known_arg(0)?
    };
    let included = c.ev.included_file(c.file, c.scope, &name)?;
    Ok(Some((folder(&c.ev.file(included).path), child)))
}

/// The relative path from folder `from` to folder `to` (`.` when they are the same).
fn relative(from: &Path, to: &Path) -> String {
    let from: Vec<_> = from.components().collect();
    let to: Vec<_> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut parts: Vec<String> = vec!["..".to_string(); from.len() - common];
    parts.extend(
        to[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    if parts.is_empty() {
        ".".to_string()
    } else {
        parts.join("/")
    }
}

/// `path_relative_to_include(name)`.
fn path_relative_to_include(c: &Call) -> Eval<Value> {
    Ok(computed(&match include_folders(c)? {
        Some((parent, child)) => relative(&parent, &child),
        None => ".".to_string(),
    }))
}

/// `path_relative_from_include(name)`.
fn path_relative_from_include(c: &Call) -> Eval<Value> {
    Ok(computed(&match include_folders(c)? {
        Some((parent, child)) => relative(&child, &parent),
        None => ".".to_string(),
    }))
}

/// `get_parent_terragrunt_dir(name)`.
fn get_parent_terragrunt_dir(c: &Call) -> Eval<Value> {
    let dir = match include_folders(c)? {
        Some((parent, _)) => parent,
        None => c.scope.dir.clone(),
    };
    Ok(computed(&dir.to_string_lossy()))
}

/// `get_env(name, default)`: the default, with a note that says so; unknown without one.
fn get_env(c: &Call) -> Eval<Value> {
    let var = c.known_arg(0)?;
    if c.args.len() < 2 {
        return fail(
            Kind::Unknown,
            format!(
                "`{}` reads the environment variable {var} when Terragrunt runs",
                c.shown()
            ),
        );
    }
    let default = c.arg(1)?;
    let shown = match &default {
        Value::Str(s) if s.unknown().is_none() => format!("{:?}", s.text()),
        _ => format!("`{}`", c.scope.snippet(c.args[1].span())),
    };
    c.ev.note(format!(
        "`{}` is taken as its default {shown}: the environment variable {var} is not read when scanning, and wins when it is set where Terragrunt runs",
        c.shown()
    ));
    Ok(default)
}

/// A function whose value exists only when Terragrunt runs: unknown.
fn when_terragrunt_runs(c: &Call) -> Eval<Value> {
    fail(
        Kind::Unknown,
        format!("`{}` is known only when Terragrunt runs", c.shown()),
    )
}

/// `try(a, b, …)`: the first argument that evaluates, else the last one's failure.
fn try_(c: &Call) -> Eval<Value> {
    let last = c.args.len().saturating_sub(1);
    for i in 0..last {
        let mark = c.ev.notes_mark();
        match c.arg(i) {
            Err(why) if falls_back(&why) => c.ev.notes_back_to(mark),
            done => return done,
        }
    }
    c.arg(last)
}

/// `can(expression)`.
fn can(c: &Call) -> Eval<Value> {
    // `can` gives a boolean: what evaluating its argument assumed is not in the value.
    let mark = c.ev.notes_mark();
    let out = c.arg(0);
    c.ev.notes_back_to(mark);
    match out {
        Ok(_) => Ok(Value::Bool(true)),
        Err(why) if falls_back(&why) => Ok(Value::Bool(false)),
        Err(why) => Err(why),
    }
}

/// `coalesce(a, b, …)`.
fn coalesce(c: &Call) -> Eval<Value> {
    for i in 0..c.args.len() {
        match c.arg(i)? {
            Value::Null => continue,
            Value::Str(s) if s.len == 0 => continue,
            v => return Ok(v),
        }
    }
    c.fail(Kind::Failed, "every argument is null or empty")
}

/// `lookup(map, key, default)`.
fn lookup(c: &Call) -> Eval<Value> {
    let map = c.arg(0)?;
    let key = c.known_arg(1)?;
    let found = match &map {
        Value::Object(o) => o.items.get(&key).cloned(),
        Value::Locals(f) => match c.ev.local(*f, &key) {
            Ok(v) => Some(v),
            Err(why) if why.kind == Kind::Failed => None,
            Err(why) => return Err(why),
        },
        other => {
            return c.fail(
                Kind::Failed,
                format_args!("lookup() of {}", other.type_name()),
            );
        }
    };
    match found {
        Some(Value::Bad(why)) => Err(why),
        Some(v) => Ok(v),
        None if c.args.len() > 2 => c.arg(2),
        None => c.fail(Kind::Failed, format_args!("the map has no key {key:?}")),
    }
}

/// `format(spec, values…)`.
fn format_(c: &Call) -> Eval<Value> {
    let fmt = c.text_arg(0)?;
    let mut values = Vec::new();
    for (i, e) in c.args.iter().enumerate().skip(1) {
        values.push((c.arg(i)?, *e));
    }
    Ok(Value::Str(format(c.scope, &c.shown(), &fmt, &values)?))
}

/// `join(separator, lists…)`.
fn join(c: &Call) -> Eval<Value> {
    let sep = c.text_arg(0)?;
    let mut parts = Vec::new();
    let mut weight = 0;
    for (i, e) in c.args.iter().enumerate().skip(1) {
        let list = c.list_arg(i)?;
        for item in list.items.iter() {
            if !parts.is_empty() {
                weight += sep.weight();
                parts.push(sep.clone());
            }
            let s = to_str(c.scope, e, item.clone())?;
            weight += s.weight();
            check_weight(weight)?;
            parts.push(s);
        }
    }
    Ok(Value::Str(Str::concat(&parts)))
}

/// `concat(lists…)`.
fn concat(c: &Call) -> Eval<Value> {
    let mut lists = Vec::new();
    let mut weight = 1;
    for i in 0..c.args.len() {
        let list = c.list_arg(i)?;
        weight += list.weight;
        check_weight(weight)?;
        lists.push(list);
    }
    let items = lists.iter().flat_map(|l| l.items.iter().cloned()).collect();
    Ok(Value::List(Rc::new(Collection { items, weight })))
}

/// `merge(maps…)`: a file's locals count as a map.
fn merge(c: &Call) -> Eval<Value> {
    let mut objects = Vec::new();
    let mut weight = 1;
    for i in 0..c.args.len() {
        let object = match c.arg(i)? {
            Value::Null => continue,
            Value::Object(o) => o,
            Value::Locals(f) => {
                let items = c.ev.all_locals(f)?;
                let weight = items.iter().map(|(k, v)| k.len() + v.weight()).sum();
                Rc::new(Collection { items, weight })
            }
            other => {
                return c.fail(
                    Kind::Failed,
                    format_args!("merge() of {}", other.type_name()),
                );
            }
        };
        weight += object.weight;
        check_weight(weight)?;
        c.ev.charge(object.items.len())?;
        objects.push(object);
    }
    let mut items = BTreeMap::new();
    for o in &objects {
        items.extend(o.items.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    Ok(Value::Object(Rc::new(Collection { items, weight })))
}

/// `zipmap(keys, values)`.
fn zipmap(c: &Call) -> Eval<Value> {
    let keys = c.list_arg(0)?;
    let values = c.list_arg(1)?;
    if keys.items.len() != values.items.len() {
        return c.fail(
            Kind::Failed,
            format_args!(
                "{} keys for {} values",
                keys.items.len(),
                values.items.len()
            ),
        );
    }
    let mut items = BTreeMap::new();
    for (k, v) in keys.items.iter().zip(values.items.iter()) {
        let k = to_str(c.scope, c.args[0], k.clone())?.known()?;
        items.insert(k, v.clone());
    }
    let weight = 1 + keys.weight + values.weight;
    Ok(Value::Object(Rc::new(Collection { items, weight })))
}

/// `element(list, index)`.
fn element(c: &Call) -> Eval<Value> {
    let list = c.list_arg(0)?;
    let index = c.arg(1)?;
    let i = as_number(c.scope, c.args[1], &index)?;
    let items = &list.items;
    if items.is_empty() || i < 0.0 || i.fract() != 0.0 {
        return c.fail(Kind::Failed, "no such element");
    }
    match &items[(i as usize) % items.len()] {
        Value::Bad(why) => Err(why.clone()),
        v => Ok(v.clone()),
    }
}

/// `length(value)`.
fn length(c: &Call) -> Eval<Value> {
    let n = match c.arg(0)? {
        Value::Str(s) => s.known()?.chars().count(),
        Value::List(l) => l.items.len(),
        Value::Object(o) => o.items.len(),
        other => {
            return c.fail(
                Kind::Failed,
                format_args!("length() of {}", other.type_name()),
            );
        }
    };
    Ok(Value::Number(n as f64))
}

/// `contains(list, value)`.
fn contains(c: &Call) -> Eval<Value> {
    let list = c.list_arg(0)?;
    let wanted = c.arg(1)?;
    c.ev.charge(list.weight)?;
    for item in list.items.iter() {
        if equal(item, &wanted)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

/// `keys(map)`.
fn keys(c: &Call) -> Eval<Value> {
    let entries = c.entries_arg(0)?;
    Ok(list(
        entries.into_iter().map(|(k, _)| computed(&k)).collect(),
    ))
}

/// `values(map)`.
fn values(c: &Call) -> Eval<Value> {
    let entries = c.entries_arg(0)?;
    Ok(list(entries.into_iter().map(|(_, v)| v).collect()))
}

/// `tostring(value)`.
fn tostring(c: &Call) -> Eval<Value> {
    match c.arg(0)? {
        Value::Null => Ok(Value::Null),
        v => Ok(Value::Str(to_str(c.scope, c.args[0], v)?)),
    }
}

/// `lower(string)`.
fn lower(c: &Call) -> Eval<Value> {
    Ok(computed(&c.known_arg(0)?.to_lowercase()))
}

/// `upper(string)`.
fn upper(c: &Call) -> Eval<Value> {
    Ok(computed(&c.known_arg(0)?.to_uppercase()))
}

/// `trimspace(string)`: the pieces keep their origin.
fn trimspace(c: &Call) -> Eval<Value> {
    let s = c.text_arg(0)?;
    let text = s.known()?;
    let start = text.len() - text.trim_start().len();
    let end = text.trim_end().len().max(start);
    Ok(Value::Str(s.slice(start..end)))
}

/// `trimprefix(string, prefix)`: the pieces keep their origin.
fn trimprefix(c: &Call) -> Eval<Value> {
    trim_affix(c, |text, affix| {
        text.starts_with(affix).then_some(affix.len()..text.len())
    })
}

/// `trimsuffix(string, suffix)`: the pieces keep their origin.
fn trimsuffix(c: &Call) -> Eval<Value> {
    trim_affix(c, |text, affix| {
        text.ends_with(affix).then(|| 0..text.len() - affix.len())
    })
}

/// The first argument cut to the range `keep` gives for it and the second argument (all of it
/// when `keep` gives none).
fn trim_affix(c: &Call, keep: fn(&str, &str) -> Option<Range<usize>>) -> Eval<Value> {
    let s = c.text_arg(0)?;
    let text = s.known()?;
    let affix = c.known_arg(1)?;
    let range = keep(&text, &affix).unwrap_or(0..text.len());
    Ok(Value::Str(s.slice(range)))
}

/// `startswith(string, prefix)`.
fn startswith(c: &Call) -> Eval<Value> {
    test_affix(c, |s, prefix| s.starts_with(prefix))
}

/// `endswith(string, suffix)`.
fn endswith(c: &Call) -> Eval<Value> {
    test_affix(c, |s, suffix| s.ends_with(suffix))
}

/// Whether `test` holds for the first argument and the second.
fn test_affix(c: &Call, test: fn(&str, &str) -> bool) -> Eval<Value> {
    let s = c.known_arg(0)?;
    let affix = c.known_arg(1)?;
    Ok(Value::Bool(test(&s, &affix)))
}

/// `replace(string, substring, replacement)`, without regular expressions.
fn replace(c: &Call) -> Eval<Value> {
    let s = c.known_arg(0)?;
    let old = c.known_arg(1)?;
    let new = c.known_arg(2)?;
    if old.len() > 1 && old.starts_with('/') && old.ends_with('/') {
        return c.fail(Kind::Unsupported, "regular expressions are not evaluated");
    }
    if old.is_empty() {
        return c.fail(Kind::Failed, "replace() of \"\"");
    }
    let count = s.matches(old.as_str()).count();
    check_weight((s.len() - count * old.len()).saturating_add(count.saturating_mul(new.len())))?;
    Ok(computed(&s.replace(&old, &new)))
}

/// `split(separator, string)`: the parts keep their origin.
fn split(c: &Call) -> Eval<Value> {
    let sep = c.known_arg(0)?;
    let s = c.text_arg(1)?;
    let text = s.known()?;
    if sep.is_empty() {
        return c.fail(Kind::Failed, "split() on \"\"");
    }
    let mut items = Vec::new();
    let mut start = 0;
    for (i, _) in text.match_indices(&sep) {
        items.push(Value::Str(s.slice(start..i)));
        start = i + sep.len();
    }
    items.push(Value::Str(s.slice(start..text.len())));
    Ok(list(items))
}

/// `dirname(path)`.
fn dirname(c: &Call) -> Eval<Value> {
    let path = c.known_arg(0)?;
    Ok(computed(
        &Path::new(&path)
            .parent()
            .unwrap_or(Path::new(""))
            .to_string_lossy(),
    ))
}

/// `basename(path)`.
fn basename(c: &Call) -> Eval<Value> {
    let path = c.known_arg(0)?;
    let name = Path::new(&path)
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(computed(&name))
}

/// `format()` with the verbs live configurations use (`%s`, `%d`, `%v`, `%q`, `%%`): the format
/// string's own text keeps its origin, so a version written in it stays editable.
fn format(scope: &Scope, shown: &str, fmt: &Str, args: &[(Value, &Expression)]) -> Eval<Str> {
    let text = fmt.known()?;
    let mut parts = Vec::new();
    let mut next = 0;
    let mut literal_start = 0;
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c != '%' {
            continue;
        }
        let Some(&(j, verb)) = chars.peek() else {
            return fail(Kind::Failed, format!("`{shown}`: the format ends with %"));
        };
        chars.next();
        parts.push(fmt.slice(literal_start..i));
        literal_start = j + verb.len_utf8();
        if verb == '%' {
            parts.push(fmt.slice(j..j + 1));
            continue;
        }
        let Some((value, expr)) = args.get(next) else {
            return fail(
                Kind::Failed,
                format!("`{shown}`: more verbs than arguments"),
            );
        };
        next += 1;
        parts.push(format_verb(scope, shown, verb, value, expr)?);
    }
    parts.push(fmt.slice(literal_start..text.len()));
    check_weight(parts.iter().map(Str::weight).sum())?;
    Ok(Str::concat(&parts))
}

/// One value as a `format()` verb (other than `%%`) writes it.
fn format_verb(
    scope: &Scope,
    shown: &str,
    verb: char,
    value: &Value,
    expr: &Expression,
) -> Eval<Str> {
    match verb {
        's' | 'v' | 'd' => to_str(scope, expr, value.clone()),
        'q' => {
            let inner = to_str(scope, expr, value.clone())?.known()?;
            let mut q = String::new();
            let _ = write!(q, "{inner:?}");
            Ok(Str::computed(&q))
        }
        other => fail(
            Kind::Unsupported,
            format!("`{shown}`: the format verb %{other} is not evaluated"),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::{Files, LoadedFile, parse};
    use super::*;
    use std::collections::HashSet;
    use std::sync::Arc;

    /// No other file exists.
    struct NoFiles;

    impl Files for NoFiles {
        fn load(&self, path: &Path) -> Result<Arc<LoadedFile>, String> {
            Err(format!("{} not found", path.display()))
        }
        fn exists(&self, _path: &Path) -> bool {
            false
        }
    }

    /// Each attribute of `text`'s block, evaluated: its value or why it has none.
    fn evaluated(text: &str) -> Vec<Result<String, (Kind, String)>> {
        let scanned = Arc::new(LoadedFile {
            path: PathBuf::from("dev/app/terragrunt.hcl"),
            text: text.to_string(),
            body: parse(text).unwrap(),
            bom: 0,
        });
        let block = scanned.body.blocks().next().unwrap();
        block
            .body
            .attributes()
            .map(|a| {
                let ev = Evaluator::new(scanned.clone(), &NoFiles);
                match ev.eval_scanned(&a.value) {
                    Ok(Value::Str(s)) => Ok(s.text()),
                    Ok(other) => Ok(other.type_name().to_string()),
                    Err(why) => Err((why.kind, why.message.clone())),
                }
            })
            .collect()
    }

    #[test]
    fn arguments_are_counted_against_the_table_before_any_is_evaluated() {
        let failed = |m: &str| Err((Kind::Failed, m.to_string()));
        assert_eq!(
            evaluated(
                "x {\n  a = lower(\"A\")\n  b = lower(\"A\", \"B\")\n  c = replace(var.x, \"a\")\n  \
                 d = try()\n  e = read_terragrunt_config()\n  f = get_repo_root(1)\n  \
                 g = lookup({}, \"k\", 1, 2)\n  h = nope()\n}\n"
            ),
            [
                Ok("a".to_string()),
                failed("`lower(\"A\", \"B\")`: lower() takes at most 1 argument"),
                failed("`replace(var.x, \"a\")`: replace() is missing an argument"),
                failed("`try()`: try() needs an argument"),
                failed("`read_terragrunt_config()`: read_terragrunt_config() needs a path"),
                failed("`get_repo_root(1)`: get_repo_root() takes no arguments"),
                failed("`lookup({}, \"k\", 1, 2)`: lookup() takes at most 3 arguments"),
                Err((
                    Kind::Unsupported,
                    "the function nope() is not evaluated".to_string()
                )),
            ]
        );
    }

    #[test]
    fn the_table_names_each_function_once_with_a_one_line_doc_and_an_arity() {
        let mut names = HashSet::new();
        for f in FUNCTIONS {
            assert!(names.insert(f.name), "{} is listed twice", f.name);
            assert!(f.min <= f.max, "{}: min over max", f.name);
            assert!(
                !f.doc.is_empty() && !f.doc.contains('\n') && f.doc.len() <= 90,
                "{}: the doc is one short line",
                f.name
            );
        }
    }
}
