//! What an update says about the breaking releases it crosses: the spec's impact of the
//! dependencies it changes, at the versions it moves them to, as the pull request's "Impact on
//! this environment" section (with links to the files at the pushed commit) and as the notes
//! file of `--breaking-notes-file`.

use crate::spec::impact as render;
use crate::spec::{Spec, SpecDependency};
use crate::update::plan::UpdatePlan;
use crate::update::publish::RepoRef;
use crate::version::Version;
use std::collections::BTreeMap;
use std::path::Path;

/// The dependencies the plan changes, each with its target.
fn changed<'a>(
    spec: &'a Spec,
    targets: &BTreeMap<String, Version>,
    plan: &UpdatePlan,
) -> Vec<(&'a SpecDependency, Option<Version>)> {
    spec.dependencies
        .iter()
        .filter(|d| plan.changes.iter().any(|c| c.dependency == d.id))
        .filter_map(|d| targets.get(&d.id).map(|t| (d, Some(t.clone()))))
        .collect()
}

/// The pull request's section; empty when no breaking release (or empty bump) is crossed.
pub fn section(
    spec: &Spec,
    targets: &BTreeMap<String, Version>,
    plan: &UpdatePlan,
    link: render::Link<'_>,
) -> String {
    render::pr_section(&changed(spec, targets, plan), link)
}

/// The notes file's text, when the update crosses a breaking release.
pub fn notes(
    spec: &Spec,
    targets: &BTreeMap<String, Version>,
    plan: &UpdatePlan,
) -> Option<String> {
    render::notes(&changed(spec, targets, plan))
}

/// Links to files at `rev` (a commit or branch) of `repo`, for a working directory at `prefix`
/// (`/`-separated, empty or ending in `/`) inside it. Files outside the working directory
/// (shown as absolute paths) get no link.
pub fn blob_link(
    repo: &RepoRef,
    rev: &str,
    prefix: &str,
) -> impl Fn(&str, usize) -> Option<String> + use<> {
    let base = format!(
        "https://{}/{}/{}/blob/{}/{}",
        repo.host,
        repo.owner,
        repo.name,
        encode(rev),
        encode(prefix)
    );
    move |file: &str, line: usize| {
        (!file.starts_with('/') && !file.split('/').any(|p| p == ".."))
            .then(|| format!("{base}{}#L{line}", encode(file)))
    }
}

/// The working directory's path inside the repository at `toplevel`: empty or ending in `/`.
pub fn prefix_in(toplevel: &Path, working_dir: &Path) -> String {
    let top = std::fs::canonicalize(toplevel).unwrap_or_else(|_| toplevel.to_path_buf());
    let dir = std::fs::canonicalize(working_dir).unwrap_or_else(|_| working_dir.to_path_buf());
    match dir.strip_prefix(&top) {
        Ok(rel) if !rel.as_os_str().is_empty() => {
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            format!("{}/", parts.join("/"))
        }
        _ => String::new(),
    }
}

/// Percent-encodes what would end a URL path or a markdown link.
fn encode(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        match c {
            ' ' | '#' | '?' | '%' | '(' | ')' | '<' | '>' | '"' | '`' | '[' | ']' => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_point_at_the_file_and_line_in_the_repository() {
        let repo = RepoRef {
            host: "github.com".into(),
            owner: "acme".into(),
            name: "live".into(),
        };
        let link = blob_link(&repo, "abc123", "infra/");
        assert_eq!(
            link("dev/a b/terragrunt.hcl", 12).as_deref(),
            Some("https://github.com/acme/live/blob/abc123/infra/dev/a%20b/terragrunt.hcl#L12")
        );
        assert_eq!(link("/etc/common.hcl", 1), None);
        assert_eq!(link("../common.hcl", 1), None);
    }

    #[test]
    fn the_prefix_is_the_working_directory_inside_the_repository() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("infra/live")).unwrap();
        assert_eq!(
            prefix_in(dir.path(), &dir.path().join("infra/live")),
            "infra/live/"
        );
        assert_eq!(prefix_in(dir.path(), dir.path()), "");
    }
}
