//! Which environment a step works on when its workflow does not say (Patcher's workflows name
//! none): read from the branch prefix (`patcherv2-dev-updates-`), else the working directory
//! (`dev`), else the include globs (`{*dev*}/**`), and only when exactly one environment fits,
//! so that a guess never picks between two.

use crate::app::config::{Config, KNOWN_ENVIRONMENTS};

/// An environment name and the rule that gave it, for the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Derived {
    /// The environment's name.
    pub name: String,
    /// Which rule decided, e.g. `the branch prefix "patcherv2-dev-updates-"`.
    pub rule: String,
}

/// What a step says about its environment, besides its name.
#[derive(Debug, Clone, Default)]
pub struct Clues<'a> {
    /// The branch prefix, or the branch with the dependency ID removed.
    pub branch_prefix: Option<&'a str>,
    /// The working directory.
    pub working_dir: Option<&'a str>,
    /// The include globs.
    pub include: &'a [String],
    /// The include pattern of the spec the step reads.
    pub spec_include: Option<&'a str>,
}

/// The environment names that can be recognised: the config's, else the usual ones.
pub fn candidates(config: Option<&Config>) -> Vec<String> {
    match config {
        Some(c) => c.names().into_iter().map(str::to_string).collect(),
        None => KNOWN_ENVIRONMENTS.iter().map(|s| s.to_string()).collect(),
    }
}

/// The words of a text: its runs of letters and digits.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect()
}

/// The one candidate among `words`, if exactly one occurs.
fn only_one(words: &[String], candidates: &[String]) -> Option<String> {
    let mut found: Vec<&String> = candidates
        .iter()
        .filter(|c| words.iter().any(|w| w == &c.to_ascii_lowercase()))
        .collect();
    found.dedup();
    match found.as_slice() {
        [one] => Some((*one).clone()),
        _ => None,
    }
}

/// Derives the environment from the clues, trying each rule in turn.
pub fn derive(clues: &Clues<'_>, config: Option<&Config>) -> Option<Derived> {
    let candidates = candidates(config);
    if let Some(prefix) = clues.branch_prefix.filter(|p| !p.is_empty()) {
        if let Some(c) = config {
            if let Some(env) = c
                .environments
                .iter()
                .find(|e| prefix.starts_with(&e.branch_prefix) || e.branch_prefix == prefix)
            {
                return Some(Derived {
                    name: env.name.clone(),
                    rule: format!("the branch prefix {prefix:?}"),
                });
            }
        }
        if let Some(name) = only_one(&words(prefix), &candidates) {
            return Some(Derived {
                name,
                rule: format!("the branch prefix {prefix:?}"),
            });
        }
    }
    if let Some(dir) = clues.working_dir {
        let parts: Vec<String> = std::path::Path::new(dir)
            .components()
            .filter_map(|c| c.as_os_str().to_str().map(str::to_ascii_lowercase))
            .collect();
        if let Some(name) = only_one(&parts, &candidates) {
            return Some(Derived {
                name,
                rule: format!("the working directory {dir:?}"),
            });
        }
    }
    let globs = crate::find::env::split_patterns(clues.include);
    if !globs.is_empty() {
        if let Some(c) = config {
            if let Some(env) = c
                .environments
                .iter()
                .find(|e| crate::find::env::split_patterns(&e.include) == globs)
            {
                return Some(Derived {
                    name: env.name.clone(),
                    rule: format!("the include globs {:?}", globs.join(",")),
                });
            }
        }
        if let Some(name) = only_one(&words(&globs.join(",")), &candidates) {
            return Some(Derived {
                name,
                rule: format!("the include globs {:?}", globs.join(",")),
            });
        }
    }
    if let Some(pattern) = clues.spec_include.filter(|p| !p.is_empty()) {
        if let Some(name) = only_one(&words(pattern), &candidates) {
            return Some(Derived {
                name,
                rule: format!("the spec's IncludeDirPattern {pattern:?}"),
            });
        }
    }
    None
}

/// The branch prefix of a branch named `<prefix><dependency>`.
pub fn prefix_of<'a>(branch: &'a str, dependency: Option<&str>) -> &'a str {
    match dependency.filter(|d| !d.is_empty()) {
        Some(dep) => branch.strip_suffix(dep).unwrap_or(branch),
        None => branch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(prefix: Option<&str>, dir: Option<&str>, include: &[&str]) -> Option<Derived> {
        let include: Vec<String> = include.iter().map(|s| s.to_string()).collect();
        derive(
            &Clues {
                branch_prefix: prefix,
                working_dir: dir,
                include: &include,
                spec_include: None,
            },
            None,
        )
    }

    #[test]
    fn each_rule_in_turn() {
        let d = with(Some("patcherv2-dev-updates-"), Some("./"), &[]).unwrap();
        assert_eq!(d.name, "dev");
        assert!(d.rule.contains("branch prefix"), "{d:?}");
        assert_eq!(
            with(Some("patcher-prod-updates-"), None, &[]).unwrap().name,
            "prod"
        );
        let d = with(None, Some("dev"), &[]).unwrap();
        assert_eq!(
            (d.name.as_str(), d.rule.contains("working directory")),
            ("dev", true)
        );
        let d = with(None, Some("./"), &["{*stage*}/**"]).unwrap();
        assert_eq!(
            (d.name.as_str(), d.rule.contains("include")),
            ("stage", true)
        );
        // The branch wins over the folders.
        assert_eq!(
            with(Some("x-stage-"), Some("dev"), &[]).unwrap().name,
            "stage"
        );
    }

    #[test]
    fn ambiguity_or_nothing_derives_nothing() {
        assert_eq!(with(Some("updates-"), Some("./"), &["{dev,prod}/**"]), None);
        assert_eq!(with(None, None, &["live/**"]), None);
        // "devops" is not "dev".
        assert_eq!(with(Some("devops-updates-"), None, &[]), None);
    }

    #[test]
    fn prefix_of_a_branch() {
        assert_eq!(
            prefix_of("patcherv2-dev-updates-acme/m/vpc", Some("acme/m/vpc")),
            "patcherv2-dev-updates-"
        );
        assert_eq!(prefix_of("feature", None), "feature");
    }
}
