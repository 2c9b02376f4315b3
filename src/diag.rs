//! Problems met along the way (an unreadable file, a usage left alone, a module that cannot be
//! looked up) go to a [`Reporter`] the front end supplies, so that no stage prints: the command
//! line writes them as warnings, the action as annotations, and tests collect them.

use serde::{Deserialize, Serialize};
use std::sync::Mutex;

/// One problem, anchored to a file when it concerns one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// The file, relative to the working directory; empty when the problem concerns no file.
    pub file: String,
    /// 1-based line.
    pub line: Option<usize>,
    /// 1-based column.
    pub column: Option<usize>,
    /// What is wrong and, where it helps, what to do.
    pub message: String,
}

impl Warning {
    /// A problem with a file.
    pub fn at(
        file: impl Into<String>,
        line: Option<usize>,
        column: Option<usize>,
        message: impl Into<String>,
    ) -> Self {
        Warning {
            file: file.into(),
            line,
            column,
            message: message.into(),
        }
    }

    /// A problem that concerns no single file.
    pub fn general(message: impl Into<String>) -> Self {
        Warning::at("", None, None, message)
    }
}

/// Where the stages send the problems they meet; the run goes on after each.
pub trait Reporter: Sync {
    /// Reports one problem.
    fn warn(&self, warning: Warning);

    /// A phase of the run begins (`scan`, `look up versions`, …): under Actions, a group of the
    /// log of its own. Nothing by default.
    fn phase(&self, _name: &str) {}
}

/// The candidate closest to `wanted`, for a "did you mean" hint: the one holding most of its
/// `/`-separated parts (`acme/vpc/vpc` is closest to `acme/terraform-aws-vpc/vpc`), then the
/// most similar text (ties to the first); `None` when there is no candidate.
pub fn closest<'a>(wanted: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let parts: Vec<&str> = wanted.split('/').filter(|p| !p.is_empty()).collect();
    let score = |c: &str| {
        let held = parts.iter().filter(|p| c.contains(*p)).count();
        (held, strsim::normalized_levenshtein(wanted, c))
    };
    let mut best: Option<(&'a str, (usize, f64))> = None;
    for c in candidates.into_iter().filter(|c| *c != wanted) {
        let s = score(c);
        if best.is_none_or(|(_, b)| s.0 > b.0 || (s.0 == b.0 && s.1 > b.1)) {
            best = Some((c, s));
        }
    }
    best.map(|(c, _)| c)
}

/// "no usage of X in WHERE", with "; did you mean Y?" when there is a closest ID.
pub fn no_usage_of<'a>(
    id: &str,
    place: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> String {
    match closest(id, candidates) {
        Some(near) => format!("no usage of {id} in {place}; did you mean {near}?"),
        None => format!("no usage of {id} in {place}"),
    }
}

/// A reporter that keeps every warning, for callers that render them later (and for tests).
#[derive(Debug, Default)]
pub struct Collected(Mutex<Vec<Warning>>);

impl Collected {
    /// The warnings reported so far.
    pub fn warnings(&self) -> Vec<Warning> {
        self.0.lock().map(|w| w.clone()).unwrap_or_default()
    }
}

impl Reporter for Collected {
    fn warn(&self, warning: Warning) {
        if let Ok(mut w) = self.0.lock() {
            w.push(warning);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_closest_id_is_suggested() {
        let ids = [
            "acme/terraform-aws-vpc/vpc",
            "acme/terraform-aws-eks/eks",
            "b/c",
        ];
        assert_eq!(
            closest("acme/vpc/vpc", ids),
            Some("acme/terraform-aws-vpc/vpc")
        );
        assert_eq!(
            no_usage_of("acme/vpc/vpc", "dev/**", ids),
            "no usage of acme/vpc/vpc in dev/**; did you mean acme/terraform-aws-vpc/vpc?"
        );
        assert_eq!(no_usage_of("x", "dev/**", []), "no usage of x in dev/**");
    }
}
