//! Reliability: bad input, faults of the GitHub API, registries and git, interrupted writes,
//! secrets, and properties checked over generated input. Each test backs a row of the book's
//! "Reliability" table. Everything runs against local stand-ins on 127.0.0.1.

use crate::common::{baton, fixture, json_of, scan_of, stderr_of, stdout_of, write_tree};
use crate::events;
use crate::fake_github::FakeGitHub;
use crate::gitrepo::git;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use wiremock::matchers::{method, path};
use wiremock::{Mock, MockServer, ResponseTemplate};

/// The checks the fuzz targets run, shared with the property tests below.
#[path = "../../fuzz/src/checks.rs"]
mod checks;

/// Kills a command that runs longer than this: a hang fails the test instead of the suite.
const HANG: Duration = Duration::from_secs(120);

fn terragrunt(source: &str) -> Vec<u8> {
    format!("terraform {{\n  source = \"{source}\"\n}}\n").into_bytes()
}

/// Runs a command off the async runtime, so the stand-ins keep answering.
pub async fn run(mut cmd: assert_cmd::Command) -> assert_cmd::assert::Assert {
    cmd.timeout(HANG);
    tokio::task::spawn_blocking(move || cmd.assert())
        .await
        .expect("command ran")
}

fn spec(deps: Value) -> String {
    json!({"IncludeDirPattern": "", "ExcludeDirPattern": "", "Dependencies": deps}).to_string()
}

fn dep(id: &str, safe: &str) -> Value {
    json!({"ID": id, "TargetSafeVersion": safe, "TargetBreakingVersion": null})
}

/// Every file below `root` (symlinks not followed) and its bytes.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for entry in std::fs::read_dir(dir).expect("read_dir") {
            let entry = entry.expect("entry");
            let kind = entry.file_type().expect("file type");
            let path = entry.path();
            let rel = path.strip_prefix(root).expect("below root").to_path_buf();
            if kind.is_dir() {
                walk(root, &path, out);
            } else if kind.is_symlink() {
                let target = std::fs::read_link(&path).expect("link");
                out.insert(rel, target.as_os_str().as_encoded_bytes().to_vec());
            } else if kind.is_file() {
                out.insert(rel, std::fs::read(&path).expect("read"));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(root, root, &mut out);
    out
}

fn no_panic(assert: &assert_cmd::assert::Assert) {
    let err = stderr_of(assert);
    assert!(
        !err.contains("panicked") && !err.contains("RUST_BACKTRACE"),
        "{err}"
    );
    assert_ne!(assert.get_output().status.code(), Some(101), "{err}");
}

fn errors_of(v: &Value) -> Vec<(String, Option<u64>, Option<u64>, String)> {
    v["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["file"].as_str().expect("file").to_string(),
                e["line"].as_u64(),
                e["column"].as_u64(),
                e["message"].as_str().expect("message").to_string(),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Bad input in the scanned files: reported with file and line, the run goes on.
// ---------------------------------------------------------------------------------------------

#[test]
fn oversized_file_is_reported_and_never_edited() {
    let dir = tempfile::tempdir().unwrap();
    let usage = b"module \"m\" {\n  source = \"github.com/acme/m//x?ref=v1.0.0\"\n}\n";
    // A valid file of 10 MB: the same usage, then comments.
    let mut big = usage.to_vec();
    let line = format!("# {}\n", "x".repeat(1021));
    while big.len() < 10 * 1024 * 1024 {
        big.extend_from_slice(line.as_bytes());
    }
    write_tree(
        dir.path(),
        &[("dev/ok/main.tf", usage), ("dev/big/main.tf", &big)],
    );
    let assert = baton()
        .args(["scan", "--working-dir"])
        .arg(dir.path())
        .assert()
        .success();
    let v = json_of(&assert);
    let errors = errors_of(&v);
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].0, "dev/big/main.tf");
    assert!(errors[0].3.contains("larger than"), "{errors:?}");
    assert_eq!(v["usages"].as_array().unwrap().len(), 1);
    assert!(stderr_of(&assert).contains("dev/big/main.tf"));

    let spec = spec(json!([dep("acme/m/x", "1.1.0")]));
    let assert = baton()
        .args(["update", "--spec", &spec, "--working-dir"])
        .arg(dir.path())
        .assert()
        .success();
    let out = json_of(&assert);
    assert_eq!(out["updated"].as_array().unwrap().len(), 1);
    assert_eq!(out["updated"][0]["file"], "dev/ok/main.tf");
    assert_eq!(
        std::fs::read(dir.path().join("dev/big/main.tf")).unwrap(),
        big,
        "the oversized file is left as it was"
    );
}

#[test]
fn unsupported_sources_and_refs_that_are_not_versions_are_skipped_with_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<(&str, &str, &str)> = vec![
        (
            "dev/s3/terragrunt.hcl",
            "s3::https://s3-eu-west-1.amazonaws.com/acme-modules/vpc.zip",
            "unsupported source type (s3)",
        ),
        (
            "dev/gcs/terragrunt.hcl",
            "gcs::https://www.googleapis.com/storage/v1/acme-modules/vpc.zip",
            "unsupported source type (gcs)",
        ),
        (
            "dev/hg/terragrunt.hcl",
            "hg::http://hg.example.com/acme/vpc?ref=v1.0.0",
            "unsupported source type (hg)",
        ),
        (
            "dev/branch/terragrunt.hcl",
            "github.com/acme/m//x?ref=main",
            "branch or tag that is not a version",
        ),
        (
            "dev/sha/terragrunt.hcl",
            "github.com/acme/m//x?ref=0123456789abcdef0123456789abcdef01234567",
            "pinned to commit",
        ),
        (
            "dev/short-sha/terragrunt.hcl",
            "github.com/acme/m//x?ref=a1b2c3d",
            "pinned to commit",
        ),
        (
            "dev/empty/terragrunt.hcl",
            "github.com/acme/m//x?ref=",
            "empty ref",
        ),
        (
            "dev/ok/terragrunt.hcl",
            "github.com/acme/m//x?ref=v1.0.0",
            "",
        ),
    ];
    let contents: Vec<(String, Vec<u8>)> = files
        .iter()
        .map(|(f, src, _)| (f.to_string(), terragrunt(src)))
        .collect();
    let tree: Vec<(&str, &[u8])> = contents
        .iter()
        .map(|(f, c)| (f.as_str(), c.as_slice()))
        .collect();
    write_tree(dir.path(), &tree);
    let before = snapshot(dir.path());

    let assert = baton()
        .args(["scan", "--working-dir"])
        .arg(dir.path())
        .assert()
        .success();
    let v = json_of(&assert);
    for (file, _, reason) in &files {
        let u = v["usages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["file"] == *file)
            .unwrap_or_else(|| panic!("{file} not reported: {v}"));
        assert_eq!(u["line"], 2, "{file}");
        if reason.is_empty() {
            assert_eq!(u["skipped"], Value::Null, "{file}");
        } else {
            let skipped = u["skipped"].as_str().unwrap_or_default();
            assert!(skipped.contains(reason), "{file}: {skipped}");
        }
    }

    // An update of the dependency edits the pinned usage, lists the others with file and line,
    // and leaves them (and the unsupported sources) byte for byte as they were.
    let spec = spec(json!([dep("acme/m/x", "1.1.0")]));
    let assert = baton()
        .args(["update", "--spec", &spec, "--working-dir"])
        .arg(dir.path())
        .assert()
        .success();
    let out = json_of(&assert);
    assert_eq!(out["updated"].as_array().unwrap().len(), 1);
    let skipped: Vec<(String, u64)> = out["skipped"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["File"].as_str().unwrap().to_string(),
                s["Line"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        skipped,
        vec![
            ("dev/branch/terragrunt.hcl".to_string(), 2),
            ("dev/empty/terragrunt.hcl".to_string(), 2),
            ("dev/sha/terragrunt.hcl".to_string(), 2),
            ("dev/short-sha/terragrunt.hcl".to_string(), 2),
        ]
    );
    let after = snapshot(dir.path());
    for (file, content) in &before {
        if file != Path::new("dev/ok/terragrunt.hcl") {
            assert_eq!(&after[file], content, "{}", file.display());
        }
    }
}

/// Hostile content: `locals` that each repeat the previous one 40 times, five levels deep (2.3 KB
/// that reached 10 GB over 60 s before evaluation was bounded).
fn interpolation_bomb() -> String {
    let mut text = String::from("locals {\n  a0 = \"xxxxxxxxxx\"\n");
    for i in 1..=5 {
        text.push_str(&format!(
            "  a{i} = \"{}\"\n",
            format!("${{local.a{}}}", i - 1).repeat(40)
        ));
    }
    text.push_str("}\n\nterraform {\n  source = \"github.com/acme/m//x?ref=${local.a5}\"\n}\n");
    text
}

#[test]
fn an_interpolation_bomb_is_reported_and_the_rest_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let bomb = interpolation_bomb();
    assert!(bomb.len() < 2500);
    write_tree(
        dir.path(),
        &[
            ("dev/bomb/terragrunt.hcl", bomb.as_bytes()),
            (
                "dev/ok/terragrunt.hcl",
                &terragrunt("github.com/acme/m//x?ref=v1.0.0"),
            ),
        ],
    );
    let expect_reported = |assert: &assert_cmd::assert::Assert| {
        no_panic(assert);
        let err = stderr_of(assert);
        assert!(
            err.contains("dev/bomb/terragrunt.hcl") && err.contains("interpolation too large"),
            "{err}"
        );
    };
    // A hang or a memory blow-up fails here (the command is killed), not the whole suite.
    let assert = baton()
        .timeout(Duration::from_secs(60))
        .args(["scan", "--working-dir"])
        .arg(dir.path())
        .assert()
        .success();
    expect_reported(&assert);
    let v = json_of(&assert);
    let errors = errors_of(&v);
    assert_eq!(errors.len(), 1, "{v:#}");
    assert_eq!(errors[0].0, "dev/bomb/terragrunt.hcl");
    assert_eq!(errors[0].1, Some(11));
    assert_eq!(v["usages"].as_array().unwrap().len(), 1);

    let assert = baton()
        .timeout(Duration::from_secs(60))
        .args([
            "update",
            "--spec",
            &spec(json!([dep("acme/m/x", "1.1.0")])),
            "--working-dir",
        ])
        .arg(dir.path())
        .assert()
        .success();
    expect_reported(&assert);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("dev/bomb/terragrunt.hcl")).unwrap(),
        bomb
    );
    assert!(
        std::fs::read_to_string(dir.path().join("dev/ok/terragrunt.hcl"))
            .unwrap()
            .contains("ref=v1.1.0")
    );
}

#[test]
fn deeply_nested_expressions_are_reported_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let n = 50_000;
    let cases: Vec<(&str, String)> = vec![
        ("list", format!("a = {}{}\n", "[".repeat(n), "]".repeat(n))),
        (
            "paren",
            format!("a = {}1{}\n", "(".repeat(n), ")".repeat(n)),
        ),
        (
            "object",
            format!("a = {}1{}\n", "{a = ".repeat(n), "}".repeat(n)),
        ),
        (
            "template",
            format!("a = \"{}{}\"\n", "${\"".repeat(n), "\"}".repeat(n)),
        ),
        ("call", format!("a = {}{}\n", "f(".repeat(n), ")".repeat(n))),
        ("unary", format!("a = {}1\n", "-".repeat(n))),
        ("chain", format!("a = 1{}\n", " + 1".repeat(n))),
        ("conditional", format!("a = {}1\n", "true ? 1 : ".repeat(n))),
        (
            "module",
            format!(
                "module \"m\" {{\n  source = \"github.com/acme/m?ref=v1.0.0\"\n  x = {}{}\n}}\n",
                "[".repeat(n),
                "]".repeat(n)
            ),
        ),
    ];
    for (name, text) in &cases {
        let path = dir.path().join(format!("dev/{name}/main.tf"));
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        // As the source of a block Baton reads: it parses no other top-level item, and follows
        // the other attributes of a source block without parsing them (brackets nested deeper
        // than it follows, as in the case `module`, send the block to the parser).
        let text = if text.starts_with("module") {
            text.clone()
        } else {
            format!(
                "module \"m\" {{\n  {}}}\n",
                text.replacen("a = ", "source = ", 1)
            )
        };
        std::fs::write(path, text).unwrap();
    }
    write_tree(
        dir.path(),
        &[(
            "dev/ok/main.tf",
            b"module \"m\" {\n  source = \"github.com/acme/m?ref=v1.0.0\"\n}\n",
        )],
    );
    let assert = baton()
        .args(["scan", "--working-dir"])
        .arg(dir.path())
        .assert()
        .success();
    no_panic(&assert);
    let v = json_of(&assert);
    let errors = errors_of(&v);
    for (name, _) in &cases {
        let file = format!("dev/{name}/main.tf");
        let e = errors
            .iter()
            .find(|e| e.0 == file)
            .unwrap_or_else(|| panic!("{file} not reported: {errors:?}"));
        assert!(e.1.is_some() && e.2.is_some(), "{e:?}");
        assert!(e.3.starts_with("cannot parse HCL"), "{e:?}");
    }
    assert_eq!(v["usages"].as_array().unwrap().len(), 1);
    assert_eq!(v["usages"][0]["file"], "dev/ok/main.tf");
}

// Hostile content: an include or `read_terragrunt_config` naming a file outside the repository
// (an absolute path, `../` out of it, a symlink, `find_in_parent_folders` climbing above it) once
// read any HCL file on the runner, and its value went into `git ls-remote`.
#[test]
fn includes_and_reads_outside_the_repository_are_refused() {
    let outside = tempfile::tempdir().unwrap();
    let evil = "locals {\n  base = \"git::https://attacker.invalid/org/exfiltrate.git\"\n}\n";
    std::fs::write(outside.path().join("evil.hcl"), evil).unwrap();
    std::fs::write(outside.path().join("root.hcl"), evil).unwrap();
    let repo = outside.path().join("repo");
    let abs = outside.path().join("evil.hcl");
    let abs = abs.display();
    let unit_include = |path: &str| {
        format!(
            "include \"x\" {{\n  path   = {path}\n  expose = true\n}}\nterraform {{\n  source = \"${{include.x.locals.base}}//m?ref=v1.0.0\"\n}}\n"
        )
    };
    let unit_read = |path: &str| {
        format!(
            "terraform {{\n  source = \"${{read_terragrunt_config({path}).locals.base}}//m?ref=v1.0.0\"\n}}\n"
        )
    };
    write_tree(
        &repo,
        &[
            (
                "dev/abs/terragrunt.hcl",
                unit_include(&format!("\"{abs}\"")).as_bytes(),
            ),
            (
                "dev/read/terragrunt.hcl",
                unit_read(&format!("\"{abs}\"")).as_bytes(),
            ),
            (
                "dev/up/terragrunt.hcl",
                unit_include("\"../../../evil.hcl\"").as_bytes(),
            ),
            (
                "dev/parent/terragrunt.hcl",
                unit_read("find_in_parent_folders(\"root.hcl\")").as_bytes(),
            ),
            (
                "dev/link/terragrunt.hcl",
                unit_include("\"../../shared.hcl\"").as_bytes(),
            ),
            (
                "dev/ok/terragrunt.hcl",
                unit_include("\"../../inside.hcl\"").as_bytes(),
            ),
            (
                "inside.hcl",
                b"locals {\n  base = \"github.com/acme/modules\"\n}\n",
            ),
        ],
    );
    std::os::unix::fs::symlink(outside.path().join("evil.hcl"), repo.join("shared.hcl")).unwrap();
    git(&repo, &["init", "-q"]);
    let v = scan_of(&repo);
    let usages = v["usages"].as_array().unwrap();
    for file in ["abs", "read", "up", "parent", "link"] {
        let file = format!("dev/{file}/terragrunt.hcl");
        let u = usages.iter().find(|u| u["file"] == file).expect(&file);
        let why = u["skipped"].as_str().unwrap_or_default();
        assert!(
            why.starts_with("unresolvable interpolation") && why.contains("repository"),
            "{file}: {why}"
        );
        assert_eq!(u["dependency"], Value::Null, "{file}");
        assert!(!v.to_string().contains("attacker"), "{v:#}");
    }
    let ok = usages
        .iter()
        .find(|u| u["file"] == "dev/ok/terragrunt.hcl")
        .unwrap();
    assert_eq!(ok["dependency"], "acme/modules/m");

    // Without git, the working directory is the boundary.
    let plain = tempfile::tempdir().unwrap();
    std::fs::write(plain.path().join("evil.hcl"), evil).unwrap();
    write_tree(
        &plain.path().join("work"),
        &[(
            "dev/up/terragrunt.hcl",
            unit_include("\"../../../evil.hcl\"").as_bytes(),
        )],
    );
    let v = scan_of(&plain.path().join("work"));
    let why = v["usages"][0]["skipped"].as_str().unwrap();
    assert!(why.contains("outside the repository"), "{why}");
}

#[test]
fn includes_of_devices_fifos_and_huge_files_are_refused_without_hanging() {
    let dir = tempfile::tempdir().unwrap();
    let unit = |path: &str| {
        format!(
            "include \"x\" {{\n  path   = \"{path}\"\n  expose = true\n}}\nterraform {{\n  source = \"${{include.x.locals.base}}?ref=v1.0.0\"\n}}\n"
        )
    };
    let huge = dir.path().join("huge.hcl");
    let mut text = b"locals {\n  base = \"github.com/acme/m\"\n}\n".to_vec();
    text.resize(9 * 1024 * 1024, b'\n');
    std::fs::write(&huge, &text).unwrap();
    let fifo = dir.path().join("fifo.hcl");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    write_tree(
        dir.path(),
        &[
            ("dev/zero/terragrunt.hcl", unit("/dev/zero").as_bytes()),
            ("dev/fifo/terragrunt.hcl", unit("../../fifo.hcl").as_bytes()),
            ("dev/huge/terragrunt.hcl", unit("../../huge.hcl").as_bytes()),
            (
                "dev/ok/terragrunt.hcl",
                &terragrunt("github.com/acme/m?ref=v1.0.0"),
            ),
        ],
    );
    let started = Instant::now();
    let assert = baton()
        .args(["scan", "--working-dir"])
        .arg(dir.path())
        .timeout(Duration::from_secs(60))
        .assert()
        .success();
    assert!(started.elapsed() < Duration::from_secs(30));
    let v = json_of(&assert);
    let usages = v["usages"].as_array().unwrap();
    for (file, why) in [
        ("dev/zero/terragrunt.hcl", "outside the repository"),
        ("dev/fifo/terragrunt.hcl", "not a regular file"),
        ("dev/huge/terragrunt.hcl", "larger than"),
    ] {
        let u = usages.iter().find(|u| u["file"] == file).expect(file);
        let skipped = u["skipped"].as_str().unwrap_or_default();
        assert!(skipped.contains(why), "{file}: {skipped}");
        assert_eq!(u["current"], "v1.0.0", "the literal ref is still reported");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_constraint_that_matches_nothing_is_unreachable_with_file_and_line() {
    let registry = MockServer::start().await;
    Mock::given(method("GET"))
        .and(path("/.well-known/terraform.json"))
        .respond_with(
            ResponseTemplate::new(200).set_body_json(json!({"modules.v1": "/v1/modules/"})),
        )
        .mount(&registry)
        .await;
    for name in ["vpc", "eks"] {
        Mock::given(method("GET"))
            .and(path(format!("/v1/modules/acme/{name}/aws/versions")))
            .respond_with(ResponseTemplate::new(200).set_body_json(json!({
                "modules": [{"versions": [{"version": "3.0.0"}, {"version": "3.2.0"}]}]
            })))
            .mount(&registry)
            .await;
    }
    let host = registry.address().to_string();
    let main_tf = format!(
        "# networking\nmodule \"vpc\" {{\n  source  = \"{host}/acme/vpc/aws\"\n  version = \"> 99.0\"\n}}\n\nmodule \"eks\" {{\n  source  = \"{host}/acme/eks/aws\"\n  version = \"3.0.0\"\n}}\n"
    );
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &[("dev/main.tf", main_tf.as_bytes())]);
    let mut cmd = baton();
    cmd.env("GITHUB_ACTIONS", "true")
        .args(["report", "--github-api-url", "http://127.0.0.1:9"])
        .arg("--working-dir")
        .arg(dir.path());
    let assert = run(cmd).await.success();
    let spec = json_of(&assert);
    let unreachable = spec["Unreachable"].as_array().unwrap();
    assert_eq!(unreachable.len(), 1, "{spec}");
    assert_eq!(unreachable[0]["ID"], format!("{host}/acme/vpc/aws"));
    let error = unreachable[0]["Error"].as_str().unwrap();
    assert!(
        error.contains("\"> 99.0\" in dev/main.tf:4 matches none"),
        "{error}"
    );
    // The rest goes on.
    assert_eq!(
        spec["Dependencies"][0]["ID"],
        format!("{host}/acme/eks/aws")
    );
    assert!(
        stderr_of(&assert).contains("::warning file=dev/main.tf,line=4::"),
        "{}",
        stderr_of(&assert)
    );
}

// ---------------------------------------------------------------------------------------------
// Bad spec input: exit 2 before any file is touched.
// ---------------------------------------------------------------------------------------------

#[test]
fn spec_usage_paths_leading_outside_exit_2_and_touch_nothing() {
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("live");
    let outside = root.path().join("outside");
    let unit = terragrunt("github.com/acme/m//x?ref=v1.0.0");
    write_tree(
        &work,
        &[
            ("dev/a/terragrunt.hcl", &unit),
            ("dev/b/terragrunt.hcl", &unit),
        ],
    );
    write_tree(&outside, &[("terragrunt.hcl", &unit)]);
    std::os::unix::fs::symlink(&outside, work.join("dev/link")).unwrap();
    std::os::unix::fs::symlink(
        outside.join("terragrunt.hcl"),
        work.join("dev/file-link.hcl"),
    )
    .unwrap();
    let before = (snapshot(&work), snapshot(&outside));
    let absolute = outside.join("terragrunt.hcl").display().to_string();
    for file in [
        absolute.as_str(),
        "../outside/terragrunt.hcl",
        "dev/../../outside/terragrunt.hcl",
        "dev/link/terragrunt.hcl",
        "dev/link/not-yet-there/terragrunt.hcl",
        "dev/file-link.hcl",
    ] {
        let spec = json!({"Dependencies": [{
            "ID": "acme/m/x", "TargetSafeVersion": "1.1.0",
            "Usages": [
                {"File": "dev/a/terragrunt.hcl", "Line": 2, "Current": "v1.0.0"},
                {"File": file, "Line": 2, "Current": "v1.0.0"}
            ]
        }]})
        .to_string();
        let spec_file = root.path().join("spec.json");
        std::fs::write(&spec_file, &spec).unwrap();
        for args in [
            vec!["--spec".to_string(), spec.clone()],
            vec!["--spec-file".to_string(), spec_file.display().to_string()],
        ] {
            let assert = baton()
                .arg("update")
                .args(&args)
                .arg("--working-dir")
                .arg(&work)
                .assert()
                .code(2);
            let err = stderr_of(&assert);
            assert!(
                err.contains("invalid spec") && err.contains(file),
                "{file}: {err}"
            );
            assert!(stdout_of(&assert).is_empty());
        }
    }
    assert_eq!(
        (snapshot(&work), snapshot(&outside)),
        before,
        "nothing was touched"
    );
}

// ---------------------------------------------------------------------------------------------
// Bad command-line input.
// ---------------------------------------------------------------------------------------------

#[test]
fn update_and_report_with_a_glob_matching_nothing_exit_0_and_say_so() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[(
            "dev/a/terragrunt.hcl",
            &terragrunt("github.com/acme/m//x?ref=v1.0.0"),
        )],
    );
    let before = snapshot(dir.path());
    let spec = spec(json!([dep("acme/m/x", "1.1.0")]));
    let assert = baton()
        .args(["update", "--include-dirs", "qa/**", "--spec", &spec])
        .arg("--working-dir")
        .arg(dir.path())
        .assert()
        .success();
    assert!(stderr_of(&assert).contains("no Terraform or Terragrunt files matched"));
    assert_eq!(json_of(&assert)["updated"], json!([]));
    let assert = baton()
        .args(["report", "--include-dirs", "qa/**"])
        .args(["--github-api-url", "http://127.0.0.1:9", "--working-dir"])
        .arg(dir.path())
        .assert()
        .success();
    assert!(stderr_of(&assert).contains("no Terraform or Terragrunt files matched"));
    assert_eq!(json_of(&assert)["Dependencies"], json!([]));
    assert_eq!(snapshot(dir.path()), before);
}

#[test]
fn invalid_globs_and_missing_dirs_exit_2_for_every_command() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[(
            "dev/a/terragrunt.hcl",
            &terragrunt("github.com/acme/m//x?ref=v1.0.0"),
        )],
    );
    let before = snapshot(dir.path());
    let spec = spec(json!([dep("acme/m/x", "1.1.0")]));
    let work = dir.path().display().to_string();
    let missing = dir.path().join("nope").display().to_string();
    let api = ["--github-api-url", "http://127.0.0.1:9"];
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["report", "--include-dirs", "{dev", "--working-dir", &work],
            "{dev",
        ),
        (vec!["report", "--working-dir", &missing], &missing),
        (
            vec![
                "update",
                "--spec",
                &spec,
                "--include-dirs",
                "{dev",
                "--working-dir",
                &work,
            ],
            "{dev",
        ),
        (
            vec![
                "update",
                "--spec",
                &spec,
                "--exclude-dirs",
                "dev/[",
                "--working-dir",
                &work,
            ],
            "dev/[",
        ),
        (
            vec!["update", "--spec", &spec, "--working-dir", &missing],
            &missing,
        ),
        (vec!["update", "--working-dir", &missing], &missing),
        (
            vec!["status", "--env", "dev={dev", "--working-dir", &work],
            "{dev",
        ),
        (
            vec!["status", "--env", "dev=dev/**", "--working-dir", &missing],
            &missing,
        ),
    ];
    for (args, named) in cases {
        let assert = baton()
            .args(&args)
            .args(api.iter().filter(|_| args[0] != "status"))
            .assert()
            .code(2);
        let err = stderr_of(&assert);
        assert!(err.contains(named), "{args:?}: {err}");
    }
    assert_eq!(snapshot(dir.path()), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_on_an_event_that_is_not_a_merged_pull_request_sends_nothing() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[(
            "dev/a/terragrunt.hcl",
            &terragrunt("github.com/acme/m//x?ref=v1.1.0"),
        )],
    );
    let events = [
        (
            "push",
            events::push("refs/heads/main", "f00d", "acme/live").to_string(),
            "not a pull_request event",
        ),
        (
            "opened",
            events::pull_request_opened(
                4,
                "baton-dev-updates-acme/m/x",
                "c0ffee",
                &[],
                "acme/live",
            )
            .to_string(),
            "was opened, not closed",
        ),
        (
            "other-branch",
            events::pull_request_closed(5, "feature/x", "c0ffee", "abc", true, &[], "acme/live")
                .to_string(),
            "does not start with",
        ),
    ];
    for (name, event, reason) in events {
        let path = dir.path().join(format!("{name}.json"));
        std::fs::write(&path, event).unwrap();
        let mut cmd = baton();
        cmd.env("GITHUB_REPOSITORY", "acme/live")
            .env("GITHUB_EVENT_PATH", &path)
            .args(["promote", "--environment", "dev"])
            .args(["--pull-request-branch-prefix", "baton-dev-updates-"])
            .args(["--github-api-url", &gh.api_url(), "--working-dir"])
            .arg(dir.path());
        let assert = run(cmd).await.success();
        let out = json_of(&assert);
        assert_eq!(out["dispatched"], false, "{name}");
        let why = out["reason"].as_str().unwrap();
        assert!(why.contains(reason), "{name}: {why}");
    }
    // An event file that is not JSON, or missing, is invalid input. Not JSON: a real merged
    // pull request's event cut short on purpose, as a truncated write leaves it.
    let garbage = dir.path().join("garbage.json");
    let whole = events::pull_request_closed(
        6,
        "baton-dev-updates-acme/m/x",
        "c0ffee",
        "abc",
        true,
        &[],
        "acme/live",
    )
    .to_string();
    let cut = (0..whole.len() / 2)
        .rev()
        .find(|&i| whole.is_char_boundary(i))
        .unwrap();
    std::fs::write(&garbage, &whole[..cut]).unwrap();
    for event in [garbage.clone(), dir.path().join("missing.json")] {
        let mut cmd = baton();
        cmd.env("GITHUB_REPOSITORY", "acme/live")
            .env("GITHUB_EVENT_PATH", &event)
            .args(["promote", "--environment", "dev"])
            .args(["--github-api-url", &gh.api_url(), "--working-dir"])
            .arg(dir.path());
        let assert = run(cmd).await.code(2);
        assert!(
            stderr_of(&assert).contains(&event.display().to_string()),
            "{}",
            stderr_of(&assert)
        );
    }
    assert!(gh.requests().is_empty(), "{:?}", gh.requests());
}

// ---------------------------------------------------------------------------------------------
// Interrupted writes.
// ---------------------------------------------------------------------------------------------

/// A small deterministic generator (xorshift64*), so failures can be replayed from the seed.
struct Rng(u64);

impl Rng {
    /// Seeded from `BATON_TEST_SEED` (to replay a failure: tests print their seed), else the clock.
    fn from_time() -> Rng {
        let seed = std::env::var("BATON_TEST_SEED")
            .ok()
            .and_then(|s| s.trim().parse::<u64>().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
            });
        Rng(seed.max(1))
    }
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// 2,000 usages in 2,000 files (Terraform and Terragrunt), each padded to a few KB.
fn big_tree(root: &Path) -> Vec<(PathBuf, Vec<u8>, Vec<u8>)> {
    let padding = format!("# {}\n", "padding ".repeat(60)).repeat(8);
    let mut files = Vec::new();
    for i in 0..2000 {
        let (rel, text) = if i % 2 == 0 {
            (
                format!("dev/g{:02}/u{i:04}/main.tf", i / 100),
                format!(
                    "{padding}module \"u{i}\" {{\n  source = \"github.com/acme/mods//modules/m{}?ref=v1.0.0\"\n}}\n{padding}",
                    i % 7
                ),
            )
        } else {
            (
                format!("dev/g{:02}/u{i:04}/terragrunt.hcl", i / 100),
                format!(
                    "{padding}terraform {{\n  source = \"git::https://github.com/acme/mods.git//modules/m{}?ref=v1.0.0\"\n}}\n{padding}",
                    i % 7
                ),
            )
        };
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &text).unwrap();
        let new = text.replace("?ref=v1.0.0", "?ref=v1.1.0");
        files.push((path, text.into_bytes(), new.into_bytes()));
    }
    files
}

fn big_spec() -> String {
    spec(json!(
        (0..7)
            .map(|m| dep(&format!("acme/mods/m{m}"), "1.1.0"))
            .collect::<Vec<_>>()
    ))
}

fn leftovers(root: &Path) -> Vec<PathBuf> {
    snapshot(root)
        .into_keys()
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(".baton-"))
        })
        .collect()
}

#[test]
fn a_killed_update_leaves_every_file_old_or_new() {
    use std::os::unix::process::ExitStatusExt as _;
    let bin = env!("CARGO_BIN_EXE_baton");
    let spec = big_spec();
    let update = |dir: &Path| {
        let mut cmd = std::process::Command::new(bin);
        cmd.args(["update", "--spec", &spec, "--working-dir"])
            .arg(dir)
            .env("BATON_LOG", "error")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        cmd
    };
    // How long a whole run takes, on a copy.
    let calibration = tempfile::tempdir().unwrap();
    big_tree(calibration.path());
    let started = Instant::now();
    assert!(update(calibration.path()).status().unwrap().success());
    let full = started.elapsed();

    let dir = tempfile::tempdir().unwrap();
    let files = big_tree(dir.path());
    let mut rng = Rng::from_time();
    let seed = rng.0;
    let mut interrupted = 0;
    let mut kills = Vec::new();
    // Bisect the kill time towards the writing phase: a kill that left every file old came
    // too early, one that left every file new came too late.
    let (mut early, mut late) = (Duration::ZERO, full.mul_f64(1.5));
    for round in 0..24 {
        if interrupted >= 4 {
            break;
        }
        for (path, before, _) in &files {
            std::fs::write(path, before).unwrap();
        }
        let jitter = 0.85 + rng.below(300) as f64 / 1000.0;
        // A jittered kill that came too early may lie past `late`: never subtract below zero.
        let delay = (early + late.saturating_sub(early) / 2).mul_f64(jitter);
        let temporary = leftovers(dir.path()).len();
        let mut child = update(dir.path()).spawn().unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        // Files are written to temporary files first, flushed, then renamed: a kill that left
        // new temporary files came while files were being written, even if none was renamed.
        let writing = leftovers(dir.path()).len() > temporary;
        let killed = status.signal() == Some(9);
        let (mut old, mut new) = (0, 0);
        for (path, before, after) in &files {
            let now = std::fs::read(path).unwrap();
            if now == *before {
                old += 1;
            } else if now == *after {
                new += 1;
            } else {
                panic!(
                    "round {round} (seed {seed}, killed after {delay:?}): {} is half-written",
                    path.display()
                );
            }
        }
        match (old, new) {
            (_, 0) => {
                early = delay;
                interrupted += usize::from(killed && writing);
            }
            (0, _) => late = delay,
            _ if killed => interrupted += 1,
            _ => {}
        }
        kills.push((delay, status.signal(), old, new, writing));
    }
    eprintln!(
        "seed {seed}; a whole run takes {full:?}; kills (delay, signal, old, new, temporary files left): {kills:?}; {interrupted} landed mid-write"
    );
    assert!(
        interrupted >= 1,
        "no kill landed while files were being written: {kills:?}"
    );
    // Whatever temporary files a SIGKILL left behind are never read as configuration.
    let left = leftovers(dir.path());
    let assert = baton()
        .args(["scan", "--working-dir"])
        .arg(dir.path())
        .assert()
        .success();
    let v = json_of(&assert);
    assert_eq!(v["usages"].as_array().unwrap().len(), 2000);
    assert_eq!(v["errors"], json!([]));
    assert!(!stdout_of(&assert).contains(".baton-"));
    // A re-run finishes the job.
    assert!(update(dir.path()).status().unwrap().success());
    for (path, _, after) in &files {
        assert_eq!(std::fs::read(path).unwrap(), *after, "{}", path.display());
    }
    eprintln!("temporary files left by SIGKILL: {}", left.len());
}

#[test]
fn temporary_files_are_never_scanned() {
    let dir = tempfile::tempdir().unwrap();
    let usage = b"module \"m\" {\n  source = \"github.com/acme/m//x?ref=v1.0.0\"\n}\n";
    write_tree(
        dir.path(),
        &[
            ("dev/a/main.tf", usage),
            ("dev/a/.baton-Xy12Ab.tmp", usage),
            ("dev/a/.baton-main.tf.tmp", usage),
            ("dev/b/terragrunt.hcl.tmp", usage),
            ("dev/b/.baton-QQ.tmp", b"\x00\x01 half-written"),
        ],
    );
    let v = scan_of(dir.path());
    assert_eq!(v["usages"].as_array().unwrap().len(), 1);
    assert_eq!(v["usages"][0]["file"], "dev/a/main.tf");
    assert_eq!(v["errors"], json!([]));
}

#[test]
fn usages_sharing_one_version_are_edited_once_or_left_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let stack = "locals {\n  version = \"v1.0.0\"\n}\n\nunit \"vpc\" {\n  source = \"github.com/acme/units//vpc?ref=${local.version}\"\n  path   = \"vpc\"\n}\n\nunit \"eks\" {\n  source = \"github.com/acme/units//eks?ref=${local.version}\"\n  path   = \"eks\"\n}\n";
    write_tree(
        dir.path(),
        &[
            ("dev/terragrunt.stack.hcl", stack.as_bytes()),
            ("stage/terragrunt.stack.hcl", stack.as_bytes()),
        ],
    );
    // One target for both: the shared version is edited once.
    let same = spec(json!([
        dep("acme/units/vpc", "1.1.0"),
        dep("acme/units/eks", "1.1.0")
    ]));
    let assert = baton()
        .args([
            "update",
            "--include-dirs",
            "dev/**",
            "--spec",
            &same,
            "--working-dir",
        ])
        .arg(dir.path())
        .assert()
        .success();
    assert_eq!(json_of(&assert)["updated"].as_array().unwrap().len(), 2);
    assert_eq!(
        std::fs::read_to_string(dir.path().join("dev/terragrunt.stack.hcl")).unwrap(),
        stack.replace("\"v1.0.0\"", "\"v1.1.0\"")
    );
    // Two targets for one version: the file is left as it was, and the message says why.
    let split = spec(json!([
        dep("acme/units/vpc", "1.1.0"),
        dep("acme/units/eks", "1.2.0")
    ]));
    let assert = baton()
        .args([
            "update",
            "--include-dirs",
            "stage/**",
            "--spec",
            &split,
            "--working-dir",
        ])
        .arg(dir.path())
        .assert()
        .code(3);
    let out = json_of(&assert);
    let message = out["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("shared by"), "{message}");
    assert!(stderr_of(&assert).contains("stage/terragrunt.stack.hcl"));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("stage/terragrunt.stack.hcl")).unwrap(),
        stack
    );
}

// ---------------------------------------------------------------------------------------------
// Faults of the GitHub API and registries.
// ---------------------------------------------------------------------------------------------

pub fn report_cmd(dir: &Path, api: &str) -> assert_cmd::Command {
    let mut cmd = baton();
    cmd.args(["report", "--github-api-url", api, "--working-dir"])
        .arg(dir);
    cmd
}

pub fn one_unit(source: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &[("dev/x/terragrunt.hcl", &terragrunt(source))]);
    dir
}

fn count(gh: &FakeGitHub, path: &str) -> usize {
    gh.requests()
        .iter()
        .filter(|r| r.split_once(' ').is_some_and(|(_, p)| p.starts_with(path)))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_with_growing_backoff() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/flaky", &["v1.1.0", "v1.0.0"]);
    gh.state
        .lock()
        .unwrap()
        .fail_times
        .insert("/repos/acme/flaky/tags".into(), (502, 2));
    let dir = one_unit("github.com/acme/flaky//x?ref=v1.0.0");
    let started = Instant::now();
    let assert = run(report_cmd(dir.path(), &gh.api_url())).await.success();
    let elapsed = started.elapsed();
    assert_eq!(
        json_of(&assert)["Dependencies"][0]["TargetSafeVersion"],
        "1.1.0"
    );
    assert_eq!(count(&gh, "/repos/acme/flaky/tags"), 3);
    // 1 s, then 2 s.
    assert!(elapsed >= Duration::from_secs(3), "{elapsed:?}");
    assert!(stderr_of(&assert).contains("502"), "{}", stderr_of(&assert));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_server_errors_make_the_module_unreachable_and_the_rest_goes_on() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/down", &["v1.1.0", "v1.0.0"]);
    gh.add_repo("acme/ok", &["v1.1.0", "v1.0.0"]);
    gh.state
        .lock()
        .unwrap()
        .fail_with
        .insert("/repos/acme/down/tags".into(), 503);
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "dev/down/terragrunt.hcl",
                &terragrunt("github.com/acme/down//x?ref=v1.0.0"),
            ),
            (
                "dev/ok/terragrunt.hcl",
                &terragrunt("github.com/acme/ok//x?ref=v1.0.0"),
            ),
        ],
    );
    let started = Instant::now();
    let assert = run(report_cmd(dir.path(), &gh.api_url())).await.success();
    assert!(started.elapsed() < Duration::from_secs(60));
    let spec = json_of(&assert);
    assert_eq!(spec["Dependencies"][0]["ID"], "acme/ok/x");
    assert_eq!(spec["Unreachable"][0]["ID"], "acme/down/x");
    assert!(
        spec["Unreachable"][0]["Error"]
            .as_str()
            .unwrap()
            .contains("503")
    );
    assert_eq!(
        count(&gh, "/repos/acme/down/tags"),
        4,
        "1 attempt and 3 retries"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_requests_honours_retry_after() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/busy", &["v1.1.0", "v1.0.0"]);
    gh.state
        .lock()
        .unwrap()
        .too_many_once
        .push("/repos/acme/busy/tags".into());
    let dir = one_unit("github.com/acme/busy//x?ref=v1.0.0");
    let started = Instant::now();
    let assert = run(report_cmd(dir.path(), &gh.api_url())).await.success();
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(
        json_of(&assert)["Dependencies"][0]["TargetSafeVersion"],
        "1.1.0"
    );
    assert_eq!(count(&gh, "/repos/acme/busy/tags"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_rate_limit_waits_for_a_reset_that_is_near() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/limited", &["v1.1.0", "v1.0.0"]);
    gh.state
        .lock()
        .unwrap()
        .primary_limit
        .insert("/repos/acme/limited/tags".into(), (1, 2));
    let dir = one_unit("github.com/acme/limited//x?ref=v1.0.0");
    let started = Instant::now();
    let assert = run(report_cmd(dir.path(), &gh.api_url())).await.success();
    let elapsed = started.elapsed();
    assert!(elapsed >= Duration::from_secs(2), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    assert_eq!(
        json_of(&assert)["Dependencies"][0]["TargetSafeVersion"],
        "1.1.0"
    );
    assert_eq!(count(&gh, "/repos/acme/limited/tags"), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn primary_rate_limit_with_a_far_reset_fails_saying_when_it_resets() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/limited", &["v1.1.0", "v1.0.0"]);
    gh.add_repo("acme/busy", &["v1.1.0", "v1.0.0"]);
    {
        let mut state = gh.state.lock().unwrap();
        state
            .primary_limit
            .insert("/repos/acme/limited/tags".into(), (10, 3600));
        state.too_many_once.push("/repos/acme/busy/tags".into());
    }
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "dev/a/terragrunt.hcl",
                &terragrunt("github.com/acme/limited//x?ref=v1.0.0"),
            ),
            (
                "dev/b/terragrunt.hcl",
                &terragrunt("github.com/acme/busy//x?ref=v1.0.0"),
            ),
        ],
    );
    // BATON_MAX_WAIT_SECS=0: not even the 1 s Retry-After is waited for.
    let mut cmd = report_cmd(dir.path(), &gh.api_url());
    cmd.env("BATON_MAX_WAIT_SECS", "0");
    let started = Instant::now();
    // Not one dependency could be checked: exit 3, the spec still printed with the reasons.
    let assert = run(cmd).await.code(3);
    assert!(started.elapsed() < Duration::from_secs(10), "no wait");
    let spec = json_of(&assert);
    let errors: BTreeMap<String, String> = spec["Unreachable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["ID"].as_str().unwrap().to_string(),
                u["Error"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let limited = &errors["acme/limited/x"];
    assert!(
        limited.contains("rate limit exhausted; it resets in 36") && limited.contains("UTC epoch"),
        "{limited}"
    );
    assert!(
        errors["acme/busy/x"].contains("resets in 1 s"),
        "{errors:?}"
    );
    assert_eq!(count(&gh, "/repos/acme/limited/tags"), 1, "no retry");

    // With the default longest wait (60 s) the hour-long reset still fails at once.
    gh.state.lock().unwrap().requests.clear();
    let started = Instant::now();
    let assert = run(report_cmd(dir.path(), &gh.api_url())).await.success();
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(
        json_of(&assert)["Unreachable"][0]["Error"]
            .as_str()
            .unwrap()
            .contains("resets in")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_module_repositories_are_unreachable_with_a_token_hint() {
    let gh = FakeGitHub::start("").await;
    for repo in ["acme/expired", "acme/forbidden", "acme/ok"] {
        gh.add_repo(repo, &["v1.1.0", "v1.0.0"]);
    }
    {
        let mut state = gh.state.lock().unwrap();
        state
            .fail_with
            .insert("/repos/acme/expired/tags".into(), 401);
        state
            .fail_with
            .insert("/repos/acme/forbidden/tags".into(), 403);
    }
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "dev/a/terragrunt.hcl",
                &terragrunt("github.com/acme/expired//x?ref=v1.0.0"),
            ),
            (
                "dev/b/terragrunt.hcl",
                &terragrunt("github.com/acme/forbidden//x?ref=v1.0.0"),
            ),
            (
                "dev/c/terragrunt.hcl",
                &terragrunt("github.com/acme/private//x?ref=v1.0.0"),
            ),
            (
                "dev/d/terragrunt.hcl",
                &terragrunt("github.com/acme/ok//x?ref=v1.0.0"),
            ),
        ],
    );
    let mut cmd = report_cmd(dir.path(), &gh.api_url());
    cmd.env("GITHUB_TOKEN", "ghs_EXPIRED")
        .env("GITHUB_ACTIONS", "true");
    let assert = run(cmd).await.success();
    let spec = json_of(&assert);
    assert_eq!(spec["Dependencies"].as_array().unwrap().len(), 1);
    assert_eq!(spec["Dependencies"][0]["ID"], "acme/ok/x");
    let errors: BTreeMap<String, String> = spec["Unreachable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["ID"].as_str().unwrap().to_string(),
                u["Error"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expired = &errors["acme/expired/x"];
    assert!(
        expired.contains("401") && expired.contains("invalid or expired"),
        "{expired}"
    );
    for id in ["acme/forbidden/x", "acme/private/x"] {
        let e = &errors[id];
        assert!(
            e.contains("GITHUB_TOKEN") && e.contains("can read it"),
            "{e}"
        );
    }
    let err = stderr_of(&assert);
    for (file, line) in [("dev/a/terragrunt.hcl", 2), ("dev/b/terragrunt.hcl", 2)] {
        assert!(
            err.contains(&format!("::warning file={file},line={line}::")),
            "{err}"
        );
    }
    assert!(!err.contains("ghs_EXPIRED"));
}

/// A live repository with a bare `origin` holding `main`; returns (root, work, origin).
fn live_repo(files: &[(&str, &[u8])]) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let root = tempfile::tempdir().unwrap();
    let origin = root.path().join("origin.git");
    let work = root.path().join("live");
    std::fs::create_dir_all(&work).unwrap();
    git(
        root.path(),
        &["init", "-q", "--bare", origin.to_str().unwrap()],
    );
    git(&work, &["init", "-q"]);
    write_tree(&work, files);
    git(&work, &["add", "-A"]);
    git(&work, &["commit", "-q", "-m", "initial"]);
    git(
        &work,
        &["remote", "add", "origin", origin.to_str().unwrap()],
    );
    git(&work, &["push", "-q", "origin", "main"]);
    (root, work, origin)
}

fn publish_cmd(work: &Path, api: &str, spec: &str) -> assert_cmd::Command {
    let mut cmd = baton();
    cmd.current_dir(work)
        .env("GITHUB_REPOSITORY", "acme/live")
        .args([
            "update",
            "--publish",
            "--include-dirs",
            "dev/**",
            "--spec",
            spec,
        ])
        .args(["--pull-request-branch", "baton-dev-updates-acme/m/x"])
        .args(["--commit-author", "Release Bot <bot@example.com>"])
        .args(["--github-api-url", api]);
    cmd
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_pull_request_names_the_missing_permission() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    let (_root, work, _origin) = live_repo(&[(
        "dev/x/terragrunt.hcl",
        &terragrunt("github.com/acme/m//x?ref=v1.0.0"),
    )]);
    let spec = spec(json!([dep("acme/m/x", "1.1.0")]));
    for (refusal, hint) in [
        (
            "Resource not accessible by integration",
            "pull-requests: write",
        ),
        (
            "GitHub Actions is not permitted to create or approve pull requests.",
            "Allow GitHub Actions to create and approve pull requests",
        ),
    ] {
        gh.state.lock().unwrap().refuse_pull_create = Some(refusal.to_string());
        let assert = run(publish_cmd(&work, &gh.api_url(), &spec)).await.code(3);
        let err = stderr_of(&assert);
        assert!(err.contains(refusal) && err.contains(hint), "{err}");
        assert!(gh.pulls("acme/live").is_empty());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_that_never_answers_fails_in_bounded_time() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    gh.add_repo("acme/slow", &["v1.1.0", "v1.0.0"]);
    gh.state.lock().unwrap().delay = Some(Duration::from_secs(90));
    let dir = one_unit("github.com/acme/slow//x?ref=v1.0.0");
    let mut cmd = report_cmd(dir.path(), &gh.api_url());
    cmd.env("BATON_HTTP_TIMEOUT_SECS", "1");
    let started = Instant::now();
    // Its only dependency could not be checked: exit 3, not a green "nothing to update".
    let assert = run(cmd).await.code(3);
    let elapsed = started.elapsed();
    // 4 attempts of 1 s and backoffs of 1, 2 and 4 s.
    assert!(elapsed < Duration::from_secs(30), "{elapsed:?}");
    let error = json_of(&assert)["Unreachable"][0]["Error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(error.contains("/repos/acme/slow/tags"), "{error}");
    assert!(
        error.to_lowercase().contains("timed out") || error.contains("timeout"),
        "{error}"
    );

    // Publishing gives up with exit 3 before touching a file.
    let (_root, work, _origin) = live_repo(&[(
        "dev/x/terragrunt.hcl",
        &terragrunt("github.com/acme/m//x?ref=v1.0.0"),
    )]);
    let before = snapshot(&work.join("dev"));
    let mut cmd = publish_cmd(
        &work,
        &gh.api_url(),
        &spec(json!([dep("acme/m/x", "1.1.0")])),
    );
    cmd.env("BATON_HTTP_TIMEOUT_SECS", "1");
    let started = Instant::now();
    let assert = run(cmd).await.code(3);
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        stderr_of(&assert).contains("default branch"),
        "{}",
        stderr_of(&assert)
    );
    assert_eq!(snapshot(&work.join("dev")), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_that_never_answers_fails_in_bounded_time() {
    let registry = MockServer::start().await;
    Mock::given(method("GET"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"modules.v1": "/v1/modules/"}))
                .set_delay(Duration::from_secs(90)),
        )
        .mount(&registry)
        .await;
    let host = registry.address().to_string();
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[(
            "dev/main.tf",
            format!("module \"vpc\" {{\n  source  = \"{host}/acme/vpc/aws\"\n  version = \"3.0.0\"\n}}\n").as_bytes(),
        )],
    );
    let mut cmd = report_cmd(dir.path(), "http://127.0.0.1:9");
    cmd.env("BATON_HTTP_TIMEOUT_SECS", "1");
    let started = Instant::now();
    let assert = run(cmd).await.code(3);
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );
    let error = json_of(&assert)["Unreachable"][0]["Error"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(error.contains("timed out"), "{error}");
}

#[test]
fn invalid_timeout_settings_exit_2_naming_the_variable() {
    let dir = one_unit("github.com/acme/m//x?ref=v1.0.0");
    for (var, value) in [
        ("BATON_HTTP_TIMEOUT_SECS", "soon"),
        ("BATON_HTTP_TIMEOUT_SECS", "0"),
        ("BATON_MAX_WAIT_SECS", "-1"),
        ("BATON_MAX_WAIT_SECS", "inf"),
    ] {
        let assert = report_cmd(dir.path(), "http://127.0.0.1:9")
            .env(var, value)
            .assert()
            .code(2);
        assert!(
            stderr_of(&assert).contains(var),
            "{var}={value}: {}",
            stderr_of(&assert)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Secrets.
// ---------------------------------------------------------------------------------------------

const CANARY: &str = "ghs_LEAKCANARY0123456789abcdefABCDEF";

/// Everything a leak could look like: the token and the basic-auth header git would send.
fn canaries() -> [String; 2] {
    use base64::Engine as _;
    let encoded =
        base64::engine::general_purpose::STANDARD.encode(format!("x-access-token:{CANARY}"));
    [CANARY.to_string(), encoded]
}

fn assert_clean(what: &str, text: &str) {
    for canary in canaries() {
        assert!(
            !text.contains(&canary),
            "the token leaked into {what}:\n{text}"
        );
    }
}

/// A `git` first on PATH that appends its argv to `log` and runs the real git.
fn git_shim(dir: &Path, log: &Path) -> String {
    let real = std::process::Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .expect("sh runs");
    let real = String::from_utf8(real.stdout).unwrap().trim().to_string();
    assert!(real.starts_with('/'), "git is on PATH: {real:?}");
    std::fs::create_dir_all(dir).unwrap();
    let shim = dir.join("git");
    std::fs::write(
        &shim,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"git $*\" >> '{}'\nexec '{real}' \"$@\"\n",
            log.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&shim, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    format!(
        "{}:{}",
        dir.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_token_never_leaks_from_any_command() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo("acme/live", &[]);
    gh.add_repo("acme/mods", &["v1.1.0", "v1.0.0"]);
    gh.add_repo("acme/expired", &["v1.1.0", "v1.0.0"]);
    gh.state
        .lock()
        .unwrap()
        .fail_with
        .insert("/repos/acme/expired/tags".into(), 401);
    let files: Vec<(&str, Vec<u8>)> = vec![
        (
            "dev/vpc/terragrunt.hcl",
            terragrunt("github.com/acme/mods//modules/vpc?ref=v1.0.0"),
        ),
        (
            "dev/old/terragrunt.hcl",
            terragrunt("github.com/acme/expired//x?ref=v1.0.0"),
        ),
        (
            "stage/vpc/terragrunt.hcl",
            terragrunt("github.com/acme/mods//modules/vpc?ref=v1.0.0"),
        ),
    ];
    let tree: Vec<(&str, &[u8])> = files.iter().map(|(f, c)| (*f, c.as_slice())).collect();
    let (root, work, origin) = live_repo(&tree);
    let (_root2, rejecting, rejecting_origin) = live_repo(&tree);
    let hook = rejecting_origin.join("hooks/pre-receive");
    std::fs::write(
        &hook,
        "#!/bin/sh\necho 'error: GH006: Protected branch update failed' >&2\nexit 1\n",
    )
    .unwrap();
    std::fs::set_permissions(&hook, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();

    let argv_log = root.path().join("git-argv.log");
    let path = git_shim(&root.path().join("bin"), &argv_log);
    let output = root.path().join("github-output");
    let summary = root.path().join("step-summary.md");
    let gitconfig = root.path().join("gitconfig");
    std::fs::write(&gitconfig, "").unwrap();
    let event = root.path().join("event.json");
    std::fs::write(
        &event,
        events::pull_request_closed(
            1,
            "baton-dev-updates-acme/mods/vpc",
            "c0ffee",
            "f00d",
            true,
            &["updates-dev"],
            "acme/live",
        )
        .to_string(),
    )
    .unwrap();
    let api = gh.api_url();
    let spec_file = root.path().join("spec.json");
    let spec_text = spec(json!([dep("acme/mods/vpc", "1.1.0")]));

    let command = |dir: &Path, args: &[&str], env: &[(&str, &str)]| {
        let mut cmd = baton();
        cmd.current_dir(dir)
            .env("PATH", &path)
            .env("GIT_CONFIG_GLOBAL", &gitconfig)
            .env("GITHUB_REPOSITORY", "acme/live")
            .env("GITHUB_TOKEN", CANARY)
            .env("BATON_LOG", "trace")
            .env("GITHUB_OUTPUT", &output)
            .env("GITHUB_STEP_SUMMARY", &summary)
            .env("GITHUB_EVENT_PATH", &event)
            .env("GITHUB_API_URL", &api)
            .args(args);
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd
    };
    let actions = [("GITHUB_ACTIONS", "true")];
    let dev = ["--include-dirs", "dev/**"];
    let publish = [
        "update",
        "--publish",
        "--include-dirs",
        "dev/**",
        "--spec",
        &spec_text,
        "--pull-request-branch",
        "baton-dev-updates-acme/mods/vpc",
        "--pull-request-labels",
        "updates-dev",
    ];
    let spec_file_arg = spec_file.display().to_string();
    let runs: Vec<(&str, assert_cmd::Command, Option<i32>)> = vec![
        ("scan", command(&work, &["scan"], &[]), Some(0)),
        (
            "scan (actions)",
            command(&work, &["scan"], &actions),
            Some(0),
        ),
        (
            "report",
            command(
                &work,
                &[&["report", "--spec-file", &spec_file_arg][..], &dev].concat(),
                &[],
            ),
            Some(0),
        ),
        (
            "report (actions)",
            command(&work, &["report"], &actions),
            Some(0),
        ),
        ("update --publish", command(&work, &publish, &[]), Some(0)),
        (
            "update --publish again",
            command(&work, &publish, &actions),
            Some(0),
        ),
        (
            "update --publish, push rejected",
            command(&rejecting, &publish, &actions),
            Some(3),
        ),
        (
            "promote",
            command(
                &work,
                &[
                    "promote",
                    "--environment",
                    "dev",
                    "--include-dirs",
                    "dev/**",
                ],
                &[],
            ),
            Some(0),
        ),
        (
            "status",
            command(
                &work,
                &["status", "--env", "dev=dev/**", "--env", "stage=stage/**"],
                &actions,
            ),
            Some(0),
        ),
    ];
    let mut runs = runs;
    for (name, inputs) in [
        (
            "action report",
            vec![("patcher_command", "report"), ("include_dirs", "dev/**")],
        ),
        (
            "action update",
            vec![
                ("patcher_command", "update"),
                ("include_dirs", "dev/**"),
                ("spec", spec_text.as_str()),
                ("dependency", "acme/mods/vpc"),
                ("pull_request_branch_prefix", "baton-dev-updates-"),
                ("environment", "dev"),
            ],
        ),
        (
            "action promote",
            vec![
                ("patcher_command", "promote"),
                ("include_dirs", "dev/**"),
                ("pull_request_branch_prefix", "baton-dev-updates-"),
                ("environment", "dev"),
            ],
        ),
        (
            "action status",
            vec![
                ("patcher_command", "status"),
                ("environments", "dev=dev/**\nstage=stage/**"),
            ],
        ),
        ("action scan", vec![("patcher_command", "scan")]),
    ] {
        let mut cmd = command(&work, &["action"], &actions);
        cmd.env_remove("GITHUB_TOKEN")
            .env("GITHUB_WORKSPACE", &work)
            .env("INPUT_GITHUB_TOKEN", CANARY)
            .env("INPUT_GITHUB_BASE_URL", &api);
        for (k, v) in inputs {
            cmd.env(format!("INPUT_{}", k.to_uppercase()), v);
        }
        runs.push((name, cmd, Some(0)));
    }

    for (name, cmd, code) in runs {
        let assert = run(cmd).await;
        let out = assert.get_output();
        let stdout = stdout_of(&assert);
        let stderr = stderr_of(&assert);
        assert_eq!(out.status.code(), code, "{name}: {stderr}");
        // Under Actions the token is masked first; the mask command is the one place it may be.
        let stdout = stdout.replace(&format!("::add-mask::{CANARY}\n"), "");
        assert_clean(&format!("stdout of {name}"), &stdout);
        assert_clean(&format!("stderr of {name}"), &stderr);
        if name == "report" {
            assert!(
                stderr.contains("[DEBUG] GET "),
                "verbose logs are on: {stderr}"
            );
        }
        if name.contains("rejected") {
            assert!(
                stderr.contains("Protected branch update failed"),
                "{stderr}"
            );
        }
    }

    // The token was used: sent to the API, and pull requests and dispatches happened.
    let received = gh.server.received_requests().await.unwrap();
    assert!(received.iter().any(|r| {
        r.headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.ends_with(CANARY))
    }));
    assert_eq!(gh.pulls("acme/live").len(), 1);
    assert!(!gh.state.lock().unwrap().dispatches.is_empty());
    for request in &received {
        assert_clean("a request URL", request.url.as_str());
    }
    // Never in git's argv, never in any file: git configs, outputs, summary, spec, repositories.
    let argv = std::fs::read_to_string(&argv_log).unwrap();
    assert!(argv.contains("git push"), "the shim saw git: {argv}");
    assert_clean("git's argv", &argv);
    for dir in [root.path(), _root2.path()] {
        for (file, bytes) in snapshot(dir) {
            assert_clean(
                &file.display().to_string(),
                &String::from_utf8_lossy(&bytes),
            );
        }
    }
    let config = std::fs::read_to_string(work.join(".git/config")).unwrap();
    assert!(!config.contains("extraheader"), "{config}");
    let _ = origin;
}

// ---------------------------------------------------------------------------------------------
// Properties over generated input (bounded here; `scripts/fuzz.sh` runs them much longer).
// ---------------------------------------------------------------------------------------------

mod properties {
    use super::checks;
    use proptest::prelude::*;
    use proptest::sample::select;

    fn tokens(list: &'static [&'static str]) -> impl Strategy<Value = String> {
        select(list).prop_map(str::to_string)
    }

    /// Source addresses assembled from the pieces the parser looks for, and noise.
    fn source_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            4 => tokens(&[
                "git::", "https://", "ssh://", "file://", "tfr://", "github.com/", "gitlab.com/",
                "bitbucket.org/", "git@", "github.com:", ":", "/", "//", "?", "&", "ref=",
                "version=", "depth=1", ".git", "s3::", "hg::", "gcs::", "#", " ", "modules/",
                "v1.2.3", "vpc-v0.1.0", "acme", "mods", "aws", "localhost:8080", "./", "../",
                "é", "\u{feff}", "\t", "${", "}", "%", "=",
            ]),
            2 => "[a-zA-Z0-9._-]{0,6}",
            1 => any::<char>().prop_map(|c| c.to_string()),
        ];
        prop::collection::vec(piece, 0..16).prop_map(|v| v.concat())
    }

    fn ref_text() -> impl Strategy<Value = String> {
        (
            select(&["", "v", "vpc-v", "release-"][..]),
            0u64..20,
            0u64..40,
            prop::option::of(0u64..40),
        )
            .prop_map(|(p, a, b, c)| match c {
                Some(c) => format!("{p}{a}.{b}.{c}"),
                None => format!("{p}{a}.{b}"),
            })
    }

    fn constraint_text() -> impl Strategy<Value = String> {
        (
            select(&["", "= ", "~> ", ">= ", "~>"][..]),
            0u64..10,
            0u64..20,
            prop::option::of(0u64..20),
        )
            .prop_map(|(op, a, b, c)| match c {
                Some(c) => format!("{op}{a}.{b}.{c}"),
                None if op.is_empty() || op.starts_with('=') => format!("{op}{a}.{b}.0"),
                None => format!("{op}{a}.{b}"),
            })
    }

    /// One usage block, in the forms of the file kind, with comments and odd spacing.
    fn block(kind: usize, i: usize) -> impl Strategy<Value = (String, bool)> {
        let source = (0usize..7, ref_text(), constraint_text(), 0usize..4).prop_map(
            move |(form, r, c, m)| {
                let m = format!("m{m}");
                match form {
                    0 => (
                        format!("\"git::https://github.com/acme/mods.git//modules/{m}?ref={r}\""),
                        None,
                        false,
                    ),
                    1 => (
                        format!("\"git::git@github.com:acme/mods.git//{m}?ref={r}\""),
                        None,
                        false,
                    ),
                    2 => (
                        format!("\"github.com/acme/mods//{m}?depth=1&ref={r}\""),
                        None,
                        false,
                    ),
                    3 => (
                        format!("\"git::ssh://git@gitlab.com/group/sub/mods.git//{m}?ref={r}\""),
                        None,
                        false,
                    ),
                    4 => (format!("\"acme/{m}/aws\""), Some(format!("\"{c}\"")), false),
                    5 => (
                        format!("\"${{local.base}}//modules/{m}?ref={r}\""),
                        None,
                        false,
                    ),
                    _ => (
                        format!("\"github.com/acme/mods//{m}?ref=${{local.v}}\""),
                        None,
                        true,
                    ),
                }
            },
        );
        let gap = select(&[" ", "  ", "\t", "   "][..]);
        let comment = select(&["", " # pinned", " // reviewed", " /* ok */"][..]);
        (source, gap, comment).prop_map(move |((src, version, shared), gap, comment)| {
            let head = match kind {
                0 => format!("module \"m{i}\" {{"),
                1 => "terraform {".to_string(),
                _ => format!("unit \"u{i}\" {{"),
            };
            let mut text = format!("{head}\n{gap}source{gap}= {src}{comment}\n");
            if let Some(v) = version {
                text.push_str(&format!("{gap}version = {v}{comment}\n"));
            }
            if kind == 2 {
                text.push_str(&format!("{gap}path = \"u{i}\"\n"));
            }
            text.push_str(&format!(
                "{gap}inputs = {{\n{gap}{gap}doc = <<EOT\n?ref=v1.0.0\nEOT\n{gap}}}\n}}\n"
            ));
            (text, shared)
        })
    }

    /// A whole file: its name and text (with a shared `locals` block, maybe a BOM and CRLF).
    fn file() -> impl Strategy<Value = (String, String)> {
        (0usize..3).prop_flat_map(|kind| {
            let blocks = prop::collection::vec((0usize..100).prop_flat_map(move |i| block(kind, i)), 1..5);
            (Just(kind), blocks, any::<bool>(), any::<bool>(), ref_text())
        })
        .prop_map(|(kind, blocks, bom, crlf, shared_ref)| {
            let name = ["main.tf", "terragrunt.hcl", "terragrunt.stack.hcl"][kind];
            let mut text = String::new();
            if bom {
                text.push('\u{feff}');
            }
            text.push_str(&format!(
                "# generated\nlocals {{\n  base = \"git::https://github.com/acme/mods.git\"\n  v    = \"{shared_ref}\"\n}}\n\n"
            ));
            for (b, _) in &blocks {
                text.push_str(b);
                text.push('\n');
            }
            if crlf {
                text = text.replace('\n', "\r\n");
            }
            (name.to_string(), text)
        })
    }

    /// An HCL expression with what makes lexing hard: nested brackets, strings holding brackets
    /// and quotes, interpolations holding strings, escapes, directives and heredocs.
    fn expression() -> impl Strategy<Value = String> {
        let leaf = tokens(&[
            "1",
            "true",
            "null",
            "local.a",
            "var.x",
            "include.root.locals.base",
            r#""plain""#,
            r#""}{][)(""#,
            r#""a \" quote { ""#,
            r#""back\\slash""#,
            r#""$${not} %%{not}""#,
            r#""a ${upper("}")} b""#,
            r#""${ {k = "}"}.k }""#,
            r#""%{ if true }y%{ endif }""#,
            r##""# not a comment // nor this""##,
            r#""é ü ${local.a}""#,
            "<<EOT\n}\n  \"\n  EOTX\nEOT",
            "<<-EOF\n    { [\n    ${local.a}\n    EOF",
            "<<EOT\n${jsonencode({a = \"}\"})}\n  EOT",
        ]);
        leaf.prop_recursive(3, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..3)
                    .prop_map(|v| format!("[{}]", v.join(", "))),
                prop::collection::vec(inner.clone(), 0..3).prop_map(|v| {
                    let attrs: Vec<String> = v
                        .iter()
                        .enumerate()
                        .map(|(i, e)| format!("k{i} = {e}\n"))
                        .collect();
                    format!("{{\n{}}}", attrs.concat())
                }),
                (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("f({a}, {b})")),
                inner.clone().prop_map(|e| format!("({e})")),
                inner.clone().prop_map(|e| format!("[for x in {e} : x]")),
                inner.clone().prop_map(|e| format!("\"${{{e}}}\"")),
                (inner.clone(), inner).prop_map(|(a, b)| format!("true ? {a} : {b}")),
            ]
        })
    }

    /// A top-level item: a source block, `locals`, `include`, another block or an attribute,
    /// with comments around.
    fn item(kind: usize) -> impl Strategy<Value = String> {
        let source = prop_oneof![
            Just("\"git::https://github.com/acme/mods.git//vpc?ref=v1.2.0\"".to_string()),
            Just("\"${local.a}?ref=v1.0.0\"".to_string()),
            Just("\"${include.root.locals.base}//x?ref=v2.0.0\"".to_string()),
            Just("local.src".to_string()),
            Just("\"acme/m/aws\"\n  version = \"~> 1.2\"".to_string()),
        ];
        // Mostly the blocks the file kind reads, sometimes another kind's.
        let own: &'static [&'static str] = match kind {
            0 => &["module \"m\""],
            2 => &["unit \"u\"", "stack \"s\""],
            _ => &["terraform"],
        };
        let head = prop_oneof![
            3 => select(own),
            1 => select(&["module \"m\"", "terraform", "unit \"u\"", "stack \"s\""][..]),
        ];
        let comment = select(&["", "# { \" <<EOT\n", "// ]\n", "/* } \n { */\n", "/* x */ "][..]);
        prop_oneof![
            3 => (comment.clone(), head, source, expression()).prop_map(|(c, h, s, e)| {
                format!("{c}{h} {{\n  source = {s}\n  extra = {e}\n}}")
            }),
            1 => (expression(), expression()).prop_map(|(a, b)| format!(
                "locals {{\n  a = \"github.com/acme/x\"\n  src = \"github.com/acme/y?ref=v1.0.0\"\n  b = {a}\n  c = {b}\n}}"
            )),
            1 => Just("include \"root\" {\n  path = find_in_parent_folders(\"root.hcl\")\n  expose = true\n}".to_string()),
            3 => (select(&["inputs", "remote_state", "locals_x", "module_name", "é"][..]), comment.clone(), expression())
                .prop_map(|(k, c, e)| format!("{c}{k} = {e}")),
            2 => (select(&["dependency \"d\"", "generate \"g\"", "resource \"a\" \"b\"", "include_x"][..]), comment, expression())
                .prop_map(|(h, c, e)| format!("{c}{h} {{\n  v = {e}\n}}")),
        ]
    }

    /// A file of items, maybe with a BOM, CRLF and a stray byte spliced in somewhere.
    fn skim_file() -> impl Strategy<Value = (String, String)> {
        (0usize..4)
            .prop_flat_map(|kind| {
                (
                    Just(
                        [
                            "main.tf",
                            "terragrunt.hcl",
                            "terragrunt.stack.hcl",
                            "root.hcl",
                        ][kind],
                    ),
                    prop::collection::vec(item(kind), 1..6),
                    any::<bool>(),
                    any::<bool>(),
                    prop::option::weighted(
                        0.2,
                        (
                            select(&["{", "}", "\"", "<<EOT\n", "#", "/*", "\n", "]"][..]),
                            any::<u16>(),
                        ),
                    ),
                )
            })
            .prop_map(|(name, items, bom, crlf, stray)| {
                let mut text = items.join("\n\n");
                text.push('\n');
                if crlf {
                    text = text.replace('\n', "\r\n");
                }
                if let Some((s, at)) = stray {
                    let mut at = usize::from(at) % (text.len() + 1);
                    while !text.is_char_boundary(at) {
                        at -= 1;
                    }
                    text.insert_str(at, s);
                }
                if bom {
                    text.insert(0, '\u{feff}');
                }
                (name.to_string(), text)
            })
    }

    fn target() -> impl Strategy<Value = baton::version::Version> {
        (0u64..20, 0u64..40, 0u64..40, any::<bool>()).prop_map(|(a, b, c, pre)| {
            let mut v = baton::version::Version::new(a, b, c);
            if pre {
                v.pre = semver::Prerelease::new("rc.1").unwrap();
            }
            v
        })
    }

    /// Spec JSON of the right shape with hostile values, of the wrong shape, or cut short.
    fn spec_text() -> impl Strategy<Value = String> {
        let id = prop_oneof![
            "[a-z]{1,5}/[a-z]{1,5}(/[a-z]{1,5})?",
            tokens(&["", " ", "a\nb", "a/b; rm -rf /", "a/b\u{0}", "$(id)/x"]),
        ];
        let version = prop_oneof![
            "[0-9]{1,2}\\.[0-9]{1,2}\\.[0-9]{1,2}",
            tokens(&[
                "v1.2.3",
                "1.2.3; rm -rf /",
                "$(id)",
                "`id`",
                "",
                "1.2.3-rc.1+b",
                "1.2.3\n",
                "../1.2.3"
            ]),
            "\\PC{0,8}",
        ];
        let path = prop_oneof![
            "dev/[a-z]{1,4}/main\\.tf",
            tokens(&[
                "../x.tf",
                "/etc/passwd",
                "dev/out/etc/passwd",
                "dev/../../x",
                "C:\\x",
                "dev/./a.tf",
                "",
                "dev/out"
            ]),
            "\\PC{0,10}",
        ];
        let usage = (path, 0u64..100)
            .prop_map(|(p, l)| serde_json::json!({"File": p, "Line": l, "Current": "v1.0.0"}));
        let dep = (id, prop::option::of(version.clone()), prop::option::of(version), prop::collection::vec(usage, 0..3))
            .prop_map(|(id, s, b, u)| serde_json::json!({"ID": id, "TargetSafeVersion": s, "TargetBreakingVersion": b, "Usages": u}));
        let spec = prop::collection::vec(dep, 0..4)
            .prop_map(|d| serde_json::json!({"IncludeDirPattern": "dev/**", "Dependencies": d}));
        (spec, 0usize..6, any::<u16>()).prop_map(|(spec, mangle, at)| {
            let text = spec.to_string();
            match mangle {
                0 => text
                    .chars()
                    .take(usize::from(at) % (text.len() + 1))
                    .collect(),
                1 => text
                    .replace("\"Dependencies\":[", "\"Dependencies\":{\"x\":[")
                    .replacen("]}", "]}}", 1),
                2 => text.replace("\"ID\"", "\"Id\""),
                3 => text.replace("\"Line\":", "\"Line\":-"),
                _ => text,
            }
        })
    }

    /// A file of `locals` that refer to earlier ones, repeated and combined as resource bombs
    /// do (templates, join, format, concat, merge, maps, lists, replace, split, conditionals,
    /// try, lookup), and a source that reads one of them; up to 64 KiB.
    fn bomb_file() -> impl Strategy<Value = (String, String)> {
        let local = |n: usize| -> BoxedStrategy<String> {
            (0..n.max(1)).prop_map(|j| format!("local.l{j}")).boxed()
        };
        let expr = move |i: usize| -> BoxedStrategy<String> {
            if i == 0 {
                return select(
                    &[
                        "\"xxxxxxxxxx\"",
                        "[\"a\", \"b\"]",
                        "{ a = \"v1.0.0\" }",
                        "1",
                        "true",
                    ][..],
                )
                .prop_map(str::to_string)
                .boxed();
            }
            let r = local(i);
            prop_oneof![
                (r.clone(), 1usize..60)
                    .prop_map(|(r, k)| format!("\"{}v\"", format!("${{{r}}}").repeat(k))),
                (r.clone(), 1usize..60)
                    .prop_map(|(r, k)| format!("join(\"-\", [{}])", vec![r; k].join(", "))),
                (r.clone(), 1usize..30).prop_map(|(r, k)| format!(
                    "format(\"{}\", {})",
                    "%s".repeat(k),
                    vec![r; k].join(", ")
                )),
                (r.clone(), 1usize..60)
                    .prop_map(|(r, k)| format!("concat({})", vec![format!("[{r}]"); k].join(", "))),
                (r.clone(), 1usize..60)
                    .prop_map(|(r, k)| format!("concat({})", vec![r; k].join(", "))),
                (r.clone(), 1usize..40).prop_map(|(r, k)| format!(
                    "{{ {} }}",
                    (0..k)
                        .map(|n| format!("k{n} = {r}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                (r.clone(), 1usize..40)
                    .prop_map(|(r, k)| format!("merge({})", vec![r; k].join(", "))),
                (r.clone(), 1usize..60).prop_map(|(r, k)| format!("[{}]", vec![r; k].join(", "))),
                r.clone().prop_map(|r| format!(
                    "replace({r}, \"x\", \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\")"
                )),
                r.clone().prop_map(|r| format!("split(\"x\", {r})")),
                (r.clone(), r.clone()).prop_map(|(a, b)| format!("{a} == {b} ? {a} : {b}")),
                (r.clone(), r.clone()).prop_map(|(a, b)| format!("try({a}.k0, {b}[0], {a})")),
                (r.clone(), r).prop_map(|(a, b)| format!("lookup({a}, \"k1\", {b})")),
            ]
            .boxed()
        };
        (1usize..24)
            .prop_flat_map(move |n| {
                let exprs: Vec<BoxedStrategy<String>> = (0..n).map(expr).collect();
                (
                    exprs,
                    0..n,
                    select(&["main.tf", "terragrunt.hcl", "terragrunt.stack.hcl"][..]),
                )
            })
            .prop_map(|(exprs, pick, name)| {
                let mut text = String::from("locals {\n");
                for (i, e) in exprs.iter().enumerate() {
                    text.push_str(&format!("  l{i} = {e}\n"));
                }
                text.push_str("}\n");
                let head = match name {
                    "main.tf" => "module \"m\" {",
                    "terragrunt.hcl" => "terraform {",
                    _ => "unit \"u\" {\n  path = \"u\"",
                };
                text.push_str(&format!(
                    "{head}\n  source = \"github.com/acme/m//x?ref=${{local.l{pick}}}\"\n}}\n"
                ));
                (name.to_string(), text)
            })
            .prop_filter("at most 64 KiB", |(_, text)| text.len() <= 64 * 1024)
    }

    fn config() -> ProptestConfig {
        // PROPTEST_CASES overrides the default of 256 (scripts/fuzz.sh sets it high).
        ProptestConfig {
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    fn spec_dir() -> &'static std::path::Path {
        static DIR: std::sync::OnceLock<tempfile::TempDir> = std::sync::OnceLock::new();
        DIR.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir_all(dir.path().join("dev")).unwrap();
            std::os::unix::fs::symlink("/", dir.path().join("dev/out")).unwrap();
            dir
        })
        .path()
    }

    proptest! {
        #![proptest_config(config())]

        #[test]
        fn source_parser_never_panics_and_locates_versions_exactly(raw in source_text()) {
            checks::check_source(&raw).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn source_parser_on_any_text(raw in "\\PC{0,40}") {
            checks::check_source(&raw).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn editing_a_version_changes_that_version_and_nothing_else(
            (name, text) in file(),
            target in target(),
        ) {
            prop_assert!(
                baton::find::hcl::parse(baton::find::hcl::strip_bom(&text).0).is_ok(),
                "the generator wrote invalid HCL:\n{}", text
            );
            let edited = checks::check_edit(&name, &text, &target).map_err(TestCaseError::fail)?;
            prop_assert!(edited <= text.matches("source").count() + text.matches("version =").count());
        }

        #[test]
        fn parsing_only_what_can_hold_a_source_finds_what_a_whole_parse_finds(
            (name, text) in skim_file(),
        ) {
            checks::check_skim(&name, &text).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn parsing_only_what_can_hold_a_source_on_edit_files((name, text) in file()) {
            checks::check_skim(&name, &text).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn evaluating_any_file_up_to_64_kib_is_bounded(
            (name, text) in prop_oneof![
                4 => bomb_file(),
                2 => skim_file(),
                1 => (select(&["main.tf", "terragrunt.hcl"][..]), "\\PC{0,2000}")
                    .prop_map(|(n, t)| (n.to_string(), t)),
            ],
        ) {
            checks::check_bounded(&name, &text).map_err(TestCaseError::fail)?;
        }

        #[test]
        fn spec_reader_never_panics_and_accepts_only_safe_specs(text in spec_text()) {
            checks::check_spec(&text, spec_dir()).map_err(TestCaseError::fail)?;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// A corpus of odd files: no panic anywhere.
// ---------------------------------------------------------------------------------------------

/// Hand-written oddities, each a file of its own.
const ODDITIES: &[(&str, &str)] = &[
    ("empty.tf", ""),
    ("bom-only.tf", "\u{feff}"),
    (
        "unterminated-string.tf",
        "module \"m\" {\n  source = \"github.com/a/b?ref=v1\n}\n",
    ),
    ("unterminated-heredoc.tf", "locals {\n  x = <<EOT\nabc\n"),
    (
        "unclosed-interpolation.hcl",
        "terraform {\n  source = \"${local.x\"\n}\n",
    ),
    ("source-number.hcl", "terraform {\n  source = 1\n}\n"),
    ("source-null.hcl", "terraform {\n  source = null\n}\n"),
    (
        "source-list.tf",
        "module \"m\" {\n  source = [\"github.com/a/b?ref=v1.0.0\"]\n}\n",
    ),
    (
        "source-directive.hcl",
        "terraform {\n  source = \"%{ if true }github.com/a/b?ref=v1.0.0%{ endif }\"\n}\n",
    ),
    (
        "source-escapes.tf",
        "module \"m\" {\n  source = \"github.com/a/b?ref=v1\\u002e0.0\"\n}\n",
    ),
    (
        "version-object.tf",
        "module \"m\" {\n  source = \"acme/x/aws\"\n  version = {}\n}\n",
    ),
    (
        "version-escaped.tf",
        "module \"m\" {\n  source = \"acme/x/aws\"\n  version = \"\\u0031.0.0\"\n}\n",
    ),
    (
        "version-garbage.tf",
        "module \"m\" {\n  source = \"acme/x/aws\"\n  version = \">=< 1\"\n}\n",
    ),
    (
        "two-refs.hcl",
        "terraform {\n  source = \"github.com/a/b?ref=v1.0.0&ref=v2.0.0\"\n}\n",
    ),
    (
        "unicode-ref.hcl",
        "terraform {\n  source = \"github.com/a/b?ref=v1.0.0\u{1F600}\"\n}\n",
    ),
    (
        "unicode-everywhere.tf",
        "module \"ü\" {\n  source = \"github.com/ä/ö//ß?ref=v1.0.0\"\n}\n",
    ),
    (
        "self-include.hcl",
        "include \"self\" {\n  path = \"self-include.hcl\"\n  expose = true\n}\nterraform {\n  source = include.self.locals.x\n}\n",
    ),
    (
        "read-itself.hcl",
        "locals {\n  cfg = read_terragrunt_config(\"read-itself.hcl\")\n}\nterraform {\n  source = local.cfg.locals.x\n}\n",
    ),
    (
        "find-weird.hcl",
        "include \"r\" {\n  path = find_in_parent_folders(\"\\u0000\")\n  expose = true\n}\nterraform {\n  source = \"${include.r.locals.x}?ref=v1.0.0\"\n}\n",
    ),
    (
        "dirname-nothing.hcl",
        "terraform {\n  source = \"${dirname(\"\")}//x?ref=v1.0.0\"\n}\n",
    ),
    (
        "local-loop.hcl",
        "locals {\n  a = local.b\n  b = local.a\n}\nterraform {\n  source = local.a\n}\n",
    ),
    (
        "traversal-long.hcl",
        "terraform {\n  source = local.a.b.c.d.e.f.g.h\n}\n",
    ),
    (
        "index-traversal.hcl",
        "terraform {\n  source = local.a[0]\n}\n",
    ),
    (
        "missing-arg.hcl",
        "terraform {\n  source = \"${basename()}?ref=v1.0.0\"\n}\n",
    ),
    (
        "only-query.hcl",
        "terraform {\n  source = \"?ref=v1.0.0\"\n}\n",
    ),
    ("only-getter.hcl", "terraform {\n  source = \"git::\"\n}\n"),
    ("tfr-empty.hcl", "terraform {\n  source = \"tfr://\"\n}\n"),
    (
        "tfr-query-only.hcl",
        "terraform {\n  source = \"tfr:///a/b/c?version=\"\n}\n",
    ),
    (
        "scp-no-path.tf",
        "module \"m\" {\n  source = \"git@github.com:\"\n}\n",
    ),
    (
        "many-modules.tf",
        "module \"a\" { source = \"github.com/a/b?ref=v1.0.0\" }\nmodule \"a\" { source = \"github.com/a/b?ref=v1.0.0\" }\n",
    ),
    (
        "block-label-odd.tf",
        "module \"\" {\n  source = \"github.com/a/b?ref=v1.0.0\"\n}\n",
    ),
    (
        "nul-in-string.tf",
        "module \"m\" {\n  source = \"github.com/a/b?ref=v1.0.0\\u0000\"\n}\n",
    ),
    (
        "crlf-mixed.tf",
        "module \"m\" {\r\n  source = \"github.com/a/b?ref=v1.0.0\"\n}\r\n",
    ),
    (
        "lone-cr.tf",
        "module \"m\" {\r  source = \"github.com/a/b?ref=v1.0.0\"\r}\r",
    ),
    (
        "stack.stack.hcl",
        "unit \"u\" {\n  source = \"github.com/a/b?ref=v1.0.0\"\n}\nstack \"s\" {\n  source = 3\n}\n",
    ),
    (".terraform.lock.hcl", "provider \"x\" {}\n"),
];

fn write_corpus(root: &Path) -> usize {
    let mut rng = Rng::from_time();
    eprintln!("corpus seed {}", rng.0);
    let live = root.join("live");
    copy_tree(&fixture("live"), &live);
    let mut count = 0;
    let originals: Vec<PathBuf> = snapshot(&live)
        .into_keys()
        .filter(|p| baton::find::hcl::FileKind::of(p).is_some())
        .collect();
    for rel in &originals {
        let path = live.join(rel);
        let bytes = std::fs::read(&path).unwrap();
        let name = rel.file_name().unwrap().to_str().unwrap().to_string();
        let dir = path.parent().unwrap().to_path_buf();
        let mut variants: Vec<Vec<u8>> = Vec::new();
        for _ in 0..4 {
            let at = rng.below(bytes.len() as u64 + 1) as usize;
            variants.push(bytes[..at].to_vec());
        }
        for _ in 0..3 {
            let mut b = bytes.clone();
            if !b.is_empty() {
                let i = rng.below(b.len() as u64) as usize;
                let odd = b"{}[]()\"$%=#\n\\\x00\xff?&/";
                b[i] = odd[rng.below(odd.len() as u64) as usize];
            }
            variants.push(b);
        }
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let lines: Vec<&str> = text.lines().collect();
        if !lines.is_empty() {
            let i = rng.below(lines.len() as u64) as usize;
            let mut dup = lines.clone();
            dup.insert(i, lines[i]);
            variants.push(dup.join("\n").into_bytes());
            let mut del = lines.clone();
            del.remove(i);
            variants.push(del.join("\n").into_bytes());
        }
        variants.push(text.replace('\n', "\r\n").into_bytes());
        variants.push(format!("\u{feff}{text}").into_bytes());
        variants.push(text.replace("?ref=", "?ref=\u{0}").into_bytes());
        variants.push(text.replace("ref=v", "ref=\u{2028}v").into_bytes());
        variants.push(text.replace("source", "source = source").into_bytes());
        variants.push(text.replace("}", "").into_bytes());
        variants.push(text.repeat(3).into_bytes());
        for (k, v) in variants.into_iter().enumerate() {
            std::fs::write(dir.join(format!("odd{k}-{name}")), v).unwrap();
            count += 1;
        }
    }
    let odd = live.join("dev/odd");
    std::fs::create_dir_all(&odd).unwrap();
    for (name, text) in ODDITIES {
        std::fs::write(odd.join(name), text).unwrap();
        count += 1;
    }
    // Random bytes named like configuration.
    for k in 0..40 {
        let len = rng.below(4096) as usize;
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        std::fs::write(odd.join(format!("random{k}.tf")), bytes).unwrap();
        count += 1;
    }
    // A very long line.
    std::fs::write(
        odd.join("long-line.hcl"),
        format!(
            "terraform {{\n  source = \"github.com/a/b?ref=v1.0.0{}\"\n}}\n",
            "x".repeat(2_000_000)
        ),
    )
    .unwrap();
    count + 1
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn parsing_only_what_can_hold_a_source_agrees_on_the_corpus() {
    let root = tempfile::tempdir().unwrap();
    write_corpus(root.path());
    let (mut checked, mut failures) = (0, Vec::new());
    for (rel, bytes) in snapshot(&root.path().join("live")) {
        let Ok(text) = String::from_utf8(bytes) else {
            continue;
        };
        let name = rel.file_name().unwrap().to_str().unwrap();
        checked += 1;
        if let Err(e) = checks::check_skim(name, &text) {
            failures.push(format!("{}: {e}", rel.display()));
        }
    }
    assert!(checked >= 300, "{checked} files checked");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn every_command_survives_a_corpus_of_odd_files() {
    let root = tempfile::tempdir().unwrap();
    let written = write_corpus(root.path());
    let live = root.path().join("live");
    assert!(written >= 300, "{written} odd files");

    let assert = baton()
        .args(["scan", "--working-dir"])
        .arg(&live)
        .timeout(HANG)
        .assert()
        .success();
    no_panic(&assert);
    let v = json_of(&assert);
    for (file, _, _, message) in errors_of(&v) {
        assert!(!message.contains("internal error"), "{file}: {message}");
    }
    let ids: std::collections::BTreeSet<String> = v["usages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|u| u["dependency"].as_str().map(str::to_string))
        .collect();
    eprintln!(
        "{written} odd files: {} usages, {} files reported, {} dependencies",
        v["usages"].as_array().unwrap().len(),
        v["errors"].as_array().unwrap().len(),
        ids.len()
    );

    let assert = baton()
        .args([
            "status",
            "--env",
            "dev={*dev*}/**",
            "--env",
            "stage=stage/**",
            "--env",
            "prod=prod/**",
        ])
        .args(["--format", "json", "--working-dir"])
        .arg(&live)
        .timeout(HANG)
        .assert()
        .success();
    no_panic(&assert);

    // Every dependency found, to a new version: each edit is verified or refused, never half-done.
    let spec = spec(json!(
        ids.iter().map(|id| dep(id, "99.1.0")).collect::<Vec<_>>()
    ));
    for extra in [&["--dry-run"][..], &[][..]] {
        let assert = baton()
            .args(["update", "--spec", &spec])
            .args(extra)
            .arg("--working-dir")
            .arg(&live)
            .timeout(HANG)
            .assert();
        no_panic(&assert);
        let code = assert.get_output().status.code();
        assert!(
            matches!(code, Some(0 | 3)),
            "{code:?}: {}",
            stderr_of(&assert)
        );
    }
    let after = baton()
        .args(["scan", "--working-dir"])
        .arg(&live)
        .timeout(HANG)
        .assert()
        .success();
    no_panic(&after);
}
