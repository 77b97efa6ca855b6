#!/usr/bin/env bash
# Render tests/data/relations.jsonl (examples' text with hand-made relations) as HTML with
# `ertag convert --to html` and take a screenshot of one page in headless Chromium:
# docs/images/annotate-html.png (the README's picture). Needs chromium (apt-get install chromium).
#   scripts/html_screenshot.sh [BIN] [PAGE]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${1:-target/release/ertag}
PAGE=${2:-putin-calls}
OUT=target/html-check
CHROMIUM=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
if [ -z "$CHROMIUM" ]; then
  echo "html_screenshot: no chromium found (apt-get install -y chromium)" >&2
  exit 1
fi
rm -rf "$OUT" && mkdir -p "$OUT" docs/images
"$BIN" convert tests/data/relations.jsonl --to html -o "$OUT/pages"
# No script may survive the escaping, and no page may reach outside the folder.
if grep -l '<script' "$OUT"/pages/*.html; then
  echo "html_screenshot: a page contains a <script> element" >&2
  exit 1
fi
"$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,760 \
  --screenshot="$OUT/page.png" "file://$PWD/$OUT/pages/$PAGE.html" 2>/dev/null
"$CHROMIUM" --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,400 \
  --screenshot="$OUT/index.png" "file://$PWD/$OUT/pages/index.html" 2>/dev/null
cp "$OUT/page.png" docs/images/annotate-html.png
echo "html_screenshot: docs/images/annotate-html.png ($(stat -c %s docs/images/annotate-html.png) bytes), index in $OUT/index.png"
