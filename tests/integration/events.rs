//! The GitHub events the tests write to `GITHUB_EVENT_PATH`, each built from GitHub's real webhook
//! payload ([`contract_files::webhook`], from `@octokit/webhooks-examples`) with only the fields
//! its scenario needs changed, so no test feeds Baton an event shaped as GitHub never sends one.
//! The repository of an event is renamed everywhere it is named (its objects, owners and URLs);
//! the tests at the bottom hold every builder to GitHub's webhook schemas and play each event
//! through `baton action` with `patcher_command: promote`.

use crate::common::{stdout_of, write_tree};
use crate::contract_files::{self, webhook};
use crate::fake_github::FakeGitHub;
use serde_json::{Value, json};
use std::sync::OnceLock;

/// The fork a pull request comes from in the fork scenarios.
pub const FORK: &str = "mallory/live";

/// The default branch of every repository the tests use.
const DEFAULT_BRANCH: &str = "main";

/// A closed `pull_request` event (also what `pull_request_target` carries) of pull request
/// `number` from branch `head_ref` at `head_sha` of `repo` (`owner/name`) into its default
/// branch: merged as `merge_commit_sha` when `merged` (then `merged_at` is the example's
/// `closed_at` and `merged_by` its sender), else closed without merging (`merged_at` null, as
/// GitHub sends it, `merge_commit_sha` still set: GitHub's test merge). It carries a label
/// object, as GitHub writes them, for each name of `labels`. The head repository is `repo`: the
/// pull request is from the same repository.
pub fn pull_request_closed(
    number: u64,
    head_ref: &str,
    head_sha: &str,
    merge_commit_sha: &str,
    merged: bool,
    labels: &[&str],
    repo: &str,
) -> Value {
    let mut e = pull_request(
        webhook("pull_request", Some("closed")),
        number,
        head_ref,
        head_sha,
        labels,
        repo,
    );
    let sender = e["sender"].clone();
    let pr = &mut e["pull_request"];
    pr["state"] = json!("closed");
    pr["merged"] = json!(merged);
    pr["merge_commit_sha"] = json!(merge_commit_sha);
    if merged {
        pr["merged_at"] = pr["closed_at"].clone();
        pr["merged_by"] = sender;
    } else {
        pr["merged_at"] = Value::Null;
        pr["merged_by"] = Value::Null;
    }
    e
}

/// An `opened` `pull_request` event, from the same repository, as [`pull_request_closed`].
pub fn pull_request_opened(
    number: u64,
    head_ref: &str,
    head_sha: &str,
    labels: &[&str],
    repo: &str,
) -> Value {
    pull_request(
        webhook("pull_request", Some("opened")),
        number,
        head_ref,
        head_sha,
        labels,
        repo,
    )
}

/// A pull request event whose head is a branch of `fork` (`owner/name`), a fork of its base
/// repository, as GitHub sends one from a fork: `head.repo` is the fork (`fork: true`), `head.user`
/// and `head.label` name its owner.
pub fn from_fork(mut event: Value, fork: &str) -> Value {
    let (owner, _) = fork.split_once('/').expect("owner/name");
    let head = &mut event["pull_request"]["head"];
    let head_ref = head["ref"].as_str().expect("head.ref").to_string();
    let base_id = head["repo"]["id"].as_u64().expect("head.repo.id");
    rename_repository(&mut head["repo"], fork);
    head["repo"]["fork"] = json!(true);
    head["repo"]["id"] = json!(base_id + 1);
    rename_user(&mut head["user"], owner);
    head["label"] = json!(format!("{owner}:{head_ref}"));
    event
}

/// A pull request event from a fork that was deleted since: GitHub sends `head.repo` as `null`
/// (its schema says so), the rest of `head` as it was.
pub fn from_deleted_fork(event: Value) -> Value {
    let mut event = from_fork(event, FORK);
    event["pull_request"]["head"]["repo"] = Value::Null;
    event
}

/// A `repository_dispatch` event of `repo`, as a `POST /repos/{repo}/dispatches` with this
/// `event_type` and `client_payload` starts it: GitHub puts the event type in `action` and the
/// default branch in `branch`.
pub fn repository_dispatch(event_type: &str, client_payload: Value, repo: &str) -> Value {
    let mut e = webhook("repository_dispatch", None);
    in_repository(&mut e, repo);
    e["action"] = json!(event_type);
    e["client_payload"] = client_payload;
    e["branch"] = json!(DEFAULT_BRANCH);
    e
}

/// A `workflow_dispatch` event (a run started by hand) of `repo` on its default branch, with
/// these `inputs`.
pub fn workflow_dispatch(inputs: Value, repo: &str) -> Value {
    let mut e = webhook("workflow_dispatch", None);
    in_repository(&mut e, repo);
    e["inputs"] = inputs;
    e["ref"] = json!(format!("refs/heads/{DEFAULT_BRANCH}"));
    e
}

/// A `release` `published` event of `repo` for tag `tag`.
pub fn release_published(tag: &str, repo: &str) -> Value {
    let mut e = webhook("release", Some("published"));
    in_repository(&mut e, repo);
    let release = &mut e["release"];
    let old = release["tag_name"].as_str().expect("tag_name").to_string();
    for url in ["html_url", "tarball_url", "zipball_url"] {
        let text = release[url].as_str().expect("a release URL");
        release[url] = json!(text.replace(&format!("/{old}"), &format!("/{tag}")));
    }
    release["tag_name"] = json!(tag);
    release["target_commitish"] = json!(DEFAULT_BRANCH);
    e
}

/// A `push` event of `repo`: `git_ref` moved to commit `after`, no commits listed.
pub fn push(git_ref: &str, after: &str, repo: &str) -> Value {
    let mut e = webhook("push", None);
    in_repository(&mut e, repo);
    e["ref"] = json!(git_ref);
    e["after"] = json!(after);
    e["commits"] = json!([]);
    e
}

/// The event of a run started by `on: schedule` with this `cron`. GitHub has no webhook for
/// `schedule` (so `@octokit/webhooks-examples` has no example of it): the Actions event of a
/// scheduled run is documented as `{"schedule": "<cron>"}`, with the run's repository. The
/// repository object is taken from the real `workflow_dispatch` example (another run started
/// by Actions rather than by a change), renamed to `repo`.
pub fn schedule(cron: &str, repo: &str) -> Value {
    let mut e = webhook("workflow_dispatch", None);
    in_repository(&mut e, repo);
    json!({"schedule": cron, "repository": e["repository"].clone()})
}

/// The label objects of `names`, each shaped as the real example's label (id, node_id, url,
/// name, color, default, description), or built with those fields when it has none.
fn labels(names: &[&str], repo: &str) -> Value {
    let template = webhook("pull_request", Some("closed"))["pull_request"]["labels"]
        .get(0)
        .cloned()
        .unwrap_or_else(|| {
            json!({"id": 1, "node_id": "LA_kwDOlabel", "url": "", "name": "",
                "color": "ededed", "default": false, "description": null})
        });
    let id = template["id"].as_u64().unwrap_or(1);
    names
        .iter()
        .zip(0..)
        .map(|(name, i)| {
            let mut label = template.clone();
            label["id"] = json!(id + i);
            label["name"] = json!(name);
            label["url"] = json!(format!("https://api.github.com/repos/{repo}/labels/{name}"));
            label["default"] = json!(false);
            label["description"] = Value::Null;
            label
        })
        .collect()
}

/// A pull request event `e` made pull request `number` from `head_ref` at `head_sha` of `repo`
/// into its default branch, labelled `labels`.
fn pull_request(
    mut e: Value,
    number: u64,
    head_ref: &str,
    head_sha: &str,
    names: &[&str],
    repo: &str,
) -> Value {
    let (owner, _) = repo.split_once('/').expect("owner/name");
    in_repository(&mut e, repo);
    let old_number = e["number"].as_u64().expect("number");
    let pr = &mut e["pull_request"];
    let old_sha = pr["head"]["sha"].as_str().expect("head.sha").to_string();
    for kind in ["pulls", "pull", "issues"] {
        replace_in_strings(
            pr,
            &format!("/{kind}/{old_number}"),
            &format!("/{kind}/{number}"),
        );
    }
    replace_in_strings(pr, &old_sha, head_sha);
    pr["number"] = json!(number);
    pr["head"]["ref"] = json!(head_ref);
    pr["head"]["sha"] = json!(head_sha);
    pr["head"]["label"] = json!(format!("{owner}:{head_ref}"));
    pr["base"]["ref"] = json!(DEFAULT_BRANCH);
    pr["base"]["label"] = json!(format!("{owner}:{DEFAULT_BRANCH}"));
    for side in ["head", "base"] {
        rename_user(&mut pr[side]["user"], owner);
    }
    pr["labels"] = labels(names, repo);
    e["number"] = json!(number);
    e
}

/// Makes event `e` one of `repo` (`owner/name`): every string naming the example's repository
/// names `repo`, and each repository object (`repository`, the pull request's `base.repo` and
/// `head.repo`) and the `organization` carry its name, owner and default branch.
fn in_repository(e: &mut Value, repo: &str) {
    let old = e["repository"]["full_name"]
        .as_str()
        .expect("repository.full_name")
        .to_string();
    replace_in_strings(e, &old, repo);
    for pointer in [
        "/repository",
        "/pull_request/base/repo",
        "/pull_request/head/repo",
    ] {
        if let Some(r) = e.pointer_mut(pointer).filter(|r| r.is_object()) {
            rename_repository(r, repo);
            r["default_branch"] = json!(DEFAULT_BRANCH);
            if r.get("master_branch").is_some() {
                r["master_branch"] = json!(DEFAULT_BRANCH);
            }
        }
    }
    if let Some(org) = e.get_mut("organization").filter(|o| o.is_object()) {
        let (owner, _) = repo.split_once('/').expect("owner/name");
        rename_user(org, owner);
    }
}

/// Renames repository object `r` to `to` (`owner/name`): its name, full name, owner and URLs.
fn rename_repository(r: &mut Value, to: &str) {
    let from = r["full_name"]
        .as_str()
        .expect("a repository's full_name")
        .to_string();
    let (owner, name) = to.split_once('/').expect("owner/name");
    replace_in_strings(r, &from, to);
    r["name"] = json!(name);
    r["full_name"] = json!(to);
    rename_user(&mut r["owner"], owner);
}

/// Renames a user or organization object to `login`, its URLs with it.
fn rename_user(u: &mut Value, login: &str) {
    let Some(from) = u["login"].as_str().map(str::to_string) else {
        return;
    };
    for kind in ["users", "orgs"] {
        replace_in_strings(u, &format!("/{kind}/{from}"), &format!("/{kind}/{login}"));
    }
    replace_in_strings(
        u,
        &format!("https://github.com/{from}"),
        &format!("https://github.com/{login}"),
    );
    u["login"] = json!(login);
    if u.get("name")
        .is_some_and(|n| n.as_str() == Some(from.as_str()))
    {
        u["name"] = json!(login);
    }
}

/// Replaces `from` by `to` in every string of `v`.
fn replace_in_strings(v: &mut Value, from: &str, to: &str) {
    match v {
        Value::String(s) if s.contains(from) => *s = s.replace(from, to),
        Value::Array(items) => items
            .iter_mut()
            .for_each(|x| replace_in_strings(x, from, to)),
        Value::Object(map) => map
            .values_mut()
            .for_each(|x| replace_in_strings(x, from, to)),
        _ => {}
    }
}

/// GitHub's JSON schema of webhook `definition` (`pull_request$closed`, `push$event`, …), from
/// `@octokit/webhooks-schemas`, installed with the examples.
fn schema_of(definition: &str) -> jsonschema::Validator {
    static SCHEMAS: OnceLock<Value> = OnceLock::new();
    let all = SCHEMAS.get_or_init(|| {
        let path = contract_files::package_file("webhooks-schemas", "schema.json");
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        serde_json::from_str(&text).expect("the webhook schemas are JSON")
    });
    let schema = json!({
        "$schema": all["$schema"],
        "allOf": [{"$ref": format!("#/definitions/{definition}")}],
        "definitions": all["definitions"],
    });
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .unwrap_or_else(|e| panic!("schema of {definition}: {e}"))
}

const REPO: &str = "acme/live";
const BRANCH: &str = "baton-dev-updates-acme/mods/vpc";

fn merged() -> Value {
    pull_request_closed(3, BRANCH, "beef", "f00d", true, &["updates-dev"], REPO)
}

/// Every builder's event is one GitHub's webhook schemas accept, and still names nothing of
/// the example's repository.
#[test]
fn every_event_is_valid_by_githubs_webhook_schemas() {
    let cases = [
        ("pull_request$closed", merged()),
        (
            "pull_request$closed",
            pull_request_closed(9, BRANCH, "abc", "abc", false, &[], REPO),
        ),
        ("pull_request$closed", from_fork(merged(), FORK)),
        ("pull_request$closed", from_deleted_fork(merged())),
        (
            "pull_request$opened",
            pull_request_opened(4, BRANCH, "beef", &[], REPO),
        ),
        (
            "repository_dispatch$event",
            repository_dispatch(
                "dev_updates_merged",
                json!({"dependency": "acme/mods/vpc", "version": "1.1.0"}),
                REPO,
            ),
        ),
        (
            "workflow_dispatch$event",
            workflow_dispatch(json!({}), REPO),
        ),
        ("release$published", release_published("v1.2.0", REPO)),
        ("push$event", push("refs/heads/main", "f00d", REPO)),
    ];
    for (definition, event) in cases {
        let validator = schema_of(definition);
        // Where each fault is and which rule it breaks: the missing property's name, else the
        // rule's place in the schema (other messages quote the values, which the builder changed).
        let errors = |v: &Value| -> Vec<String> {
            validator
                .iter_errors(v)
                .map(|e| {
                    let message = e.to_string();
                    let rule = if message.ends_with("is a required property") {
                        message
                    } else {
                        e.schema_path().to_string()
                    };
                    format!("{}: {rule}", e.instance_path())
                })
                .collect()
        };
        // Some examples predate fields GitHub's schema now requires (the first `opened` pull
        // request has no `auto_merge`): a builder may keep those, and must add no other fault.
        let (name, action) = definition.split_once('$').unwrap();
        let example = webhook(name, (action != "event").then_some(action));
        let known = errors(&example);
        let added: Vec<String> = errors(&event)
            .into_iter()
            .filter(|e| !known.contains(e))
            .collect();
        assert!(added.is_empty(), "{definition}: {added:?}");
        let text = event.to_string();
        for old in ["Codertocat/Hello-World", "octo-org/octo-repo"] {
            assert!(!text.contains(old), "{definition} still names {old}");
        }
        assert_eq!(event["repository"]["full_name"], REPO, "{definition}");
    }
    // The check has teeth: a field of the wrong type, or a required one removed, is caught.
    let closed = schema_of("pull_request$closed");
    let mut wrong = merged();
    wrong["pull_request"]["merged"] = json!("yes");
    assert!(!closed.is_valid(&wrong));
    let mut missing = merged();
    missing["pull_request"]["head"]
        .as_object_mut()
        .unwrap()
        .remove("repo");
    assert!(!closed.is_valid(&missing));
}

#[test]
fn builders_set_what_the_scenarios_need() {
    let e = merged();
    let pr = &e["pull_request"];
    assert_eq!(
        (e["action"].as_str(), e["number"].as_u64()),
        (Some("closed"), Some(3))
    );
    assert_eq!(pr["number"], 3);
    assert_eq!(pr["merged"], true);
    assert!(pr["merged_at"].is_string());
    assert_eq!(pr["merge_commit_sha"], "f00d");
    assert_eq!(pr["head"]["ref"], BRANCH);
    assert_eq!(pr["head"]["sha"], "beef");
    assert_eq!(pr["head"]["repo"]["full_name"], REPO);
    assert_eq!(pr["base"]["repo"]["full_name"], REPO);
    assert_eq!(pr["base"]["ref"], "main");
    assert_eq!(pr["labels"][0]["name"], "updates-dev");
    assert_eq!(pr["labels"].as_array().unwrap().len(), 1);
    let unmerged = pull_request_closed(9, BRANCH, "abc", "abc", false, &[], REPO);
    assert!(unmerged["pull_request"]["merged_at"].is_null());
    assert_eq!(unmerged["pull_request"]["labels"], json!([]));
    let fork = from_fork(merged(), FORK);
    assert_eq!(fork["pull_request"]["head"]["repo"]["full_name"], FORK);
    assert_eq!(fork["pull_request"]["head"]["repo"]["fork"], true);
    assert_eq!(fork["pull_request"]["base"]["repo"]["full_name"], REPO);
    assert!(from_deleted_fork(merged())["pull_request"]["head"]["repo"].is_null());
    let dispatch = repository_dispatch("dev_updates_merged", json!({"version": "1"}), REPO);
    assert_eq!(dispatch["action"], "dev_updates_merged");
    assert_eq!(dispatch["branch"], "main");
    assert_eq!(dispatch["client_payload"], json!({"version": "1"}));
    assert_eq!(dispatch["organization"]["login"], "acme");
    assert_eq!(schedule("0 7 * * 1-5", REPO)["schedule"], "0 7 * * 1-5");
    assert_eq!(
        release_published("v1.2.0", REPO)["release"]["tag_name"],
        "v1.2.0"
    );
}

/// `baton action` with `patcher_command: promote` on each event GitHub may start the promote
/// job with: only a merged pull request from this repository is handed on; every other event
/// sends nothing and says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_hands_on_only_a_merged_pull_request_of_this_repository() {
    let gh = FakeGitHub::start("").await;
    gh.add_repo(REPO, &[]);
    let ws = tempfile::tempdir().unwrap();
    write_tree(
        ws.path(),
        &[(
            "dev/vpc/terragrunt.hcl",
            b"terraform {\n  source = \"github.com/acme/mods//modules/vpc?ref=v1.1.0\"\n}\n",
        )],
    );
    let not_a_pull_request = "the event is not a pull_request event";
    let cases = [
        ("merged", "pull_request", merged(), None),
        (
            "closed",
            "pull_request",
            pull_request_closed(9, BRANCH, "abc", "abc", false, &["updates-dev"], REPO),
            Some("pull request #9 was closed without merging"),
        ),
        (
            "fork",
            "pull_request",
            from_fork(merged(), FORK),
            Some("pull request #3 came from mallory/live, not from acme/live"),
        ),
        (
            "deleted fork",
            "pull_request",
            from_deleted_fork(merged()),
            Some("pull request #3 does not say which repository it came from"),
        ),
        (
            "repository_dispatch",
            "repository_dispatch",
            repository_dispatch(
                "dev_updates_merged",
                json!({"dependency": "acme/mods/vpc", "version": "1.1.0", "environment": "dev"}),
                REPO,
            ),
            Some(not_a_pull_request),
        ),
        (
            "workflow_dispatch",
            "workflow_dispatch",
            workflow_dispatch(json!({}), REPO),
            Some(not_a_pull_request),
        ),
        (
            "schedule",
            "schedule",
            schedule("0 7 * * 1-5", REPO),
            Some(not_a_pull_request),
        ),
        (
            "release",
            "release",
            release_published("v1.2.0", REPO),
            Some(not_a_pull_request),
        ),
    ];
    let runner = crate::action::Runner::new();
    let api = gh.api_url();
    for (name, event_name, event, refused) in cases {
        let before = gh.state.lock().unwrap().dispatches.len();
        let path = runner.dir.path().join("event.json");
        std::fs::write(&path, serde_json::to_vec_pretty(&event).unwrap()).unwrap();
        std::fs::write(&runner.summary, "").unwrap();
        let assert = runner
            .run(
                ws.path(),
                &[
                    ("patcher_command", "promote"),
                    ("include_dirs", "{*dev*}/**"),
                    ("pull_request_branch_prefix", "baton-dev-updates-"),
                    ("environment", "dev"),
                    ("github_base_url", &api),
                ],
                &[
                    ("GITHUB_EVENT_NAME", event_name),
                    ("GITHUB_EVENT_PATH", path.to_str().unwrap()),
                ],
            )
            .await
            .success();
        // The outcome is printed as JSON between the runner's workflow commands.
        let stdout = stdout_of(&assert);
        let json = match (stdout.find("\n{"), stdout.rfind("\n}")) {
            (Some(start), Some(end)) => &stdout[start..end + 2],
            _ => panic!("{name}: {stdout}"),
        };
        let out: Value =
            serde_json::from_str(json).unwrap_or_else(|e| panic!("{name}: {e}: {stdout}"));
        let dispatches = gh.state.lock().unwrap().dispatches.clone();
        match refused {
            None => {
                assert_eq!(out["dispatched"], true, "{name}: {out}");
                assert_eq!(dispatches.len(), before + 1, "{name}");
                let body = &dispatches[before].1;
                assert_eq!(body["event_type"], "dev_updates_merged");
                assert_eq!(body["client_payload"]["dependency"], "acme/mods/vpc");
                assert_eq!(body["client_payload"]["version"], "1.1.0");
                assert_eq!(body["client_payload"]["sha"], "f00d");
                assert_eq!(body["client_payload"]["pull_request"], 3);
                assert!(
                    runner.summary().contains("Sent "),
                    "{name}: {}",
                    runner.summary()
                );
            }
            Some(why) => {
                assert_eq!(out["dispatched"], false, "{name}: {out}");
                assert_eq!(dispatches.len(), before, "{name}: nothing sent");
                let reason = out["reason"].as_str().unwrap_or_default();
                assert!(reason.contains(why), "{name}: {reason}");
                assert!(
                    runner.summary().contains("Nothing to promote: "),
                    "{name}: {}",
                    runner.summary()
                );
            }
        }
    }
}
