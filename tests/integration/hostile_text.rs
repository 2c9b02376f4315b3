//! Hostile text: file and folder names, file contents, tags, release notes and API messages
//! written to make Baton's output do something else (issue workflow commands, break out of the
//! pull-request body, ping people). Each test backs a row of the README's "Hostile content"
//! table. Everything runs against local stand-ins on 127.0.0.1.

use crate::common::{baton, stderr_of, stdout_of};
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
        // Baton's annotations always name their file.
        "warning" if command.properties.contains_key("file") => None,
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
        json!({"action": "closed", "pull_request": {"number": 3, "merged": true,
            "merge_commit_sha": "f00d", "head": {"ref": "baton-dev-updates-acme/mods/vpc"},
            "labels": [{"name": format!("updates-dev\n{SET_URL}")}]}})
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
            matches!(code, Some(0) | Some(1)),
            "{}: exit {code:?}\n{}",
            step.name,
            stderr_of(&assert)
        );
        printed.push_str(&stdout_of(&assert));
        printed.push_str(&stderr_of(&assert));
        foreign.extend(foreign_commands(&step.name, &assert));
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
            address: None,
            site: None,
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
                diff: Some(baton::update::edit::unified_diff(&file, &old, &new)),
            };
            only_wrapping(&printed(|o| commands::update::render(&outcome, console, o)))?;
            let json = baton::update::Outcome { diff: None, ..outcome };
            prop_assert!(read(&printed(|o| commands::update::render(&json, console, o)))?.is_empty());
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
