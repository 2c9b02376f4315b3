//! `baton notify`: in a module repository, on `release: published` (or by hand with `--tag`),
//! hand the release to every consumer repository through `repository_dispatch`.

use super::Annotate;
use crate::app::args::GitHubArgs;
use crate::app::console::Console;
use crate::exit::InvalidInput;
use crate::output::{self, Format};
use crate::promote::notify::{self, Discover, NotifyRequest, Outcome};
use clap::Args;
use std::fmt::Write as _;
use std::path::PathBuf;

/// Flags of `baton notify`.
#[derive(Debug, Clone, Args)]
pub struct NotifyArgs {
    /// The module repository's checkout: its `.github/baton.toml` lists the consumers, and its
    /// module folders (the root, `modules/*`) travel in the payload.
    #[arg(
        short = 'C',
        long,
        env = "BATON_WORKING_DIR",
        value_name = "DIR",
        default_value = "."
    )]
    pub working_dir: PathBuf,
    /// The config file [default: .github/baton.toml, else baton.toml].
    #[arg(long, env = "BATON_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The tag released [default: the `release` event's tag].
    #[arg(long, env = "BATON_TAG", value_name = "TAG")]
    pub tag: Option<String>,
    /// The module repository, `owner/name` [default: GITHUB_REPOSITORY, else the event's].
    #[arg(long, env = "BATON_REPOSITORY", value_name = "OWNER/NAME")]
    pub repository: Option<String>,
    /// More consumer repositories (`owner/name`, comma-separated), beside `[[consumers]]`.
    #[arg(
        long,
        env = "BATON_CONSUMERS",
        value_name = "OWNER/NAME",
        value_delimiter = ','
    )]
    pub consumer: Vec<String>,
    /// Also find consumers with GitHub's code search: the repositories whose Terraform files name
    /// the module repository (the query is printed).
    #[arg(long, env = "BATON_DISCOVER")]
    pub discover: bool,
    /// Search this owner's repositories [default: the module repository's owner].
    #[arg(long, env = "BATON_DISCOVER_ORG", value_name = "OWNER")]
    pub discover_org: Option<String>,
    /// The `repository_dispatch` event type sent.
    #[arg(
        long,
        env = "BATON_NOTIFY_EVENT",
        value_name = "TYPE",
        default_value = crate::spec::release::EVENT_TYPE
    )]
    pub event_type: String,
    /// The event payload to read (the runner sets `GITHUB_EVENT_PATH`).
    #[arg(long, env = "GITHUB_EVENT_PATH", value_name = "FILE")]
    pub event_path: Option<PathBuf>,
    /// Find the consumers and say what would be sent; send nothing.
    #[arg(long, env = "BATON_DRY_RUN")]
    pub dry_run: bool,
    /// Output format.
    #[arg(long, env = "BATON_FORMAT", value_enum, default_value_t = Format::Json)]
    pub format: Format,
    /// GitHub access.
    #[command(flatten)]
    pub github: GitHubArgs,
}

/// What a `release` event says: the repository, the tag and whether it is a pre-release or a
/// draft.
#[derive(Debug, Default)]
struct ReleaseEvent {
    repository: Option<String>,
    tag: Option<String>,
    prerelease: bool,
    draft: bool,
}

fn release_event(path: Option<&PathBuf>) -> Result<ReleaseEvent, InvalidInput> {
    let Some(path) = path.filter(|p| !p.as_os_str().is_empty()) else {
        return Ok(ReleaseEvent::default());
    };
    let Ok(text) = std::fs::read_to_string(path) else {
        return Ok(ReleaseEvent::default());
    };
    let event: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        InvalidInput(format!(
            "the event payload {} is not JSON: {e}",
            path.display()
        ))
    })?;
    let text = |pointer: &str| {
        event
            .pointer(pointer)
            .and_then(serde_json::Value::as_str)
            .map(str::to_string)
    };
    let flag = |pointer: &str| event.pointer(pointer) == Some(&serde_json::Value::Bool(true));
    Ok(ReleaseEvent {
        repository: text("/repository/full_name"),
        tag: text("/release/tag_name"),
        prerelease: flag("/release/prerelease"),
        draft: flag("/release/draft"),
    })
}

/// The request `baton notify`'s flags describe (with the `release` event being handled).
pub fn request(args: &NotifyArgs) -> anyhow::Result<NotifyRequest> {
    let event = release_event(args.event_path.as_ref())?;
    let clients = args.github.settings()?;
    let tag = args
        .tag
        .clone()
        .filter(|t| !t.trim().is_empty())
        .or(event.tag.clone())
        .ok_or_else(|| {
            InvalidInput("no tag: run on a `release` event, or pass --tag (input tag)".into())
        })?;
    if event.draft && args.tag.is_none() {
        return Err(InvalidInput(format!(
            "the release {tag} is a draft: consumers are told of published releases only"
        ))
        .into());
    }
    let repository = args
        .repository
        .clone()
        .or(clients.repository.clone())
        .or(event.repository.clone())
        .ok_or_else(|| {
            InvalidInput("no module repository: set GITHUB_REPOSITORY or --repository".into())
        })?;
    let mut consumers: Vec<String> =
        crate::app::config::consumers(&args.working_dir, args.config.as_deref())?
            .into_iter()
            .map(|c| c.repository)
            .collect();
    for c in crate::find::env::split_patterns(&args.consumer) {
        let (owner, name) = c.split_once('/').unwrap_or(("", ""));
        crate::clients::github::check_repository(owner, name)
            .map_err(|e| InvalidInput(format!("--consumer {c:?}: {e}")))?;
        consumers.push(c);
    }
    Ok(NotifyRequest {
        working_dir: args.working_dir.clone(),
        repository,
        // A release picked by hand (--tag) is sent whatever the event says.
        prerelease: event.prerelease && args.tag.is_none(),
        tag,
        consumers,
        discover: args.discover.then(|| Discover {
            org: args.discover_org.clone().filter(|o| !o.trim().is_empty()),
        }),
        event_type: args.event_type.clone(),
        clients,
        dry_run: args.dry_run,
    })
}

/// The outcome as text: one line per consumer.
pub fn text(outcome: &Outcome) -> String {
    let mut out = String::new();
    if let Some(why) = &outcome.skipped {
        let _ = writeln!(out, "nothing sent: {why}");
    }
    if let Some(q) = &outcome.search_query {
        let _ = writeln!(out, "code search query: {q}");
    }
    for c in &outcome.consumers {
        let _ = writeln!(
            out,
            "{}  {}{}",
            c.repository,
            c.result.as_str(),
            c.message
                .as_deref()
                .map(|m| format!(": {m}"))
                .unwrap_or_default()
        );
    }
    out
}

/// The outcome as markdown (the job summary): the release, the query, a table of consumers.
pub fn markdown(outcome: &Outcome) -> String {
    let mut out = String::from("### Baton notify\n\n");
    if let Some(why) = &outcome.skipped {
        let _ = writeln!(out, "Nothing sent: {}", output::md_text(why));
        return out;
    }
    if let Some(p) = &outcome.payload {
        let _ = writeln!(
            out,
            "Release {} ({}) of {}, {} to the consumers as {}.\n",
            output::code(&p.tag),
            output::code(&p.version),
            output::md_text(&p.repository),
            if outcome.dry_run {
                "would be handed (dry run)"
            } else {
                "handed"
            },
            output::code(&outcome.event_type)
        );
    }
    if let Some(q) = &outcome.search_query {
        let _ = writeln!(out, "Code search query: {}\n", output::code(q));
    }
    let _ = writeln!(
        out,
        "{} of {} consumer{} got it.\n",
        outcome.sent(),
        outcome.consumers.len(),
        if outcome.consumers.len() == 1 {
            ""
        } else {
            "s"
        }
    );
    if !outcome.consumers.is_empty() {
        out.push_str("| Repository | Found | Result | Why |\n|---|---|---|---|\n");
        for c in &outcome.consumers {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                output::cell(&output::md_text(&c.repository)),
                c.found,
                c.result.as_str(),
                output::cell(&output::md_text(c.message.as_deref().unwrap_or("")))
            );
        }
    }
    out
}

/// Runs `baton notify`.
pub fn run(args: &NotifyArgs) -> anyhow::Result<u8> {
    let outcome = notify::run(&request(args)?, &Annotate)?;
    let console = Console::for_stdout();
    let stdout = &mut std::io::stdout().lock();
    match args.format {
        Format::Json => console.write_json(stdout, &serde_json::to_string_pretty(&outcome)?)?,
        Format::Text => console.write_text(stdout, &text(&outcome))?,
        Format::Markdown => console.write_text(stdout, &markdown(&outcome))?,
    }
    Ok(outcome.exit_code())
}
