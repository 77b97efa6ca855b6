#!/usr/bin/env bash
# What the casing types and the cross-sentence context each bring on CoNLL-2003 dev.
# Trains the shipped recipe three times for EPOCHS epochs (default 2): as shipped, without
# casing types, without context, and prints the best dev micro-F1 of each.
# Usage: scripts/ner_ablation.sh [EPOCHS] [OUT_DIR]   (after `make build backbone`)
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-2}
out=${2:-target/ner-ablation}
data=../shared/data/conll2003/iob2
common=(--train "$data/train.txt" --dev "$data/dev.txt" --base .cache/backbones/minilm-l6
        --epochs "$epochs" --lr 1e-4 --batch-size 8 --seed 42 --quiet)
mkdir -p "$out"
for variant in shipped no-casing no-context; do
  case $variant in
    shipped) extra=() ;;
    no-casing) extra=(--no-casing) ;;
    no-context) extra=(--no-context) ;;
  esac
  target/release/ertag train ner "${common[@]}" "${extra[@]}" --out "$out/$variant" \
    > "$out/$variant.log" 2>&1
done
printf '| variant | epochs | best dev micro-F1 |\n|---|---|---|\n'
for variant in shipped no-casing no-context; do
  best=$(python3 -c '
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("%.2f" % (100 * max(r["dev_micro"]["f1"] for r in rows)))' "$out/$variant/train_log.jsonl")
  printf '| %s | %s | %s |\n' "$variant" "$epochs" "$best"
done
