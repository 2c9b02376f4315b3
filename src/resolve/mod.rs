//! Turns usages into dependencies with target versions: one version listing per module
//! repository (fetched concurrently), then pure planning that can be tested without a network;
//! [`impact`] then works out what breaking targets do to this environment.

pub mod address;
pub mod history;
pub mod history_index;
pub mod impact;
pub mod landed;

use crate::clients::git::Git;
use crate::clients::github::GitHub;
use crate::clients::registry::RegistryClient;
use crate::find::scan::{ScanReport, Usage};
use crate::find::source::Source;
use crate::version::{self, Constraint, Targets, Version};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::Semaphore;

/// Lookups in flight at once.
pub const CONCURRENCY: usize = 16;

/// Where the versions of a module are listed: the unit of "one lookup per repository".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Lookup {
    /// github.com, through the REST API.
    GitHub {
        /// Owner.
        owner: String,
        /// Repository.
        repo: String,
    },
    /// Any other git host, through `git ls-remote`.
    Git {
        /// Clone URL.
        url: String,
    },
    /// A module registry.
    Registry {
        /// Host.
        host: String,
        /// Namespace.
        namespace: String,
        /// Name.
        name: String,
        /// Provider.
        provider: String,
    },
}

impl Lookup {
    /// The lookup for a source, or `None` for sources without versions.
    pub fn of(source: &Source) -> Option<Lookup> {
        match source {
            Source::Git(g) if g.host == "github.com" => Some(Lookup::GitHub {
                owner: g.owner.clone(),
                repo: g.repo.clone(),
            }),
            Source::Git(g) => Some(Lookup::Git {
                url: g.clone_url.clone(),
            }),
            Source::Registry(r) => Some(Lookup::Registry {
                host: r.host.clone(),
                namespace: r.namespace.clone(),
                name: r.name.clone(),
                provider: r.provider.clone(),
            }),
            _ => None,
        }
    }

    /// A short description for messages.
    pub fn describe(&self) -> String {
        match self {
            Lookup::GitHub { owner, repo } => format!("github.com/{owner}/{repo}"),
            Lookup::Git { url } => url.clone(),
            Lookup::Registry {
                host,
                namespace,
                name,
                provider,
            } => format!("{host}/{namespace}/{name}/{provider}"),
        }
    }

    /// `"github"`, `"git"` or `"registry"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Lookup::GitHub { .. } => "github",
            Lookup::Git { .. } => "git",
            Lookup::Registry { .. } => "registry",
        }
    }
}

/// Tag names (git) or version strings (registry) per lookup, or the error of that lookup.
pub type Listings = BTreeMap<Lookup, Result<Vec<String>, String>>;

/// The clients lookups use.
pub struct Clients {
    /// github.com.
    pub github: GitHub,
    /// Module registries.
    pub registry: RegistryClient,
    /// Directory to run `git ls-remote` in.
    pub git_dir: PathBuf,
}

impl Clients {
    async fn list(self: &Arc<Self>, lookup: &Lookup) -> Result<Vec<String>, String> {
        match lookup {
            Lookup::GitHub { owner, repo } => self
                .github
                .tags(owner, repo)
                .await
                .map_err(|e| format!("{e}")),
            Lookup::Git { url } => {
                let git = Git::new(self.git_dir.clone());
                let url = url.clone();
                tokio::task::spawn_blocking(move || git.ls_remote_tags(&url))
                    .await
                    .map_err(|e| format!("git ls-remote did not finish: {e}"))?
                    .map_err(|e| {
                        format!("{}. Check the URL and that git can reach it (credentials, url.<base>.insteadOf)", e.to_string().trim_end().trim_end_matches('.'))
                    })
            }
            Lookup::Registry {
                host,
                namespace,
                name,
                provider,
            } => self
                .registry
                .versions(host, namespace, name, provider)
                .await
                .map_err(|e| format!("{e}")),
        }
    }
}

/// Lists versions for each lookup once, at most [`CONCURRENCY`] at a time.
pub async fn fetch_all(clients: Arc<Clients>, lookups: BTreeSet<Lookup>) -> Listings {
    let permits = Arc::new(Semaphore::new(CONCURRENCY));
    let mut tasks = tokio::task::JoinSet::new();
    for lookup in lookups {
        let clients = clients.clone();
        let permits = permits.clone();
        tasks.spawn(async move {
            let _permit = permits.acquire_owned().await;
            let result = clients.list(&lookup).await;
            (lookup, result)
        });
    }
    let mut out = Listings::new();
    // A line every few seconds while lookups run, so a long run shows it is alive.
    let total = tasks.len();
    let mut done = 0usize;
    let mut tick = tokio::time::interval(PROGRESS_EVERY);
    tick.tick().await;
    loop {
        tokio::select! {
            joined = tasks.join_next() => {
                let Some(joined) = joined else { break };
                done += 1;
                if let Ok((lookup, result)) = joined {
                    out.insert(lookup, result);
                }
            }
            _ = tick.tick() => {
                log::info!("checked {done} of {total} module repositories");
            }
        }
    }
    out
}

/// How often a line of progress is logged while version lookups run.
pub const PROGRESS_EVERY: std::time::Duration = std::time::Duration::from_secs(3);

/// The lookups needed for the managed usages of a scan, optionally for one dependency only.
pub fn lookups_for(report: &ScanReport, only: Option<&str>) -> BTreeSet<Lookup> {
    managed(report, only)
        .filter_map(|u| u.address.as_ref().and_then(Lookup::of))
        .collect()
}

fn managed<'a>(report: &'a ScanReport, only: Option<&'a str>) -> impl Iterator<Item = &'a Usage> {
    report.usages.iter().filter(move |u| {
        u.skipped.is_none()
            && u.dependency.is_some()
            && only.is_none_or(|id| u.dependency.as_deref() == Some(id))
    })
}

/// One usage of a dependency, as the spec lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct UsageRef {
    /// File relative to the working directory.
    pub file: String,
    /// Line of the version.
    pub line: usize,
    /// The version as written.
    pub current: String,
}

/// A dependency of the environment and its targets.
#[derive(Debug, Clone)]
pub struct Dependency {
    /// The ID (`org/repo/module`).
    pub id: String,
    /// Org (owner or namespace; host-prefixed off github.com and the public registry).
    pub org: String,
    /// Repository (or registry module name).
    pub repo: String,
    /// Module path (or registry provider plus `//subdir`); empty when none.
    pub module: String,
    /// Where its versions come from.
    pub lookup: Lookup,
    /// Its managed usages.
    pub usages: Vec<UsageRef>,
    /// The versions in use, lowest first (as resolved: a range resolves to what it would install).
    pub current: Vec<Version>,
    /// Targets, computed from the lowest version in use.
    pub targets: Targets,
    /// The newest release available.
    pub latest: Option<Version>,
    /// Tag (or version string) as published, per version.
    pub tags: BTreeMap<Version, String>,
    /// Why targets could not be computed.
    pub error: Option<String>,
    /// What the breaking target does to this environment ([`impact::assess`]).
    pub impact: Option<impact::Impact>,
}

impl Dependency {
    /// Whether there is anything to update to.
    pub fn has_update(&self) -> bool {
        self.error.is_none() && (self.targets.safe.is_some() || self.targets.breaking.is_some())
    }

    /// A release-notes page for a version, when the module lives on github.com.
    pub fn release_url(&self, v: &Version) -> Option<String> {
        match &self.lookup {
            Lookup::GitHub { owner, repo } => {
                let tag = self.tags.get(v)?;
                Some(format!(
                    "https://github.com/{owner}/{repo}/releases/tag/{tag}"
                ))
            }
            _ => None,
        }
    }
}

/// Groups the managed usages into dependencies and computes their targets from the listings.
pub fn plan(report: &ScanReport, listings: &Listings, only: Option<&str>) -> Vec<Dependency> {
    let mut groups: BTreeMap<&str, Vec<&Usage>> = BTreeMap::new();
    for u in managed(report, only) {
        if let Some(id) = u.dependency.as_deref() {
            groups.entry(id).or_default().push(u);
        }
    }
    groups
        .into_iter()
        .filter_map(|(id, usages)| {
            let source = usages.first()?.address.as_ref()?;
            let lookup = Lookup::of(source)?;
            Some(plan_one(id, source, lookup, &usages, listings))
        })
        .collect()
}

/// The module a git dependency's tags name, for repositories that hold several modules and tag
/// each (`vpc-v1.2.0`): the prefix of a tag in use, else the source's subdirectory. Only tags
/// naming it count as the dependency's (see [`version::module_versions`]).
pub fn tag_module(usages: &[&Usage], subdir: Option<&str>) -> Option<String> {
    usages
        .iter()
        .filter_map(|u| u.current.as_deref())
        .find_map(|c| version::split_tag(c).and_then(|(p, _)| p.map(str::to_string)))
        .or_else(|| subdir.map(str::to_string))
}

/// Patcher's `Org`, `Repo` and `Module` of a dependency.
pub fn names(source: &Source, id: &str) -> (String, String, String) {
    match source {
        Source::Git(g) => {
            let org = if g.host.is_empty() || g.host == "github.com" {
                g.owner.clone()
            } else {
                format!("{}/{}", g.host, g.owner)
            };
            (org, g.repo.clone(), g.module().unwrap_or_default())
        }
        Source::Registry(r) => {
            let org = if r.host == crate::find::source::PUBLIC_REGISTRY {
                r.namespace.clone()
            } else {
                format!("{}/{}", r.host, r.namespace)
            };
            let module = match &r.subdir {
                Some(sub) => format!("{}//{sub}", r.provider),
                None => r.provider.clone(),
            };
            (org, r.name.clone(), module)
        }
        _ => (id.to_string(), String::new(), String::new()),
    }
}

fn plan_one(
    id: &str,
    source: &Source,
    lookup: Lookup,
    usages: &[&Usage],
    listings: &Listings,
) -> Dependency {
    let (org, repo, module) = names(source, id);
    let mut dep = Dependency {
        id: id.to_string(),
        org,
        repo,
        module,
        lookup: lookup.clone(),
        usages: usages
            .iter()
            .map(|u| UsageRef {
                file: u.version_file().to_string(),
                line: u.version_line(),
                current: u.current.clone().unwrap_or_default(),
            })
            .collect(),
        current: Vec::new(),
        targets: Targets {
            safe: None,
            breaking: None,
        },
        latest: None,
        tags: BTreeMap::new(),
        error: None,
        impact: None,
    };
    let listing = match listings.get(&lookup) {
        Some(Ok(l)) => l,
        Some(Err(e)) => {
            dep.error = Some(e.clone());
            return dep;
        }
        None => {
            dep.error = Some(format!(
                "versions of {} were not looked up",
                lookup.describe()
            ));
            return dep;
        }
    };
    let is_registry_attr = matches!(source, Source::Registry(r) if r.query_version.is_none());
    let available: Vec<(Version, String)> = match source {
        Source::Registry(_) => listing
            .iter()
            .filter_map(|s| version::parse_version(s).map(|v| (v, s.clone())))
            .collect(),
        Source::Git(g) => {
            let module = tag_module(usages, g.subdir.as_deref());
            version::module_versions(listing, module.as_deref())
                .into_iter()
                .map(|(v, tag)| (v, tag.to_string()))
                .collect()
        }
        _ => Vec::new(),
    };
    let mut versions: Vec<Version> = available.iter().map(|(v, _)| v.clone()).collect();
    versions.sort();
    versions.dedup();
    dep.tags = available.into_iter().collect();
    dep.latest = versions.iter().filter(|v| v.pre.is_empty()).max().cloned();

    let mut current = BTreeSet::new();
    for u in usages {
        let Some(written) = u.current.as_deref() else {
            continue;
        };
        let resolved = if is_registry_attr {
            match Constraint::parse(written) {
                Ok(c) => match c.resolve(&versions) {
                    Some(v) => Some(v.clone()),
                    None => {
                        dep.error = Some(format!(
                            "version constraint \"{written}\" in {}:{} matches none of the {} published versions",
                            u.version_file(),
                            u.version_line(),
                            versions.len()
                        ));
                        return dep;
                    }
                },
                Err(e) => {
                    dep.error = Some(e.to_string());
                    return dep;
                }
            }
        } else {
            version::split_tag(written)
                .map(|(_, v)| v)
                .or_else(|| version::parse_version(written))
        };
        if let Some(v) = resolved {
            current.insert(v);
        }
    }
    dep.current = current.into_iter().collect();
    match dep.current.first() {
        Some(lowest) => dep.targets = version::compute_targets(lowest, &versions),
        None => dep.error = Some("no usage has a version Baton can read".into()),
    }
    dep
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::find::scan::fixtures::{report, usage};

    fn tags(list: &[&str]) -> Result<Vec<String>, String> {
        Ok(list.iter().map(|s| s.to_string()).collect())
    }

    const RELEASES: &[&str] = &[
        "v0.61.0",
        "v0.61.1",
        "v0.62.0",
        "v0.62.3",
        "v0.65.0",
        "v0.65.6",
        "v1.0.0",
        "v1.4.2",
        "v2.0.0",
        "not-a-version",
    ];

    fn one(current: &str) -> Dependency {
        let src = format!("git::https://github.com/acme/mods.git//modules/x?ref={current}");
        let r = report(vec![usage("dev/a.hcl", &src, current)]);
        let lookup = Lookup::GitHub {
            owner: "acme".into(),
            repo: "mods".into(),
        };
        let listings = Listings::from([(lookup, tags(RELEASES))]);
        plan(&r, &listings, None).remove(0)
    }

    fn v(s: &str) -> Option<Version> {
        Some(Version::parse(s).unwrap())
    }

    #[test]
    fn strategies_from_the_reference_release_list() {
        let d = one("v0.61.0");
        assert_eq!(
            (d.targets.safe, d.targets.breaking),
            (v("0.61.1"), v("0.62.0"))
        );
        let d = one("v0.65.6");
        assert_eq!((d.targets.safe, d.targets.breaking), (None, v("1.0.0")));
        let d = one("v1.0.0");
        assert_eq!(
            (d.targets.safe.clone(), d.targets.breaking.clone()),
            (v("1.4.2"), v("2.0.0"))
        );
        assert_eq!(d.id, "acme/mods/x");
        assert_eq!(
            (d.org.as_str(), d.repo.as_str(), d.module.as_str()),
            ("acme", "mods", "x")
        );
        assert_eq!(
            d.release_url(&Version::parse("2.0.0").unwrap()).as_deref(),
            Some("https://github.com/acme/mods/releases/tag/v2.0.0")
        );
    }

    #[test]
    fn mixed_versions_use_the_lowest() {
        let a = "git::https://github.com/acme/mods.git//modules/x?ref=v1.0.0";
        let b = "git::https://github.com/acme/mods.git//modules/x?ref=v0.65.6";
        let r = report(vec![
            usage("dev/a.hcl", a, "v1.0.0"),
            usage("dev/b.hcl", b, "v0.65.6"),
        ]);
        let listings = Listings::from([(
            Lookup::GitHub {
                owner: "acme".into(),
                repo: "mods".into(),
            },
            tags(RELEASES),
        )]);
        let d = plan(&r, &listings, None).remove(0);
        assert_eq!(
            d.current,
            vec![Version::new(0, 65, 6), Version::new(1, 0, 0)]
        );
        assert_eq!(d.targets.breaking, v("1.0.0"));
        assert_eq!(d.usages.len(), 2);
    }

    #[test]
    fn lookup_errors_stay_with_their_dependency() {
        let r = report(vec![
            usage("dev/a.hcl", "github.com/acme/gone//x?ref=v1.0.0", "v1.0.0"),
            usage("dev/b.hcl", "github.com/acme/ok//x?ref=v1.0.0", "v1.0.0"),
        ]);
        let listings = Listings::from([
            (
                Lookup::GitHub {
                    owner: "acme".into(),
                    repo: "gone".into(),
                },
                Err("404".to_string()),
            ),
            (
                Lookup::GitHub {
                    owner: "acme".into(),
                    repo: "ok".into(),
                },
                tags(&["v1.0.0", "v1.1.0"]),
            ),
        ]);
        let deps = plan(&r, &listings, None);
        assert_eq!(deps[0].error.as_deref(), Some("404"));
        assert!(!deps[0].has_update());
        assert_eq!(deps[1].targets.safe, v("1.1.0"));
    }

    #[test]
    fn registry_ranges_resolve_to_what_terraform_installs() {
        let src = "terraform-aws-modules/vpc/aws";
        let r = report(vec![usage("dev/main.tf", src, "~> 3.0")]);
        let listings = Listings::from([(
            Lookup::Registry {
                host: "registry.terraform.io".into(),
                namespace: "terraform-aws-modules".into(),
                name: "vpc".into(),
                provider: "aws".into(),
            },
            tags(&["3.0.0", "3.19.0", "4.0.0", "5.1.2"]),
        )]);
        let d = plan(&r, &listings, None).remove(0);
        assert_eq!(d.current, vec![Version::new(3, 19, 0)]);
        assert_eq!((d.targets.safe, d.targets.breaking), (None, v("4.0.0")));
        assert_eq!(
            (d.org.as_str(), d.repo.as_str(), d.module.as_str()),
            ("terraform-aws-modules", "vpc", "aws")
        );
    }

    #[test]
    fn registry_constraint_matching_nothing_is_an_error() {
        let r = report(vec![usage("dev/main.tf", "acme/x/aws", "> 9.0")]);
        let listings = Listings::from([(
            Lookup::Registry {
                host: "registry.terraform.io".into(),
                namespace: "acme".into(),
                name: "x".into(),
                provider: "aws".into(),
            },
            tags(&["1.0.0"]),
        )]);
        let d = plan(&r, &listings, None).remove(0);
        assert!(
            d.error.as_deref().unwrap().contains("matches none"),
            "{:?}",
            d.error
        );
    }

    #[test]
    fn module_prefixed_tags_follow_their_module() {
        let src = "git::https://github.com/acme/mono.git//modules/vpc?ref=vpc-v1.0.0";
        let r = report(vec![usage("dev/a.hcl", src, "vpc-v1.0.0")]);
        let listings = Listings::from([(
            Lookup::GitHub {
                owner: "acme".into(),
                repo: "mono".into(),
            },
            tags(&["vpc-v1.0.0", "vpc-v1.2.0", "eks-v3.0.0", "v9.0.0"]),
        )]);
        let d = plan(&r, &listings, None).remove(0);
        assert_eq!(d.targets.safe, v("1.2.0"));
        assert_eq!(d.targets.breaking, None);
    }

    #[test]
    fn one_lookup_per_repository_and_only_the_named_dependency() {
        let r = report(vec![
            usage("a.hcl", "github.com/acme/m//x?ref=v1.0.0", "v1.0.0"),
            usage("b.hcl", "github.com/acme/m//y?ref=v1.0.0", "v1.0.0"),
            usage(
                "c.hcl",
                "git::https://gitlab.com/g/r.git?ref=v1.0.0",
                "v1.0.0",
            ),
        ]);
        assert_eq!(lookups_for(&r, None).len(), 2);
        let only = lookups_for(&r, Some("gitlab.com/g/r"));
        assert_eq!(
            only.into_iter().collect::<Vec<_>>(),
            vec![Lookup::Git {
                url: "https://gitlab.com/g/r.git".into()
            }]
        );
    }
}
