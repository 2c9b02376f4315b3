//! Everything Baton prints goes out through here. Under GitHub Actions the runner reads every
//! line of a step's stdout and stderr for workflow commands (`::name …::` at the start of a line,
//! after any whitespace; `##[name …]` anywhere in it), and much of what Baton prints is text from
//! repositories, tags and registries. So results and messages are printed so that no line of
//! theirs can be read as a command, and the only commands issued are the ones Baton means:
//!
//! - JSON stays valid JSON with the same values: its lines begin with Baton's own punctuation
//!   and its strings escape line breaks, so only a `[` after `##` needs writing as `\u005b`;
//! - other results (diffs, tables) go between `::stop-commands::<token>` and `::<token>::`, with
//!   a fresh token from the operating system's random source, which no text can guess;
//! - messages (log records, warnings, errors) are escaped line by line: control characters are
//!   shown as escapes, every line starts with Baton's prefix or is a command's escaped data, and
//!   `##[` is broken by a zero-width space.
//!
//! Off Actions results are printed unchanged and only control characters are escaped in
//! messages, so that a file name cannot rewrite the terminal.

use crate::diag::Warning;
use crate::output;
use std::fmt::Write as _;
use std::io::{self, Write};

/// How Baton prints: for the Actions runner or for a terminal or pipe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Console {
    actions: bool,
}

impl Console {
    /// Printing for the runner when `actions`, else plainly.
    pub fn new(actions: bool) -> Self {
        Console { actions }
    }

    /// Printing for the environment the process runs in (`GITHUB_ACTIONS=true`: the runner).
    pub fn detect() -> Self {
        Console::new(output::under_actions())
    }

    /// Printing results on stdout: for the runner, unless stdout is a regular file (a redirect
    /// such as `> plan.diff` or `>> "$GITHUB_STEP_SUMMARY"`, which the runner never reads and
    /// which should hold the results unframed).
    pub fn for_stdout() -> Self {
        Console::new(output::under_actions() && !stdout_is_a_file())
    }

    /// Whether the runner reads this output.
    pub fn under_actions(&self) -> bool {
        self.actions
    }

    /// A writer for JSON results over `out`: under Actions every `[` that follows `##` is written
    /// `\u005b` (the same JSON value); otherwise the bytes pass unchanged.
    pub fn json<W: Write>(&self, out: W) -> JsonOut<W> {
        JsonOut {
            inner: out,
            hashes: 0,
            active: self.actions,
        }
    }

    /// Writes JSON results (and a line break after them, unless they end with one).
    pub fn write_json(&self, out: &mut dyn Write, json: &str) -> io::Result<()> {
        let mut guarded = self.json(&mut *out);
        guarded.write_all(json.as_bytes())?;
        if !json.ends_with('\n') {
            guarded.write_all(b"\n")?;
        }
        guarded.flush()
    }

    /// Writes results whose lines may hold anybody's text (a diff, a table): under Actions
    /// between `::stop-commands::<token>` and `::<token>::`, so the runner acts on none of them.
    pub fn write_text(&self, out: &mut dyn Write, text: &str) -> io::Result<()> {
        if !self.actions || text.is_empty() {
            return out.write_all(text.as_bytes());
        }
        let token = stop_token(text);
        let mut block = String::with_capacity(text.len() + 2 * token.len() + 24);
        let _ = writeln!(block, "::stop-commands::{token}");
        block.push_str(text);
        if !text.ends_with('\n') {
            block.push('\n');
        }
        let _ = writeln!(block, "::{token}::");
        out.write_all(block.as_bytes())?;
        out.flush()
    }

    /// The lines that mask a secret in the log, before anything else is printed: one
    /// `::add-mask::` per line of it, because the runner masks what is printed line by line (a
    /// secret holding a line break, masked whole, would show in pieces). Empty off Actions.
    pub fn mask(&self, secret: &str) -> String {
        if !self.actions {
            return String::new();
        }
        let mut out = String::new();
        for line in secret.split(['\r', '\n']).filter(|l| !l.trim().is_empty()) {
            // Only `%` needs escaping in a line: the runner masks the value it unescapes.
            let _ = writeln!(out, "::add-mask::{}", line.replace('%', "%25"));
        }
        out
    }

    /// The line opening a collapsible group in the log (nothing off Actions).
    pub fn group(&self, title: &str) -> String {
        if self.actions {
            format!("::group::{}\n", output::escape_data(title))
        } else {
            String::new()
        }
    }

    /// The line closing the group (nothing off Actions).
    pub fn end_group(&self) -> String {
        if self.actions {
            "::endgroup::\n".to_string()
        } else {
            String::new()
        }
    }

    /// A warning about a file as printed: a `::warning file=…` annotation under Actions, a
    /// `warning: file:line:col: message` line elsewhere. A warning that concerns no file is a log
    /// record (see [`Console::message`]).
    pub fn warning(&self, w: &Warning) -> String {
        let mut line = output::file_warning(self.actions, &w.file, w.line, w.column, &w.message);
        line.push('\n');
        line
    }

    /// The error a run ends with: a `::error::` annotation under Actions, `error: …` elsewhere.
    pub fn error(&self, message: &str) -> String {
        if self.actions {
            format!("::error::{}\n", output::escape_data(message))
        } else {
            format!("error: {}\n", output::escape_controls(message, true))
        }
    }

    /// A message for people as printed after `prefix` (a log record's `[WARN ] `). Control
    /// characters other than line feeds show as escapes; under Actions every line of the
    /// message carries the prefix, so none can begin a command, and `##[` is broken.
    pub fn message(&self, prefix: &str, text: &str) -> String {
        let mut out = String::with_capacity(prefix.len() + text.len() + 1);
        if !self.actions {
            out.push_str(prefix);
            out.push_str(&output::escape_controls(text, true));
            out.push('\n');
            return out;
        }
        let prefix = if prefix.trim().is_empty() {
            "| "
        } else {
            prefix
        };
        for line in text.split('\n') {
            let line = line.strip_suffix('\r').unwrap_or(line);
            out.push_str(prefix);
            out.push_str(&output::break_legacy_commands(&output::escape_controls(
                line, false,
            )));
            out.push('\n');
        }
        out
    }
}

/// Whether stdout is a regular file.
fn stdout_is_a_file() -> bool {
    #[cfg(unix)]
    {
        use std::os::fd::AsFd as _;
        std::io::stdout()
            .as_fd()
            .try_clone_to_owned()
            .map(std::fs::File::from)
            .and_then(|f| f.metadata())
            .is_ok_and(|m| m.is_file())
    }
    #[cfg(not(unix))]
    {
        false
    }
}

/// JSON on its way out; see [`Console::json`].
pub struct JsonOut<W: Write> {
    inner: W,
    /// How many `#` were written last (at most 2).
    hashes: u8,
    active: bool,
}

impl<W: Write> Write for JsonOut<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.active {
            return self.inner.write(buf);
        }
        let mut start = 0;
        for (i, &b) in buf.iter().enumerate() {
            // `##` only occurs inside a JSON string, where `\u005b` is the same `[`.
            if b == b'[' && self.hashes == 2 {
                self.inner.write_all(&buf[start..i])?;
                self.inner.write_all(b"\\u005b")?;
                start = i + 1;
            }
            self.hashes = if b == b'#' {
                (self.hashes + 1).min(2)
            } else {
                0
            };
        }
        self.inner.write_all(&buf[start..])?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A token for `::stop-commands::` that does not occur in `text`: 128 bits from the operating
/// system's random source, as lowercase hex.
pub fn stop_token(text: &str) -> String {
    loop {
        let token = random_hex();
        if !text.contains(&token) {
            return token;
        }
    }
}

/// 32 lowercase hex digits from the operating system's random source (or, should that fail,
/// from the randomly keyed hasher the standard library seeds from it).
pub fn random_hex() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        use std::hash::{BuildHasher as _, Hasher as _};
        for chunk in bytes.chunks_mut(8) {
            let mut h = std::collections::hash_map::RandomState::new().build_hasher();
            h.write_u128(
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            chunk.copy_from_slice(&h.finish().to_le_bytes());
        }
    }
    bytes.iter().fold(String::with_capacity(32), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json_of(console: Console, json: &str) -> String {
        let mut out = Vec::new();
        console.write_json(&mut out, json).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn json_keeps_its_value_and_loses_every_double_hash_bracket() {
        let value =
            serde_json::json!({"file": "dev/##[set-output name=x;]y###[z/a.hcl", "#": "#["});
        let text = serde_json::to_string_pretty(&value).unwrap();
        let printed = json_of(Console::new(true), &text);
        assert!(!printed.contains("##["), "{printed}");
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&printed).unwrap(),
            value
        );
        assert_eq!(json_of(Console::new(false), &text), format!("{text}\n"));
    }

    #[test]
    fn json_split_across_writes_is_guarded_too() {
        let mut out = Vec::new();
        {
            let mut w = Console::new(true).json(&mut out);
            w.write_all(b"\"a#").unwrap();
            w.write_all(b"#").unwrap();
            w.write_all(b"[b\"").unwrap();
        }
        assert_eq!(String::from_utf8(out).unwrap(), "\"a##\\u005bb\"");
    }

    #[test]
    fn text_is_wrapped_between_a_fresh_stop_token_and_its_resume() {
        let mut out = Vec::new();
        Console::new(true)
            .write_text(&mut out, " ::set-output name=a::b\n")
            .unwrap();
        let out = String::from_utf8(out).unwrap();
        let lines: Vec<&str> = out.lines().collect();
        let token = lines[0].strip_prefix("::stop-commands::").unwrap();
        assert_eq!(token.len(), 32);
        assert!(token.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(lines[1], " ::set-output name=a::b");
        assert_eq!(lines[2], format!("::{token}::"));
        let mut plain = Vec::new();
        Console::new(false).write_text(&mut plain, "x").unwrap();
        assert_eq!(plain, b"x");
        assert_ne!(random_hex(), random_hex());
    }

    #[test]
    fn a_secret_is_masked_line_by_line() {
        assert_eq!(
            Console::new(true).mask("first\nsecond\r\n"),
            "::add-mask::first\n::add-mask::second\n"
        );
        assert_eq!(Console::new(false).mask("x"), "");
        assert_eq!(Console::new(true).mask("a%0Ab"), "::add-mask::a%250Ab\n");
    }

    #[test]
    fn messages_carry_the_prefix_on_every_line_under_actions() {
        let console = Console::new(true);
        assert_eq!(
            console.message(
                "[WARN ] ",
                "a\r\n::set-output name=x::y\r##[error]z\u{1b}[2K"
            ),
            "[WARN ] a\n[WARN ] ::set-output name=x::y\\r#\u{200b}#[error]z\\u{1b}[2K\n"
        );
        assert_eq!(
            Console::new(false).message("error: ", "a\r\nb\u{7}"),
            "error: a\\r\nb\\u{7}\n"
        );
    }
}
