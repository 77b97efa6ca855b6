#!/usr/bin/env bash
# The CoNLL04 ensemble (issue 5): four models of the benchmark's recipe
# (scripts/conll04_benchmark.sh), three of them changing one flag, combined by `ertag vote`: a
# mention is kept when at least three of the four find it, a relation when its mean score is 0.5
# or more. The members are the recipe itself and three variants measured in
# eval/results/conll04-ablation.md, so they differ in more than their seed. (The fourth variant
# there, --pair-markers, is left out: its final model's training ran out of memory.)
#
#   scripts/conll04_ensemble.sh [OUT_DIR]     (default .cache/conll04-ensemble; `make conll04-ensemble`)
#
# For each member: a dev-selected model (train; best epoch and thresholds on dev) in
# OUT_DIR/NAME/model and a final one (train + dev, last epoch, the dev-selected thresholds) in
# OUT_DIR/NAME/final. Training all eight takes about 1.5 hours on 2 cores; SKIP_TRAIN=1 re-scores
# existing ones. Each member annotates with --relation-threshold 0.05, so that the mean sees its
# scores under its own thresholds. The ensemble of the dev-selected members is scored on dev
# (where the decision to ensemble was made) and test; the final members' ensemble on test.
# Writes eval/results/conll04-ensemble.{md,json}.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/ertag}
OUT=${1:-.cache/conll04-ensemble}
DATA=../shared/data/conll04/spert_json
SCHEMA=eval/conll04/schema.toml
RECIPE="--epochs 20 --lr 1e-4 --batch-size 8 --head-lr 1e-3 --seed 42"
NAMES=(recipe sentence-context positive-weight-3 mention-swaps-1)
declare -A FLAGS=(
  [recipe]=""
  [sentence-context]="--sentence-context"
  [positive-weight-3]="--positive-weight 3"
  [mention-swaps-1]="--mention-swaps 1"
)
mkdir -p "$OUT" eval/results

if [ "${SKIP_TRAIN:-0}" != 1 ]; then
  for name in "${NAMES[@]}"; do
    # shellcheck disable=SC2086
    "$BIN" train relations --joint --schema $SCHEMA \
      --train $DATA/conll04_train.json --dev $DATA/conll04_dev.json \
      --base models/ner --out "$OUT/$name/model" $RECIPE ${FLAGS[$name]} --quiet
    # shellcheck disable=SC2086
    "$BIN" train relations --joint --schema $SCHEMA \
      --train $DATA/conll04_train.json --train $DATA/conll04_dev.json --dev $DATA/conll04_dev.json \
      --keep last --thresholds-from "$OUT/$name/model" --base models/ner --out "$OUT/$name/final" \
      $RECIPE ${FLAGS[$name]} --quiet
    rm -rf "$OUT/$name/model/last" "$OUT/$name/final/last"
  done
fi

# members KIND SPLIT: each member's annotation of SPLIT, one path per line.
members() {
  for name in "${NAMES[@]}"; do
    local out="$OUT/$name/$1/$2.members.jsonl"
    "$BIN" annotate $DATA/conll04_$2.json --from conll04 --relation-model "$OUT/$name/$1" \
      --relation-threshold 0.05 -o "$out" 2>/dev/null
    echo "$out"
  done
}
# score SPLIT PRED: `ertag eval` of PRED against SPLIT's gold, with arguments appended.
score() {
  "$BIN" eval --gold $DATA/conll04_$1.json --gold-format conll04 --pred "$2" --mode strict \
    --bootstrap 1000 --seed 1 "${@:3}"
}
# row LABEL SPLIT PRED: a table row with entity F1 and strict relation micro/macro F1 [95% CI].
row() {
  score "$2" "$3" --json | python3 -c '
import json, sys
d = json.load(sys.stdin)
rel = next(r for r in d["relations"] if r["setting"] == "strict" and r["level"] == "mention")
pct = lambda x: "%.2f" % (100 * x)
ci = rel["micro_f1_ci"]
print("| %s | %s | %s | %s [%s, %s] | %s |" % (sys.argv[1], sys.argv[2],
      pct(d["entities"]["scores"]["micro"]["f1"]), pct(rel["scores"]["micro"]["f1"]),
      pct(ci["low"]), pct(ci["high"]), pct(rel["scores"]["macro"]["f1"])))' "$1" "$2"
}
vote() { # OUT_FILE MEMBER_FILES...
  "$BIN" vote "${@:2}" --schema $SCHEMA -o "$1" 2>/dev/null
}

mapfile -t dev_members < <(members model dev)
mapfile -t test_members < <(members model test)
mapfile -t final_members < <(members final test)
vote "$OUT/model.dev.jsonl" "${dev_members[@]}"
vote "$OUT/model.test.jsonl" "${test_members[@]}"
vote "$OUT/final.test.jsonl" "${final_members[@]}"
# Each member alone at 0.5 (a vote of one), as its own thresholds (0.5 for every label) have it.
alone() { vote "${1%.members.jsonl}.jsonl" "$1"; echo "${1%.members.jsonl}.jsonl"; }

{
  echo "# CoNLL04: an ensemble of four models (\`ertag vote\`)"
  echo
  echo "\`scripts/conll04_ensemble.sh\` ($(date -u +%Y-%m-%d)). Members: the benchmark's recipe"
  echo "(\`$RECIPE\`, joint from \`models/ner\`), and three models that each add one flag to it:"
  for name in "${NAMES[@]:1}"; do echo "\`${FLAGS[$name]}\`,"; done | paste -sd' ' | sed 's/,$/./'
  echo "A mention is kept when at least three members find it (same span and type), a relation"
  echo "when its mean score over the four (0 where a member did not output it) is 0.5 or more."
  echo "End to end with predicted entities, strict relations; 95% bootstrap intervals over"
  echo "documents (1,000 resamples)."
  echo
  echo "| model | split | entity F1 | strict relation micro-F1 [95% CI] | macro-F1 |"
  echo "|---|---|---|---|---|"
  for i in "${!NAMES[@]}"; do row "${NAMES[$i]} (dev-selected)" dev "$(alone "${dev_members[$i]}")"; done
  row "**ensemble of the four** (dev-selected)" dev "$OUT/model.dev.jsonl"
  for i in "${!NAMES[@]}"; do row "${NAMES[$i]} (dev-selected)" test "$(alone "${test_members[$i]}")"; done
  row "**ensemble of the four** (dev-selected)" test "$OUT/model.test.jsonl"
  for i in "${!NAMES[@]}"; do row "${NAMES[$i]} (final: train + dev)" test "$(alone "${final_members[$i]}")"; done
  row "**ensemble of the four** (final: train + dev)" test "$OUT/final.test.jsonl"
  echo
  echo "A member scored alone is \`ertag vote\` on its one file: its relations held to 0.5, as its own"
  echo "thresholds (0.5 for every label, chosen by cross-validation on dev) have it."
  echo
  echo "## The final ensemble on test, in full"
  echo
  score test "$OUT/final.test.jsonl" --markdown
} > eval/results/conll04-ensemble.md
score test "$OUT/final.test.jsonl" --json > eval/results/conll04-ensemble.json
grep -E "^\| " eval/results/conll04-ensemble.md | head -20
