//! `baton demo`: a sandbox with module repositories, a live repository (dev/stage/prod) and a
//! bare `origin`, and the whole promotion chain run through it with the same library calls the
//! commands make. Git is real; GitHub's part (pull requests, dispatches) is narrated, so the demo
//! needs no token and no network.

use crate::clients::Settings;
use crate::clients::git::Git;
use crate::diag::Collected;
use crate::find::env::DirFilter;
use crate::find::scan::{self, ScanReport, ScanRequest};
use crate::promote::decide::{self, Decision};
use crate::promote::status;
use crate::resolve::landed;
use crate::spec::Strategy;
use crate::spec::report::{self, Promotion, ReportRequest};
use crate::update::plan as update;
use crate::update::publish;
use anyhow::Context as _;
use std::io::Write;
use std::path::{Path, PathBuf};

/// The environments of the demo, in promotion order.
const ENVS: [&str; 3] = ["dev", "stage", "prod"];
/// The dependency the demo rolls out.
const DEP: &str = "acme/terraform-aws-vpc/vpc";
const AUTHOR: (&str, &str) = ("Baton Demo", "demo@baton.invalid");

/// Where to build the sandbox.
#[derive(Debug, Clone, Default)]
pub struct DemoRequest {
    /// A directory to build in (kept); `None`: a temporary one, removed at the end.
    pub dir: Option<PathBuf>,
}

struct Sandbox {
    live: PathBuf,
    git: Git,
}

/// Builds the sandbox and runs the chain, writing a transcript to `out`.
pub fn run(req: &DemoRequest, out: &mut dyn Write) -> anyhow::Result<()> {
    let temp;
    let root = match &req.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
            std::fs::canonicalize(dir)?
        }
        None => {
            temp = tempfile::Builder::new().prefix("baton-demo-").tempdir()?;
            temp.path().to_path_buf()
        }
    };
    // A temporary sandbox is removed at the end: its path is not worth printing.
    let place = match &req.dir {
        Some(_) => root.display().to_string(),
        None => "a temporary directory (removed at the end; --dir DIR keeps it)".to_string(),
    };
    writeln!(
        out,
        "Baton demo: {DEP} rolled out dev → stage → prod in {place} (no token, no network)\n"
    )?;
    let sandbox = build(&root)?;
    // Problems are not expected in the sandbox; the transcript stays clean either way.
    let problems = Collected::default();

    step(out, "The live repository as it starts")?;
    print_status(out, &sandbox)?;

    // dev: report the available updates, update to the newest safe release.
    let spec = report::run(
        &ReportRequest {
            scan: request(&sandbox, "dev"),
            dependency: None,
            strategy: Strategy::NextBreaking,
            promotion: None,
            gates: Default::default(),
            clients: Settings::default(),
            dispatched: None,
            release: None,
            group: None,
        },
        &problems,
    )?;
    step(out, "baton report --include-dirs '{*dev*}/**'")?;
    for d in &spec.dependencies {
        writeln!(
            out,
            "  {:<32} in use {:<8} next safe {:<8} next breaking {}",
            d.id,
            d.current_versions.join(","),
            d.target_safe_version.as_deref().unwrap_or("-"),
            d.target_breaking_version.as_deref().unwrap_or("-")
        )?;
    }
    let targets = update::targets_from_spec(&spec, Strategy::NextSafe, Some(DEP))?;
    let branch = |env: &str| format!("baton-{env}-updates-{DEP}");
    step(
        out,
        &format!("baton update --update-strategy next-safe --dependency {DEP} (dev)"),
    )?;
    open_update(out, &sandbox, "dev", &branch("dev"), &targets)?;

    // A reviewer prefers the previous minor release and edits the pull request.
    step(
        out,
        "A reviewer edits the dev pull request: v1.2.0 → v1.1.0",
    )?;
    let file = sandbox.live.join("dev/us-east-1/vpc/terragrunt.hcl");
    let text = std::fs::read_to_string(&file)?.replace("?ref=v1.2.0", "?ref=v1.1.0");
    crate::update::edit::write_atomic(&file, &text)?;
    let sha = publish::commit_and_push(
        &sandbox.git,
        &[file],
        "Stay on 1.1 until the NAT change is reviewed",
        &branch("dev"),
    )?;
    writeln!(out, "  pushed {}", short(sha.as_deref()))?;

    for (i, env) in ENVS.iter().enumerate() {
        let merged = merge(&sandbox, &branch(env))?;
        step(
            out,
            &format!(
                "The {env} pull request is merged ({})",
                short(Some(&merged))
            ),
        )?;
        print_status(out, &sandbox)?;
        let Some(next) = ENVS.get(i + 1) else {
            break;
        };
        promote_to(out, &sandbox, (i, env), next, &merged, &problems)?;
    }
    step(out, "Done")?;
    writeln!(
        out,
        "  every environment runs the version the reviewer chose in dev, not the newest release."
    )?;
    if req.dir.is_some() {
        writeln!(
            out,
            "  the sandbox stays in {}; `baton status` in {} reads its .github/baton.toml",
            root.display(),
            sandbox.live.display()
        )?;
    }
    Ok(())
}

/// `promote` for a merged pull request of `env`, then the next environment's update to exactly
/// the version that landed.
fn promote_to(
    out: &mut dyn Write,
    sandbox: &Sandbox,
    (i, env): (usize, &str),
    next: &str,
    merged: &str,
    problems: &Collected,
) -> anyhow::Result<()> {
    let branch = |env: &str| format!("baton-{env}-updates-{DEP}");
    // promote: what the merged pull request hands to the next environment.
    let event = serde_json::json!({
        "action": "closed",
        "pull_request": {
            "number": i + 1,
            "merged": true,
            "merge_commit_sha": merged,
            "head": {"ref": branch(env), "repo": {"full_name": "acme/live"}},
            "base": {"ref": "main", "repo": {"full_name": "acme/live"}},
            "labels": [{"name": format!("updates-{env}")}]
        }
    });
    let prefix = format!("baton-{env}-updates-");
    let Decision::Promote { dependency, .. } =
        decide::decide(&event, Some(&prefix), Some(&format!("updates-{env}")))
    else {
        anyhow::bail!("the demo's merged pull request was not promoted");
    };
    let landed = landed::landed_versions(&scan::scan(&request(sandbox, env))?);
    let version = dependency
        .as_deref()
        .and_then(|d| landed.get(d))
        .map(|l| l.version.to_string())
        .unwrap_or_default();
    step(out, &format!("baton promote ({env})"))?;
    writeln!(
        out,
        "  repository_dispatch {env}_updates_merged {{\"dependency\": \"{DEP}\", \"version\": \"{version}\", \"environment\": \"{env}\"}}"
    )?;

    // The next environment: promote what landed.
    let next_request = request(sandbox, next);
    publish::start_branch(&sandbox.git, "main", &branch(next))?;
    let report = scan::scan(&next_request)?;
    let from = Promotion::FromDirs(request(sandbox, env));
    let spec = report::promotion_spec(&from, &next_request, &report, Some(DEP), problems)?;
    let targets = update::targets_from_spec(&spec, Strategy::NextBreaking, None)?;
    step(
        out,
        &format!("baton update --promote-from '{{*{env}*}}/**' ({next}, on {env}_updates_merged)"),
    )?;
    commit_update(out, sandbox, next, &branch(next), &targets)?;
    Ok(())
}

fn step(out: &mut dyn Write, title: &str) -> std::io::Result<()> {
    writeln!(out, "\n== {title}")
}

fn short(sha: Option<&str>) -> String {
    sha.map_or("-".into(), |s| s.chars().take(8).collect())
}

fn request(sandbox: &Sandbox, env: &str) -> ScanRequest {
    ScanRequest {
        working_dir: sandbox.live.clone(),
        dirs: DirFilter::new(&[format!("{{*{env}*}}/**")], &[] as &[String]).unwrap_or_default(),
    }
}

fn print_status(out: &mut dyn Write, sandbox: &Sandbox) -> anyhow::Result<()> {
    let mut reports: Vec<(String, ScanReport)> = Vec::new();
    for env in ENVS {
        reports.push((env.to_string(), scan::scan(&request(sandbox, env))?));
    }
    for line in status::matrix(&reports).to_text().lines() {
        writeln!(out, "  {line}")?;
    }
    Ok(())
}

fn open_update(
    out: &mut dyn Write,
    sandbox: &Sandbox,
    env: &str,
    branch: &str,
    targets: &std::collections::BTreeMap<String, crate::version::Version>,
) -> anyhow::Result<()> {
    publish::start_branch(&sandbox.git, "main", branch)?;
    commit_update(out, sandbox, env, branch, targets)
}

fn commit_update(
    out: &mut dyn Write,
    sandbox: &Sandbox,
    env: &str,
    branch: &str,
    targets: &std::collections::BTreeMap<String, crate::version::Version>,
) -> anyhow::Result<()> {
    let report = scan::scan(&request(sandbox, env))?;
    let plan = update::plan(&sandbox.live, &report, targets);
    if let Some(f) = plan.failures.first() {
        anyhow::bail!("{}: {}", f.file, f.message);
    }
    let failures = update::write(&plan);
    if let Some(f) = failures.first() {
        anyhow::bail!("{}: {}", f.file, f.message);
    }
    for c in &plan.changes {
        writeln!(out, "  {}:{}  {} → {}", c.file, c.line, c.from, c.to)?;
    }
    let files: Vec<PathBuf> = plan.files.iter().map(|f| f.path.clone()).collect();
    let message = match targets.iter().next() {
        Some((id, v)) => format!("Update {id} to {v}"),
        None => "Update dependencies".into(),
    };
    let sha = publish::commit_and_push(&sandbox.git, &files, &message, branch)?;
    writeln!(
        out,
        "  branch {branch} pushed ({}); on GitHub Baton opens its pull request, labelled updates-{env}",
        short(sha.as_deref())
    )?;
    Ok(())
}

/// Merges a branch into main and pushes, as the merge button does.
fn merge(sandbox: &Sandbox, branch: &str) -> anyhow::Result<String> {
    let g = &sandbox.git;
    g.fetch("origin", "+refs/heads/*:refs/remotes/origin/*")?;
    g.run(&["checkout", "-q", "-B", "main", "origin/main"])?;
    g.run(&[
        "merge",
        "-q",
        "--no-ff",
        "-m",
        &format!("Merge {branch}"),
        &format!("origin/{branch}"),
    ])?;
    g.run(&["push", "-q", "origin", "main"])?;
    Ok(g.head_sha()?)
}

fn init_repo(dir: &Path) -> anyhow::Result<Git> {
    std::fs::create_dir_all(dir)?;
    let git = Git::new(dir).with_author(AUTHOR.0, AUTHOR.1);
    git.run(&["init", "-q", "-b", "main"])?;
    git.run(&["config", "commit.gpgsign", "false"])?;
    git.run(&["config", "tag.gpgsign", "false"])?;
    Ok(git)
}

/// A module repository `modules/acme/<name>` with one commit per tagged release.
fn module_repo(root: &Path, name: &str, module: &str, tags: &[&str]) -> anyhow::Result<PathBuf> {
    let dir = root.join("modules/acme").join(name);
    let git = init_repo(&dir)?;
    std::fs::create_dir_all(dir.join("modules").join(module))?;
    for tag in tags {
        std::fs::write(
            dir.join("modules").join(module).join("main.tf"),
            format!("# {name} {tag}\nvariable \"name\" {{}}\n"),
        )?;
        git.run(&["add", "-A"])?;
        git.run(&["commit", "-q", "-m", &format!("Release {tag}")])?;
        git.run(&["tag", tag])?;
    }
    Ok(dir)
}

/// Module repositories with tagged releases, a live repository and its bare origin.
fn build(root: &Path) -> anyhow::Result<Sandbox> {
    let vpc = module_repo(
        root,
        "terraform-aws-vpc",
        "vpc",
        &["v1.0.0", "v1.1.0", "v1.2.0", "v2.0.0"],
    )?;
    let sqs = module_repo(
        root,
        "terraform-aws-sqs",
        "sqs",
        &["v0.8.0", "v0.8.1", "v0.9.0"],
    )?;

    let origin = root.join("origin.git");
    std::fs::create_dir_all(&origin)?;
    Git::new(&origin).run(&["init", "-q", "--bare", "-b", "main"])?;
    let live = root.join("live");
    let git = init_repo(&live)?;
    for env in ENVS {
        let vpc_unit = format!(
            "# {env} VPC\nterraform {{\n  source = \"git::file://{}//modules/vpc?ref=v1.0.0\"\n}}\n\ninputs = {{\n  cidr_block = \"10.0.0.0/16\"\n}}\n",
            vpc.display()
        );
        let sqs_unit = format!(
            "terraform {{\n  source = \"git::file://{}//modules/sqs?ref=v0.8.0\"\n}}\n",
            sqs.display()
        );
        for (unit, text) in [("vpc", vpc_unit), ("sqs", sqs_unit)] {
            let dir = live.join(env).join("us-east-1").join(unit);
            std::fs::create_dir_all(&dir)?;
            std::fs::write(dir.join("terragrunt.hcl"), text)?;
        }
    }
    std::fs::create_dir_all(live.join(".github"))?;
    std::fs::write(live.join(".github/baton.toml"), demo_config())?;
    git.run(&["add", "-A"])?;
    git.run(&["commit", "-q", "-m", "Live infrastructure"])?;
    git.run(&["remote", "add", "origin", &origin.to_string_lossy()])?;
    git.run(&["push", "-q", "origin", "main"])?;
    Ok(Sandbox { live, git })
}

/// The sandbox's config file: the three environments in promotion order, as `baton init`
/// would write them.
fn demo_config() -> String {
    let mut text = format!(
        "#:schema {}\n# The environments in promotion order.\n",
        crate::app::config::SCHEMA_URL
    );
    for env in ENVS {
        text.push_str(&format!(
            "\n[[environments]]\nname = \"{env}\"\ninclude = [\"{{*{env}*}}/**\"]\n"
        ));
    }
    text
}
