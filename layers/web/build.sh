#!/usr/bin/env bash
# Builds the web page into layers/web/dist (index.html, docs.html, hashed assets, manifest.json)
# for the Rust server to embed. Installs the npm packages from package-lock.json first, unless
# node_modules already matches it.
set -euo pipefail
cd "$(dirname "$0")"

command -v node >/dev/null || { echo "build.sh: node is required (Node.js 18 or later)" >&2; exit 1; }
command -v npm >/dev/null || { echo "build.sh: npm is required" >&2; exit 1; }

# npm ci writes node_modules/.package-lock.json; when it equals package-lock.json's packages,
# node_modules is current.
current() {
  [ -f ui/node_modules/.package-lock.json ] || return 1
  node -e '
    const fs = require("fs");
    const want = JSON.parse(fs.readFileSync("ui/package-lock.json", "utf8")).packages || {};
    const have = JSON.parse(fs.readFileSync("ui/node_modules/.package-lock.json", "utf8")).packages || {};
    const id = (v) => v.version + "|" + (v.integrity || v.resolved || "");
    // Optional packages for other platforms (of esbuild) are in the lock but not installed.
    const ok = Object.entries(want).every(([k, v]) => k === "" || (have[k] ? id(have[k]) === id(v) : v.optional === true))
      && Object.keys(have).every((k) => k in want);
    process.exit(ok ? 0 : 1);
  '
}

if current; then
  echo "ui/node_modules is current with package-lock.json"
else
  echo "installing npm packages (npm ci)"
  # --ignore-scripts: no install scripts run (esbuild's binary comes in its platform package).
  npm ci --prefix ui --ignore-scripts --no-audit --no-fund
fi

node ui/build.mjs
