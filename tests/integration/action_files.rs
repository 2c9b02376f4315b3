//! The action's packaging agrees with the code: `action.yml`, the example workflows, the book's
//! tables and the Dockerfile name exactly the inputs and outputs `baton action` handles.

use baton::app::action::{INPUTS, OUTPUTS};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use yaml_rust2::{Yaml, YamlLoader};

/// The action as published in workflows.
const ACTION: &str = "baton-dev/baton@";

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

fn load(path: &Path) -> Yaml {
    let mut docs = YamlLoader::load_from_str(&read(path))
        .unwrap_or_else(|e| panic!("parsing {}: {e}", path.display()));
    assert_eq!(docs.len(), 1, "{} holds one YAML document", path.display());
    docs.remove(0)
}

fn keys(node: &Yaml, what: &str) -> BTreeSet<String> {
    node.as_hash()
        .unwrap_or_else(|| panic!("{what} is a mapping"))
        .keys()
        .map(|k| {
            k.as_str()
                .unwrap_or_else(|| panic!("{what}: key {k:?} is a string"))
                .to_string()
        })
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

fn action() -> Yaml {
    load(&root().join("action.yml"))
}

fn examples() -> Vec<(PathBuf, Yaml)> {
    let dir = root().join("workflows-examples");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("listing {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "yml" || x == "yaml"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "workflows-examples/ has workflows");
    files
        .into_iter()
        .map(|p| {
            let doc = load(&p);
            (p, doc)
        })
        .collect()
}

fn jobs(workflow: &Yaml) -> Vec<(&str, &Yaml)> {
    workflow["jobs"]
        .as_hash()
        .expect("jobs is a mapping")
        .iter()
        .map(|(k, v)| (k.as_str().expect("job id"), v))
        .collect()
}

fn steps(job: &Yaml) -> &[Yaml] {
    job["steps"].as_vec().map(Vec::as_slice).unwrap_or(&[])
}

fn is_baton(step: &Yaml) -> bool {
    step["uses"].as_str().is_some_and(|u| u.starts_with(ACTION))
}

/// Every string scalar under `node`.
fn strings<'a>(node: &'a Yaml, out: &mut Vec<&'a str>) {
    match node {
        Yaml::String(s) => out.push(s),
        Yaml::Array(items) => items.iter().for_each(|i| strings(i, out)),
        Yaml::Hash(map) => map.values().for_each(|v| strings(v, out)),
        _ => {}
    }
}

/// The `(name, output)` pairs of every `<context>.<name>.outputs.<output>` in `text`
/// (`context` is `steps` or `needs`).
fn output_refs(text: &str, context: &str) -> Vec<(String, String)> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let prefix = format!("{context}.");
    let mut found = Vec::new();
    for (at, _) in text.match_indices(&prefix) {
        if text[..at]
            .chars()
            .next_back()
            .is_some_and(|c| ident(c) || c == '.')
        {
            continue;
        }
        let rest = &text[at + prefix.len()..];
        let name: String = rest.chars().take_while(|&c| ident(c)).collect();
        let Some(after) = rest[name.len()..].strip_prefix(".outputs.") else {
            continue;
        };
        let output: String = after.chars().take_while(|&c| ident(c)).collect();
        found.push((name, output));
    }
    found
}

#[test]
fn output_refs_finds_step_and_job_outputs() {
    let text = "${{ fromJson(needs.report.outputs.spec).Dependencies }} steps.a-1.outputs.x_y \
                mysteps.b.outputs.z steps.c.conclusion";
    assert_eq!(
        output_refs(text, "needs"),
        [("report".to_string(), "spec".to_string())]
    );
    assert_eq!(
        output_refs(text, "steps"),
        [("a-1".to_string(), "x_y".to_string())]
    );
}

#[test]
fn action_declares_exactly_the_inputs_and_outputs_baton_handles() {
    let action = action();
    assert_eq!(keys(&action["inputs"], "inputs"), set(INPUTS));
    assert_eq!(keys(&action["outputs"], "outputs"), set(OUTPUTS));
}

#[test]
fn action_inputs_and_outputs_are_described_and_optional() {
    let action = action();
    for (name, input) in action["inputs"].as_hash().expect("inputs") {
        let name = name.as_str().expect("input name");
        let description = input["description"].as_str().unwrap_or("");
        assert!(
            !description.trim().is_empty(),
            "input {name} has a description"
        );
        assert_eq!(
            input["required"],
            Yaml::Boolean(false),
            "input {name} is optional"
        );
    }
    for (name, output) in action["outputs"].as_hash().expect("outputs") {
        let name = name.as_str().expect("output name");
        let description = output["description"].as_str().unwrap_or("");
        assert!(
            !description.trim().is_empty(),
            "output {name} has a description"
        );
    }
    assert_eq!(
        action["inputs"]["patcher_command"]["default"].as_str(),
        Some("report")
    );
}

#[test]
fn action_runs_the_dockerfile_without_args() {
    let runs = &action()["runs"];
    assert_eq!(runs["using"].as_str(), Some("docker"));
    assert_eq!(runs["image"].as_str(), Some("Dockerfile"));
    for key in ["args", "entrypoint", "pre-entrypoint", "post-entrypoint"] {
        assert!(
            runs[key].is_badvalue(),
            "runs.{key} is not set: inputs reach Baton as INPUT_* variables"
        );
    }
}

#[test]
fn dockerfile_entrypoint_is_baton_action() {
    let dockerfile = read(&root().join("Dockerfile"));
    let entrypoints: Vec<&str> = dockerfile
        .lines()
        .filter_map(|l| l.trim().strip_prefix("ENTRYPOINT"))
        .collect();
    let last = entrypoints
        .last()
        .expect("the Dockerfile has an ENTRYPOINT");
    let argv: Vec<String> = serde_json::from_str(last.trim())
        .expect("ENTRYPOINT in exec form (a JSON array), so no shell is involved");
    assert_eq!(argv.len(), 2, "ENTRYPOINT {argv:?}");
    assert!(
        argv[0].ends_with("/baton"),
        "ENTRYPOINT runs baton: {argv:?}"
    );
    assert_eq!(argv[1], "action");
}

#[test]
fn examples_pass_only_declared_inputs_to_baton() {
    let inputs = set(INPUTS);
    for (path, workflow) in examples() {
        let mut baton_steps = 0;
        for (job_id, job) in jobs(&workflow) {
            for step in steps(job).iter().filter(|s| is_baton(s)) {
                baton_steps += 1;
                let with = &step["with"];
                if with.is_badvalue() {
                    continue;
                }
                for key in keys(with, "with") {
                    assert!(
                        inputs.contains(&key),
                        "{}: job {job_id} passes `{key}`, which action.yml does not declare",
                        path.display()
                    );
                }
            }
        }
        assert!(baton_steps > 0, "{} uses {ACTION}", path.display());
    }
}

#[test]
fn examples_read_only_declared_outputs_of_baton() {
    let outputs = set(OUTPUTS);
    for (path, workflow) in examples() {
        let file = path.display();
        // Each job's declared outputs, and which of them carry a Baton output.
        let mut job_outputs: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (job_id, job) in jobs(&workflow) {
            let baton_ids: BTreeSet<&str> = steps(job)
                .iter()
                .filter(|s| is_baton(s))
                .filter_map(|s| s["id"].as_str())
                .collect();
            let step_ids: BTreeSet<&str> =
                steps(job).iter().filter_map(|s| s["id"].as_str()).collect();
            let mut texts = Vec::new();
            strings(job, &mut texts);
            for text in texts {
                for (step, output) in output_refs(text, "steps") {
                    assert!(
                        step_ids.contains(step.as_str()),
                        "{file}: job {job_id} reads steps.{step}, which is no step of the job"
                    );
                    if baton_ids.contains(step.as_str()) {
                        assert!(
                            outputs.contains(&output),
                            "{file}: job {job_id} reads steps.{step}.outputs.{output}, which action.yml does not declare"
                        );
                    }
                }
            }
            let declared = if job["outputs"].is_badvalue() {
                BTreeSet::new()
            } else {
                keys(&job["outputs"], "job outputs")
            };
            job_outputs.insert(job_id.to_string(), declared);
        }
        for (job_id, job) in jobs(&workflow) {
            let mut texts = Vec::new();
            strings(job, &mut texts);
            for text in texts {
                for (needed, output) in output_refs(text, "needs") {
                    let needs = &job["needs"];
                    let listed = needs.as_str() == Some(needed.as_str())
                        || needs
                            .as_vec()
                            .is_some_and(|v| v.iter().any(|n| n.as_str() == Some(needed.as_str())));
                    assert!(
                        listed,
                        "{file}: job {job_id} reads needs.{needed} without `needs: {needed}`"
                    );
                    let declared = job_outputs.get(&needed).unwrap_or_else(|| {
                        panic!("{file}: job {job_id} reads needs.{needed}, which is no job")
                    });
                    assert!(
                        declared.contains(&output),
                        "{file}: job {job_id} reads needs.{needed}.outputs.{output}, which job {needed} does not declare"
                    );
                }
            }
        }
    }
}

#[test]
fn examples_never_expand_expressions_inside_run_scripts() {
    // Patcher's examples did `echo '${{ needs.….outputs.spec }}' > file`: a shell injection.
    for (path, workflow) in examples() {
        for (job_id, job) in jobs(&workflow) {
            for step in steps(job) {
                if let Some(script) = step["run"].as_str() {
                    assert!(
                        !script.contains("${{"),
                        "{}: job {job_id} expands an expression inside `run:`; pass it through `env:`",
                        path.display()
                    );
                }
            }
        }
    }
}

/// The names in the first column of the table under `heading` of the book's action page.
fn readme_table(readme: &str, heading: &str) -> BTreeSet<String> {
    let start = readme
        .lines()
        .position(|l| l.trim_end() == heading)
        .unwrap_or_else(|| panic!("docs/src/action.md has a section {heading:?}"));
    let names: BTreeSet<String> = readme
        .lines()
        .skip(start + 1)
        .take_while(|l| !l.starts_with("## "))
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split_once('`'))
        .map(|(name, _)| name.to_string())
        .collect();
    assert!(
        !names.is_empty(),
        "docs/src/action.md: {heading:?} has a table"
    );
    names
}

#[test]
fn documented_tables_list_exactly_the_declared_inputs_and_outputs() {
    let readme = read(&root().join("docs/src/action.md"));
    assert_eq!(readme_table(&readme, "## Action inputs"), set(INPUTS));
    assert_eq!(readme_table(&readme, "## Action outputs"), set(OUTPUTS));
}
