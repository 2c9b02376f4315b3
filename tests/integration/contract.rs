//! GitHub's REST description (`@octokit/openapi`) as a checker: which operation a request is for,
//! whether its query, body and answer agree with what GitHub documents. The stand-in runs every
//! exchange through [`check`], so no integration test can pass on a request GitHub would not take
//! or an answer GitHub would not give; the tests at the bottom hold Baton's list of operations
//! and its parsers against the description itself.

use crate::contract_files;
use baton::clients::wire::{self, Answer};
use jsonschema::{Registry, Validator};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// The descriptions a GitHub Enterprise Server stand-in is checked against: every supported
/// version the pinned package describes.
pub const GHES: &[&str] = &["ghes-3.17", "ghes-3.18", "ghes-3.19"];

/// The base URI the description is registered under, for `$ref`s.
const BASE: &str = "https://description.invalid/rest";

/// One published description, ready to check exchanges.
pub struct Description {
    /// `api.github.com`, `ghes-3.19`, …
    pub name: String,
    doc: Value,
    registry: Registry<'static>,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

/// The description `name` (`api.github.com`, `ghes-3.17`, …), loaded once per test run.
pub fn description(name: &str) -> &'static Description {
    static ALL: OnceLock<Mutex<HashMap<String, &'static Description>>> = OnceLock::new();
    let mut all = ALL.get_or_init(Default::default).lock().unwrap();
    if let Some(d) = all.get(name) {
        return d;
    }
    let path = contract_files::package_file("openapi", &format!("generated/{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut doc: Value = serde_json::from_str(&text).expect("the description is JSON");
    to_json_schema(&mut doc);
    let components = json!({ "components": doc["components"].clone() });
    let registry = Registry::new()
        .add(BASE, components)
        .and_then(|r| r.prepare())
        .expect("the description's components make a schema registry");
    let d: &'static Description = Box::leak(Box::new(Description {
        name: name.to_string(),
        doc,
        registry,
        validators: Mutex::new(HashMap::new()),
    }));
    all.insert(name.to_string(), d);
    d
}

/// OpenAPI 3.0 schemas as JSON Schema: `nullable: true` becomes a `null` type (or an `anyOf`
/// with `null`) and local `$ref`s point into the registered document. Keywords JSON Schema does
/// not know (`example`, `discriminator`) are left: validators ignore them.
fn to_json_schema(v: &mut Value) {
    convert(v, false);
}

/// `names`: `v` is a `properties` map, whose keys are property names and values schemas.
fn convert(v: &mut Value, names: bool) {
    match v {
        Value::Object(map) => {
            for (key, child) in map.iter_mut() {
                // Examples are data, not schemas: left as GitHub wrote them.
                if !names && (key == "example" || key == "examples") {
                    continue;
                }
                convert(child, !names && key == "properties");
            }
            if names {
                return;
            }
            if let Some(Value::String(r)) = map.get_mut("$ref") {
                if r.starts_with("#/") {
                    *r = format!("{BASE}{r}");
                }
            }
            if map.get("nullable") == Some(&Value::Bool(true)) {
                map.remove("nullable");
                if let Some(Value::Array(values)) = map.get_mut("enum") {
                    values.push(Value::Null);
                }
                match map.get("type").cloned() {
                    Some(Value::String(t)) => {
                        map.insert("type".into(), json!([t, "null"]));
                    }
                    _ => {
                        let inner = Value::Object(std::mem::take(map));
                        map.insert("anyOf".into(), json!([inner, {"type": "null"}]));
                    }
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|i| convert(i, false)),
        _ => {}
    }
}

impl Description {
    /// Follows a local `$ref` (already made absolute) to what it names.
    fn resolve<'a>(&'a self, v: &'a Value) -> &'a Value {
        match v.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let pointer = r.trim_start_matches(BASE).trim_start_matches('#');
                self.resolve(self.doc.pointer(pointer).unwrap_or(&Value::Null))
            }
            None => v,
        }
    }

    /// The operation object of `method` and a path template, if described.
    pub fn operation(&self, method: &str, template: &str) -> Option<&Value> {
        self.doc["paths"]
            .get(template)?
            .get(method.to_ascii_lowercase())
    }

    /// The path template of the description that a path matches, literal segments first.
    pub fn template_for(&self, method: &str, path: &str) -> Option<String> {
        let asked: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        self.doc["paths"]
            .as_object()?
            .iter()
            .filter(|(_, item)| item.get(method.to_ascii_lowercase()).is_some())
            .filter_map(|(t, _)| wire::template_score(t, &asked).map(|s| (s, t)))
            // Literal segments first; between equals (GitHub describes `compare/{basehead}`
            // and `compare/{base}...{head}` alike) the one Baton names.
            .max_by_key(|(s, t)| (*s, wire::OPERATIONS.iter().any(|o| o.path == *t)))
            .map(|(_, t)| t.clone())
    }

    fn validator(&self, key: &str, schema: &Value) -> Arc<Validator> {
        let mut cache = self.validators.lock().unwrap();
        if let Some(v) = cache.get(key) {
            return v.clone();
        }
        let v = Arc::new(
            jsonschema::options()
                .with_registry(&self.registry)
                .should_validate_formats(true)
                .build(schema)
                .unwrap_or_else(|e| panic!("{}: schema of {key}: {e}", self.name)),
        );
        cache.insert(key.to_string(), v.clone());
        v
    }

    fn validate(&self, key: &str, schema: &Value, value: &Value) -> Result<(), String> {
        let errors: Vec<String> = self
            .validator(key, schema)
            .iter_errors(value)
            .take(5)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors.join("; "))
        }
    }

    /// The parameters of an operation, `$ref`s followed.
    fn parameters<'a>(&'a self, op: &'a Value) -> Vec<&'a Value> {
        op["parameters"]
            .as_array()
            .map(|ps| ps.iter().map(|p| self.resolve(p)).collect())
            .unwrap_or_default()
    }

    /// The JSON schema of an answer with `status`, if the operation documents one; `Err` when
    /// the status is not documented.
    fn response_schema<'a>(&'a self, op: &'a Value, status: u16) -> Result<Option<&'a Value>, ()> {
        let responses = &op["responses"];
        let response = responses
            .get(status.to_string())
            .or_else(|| responses.get("default"))
            .map(|r| self.resolve(r));
        match response {
            Some(r) => Ok(r.pointer("/content/application~1json/schema")),
            None => Err(()),
        }
    }

    /// The documented examples of an operation's answer with `status`.
    pub fn response_examples(&self, op: &Value, status: u16) -> Vec<Value> {
        let Some(response) = op["responses"].get(status.to_string()) else {
            return Vec::new();
        };
        let response = self.resolve(response);
        let media = &response["content"]["application/json"];
        let mut out: Vec<Value> = media["examples"]
            .as_object()
            .map(|m| {
                m.values()
                    .map(|e| self.resolve(e)["value"].clone())
                    .collect()
            })
            .unwrap_or_default();
        if let Some(example) = media.get("example") {
            out.push(example.clone());
        }
        out
    }
}

/// One request and the answer it got, as the stand-in saw them (the path below the API prefix).
pub struct Exchange<'a> {
    /// `GET`, `POST`, …
    pub method: &'a str,
    /// The path below the API URL, without the query.
    pub path: &'a str,
    /// The query pairs.
    pub query: &'a [(String, String)],
    /// The request body.
    pub request_body: &'a [u8],
    /// The answer's status.
    pub status: u16,
    /// The answer's body, if JSON.
    pub response: Option<&'a Value>,
}

/// What GitHub answers on any operation whatever its description lists: its server errors,
/// rate limits (403 and 429, documented for the whole API), 401 for a bad token, 404 for a
/// repository the token cannot see, and 304 to a conditional request.
fn answered_anywhere(status: u16) -> bool {
    matches!(status, 304 | 401 | 403 | 404 | 429) || status >= 500
}

/// Every disagreement between an exchange and the description (empty when it agrees).
pub fn check(d: &Description, x: &Exchange) -> Vec<String> {
    let at = format!("{} {} ({})", x.method, x.path, d.name);
    let Some(template) = d.template_for(x.method, x.path) else {
        return vec![format!(
            "{at}: no operation of GitHub's REST description matches"
        )];
    };
    let mut out = Vec::new();
    match wire::operation_for(x.method, x.path) {
        Some(op) if op.path == template => {}
        other => out.push(format!(
            "{at}: the description reads it as {template}, baton::clients::wire::OPERATIONS as {:?}",
            other.map(|o| o.path)
        )),
    }
    let op = d.operation(x.method, &template).expect("matched");
    check_query(d, op, x, &at, &mut out);
    check_body(d, op, x, &template, &at, &mut out);
    check_answer(d, op, x, &template, &at, &mut out);
    out
}

fn check_query(d: &Description, op: &Value, x: &Exchange, at: &str, out: &mut Vec<String>) {
    let params = d.parameters(op);
    for (name, value) in x.query {
        let Some(p) = params
            .iter()
            .find(|p| p["in"] == "query" && p["name"] == **name)
        else {
            out.push(format!("{at}: query parameter {name:?} is not declared"));
            continue;
        };
        let schema = &p["schema"];
        let typed = match schema["type"].as_str() {
            Some("integer") | Some("number") => value
                .parse::<i64>()
                .map(Value::from)
                .unwrap_or(Value::String(value.clone())),
            Some("boolean") => value
                .parse::<bool>()
                .map(Value::from)
                .unwrap_or(Value::String(value.clone())),
            _ => Value::String(value.clone()),
        };
        let key = format!("query {} {name}", x.method);
        if let Err(e) = d.validate(&format!("{key} {}", x.path), schema, &typed) {
            out.push(format!("{at}: query parameter {name}={value:?}: {e}"));
        }
    }
}

fn check_body(
    d: &Description,
    op: &Value,
    x: &Exchange,
    template: &str,
    at: &str,
    out: &mut Vec<String>,
) {
    let declared = op.pointer("/requestBody/content/application~1json/schema");
    match (declared, x.request_body.is_empty()) {
        (None, true) => {}
        (None, false) => out.push(format!("{at}: sends a body the operation does not take")),
        (Some(_), true) => {
            if op.pointer("/requestBody/required") == Some(&Value::Bool(true)) {
                out.push(format!("{at}: the operation requires a body"));
            }
        }
        (Some(schema), false) => match serde_json::from_slice::<Value>(x.request_body) {
            Ok(body) => {
                let key = format!("request {} {template}", x.method);
                if let Err(e) = d.validate(&key, schema, &body) {
                    out.push(format!("{at}: request body: {e}"));
                }
                limits_in_prose(op, &body, at, out);
            }
            Err(e) => out.push(format!("{at}: request body is not JSON: {e}")),
        },
    }
}

/// Limits the description states only in words: `repository_dispatch`'s `client_payload` "must
/// be less than 64KB".
fn limits_in_prose(op: &Value, body: &Value, at: &str, out: &mut Vec<String>) {
    if op["operationId"] == "repos/create-dispatch-event" {
        let size = body
            .get("client_payload")
            .map_or(0, |p| serde_json::to_vec(p).map_or(0, |v| v.len()));
        if size >= 64 * 1024 {
            out.push(format!(
                "{at}: client_payload is {size} bytes; GitHub takes less than 64KB"
            ));
        }
    }
}

fn check_answer(
    d: &Description,
    op: &Value,
    x: &Exchange,
    template: &str,
    at: &str,
    out: &mut Vec<String>,
) {
    let schema = match d.response_schema(op, x.status) {
        Ok(schema) => schema,
        Err(()) if answered_anywhere(x.status) => {
            if x.status < 500 && x.status != 304 {
                error_body(d, x, at, out);
            }
            return;
        }
        Err(()) => {
            let documented: Vec<&String> = op["responses"]
                .as_object()
                .map(|m| m.keys().collect())
                .unwrap_or_default();
            out.push(format!(
                "{at}: answered {}, which the operation does not document ({documented:?})",
                x.status
            ));
            return;
        }
    };
    match (schema, x.response) {
        (Some(schema), Some(body)) => {
            let key = format!("response {} {template} {}", x.method, x.status);
            if let Err(e) = d.validate(&key, schema, body) {
                out.push(format!("{at}: answer {}: {e}", x.status));
            }
        }
        (Some(_), None) if x.status != 304 => {
            out.push(format!("{at}: answer {} has no JSON body", x.status))
        }
        _ => {}
    }
}

fn error_body(d: &Description, x: &Exchange, at: &str, out: &mut Vec<String>) {
    let Some(body) = x.response else {
        return;
    };
    let schema = json!({ "$ref": format!("{BASE}#/components/schemas/basic-error") });
    if let Err(e) = d.validate("basic-error", &schema, body) {
        out.push(format!("{at}: error answer {}: {e}", x.status));
    }
}

/// The first example answer GitHub documents for an operation (api.github.com), with the fields
/// its own schema requires and the example leaves out filled in ([`UPSTREAM_EXAMPLE_DEFECTS`]):
/// what the stand-in builds its answers from.
pub fn example(method: &str, template: &str, status: u16) -> Value {
    let d = description("api.github.com");
    let op = d
        .operation(method, template)
        .unwrap_or_else(|| panic!("{method} {template} is not described"));
    let mut example = d
        .response_examples(op, status)
        .into_iter()
        .next()
        .unwrap_or_else(|| panic!("{method} {template} {status} has no example"));
    repair(&mut example, "");
    example
}

/// Fills in what GitHub's examples leave out of their own schemas: a repository's `language`, a
/// team's `type` and `parent`, a commit file's `sha` and `contents_url`.
fn repair(v: &mut Value, key: &str) {
    match v {
        Value::Object(map) => {
            if map.contains_key("full_name") && map.contains_key("forks_count") {
                map.entry("language").or_insert(Value::Null);
            }
            if key == "requested_teams" {
                map.entry("type").or_insert(json!("organization"));
                map.entry("parent").or_insert(Value::Null);
            }
            if key == "files" && map.contains_key("filename") {
                map.entry("sha")
                    .or_insert(json!("bbcd538c8e72b8c175046e27cc8f907076331401"));
                let url = format!(
                    "https://api.github.com/repos/octocat/Hello-World/contents/{}",
                    map["filename"].as_str().unwrap_or("")
                );
                map.entry("contents_url").or_insert(json!(url));
            }
            for (k, child) in map.iter_mut() {
                repair(child, k);
            }
        }
        // Array items keep the key of the array they are in.
        Value::Array(items) => items.iter_mut().for_each(|i| repair(i, key)),
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------------
// The description against Baton's own list of operations and parsers.
// ---------------------------------------------------------------------------------------------

fn all_descriptions() -> Vec<&'static Description> {
    std::iter::once("api.github.com")
        .chain(GHES.iter().copied())
        .map(description)
        .collect()
}

#[test]
fn the_installed_contract_is_the_pinned_one() {
    let lock: Value = serde_json::from_str(
        &std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/contract/package-lock.json"),
        )
        .unwrap(),
    )
    .unwrap();
    for package in ["openapi", "webhooks-examples", "webhooks-schemas"] {
        let pinned = &lock["packages"][format!("node_modules/@octokit/{package}")]["version"];
        assert_eq!(
            pinned.as_str(),
            Some(contract_files::package_version(package).as_str()),
            "@octokit/{package}: run scripts/github-contract.sh"
        );
    }
}

#[test]
fn the_enterprise_releases_checked_are_those_the_pinned_package_describes() {
    let mut described: Vec<String> =
        std::fs::read_dir(contract_files::package_file("openapi", "generated"))
            .unwrap()
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter_map(|n| Some(n.strip_prefix("ghes-")?.strip_suffix(".json")?.to_string()))
            .filter(|n| !n.ends_with(".deref"))
            .collect();
    described.sort();
    assert_eq!(described, wire::GHES_CHECKED);
    let here: Vec<String> = GHES
        .iter()
        .map(|g| g.trim_start_matches("ghes-").to_string())
        .collect();
    assert_eq!(here, wire::GHES_CHECKED);
}

#[test]
fn every_operation_baton_sends_is_described_on_github_com_and_each_supported_ghes() {
    for d in all_descriptions() {
        for op in wire::OPERATIONS {
            let described = d.operation(op.method, op.path).unwrap_or_else(|| {
                panic!("{}: {} {} is not described", d.name, op.method, op.path)
            });
            assert!(
                described["responses"].get(op.success.to_string()).is_some(),
                "{}: {} {} does not document the {} Baton expects",
                d.name,
                op.method,
                op.path,
                op.success
            );
        }
    }
}

#[test]
fn batons_parsers_accept_the_descriptions_own_examples() {
    for d in all_descriptions() {
        for op in wire::OPERATIONS {
            let Answer::Json(parse) = op.answer else {
                continue;
            };
            let described = d.operation(op.method, op.path).expect("described");
            let examples = d.response_examples(described, op.success);
            assert!(
                !examples.is_empty(),
                "{}: {} {} has no example answer to parse",
                d.name,
                op.method,
                op.path
            );
            for example in examples {
                let bytes = serde_json::to_vec(&example).unwrap();
                parse(&bytes).unwrap_or_else(|e| {
                    panic!(
                        "{}: {} {}: Baton cannot read GitHub's example: {e}",
                        d.name, op.method, op.path
                    )
                });
            }
        }
    }
}

/// Where GitHub's own example answers disagree with GitHub's own schemas (in the pinned
/// description): the example commit lists files without the `sha` and `contents_url` its schema
/// requires; the example repository has no `language`; the example pull requests' teams have no
/// `type`. Baton reads none of these. The stand-in's fixtures carry the missing fields.
const UPSTREAM_EXAMPLE_DEFECTS: &[(&str, &str)] = &[
    (
        "/repos/{owner}/{repo}/commits/{ref}",
        "\"sha\" is a required property at /files/0",
    ),
    (
        "/repos/{owner}/{repo}",
        "\"language\" is a required property",
    ),
    (
        "/repos/{owner}/{repo}/pulls",
        "\"type\" is a required property at ",
    ),
    (
        "/repos/{owner}/{repo}/pulls/{pull_number}",
        "\"type\" is a required property at ",
    ),
    (
        "/repos/{owner}/{repo}/pulls/{pull_number}/requested_reviewers",
        "\"type\" is a required property at ",
    ),
];

#[test]
fn the_descriptions_examples_validate_against_their_own_schemas() {
    // The checker itself: an example GitHub documents must pass it, or the checker is wrong;
    // the few examples GitHub gets wrong are listed, and must still be wrong.
    let d = description("api.github.com");
    let mut seen_defects = Vec::new();
    let mut unknown = Vec::new();
    for op in wire::OPERATIONS {
        let described = d.operation(op.method, op.path).expect("described");
        for example in d.response_examples(described, op.success) {
            let path = op
                .path
                .replace("{owner}", "octocat")
                .replace("{repo}", "hello");
            let path = path
                .replace("{ref}", "main")
                .replace("{basehead}", "v1...v2")
                .replace("{pull_number}", "1")
                .replace("{issue_number}", "1");
            let problems = check(
                d,
                &Exchange {
                    method: op.method,
                    path: &path,
                    query: &[],
                    request_body: b"",
                    status: op.success,
                    response: Some(&example),
                },
            );
            for p in problems.iter().filter(|p| !p.contains("body")) {
                let known = UPSTREAM_EXAMPLE_DEFECTS
                    .iter()
                    .find(|(path, what)| *path == op.path && p.contains(what));
                match known {
                    Some(k) => seen_defects.push(k),
                    None => unknown.push(p.clone()),
                }
            }
        }
    }
    assert!(unknown.is_empty(), "{unknown:#?}");
    for defect in UPSTREAM_EXAMPLE_DEFECTS {
        assert!(
            seen_defects.contains(&defect),
            "no longer a defect: {defect:?}"
        );
    }
}

fn exchange<'a>(
    method: &'a str,
    path: &'a str,
    query: &'a [(String, String)],
    body: &'a [u8],
    status: u16,
    response: Option<&'a Value>,
) -> Exchange<'a> {
    Exchange {
        method,
        path,
        query,
        request_body: body,
        status,
        response,
    }
}

#[test]
fn the_checker_refuses_what_github_would_not_take_or_give() {
    let d = description("api.github.com");
    let q = |k: &str, v: &str| vec![(k.to_string(), v.to_string())];
    let refused = |x: Exchange| {
        let problems = check(d, &x);
        assert!(!problems.is_empty(), "{} {} passed", x.method, x.path);
        problems.join("\n")
    };
    // No such operation; one Baton does not list.
    assert!(
        refused(exchange("GET", "/repos/a/b/nonsense", &[], b"", 200, None))
            .contains("no operation")
    );
    assert!(
        refused(exchange(
            "GET",
            "/repos/a/b/branches",
            &[],
            b"",
            200,
            Some(&json!([]))
        ))
        .contains("OPERATIONS")
    );
    // A query parameter the operation does not declare, and one out of range.
    assert!(
        refused(exchange(
            "GET",
            "/repos/a/b/tags",
            &q("state", "open"),
            b"",
            200,
            Some(&json!([]))
        ))
        .contains("not declared")
    );
    assert!(
        refused(exchange(
            "GET",
            "/repos/a/b/tags",
            &q("per_page", "ten"),
            b"",
            200,
            Some(&json!([]))
        ))
        .contains("per_page")
    );
    // repository_dispatch: no event_type, 11 keys, 64 KB.
    let no_type = br#"{"client_payload":{}}"#;
    assert!(
        refused(exchange(
            "POST",
            "/repos/a/b/dispatches",
            &[],
            no_type,
            204,
            None
        ))
        .contains("event_type")
    );
    let keys: serde_json::Map<String, Value> =
        (0..11).map(|i| (format!("k{i}"), json!(i))).collect();
    let eleven = serde_json::to_vec(&json!({"event_type": "x", "client_payload": keys})).unwrap();
    assert!(
        refused(exchange(
            "POST",
            "/repos/a/b/dispatches",
            &[],
            &eleven,
            204,
            None
        ))
        .contains("client_payload")
    );
    let big = serde_json::to_vec(
        &json!({"event_type": "x", "client_payload": {"a": "x".repeat(70_000)}}),
    )
    .unwrap();
    assert!(
        refused(exchange(
            "POST",
            "/repos/a/b/dispatches",
            &[],
            &big,
            204,
            None
        ))
        .contains("64KB")
    );
    // An answer that is not what GitHub documents: a pull request without its number, a status
    // the operation never answers.
    let pr = json!({"html_url": "https://github.com/a/b/pull/1"});
    let create = br#"{"head":"x","base":"main","title":"t"}"#;
    assert!(
        refused(exchange(
            "POST",
            "/repos/a/b/pulls",
            &[],
            create,
            201,
            Some(&pr)
        ))
        .contains("answer 201")
    );
    assert!(
        refused(exchange(
            "POST",
            "/repos/a/b/dispatches",
            &[],
            br#"{"event_type":"x"}"#,
            200,
            None
        ))
        .contains("does not document")
    );
    // Rate limits and server errors are answered anywhere.
    let limited = json!({"message": "API rate limit exceeded", "documentation_url": "https://docs.github.com/rest"});
    assert!(
        check(
            d,
            &exchange("GET", "/repos/a/b/tags", &[], b"", 403, Some(&limited))
        )
        .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_enterprise_server_older_than_those_checked_is_named_when_an_operation_fails() {
    use crate::reliability::{one_unit, report_cmd, run};
    let gh = crate::fake_github::FakeGitHub::start("/api/v3").await;
    gh.state.lock().unwrap().enterprise_version = Some("3.14.5".into());
    // acme/old is not there: GitHub answers 404, which on an old server may mean the operation.
    let dir = one_unit("github.com/acme/old//x?ref=v1.0.0");
    let assert = run(report_cmd(dir.path(), &gh.api_url())).await.code(3);
    let err = crate::common::stderr_of(&assert);
    assert!(
        err.contains("GitHub Enterprise Server 3.14.5, older than 3.17"),
        "{err}"
    );

    // A release Baton is checked against: a 404 is only a 404.
    let gh = crate::fake_github::FakeGitHub::start("/api/v3").await;
    let assert = run(report_cmd(dir.path(), &gh.api_url())).await.code(3);
    let err = crate::common::stderr_of(&assert);
    assert!(err.contains("→ 404"), "{err}");
    assert!(!err.contains("Enterprise Server"), "{err}");
}
