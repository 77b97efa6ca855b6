#!/usr/bin/env bash
# Prepare the documents for relation annotation (issue 7): convert the sources to ertag JSON Lines
# and render them into batches for the annotators. Everything goes to .cache/annotation/ (it holds
# the shared data's text, so it stays out of the repository).
#
#   scripts/annotation/prepare.sh            # uses target/release/ertag (or $ERTAG)
#
# The CAMEO sentences and the news stories get predicted entities from the shipped NER model
# (models/ner); the entity lists the annotators saw are kept in the repository as stand-off
# (eval/corpus/raw/cameo-train/preannotation.jsonl, eval/gold/raw/news/preannotation.jsonl), so
# that build.py never needs the model again.
set -euo pipefail
cd "$(dirname "$0")/../.."
ERTAG=${ERTAG:-target/release/ertag}
[ -x "$ERTAG" ] || ERTAG="cargo run --release --"
SHARED=${ERTAG_SHARED:-../shared}
OUT=.cache/annotation
mkdir -p "$OUT"

# CoNLL-2003: gold entities.
for split in train dev test; do
  $ERTAG convert "$SHARED/data/conll2003/iob2/$split.txt" --from conll --to jsonl \
    -o "$OUT/conll2003-$split.jsonl"
done
python3 scripts/annotation/render.py "$OUT/conll2003-train.jsonl" "$OUT/train" --batch-size 30
python3 scripts/annotation/render.py "$OUT/conll2003-dev.jsonl" "$OUT/dev" --batch-size 30
python3 scripts/annotation/render.py "$OUT/conll2003-test.jsonl" "$OUT/test" --min-score 0.0 --batch-size 30

# ConfliBERT CAMEO: one CoNLL document whose sentences are the CAMEO sentences; sentence i becomes
# the text document cameo-train-<i>, annotated by the shipped NER model.
$ERTAG convert "$SHARED/data/conflibert-cameo/cameo_ner/train.txt" --from conll --to jsonl \
  -o "$OUT/cameo-train-raw.jsonl"
python3 - "$OUT/cameo-train-raw.jsonl" "$OUT/cameo-train-text.jsonl" <<'PY'
import json, sys
doc = json.loads(open(sys.argv[1], encoding="utf-8").readline())
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for i, (s, e) in enumerate(doc["sentences"]):
        f.write(json.dumps({"id": f"cameo-train-{i}", "text": doc["text"][s:e]}, ensure_ascii=False) + "\n")
PY
$ERTAG annotate "$OUT/cameo-train-text.jsonl" -o "$OUT/cameo-train.jsonl"
python3 scripts/annotation/render.py "$OUT/cameo-train.jsonl" "$OUT/cameo-train" --all --batch-size 400
# The doubly annotated subset: the first 120 sentences of CAMEO batch 00.
head -n 120 "$OUT/cameo-train/batch-00.ids" > "$OUT/cameo-double.ids"
python3 scripts/annotation/render.py "$OUT/cameo-train.jsonl" "$OUT/cameo-double" \
  --ids "$OUT/cameo-double.ids" --batch-size 120

# ConfliBERT CAMEO test sentences, the same way (cameo-test-<i>), one batch.
$ERTAG convert "$SHARED/data/conflibert-cameo/cameo_ner/test.txt" --from conll --to jsonl \
  -o "$OUT/cameo-test-raw.jsonl"
python3 - "$OUT/cameo-test-raw.jsonl" "$OUT/cameo-test-text.jsonl" <<'PY'
import json, sys
doc = json.loads(open(sys.argv[1], encoding="utf-8").readline())
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for i, (s, e) in enumerate(doc["sentences"]):
        f.write(json.dumps({"id": f"cameo-test-{i}", "text": doc["text"][s:e]}, ensure_ascii=False) + "\n")
PY
$ERTAG annotate "$OUT/cameo-test-text.jsonl" -o "$OUT/cameo-test.jsonl"
python3 scripts/annotation/render.py "$OUT/cameo-test.jsonl" "$OUT/cameo-test" --all --batch-size 500

# News: the seed story and two examples, annotated by the shipped NER model.
$ERTAG annotate "$SHARED/seed/putin-calls.txt" examples/naval-drills.txt examples/embassy-closures.txt \
  -o "$OUT/news.jsonl"
python3 scripts/annotation/render.py "$OUT/news.jsonl" "$OUT/news" --all

# Round 2 (session 4): sources for the rare labels.
# re3d (Dstl): every document of every source folder, id re3d-<first 12 hex digits of _id>,
# annotated by the shipped NER model like the CAMEO sentences.
# ConfliBERT cameo_class: the sentences that are not also in cameo_ner (those are annotated
# above), id cameoc-<split>-<line>. CoNLL-2003 train and dev: the documents not annotated yet
# that mention one of the rare labels' keywords (scripts/annotation/sources.py).
python3 scripts/annotation/sources.py re3d "$SHARED" "$OUT/re3d-text.jsonl"
$ERTAG annotate "$OUT/re3d-text.jsonl" --no-relations -o "$OUT/re3d.jsonl"
python3 scripts/annotation/render.py "$OUT/re3d.jsonl" "$OUT/re3d" --all --batch-size 25
python3 scripts/annotation/sources.py cameo-class "$SHARED" "$OUT/cameoc-text.jsonl"
$ERTAG annotate "$OUT/cameoc-text.jsonl" --no-relations -o "$OUT/cameoc.jsonl"
python3 scripts/annotation/render.py "$OUT/cameoc.jsonl" "$OUT/cameoc" --all --batch-size 140
for split in train dev; do
  python3 scripts/annotation/sources.py conll-rare "$OUT/conll2003-$split.jsonl" "$OUT/conll-rare-$split.ids"
  python3 scripts/annotation/render.py "$OUT/conll2003-$split.jsonl" "$OUT/conll-rare-$split" \
    --ids "$OUT/conll-rare-$split.ids" --batch-size 40
done
# The doubly annotated cameo_class subset: the first 60 sentences of batch 00.
head -n 60 "$OUT/cameoc/batch-00.ids" > "$OUT/cameoc-double.ids"
python3 scripts/annotation/render.py "$OUT/cameoc.jsonl" "$OUT/cameoc-double" \
  --ids "$OUT/cameoc-double.ids" --batch-size 60

# Synthetic stories (eval/corpus/synthetic/stories.jsonl, the repository's own text; see the data
# card): pre-annotated by the shipped NER model, one batch per writer's set, batch-NN.txt in
# $OUT/synthetic-NN/.
python3 - eval/corpus/synthetic/stories.jsonl "$OUT/synthetic-text.jsonl" <<'PY'
import json, sys
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for line in open(sys.argv[1], encoding="utf-8"):
        d = json.loads(line)
        f.write(json.dumps({"id": d["id"], "text": d["text"]}, ensure_ascii=False) + "\n")
PY
# Argmax decoding: the tag decoding of the shipped model when the stories were pre-annotated
# (round three too, to keep one convention), so that the entities match preannotation.jsonl.
$ERTAG annotate "$OUT/synthetic-text.jsonl" --no-relations --decoding argmax -o "$OUT/synthetic.jsonl"
n=0
for prefixes in "syn-mediate syn-military syn-threat" "syn-phone" "syn-interf" "syn-arms syn-withdraw" \
  "syn-meet syn-coop" "syn-support syn-critic" "syn-attack syn-sanction" "syn-wire" \
  "syn-callmeet" "syn-interf2 syn-mediate2" "syn-threat2 syn-sanction2" \
  "syn-speaker" "syn-coord" "syn-roles" "syn-events"; do
  b=$(printf %02d $n)
  for p in $prefixes; do grep -o "\"id\": \"$p-[0-9]*\"" "$OUT/synthetic-text.jsonl" | cut -d'"' -f4; done \
    > "$OUT/synthetic-$b.ids"
  python3 scripts/annotation/render.py "$OUT/synthetic.jsonl" "$OUT/synthetic-$b" \
    --ids "$OUT/synthetic-$b.ids" --batch-size 100
  if [ "$b" != 00 ]; then
    mv "$OUT/synthetic-$b/batch-00.txt" "$OUT/synthetic-$b/batch-$b.txt"
    mv "$OUT/synthetic-$b/batch-00.ids" "$OUT/synthetic-$b/batch-$b.ids"
  fi
  n=$((n + 1))
done
