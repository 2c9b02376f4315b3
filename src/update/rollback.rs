//! Explicit versions and rollbacks: `--to-version X` moves one dependency to exactly X, which
//! must be a published version, and is the only way Baton moves a version down. What a commit
//! is (an update, a promotion, a rollback) is written in its trailers, which the history and
//! the promotion of the next environment read; a rollback's pull request says so in its title
//! and body, and links the pull request that brought the version it replaces.

use crate::clients::Session;
use crate::clock;
use crate::diag::Reporter;
use crate::exit::InvalidInput;
use crate::find::scan::ScanReport;
use crate::output::cell;
use crate::resolve::history::{
    self, ChangeKind, EnvFolders, HistoryQuery, TRAILER_ENVIRONMENT, TRAILER_FROM, TRAILER_KIND,
};
use crate::resolve::{self, Clients, landed};
use crate::spec::{Spec, SpecDependency};
use crate::update::UpdateRequest;
use crate::update::plan::{Change, UpdatePlan};
use crate::version::{self, Version};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Arc;

/// The version `--to-version` asks for, checked before anything is touched: it needs one
/// dependency and no spec.
pub fn wanted(request: &UpdateRequest) -> Result<Option<(String, Version)>, InvalidInput> {
    let Some(text) = request
        .to_version
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    else {
        return Ok(None);
    };
    let Some(id) = request
        .report
        .dependency
        .as_deref()
        .filter(|d| !d.is_empty())
    else {
        return Err(InvalidInput(format!(
            "--to-version {text} needs --dependency: say which dependency moves to it"
        )));
    };
    if request.spec.is_some() {
        return Err(InvalidInput(format!(
            "--to-version {text} takes its target from the command, not from a spec: drop --spec/--spec-file"
        )));
    }
    let v = version::split_tag(text)
        .map(|(_, v)| v)
        .or_else(|| version::parse_version(text))
        .ok_or_else(|| InvalidInput(format!("--to-version {text:?} is not a version")))?;
    Ok(Some((id.to_string(), v)))
}

/// The spec and target of `--to-version`: the dependency's published versions are looked up,
/// and the version must be one of them.
pub fn explicit_target(
    request: &UpdateRequest,
    report: &ScanReport,
    session: &Session,
    id: &str,
    wanted: &Version,
) -> anyhow::Result<(Spec, BTreeMap<String, Version>)> {
    let scan = &request.report.scan;
    let lookups = resolve::lookups_for(report, Some(id));
    if lookups.is_empty() {
        return Err(InvalidInput(format!(
            "--to-version: {id} has no usage Baton manages in {}",
            scan.describe()
        ))
        .into());
    }
    let clients = Arc::new(Clients {
        github: session.github.clone(),
        registry: session.settings.registry()?,
        git_dir: scan.working_dir.clone(),
    });
    let listings = session.block_on(resolve::fetch_all(clients, lookups));
    let deps = resolve::plan(report, &listings, Some(id));
    let Some(dep) = deps.first() else {
        return Err(InvalidInput(format!(
            "--to-version: {id} has no usage Baton manages in {}",
            scan.describe()
        ))
        .into());
    };
    if let Some(error) = &dep.error {
        if dep.tags.is_empty() {
            anyhow::bail!("cannot look up the published versions of {id}: {error}");
        }
    }
    let Some((published, _)) = dep.tags.iter().find(|(v, _)| same_version(v, wanted)) else {
        let mut known: Vec<String> = dep.tags.keys().map(ToString::to_string).collect();
        let shown = known.split_off(known.len().saturating_sub(8));
        return Err(InvalidInput(format!(
            "--to-version {wanted} is not a published version of {id} (newest published: {}); Baton only moves to versions that exist",
            if shown.is_empty() {
                "none".to_string()
            } else {
                shown.join(", ")
            }
        ))
        .into());
    };
    let target = published.clone();
    let current: Vec<String> = dep.current.iter().map(ToString::to_string).collect();
    let spec = Spec {
        include_dir_pattern: scan.dirs.include_pattern(),
        exclude_dir_pattern: scan.dirs.exclude_pattern(),
        dependencies: vec![SpecDependency {
            id: id.to_string(),
            org: dep.org.clone(),
            repo: dep.repo.clone(),
            module: dep.module.clone(),
            constraints: None,
            target_safe_version: Some(target.to_string()),
            target_breaking_version: Some(target.to_string()),
            current_versions: current,
            latest_version: dep.latest.as_ref().map(ToString::to_string),
            source_type: Some(dep.lookup.kind().to_string()),
            usages: dep.usages.clone(),
            target_constraint: None,
            release_notes: BTreeMap::new(),
            impact: None,
        }],
        ..Spec::default()
    };
    Ok((spec, BTreeMap::from([(id.to_string(), target)])))
}

fn same_version(a: &Version, b: &Version) -> bool {
    (a.major, a.minor, a.patch, &a.pre) == (b.major, b.minor, b.patch, &b.pre)
}

/// Whether a change moves a version down (both sides exact versions).
pub fn moves_down(c: &Change) -> bool {
    let exact = |t: &str| {
        version::split_tag(t)
            .map(|(_, v)| v)
            .or_else(|| version::parse_version(t))
    };
    match (exact(&c.from), exact(&c.to)) {
        (Some(from), Some(to)) => {
            (to.major, to.minor, to.patch, &to.pre)
                < (from.major, from.minor, from.patch, &from.pre)
        }
        _ => false,
    }
}

/// What a published update is: a rollback when it moves a version down (only `--to-version`
/// or the promotion of a rollback can), a promotion when its targets came from the previous
/// environment, else an update.
pub fn kind(request: &UpdateRequest, spec: &Spec, plan: &UpdatePlan) -> ChangeKind {
    if request.report.gates.rollback || plan.changes.iter().any(moves_down) {
        return ChangeKind::Rollback;
    }
    let promoted = request.report.promotion.is_some()
        || spec
            .dependencies
            .iter()
            .any(|d| d.source_type.as_deref() == Some("promotion"));
    if promoted {
        ChangeKind::Promotion
    } else {
        ChangeKind::Update
    }
}

/// The trailers of a Baton commit: what it is, the environment it changes and, for a
/// promotion or the promotion of a rollback, the environment it came from.
pub fn trailers(kind: ChangeKind, environment: &str, promoted_from: Option<&str>) -> String {
    let mut out = format!("{TRAILER_KIND}: {}\n", kind.as_str());
    let _ = writeln!(out, "{TRAILER_ENVIRONMENT}: {}", one_line(environment));
    if let Some(from) = promoted_from.filter(|f| !f.is_empty()) {
        let _ = writeln!(out, "{TRAILER_FROM}: {}", one_line(from));
    }
    out
}

fn one_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A rollback's title (and commit subject): `Update` becomes `Roll back`, or `Roll back: ` is
/// put in front, so that no rollback reads as an update.
pub fn title(title: &str) -> String {
    if title.starts_with("Roll back") || title.contains(" Roll back ") {
        title.to_string()
    } else if let Some(at) = title.find("Update ") {
        format!(
            "{}Roll back {}",
            &title[..at],
            &title[at + "Update ".len()..]
        )
    } else {
        format!("Roll back: {title}")
    }
}

/// The change that brought an environment's current version of a dependency, read from the
/// history, in words for the pull request (or why it is not known).
pub fn brought_by(
    request: &UpdateRequest,
    environment: &str,
    id: &str,
    current: &Version,
    reporter: &dyn Reporter,
) -> String {
    let query = HistoryQuery {
        working_dir: request.report.scan.working_dir.clone(),
        environments: vec![EnvFolders {
            name: environment.to_string(),
            dirs: request.report.scan.dirs.clone(),
        }],
        dependency: Some(id.to_string()),
        since: None,
        cache_dir: None,
    };
    let read = match history::read(&query, reporter) {
        Ok(read) => read,
        Err(e) => {
            return format!(
                "Baton could not read the history to tell what brought {current}: {e:#}."
            );
        }
    };
    let Some(change) = read.brought(environment, id, current) else {
        return format!("The history of this branch does not show what brought {current}.");
    };
    let mut out = match change.pull_request {
        Some(n) => format!("{current} came with #{n}"),
        None => format!(
            "{current} came with commit {}",
            &change.commit[..change.commit.len().min(12)]
        ),
    };
    let _ = write!(
        out,
        " ({}, {} by {}",
        change.kind.as_str(),
        clock::stamp(change.time),
        cell(&change.merged_by)
    );
    if change.pull_request.is_some() {
        let _ = write!(
            out,
            ", commit {}",
            &change.commit[..change.commit.len().min(12)]
        );
    }
    out.push_str(").");
    if read.shallow {
        out.push_str(
            " The checkout is shallow, so this may be where its history starts rather than the change itself: check out with `fetch-depth: 0`.",
        );
    }
    out
}

/// The body of a rollback's pull request.
pub fn body(
    environment: &str,
    plan: &UpdatePlan,
    targets: &BTreeMap<String, Version>,
    report: &ScanReport,
    brought: &BTreeMap<String, String>,
    promoted_from: Option<&str>,
) -> String {
    let landed = landed::landed_versions(report);
    let mut out = String::new();
    for (id, to) in targets {
        let from = landed
            .get(id)
            .map_or("?".to_string(), |l| l.version.to_string());
        let _ = writeln!(out, "## Roll back `{}` from {from} to {to}\n", cell(id));
        match promoted_from {
            Some(prev) => {
                let _ = writeln!(
                    out,
                    "A rollback of `{}` to {to} merged in **{}**, so Baton rolls **{}** back to the same version.",
                    cell(id),
                    cell(prev),
                    cell(environment)
                );
            }
            None => {
                let _ = writeln!(
                    out,
                    "Baton rolls this dependency back in **{}**, to {to} as asked (`--to-version`).",
                    cell(environment)
                );
            }
        }
        if let Some(text) = brought.get(id) {
            let _ = writeln!(out, "{text}");
        }
        out.push('\n');
    }
    out.push_str(
        "Only version strings changed.\n\n| File | Line | Previous | New |\n|---|---|---|---|\n",
    );
    for c in &plan.changes {
        let _ = writeln!(
            out,
            "| `{}` | {} | `{}` | `{}` |",
            cell(&c.file),
            c.line,
            cell(&c.from),
            cell(&c.to)
        );
    }
    if !plan.skipped.is_empty() {
        out.push_str("\n### Not changed\n\n");
        for s in &plan.skipped {
            let _ = writeln!(out, "- `{}:{}`: {}", cell(&s.file), s.line, s.reason);
        }
    }
    out.push_str(
        "\n### How to review\n\n\
         1. Run `terragrunt plan` (or `tofu plan` / `terraform plan`) in each changed folder: a rollback may need the previous version's state to be compatible.\n\
         2. Merge. Baton then proposes the same rollback to the next environment, moving it down if it runs a newer version; scheduled runs never move an environment down on their own.\n",
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollback_titles_never_read_as_updates() {
        assert_eq!(
            title("Update acme/vpc to 1.1.0"),
            "Roll back acme/vpc to 1.1.0"
        );
        assert_eq!(
            title("[stage] Update acme/vpc to 1.1.0"),
            "[stage] Roll back acme/vpc to 1.1.0"
        );
        assert_eq!(title("Bump vpc"), "Roll back: Bump vpc");
        assert_eq!(title("Roll back vpc"), "Roll back vpc");
    }

    #[test]
    fn trailers_name_kind_environment_and_source() {
        assert_eq!(
            trailers(ChangeKind::Promotion, "stage", Some("dev")),
            "Baton-Kind: promotion\nBaton-Environment: stage\nBaton-Promoted-From: dev\n"
        );
        assert_eq!(
            trailers(ChangeKind::Update, "dev\nBaton-Kind: rollback", None),
            "Baton-Kind: update\nBaton-Environment: dev Baton-Kind: rollback\n"
        );
        let parsed = history::trailers(&trailers(ChangeKind::Rollback, "dev", None));
        assert_eq!(parsed.kind, Some(ChangeKind::Rollback));
    }

    #[test]
    fn only_lower_exact_versions_move_down() {
        let c = |from: &str, to: &str| Change {
            file: "f".into(),
            line: 1,
            dependency: "a/b".into(),
            from: from.into(),
            to: to.into(),
            used_by: Vec::new(),
            notes: Vec::new(),
        };
        assert!(moves_down(&c("v1.2.0", "v1.1.0")));
        assert!(!moves_down(&c("v1.1.0", "v1.2.0")));
        assert!(!moves_down(&c("~> 5.0", "~> 4.0")));
    }
}
