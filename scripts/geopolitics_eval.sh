#!/usr/bin/env bash
# The shipped relation model (models/relations, on models/ner's encoder) on the geopolitics gold
# test set (eval/gold/geopolitics-test.jsonl: 120 CoNLL-2003 test stories and 3 news stories),
# end to end: the gold documents' text only goes in, entities and relations come out, and
# `ertag eval --schema` scores them (strict and boundaries, micro and macro, per label, 95%
# bootstrap intervals). Writes eval/results/geopolitics-test.{md,json}. `make relations-eval`.
#
#   scripts/geopolitics_eval.sh [MODEL_DIR]             # default models/relations
#   SPLIT=dev scripts/geopolitics_eval.sh [MODEL_DIR]   # dev instead: eval/results/geopolitics-dev.*
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/ertag}
MODEL=${1:-models/relations}
SPLIT=${SPLIT:-test}
case "$SPLIT" in
  test) SRC=eval/gold/geopolitics-test.jsonl; TITLE="Geopolitics gold test set" ;;
  dev) SRC=eval/corpus/geopolitics-dev.jsonl; TITLE="Geopolitics dev set" ;;
  *) echo "SPLIT must be test or dev, not '$SPLIT'" >&2; exit 2 ;;
esac
TMP=${TMPDIR:-/tmp}/ertag-geo-eval-$SPLIT
mkdir -p "$TMP" eval/results
"$BIN" convert "$SRC" -o "$TMP/gold.jsonl"
# Keep each document's text, sentences and tokens; drop its annotations.
python3 - "$TMP/gold.jsonl" "$TMP/input.jsonl" <<'PY'
import json, sys
with open(sys.argv[2], "w") as out:
    for line in open(sys.argv[1]):
        d = json.loads(line)
        keep = {k: d[k] for k in ("id", "text", "sentences", "tokens") if k in d}
        out.write(json.dumps(keep, ensure_ascii=False) + "\n")
PY
"$BIN" annotate "$TMP/input.jsonl" --relation-model "$MODEL" -o "$TMP/pred.jsonl"
EVAL=("$BIN" eval --gold "$TMP/gold.jsonl" --pred "$TMP/pred.jsonl"
      --schema "$MODEL/schema.toml" --bootstrap 1000 --seed 1)
{
  echo "# $TITLE, end to end (predicted entities)"
  echo
  echo "Model \`$MODEL\`; \`scripts/geopolitics_eval.sh\` ($(date -u +%Y-%m-%d))."
  echo
  "${EVAL[@]}" --markdown
} > "eval/results/geopolitics-$SPLIT.md"
"${EVAL[@]}" --json > "eval/results/geopolitics-$SPLIT.json"
grep -E "^## relations \((strict|boundaries), mention|micro avg|macro avg|95% CI" "eval/results/geopolitics-$SPLIT.md" | head -24
