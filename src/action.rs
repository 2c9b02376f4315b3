//! `baton action`: the container's entrypoint. Reads the step's inputs from the `INPUT_*`
//! variables the runner sets, maps them onto the same requests as the CLI subcommands, and writes
//! step outputs, annotations and the job summary.

/// Every input `action.yml` declares, each handled here (a test keeps the two in step).
pub const INPUTS: &[&str] = &[
    "patcher_command",
    "working_dir",
    "include_dirs",
    "exclude_dirs",
    "dependency",
    "spec",
    "spec_file",
    "update_strategy",
    "promote_from",
    "environment",
    "environments",
    "fail_on_drift",
    "pull_request_branch",
    "pull_request_branch_prefix",
    "pull_request_title",
    "pull_request_labels",
    "pull_request_reviewers",
    "pull_request_draft",
    "commit_author",
    "commit_message",
    "dry_run",
    "dispatch_event",
    "github_token",
    "read_token",
    "update_token",
    "PATCHER_READ_TOKEN",
    "PATCHER_EXECUTE_TOKEN",
    "github_base_url",
];

/// Every output `action.yml` declares.
pub const OUTPUTS: &[&str] = &[
    "spec",
    "has_dependencies",
    "dependencies",
    "pull_request_number",
    "pull_request_url",
    "dependency",
    "version",
];
