//! The forms that repeat or choose: `for` expressions, splats (`list[*].x`, `list.*.x`) and string
//! templates with their directives (`%{ if }`, `%{ for }`) and whitespace stripping (`~`). Text
//! keeps its origin through them: a version written in a literal that a `for` or a directive
//! picks stays editable where it is written.

use super::{
    Collection, Eval, Evaluator, Kind, MAX_VALUE, Origin, Piece, Scope, Str, UNKNOWN_MARK, Value,
    as_bool, fail, literal, to_str,
};
use hcl_edit::Span;
use hcl_edit::expr::{Expression, ForExpr, Traversal, TraversalOperator};
use hcl_edit::template::{Directive, Element, ForDirective, IfDirective, Strip, Template};
use std::collections::BTreeMap;
use std::rc::Rc;

/// A part of a template being evaluated.
enum Item {
    /// Literal text, which a strip marker beside it trims.
    Literal(Str),
    /// An interpolation's value, or an unknown piece.
    Text(Str),
    /// A strip marker: `left` trims the literal just before it (`${~`, `%{~`), `right` the
    /// literal just after it (`~}`).
    Marker { left: bool, right: bool },
}

/// Where template parts are collected.
struct Parts {
    items: Vec<Item>,
    /// The weight of the text built so far: interpolated text, and literal text once a `for`
    /// directive repeats it (literal text written once is bounded by the file's size).
    weight: usize,
    /// How many `for` directives are being evaluated around the current element.
    repeating: usize,
}

impl Parts {
    fn push_text(&mut self, s: Str, literal: bool) -> Eval<()> {
        self.weight += if literal && self.repeating == 0 {
            1
        } else {
            s.weight()
        };
        if self.weight > MAX_VALUE {
            return fail(
                Kind::TooLarge,
                format!("a value would exceed {MAX_VALUE} bytes"),
            );
        }
        self.items.push(if literal {
            Item::Literal(s)
        } else {
            Item::Text(s)
        });
        Ok(())
    }

    fn marker(&mut self, left: bool, right: bool) {
        if left || right {
            self.items.push(Item::Marker { left, right });
        }
    }

    /// An unknown piece in place of what could not be evaluated.
    fn unknown(&mut self, why: Rc<super::Why>) -> Eval<()> {
        self.push_text(
            Str::from_pieces(vec![Piece {
                text: UNKNOWN_MARK.into(),
                origin: Origin::Unknown(why),
            }]),
            false,
        )
    }

    /// The text, each literal trimmed where a marker beside it says so.
    fn finish(self) -> Vec<Str> {
        let mut trim: Vec<(bool, bool)> = vec![(false, false); self.items.len()];
        for (i, item) in self.items.iter().enumerate() {
            if let Item::Marker { left, right } = item {
                if *left && i > 0 {
                    trim[i - 1].1 = true;
                }
                if *right && i + 1 < trim.len() {
                    trim[i + 1].0 = true;
                }
            }
        }
        let mut out = Vec::with_capacity(self.items.len());
        for (item, (start, end)) in self.items.into_iter().zip(trim) {
            match item {
                Item::Literal(s) => {
                    let text = s.text();
                    let from = if start {
                        text.len() - text.trim_start().len()
                    } else {
                        0
                    };
                    let to = if end {
                        text.trim_end().len().max(from)
                    } else {
                        text.len()
                    };
                    out.push(if (from, to) == (0, text.len()) {
                        s
                    } else {
                        s.slice(from..to)
                    });
                }
                Item::Text(s) => out.push(s),
                Item::Marker { .. } => {}
            }
        }
        out
    }
}

impl Evaluator<'_> {
    /// The value of a `for` variable in scope, innermost first.
    pub(super) fn bound(&self, name: &str) -> Option<Value> {
        self.bindings
            .borrow()
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
    }

    /// Evaluates `f` with `vars` bound, then unbinds them.
    fn with_bound<T>(&self, vars: Vec<(String, Value)>, f: impl FnOnce() -> Eval<T>) -> Eval<T> {
        let n = vars.len();
        self.bindings.borrow_mut().extend(vars);
        let out = f();
        let mut bindings = self.bindings.borrow_mut();
        let keep = bindings.len() - n;
        bindings.truncate(keep);
        out
    }

    /// What a `for` iterates over: a list's indexes and items, a map's keys and values.
    fn iteration(
        &self,
        file: usize,
        scope: &Scope,
        expr: &Expression,
    ) -> Eval<Vec<(Value, Value)>> {
        let items: Vec<(Value, Value)> = match self.eval(file, expr)? {
            Value::List(l) => l
                .items
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::Number(i as f64), v.clone()))
                .collect(),
            Value::Object(o) => o
                .items
                .iter()
                .map(|(k, v)| (Value::Str(Str::computed(k)), v.clone()))
                .collect(),
            Value::Locals(f) => self
                .all_locals(f)?
                .into_iter()
                .map(|(k, v)| (Value::Str(Str::computed(&k)), v))
                .collect(),
            Value::Bad(why) => return Err(why),
            other => {
                return fail(
                    Kind::Failed,
                    format!(
                        "`{}` is {}, not a collection to iterate over",
                        scope.snippet(expr.span()),
                        other.type_name()
                    ),
                );
            }
        };
        self.charge(items.len())?;
        Ok(items)
    }

    /// The variables one iteration binds.
    fn iteration_vars(
        key_var: Option<&str>,
        value_var: &str,
        key: Value,
        value: Value,
    ) -> Vec<(String, Value)> {
        let mut vars = Vec::with_capacity(2);
        if let Some(k) = key_var {
            vars.push((k.to_string(), key));
        }
        vars.push((value_var.to_string(), value));
        vars
    }

    /// `[for k, v in coll : value if cond]` and `{for k, v in coll : key => value... if cond}`.
    pub(super) fn for_expr(&self, file: usize, scope: &Scope, f: &ForExpr) -> Eval<Value> {
        let intro = &f.intro;
        let items = self.iteration(file, scope, &intro.collection_expr)?;
        let key_var = intro.key_var.as_ref().map(|k| k.as_str());
        let mut list = Vec::new();
        let mut object: BTreeMap<String, Value> = BTreeMap::new();
        let mut groups: BTreeMap<String, Vec<Value>> = BTreeMap::new();
        let mut weight = 1;
        for (k, v) in items {
            let vars = Self::iteration_vars(key_var, intro.value_var.as_str(), k, v);
            let produced = self.with_bound(vars, || {
                if let Some(cond) = &f.cond {
                    let c = self.eval(file, &cond.expr)?;
                    if !as_bool(scope, &cond.expr, &c)? {
                        return Ok(None);
                    }
                }
                let key = match &f.key_expr {
                    Some(e) => Some(self.map_key(file, scope, e)?),
                    None => None,
                };
                Ok(Some((key, self.element(file, &f.value_expr)?)))
            })?;
            let Some((key, value)) = produced else {
                continue;
            };
            weight += value.weight() + key.as_ref().map_or(0, String::len);
            if weight > MAX_VALUE {
                return fail(
                    Kind::TooLarge,
                    format!("a value would exceed {MAX_VALUE} bytes"),
                );
            }
            match key {
                None => list.push(value),
                Some(key) if f.grouping => groups.entry(key).or_default().push(value),
                Some(key) if object.contains_key(&key) => {
                    return fail(
                        Kind::Failed,
                        format!(
                            "`{}` makes the key {key:?} twice (`...` after the value groups them)",
                            scope.snippet(f.span())
                        ),
                    );
                }
                Some(key) => {
                    object.insert(key, value);
                }
            }
        }
        let value = if f.key_expr.is_none() {
            Value::List(Rc::new(Collection {
                items: list,
                weight,
            }))
        } else {
            for (key, items) in groups {
                let w = 1 + items.iter().map(Value::weight).sum::<usize>();
                object.insert(key, Value::List(Rc::new(Collection { items, weight: w })));
            }
            Value::Object(Rc::new(Collection {
                items: object,
                weight,
            }))
        };
        self.built(value)
    }

    /// Applies a traversal's operators to a value; a splat applies the operators after it to
    /// each item (`[*]` all of them, `.*` the attribute names that follow it).
    pub(super) fn operators(
        &self,
        file: usize,
        scope: &Scope,
        t: &Traversal,
        mut value: Value,
        ops: &[&TraversalOperator],
    ) -> Eval<Value> {
        for (i, op) in ops.iter().enumerate() {
            let full = match op {
                TraversalOperator::FullSplat(_) => true,
                TraversalOperator::AttrSplat(_) => false,
                op => {
                    value = self.step(file, scope, t, value, op)?;
                    continue;
                }
            };
            let rest = &ops[i + 1..];
            let each = if full {
                rest.len()
            } else {
                rest.iter()
                    .take_while(|o| matches!(o, TraversalOperator::GetAttr(_)))
                    .count()
            };
            // As Terraform: null is no item, a value that is not a list is one.
            let items = match value {
                Value::Null => Vec::new(),
                Value::List(l) => l.items.clone(),
                Value::Bad(why) => return Err(why),
                other => vec![other],
            };
            self.charge(items.len())?;
            let mut out = Vec::with_capacity(items.len());
            let mut weight = 1;
            for item in items {
                if let Value::Bad(why) = item {
                    return Err(why);
                }
                let v = self.operators(file, scope, t, item, &rest[..each])?;
                weight += v.weight();
                out.push(v);
            }
            let list = self.built(Value::List(Rc::new(Collection { items: out, weight })))?;
            return self.operators(file, scope, t, list, &rest[each..]);
        }
        Ok(value)
    }

    /// A string template, its directives evaluated and its strip markers applied.
    pub(super) fn template(&self, file: usize, t: &Template) -> Eval<Value> {
        let scope = self.scope(file);
        let mut parts = Parts {
            items: Vec::new(),
            weight: 0,
            repeating: 0,
        };
        self.template_parts(file, &scope, t, &mut parts)?;
        self.charge(parts.weight)?;
        Ok(Value::Str(Str::concat(&parts.finish())))
    }

    fn template_parts(
        &self,
        file: usize,
        scope: &Scope,
        t: &Template,
        parts: &mut Parts,
    ) -> Eval<()> {
        for el in t.iter() {
            match el {
                Element::Literal(lit) => {
                    let s = Str::from_pieces(vec![literal(scope, file, lit.value(), lit.span())]);
                    parts.push_text(s, true)?;
                }
                Element::Interpolation(i) => {
                    parts.marker(i.strip.strip_start(), false);
                    match self
                        .eval(file, &i.expr)
                        .and_then(|v| to_str(scope, &i.expr, v))
                    {
                        Ok(s) => parts.push_text(s, false)?,
                        Err(why) if why.kind == Kind::TooLarge => return Err(why),
                        Err(why) => parts.unknown(why)?,
                    }
                    parts.marker(false, i.strip.strip_end());
                }
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(d) => self.if_directive(file, scope, d, parts)?,
                    Directive::For(d) => self.for_directive(file, scope, d, parts)?,
                },
            }
        }
        Ok(())
    }

    /// `%{ if cond }…%{ else }…%{ endif }`: the branch taken; an unknown condition is an
    /// unknown piece.
    fn if_directive(
        &self,
        file: usize,
        scope: &Scope,
        d: &IfDirective,
        parts: &mut Parts,
    ) -> Eval<()> {
        let cond = &d.if_expr.cond_expr;
        let taken = match self.eval(file, cond).and_then(|v| as_bool(scope, cond, &v)) {
            Ok(taken) => taken,
            Err(why) if why.kind == Kind::TooLarge => return Err(why),
            Err(why) => return parts.unknown(why),
        };
        let marker = |parts: &mut Parts, strip: Strip| {
            parts.marker(strip.strip_start(), strip.strip_end());
        };
        marker(parts, d.if_expr.strip);
        if taken {
            self.template_parts(file, scope, &d.if_expr.template, parts)?;
        }
        if let Some(e) = &d.else_expr {
            marker(parts, e.strip);
            if !taken {
                self.template_parts(file, scope, &e.template, parts)?;
            }
        }
        marker(parts, d.endif_expr.strip);
        Ok(())
    }

    /// `%{ for k, v in coll }…%{ endfor }`: the body once per item; an unknown collection is an
    /// unknown piece.
    fn for_directive(
        &self,
        file: usize,
        scope: &Scope,
        d: &ForDirective,
        parts: &mut Parts,
    ) -> Eval<()> {
        let head = &d.for_expr;
        let items = match self.iteration(file, scope, &head.collection_expr) {
            Ok(items) => items,
            Err(why) if why.kind == Kind::TooLarge => return Err(why),
            Err(why) => return parts.unknown(why),
        };
        let key_var = head.key_var.as_ref().map(|k| k.as_str());
        let (open, close) = (head.strip, d.endfor_expr.strip);
        parts.marker(open.strip_start(), false);
        parts.repeating += 1;
        for (k, v) in items {
            let vars = Self::iteration_vars(key_var, head.value_var.as_str(), k, v);
            self.with_bound(vars, || {
                parts.marker(false, open.strip_end());
                self.template_parts(file, scope, &head.template, parts)?;
                parts.marker(close.strip_start(), false);
                Ok(())
            })?;
        }
        parts.repeating -= 1;
        parts.marker(false, close.strip_end());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::{Files, LoadedFile, parse};
    use super::*;
    use std::path::{Path, PathBuf};
    use std::sync::Arc;

    struct NoFiles;

    impl Files for NoFiles {
        fn load(&self, path: &Path) -> Result<Arc<LoadedFile>, String> {
            Err(format!("{} not found", path.display()))
        }
        fn exists(&self, _path: &Path) -> bool {
            false
        }
    }

    /// Each attribute of the `x` block of `text`, evaluated: its text and the text its pieces
    /// are written at (`-` for a piece not written as is), or why it has no value.
    fn evaluated(text: &str) -> Vec<Result<(String, String), String>> {
        let scanned = Arc::new(LoadedFile {
            path: PathBuf::from("dev/app/terragrunt.hcl"),
            text: text.to_string(),
            body: parse(text).unwrap(),
            bom: 0,
        });
        let block = scanned
            .body
            .blocks()
            .find(|b| b.ident.as_str() == "x")
            .unwrap();
        block
            .body
            .attributes()
            .map(|a| {
                let ev = Evaluator::new(scanned.clone(), &NoFiles);
                match ev.eval_scanned(&a.value) {
                    Ok(Value::Str(s)) => {
                        let written: Vec<&str> = s
                            .pieces()
                            .iter()
                            .map(|p| match &p.origin {
                                Origin::Written { span, .. } => &text[span.clone()],
                                _ => "-",
                            })
                            .collect();
                        Ok((s.text(), written.join("|")))
                    }
                    Ok(other) => Ok((other.type_name().to_string(), String::new())),
                    Err(why) => Err(why.message.clone()),
                }
            })
            .collect()
    }

    fn ok(text: &str, written: &str) -> Result<(String, String), String> {
        Ok((text.to_string(), written.to_string()))
    }

    #[test]
    fn for_expressions_build_lists_and_maps_that_keep_where_text_is_written() {
        let text = "locals {\n  mods = { vpc = { ref = \"v1.0.0\" }, eks = { ref = \"v2.0.0\" }, off = null }\n  \
                    refs = { for k, m in local.mods : k => m.ref if m != null }\n  \
                    list = [for k, m in local.mods : \"${k}@${m.ref}\" if m != null]\n  \
                    grouped = { for m in [\"a\", \"b\", \"a\"] : m => m... }\n  \
                    twice = { for m in [\"a\", \"a\"] : m => m }\n}\n\
                    x {\n  a = local.refs.vpc\n  b = local.list[1]\n  c = join(\",\", local.grouped.a)\n  \
                    d = local.twice.a\n  e = [for x in 1 : x]\n}\n";
        let got = evaluated(text);
        assert_eq!(got[0], ok("v1.0.0", "v1.0.0"));
        assert_eq!(got[1], ok("vpc@v1.0.0", "-|@|v1.0.0"));
        assert_eq!(got[2], ok("a,a", "a|,|a"));
        assert!(
            got[3]
                .as_ref()
                .unwrap_err()
                .contains("makes the key \"a\" twice")
        );
        assert!(got[4].as_ref().unwrap_err().contains("not a collection"));
    }

    #[test]
    fn splats_apply_what_follows_to_each_item() {
        let text = "locals {\n  mods = [{ name = \"vpc\", ref = \"v1.0.0\" }, { name = \"eks\", ref = \"v2.0.0\" }]\n  \
                    one = { name = \"rds\", ref = \"v3.0.0\" }\n}\n\
                    x {\n  a = zipmap(local.mods[*].name, local.mods[*].ref)[\"eks\"]\n  \
                    b = local.mods.*.ref[0]\n  c = (local.one[*].ref)[0]\n  d = length(null[*])\n  \
                    e = local.mods[*].nope[0]\n}\n";
        let got = evaluated(text);
        assert_eq!(got[0], ok("v2.0.0", "v2.0.0"));
        assert_eq!(got[1], ok("v1.0.0", "v1.0.0"));
        assert_eq!(got[2], ok("v3.0.0", "v3.0.0"));
        assert_eq!(got[3], ok("a number", ""));
        assert!(got[4].as_ref().unwrap_err().contains("no key \"nope\""));
    }

    #[test]
    fn template_directives_pick_and_repeat_literals_and_strip_around_markers() {
        let text = "locals {\n  prod = false\n  mods = [\"a\", \"b\"]\n}\n\
                    x {\n  a = \"ref=%{ if local.prod }v2.0.0%{ else }v1.0.0%{ endif }\"\n  \
                    b = \"%{ for m in local.mods }${m},%{ endfor }\"\n  \
                    c = \"ref= %{~ if !local.prod ~} v1.0.0 %{~ endif ~} &x\"\n  \
                    d = \"%{ if var.prod }v2%{ endif }\"\n  \
                    e = \"x ${~ \"y\" ~} z\"\n}\n";
        let got = evaluated(text);
        assert_eq!(got[0], ok("ref=v1.0.0", "ref=|v1.0.0"));
        assert_eq!(got[1], ok("a,b,", "a|,|b|,"));
        assert_eq!(got[2], ok("ref=v1.0.0&x", "ref=|v1.0.0|&x"));
        let (d, _) = got[3].clone().unwrap();
        assert_eq!(d, UNKNOWN_MARK, "an unknown condition is an unknown piece");
        assert_eq!(got[4], ok("xyz", "x|y|z"));
    }
}
