#!/usr/bin/env bash
# Installs GitHub's published contract at the versions pinned in tests/contract/package-lock.json:
# @octokit/openapi (the REST description of api.github.com, GHEC and GHES 3.x) and
# @octokit/webhooks-examples / @octokit/webhooks-schemas (real event payloads). The contract tests
# read them from target/github-contract (or $BATON_GITHUB_CONTRACT). Idempotent: a second run with
# the same lock file does nothing.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
dest="${BATON_GITHUB_CONTRACT:-$root/target/github-contract}"
lock="$root/tests/contract/package-lock.json"
stamp="$dest/.installed-from"
if [[ -f "$stamp" ]] && cmp -s "$stamp" "$lock"; then
  exit 0
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "github-contract: npm is needed to install GitHub's API description (apt-get install nodejs npm)" >&2
  exit 1
fi
mkdir -p "$dest"
cp "$root/tests/contract/package.json" "$lock" "$dest/"
(cd "$dest" && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null)
cp "$lock" "$stamp"
echo "github-contract: installed $(cd "$dest" && node -p "['@octokit/openapi','@octokit/webhooks-examples'].map(p => p + '@' + require(p + '/package.json').version).join(', ')") in $dest" >&2
