//! Hostile text: file and folder names, file contents, tags, release notes and API messages
//! written to make Baton's output do something else (issue workflow commands, break out of the
//! pull-request body, ping people). Each test backs a row of the book's "Hostile content"
//! table. Everything runs against local stand-ins on 127.0.0.1.

use crate::common::{baton, stderr_of, stdout_of};
use crate::events;
use crate::fake_github::FakeGitHub;
use crate::runner::{self, Command, Form};
use serde_json::json;
use std::path::Path;
use std::time::Duration;
use wiremock::matchers::{method, path};
use wiremock::{Mock, ResponseTemplate};

const TOKEN: &str = "ghs_HOSTILETOKEN0123456789abcdef";

/// What a payload sets when it gets through: a dry run must never set `pull_request_url`.
const SET_URL: &str = "::set-output name=pull_request_url::https://evil.example/PWNED";

/// The same without `//`, for versions and file names (where `//` would end the address or the
/// folder).
const SET_SHORT: &str = "::set-output name=pull_request_url::PWNED";

/// Runs a command off the async runtime, so the stand-ins keep answering.
async fn run(mut cmd: assert_cmd::Command) -> assert_cmd::assert::Assert {
    cmd.timeout(Duration::from_secs(120));
    tokio::task::spawn_blocking(move || cmd.assert())
        .await
        .expect("command ran")
}

fn write(root: &Path, rel: &str, content: &str) {
    let path = root.join(rel);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

fn module(source: &str) -> String {
    format!("module \"m\" {{\n  source = \"{source}\"\n}}\n")
}

/// A live tree whose names and contents try every way into Baton's output.
fn hostile_tree(root: &Path) {
    let vpc = |r: &str| module(&format!("github.com/acme/mods//modules/vpc?ref={r}"));
    // A folder name in the JSON of scan, report and update.
    write(
        root,
        "dev/##[set-output name=pull_request_url;]$(id)#/terragrunt.hcl",
        "terraform {\n  source = \"github.com/acme/mods//modules/vpc?ref=v1.0.0\"\n}\n",
    );
    // Lines of a file shown as diff context by a dry run.
    write(
        root,
        "dev/comment/main.tf",
        &format!(
            "{}/*\n{SET_URL}\n   ::stop-commands::PWNED\n::add-mask::PWNED\n##[error]PWNED\n*/\n",
            vpc("v1.0.0")
        ),
    );
    // A CR inside a version: status's markdown, and the warning of a promotion.
    write(
        root,
        "dev/cr/main.tf",
        &vpc(&format!("x\r{SET_SHORT}-v1.1.0")),
    );
    // A newline in a file name: status's warning, the dry-run diff header.
    write(
        root,
        &format!("dev/nl\n{SET_SHORT}/main.tf"),
        &vpc("v1.0.0"),
    );
    // A file that does not parse, named to end the annotation early.
    write(
        root,
        "dev/broken\r::error::PWNED,line=1::x/terragrunt.hcl",
        "terraform {\n  source = \n",
    );
    // Terminal escapes and a line separator in a folder name.
    write(
        root,
        "dev/esc\u{1b}[2K\u{85}\u{2028}::debug::PWNED/main.tf",
        &vpc("v1.0.0"),
    );
    // A module repository whose API errors carry commands.
    write(
        root,
        "dev/hostile/terragrunt.hcl",
        "terraform {\n  source = \"github.com/acme/hostile//x?ref=v1.0.0\"\n}\n",
    );
    write(root, "stage/vpc/main.tf", &vpc("v0.9.0"));
}

async fn hostile_github() -> FakeGitHub {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    gh.add_repo(
        "acme/mods",
        &[
            "v1.1.0",
            "v1.0.0",
            "##[set-output name=pull_request_url;]PWNED",
            "::set-output name=version::PWNED\n::debug::x",
        ],
    );
    gh.state
        .lock()
        .unwrap()
        .repos
        .get_mut("acme/mods")
        .unwrap()
        .releases = vec![(
        "v1.1.0".into(),
        format!("notes\n{SET_URL}\r::add-mask::PWNED"),
    )];
    Mock::given(method("GET"))
        .and(path("/repos/acme/hostile/tags"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "message": format!("Not Found\n{SET_URL}\r##[add-mask]PWNED\n   ::stop-commands::PWNED"),
        })))
        .with_priority(1)
        .mount(&gh.server)
        .await;
    gh
}

/// Why a command the runner would act on was not one Baton meant to issue, if it was not.
fn foreign(command: &Command, failed: bool, is_last_line: bool) -> Option<String> {
    let why = |reason: &str| Some(format!("{reason}: {:?}", command.line));
    if command.form == Form::Brackets {
        return why("Baton never writes the ##[ form");
    }
    match command.name.as_str() {
        "add-mask" if TOKEN.lines().any(|l| l == command.data) => None,
        "group" if command.data.starts_with("baton ") => None,
        "endgroup" if command.data.is_empty() => None,
        // Baton's annotations name their file, or carry the title Baton when they concern none.
        "warning"
            if command.properties.contains_key("file")
                || command
                    .properties
                    .get("title")
                    .is_some_and(|t| t == "Baton") =>
        {
            None
        }
        "error" if failed && is_last_line && command.properties.is_empty() => None,
        "stop-commands"
            if command.data.len() >= 32 && command.data.chars().all(|c| c.is_ascii_hexdigit()) =>
        {
            None
        }
        _ if command.resumes => None,
        _ => why("not a command Baton issues"),
    }
}

/// Every command a run would issue that Baton did not mean, stream by stream.
fn foreign_commands(name: &str, assert: &assert_cmd::assert::Assert) -> Vec<String> {
    let failed = !assert.get_output().status.success();
    let mut out = Vec::new();
    for (stream, text) in [("stdout", stdout_of(assert)), ("stderr", stderr_of(assert))] {
        let mut runner = runner::Runner::default();
        let commands = runner.feed(&text);
        let last_line = runner::lines(&text).last().map(|l| l.to_string());
        for c in &commands {
            let is_last = last_line.as_deref() == Some(c.line.as_str());
            if let Some(why) = foreign(c, failed, is_last) {
                out.push(format!("{name} ({stream}): {why}"));
            }
        }
        if runner.stopped() {
            out.push(format!("{name} ({stream}): commands left stopped"));
        }
    }
    out
}

struct Step {
    name: String,
    cmd: assert_cmd::Command,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nothing_baton_prints_under_actions_issues_a_command_it_did_not_mean() {
    let gh = hostile_github().await;
    let api = gh.api_url();
    let ws = tempfile::tempdir().unwrap();
    hostile_tree(ws.path());
    let tmp = tempfile::tempdir().unwrap();
    let output = tmp.path().join("output");
    let summary = tmp.path().join("summary.md");
    let event = tmp.path().join("event.json");
    std::fs::write(
        &event,
        // GitHub's real event, with a label whose name carries a workflow command.
        events::pull_request_closed(
            3,
            "baton-dev-updates-acme/mods/vpc",
            "c0ffee",
            "f00d",
            true,
            &[&format!("updates-dev\n{SET_URL}")],
            "acme/live",
        )
        .to_string(),
    )
    .unwrap();
    let base = |dir: &Path| {
        let mut cmd = baton();
        cmd.current_dir(dir)
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_REPOSITORY", "acme/live")
            .env("GITHUB_EVENT_PATH", &event)
            .env("GITHUB_API_URL", &api)
            .env("GIT_CONFIG_GLOBAL", tmp.path().join("gitconfig"))
            .env("BATON_LOG", "debug");
        cmd
    };
    let mut steps = Vec::new();
    let action = |inputs: &[(&str, &str)]| {
        let mut cmd = base(ws.path());
        cmd.arg("action")
            .env("GITHUB_WORKSPACE", ws.path())
            .env("INPUT_GITHUB_TOKEN", TOKEN)
            .env("INPUT_GITHUB_BASE_URL", &api);
        for (k, v) in inputs {
            cmd.env(format!("INPUT_{}", k.to_uppercase()), v);
        }
        cmd
    };
    let dev = ("include_dirs", "dev/**");
    for (name, inputs) in [
        ("action scan", vec![("patcher_command", "scan"), dev]),
        ("action report", vec![("patcher_command", "report"), dev]),
        (
            "action report promote_from",
            vec![
                ("patcher_command", "report"),
                ("include_dirs", "stage/**"),
                ("promote_from", "dev/**"),
            ],
        ),
        (
            "action update dry_run",
            vec![("patcher_command", "update"), dev, ("dry_run", "true")],
        ),
        (
            "action status",
            vec![
                ("patcher_command", "status"),
                ("environments", "dev=dev/**;stage=stage/**;all=**"),
            ],
        ),
        (
            "action promote",
            vec![
                ("patcher_command", "promote"),
                dev,
                ("pull_request_branch_prefix", "baton-dev-updates-"),
                ("environment", "dev"),
            ],
        ),
    ] {
        steps.push(Step {
            name: name.to_string(),
            cmd: action(&inputs),
        });
    }
    let cli = |args: &[&str]| {
        let mut cmd = base(ws.path());
        cmd.env("GITHUB_TOKEN", TOKEN).args(args);
        cmd
    };
    for format in ["json", "text", "markdown"] {
        steps.push(Step {
            name: format!("scan --format {format}"),
            cmd: cli(&["scan", "--format", format]),
        });
        steps.push(Step {
            name: format!("report --format {format}"),
            cmd: cli(&["report", "--include-dirs", "dev/**", "--format", format]),
        });
        steps.push(Step {
            name: format!("status --format {format}"),
            cmd: cli(&[
                "status",
                "--env",
                "dev=dev/**",
                "--env",
                "stage=stage/**",
                "--env",
                "all=**",
                "--format",
                format,
            ]),
        });
    }
    steps.push(Step {
        name: "report --promote-from".into(),
        cmd: cli(&[
            "report",
            "--include-dirs",
            "stage/**",
            "--promote-from",
            "dev/**",
        ]),
    });
    steps.push(Step {
        name: "update --dry-run".into(),
        cmd: cli(&["update", "--include-dirs", "dev/**", "--dry-run"]),
    });
    steps.push(Step {
        name: "promote".into(),
        cmd: cli(&[
            "promote",
            "--include-dirs",
            "dev/**",
            "--environment",
            "dev",
            "--pull-request-branch-prefix",
            "baton-dev-updates-",
        ]),
    });

    let mut foreign = Vec::new();
    let mut printed = String::new();
    for step in steps {
        let assert = run(step.cmd).await;
        let code = assert.get_output().status.code();
        assert!(
            matches!(code, Some(0) | Some(1) | Some(2)),
            "{}: exit {code:?}\n{}",
            step.name,
            stderr_of(&assert)
        );
        printed.push_str(&stdout_of(&assert));
        printed.push_str(&stderr_of(&assert));
        foreign.extend(foreign_commands(&step.name, &assert));
        // The token shows only in the line that masks it.
        let unmasked = stdout_of(&assert).replace(&format!("::add-mask::{TOKEN}\n"), "");
        assert!(
            !unmasked.contains(TOKEN) && !stderr_of(&assert).contains(TOKEN),
            "{}: the token was printed",
            step.name
        );
    }
    // The hostile text did reach the output: the test is not vacuous.
    for seen in [
        "set-output name=pull_request_url",
        "stop-commands::PWNED",
        "debug::PWNED",
    ] {
        assert!(printed.contains(seen), "{seen} never printed:\n{printed}");
    }
    assert!(
        foreign.is_empty(),
        "commands Baton did not mean:\n{}",
        foreign.join("\n")
    );
    // Outputs are written by Baton to GITHUB_OUTPUT, never by a command: a dry run sets no URL.
    let names = output_names(&std::fs::read_to_string(&output).unwrap_or_default());
    assert!(!names.is_empty());
    assert!(names.iter().all(|n| n != "pull_request_url"), "{names:?}");
}

/// The names of the outputs in a `GITHUB_OUTPUT` file (`name<<DELIMITER` … `DELIMITER`).
fn output_names(text: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let (name, delimiter) = line.split_once("<<").expect("name<<DELIMITER");
        names.push(name.to_string());
        for l in lines.by_ref() {
            if l == delimiter {
                break;
            }
        }
    }
    names
}

// ---------------------------------------------------------------------------------------------
// Properties over generated text: whatever the names, sources, versions, tags and messages,
// what Baton prints under Actions issues only the commands it means.
// ---------------------------------------------------------------------------------------------

mod properties {
    use super::runner::{self, Form};
    use baton::app::commands;
    use baton::app::console::Console;
    use baton::diag::Warning;
    use baton::find::hcl::UsageKind;
    use baton::find::scan::{FileProblem, ScanReport, Usage};
    use baton::output::Format;
    use baton::spec::Spec;
    use proptest::prelude::*;
    use proptest::sample::select;
    use serde_json::json;

    /// Text made of the pieces a command is made of, line breaks and separators, and noise.
    fn hostile() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => select(&[
                "::", "##[", "]", "set-output", "add-mask", "stop-commands", "warning", "error",
                "group", "endgroup", "debug", "echo", " name=x", "name=pull_request_url", ";", ",",
                "=", "%0A", "%0D", "%25", "%", "\r", "\n", "\r\n", " ", "\t", "\u{b}", "\u{c}",
                "\u{85}", "\u{a0}", "\u{2028}", "\u{3000}", "\u{1b}[2K", "\u{7}", "\0", "#", "[",
                "`", "|", "<!--", "</details>", "@org/team", "v1.2.3", "-v1.0.0", "/", "PWNED",
            ][..]).prop_map(str::to_string),
            2 => "[a-zA-Z0-9._/-]{0,6}",
            1 => any::<char>().prop_map(|c| c.to_string()),
        ];
        prop::collection::vec(piece, 0..14).prop_map(|v| v.concat())
    }

    fn config() -> ProptestConfig {
        // PROPTEST_CASES overrides the default of 256.
        ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    /// The commands a stream would issue, none in the `##[` form, and commands not left stopped.
    fn read(text: &str) -> Result<Vec<runner::Command>, TestCaseError> {
        let mut r = runner::Runner::default();
        let commands = r.feed(text);
        prop_assert!(!r.stopped(), "commands left stopped:\n{}", text);
        for c in &commands {
            prop_assert!(c.form == Form::Colons, "a ##[ command: {:?}", c.line);
        }
        Ok(commands)
    }

    /// Results: nothing but one stop-commands and its resume, or nothing at all.
    fn only_wrapping(text: &str) -> Result<(), TestCaseError> {
        let commands = read(text)?;
        let names: Vec<&str> = commands.iter().map(|c| c.name.as_str()).collect();
        match names.as_slice() {
            [] => {}
            ["stop-commands", resume] => {
                prop_assert!(commands[1].resumes);
                prop_assert_eq!(*resume, commands[0].data.as_str());
            }
            other => prop_assert!(false, "commands {:?} in\n{}", other, text),
        }
        Ok(())
    }

    fn printed(f: impl FnOnce(&mut Vec<u8>) -> std::io::Result<()>) -> String {
        let mut out = Vec::new();
        f(&mut out).expect("printed");
        String::from_utf8(out).expect("UTF-8")
    }

    fn report(file: &str, source: &str, current: &str, id: &str, message: &str) -> ScanReport {
        let usage = |skipped: Option<&str>| Usage {
            file: file.to_string(),
            line: 2,
            kind: UsageKind::Module,
            source: source.to_string(),
            dependency: Some(id.to_string()),
            current: Some(current.to_string()),
            skipped: skipped.map(str::to_string),
            version_file: None,
            address: None,
            site: None,
            notes: Vec::new(),
        };
        ScanReport {
            usages: vec![usage(None), usage(Some(message))],
            errors: vec![FileProblem {
                file: file.to_string(),
                line: Some(1),
                column: None,
                message: message.to_string(),
            }],
            files_read: 2,
            ..ScanReport::default()
        }
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn results_never_issue_a_command(
            file in hostile(),
            folder in hostile(),
            source in hostile(),
            version in hostile(),
            tag in hostile(),
            message in hostile(),
        ) {
            let console = Console::new(true);
            let file = format!("dev/{folder}/{file}.tf");
            let scan = report(&file, &source, &version, &source, &message);
            for format in [Format::Json, Format::Text, Format::Markdown] {
                let out = printed(|o| commands::scan::render(&scan, format, console, o));
                if format == Format::Json {
                    prop_assert!(read(&out)?.is_empty(), "{}", out);
                    let value: serde_json::Value = serde_json::from_str(&out).expect("JSON");
                    prop_assert_eq!(value, serde_json::to_value(&scan).unwrap());
                } else {
                    only_wrapping(&out)?;
                }
            }
            let spec: Spec = serde_json::from_value(json!({
                "IncludeDirPattern": folder, "ExcludeDirPattern": "",
                "Dependencies": [{"ID": source, "TargetSafeVersion": version,
                    "TargetBreakingVersion": tag, "CurrentVersions": [version],
                    "LatestVersion": tag, "ReleaseNotes": {version.clone(): format!("https://github.com/acme/m/releases/tag/{tag}")}}],
                "Skipped": [{"File": file, "Line": 2, "Dependency": source, "Current": version, "Reason": message}],
                "Unreachable": [{"ID": source, "Error": message}]
            })).expect("a spec");
            for format in [Format::Json, Format::Text, Format::Markdown] {
                let out = printed(|o| commands::report::render(&spec, format, console, o));
                if format == Format::Json {
                    prop_assert!(read(&out)?.is_empty(), "{}", out);
                } else {
                    only_wrapping(&out)?;
                }
            }
            let matrix = baton::promote::status::matrix(&[
                (folder.clone(), scan.clone()),
                ("prod".to_string(), report(&file, &source, &tag, &source, &message)),
            ]);
            for format in [Format::Json, Format::Text, Format::Markdown] {
                let out = printed(|o| commands::status::render(&matrix, format, console, o));
                if format == Format::Json {
                    prop_assert!(read(&out)?.is_empty(), "{}", out);
                } else {
                    only_wrapping(&out)?;
                }
            }
            let old = format!("module \"m\" {{\n  source = \"{source}?ref={version}\"\n}}\n{message}\n");
            let new = old.replacen(&version, &tag, 1);
            let outcome = baton::update::Outcome {
                dependencies: vec![],
                updated: vec![],
                skipped: vec![],
                errors: vec![],
                branch: Some(tag.clone()),
                commit: None,
                pull_request: None,
                pull_request_edited: false,
                breaking_notes: None,
                group: None,
                diff: Some(baton::update::edit::unified_diff(&file, &old, &new)),
                auto_merge: None,
            };
            only_wrapping(&printed(|o| commands::update::render(&outcome, console, o)))?;
            let json = baton::update::Outcome { diff: None, ..outcome };
            prop_assert!(read(&printed(|o| commands::update::render(&json, console, o)))?.is_empty());
        }

        #[test]
        fn release_notes_tags_and_names_change_nothing_around_them(
            notes in prop::collection::vec(hostile(), 0..6),
            tag in hostile(),
            file in hostile(),
            id in hostile(),
            reason in hostile(),
        ) {
            use baton::update::body::{BodyDependency, BodyInput, render_body};
            let v = |minor| baton::version::Version::new(1, minor, 0);
            let deps = [BodyDependency {
                id: id.clone(),
                from: Some(v(0)),
                to: v(1),
                releases: vec![baton::clients::github::Release {
                    tag_name: format!("{tag}-v1.1.0"),
                    name: None,
                    html_url: format!("https://github.com/acme/m/releases/tag/{tag}"),
                    body: Some(notes.join("\n")),
                    draft: false,
                    prerelease: false,
                }],
            }];
            let changes = [baton::update::plan::Change {
                file: file.clone(),
                line: 2,
                dependency: id.clone(),
                from: tag.clone(),
                to: "v1.1.0".into(),
                used_by: vec![],
                notes: vec![],
            }];
            let skipped = [baton::spec::SkippedUsage {
                file,
                line: 3,
                dependency: Some(id),
                current: Some(tag.clone()),
                reason,
            }];
            let body = render_body(&BodyInput {
                environment: &tag,
                strategy: "next-breaking",
                dependencies: &deps,
                changes: &changes,
                skipped: &skipped,
                impact: "",
            });
            let hazards = super::markdown_hazards(&body);
            prop_assert!(hazards.is_empty(), "{:?}\n{}", hazards, body);
            prop_assert_eq!(
                body.lines().filter(|l| l.starts_with("### How to review")).count(),
                1
            );
        }

        #[test]
        fn messages_issue_exactly_the_annotation_they_are(
            file in hostile(),
            message in hostile(),
            line in prop::option::of(1usize..10_000),
        ) {
            let console = Console::new(true);
            let warning = console.warning(&Warning::at(&file, line, None, &message));
            let commands = read(&warning)?;
            prop_assert_eq!(commands.len(), 1, "{:?}", warning);
            prop_assert_eq!(commands[0].name.as_str(), "warning");
            // The file and the message arrive whole (control characters shown as escapes).
            let shown_file = baton::output::escape_controls(&file, true)
                .replace("##[", "#\u{200b}#[");
            if !file.trim().is_empty() && !file.contains(['\r', '\n']) {
                // The runner trims the end of the properties.
                prop_assert_eq!(
                    commands[0].properties.get("file").map(|f| f.trim_end()),
                    Some(shown_file.trim_end())
                );
            }
            let error = console.error(&message);
            let commands = read(&error)?;
            prop_assert_eq!(commands.len(), 1, "{:?}", error);
            prop_assert_eq!(commands[0].name.as_str(), "error");
            prop_assert!(read(&console.message("[WARN ] ", &message))?.is_empty());
            let title = format!("baton {}", message);
            let group = read(&console.group(&title))?;
            prop_assert!(group.len() == 1 && group[0].name == "group", "{:?}", group);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Markdown: the pull-request body and the job summary quote what others wrote.
// ---------------------------------------------------------------------------------------------

/// Removes the code spans of a markdown text (GitHub acts on nothing inside them). Line by
/// line: a span that would run over a line break is kept and checked, which errs on the safe
/// side.
fn without_code_spans(md: &str) -> String {
    md.split('\n')
        .map(line_without_code_spans)
        .collect::<Vec<_>>()
        .join("\n")
}

fn line_without_code_spans(md: &str) -> String {
    let mut out = String::new();
    let mut rest = md;
    while let Some(start) = rest.find('`') {
        // `\`` is a literal backtick, not the start of a span.
        let escaped = (out.clone() + &rest[..start])
            .chars()
            .rev()
            .take_while(|c| *c == '\\')
            .count()
            % 2
            == 1;
        out.push_str(&rest[..start]);
        if escaped {
            out.push('`');
            rest = &rest[start + 1..];
            continue;
        }
        let run = rest[start..].chars().take_while(|c| *c == '`').count();
        let after = &rest[start + run..];
        // The closing run: exactly as many backticks.
        let mut search = 0;
        let mut end = None;
        while let Some(i) = after[search..].find('`') {
            let at = search + i;
            let n = after[at..].chars().take_while(|c| *c == '`').count();
            if n == run {
                end = Some(at + n);
                break;
            }
            search = at + n;
        }
        match end {
            // A span ends any text around it: it stands for a space.
            Some(e) => {
                out.push(' ');
                rest = &after[e..];
            }
            None => {
                out.push_str(&rest[start..start + run]);
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Removes link destinations (`](…)`): an address, not text GitHub acts on.
fn without_link_destinations(md: &str) -> String {
    let mut out = String::new();
    let mut rest = md;
    while let Some(at) = rest.find("](") {
        out.push_str(&rest[..at + 1]);
        rest = &rest[at + 2..];
        match rest.find([')', '\n']) {
            Some(end) if rest[end..].starts_with(')') => rest = &rest[end + 1..],
            _ => out.push('('),
        }
    }
    out.push_str(rest);
    out
}

/// What GitHub would act on in markdown Baton wrote, outside code spans and link destinations:
/// a mention, an issue reference, HTML other than Baton's own tags, or `<details>` left
/// unbalanced.
fn markdown_hazards(md: &str) -> Vec<String> {
    let text = without_link_destinations(&without_code_spans(md));
    let mut found = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        let before = i.checked_sub(1).map(|j| chars[j]);
        let next = chars.get(i + 1).copied();
        let boundary = before.is_none_or(|b| !b.is_alphanumeric() && b != '_');
        let context: String = chars[i.saturating_sub(20)..(i + 20).min(chars.len())]
            .iter()
            .collect();
        match (c, next) {
            ('@', Some(n)) if boundary && n.is_ascii_alphanumeric() => {
                found.push(format!("a mention: {context:?}"));
            }
            ('#', Some(n)) if boundary && n.is_ascii_digit() => {
                found.push(format!("an issue reference: {context:?}"));
            }
            // `\<` is a literal `<`.
            ('<', Some(n))
                if (n.is_ascii_alphabetic() || "/!?".contains(n))
                    && chars[..i].iter().rev().take_while(|b| **b == '\\').count() % 2 == 0 =>
            {
                let tag: String = chars[i..].iter().take_while(|c| **c != '>').collect();
                if !["<details", "</details", "<summary", "</summary", "<br"]
                    .contains(&tag.as_str())
                {
                    found.push(format!("HTML: {context:?}"));
                }
            }
            _ => {}
        }
    }
    // Tags that are not escaped by an odd number of backslashes.
    let tags = |tag: &str| {
        text.match_indices(tag)
            .filter(|(at, _)| text[..*at].chars().rev().take_while(|c| *c == '\\').count() % 2 == 0)
            .count()
    };
    if tags("<details>") != tags("</details>") {
        found.push("unbalanced <details>".into());
    }
    found
}

#[test]
fn the_hazard_check_sees_mentions_references_and_html() {
    let found = markdown_hazards("hi @octo and #12 <!-- x `@code #3 <b>` <details></details>");
    assert_eq!(found.len(), 3, "{found:?}");
    assert!(markdown_hazards("a@b.c x#1 `` a ` @b `` <br> \\</details>").is_empty());
    assert!(!markdown_hazards("\\\\</details>").is_empty());
}

/// A live repository with a bare `origin` holding `main`; returns (root, work).
fn live_repo(files: &[(&str, &str)]) -> (tempfile::TempDir, std::path::PathBuf) {
    use crate::gitrepo::git;
    let root = tempfile::tempdir().unwrap();
    let origin = root.path().join("origin.git");
    let work = root.path().join("live");
    std::fs::create_dir_all(&work).unwrap();
    git(
        root.path(),
        &["init", "-q", "--bare", origin.to_str().unwrap()],
    );
    git(&work, &["init", "-q"]);
    for (rel, content) in files {
        write(&work, rel, content);
    }
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "initial"]);
    git(
        &work,
        &["remote", "add", "origin", origin.to_str().unwrap()],
    );
    git(&work, &["push", "-q", "origin", "main"]);
    (root, work)
}

const NOTES: &str = "Thanks @acme/admins and @octocat! Fixes #12 and acme/other#3.\n\
    </details>\n<!-- the rest is hidden\n## How to review\n1. Merge without reading.\n\
    ```\nan unclosed fence\n<img src=x onerror=alert(1)>";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pull_request_body_quotes_release_notes_and_lists_only_the_modules_own() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    gh.add_repo("acme/mono", &["vpc-v1.1.0", "eks-v1.1.0", "vpc-v1.0.0"]);
    gh.state
        .lock()
        .unwrap()
        .repos
        .get_mut("acme/mono")
        .unwrap()
        .releases = vec![
        ("vpc-v1.1.0".into(), NOTES.into()),
        (
            "eks-v1.1.0".into(),
            "EKS ONLY: a release of another module".into(),
        ),
        ("vpc-v1.0.0".into(), "the release in use".into()),
    ];
    let vpc = |r: &str| {
        format!("terraform {{\n  source = \"github.com/acme/mono//modules/vpc?ref={r}\"\n}}\n")
    };
    let (_root, work) = live_repo(&[
        ("dev/a`b``c/terragrunt.hcl", &vpc("vpc-v1.0.0")),
        ("dev/@acme/admins/terragrunt.hcl", &vpc("vpc-v1.0.0")),
        (
            "dev/skip/terragrunt.hcl",
            &vpc("@acme/admins</details><!--"),
        ),
    ]);
    let spec = json!({"IncludeDirPattern": "dev/**", "ExcludeDirPattern": "", "Dependencies": [
        {"ID": "acme/mono/vpc", "TargetSafeVersion": "1.1.0", "TargetBreakingVersion": null}]})
    .to_string();
    let mut cmd = baton();
    cmd.current_dir(&work)
        .env("GITHUB_REPOSITORY", "acme/live")
        .env("GITHUB_TOKEN", TOKEN)
        .args([
            "update",
            "--publish",
            "--include-dirs",
            "dev/**",
            "--spec",
            &spec,
        ])
        .args(["--pull-request-branch", "baton-dev-updates-acme/mono/vpc"])
        .args(["--pull-request-labels", "updates-dev"])
        .args(["--github-api-url", &gh.api_url()]);
    let assert = run(cmd).await;
    assert!(
        assert.get_output().status.success(),
        "{}",
        stderr_of(&assert)
    );
    let body = gh.pulls("acme/live")[0]["body"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        !body.contains("EKS ONLY"),
        "another module's notes:\n{body}"
    );
    assert!(body.contains("vpc-v1.1.0"), "{body}");
    // The notes are there, quoted, and act on nothing.
    assert!(body.contains("Merge without reading"), "{body}");
    let hazards = markdown_hazards(&body);
    assert!(hazards.is_empty(), "{hazards:#?}\n{body}");
    assert!(
        body.contains("``dev/a`b``c/terragrunt.hcl``")
            || body.contains("```dev/a`b``c/terragrunt.hcl```"),
        "{body}"
    );
    // Baton's own sections are still its own: one "How to review" outside the quote.
    assert_eq!(
        body.lines()
            .filter(|l| l.starts_with("### How to review"))
            .count(),
        1,
        "{body}"
    );
    insta::assert_snapshot!("hostile_pull_request_body", body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_job_summary_quotes_what_others_wrote() {
    let gh = hostile_github().await;
    Mock::given(method("GET"))
        .and(path("/repos/acme/mentions/tags"))
        .respond_with(ResponseTemplate::new(404).set_body_json(json!({
            "message": "Not Found @acme/admins </details><!-- #12",
        })))
        .with_priority(1)
        .mount(&gh.server)
        .await;
    let api = gh.api_url();
    let ws = tempfile::tempdir().unwrap();
    let vpc = |r: &str| module(&format!("github.com/acme/mods//modules/vpc?ref={r}"));
    write(ws.path(), "dev/a`b/main.tf", &vpc("v1.0.0"));
    write(ws.path(), "dev/@acme/admins/main.tf", &vpc("v1.0.0"));
    write(
        ws.path(),
        "dev/skip/main.tf",
        &vpc("@acme/admins</details><!--"),
    );
    write(
        ws.path(),
        "dev/m/main.tf",
        &module("github.com/acme/mentions//x?ref=v1.0.0"),
    );
    let tmp = tempfile::tempdir().unwrap();
    let summary = tmp.path().join("summary.md");
    for inputs in [
        vec![("patcher_command", "report")],
        vec![("patcher_command", "update"), ("dry_run", "true")],
        vec![
            ("patcher_command", "status"),
            ("environments", "dev=dev/**"),
        ],
    ] {
        let mut cmd = baton();
        cmd.arg("action")
            .current_dir(ws.path())
            .env("GITHUB_ACTIONS", "true")
            .env("GITHUB_WORKSPACE", ws.path())
            .env("GITHUB_OUTPUT", tmp.path().join("output"))
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GIT_CONFIG_GLOBAL", tmp.path().join("gitconfig"))
            .env("INPUT_INCLUDE_DIRS", "dev/**")
            .env("INPUT_GITHUB_TOKEN", TOKEN)
            .env("INPUT_GITHUB_BASE_URL", &api);
        for (k, v) in inputs {
            cmd.env(format!("INPUT_{}", k.to_uppercase()), v);
        }
        let assert = run(cmd).await;
        assert!(
            assert.get_output().status.success(),
            "{}",
            stderr_of(&assert)
        );
    }
    let text = std::fs::read_to_string(&summary).unwrap();
    assert!(text.contains("Not Found"), "{text}");
    assert!(text.contains("dev/skip/main.tf"), "{text}");
    let hazards = markdown_hazards(&text);
    assert!(hazards.is_empty(), "{hazards:#?}\n{text}");
    assert!(text.contains("``dev/a`b/main.tf``"), "{text}");
}

// ---------------------------------------------------------------------------------------------
// Odd environments: tokens, file names, servers and addresses that are not what they seem.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_holding_a_line_break_is_masked_line_by_line() {
    let ws = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let token = "ghs_FIRSTLINE0123456789\nghs_SECONDLINE0123456789";
    let mut cmd = baton();
    cmd.arg("action")
        .current_dir(ws.path())
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", ws.path())
        .env("GITHUB_OUTPUT", tmp.path().join("output"))
        .env("GIT_CONFIG_GLOBAL", tmp.path().join("gitconfig"))
        .env("INPUT_PATCHER_COMMAND", "scan")
        .env("INPUT_GITHUB_TOKEN", token);
    let assert = run(cmd).await;
    let stdout = stdout_of(&assert);
    let masked: Vec<String> = runner::commands(&stdout)
        .into_iter()
        .filter(|c| c.name == "add-mask")
        .map(|c| c.data)
        .collect();
    // The runner masks what it prints line by line: each line of the secret is masked.
    for line in token.lines() {
        assert!(
            masked.iter().any(|m| m == line),
            "{line} not masked: {masked:?}"
        );
    }
    assert!(stdout.starts_with("::add-mask::"), "{stdout}");
}

#[test]
fn file_names_that_are_not_utf8_are_reported_and_never_edited() {
    use std::os::unix::ffi::OsStrExt as _;
    let ws = tempfile::tempdir().unwrap();
    let source = |r: &str| {
        format!("terraform {{\n  source = \"github.com/acme/mods//modules/vpc?ref={r}\"\n}}\n")
    };
    let odd_dir = ws
        .path()
        .join("dev")
        .join(std::ffi::OsStr::from_bytes(b"x\xfe"));
    std::fs::create_dir_all(&odd_dir).unwrap();
    std::fs::write(odd_dir.join("terragrunt.hcl"), source("v1.0.0")).unwrap();
    let odd_file = ws
        .path()
        .join("dev")
        .join(std::ffi::OsStr::from_bytes(b"y\xff.tf"));
    std::fs::write(
        &odd_file,
        module("github.com/acme/mods//modules/vpc?ref=v1.0.0"),
    )
    .unwrap();
    // The name that the folder's name would turn into, were it read as UTF-8 lossily.
    write(ws.path(), "dev/x\u{fffd}/terragrunt.hcl", &source("v1.0.0"));

    let scan = crate::common::scan_of(ws.path());
    let files: Vec<&str> = scan["usages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["dev/x\u{fffd}/terragrunt.hcl"], "{scan:#}");
    let errors = scan["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{scan:#}");
    for e in errors {
        assert!(e["message"].as_str().unwrap().contains("not UTF-8"), "{e}");
    }

    let spec = json!({"IncludeDirPattern": "", "ExcludeDirPattern": "", "Dependencies": [
        {"ID": "acme/mods/vpc", "TargetSafeVersion": "1.1.0", "TargetBreakingVersion": null}]})
    .to_string();
    let assert = baton()
        .args(["update", "--spec", &spec, "--working-dir"])
        .arg(ws.path())
        .assert();
    let out = stdout_of(&assert);
    assert!(
        assert.get_output().status.success(),
        "{}",
        stderr_of(&assert)
    );
    let outcome: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(
        outcome["updated"].as_array().unwrap().len(),
        1,
        "{outcome:#}"
    );
    let read = |p: &Path| std::fs::read_to_string(p).unwrap();
    assert!(read(&ws.path().join("dev/x\u{fffd}/terragrunt.hcl")).contains("ref=v1.1.0"));
    assert!(read(&odd_dir.join("terragrunt.hcl")).contains("ref=v1.0.0"));
    assert!(read(&odd_file).contains("ref=v1.0.0"));
    assert!(
        stderr_of(&assert).contains("not UTF-8"),
        "{}",
        stderr_of(&assert)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_to_a_server_on_another_port_carry_the_credential_header() {
    use crate::gitrepo::git;
    let gh = FakeGitHub::start("/api/v3").await;
    gh.add_repo("acme/live", &[]);
    let (root, work) = live_repo(&[(
        "dev/vpc/terragrunt.hcl",
        "terraform {\n  source = \"github.com/acme/mods//modules/vpc?ref=v1.0.0\"\n}\n",
    )]);
    // GitHub Enterprise Server on port 1 of this machine: nothing listens, so git fails fast,
    // after deciding which credentials to send.
    let origin = "https://127.0.0.1:1/acme/live.git";
    git(&work, &["remote", "set-url", "origin", origin]);
    let real = std::process::Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .unwrap();
    let real = String::from_utf8(real.stdout).unwrap().trim().to_string();
    let bin = root.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let log = root.path().join("headers.log");
    std::fs::write(
        bin.join("git"),
        format!(
            "#!/bin/sh\ncase \" $* \" in *\" fetch \"*|*\" push \"*|*\" ls-remote \"*)\n  url=$('{real}' remote get-url origin)\n  \
             if '{real}' config --get-urlmatch http.extraheader \"$url\" | grep -q AUTHORIZATION; then\n    \
             echo \"header for $url\" >> '{log}'\n  else\n    echo \"no header for $url\" >> '{log}'\n  fi;;\nesac\n\
             exec '{real}' \"$@\"\n",
            log = log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        bin.join("git"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let spec = json!({"IncludeDirPattern": "", "ExcludeDirPattern": "", "Dependencies": [
        {"ID": "acme/mods/vpc", "TargetSafeVersion": "1.1.0", "TargetBreakingVersion": null}]})
    .to_string();
    let mut cmd = baton();
    cmd.current_dir(&work)
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("GIT_CONFIG_GLOBAL", root.path().join("gitconfig"))
        .env("GITHUB_REPOSITORY", "acme/live")
        .env("GITHUB_TOKEN", TOKEN)
        .args(["update", "--publish", "--spec", &spec])
        .args(["--pull-request-branch", "baton-dev-updates-acme/mods/vpc"])
        .args(["--github-api-url", &gh.api_url()]);
    let assert = run(cmd).await;
    // The fetch cannot connect; what matters is which header git had for the server.
    assert_eq!(assert.get_output().status.code(), Some(3));
    let seen = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(
        seen.trim(),
        format!("header for {origin}"),
        "{seen}\n{}",
        stderr_of(&assert)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn module_addresses_with_segments_that_are_not_names_reach_no_api() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/mods", &["v1.1.0", "v1.0.0"]);
    let ws = tempfile::tempdir().unwrap();
    for (dir, source) in [
        ("up", "github.com/../../user/repos?ref=v1.0.0"),
        ("dots", "github.com/acme/..?ref=v1.0.0"),
        ("encoded", "github.com/%2e%2e/x?ref=v1.0.0"),
        ("ok", "github.com/acme/mods//modules/vpc?ref=v1.0.0"),
    ] {
        write(ws.path(), &format!("dev/{dir}/main.tf"), &module(source));
    }
    let mut cmd = baton();
    cmd.current_dir(ws.path()).env("GITHUB_TOKEN", TOKEN).args([
        "report",
        "--github-api-url",
        &gh.api_url(),
    ]);
    let assert = run(cmd).await;
    assert!(
        assert.get_output().status.success(),
        "{}",
        stderr_of(&assert)
    );
    let spec: serde_json::Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    assert_eq!(spec["Dependencies"][0]["ID"], "acme/mods/vpc");
    let unreachable = spec["Unreachable"].as_array().unwrap();
    assert_eq!(unreachable.len(), 3, "{spec:#}");
    for u in unreachable {
        assert!(
            u["Error"].as_str().unwrap().contains("not a plain name"),
            "{u}"
        );
    }
    let requests = gh.requests();
    assert!(
        requests
            .iter()
            .all(|r| r.starts_with("GET /repos/acme/mods/")),
        "{requests:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ext_urls_never_reach_git() {
    let ws = tempfile::tempdir().unwrap();
    let marker = ws.path().join("PWNED");
    // `ext::<command>` makes git run the command; this one is a script in the repository.
    write(
        ws.path(),
        "dev/a/main.tf",
        &module("git::ext::./pwn.sh://h/o/r?ref=v1.0.0"),
    );
    let script = ws.path().join("pwn.sh:/h/o/r.git");
    write(
        ws.path(),
        "pwn.sh:/h/o/r.git",
        &format!("#!/bin/sh\ntouch '{}'\n", marker.display()),
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    // A machine whose git allows every protocol.
    let tmp = tempfile::tempdir().unwrap();
    let gitconfig = tmp.path().join("gitconfig");
    std::fs::write(&gitconfig, "[protocol]\n\tallow = always\n").unwrap();
    let mut cmd = baton();
    cmd.current_dir(ws.path())
        .env("GIT_CONFIG_GLOBAL", &gitconfig)
        .args(["report"]);
    let assert = run(cmd).await;
    // Every lookup refused: nothing could be checked, which is exit 3 (the spec still printed).
    assert_eq!(
        assert.get_output().status.code(),
        Some(3),
        "{}",
        stderr_of(&assert)
    );
    assert!(!marker.exists(), "git ran the ext:: command");
    let spec: serde_json::Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    let error = spec["Unreachable"][0]["Error"].as_str().unwrap();
    assert!(error.contains("ext::"), "{error}");
    assert!(error.contains("refused"), "{error}");
}

// ---------------------------------------------------------------------------------------------
// Defended before these tests were written: kept that way.
// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn module_sources_cannot_pass_options_to_git_or_ssh() {
    let ws = tempfile::tempdir().unwrap();
    let marker = ws.path().join("PWNED");
    let bin = ws.path().join("bin");
    let script = format!("#!/bin/sh\ntouch '{}'\n", marker.display());
    for name in ["pwn-proxy", "pwn-pack"] {
        write(&bin, name, &script);
        std::fs::set_permissions(
            bin.join(name),
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
    }
    for (dir, source) in [
        ("upload", "git::--upload-pack=pwn-pack://h/o/r?ref=v1.0.0"),
        (
            "proxy",
            "git::ssh://-oProxyCommand=pwn-proxy/o/r?ref=v1.0.0",
        ),
        ("scp", "git::git@-oProxyCommand=pwn-proxy:o/s?ref=v1.0.0"),
    ] {
        write(ws.path(), &format!("dev/{dir}/main.tf"), &module(source));
    }
    let tmp = tempfile::tempdir().unwrap();
    let mut cmd = baton();
    cmd.current_dir(ws.path())
        .env(
            "PATH",
            format!("{}:{}", bin.display(), std::env::var("PATH").unwrap()),
        )
        .env("GIT_CONFIG_GLOBAL", tmp.path().join("gitconfig"))
        .args(["report"]);
    let assert = run(cmd).await;
    // Every lookup refused: nothing could be checked, which is exit 3 (the spec still printed).
    assert_eq!(
        assert.get_output().status.code(),
        Some(3),
        "{}",
        stderr_of(&assert)
    );
    assert!(!marker.exists(), "a source's text ran as an option");
    let spec: serde_json::Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    let unreachable = spec["Unreachable"].as_array().unwrap();
    assert_eq!(unreachable.len(), 3, "{spec:#}");
}

#[test]
fn symlinked_files_and_folders_are_neither_read_nor_written() {
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("live");
    let outside = root.path().join("outside");
    let unit = module("github.com/acme/mods//modules/vpc?ref=v1.0.0");
    write(&outside, "main.tf", &unit);
    write(&outside, "nested/terragrunt.hcl", &unit);
    write(&work, "dev/real/main.tf", &unit);
    std::os::unix::fs::symlink(&outside, work.join("dev/linked-dir")).unwrap();
    std::os::unix::fs::symlink(outside.join("main.tf"), work.join("dev/linked.tf")).unwrap();
    let scan = crate::common::scan_of(&work);
    let files: Vec<&str> = scan["usages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["dev/real/main.tf"], "{scan:#}");

    let spec = json!({"IncludeDirPattern": "", "ExcludeDirPattern": "", "Dependencies": [
        {"ID": "acme/mods/vpc", "TargetSafeVersion": "1.1.0", "TargetBreakingVersion": null}]})
    .to_string();
    baton()
        .args(["update", "--spec", &spec, "--working-dir"])
        .arg(&work)
        .assert()
        .success();
    assert!(
        std::fs::read_to_string(work.join("dev/real/main.tf"))
            .unwrap()
            .contains("ref=v1.1.0")
    );
    for file in ["main.tf", "nested/terragrunt.hcl"] {
        assert_eq!(std::fs::read_to_string(outside.join(file)).unwrap(), unit);
    }
    for link in ["dev/linked-dir", "dev/linked.tf"] {
        assert!(
            std::fs::symlink_metadata(work.join(link))
                .unwrap()
                .file_type()
                .is_symlink(),
            "{link} is still a link"
        );
    }
}

#[test]
fn the_demo_transcript_under_actions_issues_no_command() {
    let dir = tempfile::tempdir().unwrap();
    let assert = baton()
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GITHUB_ACTIONS", "true")
        .args(["demo", "--dir"])
        .arg(dir.path().join("sandbox"))
        .assert()
        .success();
    let out = stdout_of(&assert);
    assert!(out.contains("(no token, no network)"), "{out}");
    let commands = runner::commands(&out);
    let names: Vec<&str> = commands.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names.len(), 2, "{names:?}");
    assert_eq!(names[0], "stop-commands");
    assert!(commands[1].resumes);
}

#[test]
fn results_redirected_to_a_file_are_not_framed() {
    let ws = tempfile::tempdir().unwrap();
    write(
        ws.path(),
        "dev/a/main.tf",
        &module("github.com/acme/mods//modules/vpc?ref=v1.0.0"),
    );
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("table.md");
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_baton"))
        .args(["scan", "--format", "markdown", "--working-dir"])
        .arg(ws.path())
        .env("GITHUB_ACTIONS", "true")
        .env("BATON_LOG", "warn")
        .stdout(std::fs::File::create(&file).unwrap())
        .status()
        .unwrap();
    assert!(status.success());
    // The runner never reads a file: the table is written as it is, for the job summary.
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("| Dependency |"), "{text}");
    assert!(!text.contains("stop-commands"), "{text}");
    // Piped, the same table is framed.
    let piped = baton()
        .args(["scan", "--format", "markdown", "--working-dir"])
        .arg(ws.path())
        .env("GITHUB_ACTIONS", "true")
        .assert()
        .success();
    assert!(stdout_of(&piped).starts_with("::stop-commands::"));
}
