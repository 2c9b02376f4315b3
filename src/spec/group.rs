//! Groups of dependencies that move together: the config's `[[groups]]` (a name and globs over
//! dependency IDs), the usages of an environment a group covers, and the `repository_dispatch`
//! payload that hands a merged group on, checked as untrusted input when it arrives.

use crate::exit::InvalidInput;
use crate::find::scan::ScanReport;
use globset::{GlobBuilder, GlobMatcher};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;

/// What the branch of a group update holds after the environment's prefix: `group/<name>`.
pub const BRANCH_SEGMENT: &str = "group/";

/// The most dependencies a group payload carries (GitHub takes a `client_payload` of less than
/// 64 KB; 200 entries of the longest IDs stay well below it).
pub const MAX_MEMBERS: usize = 200;

/// The largest `client_payload` Baton sends or accepts, in bytes of JSON.
pub const MAX_PAYLOAD_BYTES: usize = 60_000;

/// The longest dependency ID and version a payload may carry.
const MAX_ID: usize = 256;
const MAX_VERSION: usize = 64;

/// One `[[groups]]` entry: a name and the globs its dependencies match.
#[derive(Debug, Clone)]
pub struct Group {
    /// Its name (`network`): a branch segment of its own.
    pub name: String,
    /// Globs over dependency IDs (`acme/terraform-aws-*/**`), as written.
    pub globs: Vec<String>,
    /// Where it is defined (`.github/baton.toml:12`), for messages.
    pub origin: String,
    matchers: Vec<GlobMatcher>,
}

impl PartialEq for Group {
    fn eq(&self, other: &Group) -> bool {
        (&self.name, &self.globs, &self.origin) == (&other.name, &other.globs, &other.origin)
    }
}

impl Eq for Group {}

/// A glob over dependency IDs: `*` stays inside one `/`-separated part, `**` crosses them.
pub fn compile(glob: &str) -> Result<GlobMatcher, String> {
    GlobBuilder::new(glob.trim())
        .literal_separator(true)
        .backslash_escape(true)
        .empty_alternates(true)
        .build()
        .map(|g| g.compile_matcher())
        .map_err(|e| format!("{:?} is not a glob: {}", glob, e.kind()))
}

/// Whether a glob has no wildcard, i.e. names one dependency ID.
pub fn is_literal(glob: &str) -> bool {
    !glob.contains(['*', '?', '[', '{', '\\'])
}

/// A group name usable in a branch (`<prefix>group/<name>`) and an event payload: 1 to 64 ASCII
/// letters, digits, `-`, `_`, `.`, starting with a letter or digit, without `..`, not ending in
/// `.lock` or `.`.
pub fn valid_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.contains("..")
        && !name.ends_with(".lock")
        && !name.ends_with('.')
}

impl Group {
    /// A group; `Err` says which glob does not compile or why the name is refused.
    pub fn new(name: &str, globs: &[String], origin: &str) -> Result<Group, String> {
        if !valid_name(name) {
            return Err(format!(
                "invalid group name {name:?}: 1 to 64 ASCII letters, digits, '-', '_' or '.', starting with a letter or digit (it names the branch <prefix>group/<name>)"
            ));
        }
        let globs: Vec<String> = globs
            .iter()
            .map(|g| g.trim().to_string())
            .filter(|g| !g.is_empty())
            .collect();
        if globs.is_empty() {
            return Err(format!("group {name:?} has no dependency glob"));
        }
        let matchers = globs
            .iter()
            .map(|g| compile(g))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Group {
            name: name.to_string(),
            globs,
            origin: origin.to_string(),
            matchers,
        })
    }

    /// Whether a dependency ID belongs to the group.
    pub fn matches(&self, id: &str) -> bool {
        self.matchers.iter().any(|m| m.is_match(id))
    }

    /// The branch of its updates in an environment whose branches start with `prefix`.
    pub fn branch(&self, prefix: &str) -> String {
        format!("{prefix}{BRANCH_SEGMENT}{}", self.name)
    }

    /// The IDs of the group's dependencies that `report` uses, in order.
    pub fn members(&self, report: &ScanReport) -> Vec<String> {
        let ids: BTreeSet<&str> = report
            .usages
            .iter()
            .filter_map(|u| u.dependency.as_deref())
            .filter(|id| self.matches(id))
            .collect();
        ids.into_iter().map(str::to_string).collect()
    }

    /// The report with only the usages of the group's dependencies (the files that could not
    /// be read stay: they are reported as before).
    pub fn restrict(&self, report: &ScanReport) -> ScanReport {
        let mut out = report.clone();
        out.usages
            .retain(|u| u.dependency.as_deref().is_some_and(|id| self.matches(id)));
        out
    }
}

/// The group an update branch stands for: the rest of `branch` after `prefix` and `group/`.
pub fn group_of_branch(prefix: &str, branch: &str) -> Option<String> {
    let name = branch.strip_prefix(prefix)?.strip_prefix(BRANCH_SEGMENT)?;
    valid_name(name).then(|| name.to_string())
}

/// Refuses a configuration in which a dependency `report` uses is matched by two groups: the
/// error names the dependency, both groups and where each is defined.
pub fn check_overlap(groups: &[Group], report: &ScanReport) -> Result<(), InvalidInput> {
    check_overlap_of(
        groups,
        report.usages.iter().filter_map(|u| u.dependency.as_deref()),
    )
}

/// [`check_overlap`] for dependency IDs.
pub fn check_overlap_of<'a>(
    groups: &[Group],
    ids: impl IntoIterator<Item = &'a str>,
) -> Result<(), InvalidInput> {
    let ids: BTreeSet<&str> = ids.into_iter().collect();
    for id in ids {
        let mut matching = groups.iter().filter(|g| g.matches(id));
        if let (Some(a), Some(b)) = (matching.next(), matching.next()) {
            return Err(overlap(id, a, b));
        }
    }
    Ok(())
}

/// The error of a dependency matched by two groups.
pub fn overlap(id: &str, a: &Group, b: &Group) -> InvalidInput {
    InvalidInput(format!(
        "{}: dependency {id} is matched by group {:?} ({}) and by group {:?} ({}); a dependency belongs to one group at most: narrow the dependencies globs of one of them",
        b.origin, a.name, a.origin, b.name, b.origin
    ))
}

/// A run limited to one group: the group, every group of the config (a dependency matched by
/// two is refused), and, for a promotion, what the dispatch payload says landed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupScope {
    /// The group.
    pub group: Group,
    /// Every group of the config.
    pub all: Vec<Group>,
    /// The group payload being answered, its dependencies limited to the group's.
    pub dispatched: Option<DispatchedGroup>,
    /// Dependencies the payload names that are left out, with why.
    pub left_out: Vec<(String, String)>,
}

impl GroupScope {
    /// The scope of `group` among `all`, answering `dispatched` (whose dependencies outside the
    /// group are left out, with why); `Err` when the payload names none of the group's.
    pub fn new(
        group: Group,
        all: Vec<Group>,
        dispatched: Option<DispatchedGroup>,
    ) -> Result<GroupScope, InvalidInput> {
        let mut left_out = Vec::new();
        let dispatched = match dispatched {
            Some(mut d) => {
                let (inside, outside) = sort_members(&group, &d.members);
                if inside.is_empty() {
                    return Err(InvalidInput(format!(
                        "the repository_dispatch payload of group {:?} names none of its dependencies here ({}): {}; refusing the promotion",
                        group.name,
                        group.globs.join(", "),
                        d.members
                            .iter()
                            .map(|m| m.dependency.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )));
                }
                d.members = inside;
                left_out = outside;
                Some(d)
            }
            None => None,
        };
        Ok(GroupScope {
            group,
            all,
            dispatched,
            left_out,
        })
    }

    /// The usages of the group's dependencies in `report`, once no dependency there is matched
    /// by two groups.
    pub fn scope(&self, report: &ScanReport) -> Result<ScanReport, InvalidInput> {
        check_overlap(&self.all, report)?;
        Ok(self.group.restrict(report))
    }
}

/// One dependency of a group payload and the version that landed for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    /// The dependency ID.
    pub dependency: String,
    /// The version, without `v`.
    pub version: String,
}

/// What a group payload says landed, read from an untrusted `client_payload`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DispatchedGroup {
    /// The group's name.
    pub group: String,
    /// Each dependency and its version.
    pub members: Vec<Member>,
    /// The merge commit.
    pub sha: Option<String>,
    /// The environment it landed in.
    pub environment: Option<String>,
    /// The pull request that landed it.
    pub pull_request: Option<u64>,
}

/// Reads a group payload (`{group, dependencies: [{dependency, version}], environment, sha, …}`);
/// `None` when `payload` names no group; `Err` when it names one but is malformed: too big, a
/// field of the wrong type, an ID or version out of shape, a dependency twice.
pub fn read_payload(payload: &Value) -> Option<Result<DispatchedGroup, InvalidInput>> {
    let group = payload.get("group")?;
    Some(read_group(payload, group))
}

fn read_group(payload: &Value, group: &Value) -> Result<DispatchedGroup, InvalidInput> {
    let refuse = |what: String| {
        InvalidInput(format!(
            "the repository_dispatch payload of a group is malformed: {what}; refusing the promotion"
        ))
    };
    let size = serde_json::to_vec(payload).map_or(usize::MAX, |v| v.len());
    if size > MAX_PAYLOAD_BYTES {
        return Err(refuse(format!(
            "it is {size} bytes (at most {MAX_PAYLOAD_BYTES})"
        )));
    }
    if ["dependency", "version"]
        .iter()
        .any(|k| payload.get(*k).is_some_and(|v| !v.is_null()))
    {
        return Err(refuse(
            "it names a group and a single `dependency` or `version` too".into(),
        ));
    }
    let name = group
        .as_str()
        .filter(|n| valid_name(n))
        .ok_or_else(|| refuse(format!("`group` is {}, not a group name", shown(group))))?;
    let list = payload
        .get("dependencies")
        .and_then(Value::as_array)
        .ok_or_else(|| refuse("`dependencies` is not a list".into()))?;
    if list.is_empty() || list.len() > MAX_MEMBERS {
        return Err(refuse(format!(
            "`dependencies` has {} entries (1 to {MAX_MEMBERS})",
            list.len()
        )));
    }
    let mut members: Vec<Member> = Vec::new();
    for (i, entry) in list.iter().enumerate() {
        let member = read_member(entry).map_err(|e| refuse(format!("dependencies[{i}]: {e}")))?;
        if members.iter().any(|m| m.dependency == member.dependency) {
            return Err(refuse(format!(
                "dependencies[{i}]: {} is listed twice",
                member.dependency
            )));
        }
        members.push(member);
    }
    let text = |key: &str| -> Result<Option<String>, InvalidInput> {
        match payload.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.len() <= MAX_ID && !s.chars().any(char::is_control) => {
                Ok(Some(s.clone()).filter(|s| !s.trim().is_empty()))
            }
            Some(other) => Err(refuse(format!("`{key}` is {}", shown(other)))),
        }
    };
    let pull_request = match payload.get("pull_request") {
        None | Some(Value::Null) => None,
        Some(n) => Some(
            n.as_u64()
                .ok_or_else(|| refuse(format!("`pull_request` is {}", shown(n))))?,
        ),
    };
    Ok(DispatchedGroup {
        group: name.to_string(),
        members,
        sha: text("sha")?,
        environment: text("environment")?,
        pull_request,
    })
}

/// One `{dependency, version}` entry, each a string of the right shape and nothing else.
fn read_member(entry: &Value) -> Result<Member, String> {
    let object = entry
        .as_object()
        .ok_or_else(|| format!("{} is not an object", shown(entry)))?;
    if let Some(extra) = object
        .keys()
        .find(|k| !matches!(k.as_str(), "dependency" | "version"))
    {
        return Err(format!("unknown key {extra:?}"));
    }
    let field = |key: &str, max: usize| -> Result<String, String> {
        let value = object.get(key).unwrap_or(&Value::Null);
        value
            .as_str()
            .filter(|s| !s.is_empty() && s.len() <= max)
            .filter(|s| s.chars().all(|c| c.is_ascii_graphic()))
            .map(str::to_string)
            .ok_or_else(|| format!("`{key}` is {}", shown(value)))
    };
    let dependency = field("dependency", MAX_ID)?;
    let version = field("version", MAX_VERSION)?;
    if crate::version::parse_version(&version).is_none() {
        return Err(format!(
            "the version {version:?} of {dependency} is not a version"
        ));
    }
    Ok(Member {
        dependency,
        version,
    })
}

/// A JSON value as a message shows it: short, one line.
fn shown(v: &Value) -> String {
    let text = v.to_string();
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

/// The payload's dependencies split into those of `group` and those it does not match (each
/// with why it is left out).
pub fn sort_members(group: &Group, members: &[Member]) -> (Vec<Member>, Vec<(String, String)>) {
    let mut inside = Vec::new();
    let mut outside = Vec::new();
    for m in members {
        if group.matches(&m.dependency) {
            inside.push(m.clone());
        } else {
            outside.push((
                m.dependency.clone(),
                format!(
                    "the payload names it, but it is not a dependency of group {:?} here ({}): left out",
                    group.name,
                    group.globs.join(", ")
                ),
            ));
        }
    }
    (inside, outside)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn group(globs: &[&str]) -> Group {
        let globs: Vec<String> = globs.iter().map(|g| g.to_string()).collect();
        Group::new("network", &globs, "baton.toml:3").unwrap()
    }

    #[test]
    fn globs_match_dependency_ids_part_by_part() {
        let g = group(&["acme/terraform-aws-*/**"]);
        assert!(g.matches("acme/terraform-aws-vpc/modules/vpc"));
        assert!(g.matches("acme/terraform-aws-vpc/vpc"));
        assert!(
            !g.matches("acme/terraform-aws-vpc"),
            "a root module needs {{,/**}}"
        );
        assert!(!g.matches("other/terraform-aws-vpc/vpc"));
        let g = group(&["acme/terraform-aws-*{,/**}"]);
        assert!(g.matches("acme/terraform-aws-vpc"));
        let g = group(&["acme/*"]);
        assert!(!g.matches("acme/vpc/sub"), "* never crosses /");
    }

    #[test]
    fn names_are_branch_safe() {
        for good in ["network", "aws-core", "v1.2", "a_b"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in [
            "",
            "-x",
            ".x",
            "a..b",
            "a/b",
            "x.lock",
            "x.",
            "a b",
            "ü",
            &"a".repeat(65),
        ] {
            assert!(!valid_name(bad), "{bad}");
        }
        assert_eq!(
            group(&["a/*"]).branch("baton-dev-updates-"),
            "baton-dev-updates-group/network"
        );
        assert_eq!(
            group_of_branch("baton-dev-updates-", "baton-dev-updates-group/network").as_deref(),
            Some("network")
        );
        assert_eq!(
            group_of_branch("baton-dev-updates-", "baton-dev-updates-acme/vpc"),
            None
        );
    }

    #[test]
    fn payloads_are_read_as_untrusted_input() {
        let ok = json!({"group": "network", "environment": "dev", "sha": "abc", "pull_request": 4,
            "dependencies": [{"dependency": "acme/a/x", "version": "1.2.0"}]});
        let g = read_payload(&ok).unwrap().unwrap();
        assert_eq!(g.group, "network");
        assert_eq!(g.members[0].version, "1.2.0");
        assert_eq!(g.pull_request, Some(4));
        assert!(read_payload(&json!({"dependency": "a/b"})).is_none());
        let many: Vec<Value> = (0..=MAX_MEMBERS)
            .map(|i| json!({"dependency": format!("a/b/{i}"), "version": "1.0.0"}))
            .collect();
        let twice = json!([{"dependency": "a/b", "version": "1.0.0"}, {"dependency": "a/b", "version": "1.1.0"}]);
        for (bad, why) in [
            (
                json!({"group": "../x", "dependencies": []}),
                "not a group name",
            ),
            (json!({"group": 3, "dependencies": []}), "not a group name"),
            (json!({"group": "g"}), "not a list"),
            (json!({"group": "g", "dependencies": []}), "0 entries"),
            (json!({"group": "g", "dependencies": many}), "201 entries"),
            (json!({"group": "g", "dependencies": twice}), "listed twice"),
            (
                json!({"group": "g", "dependencies": ["a/b"]}),
                "not an object",
            ),
            (
                json!({"group": "g", "dependencies": [{"dependency": "a/b", "version": "latest"}]}),
                "not a version",
            ),
            (
                json!({"group": "g", "dependencies": [{"dependency": "a b", "version": "1.0.0"}]}),
                "`dependency`",
            ),
            (
                json!({"group": "g", "dependencies": [{"dependency": "a/b", "version": "1.0.0", "x": 1}]}),
                "unknown key",
            ),
            (
                json!({"group": "g", "pull_request": "7", "dependencies": [{"dependency": "a/b", "version": "1.0.0"}]}),
                "`pull_request`",
            ),
            (
                json!({"group": "g", "big": "x".repeat(MAX_PAYLOAD_BYTES), "dependencies": []}),
                "bytes",
            ),
        ] {
            let e = read_payload(&bad).unwrap().unwrap_err().0;
            assert!(e.contains(why), "{why}: {e}");
        }
    }

    #[test]
    fn two_groups_matching_one_dependency_are_refused_with_both_places() {
        use crate::find::scan::fixtures::{report, usage};
        let a = Group::new("a", &["acme/*/**".into()], "baton.toml:3").unwrap();
        let b = Group::new("b", &["*/terraform-aws-vpc/**".into()], "baton.toml:7").unwrap();
        let r = report(vec![usage(
            "dev/a.hcl",
            "github.com/acme/terraform-aws-vpc//vpc?ref=v1.0.0",
            "v1.0.0",
        )]);
        let e = check_overlap(&[a.clone(), b.clone()], &r).unwrap_err().0;
        assert!(e.starts_with("baton.toml:7: "), "{e}");
        assert!(
            e.contains("\"a\" (baton.toml:3)") && e.contains("\"b\" (baton.toml:7)"),
            "{e}"
        );
        assert!(check_overlap(&[a], &r).is_ok());
        let (inside, outside) = sort_members(
            &b,
            &[
                Member {
                    dependency: "acme/terraform-aws-vpc/vpc".into(),
                    version: "1.0.0".into(),
                },
                Member {
                    dependency: "acme/x/y".into(),
                    version: "1.0.0".into(),
                },
            ],
        );
        assert_eq!(inside.len(), 1);
        assert_eq!(outside[0].0, "acme/x/y");
    }
}
