#!/usr/bin/env bash
# Run DAISY Ace (the EPUB accessibility checker) on an EPUB, installing it on first use.
#
#   scripts/ace.sh BOOK.epub OUTDIR    writes OUTDIR/report.json and OUTDIR/report.html
#
# Ace is installed with npm into .cache/ace/ (outside git), at a pinned version. Only its
# command-line package is installed (@daisy/ace-cli): the @daisy/ace meta-package also pulls in
# Electron. Ace never downloads a browser of its own (PUPPETEER_SKIP_DOWNLOAD): it runs the
# system's Chromium (Debian package `chromium`, installed by scripts/system-deps.sh), or the
# browser named by CHROMIUM. Ace itself passes --no-sandbox and runs headless, so it works as
# root too. The exit status is Ace's: 0 when it produced a report (read the report for the
# verdict), non-zero when it could not check the book.
set -euo pipefail

ACE_VERSION=1.4.6
here=$(cd "$(dirname "$0")/.." && pwd)
prefix=${ACE_CACHE:-$here/.cache/ace}
ace=$prefix/node_modules/@daisy/ace-cli/bin/ace.js

if [ $# -ne 2 ]; then
  echo "usage: $0 BOOK.epub OUTDIR" >&2
  exit 2
fi

browser=${CHROMIUM:-$(command -v chromium || true)}
if [ -z "$browser" ] || [ ! -x "$browser" ]; then
  echo "Ace needs Chromium: install the Debian package 'chromium' (scripts/system-deps.sh) or set CHROMIUM to a Chromium executable" >&2
  exit 3
fi
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "Ace needs Node.js and npm: install the Debian packages 'nodejs' and 'npm'" >&2
  exit 3
fi

export PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_SKIP_CHROMIUM_DOWNLOAD=1
installed=$(cat "$prefix/.version" 2>/dev/null || true)
if [ ! -f "$ace" ] || [ "$installed" != "$ACE_VERSION" ]; then
  echo "Installing DAISY Ace $ACE_VERSION into $prefix" >&2
  mkdir -p "$prefix"
  npm install --prefix "$prefix" --no-audit --no-fund --loglevel=error \
    "@daisy/ace-cli@$ACE_VERSION" >&2
  echo "$ACE_VERSION" >"$prefix/.version"
fi

PUPPETEER_EXECUTABLE_PATH=$browser exec node "$ace" --force --outdir "$2" "$1"
