#!/usr/bin/env bash
# The CoNLL04 benchmark (issue 5): train NER and relations jointly on CoNLL04 train (best epoch
# and per-label thresholds on dev), then annotate CoNLL04 test end to end (predicted entities)
# and score it with `ertag eval` (entity F1; relation F1 strict and boundaries, micro and macro,
# bootstrap 95% intervals), and time the relation stage against NER alone on the test set.
# Then, as SpERT does, a final model on train + dev with the same recipe: the last epoch is kept
# and the thresholds are the dev-selected model's (dev is training data there); it is scored the
# same way (eval/results/conll04-final.{md,json}).
#
#   scripts/conll04_benchmark.sh [OUT_DIR]     (default .cache/conll04; `make conll04`)
#
# The encoder starts from the shipped NER model (models/ner: MiniLM-L6 fine-tuned on CoNLL-2003
# NER), whose tagging head is replaced by a fresh one for CoNLL04's types. SKIP_TRAIN=1 re-scores
# an existing model. Writes eval/results/conll04.{md,json} and eval/results/conll04-timing.md.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/ertag}
OUT=${1:-.cache/conll04}
DATA=../shared/data/conll04/spert_json
FLAGS=${CONLL04_FLAGS:---epochs 20 --lr 1e-4 --batch-size 8 --head-lr 1e-3 --seed 42}
mkdir -p "$OUT" eval/results

if [ "${SKIP_TRAIN:-0}" != 1 ]; then
  # shellcheck disable=SC2086
  "$BIN" train relations --joint --schema eval/conll04/schema.toml \
    --train $DATA/conll04_train.json --dev $DATA/conll04_dev.json \
    --base models/ner --out "$OUT/model" $FLAGS --quiet
  # shellcheck disable=SC2086
  "$BIN" train relations --joint --schema eval/conll04/schema.toml \
    --train $DATA/conll04_train.json --train $DATA/conll04_dev.json --dev $DATA/conll04_dev.json \
    --keep last --thresholds-from "$OUT/model" --base models/ner --out "$OUT/final" $FLAGS --quiet
  rm -rf "$OUT/model/last" "$OUT/final/last"
fi

# score MODEL REPORT HOW: annotate the test set with MODEL, write eval/results/REPORT.{md,json}.
score() {
  "$BIN" annotate $DATA/conll04_test.json --from conll04 --relation-model "$1" \
    -o "$1/test.pred.jsonl"
  local eval=("$BIN" eval --gold $DATA/conll04_test.json --gold-format conll04
              --pred "$1/test.pred.jsonl" --mode strict --bootstrap 1000 --seed 1)
  {
    echo "# CoNLL04 test, end to end (predicted entities)"
    echo
    echo "Model: \`$1\`, trained by \`scripts/conll04_benchmark.sh\` ($(date -u +%Y-%m-%d))"
    echo "with \`$FLAGS\`; $3."
    echo
    "${eval[@]}" --markdown
  } > "eval/results/$2.md"
  "${eval[@]}" --json > "eval/results/$2.json"
}
score "$OUT/model" conll04 "trained on train; best epoch and thresholds chosen on dev (train_report.json there)"
score "$OUT/final" conll04-final "trained on train + dev, last epoch kept, thresholds from \`$OUT/model\`"

# The relation stage's added time: the same model directory run as a NER model alone and as
# NER + relations, median of 3 warm runs each (one untimed run first), on the test set repeated
# 4 times so that loading the model (in both runs) weighs little. Run it on an idle machine.
python3 -c 'import json,sys; d=json.load(open(sys.argv[1]));
json.dump([dict(x, orig_id="%s-%d" % (x.get("orig_id", i), k)) for k in range(4) for i, x in enumerate(d)],
          open(sys.argv[2], "w"))' \
  $DATA/conll04_test.json "$OUT/conll04_test_x4.json"
time_run() {
  "$BIN" annotate "$OUT/conll04_test_x4.json" --from conll04 "$@" -o "$OUT/timing.jsonl" 2>"$OUT/timing.log" \
    || { cat "$OUT/timing.log" >&2; exit 1; }
  for _ in 1 2 3; do
    local t0 t1
    t0=$(date +%s.%N)
    "$BIN" annotate "$OUT/conll04_test_x4.json" --from conll04 "$@" -o "$OUT/timing.jsonl" 2>"$OUT/timing.log"
    t1=$(date +%s.%N)
    echo "$t1 - $t0" | bc
  done | sort -n | sed -n 2p
}
ner=$(time_run --ner-model "$OUT/model")
rel=$(time_run --relation-model "$OUT/model")
share=$(echo "scale=1; 100 * ($rel - $ner) / $ner" | bc)
{
  echo "# Relation stage time on CoNLL04 test (288 sentences, repeated 4 times: 1,152)"
  echo
  echo "| run | seconds (median of 3, wall clock, $(nproc) cores) |"
  echo "|---|---|"
  echo "| NER only (\`--ner-model\`) | $ner |"
  echo "| NER + relations (\`--relation-model\`) | $rel |"
  echo
  echo "The relation stage adds **${share}%** to the NER stage's time (model load included in both)."
  echo "Reproduce: \`SKIP_TRAIN=1 scripts/conll04_benchmark.sh $OUT\`."
} > eval/results/conll04-timing.md
cat eval/results/conll04-timing.md
grep -iE "micro|macro" eval/results/conll04.md | head -20
