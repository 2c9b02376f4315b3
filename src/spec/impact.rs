//! The spec's `Impact` as markdown: the "Impact on this environment" section of a pull request
//! and of `report --format markdown` (and the job summary), and the checklist of manual steps
//! that Patcher users know as `README-TO-COMPLETE-UPDATE.md`.
//!
//! Text read from module repositories (names, types, constraints, tags) reached the spec already
//! inside code spans; file paths are shown the same way.

use crate::find::callsite::code;
use crate::find::interface::Change;
use crate::resolve::impact::{Impact, UsageImpact, UsageStatus};
use crate::spec::SpecDependency;
use crate::version::{self, Version};
use std::fmt::Write as _;

/// The name of the notes file Patcher writes, which `--breaking-notes-file` mirrors.
pub const NOTES_FILE: &str = "README-TO-COMPLETE-UPDATE.md";

/// The most usages listed per group; the rest are counted.
const MAX_LISTED: usize = 40;

/// The longest section rendered: a pull-request body holds at most 65,536 characters.
const MAX_SECTION: usize = 30_000;

/// A link for `file:line` (relative to the working directory), when there is a place to link to.
pub type Link<'a> = &'a dyn Fn(&str, usize) -> Option<String>;

/// No links: `file:line` as code.
pub fn no_link(_: &str, _: usize) -> Option<String> {
    None
}

/// What an update to `target` (`None`: any target) crosses of a dependency's impact: the empty
/// bumps at or below it, and whether it reaches the breaking release analysed.
fn crossed(impact: &Impact, target: Option<&Version>) -> (Vec<usize>, bool) {
    let version_of = |tag: &str| version::split_tag(tag).map(|(_, v)| v);
    let reaches = |tag: &str| match (target, version_of(tag)) {
        (None, _) => true,
        (Some(t), Some(v)) => v <= *t,
        (Some(_), None) => false,
    };
    let empty = impact
        .empty_bumps
        .iter()
        .enumerate()
        .filter(|(_, b)| reaches(&b.release))
        .map(|(i, _)| i)
        .collect();
    let to = impact.to.as_deref().is_some_and(reaches);
    (empty, to)
}

/// Whether the section has anything to say for these dependencies and targets.
pub fn applies(deps: &[(&SpecDependency, Option<Version>)]) -> bool {
    deps.iter().any(|(d, t)| {
        d.impact.as_ref().is_some_and(|i| {
            let (empty, to) = crossed(i, t.as_ref());
            !empty.is_empty() || to
        })
    })
}

fn place(file: &str, line: usize, link: Link<'_>) -> String {
    let text = code(&format!("{file}:{line}"));
    match link(file, line) {
        Some(url) => format!("[{text}]({url})"),
        None => text,
    }
}

fn change_line(c: &Change) -> String {
    let ty = |t: &Option<String>| t.as_deref().map_or("any".to_string(), code);
    let was = |f: &Option<String>| {
        f.as_deref()
            .map_or(String::new(), |f| format!(" (was {})", code(f)))
    };
    match c {
        Change::InputRemoved { name } => format!("removes the input {}", code(name)),
        Change::InputRequired { name, new: false } => {
            format!(
                "makes the input {} required (it has no default any more)",
                code(name)
            )
        }
        Change::InputRequired { name, new: true } => {
            format!("adds the required input {}", code(name))
        }
        Change::InputTypeChanged { name, from, to } => format!(
            "changes the type of {} from {} to {}",
            code(name),
            ty(from),
            ty(to)
        ),
        Change::OutputRemoved { name } => format!("removes the output {}", code(name)),
        Change::ProviderTightened {
            name,
            source,
            from,
            to,
        } => format!(
            "requires the provider {} {}{}",
            code(source.as_deref().unwrap_or(name)),
            to.as_deref().map_or("(no version)".into(), code),
            was(from)
        ),
        Change::TerraformTightened { from, to } => {
            format!("requires Terraform {}{}", code(to), was(&from.clone()))
        }
    }
}

fn usage_group(out: &mut String, title: &str, usages: &[&UsageImpact], link: Link<'_>) {
    if usages.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n**{title}**\n");
    for u in usages.iter().take(MAX_LISTED) {
        let _ = writeln!(out, "- {}", place(&u.file, u.line, link));
        for f in &u.findings {
            let _ = writeln!(out, "  - {} {}", place(&f.file, f.line, link), f.message);
        }
    }
    if usages.len() > MAX_LISTED {
        let _ = writeln!(
            out,
            "- … and {} more (listed in the spec's `Impact`)",
            usages.len() - MAX_LISTED
        );
    }
}

/// One dependency's part: empty bumps crossed, the interface changes, each usage, and (with
/// `steps`) the checklist.
fn dependency_part(
    out: &mut String,
    dep: &SpecDependency,
    target: Option<&Version>,
    link: Link<'_>,
    steps: bool,
) {
    let Some(impact) = &dep.impact else {
        return;
    };
    let (empty, to) = crossed(impact, target);
    if empty.is_empty() && !to {
        return;
    }
    let head = if to {
        impact.to.clone()
    } else {
        empty.last().map(|i| impact.empty_bumps[*i].release.clone())
    };
    let _ = writeln!(
        out,
        "\n#### {}: {} → {}\n",
        code(&dep.id),
        impact.from,
        head.as_deref().unwrap_or("?")
    );
    let folder = if impact.module.is_empty() {
        "the module's repository".to_string()
    } else {
        code(&impact.module)
    };
    let locals: Vec<String> = impact
        .paths
        .iter()
        .filter(|p| **p != impact.module)
        .map(|p| code(p))
        .collect();
    let places = if locals.is_empty() {
        folder.clone()
    } else {
        format!(
            "{folder} nor in the local modules it sources ({})",
            locals.join(", ")
        )
    };
    // A promotion moves to exactly what landed; only an update's `next-safe` goes past.
    let past = if dep.source_type.as_deref() == Some("promotion") {
        ""
    } else {
        ", so `next-safe` goes past it"
    };
    for i in empty {
        let b = &impact.empty_bumps[i];
        let _ = writeln!(
            out,
            "- {} is a breaking release, but it changes nothing in {places} (compared {}): it is not breaking here{past}.",
            b.release,
            code(&b.compared)
        );
    }
    if !to {
        return;
    }
    let to_tag = impact.to.as_deref().unwrap_or("?");
    if let Some(why) = &impact.unknown {
        let _ = writeln!(
            out,
            "\n> [!CAUTION]\n> Baton could not work out what {to_tag} changes here: {}. Read the release notes and plan before merging.",
            why.replace('\n', " ")
        );
        return;
    }
    if impact.changes.is_empty() {
        let _ = writeln!(
            out,
            "{to_tag} changes {folder} but not its interface (inputs, outputs, required providers and Terraform version): no usage needs a change for it. Read the release notes for changes in behaviour."
        );
    } else {
        let _ = writeln!(out, "{to_tag} changes the module's interface:\n");
        for c in &impact.changes {
            let _ = writeln!(out, "- {}", change_line(c));
        }
    }
    let group = |statuses: &[UsageStatus]| -> Vec<&UsageImpact> {
        impact
            .usages
            .iter()
            .filter(|u| statuses.contains(&u.status))
            .collect()
    };
    usage_group(
        out,
        "Needs changes",
        &group(&[UsageStatus::NeedsChange]),
        link,
    );
    usage_group(
        out,
        "To check by hand",
        &group(&[UsageStatus::Check, UsageStatus::Unknown]),
        link,
    );
    usage_group(
        out,
        "No change needed here",
        &group(&[UsageStatus::NoChange]),
        link,
    );
    if steps && !impact.steps.is_empty() {
        let _ = writeln!(out, "\n**To complete this update**\n");
        for s in &impact.steps {
            let _ = writeln!(out, "- [ ] {s}");
        }
    }
}

fn capped(mut out: String) -> String {
    if out.len() > MAX_SECTION {
        let mut cut = MAX_SECTION;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        out.push_str("\n\n… (cut: the whole impact is in the spec's `Impact`)\n");
    }
    out
}

/// The pull request's "Impact on this environment" section for the dependencies it updates and
/// their targets; empty when no breaking release (or empty bump) is crossed.
pub fn pr_section(deps: &[(&SpecDependency, Option<Version>)], link: Link<'_>) -> String {
    if !applies(deps) {
        return String::new();
    }
    let mut out = String::from("\n### Impact on this environment\n");
    for (dep, target) in deps {
        dependency_part(&mut out, dep, target.as_ref(), link, true);
    }
    capped(out)
}

/// The section of `report --format markdown` (and the job summary): every dependency's impact.
pub fn report_section(deps: &[SpecDependency]) -> String {
    let all: Vec<(&SpecDependency, Option<Version>)> = deps.iter().map(|d| (d, None)).collect();
    if !applies(&all) {
        return String::new();
    }
    let mut out = String::from("\n### Impact on this environment\n");
    for d in deps {
        dependency_part(&mut out, d, None, &no_link, true);
    }
    capped(out)
}

/// The notes file (`README-TO-COMPLETE-UPDATE.md`): what remains to be done by hand; `None` when
/// the update crosses no breaking release.
pub fn notes(deps: &[(&SpecDependency, Option<Version>)]) -> Option<String> {
    if !deps
        .iter()
        .any(|(d, t)| d.impact.as_ref().is_some_and(|i| crossed(i, t.as_ref()).1))
    {
        return None;
    }
    let mut out = String::from(
        "# To complete this update\n\nBaton moved these dependencies of this environment across a breaking release by editing their versions. What follows is what it found in this environment's code, and the steps left to do by hand before merging.\n",
    );
    for (dep, target) in deps {
        dependency_part(&mut out, dep, target.as_ref(), &no_link, true);
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resolve::impact::{EmptyBump, Finding, Severity};

    fn dep(impact: Impact) -> SpecDependency {
        let mut d: SpecDependency = serde_json::from_str(r#"{"ID":"acme/modules/vpc"}"#).unwrap();
        d.impact = Some(impact);
        d
    }

    fn impact() -> Impact {
        Impact {
            from: "v1.0.0".into(),
            module: "modules/vpc".into(),
            empty_bumps: vec![],
            to: Some("v2.0.0".into()),
            paths: vec!["modules/vpc".into()],
            changes: vec![Change::InputRemoved {
                name: "enable_classiclink".into(),
            }],
            usages: vec![
                UsageImpact {
                    file: "dev/a/terragrunt.hcl".into(),
                    line: 2,
                    status: UsageStatus::NeedsChange,
                    findings: vec![Finding {
                        file: "dev/a/terragrunt.hcl".into(),
                        line: 9,
                        severity: Severity::Error,
                        message: "passes `enable_classiclink`, removed in v2.0.0".into(),
                    }],
                },
                UsageImpact {
                    file: "dev/b/terragrunt.hcl".into(),
                    line: 2,
                    status: UsageStatus::NoChange,
                    findings: vec![],
                },
            ],
            steps: vec!["Remove `enable_classiclink` at `dev/a/terragrunt.hcl:9`.".into()],
            unknown: None,
        }
    }

    fn v(s: &str) -> Option<Version> {
        Some(Version::parse(s).unwrap())
    }

    #[test]
    fn the_section_lists_usages_needing_changes_first_with_links() {
        let d = dep(impact());
        let link = |f: &str, l: usize| Some(format!("https://x/blob/abc/{f}#L{l}"));
        let text = pr_section(&[(&d, v("2.0.0"))], &link);
        let needs = text.find("**Needs changes**").unwrap();
        let none = text.find("**No change needed here**").unwrap();
        assert!(needs < none, "{text}");
        assert!(text.contains(
            "  - [`dev/a/terragrunt.hcl:9`](https://x/blob/abc/dev/a/terragrunt.hcl#L9) passes `enable_classiclink`, removed in v2.0.0"
        ));
        assert!(text.contains("- [ ] Remove `enable_classiclink`"), "{text}");
        assert!(text.contains("- removes the input `enable_classiclink`"));
    }

    #[test]
    fn a_target_below_the_breaking_release_shows_only_the_empty_bumps_it_crosses() {
        let mut i = impact();
        i.empty_bumps = vec![EmptyBump {
            release: "v2.0.0".into(),
            compared: "v1.1.0...v2.0.0".into(),
        }];
        i.to = Some("v3.0.0".into());
        let d = dep(i);
        let text = pr_section(&[(&d, v("2.1.0"))], &no_link);
        assert!(text.contains("v2.0.0 is a breaking release, but it changes nothing in `modules/vpc` (compared `v1.1.0...v2.0.0`)"), "{text}");
        assert!(!text.contains("Needs changes"), "{text}");
        assert!(
            notes(&[(&d, v("2.1.0"))]).is_none(),
            "nothing to do by hand"
        );
        assert_eq!(pr_section(&[(&d, v("1.1.0"))], &no_link), "");
    }

    #[test]
    fn a_promotion_moves_to_what_landed_and_goes_past_nothing() {
        let mut i = impact();
        i.empty_bumps = vec![EmptyBump {
            release: "v2.0.0".into(),
            compared: "v1.0.0...v2.0.0".into(),
        }];
        i.to = None;
        let mut d = dep(i.clone());
        let text = pr_section(&[(&d, v("2.0.0"))], &no_link);
        assert!(
            text.contains("it is not breaking here, so `next-safe` goes past it."),
            "{text}"
        );
        d.source_type = Some("promotion".into());
        let text = pr_section(&[(&d, v("2.0.0"))], &no_link);
        assert!(
            text.contains("(compared `v1.0.0...v2.0.0`): it is not breaking here.\n"),
            "{text}"
        );
        assert!(!text.contains("next-safe"), "{text}");
    }

    #[test]
    fn unknown_impact_is_said() {
        let mut i = impact();
        i.usages.clear();
        i.unknown = Some("cannot read v2.0.0: 404".into());
        let text = report_section(&[dep(i)]);
        assert!(
            text.contains(
                "Baton could not work out what v2.0.0 changes here: cannot read v2.0.0: 404"
            ),
            "{text}"
        );
    }

    #[test]
    fn notes_carry_the_checklist() {
        let d = dep(impact());
        let text = notes(&[(&d, v("2.0.0"))]).unwrap();
        assert!(text.starts_with("# To complete this update\n"));
        assert!(text.contains("- [ ] Remove `enable_classiclink`"));
    }
}
