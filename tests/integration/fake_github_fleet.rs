//! What the stand-in serves for fleet status, beside what `fake_github.rs` serves: an
//! organisation's repositories (`GET /orgs/{org}/repos`, paged), a repository's archived, fork,
//! topics and empty settings, and the head of a branch (`GET /repos/{o}/{r}/git/ref/heads/…`),
//! read from the local git repository that serves its tarballs. Built from GitHub's own examples
//! and held against its description like every other answer.

use crate::fake_github::{FakeGitHub, Reply, Responder, State, fixture, not_found, rev};
use serde_json::{Value, json};
use std::collections::HashMap;
use wiremock::Request;

/// A repository's settings as organisations list them.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Archived.
    pub archived: bool,
    /// A fork.
    pub fork: bool,
    /// Its topics.
    pub topics: Vec<String>,
    /// Empty: size 0, no commit.
    pub empty: bool,
}

/// Organisations and the settings of their repositories.
#[derive(Debug, Clone, Default)]
pub struct FleetState {
    /// Organisation → repositories (`owner/name`), in the order they were added.
    pub orgs: HashMap<String, Vec<String>>,
    /// Settings by `owner/name`.
    pub settings: HashMap<String, Settings>,
}

impl FakeGitHub {
    /// Lists `full` among the repositories of its owner's organisation, with `settings`.
    pub fn add_to_org(&self, full: &str, settings: Settings) {
        let mut state = self.state.lock().unwrap();
        let org = full.split('/').next().unwrap().to_string();
        state
            .fleet_status
            .orgs
            .entry(org)
            .or_default()
            .push(full.to_string());
        state
            .fleet_status
            .settings
            .insert(full.to_string(), settings);
    }

    /// Adds an open pull request from `head` at commit `sha`, opened at `created_at`, with
    /// `labels`; returns its number.
    pub fn open_update_pull(
        &self,
        full: &str,
        head: &str,
        sha: &str,
        title: &str,
        created_at: &str,
        labels: &[&str],
    ) -> u64 {
        let number = self.open_pull(full, head, title);
        let mut state = self.state.lock().unwrap();
        let repo = state.repos.get_mut(full).unwrap();
        let pr = repo.pulls.last_mut().unwrap();
        pr["head"]["sha"] = json!(sha);
        pr["created_at"] = json!(created_at);
        pr["updated_at"] = json!(created_at);
        let label = fixture("issue-labels-add.json")[0].clone();
        pr["labels"] = json!(
            labels
                .iter()
                .map(|l| {
                    let mut one = label.clone();
                    one["name"] = json!(l);
                    one
                })
                .collect::<Vec<_>>()
        );
        number
    }

    /// Marks pull request `number` merged at `merged_at`.
    pub fn merge_pull(&self, full: &str, number: u64, merged_at: &str) {
        let mut state = self.state.lock().unwrap();
        let repo = state.repos.get_mut(full).unwrap();
        let pr = repo
            .pulls
            .iter_mut()
            .find(|p| p["number"] == number)
            .unwrap();
        pr["state"] = json!("closed");
        pr["merged_at"] = json!(merged_at);
        pr["closed_at"] = json!(merged_at);
    }
}

fn listed(full: &str, settings: &Settings, default_branch: &str) -> Value {
    let mut item = crate::contract::example("GET", "/orgs/{org}/repos", 200)[0].clone();
    let (owner, name) = full.split_once('/').unwrap();
    item["name"] = json!(name);
    item["full_name"] = json!(full);
    item["owner"]["login"] = json!(owner);
    item["archived"] = json!(settings.archived);
    item["fork"] = json!(settings.fork);
    item["topics"] = json!(settings.topics);
    item["default_branch"] = json!(default_branch);
    item["size"] = json!(if settings.empty { 0 } else { 108 });
    item
}

impl Responder {
    /// The answers of fleet status's operations; `None` for every other request.
    pub(crate) fn fleet_answer(
        &self,
        state: &mut State,
        req: &Request,
        path: &str,
    ) -> Option<Reply> {
        if req.method.as_str() != "GET" {
            return None;
        }
        let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
        match parts.as_slice() {
            ["orgs", org, "repos"] => {
                let names = state.fleet_status.orgs.get(*org).cloned()?;
                let items: Vec<Value> = names
                    .iter()
                    .map(|full| {
                        let settings = state
                            .fleet_status
                            .settings
                            .get(full)
                            .cloned()
                            .unwrap_or_default();
                        let branch = state
                            .repos
                            .get(full)
                            .map_or("main".to_string(), |r| r.default_branch.clone());
                        listed(full, &settings, &branch)
                    })
                    .collect();
                Some(self.page(req, path, items, state.max_page))
            }
            ["repos", owner, repo] => {
                let full = format!("{owner}/{repo}");
                let settings = state.fleet_status.settings.get(&full).cloned()?;
                let r = state.repos.get(&full)?;
                let mut body = fixture("repo-get.json");
                body["name"] = json!(repo);
                body["full_name"] = json!(full);
                body["default_branch"] = json!(r.default_branch);
                body["archived"] = json!(settings.archived);
                body["fork"] = json!(settings.fork);
                body["size"] = json!(if settings.empty { 0 } else { 108 });
                Some(Reply::new(200).set_body_json(body))
            }
            ["repos", owner, repo, "git", "ref", "heads", branch @ ..] => {
                let full = format!("{owner}/{repo}");
                let r = state.repos.get(&full)?;
                let Some(dir) = &r.git else {
                    return Some(Reply::new(409).set_body_json(json!({
                        "message": "Git Repository is empty.",
                        "documentation_url": "https://docs.github.com/rest/git/refs#get-a-reference"
                    })));
                };
                let branch = branch.join("/");
                let Some(sha) = rev(dir, &format!("refs/heads/{branch}")) else {
                    return Some(not_found());
                };
                let mut body =
                    crate::contract::example("GET", "/repos/{owner}/{repo}/git/ref/{ref}", 200);
                body["ref"] = json!(format!("refs/heads/{branch}"));
                body["object"]["sha"] = json!(sha);
                body["object"]["type"] = json!("commit");
                Some(Reply::new(200).set_body_json(body))
            }
            _ => None,
        }
    }
}
