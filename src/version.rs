//! Versions as they appear in module refs, tags and Terraform `version` constraints,
//! and the rules that turn them into upgrade targets and rewritten refs.

use std::cmp::Ordering;
use std::fmt;

pub use semver::Version;
use semver::{BuildMetadata, Prerelease};

/// Characters that may separate a module prefix from the version in a tag
/// (`vpc-v1.2.0`, `vpc_v1.2.0`, `modules/vpc/v1.2.0`, `vpc@1.2.0`).
const TAG_SEPARATORS: [char; 4] = ['-', '_', '/', '@'];

/// Compares two versions by SemVer precedence: build metadata is ignored.
fn precedence(a: &Version, b: &Version) -> Ordering {
    (a.major, a.minor, a.patch, &a.pre).cmp(&(b.major, b.minor, b.patch, &b.pre))
}

/// A version parsed from text, with the number of parts it was written with.
#[derive(Debug, Clone)]
struct ParsedVersion {
    version: Version,
    /// How many numeric parts were written (1, 2 or 3).
    parts: u8,
}

/// Parses one numeric core part: ASCII digits only, no sign, no leading zero
/// (except `0` itself), and it must fit in a `u64`.
fn parse_numeric_part(s: &str) -> Option<u64> {
    if s.is_empty() || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if s.len() > 1 && s.starts_with('0') {
        return None;
    }
    s.parse().ok()
}

/// Parses `[v|V]N[.N[.N]][-pre][+build]`.
///
/// A one-part version without a `v` is only accepted when `allow_bare_single`
/// is set: in git refs an all-digit string is more likely an abbreviated SHA.
fn parse_loose(s: &str, allow_bare_single: bool) -> Option<ParsedVersion> {
    let (v_prefix, rest) = match s.chars().next() {
        Some(c @ ('v' | 'V')) => (Some(c), s.get(1..)?),
        _ => (None, s),
    };
    let (main, build) = match rest.split_once('+') {
        Some((main, build)) => (main, Some(build)),
        None => (rest, None),
    };
    let (core, pre) = match main.split_once('-') {
        Some((core, pre)) => (core, Some(pre)),
        None => (main, None),
    };

    let mut numbers = [0u64; 3];
    let mut parts: u8 = 0;
    for piece in core.split('.') {
        let slot = numbers.get_mut(usize::from(parts))?;
        *slot = parse_numeric_part(piece)?;
        parts += 1;
    }
    if parts == 1 && v_prefix.is_none() && !allow_bare_single {
        return None;
    }

    let pre = match pre {
        Some("") => return None,
        Some(p) => Prerelease::new(p).ok()?,
        None => Prerelease::EMPTY,
    };
    let build = match build {
        Some("") => return None,
        Some(b) => BuildMetadata::new(b).ok()?,
        None => BuildMetadata::EMPTY,
    };
    let [major, minor, patch] = numbers;
    Some(ParsedVersion {
        version: Version {
            major,
            minor,
            patch,
            pre,
            build,
        },
        parts,
    })
}

/// Parses a version as written in a git ref or tag.
///
/// Accepted: `1.2.3`, `v1.2.3`, `V1.2.3`, two-part `1.2`/`v1.2` (read as `1.2.0`),
/// one-part `v1` (read as `1.0.0`; a bare `1` is refused so that all-digit
/// abbreviated SHAs are not mistaken for versions), a pre-release (`1.2.3-rc.1`,
/// `1.2.3-beta1`) and build metadata (`1.2.3+abc`).
///
/// Refused (`None`): branch names, SHAs, `latest`, the empty string, surrounding
/// whitespace, more than three numeric parts, numbers that overflow `u64`, and
/// numeric parts with leading zeros (`01.2.3`), which SemVer forbids and which
/// could not be written back as they were.
pub fn parse_version(s: &str) -> Option<Version> {
    parse_loose(s, false).map(|p| p.version)
}

/// A tag taken apart: everything before the version text, and the version.
struct TagParts<'a> {
    /// The module prefix without its separator.
    prefix: Option<&'a str>,
    /// The version as written, including a `v` if there is one.
    version_text: &'a str,
    version: Version,
}

fn split_tag_parts(tag: &str) -> Option<TagParts<'_>> {
    if let Some(version) = parse_version(tag) {
        return Some(TagParts {
            prefix: None,
            version_text: tag,
            version,
        });
    }
    for (i, c) in tag.char_indices() {
        if !TAG_SEPARATORS.contains(&c) {
            continue;
        }
        let (Some(prefix), Some(rest)) = (tag.get(..i), tag.get(i + c.len_utf8()..)) else {
            continue;
        };
        if prefix.is_empty() || prefix.ends_with(TAG_SEPARATORS) {
            continue;
        }
        if let Some(version) = parse_version(rest) {
            return Some(TagParts {
                prefix: Some(prefix),
                version_text: rest,
                version,
            });
        }
    }
    None
}

/// Splits a tag into an optional module prefix and its version.
///
/// `v1.2.0` gives `(None, 1.2.0)`; `vpc-v1.2.0`, `vpc-1.2.0`, `vpc_v1.2.0`,
/// `vpc@1.2.0` and `vpc/v1.2.0` give `(Some("vpc"), 1.2.0)`; `modules/vpc/v1.2.0`
/// gives `(Some("modules/vpc"), 1.2.0)`. The prefix is the text before the first
/// separator (`-`, `_`, `/`, `@`) after which the rest of the tag is a version.
/// Tags that carry no version give `None`.
pub fn split_tag(tag: &str) -> Option<(Option<&str>, Version)> {
    split_tag_parts(tag).map(|p| (p.prefix, p.version))
}

/// The names a tag prefix may use for `module`: the path itself, its last
/// segment, and the path without a leading `modules/`.
fn module_name_candidates(module: &str) -> Vec<&str> {
    let path = module.trim_matches('/');
    let path = path.strip_prefix("./").unwrap_or(path);
    let mut names: Vec<&str> = Vec::new();
    for name in [
        Some(path),
        path.rsplit('/').next(),
        path.strip_prefix("modules/"),
    ]
    .into_iter()
    .flatten()
    {
        if !name.is_empty() && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

/// The version in `tag` if it is `name` followed by a separator and a version.
fn version_after_prefix(tag: &str, name: &str) -> Option<Version> {
    let rest = tag.strip_prefix(name)?;
    let mut chars = rest.chars();
    let sep = chars.next()?;
    if !TAG_SEPARATORS.contains(&sep) {
        return None;
    }
    parse_version(chars.as_str())
}

/// The versions among `tags` that belong to `module` (the path after `//` in a
/// module source, such as `modules/vpc`, or `None` for the repository root).
///
/// If any tag carries a prefix naming the module (the module path, its last
/// segment, or the path without a leading `modules/`), only those tags count;
/// otherwise the tags without a prefix count. The result is sorted ascending,
/// holds one entry per version (by precedence, the first tag in `tags` wins) and
/// pairs each version with its tag as written.
pub fn module_versions<'a>(tags: &'a [String], module: Option<&str>) -> Vec<(Version, &'a str)> {
    let names = module.map(module_name_candidates).unwrap_or_default();
    let mut found: Vec<(Version, &'a str)> = tags
        .iter()
        .filter_map(|tag| {
            names
                .iter()
                .find_map(|name| version_after_prefix(tag, name))
                .map(|v| (v, tag.as_str()))
        })
        .collect();
    if found.is_empty() {
        found = tags
            .iter()
            .filter_map(|tag| parse_version(tag).map(|v| (v, tag.as_str())))
            .collect();
    }
    // A stable sort keeps the input order among equal versions, so dedup keeps the first.
    found.sort_by(|a, b| precedence(&a.0, &b.0));
    found.dedup_by(|later, earlier| precedence(&later.0, &earlier.0) == Ordering::Equal);
    found
}

/// The part of a version that must stay the same for an upgrade to be
/// compatible: the major for `1.x` and above, the minor for `0.x` (including `0.0.x`).
fn compat_series(v: &Version) -> (u64, u64) {
    if v.major == 0 {
        (0, v.minor)
    } else {
        (v.major, 0)
    }
}

/// True when moving from `from` to `to` is breaking: a change of major version,
/// or of minor version while the major is 0 (`0.61.x` to `0.62.0`, `0.65.6` to
/// `1.0.0`). `0.0.x` follows the `0.x` rule: only a minor change breaks.
/// Pre-release tags and patch changes never break on their own.
pub fn is_breaking(from: &Version, to: &Version) -> bool {
    compat_series(from) != compat_series(to)
}

/// The upgrade targets for one module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Targets {
    /// The highest newer version that is not breaking.
    pub safe: Option<Version>,
    /// The lowest newer version that is breaking.
    pub breaking: Option<Version>,
}

/// Chooses upgrade targets for `current` among `available`.
///
/// `safe` is the highest version newer than `current` that is not breaking
/// relative to it; `breaking` is the lowest newer version that is. Pre-releases
/// are only eligible when `current` is itself a pre-release. Versions are compared
/// by precedence, so a version differing only in build metadata is not newer.
pub fn compute_targets(current: &Version, available: &[Version]) -> Targets {
    let allow_pre = !current.pre.is_empty();
    let newer = available
        .iter()
        .filter(|v| (allow_pre || v.pre.is_empty()) && precedence(v, current) == Ordering::Greater);
    let mut safe: Option<&Version> = None;
    let mut breaking: Option<&Version> = None;
    for v in newer {
        if is_breaking(current, v) {
            if breaking.is_none_or(|b| precedence(v, b) == Ordering::Less) {
                breaking = Some(v);
            }
        } else if safe.is_none_or(|s| precedence(v, s) == Ordering::Greater) {
            safe = Some(v);
        }
    }
    Targets {
        safe: safe.cloned(),
        breaking: breaking.cloned(),
    }
}

/// Writes `new` in the style of `old_ref`.
///
/// A module prefix with its separator and a leading `v`/`V` are kept
/// (`vpc-v1.2.0` with 1.3.0 gives `vpc-v1.3.0`, `modules/vpc/v1.2.0` gives
/// `modules/vpc/v1.3.0`, `0.8.0` gives `0.9.1`, `v0.8.0` gives `v0.9.1`). The
/// version is always written with three parts, plus its pre-release and build
/// metadata if it has them. When `old_ref` is not a version, only a `v`
/// directly followed by a digit is kept.
pub fn format_like(old_ref: &str, new: &Version) -> String {
    let (head, version_text) = match split_tag_parts(old_ref) {
        Some(parts) => {
            let head_len = old_ref.len() - parts.version_text.len();
            (old_ref.get(..head_len).unwrap_or(""), parts.version_text)
        }
        None => ("", old_ref),
    };
    let mut chars = version_text.chars();
    let v_prefix = match (chars.next(), chars.next()) {
        (Some(c @ ('v' | 'V')), Some(d)) if d.is_ascii_digit() => Some(c),
        _ => None,
    };
    let mut out = String::from(head);
    if let Some(c) = v_prefix {
        out.push(c);
    }
    out.push_str(&new.to_string());
    out
}

/// Why a Terraform version constraint could not be parsed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConstraintError {
    /// The constraint is empty or only whitespace.
    #[error("empty version constraint")]
    Empty,
    /// Two commas with nothing between them, or a leading or trailing comma.
    #[error("invalid version constraint {constraint:?}: empty clause between commas")]
    EmptyClause {
        /// The whole constraint as written.
        constraint: String,
    },
    /// An operator with nothing after it.
    #[error("invalid version constraint {constraint:?}: operator {operator:?} has no version")]
    MissingVersion {
        /// The whole constraint as written.
        constraint: String,
        /// The operator that lacks a version.
        operator: String,
    },
    /// The text where a version should be is not one.
    #[error("invalid version constraint {constraint:?}: {part:?} is not a version")]
    InvalidVersion {
        /// The whole constraint as written.
        constraint: String,
        /// The offending text.
        part: String,
    },
}

/// A comparison operator in a Terraform version constraint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=`, or a bare version.
    Eq,
    /// `!=`
    Ne,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `~>`: the last written part may grow.
    Pessimistic,
}

impl Op {
    /// Operators in the order they must be tried, longest first.
    const ALL: [(&'static str, Op); 7] = [
        ("~>", Op::Pessimistic),
        (">=", Op::Ge),
        ("<=", Op::Le),
        ("!=", Op::Ne),
        (">", Op::Gt),
        ("<", Op::Lt),
        ("=", Op::Eq),
    ];

    /// The operator as Terraform writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "!=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Pessimistic => "~>",
        }
    }
}

/// One comparison in a constraint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clause {
    /// The operator (`Eq` for a bare version).
    pub op: Op,
    /// False only for a bare version written without `=`.
    pub op_written: bool,
    /// The version, with missing parts read as 0.
    pub version: Version,
    /// How many numeric parts were written (1, 2 or 3).
    pub parts: u8,
}

impl Clause {
    fn matches(&self, v: &Version) -> bool {
        let ord = precedence(v, &self.version);
        match self.op {
            Op::Eq => ord == Ordering::Equal,
            Op::Ne => ord != Ordering::Equal,
            Op::Gt => ord == Ordering::Greater,
            Op::Ge => ord != Ordering::Less,
            Op::Lt => ord == Ordering::Less,
            Op::Le => ord != Ordering::Greater,
            Op::Pessimistic => ord != Ordering::Less && self.below_pessimistic_bound(v),
        }
    }

    /// The exclusive upper bound of `~>`: the next major for one or two written
    /// parts, the next minor for three. No bound if that would overflow.
    fn below_pessimistic_bound(&self, v: &Version) -> bool {
        let c = &self.version;
        let bound = if self.parts >= 3 {
            c.minor.checked_add(1).map(|minor| (c.major, minor))
        } else {
            c.major.checked_add(1).map(|major| (major, 0))
        };
        match bound {
            Some(bound) => (v.major, v.minor) < bound,
            None => true,
        }
    }
}

/// Writes the first `parts` numeric parts of `v` (1 to 3), without pre-release
/// or build metadata.
fn numeric_parts(v: &Version, parts: u8) -> String {
    match parts {
        0 | 1 => v.major.to_string(),
        2 => format!("{}.{}", v.major, v.minor),
        _ => format!("{}.{}.{}", v.major, v.minor, v.patch),
    }
}

/// Writes `v` with `parts` numeric parts, then its pre-release and build metadata.
fn version_with_parts(v: &Version, parts: u8) -> String {
    let mut out = numeric_parts(v, parts);
    if !v.pre.is_empty() {
        out.push('-');
        out.push_str(v.pre.as_str());
    }
    if !v.build.is_empty() {
        out.push('+');
        out.push_str(v.build.as_str());
    }
    out
}

impl fmt::Display for Clause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let version = version_with_parts(&self.version, self.parts);
        if self.op_written {
            write!(f, "{} {}", self.op.as_str(), version)
        } else {
            f.write_str(&version)
        }
    }
}

/// A Terraform version constraint: an AND of comparisons.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Constraint {
    clauses: Vec<Clause>,
}

/// Where the version sits inside a single-clause constraint's text.
struct ClauseLayout<'a> {
    /// Leading whitespace, operator and the spacing after it.
    head: &'a str,
    /// The `v`/`V` written before the version, if any.
    v_prefix: Option<char>,
    /// Trailing whitespace.
    tail: &'a str,
}

fn clause_layout(text: &str) -> Option<ClauseLayout<'_>> {
    let start = text.len() - text.trim_start().len();
    let trimmed = text.trim();
    let end = start + trimmed.len();
    let op_len = Op::ALL
        .iter()
        .find(|(sym, _)| trimmed.starts_with(sym))
        .map_or(0, |(sym, _)| sym.len());
    let after_op = trimmed.get(op_len..)?;
    let spacing = after_op.len() - after_op.trim_start().len();
    let version_start = start + op_len + spacing;
    let version_text = text.get(version_start..end)?;
    Some(ClauseLayout {
        head: text.get(..version_start)?,
        v_prefix: version_text
            .chars()
            .next()
            .filter(|c| matches!(c, 'v' | 'V')),
        tail: text.get(end..)?,
    })
}

/// The result of [`Constraint::bump_to`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bumped {
    /// The new constraint text.
    pub text: String,
    /// False when the constraint's form could not be kept and it was replaced
    /// by an exact pin of the target.
    pub form_kept: bool,
}

impl Constraint {
    /// Parses Terraform constraint syntax: a comma-separated AND of `=`, `!=`,
    /// `>`, `>=`, `<`, `<=`, `~>` comparisons and bare versions (a bare version
    /// means `=`). Whitespace around operators and commas is optional. Versions
    /// have 1, 2 or 3 numeric parts, may start with `v` and may carry a
    /// pre-release and build metadata; leading zeros are refused.
    pub fn parse(s: &str) -> Result<Constraint, ConstraintError> {
        if s.trim().is_empty() {
            return Err(ConstraintError::Empty);
        }
        let clauses = s
            .split(',')
            .map(|clause| Self::parse_clause(s, clause))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Constraint { clauses })
    }

    fn parse_clause(whole: &str, clause: &str) -> Result<Clause, ConstraintError> {
        let clause = clause.trim();
        if clause.is_empty() {
            return Err(ConstraintError::EmptyClause {
                constraint: whole.to_string(),
            });
        }
        let (op, op_written, rest) = Op::ALL
            .iter()
            .find_map(|(sym, op)| clause.strip_prefix(sym).map(|rest| (*op, true, rest)))
            .unwrap_or((Op::Eq, false, clause));
        let rest = rest.trim_start();
        if rest.is_empty() {
            return Err(ConstraintError::MissingVersion {
                constraint: whole.to_string(),
                operator: op.as_str().to_string(),
            });
        }
        let parsed = parse_loose(rest, true).ok_or_else(|| ConstraintError::InvalidVersion {
            constraint: whole.to_string(),
            part: rest.to_string(),
        })?;
        Ok(Clause {
            op,
            op_written,
            version: parsed.version,
            parts: parsed.parts,
        })
    }

    /// The comparisons, in the order written.
    pub fn clauses(&self) -> &[Clause] {
        &self.clauses
    }

    /// Whether `v` satisfies the constraint, as Terraform decides it.
    ///
    /// `~> 1.2` is `>= 1.2.0, < 2.0.0`; `~> 1.2.0` is `>= 1.2.0, < 1.3.0`;
    /// `~> 1` is `>= 1.0.0, < 2.0.0`. A pre-release version only matches when an
    /// exact clause (`=` or bare) names that very pre-release and every other
    /// clause holds too. Build metadata is ignored.
    pub fn matches(&self, v: &Version) -> bool {
        if !v.pre.is_empty() {
            let named = self
                .clauses
                .iter()
                .any(|c| c.op == Op::Eq && precedence(v, &c.version) == Ordering::Equal);
            if !named {
                return false;
            }
        }
        self.clauses.iter().all(|c| c.matches(v))
    }

    /// The pinned version when the constraint is a single exact clause
    /// (`1.2.3` or `= 1.2.3`).
    pub fn exact(&self) -> Option<Version> {
        match self.clauses.as_slice() {
            [clause] if clause.op == Op::Eq => Some(clause.version.clone()),
            _ => None,
        }
    }

    /// The highest of `available` that matches: the version Terraform would install.
    pub fn resolve<'a>(&self, available: &'a [Version]) -> Option<&'a Version> {
        available
            .iter()
            .filter(|v| self.matches(v))
            .max_by(|a, b| precedence(a, b))
    }

    /// Rewrites the constraint so that it admits `target`, keeping its form.
    ///
    /// `original` is the constraint text as written in the configuration; if it
    /// does not parse to this constraint, the canonical form of this constraint
    /// is used as the model instead.
    ///
    /// - If the constraint already admits `target`: `None`.
    /// - An exact pin keeps its operator and spacing (`= 1.2.3` becomes `= 1.4.0`).
    /// - A single `~>` keeps its number of parts, taken from `target`
    ///   (`~> 3.0` with 4.1.0 becomes `~> 4.1`, `~> 3.0.1` becomes `~> 4.1.0`).
    /// - Anything else, or a rewrite that would still not admit `target` (such
    ///   as `~>` with a pre-release target), becomes an exact pin of `target`
    ///   with `form_kept` false.
    pub fn bump_to(&self, original: &str, target: &Version) -> Option<Bumped> {
        if self.matches(target) {
            return None;
        }
        let pin = Bumped {
            text: target.to_string(),
            form_kept: false,
        };
        let [clause] = self.clauses.as_slice() else {
            return Some(pin);
        };
        let new_version = match clause.op {
            Op::Eq => target.to_string(),
            Op::Pessimistic => numeric_parts(target, clause.parts),
            _ => return Some(pin),
        };

        let canonical = self.to_string();
        let model = if Constraint::parse(original).as_ref() == Ok(self) {
            original
        } else {
            canonical.as_str()
        };
        let Some(layout) = clause_layout(model) else {
            return Some(pin);
        };
        let mut text = String::from(layout.head);
        if let Some(c) = layout.v_prefix {
            text.push(c);
        }
        text.push_str(&new_version);
        text.push_str(layout.tail);

        match Constraint::parse(&text) {
            Ok(rewritten) if rewritten.matches(target) => Some(Bumped {
                text,
                form_kept: true,
            }),
            _ => Some(pin),
        }
    }
}

impl Constraint {
    /// The lowest version the constraint can admit, from its lower bounds (`=`, `>=`, `>`, `~>`);
    /// `None` when it has none (`< 2.0`, `!= 1.0`). Two ranges are ordered by it in promotions
    /// and status, and an update never rewrites a constraint whose floor is above its target.
    pub fn floor(&self) -> Option<Version> {
        self.clauses
            .iter()
            .filter(|c| matches!(c.op, Op::Eq | Op::Ge | Op::Gt | Op::Pessimistic))
            .map(|c| &c.version)
            .max_by(|a, b| precedence(a, b))
            .cloned()
    }
}

impl fmt::Display for Constraint {
    /// The canonical text: clauses joined by `", "`, each as `op version`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, clause) in self.clauses.iter().enumerate() {
            if i > 0 {
                f.write_str(", ")?;
            }
            write!(f, "{clause}")?;
        }
        Ok(())
    }
}

impl std::str::FromStr for Constraint {
    type Err = ConstraintError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Constraint::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        Version::parse(s).expect("test version literal")
    }

    fn c(s: &str) -> Constraint {
        Constraint::parse(s).expect("test constraint literal")
    }

    fn tags(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn strategy_available() -> Vec<Version> {
        [
            "0.61.0", "0.61.1", "0.62.0", "0.62.3", "0.65.0", "0.65.6", "1.0.0", "1.4.2", "2.0.0",
        ]
        .iter()
        .map(|s| v(s))
        .collect()
    }

    // ---- parse_version ----

    #[test]
    fn parse_version_accepts_common_ref_forms() {
        assert_eq!(parse_version("v1.2.3"), Some(v("1.2.3")));
        assert_eq!(parse_version("1.2.3"), Some(v("1.2.3")));
        assert_eq!(parse_version("V1.2.3"), Some(v("1.2.3")));
        assert_eq!(parse_version("0.0.0"), Some(v("0.0.0")));
    }

    #[test]
    fn parse_version_fills_missing_parts_with_zero() {
        assert_eq!(parse_version("v1.2"), Some(v("1.2.0")));
        assert_eq!(parse_version("1.2"), Some(v("1.2.0")));
        assert_eq!(parse_version("v1"), Some(v("1.0.0")));
        assert_eq!(parse_version("V7"), Some(v("7.0.0")));
    }

    #[test]
    fn parse_version_keeps_pre_release_and_build() {
        assert_eq!(parse_version("v1.2.3-rc.1"), Some(v("1.2.3-rc.1")));
        assert_eq!(parse_version("1.2.3-beta1"), Some(v("1.2.3-beta1")));
        assert_eq!(parse_version("1.2.3-beta-2"), Some(v("1.2.3-beta-2")));
        assert_eq!(parse_version("1.2.3+abc"), Some(v("1.2.3+abc")));
        assert_eq!(
            parse_version("1.2.3-rc.1+abc.5"),
            Some(v("1.2.3-rc.1+abc.5"))
        );
        assert_eq!(parse_version("v1.2-rc.1"), Some(v("1.2.0-rc.1")));
    }

    #[test]
    fn parse_version_refuses_non_versions() {
        for s in [
            "",
            "main",
            "master",
            "latest",
            "v",
            "V",
            "vv1.2.3",
            "a1b2c3d",
            "1234567",
            "0123456789012345678901234567890123456789",
            "3f786850e387550fdab836ed7e6dc881de23001b",
            "1.2.3.4",
            "1..2",
            "1.2.",
            ".1.2",
            "-1.2.3",
            "+1.2.3",
            "1.2.3-",
            "1.2.3+",
            "1.2.3-rc..1",
            " 1.2.3",
            "1.2.3 ",
            "1.2.x",
            "x.y.z",
            "1.-2.3",
        ] {
            assert_eq!(parse_version(s), None, "{s:?} should not parse");
        }
    }

    #[test]
    fn parse_version_refuses_leading_zeros_and_overflow() {
        assert_eq!(parse_version("01.2.3"), None);
        assert_eq!(parse_version("1.02.3"), None);
        assert_eq!(parse_version("v1.2.03"), None);
        assert_eq!(parse_version("1.2.3-rc.01"), None);
        assert_eq!(parse_version("99999999999999999999999.1.1"), None);
        assert_eq!(
            parse_version("18446744073709551615.0.0"),
            Some(Version::new(u64::MAX, 0, 0))
        );
    }

    // ---- split_tag ----

    #[test]
    fn split_tag_without_prefix() {
        assert_eq!(split_tag("v1.2.0"), Some((None, v("1.2.0"))));
        assert_eq!(split_tag("1.2.0-rc.1"), Some((None, v("1.2.0-rc.1"))));
    }

    #[test]
    fn split_tag_with_each_separator() {
        for tag in [
            "vpc-v1.2.0",
            "vpc-1.2.0",
            "vpc/v1.2.0",
            "vpc_v1.2.0",
            "vpc@1.2.0",
        ] {
            assert_eq!(split_tag(tag), Some((Some("vpc"), v("1.2.0"))), "{tag}");
        }
        assert_eq!(
            split_tag("modules/vpc/v1.2.0"),
            Some((Some("modules/vpc"), v("1.2.0")))
        );
    }

    #[test]
    fn split_tag_handles_dashes_inside_prefix_and_pre_release() {
        assert_eq!(
            split_tag("terraform-aws-vpc-v1.2.0"),
            Some((Some("terraform-aws-vpc"), v("1.2.0")))
        );
        assert_eq!(
            split_tag("s3-bucket-2.0"),
            Some((Some("s3-bucket"), v("2.0.0")))
        );
        assert_eq!(
            split_tag("vpc-v1.2.0-rc.1"),
            Some((Some("vpc"), v("1.2.0-rc.1")))
        );
    }

    #[test]
    fn split_tag_refuses_non_version_tags() {
        for tag in [
            "main",
            "release",
            "vpc-main",
            "-1.2.3",
            "/v1.2.0",
            "vpc-",
            "vpc--v1.2.0",
            "",
        ] {
            assert_eq!(split_tag(tag), None, "{tag:?}");
        }
    }

    // ---- module_versions ----

    #[test]
    fn module_versions_prefers_tags_naming_the_module() {
        let t = tags(&["v1.0.0", "vpc-v1.1.0", "vpc-v1.0.0", "eks-v3.0.0", "v2.0.0"]);
        let got = module_versions(&t, Some("modules/vpc"));
        assert_eq!(
            got,
            vec![(v("1.0.0"), "vpc-v1.0.0"), (v("1.1.0"), "vpc-v1.1.0")]
        );
    }

    #[test]
    fn module_versions_accepts_full_path_and_stripped_path_prefixes() {
        let t = tags(&["modules/vpc/v1.3.0", "v9.0.0"]);
        assert_eq!(
            module_versions(&t, Some("modules/vpc")),
            vec![(v("1.3.0"), "modules/vpc/v1.3.0")]
        );
        let t = tags(&["networking/vpc-1.0.0", "v9.0.0"]);
        assert_eq!(
            module_versions(&t, Some("modules/networking/vpc")),
            vec![(v("1.0.0"), "networking/vpc-1.0.0")]
        );
        let t = tags(&["vpc_v0.2.0"]);
        assert_eq!(
            module_versions(&t, Some("/modules/vpc/")),
            vec![(v("0.2.0"), "vpc_v0.2.0")]
        );
    }

    #[test]
    fn module_versions_falls_back_to_unprefixed_tags() {
        let t = tags(&["v1.0.0", "eks-v3.0.0", "main", "0.9.0"]);
        let got = module_versions(&t, Some("modules/vpc"));
        assert_eq!(got, vec![(v("0.9.0"), "0.9.0"), (v("1.0.0"), "v1.0.0")]);
        assert_eq!(module_versions(&t, None), got);
    }

    #[test]
    fn module_versions_does_not_match_a_longer_module_name() {
        let t = tags(&["vpc-endpoints-v5.0.0", "v1.0.0"]);
        assert_eq!(
            module_versions(&t, Some("vpc")),
            vec![(v("1.0.0"), "v1.0.0")]
        );
    }

    #[test]
    fn module_versions_sorts_and_dedups_keeping_first() {
        let t = tags(&[
            "v2.0.0",
            "1.0.0",
            "v1.0.0",
            "v1.0",
            "2.0.0+build",
            "v1.5.0-rc.1",
        ]);
        let got = module_versions(&t, None);
        assert_eq!(
            got,
            vec![
                (v("1.0.0"), "1.0.0"),
                (v("1.5.0-rc.1"), "v1.5.0-rc.1"),
                (v("2.0.0"), "v2.0.0"),
            ]
        );
    }

    #[test]
    fn module_versions_of_no_tags_is_empty() {
        assert!(module_versions(&[], Some("vpc")).is_empty());
        assert!(module_versions(&tags(&["main", "develop"]), None).is_empty());
    }

    // ---- is_breaking ----

    #[test]
    fn is_breaking_rules() {
        assert!(is_breaking(&v("0.61.0"), &v("0.62.0")));
        assert!(!is_breaking(&v("0.61.0"), &v("0.61.9")));
        assert!(is_breaking(&v("0.65.6"), &v("1.0.0")));
        assert!(!is_breaking(&v("1.0.0"), &v("1.4.2")));
        assert!(is_breaking(&v("1.4.2"), &v("2.0.0")));
        assert!(!is_breaking(&v("2.0.0"), &v("2.1.0-rc.1")));
        assert!(is_breaking(&v("1.9.0"), &v("2.0.0-rc.1")));
        // 0.0.x follows the 0.x rule: only the minor matters.
        assert!(!is_breaking(&v("0.0.1"), &v("0.0.2")));
        assert!(is_breaking(&v("0.0.9"), &v("0.1.0")));
    }

    // ---- compute_targets ----

    #[test]
    fn targets_from_0_61_0() {
        let t = compute_targets(&v("0.61.0"), &strategy_available());
        assert_eq!(
            t,
            Targets {
                safe: Some(v("0.61.1")),
                breaking: Some(v("0.62.0"))
            }
        );
    }

    #[test]
    fn targets_from_0_65_6() {
        let t = compute_targets(&v("0.65.6"), &strategy_available());
        assert_eq!(t.safe, None);
        assert_eq!(t.breaking, Some(v("1.0.0")));
    }

    #[test]
    fn targets_from_1_0_0() {
        let t = compute_targets(&v("1.0.0"), &strategy_available());
        assert_eq!(t.safe, Some(v("1.4.2")));
        assert_eq!(t.breaking, Some(v("2.0.0")));
    }

    #[test]
    fn targets_from_latest_are_empty() {
        let t = compute_targets(&v("2.0.0"), &strategy_available());
        assert_eq!(
            t,
            Targets {
                safe: None,
                breaking: None
            }
        );
    }

    #[test]
    fn targets_ignore_input_order() {
        let mut available = strategy_available();
        available.reverse();
        let t = compute_targets(&v("0.61.0"), &available);
        assert_eq!(t.safe, Some(v("0.61.1")));
        assert_eq!(t.breaking, Some(v("0.62.0")));
    }

    #[test]
    fn targets_skip_pre_releases_for_a_release() {
        let mut available = strategy_available();
        available.push(v("2.1.0-rc.1"));
        available.push(v("3.0.0-beta.1"));
        let t = compute_targets(&v("2.0.0"), &available);
        assert_eq!(t.safe, None);
        assert_eq!(t.breaking, None);
    }

    #[test]
    fn targets_allow_pre_releases_for_a_pre_release() {
        let mut available = strategy_available();
        available.push(v("2.1.0-rc.1"));
        let t = compute_targets(&v("2.1.0-beta.1"), &available);
        assert_eq!(t.safe, Some(v("2.1.0-rc.1")));
        assert_eq!(t.breaking, None);
        available.push(v("2.1.0"));
        let t = compute_targets(&v("2.1.0-beta.1"), &available);
        assert_eq!(t.safe, Some(v("2.1.0")));
    }

    #[test]
    fn targets_ignore_build_metadata_only_differences() {
        let t = compute_targets(&v("1.0.0+a"), &[v("1.0.0+b"), v("0.9.0")]);
        assert_eq!(t.safe, None);
        assert_eq!(t.breaking, None);
        assert_eq!(compute_targets(&v("1.0.0"), &[]).safe, None);
    }

    // ---- format_like ----

    #[test]
    fn format_like_keeps_style() {
        let new = v("1.3.0");
        assert_eq!(format_like("vpc-v1.2.0", &new), "vpc-v1.3.0");
        assert_eq!(format_like("vpc-1.2.0", &new), "vpc-1.3.0");
        assert_eq!(format_like("vpc_v1.2.0", &new), "vpc_v1.3.0");
        assert_eq!(
            format_like("modules/vpc/v1.2.0", &new),
            "modules/vpc/v1.3.0"
        );
        assert_eq!(format_like("0.8.0", &v("0.9.1")), "0.9.1");
        assert_eq!(format_like("v0.8.0", &v("0.9.1")), "v0.9.1");
        assert_eq!(format_like("V0.8", &v("0.9.1")), "V0.9.1");
        assert_eq!(format_like("v1", &v("2.0.0")), "v2.0.0");
    }

    #[test]
    fn format_like_writes_pre_release_and_handles_non_versions() {
        assert_eq!(format_like("v1.2.0", &v("1.3.0-rc.1")), "v1.3.0-rc.1");
        assert_eq!(format_like("main", &v("1.3.0")), "1.3.0");
        assert_eq!(format_like("", &v("1.3.0")), "1.3.0");
        assert_eq!(format_like("v01.2.0", &v("1.3.0")), "v1.3.0");
    }

    // ---- Constraint::parse ----

    #[test]
    fn parse_each_operator() {
        let cases = [
            ("= 1.2.3", Op::Eq, true),
            ("!= 1.2.3", Op::Ne, true),
            ("> 1.2.3", Op::Gt, true),
            (">= 1.2.3", Op::Ge, true),
            ("< 1.2.3", Op::Lt, true),
            ("<= 1.2.3", Op::Le, true),
            ("~> 1.2.3", Op::Pessimistic, true),
            ("1.2.3", Op::Eq, false),
        ];
        for (text, op, written) in cases {
            let parsed = c(text);
            assert_eq!(
                parsed.clauses(),
                &[Clause {
                    op,
                    op_written: written,
                    version: v("1.2.3"),
                    parts: 3
                }],
                "{text}"
            );
        }
    }

    #[test]
    fn parse_records_parts_and_prefix() {
        let parsed = c("~> v1.2, >= 1, < 2.0.0-rc.1");
        let parts: Vec<u8> = parsed.clauses().iter().map(|cl| cl.parts).collect();
        assert_eq!(parts, vec![2, 1, 3]);
        assert_eq!(
            parsed.clauses().get(2).map(|cl| cl.version.clone()),
            Some(v("2.0.0-rc.1"))
        );
    }

    #[test]
    fn parse_whitespace_variants_are_equivalent() {
        let a = c(">= 1.0, < 2.0");
        assert_eq!(c(">=1.0,<2.0"), a);
        assert_eq!(c("  >=  1.0 ,   < 2.0  "), a);
        assert_eq!(c("\t>=1.0,\t<2.0\n"), a);
        assert_eq!(c("~>1.2"), c("~> 1.2"));
        assert_eq!(a.clauses().len(), 2);
    }

    #[test]
    fn parse_errors_name_the_problem() {
        assert_eq!(Constraint::parse(""), Err(ConstraintError::Empty));
        assert_eq!(Constraint::parse("   "), Err(ConstraintError::Empty));
        assert_eq!(
            Constraint::parse("~>"),
            Err(ConstraintError::MissingVersion {
                constraint: "~>".into(),
                operator: "~>".into()
            })
        );
        let err = Constraint::parse(">= x").err();
        assert_eq!(
            err,
            Some(ConstraintError::InvalidVersion {
                constraint: ">= x".into(),
                part: "x".into()
            })
        );
        assert_eq!(
            Constraint::parse("~> x").map_err(|e| e.to_string()),
            Err("invalid version constraint \"~> x\": \"x\" is not a version".to_string())
        );
        assert_eq!(
            Constraint::parse("1.0,,2.0"),
            Err(ConstraintError::EmptyClause {
                constraint: "1.0,,2.0".into()
            })
        );
        assert!(matches!(
            Constraint::parse("1.2.3.4"),
            Err(ConstraintError::InvalidVersion { .. })
        ));
    }

    #[test]
    fn parse_rejects_foreign_and_hostile_syntax() {
        for text in [
            "1.0 ||2.0",
            "1.0 || 2.0",
            "^1.2",
            "~1.2",
            "== 1.2",
            "=> 1.2",
            "1.x",
            "*",
            "1.0; rm -rf /",
            "$(reboot)",
            "`id`",
            "1.0 && 2.0",
            ">= 1.0,",
            ",",
            "01.2",
            "1.2.3 4",
            "latest",
        ] {
            assert!(
                Constraint::parse(text).is_err(),
                "{text:?} should be refused"
            );
        }
    }

    #[test]
    fn error_messages_escape_control_characters() {
        let msg = Constraint::parse("1.0\n\u{7}")
            .map_err(|e| e.to_string())
            .err()
            .unwrap_or_default();
        assert!(msg.contains("\\n"), "{msg}");
        assert!(!msg.contains('\u{7}'), "{msg}");
    }

    // ---- Constraint::matches ----

    #[test]
    fn pessimistic_two_parts_allows_minor_bumps() {
        let k = c("~> 1.2");
        assert!(!k.matches(&v("1.1.9")));
        assert!(k.matches(&v("1.2.0")));
        assert!(k.matches(&v("1.9.5")));
        assert!(!k.matches(&v("2.0.0")));
    }

    #[test]
    fn pessimistic_three_parts_allows_patch_bumps() {
        let k = c("~> 1.2.0");
        assert!(k.matches(&v("1.2.0")));
        assert!(k.matches(&v("1.2.9")));
        assert!(!k.matches(&v("1.3.0")));
        let k = c("~> 1.2.5");
        assert!(!k.matches(&v("1.2.4")));
        assert!(k.matches(&v("1.2.5")));
    }

    #[test]
    fn pessimistic_one_part_allows_up_to_next_major() {
        let k = c("~> 1");
        assert!(!k.matches(&v("0.9.0")));
        assert!(k.matches(&v("1.0.0")));
        assert!(k.matches(&v("1.99.0")));
        assert!(!k.matches(&v("2.0.0")));
    }

    #[test]
    fn pessimistic_at_the_top_of_u64_does_not_overflow() {
        let k = c("~> 18446744073709551615.0");
        assert!(k.matches(&Version::new(u64::MAX, 3, 0)));
    }

    #[test]
    fn comparison_operators_and_conjunction() {
        let k = c(">= 1.0, < 2.0, != 1.5.0");
        assert!(k.matches(&v("1.0.0")));
        assert!(k.matches(&v("1.4.9")));
        assert!(!k.matches(&v("1.5.0")));
        assert!(!k.matches(&v("2.0.0")));
        assert!(!k.matches(&v("0.9.0")));
        assert!(c("> 1.0").matches(&v("1.0.1")));
        assert!(!c("> 1.0").matches(&v("1.0.0")));
        assert!(c("<= 1.0").matches(&v("1.0.0")));
        assert!(!c("<= 1.0").matches(&v("1.0.1")));
        assert!(c("= 1.2").matches(&v("1.2.0")));
        assert!(!c("= 1.2").matches(&v("1.2.1")));
    }

    #[test]
    fn pre_releases_only_match_an_exact_pin() {
        let rc = v("2.0.0-rc.1");
        assert!(c("2.0.0-rc.1").matches(&rc));
        assert!(c("= 2.0.0-rc.1").matches(&rc));
        assert!(!c(">= 1.0").matches(&rc));
        assert!(!c("~> 2.0.0-rc.1").matches(&rc));
        assert!(!c("< 2.0.0").matches(&rc));
        assert!(!c("= 2.0.0-rc.2").matches(&rc));
        assert!(c("= 2.0.0-rc.1, >= 1.0").matches(&rc));
        assert!(!c("= 2.0.0-rc.1, != 2.0.0-rc.1").matches(&rc));
    }

    #[test]
    fn build_metadata_is_ignored_when_matching() {
        assert!(c("= 1.2.3").matches(&v("1.2.3+abc")));
        assert!(c("= 1.2.3+zzz").matches(&v("1.2.3")));
    }

    // ---- exact / resolve ----

    #[test]
    fn exact_only_for_single_pins() {
        assert_eq!(c("1.2.3").exact(), Some(v("1.2.3")));
        assert_eq!(c("= 1.2.3").exact(), Some(v("1.2.3")));
        assert_eq!(c("=v1.2").exact(), Some(v("1.2.0")));
        assert_eq!(c("~> 1.2.3").exact(), None);
        assert_eq!(c(">= 1.2.3").exact(), None);
        assert_eq!(c("1.2.3, 1.2.3").exact(), None);
    }

    #[test]
    fn resolve_picks_highest_match() {
        let available = strategy_available();
        assert_eq!(c("~> 0.62.0").resolve(&available), Some(&v("0.62.3")));
        assert_eq!(c("~> 1.0").resolve(&available), Some(&v("1.4.2")));
        assert_eq!(c(">= 0.61, < 1.0").resolve(&available), Some(&v("0.65.6")));
        assert_eq!(c("0.61.0").resolve(&available), Some(&v("0.61.0")));
        assert_eq!(c("~> 3.0").resolve(&available), None);
        assert_eq!(c(">= 0.0.0").resolve(&[]), None);
    }

    #[test]
    fn resolve_skips_pre_releases_unless_pinned() {
        let available = vec![v("1.0.0"), v("1.1.0-rc.1")];
        assert_eq!(c(">= 1.0").resolve(&available), Some(&v("1.0.0")));
        assert_eq!(c("1.1.0-rc.1").resolve(&available), Some(&v("1.1.0-rc.1")));
    }

    // ---- bump_to ----

    fn bump(text: &str, target: &str) -> Option<Bumped> {
        c(text).bump_to(text, &v(target))
    }

    fn kept(text: &str) -> Option<Bumped> {
        Some(Bumped {
            text: text.to_string(),
            form_kept: true,
        })
    }

    #[test]
    fn bump_exact_pins_keep_their_form() {
        assert_eq!(bump("1.2.3", "1.4.0"), kept("1.4.0"));
        assert_eq!(bump("=1.2.3", "1.4.0"), kept("=1.4.0"));
        assert_eq!(bump("= 1.2.3", "1.4.0"), kept("= 1.4.0"));
        assert_eq!(bump(" =  v1.2.3 ", "1.4.0"), kept(" =  v1.4.0 "));
        assert_eq!(bump("1.2", "1.4.1"), kept("1.4.1"));
        assert_eq!(bump("1.2.3", "2.0.0-rc.1"), kept("2.0.0-rc.1"));
    }

    #[test]
    fn bump_is_none_when_already_admitted() {
        assert_eq!(bump("~> 4.0", "4.1.0"), None);
        assert_eq!(bump("1.4.0", "1.4.0"), None);
        assert_eq!(bump(">= 1.0, < 2.0", "1.9.0"), None);
    }

    #[test]
    fn bump_pessimistic_keeps_part_count_and_spacing() {
        assert_eq!(bump("~> 3.0", "4.1.0"), kept("~> 4.1"));
        assert_eq!(bump("~>3.0", "4.1.0"), kept("~>4.1"));
        assert_eq!(bump("~> 3.0.1", "4.1.0"), kept("~> 4.1.0"));
        assert_eq!(bump("~> 3", "4.1.0"), kept("~> 4"));
        assert_eq!(bump("~> v3.0", "4.1.2"), kept("~> v4.1"));
        assert_eq!(bump("~> 0.61.0", "0.62.3"), kept("~> 0.62.3"));
    }

    #[test]
    fn bump_ranges_become_pins() {
        let pin = Some(Bumped {
            text: "2.3.0".to_string(),
            form_kept: false,
        });
        assert_eq!(bump(">= 1.0, < 2.0", "2.3.0"), pin);
        assert_eq!(bump("< 2.0", "2.3.0"), pin);
        assert_eq!(bump("!= 2.3.0", "2.3.0"), pin);
    }

    #[test]
    fn bump_pessimistic_to_pre_release_pins() {
        assert_eq!(
            bump("~> 1.0", "2.0.0-rc.1"),
            Some(Bumped {
                text: "2.0.0-rc.1".to_string(),
                form_kept: false
            })
        );
    }

    #[test]
    fn bump_uses_canonical_form_when_original_disagrees() {
        let k = c("~> 3.0");
        assert_eq!(k.bump_to("something else", &v("4.1.0")), kept("~> 4.1"));
        assert_eq!(c("= 1.0").bump_to("", &v("1.1.0")), kept("= 1.1.0"));
    }

    #[test]
    fn display_is_canonical_and_reparses() {
        let k = c(">=1.0,<2.0-rc.1,~>v1.2,3");
        assert_eq!(k.to_string(), ">= 1.0, < 2.0-rc.1, ~> 1.2, 3");
        assert_eq!(c(&k.to_string()), k);
        assert_eq!(">= 1.0".parse::<Constraint>(), Ok(c(">= 1.0")));
    }

    // ---- robustness ----

    #[test]
    fn odd_inputs_never_panic() {
        let long_digits = "9".repeat(10_000);
        let many_dots = "1.".repeat(5_000);
        let many_commas = ",".repeat(1_000);
        let odd: Vec<String> = [
            "",
            "v",
            "V",
            "-",
            "+",
            "~",
            "~>",
            "=",
            "-1.2.3",
            "1..2",
            "1.2..",
            "..",
            "99999999999999999999999.1.1",
            "1.99999999999999999999999.1",
            "1.2.3-",
            "1.2.3+",
            "1.2.3-+",
            "v1.2.3-αβγ",
            "ü1.2.3",
            "vpc-ü-v1.2.3",
            "ü-1.2.3",
            "1.2.3\u{0}",
            "🦀-v1.2.3",
            "🦀",
            "v🦀",
            "模块/v1.0.0",
            "1.0; rm -rf /",
            "\u{202e}1.2.3",
            "~>\u{3000}1.2",
            "1.2.3,,",
            "@@@",
            "a@1.0@2.0",
            "//v1.0.0",
        ]
        .iter()
        .map(|s| s.to_string())
        .chain([long_digits, many_dots, many_commas])
        .collect();

        for s in &odd {
            let parsed = parse_version(s);
            let split = split_tag(s);
            let constraint = Constraint::parse(s);
            // Whatever was accepted must survive a round trip through its own output.
            if let Some(ver) = &parsed {
                assert_eq!(parse_version(&format_like(s, ver)).as_ref(), Some(ver));
            }
            if let Some((_, ver)) = &split {
                assert_eq!(
                    split_tag(&format_like(s, ver)).map(|(_, x)| x).as_ref(),
                    Some(ver)
                );
            }
            if let Ok(k) = &constraint {
                assert_eq!(Constraint::parse(&k.to_string()).as_ref(), Ok(k));
            }
        }
        // Spot-check a few specific verdicts among them.
        assert_eq!(parse_version("99999999999999999999999.1.1"), None);
        assert_eq!(split_tag("🦀-v1.2.3"), Some((Some("🦀"), v("1.2.3"))));
        assert_eq!(split_tag("模块/v1.0.0"), Some((Some("模块"), v("1.0.0"))));
        assert!(Constraint::parse("1.0; rm -rf /").is_err());
        assert!(Constraint::parse("~>\u{3000}1.2").is_ok());
    }
}
