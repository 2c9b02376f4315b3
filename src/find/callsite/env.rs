//! Evaluates the paths Terragrunt reads (an include's `path`, a dependency's `config_path`):
//! strings, templates, `local.x` of the unit and Terragrunt's path functions, nothing more.

use super::{code, snippet};
use hcl_edit::Span;
use hcl_edit::expr::{Expression, TraversalOperator};
use hcl_edit::structure::Body;
use std::path::{Path, PathBuf};

/// How deep an include path may refer to locals before Baton gives up.
const MAX_DEPTH: usize = 8;

/// An include path: strings, templates, `local.x` of the unit and Terragrunt's path functions.
pub(super) struct Env<'a> {
    pub(super) text: &'a str,
    pub(super) body: &'a Body,
    pub(super) dir: &'a Path,
    /// Whether a file exists (the reader's cache: units of one folder look for the same files).
    pub(super) exists: &'a dyn Fn(&Path) -> bool,
    /// The nearest file of a name in a folder or above it (the reader's cache: the units of a
    /// folder look from the same one).
    pub(super) find_up: &'a dyn Fn(&Path, &str) -> Option<PathBuf>,
}

impl Env<'_> {
    /// The path `expr` leads to, from the unit's folder.
    pub(super) fn path(&self, expr: &Expression) -> Result<PathBuf, String> {
        let p = PathBuf::from(self.eval(expr, 0)?);
        Ok(crate::find::hcl::normalize(&if p.is_absolute() {
            p
        } else {
            self.dir.join(p)
        }))
    }

    /// The string `expr` evaluates to, or why it does not.
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
                        (self.dir.parent())
                            .and_then(|above| (self.find_up)(above, &wanted))
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
                        .find(|d| (self.exists)(&d.join(".git")))
                        .map(|d| d.to_string_lossy().into_owned())
                        .ok_or_else(|| "get_repo_root() finds no git repository".into()),
                    other => Err(format!("{other}() is not evaluated")),
                }
            }
            other => Err(code(&snippet(self.text, other.span()))),
        }
    }
}
