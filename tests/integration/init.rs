//! `baton init`: the config and workflows it writes for a repository's environment folders pass
//! actionlint, zizmor and the schemas (run when the linters are on PATH, as `.ci/run` installs
//! them), and `--check` catches a workflow that drifted from the config.

use crate::common::{baton, json_of, stderr_of, stdout_of, write_tree};
use std::path::Path;
use std::process::Command;

/// A repository with dev, a dev account, a stage account and prod.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let unit =
        b"module \"vpc\" {\n  source = \"github.com/acme/terraform-aws-vpc?ref=v1.0.0\"\n}\n";
    write_tree(
        dir.path(),
        &[
            ("dev/vpc/main.tf", unit),
            ("gruntwork-dev-account1/vpc/main.tf", unit),
            ("acme-stage-1/vpc/main.tf", unit),
            ("prod/vpc/main.tf", unit),
            ("modules/local/main.tf", b""),
        ],
    );
    dir
}

fn init(dir: &Path, args: &[&str]) -> assert_cmd::assert::Assert {
    baton()
        .env_remove("BATON_INIT_ACTION")
        .env_remove("BATON_INIT_FORCE")
        .env_remove("BATON_DRY_RUN")
        .env("BATON_FORMAT", "text")
        .arg("init")
        .arg("--working-dir")
        .arg(dir)
        .args(args)
        .assert()
}

/// Runs a linter when it is on PATH; otherwise says so on stderr and returns false.
pub(crate) fn lint(program: &str, args: &[&str], dir: &Path) -> bool {
    let found = std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|p| p.join(program).is_file()));
    if !found {
        eprintln!("notice: {program} is not on PATH; skipped (.ci/run installs it)");
        return false;
    }
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("running {program}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    true
}

/// Holds generated workflows (paths relative to `dir`) to the linters CI runs on the examples:
/// actionlint, zizmor and GitHub's workflow schema (each when on PATH).
pub fn lint_workflows(dir: &Path, files: &[&str]) {
    lint("actionlint", files, dir);
    let mut zizmor = vec!["--offline"];
    zizmor.extend(files);
    lint("zizmor", &zizmor, dir);
    let mut schema = vec!["--builtin-schema", "vendor.github-workflows"];
    schema.extend(files);
    lint("check-jsonschema", &schema, dir);
}

fn workflows(dir: &Path) -> Vec<String> {
    let mut files: Vec<String> = std::fs::read_dir(dir.join(".github/workflows"))
        .unwrap()
        .map(|e| {
            format!(
                ".github/workflows/{}",
                e.unwrap().file_name().to_string_lossy()
            )
        })
        .collect();
    files.sort();
    files
}

#[test]
fn init_writes_a_config_and_workflows_that_pass_the_linters() {
    let dir = repo();
    let out = stdout_of(&init(dir.path(), &[]).success());
    assert!(out.starts_with("wrote .github/baton.toml\n"), "{out}");
    let config = std::fs::read_to_string(dir.path().join(".github/baton.toml")).unwrap();
    insta::assert_snapshot!("init_config", config);
    let files = workflows(dir.path());
    assert_eq!(
        files,
        [
            ".github/workflows/baton-dev.yml",
            ".github/workflows/baton-prod.yml",
            ".github/workflows/baton-stage.yml",
            ".github/workflows/baton-status.yml"
        ]
    );
    let stage =
        std::fs::read_to_string(dir.path().join(".github/workflows/baton-stage.yml")).unwrap();
    insta::assert_snapshot!("init_stage_workflow", stage);
    let prod =
        std::fs::read_to_string(dir.path().join(".github/workflows/baton-prod.yml")).unwrap();
    assert!(prod.contains("    environment: \"production\""), "{prod}");
    assert!(!prod.contains("promote:"), "prod is last: {prod}");

    // The generated files pass the linters CI runs on the examples.
    let mut args: Vec<&str> = files.iter().map(String::as_str).collect();
    lint("actionlint", &args, dir.path());
    let mut zizmor = vec!["--offline"];
    zizmor.extend(&args);
    lint("zizmor", &zizmor, dir.path());
    let mut schema = vec!["--builtin-schema", "vendor.github-workflows"];
    schema.append(&mut args);
    lint("check-jsonschema", &schema, dir.path());
    let baton_schema = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/baton.schema.json");
    let baton_schema = baton_schema.to_str().unwrap();
    lint(
        "check-jsonschema",
        &["--schemafile", baton_schema, ".github/baton.toml"],
        dir.path(),
    );

    // The config drives the commands at once.
    let scan = json_of(
        &baton()
            .current_dir(dir.path())
            .args(["scan", "--env", "dev"])
            .assert()
            .success(),
    );
    assert_eq!(scan["usages"].as_array().unwrap().len(), 2);
    let status = stdout_of(
        &baton()
            .current_dir(dir.path())
            .args(["status", "--format", "text"])
            .assert()
            .success(),
    );
    assert!(
        status.contains("DEPENDENCY") && status.contains("stage"),
        "{status}"
    );

    // Once written, init keeps the config and leaves equal workflows alone.
    let again = stdout_of(&init(dir.path(), &[]).success());
    assert!(again.starts_with("kept .github/baton.toml\n"), "{again}");
    assert!(
        again.contains("unchanged .github/workflows/baton-dev.yml"),
        "{again}"
    );
}

#[test]
fn init_check_catches_a_drifted_workflow() {
    let dir = repo();
    init(
        dir.path(),
        &[
            "--action",
            "baton-dev/baton@0123456789abcdef0123456789abcdef01234567",
        ],
    )
    .success();
    let dev = dir.path().join(".github/workflows/baton-dev.yml");
    assert!(
        std::fs::read_to_string(&dev)
            .unwrap()
            .contains("uses: baton-dev/baton@0123456789abcdef0123456789abcdef01234567 # v"),
        "a commit is pinned, with the version beside it"
    );
    let check = |args: &[&str]| {
        let mut all = vec![
            "--check",
            "--action",
            "baton-dev/baton@0123456789abcdef0123456789abcdef01234567",
        ];
        all.extend(args);
        init(dir.path(), &all)
    };
    let ok = stdout_of(&check(&[]).success());
    assert!(
        ok.contains("the workflows agree with .github/baton.toml"),
        "{ok}"
    );

    // The config changes: stage's branch prefix. The workflow that names it drifts.
    let config_path = dir.path().join(".github/baton.toml");
    let config = std::fs::read_to_string(&config_path).unwrap();
    std::fs::write(
        &config_path,
        config.replace("baton-stage-updates-", "upd-stage-"),
    )
    .unwrap();
    let drift = check(&[]).code(1);
    let out = stdout_of(&drift);
    assert!(
        out.contains(".github/workflows/baton-stage.yml:") && out.contains("upd-stage-"),
        "{out}"
    );
    assert!(!out.contains("baton-dev.yml"), "dev is unaffected: {out}");
    // Nothing was written by --check.
    assert!(
        std::fs::read_to_string(dir.path().join(".github/workflows/baton-stage.yml"))
            .unwrap()
            .contains("'baton-stage-updates-'")
    );
    let json = json_of(&check(&["--format", "json"]).code(1));
    assert_eq!(json["drift"].as_array().unwrap().len(), 1);

    // init refuses to overwrite without --force, then regenerates with it.
    let refused = init(
        dir.path(),
        &[
            "--action",
            "baton-dev/baton@0123456789abcdef0123456789abcdef01234567",
        ],
    )
    .code(2);
    assert!(
        stderr_of(&refused).contains("--force"),
        "{}",
        stderr_of(&refused)
    );
    init(
        dir.path(),
        &[
            "--force",
            "--action",
            "baton-dev/baton@0123456789abcdef0123456789abcdef01234567",
        ],
    )
    .success();
    check(&[]).success();

    // A hand edit, a missing workflow and an environment removed from the config all drift.
    std::fs::write(
        &dev,
        std::fs::read_to_string(&dev)
            .unwrap()
            .replace("15 4 * * 1", "0 0 * * *"),
    )
    .unwrap();
    std::fs::remove_file(dir.path().join(".github/workflows/baton-status.yml")).unwrap();
    let out = stdout_of(&check(&[]).code(1));
    assert!(
        out.contains("baton-dev.yml:") && out.contains("baton-status.yml: missing"),
        "{out}"
    );
    init(
        dir.path(),
        &[
            "--force",
            "--action",
            "baton-dev/baton@0123456789abcdef0123456789abcdef01234567",
        ],
    )
    .success();
    let config = std::fs::read_to_string(&config_path).unwrap();
    let without_prod = config
        .split("\n[[environments]]\nname = \"prod\"")
        .next()
        .unwrap()
        .to_string();
    std::fs::write(&config_path, without_prod).unwrap();
    let out = stdout_of(&check(&[]).code(1));
    assert!(
        out.contains("baton-prod.yml: generated for an environment the config no longer has"),
        "{out}"
    );
}

#[test]
fn init_without_environment_folders_or_config_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &[("modules/vpc/main.tf", b"")]);
    let assert = init(dir.path(), &[]).code(2);
    assert!(
        stderr_of(&assert).contains("no environment folders"),
        "{}",
        stderr_of(&assert)
    );
    assert!(!dir.path().join(".github").exists());
    let assert = init(dir.path(), &["--check"]).code(2);
    assert!(stderr_of(&assert).contains("run `baton init` first"));
}

/// The keys the config reader accepts, as its "unknown field" message lists them.
fn accepted_keys(text: &str) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    write_tree(dir.path(), &[("baton.toml", text.as_bytes())]);
    let assert = baton()
        .current_dir(dir.path())
        .args(["scan", "--env", "dev"])
        .assert()
        .code(2);
    let err = stderr_of(&assert);
    let list = err
        .split(", expected ")
        .nth(1)
        .unwrap_or_else(|| panic!("{err}"));
    let mut keys: Vec<String> = list
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    keys.sort();
    keys
}

fn schema_keys(node: &serde_json::Value) -> Vec<String> {
    let mut keys: Vec<String> = node["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    keys.sort();
    keys
}

#[test]
fn the_schema_names_exactly_the_keys_the_reader_accepts() {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/baton.schema.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let env = "[[environments]]\nname = \"dev\"\ninclude = [\"dev/**\"]\n";
    assert_eq!(
        accepted_keys(&format!("{env}zzz = 1\n")),
        schema_keys(&schema["definitions"]["environment"])
    );
    assert_eq!(
        accepted_keys(&format!("[defaults]\nzzz = 1\n\n{env}")),
        schema_keys(&schema["properties"]["defaults"])
    );
    assert_eq!(
        accepted_keys(&format!("{env}[environments.gates]\nzzz = 1\n")),
        schema_keys(&schema["definitions"]["gates"])
    );
    assert_eq!(
        accepted_keys(&format!("zzz = 1\n{env}")),
        schema_keys(&schema)
    );
    assert_eq!(
        accepted_keys(&format!("{env}[[groups]]\nzzz = 1\n")),
        schema_keys(&schema["definitions"]["group"])
    );
    // The example config of the tests validates against the schema.
    let dir = tempfile::tempdir().unwrap();
    write_tree(
        dir.path(),
        &[("baton.toml", crate::config::CONFIG.as_bytes())],
    );
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schema/baton.schema.json");
    lint(
        "check-jsonschema",
        &["--schemafile", schema_path.to_str().unwrap(), "baton.toml"],
        dir.path(),
    );
}
