//! A module's interface as its callers see it (input variables with their types and defaults,
//! outputs, required providers and Terraform version), read from its `*.tf` files, and what a
//! new version changed in it. Only the syntax is read: nothing is evaluated.

use crate::find::hcl::{self, LineIndex};
use crate::version::{Constraint, Version};
use hcl_edit::Span;
use hcl_edit::expr::{Expression, ObjectKey};
use hcl_edit::structure::Body;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Where something is declared in a module: file (relative to the module's folder) and line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    /// File name relative to the module's folder.
    pub file: String,
    /// 1-based line.
    pub line: usize,
}

/// One `variable` block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// The type as written, whitespace removed; `None` when no type is declared (any).
    pub type_expr: Option<String>,
    /// True when the variable has no `default`: every caller must pass it.
    pub required: bool,
    /// Where it is declared.
    pub at: Declared,
}

/// One entry of `required_providers`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provider {
    /// `source` (`hashicorp/aws`), when written.
    pub source: Option<String>,
    /// The version constraint, when written.
    pub version: Option<String>,
}

/// What a module offers its callers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Interface {
    /// Input variables by name.
    pub variables: BTreeMap<String, Variable>,
    /// Outputs by name.
    pub outputs: BTreeMap<String, Declared>,
    /// `required_providers` by local name.
    pub providers: BTreeMap<String, Provider>,
    /// `required_version`, when written.
    pub required_version: Option<String>,
    /// Sources of `module` blocks that are local paths (`../other`), as written.
    pub local_modules: BTreeSet<String>,
    /// Files that could not be read, with the reason: the interface may be incomplete.
    pub problems: Vec<String>,
}

impl Interface {
    /// Reads the interface from a module's files: `(file name, text)` pairs. Files that are not
    /// `*.tf` or `*.tofu` are ignored.
    pub fn read<'a>(files: impl IntoIterator<Item = (&'a str, &'a str)>) -> Interface {
        let mut out = Interface::default();
        for (name, text) in files {
            if !(name.ends_with(".tf") || name.ends_with(".tofu")) {
                continue;
            }
            let (text, _) = hcl::strip_bom(text);
            match hcl::parse(text) {
                Ok(body) => out.add(name, text, &body),
                Err(e) => out.problems.push(format!(
                    "{name}:{}:{}: cannot parse HCL: {}",
                    e.line, e.column, e.message
                )),
            }
        }
        out
    }

    fn add(&mut self, file: &str, text: &str, body: &Body) {
        let lines = LineIndex::new(text);
        let at = |span: Option<std::ops::Range<usize>>| Declared {
            file: file.to_string(),
            line: lines.line(span.map_or(0, |s| s.start)),
        };
        for block in body.blocks() {
            let label = block.labels.first().map(|l| l.as_str().to_string());
            match (block.ident.as_str(), label) {
                ("variable", Some(name)) => {
                    let type_expr = block
                        .body
                        .get_attribute("type")
                        .map(|a| compact(text, a.value.span()));
                    let required = block.body.get_attribute("default").is_none();
                    self.variables.insert(
                        name,
                        Variable {
                            type_expr,
                            required,
                            at: at(block.span()),
                        },
                    );
                }
                ("output", Some(name)) => {
                    self.outputs.insert(name, at(block.span()));
                }
                ("module", _) => {
                    if let Some(Expression::String(s)) =
                        block.body.get_attribute("source").map(|a| &a.value)
                    {
                        let src = s.value().trim();
                        if src.starts_with("./") || src.starts_with("../") {
                            self.local_modules.insert(src.to_string());
                        }
                    }
                }
                ("terraform", None) => self.add_terraform(text, &block.body),
                _ => {}
            }
        }
    }

    fn add_terraform(&mut self, text: &str, body: &Body) {
        if let Some(a) = body.get_attribute("required_version") {
            self.required_version = Some(string_or_text(text, &a.value));
        }
        for block in body
            .blocks()
            .filter(|b| b.ident.as_str() == "required_providers")
        {
            for attr in block.body.attributes() {
                let name = attr.key.as_str().to_string();
                let provider = match &attr.value {
                    Expression::Object(o) => {
                        let mut p = Provider {
                            source: None,
                            version: None,
                        };
                        for (key, value) in o.iter() {
                            let key = match key {
                                ObjectKey::Ident(i) => i.as_str().to_string(),
                                ObjectKey::Expression(Expression::String(s)) => {
                                    s.value().to_string()
                                }
                                ObjectKey::Expression(_) => continue,
                            };
                            let value = string_or_text(text, value.expr());
                            match key.as_str() {
                                "source" => p.source = Some(value),
                                "version" => p.version = Some(value),
                                _ => {}
                            }
                        }
                        p
                    }
                    // The legacy form: `aws = ">= 2.7"`.
                    other => Provider {
                        source: None,
                        version: Some(string_or_text(text, other)),
                    },
                };
                self.providers.insert(name, provider);
            }
        }
    }
}

/// The text of an expression with all whitespace removed (types compare by it).
fn compact(text: &str, span: Option<std::ops::Range<usize>>) -> String {
    span.and_then(|s| text.get(s))
        .unwrap_or("")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect()
}

/// A string's value, or the expression as written.
fn string_or_text(text: &str, expr: &Expression) -> String {
    match expr {
        Expression::String(s) => s.value().to_string(),
        other => other
            .span()
            .and_then(|s| text.get(s))
            .unwrap_or("")
            .trim()
            .to_string(),
    }
}

/// One change of a module's interface between two versions.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "Kind")]
pub enum Change {
    /// An input variable was removed: passing it is now an error.
    InputRemoved {
        /// The variable.
        #[serde(rename = "Name")]
        name: String,
    },
    /// An input must now be passed: it lost its default, or it is new and has none.
    InputRequired {
        /// The variable.
        #[serde(rename = "Name")]
        name: String,
        /// True when the variable did not exist before.
        #[serde(rename = "New")]
        new: bool,
    },
    /// An input's declared type changed.
    InputTypeChanged {
        /// The variable.
        #[serde(rename = "Name")]
        name: String,
        /// The type before (`None`: any).
        #[serde(rename = "From")]
        from: Option<String>,
        /// The type now (`None`: any).
        #[serde(rename = "To")]
        to: Option<String>,
    },
    /// An output was removed: reading it is now an error.
    OutputRemoved {
        /// The output.
        #[serde(rename = "Name")]
        name: String,
    },
    /// A provider's version constraint now excludes versions it allowed, or a provider is new.
    ProviderTightened {
        /// The provider's local name (`aws`).
        #[serde(rename = "Name")]
        name: String,
        /// Its source address, when written.
        #[serde(rename = "Source")]
        source: Option<String>,
        /// The constraint before (`None`: none, or the provider was not required).
        #[serde(rename = "From")]
        from: Option<String>,
        /// The constraint now.
        #[serde(rename = "To")]
        to: Option<String>,
    },
    /// `required_version` now excludes Terraform versions it allowed.
    TerraformTightened {
        /// The constraint before.
        #[serde(rename = "From")]
        from: Option<String>,
        /// The constraint now.
        #[serde(rename = "To")]
        to: String,
    },
}

impl Change {
    /// The variable or output a caller's code names, for the input and output changes.
    pub fn name(&self) -> Option<&str> {
        match self {
            Change::InputRemoved { name }
            | Change::InputRequired { name, .. }
            | Change::InputTypeChanged { name, .. }
            | Change::OutputRemoved { name } => Some(name),
            Change::ProviderTightened { .. } | Change::TerraformTightened { .. } => None,
        }
    }
}

/// What changed from `old` to `new`, sorted (inputs, then outputs, then constraints).
pub fn diff(old: &Interface, new: &Interface) -> Vec<Change> {
    let mut out = Vec::new();
    for (name, before) in &old.variables {
        match new.variables.get(name) {
            None => out.push(Change::InputRemoved { name: name.clone() }),
            Some(after) => {
                if after.required && !before.required {
                    out.push(Change::InputRequired {
                        name: name.clone(),
                        new: false,
                    });
                }
                if after.type_expr != before.type_expr {
                    out.push(Change::InputTypeChanged {
                        name: name.clone(),
                        from: before.type_expr.clone(),
                        to: after.type_expr.clone(),
                    });
                }
            }
        }
    }
    for (name, after) in &new.variables {
        if after.required && !old.variables.contains_key(name) {
            out.push(Change::InputRequired {
                name: name.clone(),
                new: true,
            });
        }
    }
    for name in old.outputs.keys() {
        if !new.outputs.contains_key(name) {
            out.push(Change::OutputRemoved { name: name.clone() });
        }
    }
    for (name, after) in &new.providers {
        let before = old.providers.get(name).and_then(|p| p.version.as_deref());
        if tightened(before, after.version.as_deref()) {
            out.push(Change::ProviderTightened {
                name: name.clone(),
                source: after.source.clone(),
                from: before.map(str::to_string),
                to: after.version.clone(),
            });
        }
    }
    if let Some(to) = &new.required_version {
        if tightened(old.required_version.as_deref(), Some(to)) {
            out.push(Change::TerraformTightened {
                from: old.required_version.clone(),
                to: to.clone(),
            });
        }
    }
    out.sort_by_key(order);
    out
}

fn order(c: &Change) -> (u8, String) {
    let rank = match c {
        Change::InputRemoved { .. } => 0,
        Change::InputRequired { .. } => 1,
        Change::InputTypeChanged { .. } => 2,
        Change::OutputRemoved { .. } => 3,
        Change::ProviderTightened { .. } => 4,
        Change::TerraformTightened { .. } => 5,
    };
    let name = match c {
        Change::ProviderTightened { name, .. } => name.clone(),
        other => other.name().unwrap_or("").to_string(),
    };
    (rank, name)
}

/// Whether `new` excludes a version that `old` allowed. A constraint that appears is a
/// tightening; one that cannot be parsed counts as one when its text changed (it must be read).
pub fn tightened(old: Option<&str>, new: Option<&str>) -> bool {
    let Some(new) = new.map(str::trim).filter(|n| !n.is_empty()) else {
        return false;
    };
    let Some(old) = old.map(str::trim).filter(|o| !o.is_empty()) else {
        return true;
    };
    if old == new {
        return false;
    }
    let (Ok(before), Ok(after)) = (Constraint::parse(old), Constraint::parse(new)) else {
        return true;
    };
    let mut candidates = Vec::new();
    for c in before.clauses().iter().chain(after.clauses()) {
        let v = &c.version;
        candidates.push(Version::new(v.major, v.minor, v.patch));
        candidates.push(Version::new(v.major, v.minor, v.patch + 1));
        candidates.push(Version::new(v.major, v.minor + 1, 0));
        candidates.push(Version::new(v.major + 1, 0, 0));
        if v.patch > 0 {
            candidates.push(Version::new(v.major, v.minor, v.patch - 1));
        }
        if v.minor > 0 {
            candidates.push(Version::new(v.major, v.minor - 1, 999));
        }
        if v.major > 0 {
            candidates.push(Version::new(v.major - 1, 999, 999));
        }
    }
    candidates
        .iter()
        .any(|v| before.matches(v) && !after.matches(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn iface(files: &[(&str, &str)]) -> Interface {
        Interface::read(files.iter().copied())
    }

    const V1: &str = r#"
variable "name" {
  type = string
}
variable "enable_classiclink" {
  type    = bool
  default = false
}
variable "cidr_block" {
  type    = string
  default = "10.0.0.0/16"
}
variable "azs" {
  type    = string
  default = ""
}
variable "tags" {
  type = map( string )
  default = {}
}
output "vpc_id" { value = "x" }
output "nat_ids" { value = [] }
module "common" {
  source = "../common"
}
module "remote" {
  source = "git::https://example.com/x.git"
}
terraform {
  required_version = ">= 0.13.1"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 4.35"
    }
    random = ">= 3.0"
  }
}
"#;

    const V2: &str = r#"
variable "name" {
  type = string
}
variable "cidr_block" {
  type = string
}
variable "azs" {
  type    = list(string)
  default = []
}
variable "tags" {
  type    = map(string)
  default = {}
}
variable "region" {
  type = string
}
variable "optional_new" {
  default = null
}
output "vpc_id" { value = "x" }
terraform {
  required_version = ">= 1.0"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
    random = ">= 3.0"
  }
}
"#;

    #[test]
    fn reads_variables_outputs_providers_and_local_modules() {
        let i = iface(&[("main.tf", V1), ("README.md", "variable \"x\" {}")]);
        assert_eq!(
            i.variables.keys().collect::<Vec<_>>(),
            ["azs", "cidr_block", "enable_classiclink", "name", "tags"]
        );
        assert!(i.variables["name"].required);
        assert!(!i.variables["cidr_block"].required);
        assert_eq!(
            i.variables["tags"].type_expr.as_deref(),
            Some("map(string)")
        );
        assert_eq!(i.variables["name"].at.line, 2);
        assert_eq!(i.outputs.keys().collect::<Vec<_>>(), ["nat_ids", "vpc_id"]);
        assert_eq!(i.providers["aws"].version.as_deref(), Some(">= 4.35"));
        assert_eq!(i.providers["aws"].source.as_deref(), Some("hashicorp/aws"));
        assert_eq!(i.providers["random"].version.as_deref(), Some(">= 3.0"));
        assert_eq!(i.required_version.as_deref(), Some(">= 0.13.1"));
        assert_eq!(
            i.local_modules.iter().collect::<Vec<_>>(),
            ["../common"],
            "only local sources"
        );
        assert!(i.problems.is_empty());
    }

    #[test]
    fn every_kind_of_change_is_found() {
        let changes = diff(&iface(&[("main.tf", V1)]), &iface(&[("main.tf", V2)]));
        assert_eq!(
            changes,
            vec![
                Change::InputRemoved {
                    name: "enable_classiclink".into()
                },
                Change::InputRequired {
                    name: "cidr_block".into(),
                    new: false
                },
                Change::InputRequired {
                    name: "region".into(),
                    new: true
                },
                Change::InputTypeChanged {
                    name: "azs".into(),
                    from: Some("string".into()),
                    to: Some("list(string)".into())
                },
                Change::OutputRemoved {
                    name: "nat_ids".into()
                },
                Change::ProviderTightened {
                    name: "aws".into(),
                    source: Some("hashicorp/aws".into()),
                    from: Some(">= 4.35".into()),
                    to: Some(">= 5.0".into())
                },
                Change::TerraformTightened {
                    from: Some(">= 0.13.1".into()),
                    to: ">= 1.0".into()
                },
            ]
        );
    }

    #[test]
    fn an_unchanged_interface_has_no_changes_and_whitespace_does_not_count() {
        let a = iface(&[("a.tf", V1)]);
        let reformatted = V1.replace("map( string )", "map(string)");
        assert!(diff(&a, &iface(&[("b.tf", &reformatted)])).is_empty());
    }

    #[test]
    fn loosened_constraints_are_not_tightened() {
        assert!(!tightened(Some(">= 5.0"), Some(">= 4.0")));
        assert!(!tightened(Some("~> 4.0"), Some(">= 4.0")));
        assert!(tightened(Some(">= 4.0"), Some("~> 4.0")));
        assert!(tightened(Some("~> 4.0"), Some("~> 5.0")));
        assert!(tightened(None, Some(">= 1.0")));
        assert!(!tightened(Some(">= 1.0"), None));
        assert!(tightened(Some(">= 1.0"), Some("${var.x}")));
    }

    #[test]
    fn unparsable_files_are_reported() {
        let i = iface(&[("bad.tf", "variable \"x\" {"), ("ok.tf", "output \"o\" {}")]);
        assert_eq!(i.problems.len(), 1);
        assert!(i.problems[0].starts_with("bad.tf:"), "{:?}", i.problems);
        assert!(i.outputs.contains_key("o"));
    }
}
