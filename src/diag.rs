//! Problems met along the way (an unreadable file, a usage left alone, a module that cannot be
//! looked up) go to a [`Reporter`] the front end supplies, so that no stage prints: the command
//! line writes them as warnings, the action as annotations, and tests collect them.

use serde::Serialize;
use std::sync::Mutex;

/// One problem, anchored to a file when it concerns one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
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
