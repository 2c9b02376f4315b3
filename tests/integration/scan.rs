//! `baton scan` over the fixture tree `tests/fixtures/live`.

use crate::common::{baton, fixture, scan_of, stderr_of, stdout_of, write_tree};
use serde_json::{Value, json};

fn scan_json(args: &[&str]) -> Value {
    let assert = baton()
        .arg("scan")
        .arg("--working-dir")
        .arg(fixture("live"))
        .args(args)
        .assert()
        .success();
    serde_json::from_str(&stdout_of(&assert)).expect("stdout is JSON only")
}

fn files_of(v: &Value) -> Vec<String> {
    v["usages"]
        .as_array()
        .expect("usages")
        .iter()
        .map(|u| u["file"].as_str().expect("file").to_string())
        .collect()
}

#[test]
fn dev_environment_json() {
    let v = scan_json(&["--include-dirs", "{*dev*}/**"]);
    insta::assert_json_snapshot!("scan_dev", v);
}

#[test]
fn dev_glob_selects_dev_folders_only() {
    let v = scan_json(&["--include-dirs", "{*dev*}/**"]);
    let files = files_of(&v);
    assert!(files.iter().any(|f| f.starts_with("dev/")));
    assert!(
        files
            .iter()
            .any(|f| f.starts_with("gruntwork-dev-account1/"))
    );
    assert!(
        !files
            .iter()
            .any(|f| f.starts_with("prod/") || f.starts_with("stage/"))
    );
    assert!(!files.iter().any(|f| f.starts_with("_envcommon/")));
}

#[test]
fn caches_and_comments_are_never_scanned() {
    let v = scan_json(&[]);
    let text = v.to_string();
    assert!(!text.contains("not-be-found"), "cache folders were scanned");
    assert!(
        !text.contains("acme/old"),
        "a commented-out source was found"
    );
    assert!(
        !text.contains("acme/older"),
        "a block-commented source was found"
    );
    assert!(
        !text.contains("not/a-module"),
        "heredoc text was taken for a source"
    );
}

#[test]
fn usages_are_sorted_by_file_then_line() {
    let v = scan_json(&[]);
    let keys: Vec<(String, u64)> = v["usages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["file"].as_str().unwrap().to_string(),
                u["line"].as_u64().unwrap(),
            )
        })
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys, sorted);
    assert!(keys.len() > 20, "{keys:?}");
}

#[test]
fn interpolated_envcommon_source_is_identified() {
    let v = scan_json(&["--include-dirs", "stage/**"]);
    let sqs = v["usages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["file"] == "stage/us-east-1/sqs/terragrunt.hcl")
        .expect("sqs usage");
    assert_eq!(
        sqs["dependency"],
        "gruntwork-io/terraform-aws-messaging/sqs"
    );
    assert_eq!(sqs["current"], "v0.7.1");
    assert_eq!(sqs["skipped"], Value::Null);
    assert_eq!(sqs["line"], 11);
}

#[test]
fn exclude_dirs_leave_folders_out() {
    let v = scan_json(&[
        "--include-dirs",
        "dev/**",
        "--exclude-dirs",
        "**/{*alb*}/**",
    ]);
    let files = files_of(&v);
    assert!(!files.iter().any(|f| f.contains("/alb/")), "{files:?}");
    assert!(files.iter().any(|f| f.contains("/vpc/")));
}

#[test]
fn broken_file_is_reported_and_the_rest_goes_on() {
    let v = scan_json(&["--include-dirs", "dev/**"]);
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["file"], "dev/us-east-1/broken/terragrunt.hcl");
    assert!(errors[0]["line"].as_u64().unwrap() >= 2);
    assert!(errors[0]["column"].as_u64().is_some());
    assert!(files_of(&v).len() > 10);
}

#[test]
fn broken_file_is_an_annotation_under_actions() {
    let assert = baton()
        .env("GITHUB_ACTIONS", "true")
        .args(["scan", "--include-dirs", "dev/**", "--working-dir"])
        .arg(fixture("live"))
        .assert()
        .success();
    let err = stderr_of(&assert);
    assert!(
        err.contains("::warning file=dev/us-east-1/broken/terragrunt.hcl,line="),
        "{err}"
    );
}

#[test]
fn text_and_markdown_formats() {
    for format in ["text", "markdown"] {
        let assert = baton()
            .args(["scan", "--include-dirs", "{*dev*}/**", "--format", format])
            .arg("--working-dir")
            .arg(fixture("live"))
            .assert()
            .success();
        insta::assert_snapshot!(format!("scan_dev_{format}"), stdout_of(&assert));
    }
}

#[test]
fn flags_can_come_from_the_environment() {
    let assert = baton()
        .arg("scan")
        .env("BATON_WORKING_DIR", fixture("live"))
        .env("BATON_INCLUDE_DIRS", "prod/**")
        .assert()
        .success();
    let v: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    let files = files_of(&v);
    assert_eq!(files.len(), 2);
    assert!(files.iter().all(|f| f.starts_with("prod/")));
}

#[test]
fn invalid_glob_exits_2_naming_it() {
    let assert = baton()
        .args(["scan", "--include-dirs", "{dev"])
        .arg("--working-dir")
        .arg(fixture("live"))
        .assert()
        .code(2);
    let err = stderr_of(&assert);
    assert!(err.contains("{dev"), "{err}");
    assert!(stdout_of(&assert).is_empty());
}

#[test]
fn missing_working_dir_exits_2() {
    let assert = baton()
        .args(["scan", "--working-dir", "/nonexistent/baton/dir"])
        .assert()
        .code(2);
    assert!(stderr_of(&assert).contains("/nonexistent/baton/dir"));
}

#[test]
fn glob_matching_nothing_says_so_and_exits_0() {
    let assert = baton()
        .env("BATON_LOG", "warn")
        .args(["scan", "--include-dirs", "qa/**", "--working-dir"])
        .arg(fixture("live"))
        .assert()
        .success();
    let v: Value = serde_json::from_str(&stdout_of(&assert)).unwrap();
    assert_eq!(v["usages"].as_array().unwrap().len(), 0);
    assert!(stderr_of(&assert).contains("no Terraform or Terragrunt files matched"));
}

#[test]
fn unreadable_files_are_reported_and_the_rest_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let good: &[u8] = b"module \"a\" {\n  source = \"github.com/org/repo?ref=v1.0.0\"\n}\n";
    write_tree(
        dir.path(),
        &[
            ("dev/good/main.tf", good),
            ("dev/latin1/main.tf", b"# caf\xe9\nmodule \"x\" {}\n"),
            ("dev/binary/main.tf", b"\x00\x01\x02module"),
            ("dev/nested/main.tf", b"module \"x\" {\n  a = \n}\n"),
        ],
    );
    // Deep enough to overflow a recursive parser's stack without the parser's nesting limit.
    let deep = format!(
        "module \"m\" {{\n{}{}}}\n",
        "x {\n".repeat(100_000),
        "}\n".repeat(100_000)
    );
    std::fs::write(dir.path().join("dev/nested/deep.tf"), deep).unwrap();
    let v = scan_of(dir.path());
    assert_eq!(files_of(&v), vec!["dev/good/main.tf"]);
    let errors: Vec<(String, String)> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["file"].as_str().unwrap().into(),
                e["message"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert!(
        errors
            .iter()
            .any(|(f, m)| f == "dev/latin1/main.tf" && m.contains("UTF-8")),
        "{errors:?}"
    );
    assert!(
        errors
            .iter()
            .any(|(f, m)| f == "dev/binary/main.tf" && m.contains("binary")),
        "{errors:?}"
    );
    for file in ["dev/nested/main.tf", "dev/nested/deep.tf"] {
        assert!(
            errors
                .iter()
                .any(|(f, m)| f == file && m.starts_with("cannot parse HCL")),
            "{file}: {errors:?}"
        );
    }
}

/// Only the blocks that can hold a source (and the locals and includes they use) are parsed: a
/// syntax error elsewhere in a file is Terraform's or Terragrunt's to report, and does not hide
/// the file's sources. A file whose brackets or strings do not even balance cannot be split
/// into blocks; it is parsed whole and reported.
#[test]
fn syntax_errors_outside_the_blocks_baton_reads_do_not_hide_sources() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[
            (
                "dev/app/terragrunt.hcl",
                b"terraform {\n  source = \"github.com/org/repo//app?ref=v1.0.0\"\n}\n\ninputs = {\n  name = \n}\n",
            ),
            (
                "dev/app/main.tf",
                b"resource \"x\" \"y\" {\n  a = = 1\n}\n\nmodule \"m\" {\n  source = \"github.com/org/repo//m?ref=v2.0.0\"\n}\n",
            ),
            (
                "dev/unbalanced/main.tf",
                b"resource \"x\" \"y\" {\n  a = [1, 2,\n}\n\nmodule \"m\" {\n  source = \"github.com/org/repo//m?ref=v2.0.0\"\n}\n",
            ),
        ],
    );
    let v = scan_of(dir.path());
    assert_eq!(
        v["errors"],
        json!([{
            "file": "dev/unbalanced/main.tf",
            "line": 3,
            "column": 1,
            "message": "cannot parse HCL: invalid expression; expected `\"`, `[`, `{`, `-`, `!`, `(`, `_`, `<`, letter or digit"
        }])
    );
    assert_eq!(
        files_of(&v),
        vec!["dev/app/main.tf", "dev/app/terragrunt.hcl"]
    );
    assert_eq!(
        (&v["usages"][0]["line"], &v["usages"][0]["current"]),
        (&json!(6), &json!("v2.0.0"))
    );
    assert_eq!(
        (&v["usages"][1]["line"], &v["usages"][1]["current"]),
        (&json!(2), &json!("v1.0.0"))
    );
}
