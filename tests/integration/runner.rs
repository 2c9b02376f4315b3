//! How the GitHub Actions runner reads a step's output: which lines it takes for workflow
//! commands. A port of the runner's own matching (`ActionCommand.TryParseV2` and `TryParse`,
//! `ActionCommandManager.TryProcessCommand` in actions/runner), so tests can tell exactly which
//! commands a run of Baton would issue.

use std::collections::BTreeMap;

/// The commands the runner registers (`stop-commands` is handled apart).
pub const REGISTERED: &[&str] = &[
    "set-env",
    "set-output",
    "save-state",
    "add-mask",
    "add-path",
    "add-matcher",
    "remove-matcher",
    "debug",
    "warning",
    "error",
    "notice",
    "group",
    "endgroup",
    "echo",
];

const STOP: &str = "stop-commands";

/// Which syntax a command was written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    /// `::name props::data` at the start of a line (after whitespace).
    Colons,
    /// `##[name props]data` anywhere in a line.
    Brackets,
}

/// One command the runner acted on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// The command name as written (`set-output`, or a stop token when it resumes commands).
    pub name: String,
    /// Its properties, unescaped.
    pub properties: BTreeMap<String, String>,
    /// Its data, unescaped.
    pub data: String,
    /// The whole line it was read from.
    pub line: String,
    /// How it was written.
    pub form: Form,
    /// Whether this line resumed commands after `stop-commands`.
    pub resumes: bool,
}

/// The lines of a stream as the runner reads them (`StreamReader.ReadLine`: `\r\n`, `\r` or `\n`
/// end a line).
pub fn lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let bytes = text.as_bytes();
    let mut start = 0;
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => {
                out.push(&text[start..i]);
                start = i + 1;
            }
            b'\r' => {
                out.push(&text[start..i]);
                if bytes.get(i + 1) == Some(&b'\n') {
                    i += 1;
                }
                start = i + 1;
            }
            _ => {}
        }
        i += 1;
    }
    if start < bytes.len() {
        out.push(&text[start..]);
    }
    out
}

/// The runner's state for one step: commands may be stopped until a token comes back.
#[derive(Debug, Default)]
pub struct Runner {
    stop_token: Option<String>,
}

fn registered(name: &str, stop_token: Option<&str>) -> bool {
    REGISTERED.iter().any(|r| r.eq_ignore_ascii_case(name))
        || name.eq_ignore_ascii_case(STOP)
        || stop_token.is_some_and(|t| t.eq_ignore_ascii_case(name))
}

fn unescape(s: &str, pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .fold(s.to_string(), |acc, (from, to)| acc.replace(from, to))
}

const DATA: &[(&str, &str)] = &[("%0D", "\r"), ("%0A", "\n"), ("%25", "%")];
const PROPERTY: &[(&str, &str)] = &[
    ("%0D", "\r"),
    ("%0A", "\n"),
    ("%3A", ":"),
    ("%2C", ","),
    ("%25", "%"),
];
const LEGACY: &[(&str, &str)] = &[
    ("%3B", ";"),
    ("%0D", "\r"),
    ("%0A", "\n"),
    ("%5D", "]"),
    ("%25", "%"),
];

/// `::name props::data`, after leading whitespace (`TryParseV2`).
fn parse_colons(line: &str, stop_token: Option<&str>) -> Option<Command> {
    let message = line.trim_start();
    let rest = message.strip_prefix("::")?;
    let end = rest.find("::")?;
    let info = &rest[..end];
    let (name, props) = match info.find(' ') {
        Some(i) => (&info[..i], Some(&info[i + 1..])),
        None => (info, None),
    };
    if !registered(name, stop_token) {
        return None;
    }
    let mut properties = BTreeMap::new();
    for pair in props
        .map(str::trim)
        .unwrap_or("")
        .split(',')
        .filter(|p| !p.is_empty())
    {
        let mut kv = pair.splitn(2, '=').filter(|s| !s.is_empty());
        if let (Some(k), Some(v)) = (kv.next(), kv.next()) {
            properties.insert(k.to_string(), unescape(v, PROPERTY));
        }
    }
    Some(Command {
        name: name.to_string(),
        properties,
        data: unescape(&rest[end + 2..], DATA),
        line: line.to_string(),
        form: Form::Colons,
        resumes: false,
    })
}

/// `##[name props]data` at the first `##[` of the line (`TryParse`).
fn parse_brackets(line: &str, stop_token: Option<&str>) -> Option<Command> {
    let at = line.find("##[")?;
    let after = &line[at + 3..];
    let end = after.find(']')?;
    let info = &after[..end];
    let (name, props) = match info.find(' ') {
        Some(i) => (&info[..i], Some(&info[i + 1..])),
        None => (info, None),
    };
    if !registered(name, stop_token) {
        return None;
    }
    let mut properties = BTreeMap::new();
    for pair in props.unwrap_or("").split(';').filter(|p| !p.is_empty()) {
        let mut kv = pair.splitn(2, '=').filter(|s| !s.is_empty());
        if let (Some(k), Some(v)) = (kv.next(), kv.next()) {
            properties.insert(k.to_string(), unescape(v, LEGACY));
        }
    }
    Some(Command {
        name: name.to_string(),
        properties,
        data: unescape(&after[end + 1..], LEGACY),
        line: line.to_string(),
        form: Form::Brackets,
        resumes: false,
    })
}

impl Runner {
    /// The commands the runner acts on in one more piece of output, in order.
    pub fn feed(&mut self, output: &str) -> Vec<Command> {
        let mut out = Vec::new();
        for line in lines(output) {
            if line.is_empty() {
                continue;
            }
            let token = self.stop_token.as_deref();
            let Some(mut command) =
                parse_colons(line, token).or_else(|| parse_brackets(line, token))
            else {
                continue;
            };
            match &self.stop_token {
                Some(t) if command.name.eq_ignore_ascii_case(t) => {
                    self.stop_token = None;
                    command.resumes = true;
                    out.push(command);
                }
                // Stopped: every other command is ignored.
                Some(_) => {}
                None => {
                    if command.name.eq_ignore_ascii_case(STOP) {
                        self.stop_token = Some(command.data.clone());
                    }
                    out.push(command);
                }
            }
        }
        out
    }

    /// Whether commands are stopped at this point.
    pub fn stopped(&self) -> bool {
        self.stop_token.is_some()
    }
}

/// The commands in one stream read on its own.
pub fn commands(output: &str) -> Vec<Command> {
    Runner::default().feed(output)
}

#[test]
fn the_runner_port_reads_commands_as_the_runner_does() {
    let found = commands(
        "plain\n  ::set-output name=a::1\r##[set-output name=b;]2\nx ##[add-mask]s3cret\n::unknown::x\n\
         ::stop-commands::T0K\n::set-output name=c::3\n::t0k::\n::Warning file=a%2Cb.hcl,line=3::50%25 bad%0Aline\n",
    );
    let names: Vec<(&str, &str)> = found
        .iter()
        .map(|c| (c.name.as_str(), c.data.as_str()))
        .collect();
    assert_eq!(
        names,
        [
            ("set-output", "1"),
            ("set-output", "2"),
            ("add-mask", "s3cret"),
            ("stop-commands", "T0K"),
            ("t0k", ""),
            ("Warning", "50% bad\nline"),
        ]
    );
    assert_eq!(found[0].properties["name"], "a");
    assert_eq!(found[1].properties["name"], "b");
    assert_eq!(found[1].form, Form::Brackets);
    assert!(found[4].resumes);
    assert_eq!(found[5].properties["file"], "a,b.hcl");
    assert_eq!(found[5].properties["line"], "3");
    assert_eq!(lines("a\r\nb\rc\n\nd"), ["a", "b", "c", "", "d"]);
}
