#!/usr/bin/env bash
# Spark check (make spark-test): annotates a 2,000-document corpus once with the single-process
# `ertag annotate` and once through Spark (scripts/spark/annotate_spark.py, RDD.pipe, local
# mode), and checks with cmp that the two outputs are byte-identical. Exit code non-zero on
# any difference, on a failed document, or if either run fails.
#
# The corpus: the CoNLL-2003 train, dev and test documents (1,393) as raw text (`ertag convert`,
# then id + text only), each cut to its first SPARK_CHECK_LINES lines (sentences; 0 = whole
# documents), repeated with new ids (`r1-train-5`, ...) to reach SPARK_CHECK_DOCS documents.
#
# Settings (environment):
#   SPARK_CHECK_DOCS=2000        documents in the corpus
#   SPARK_CHECK_LINES=4          sentences kept per document (0: whole documents, ~4x slower)
#   SPARK_CHECK_PARTITIONS=4     Spark partitions (= ertag processes)
#   SPARK_CHECK_MASTER=local[2]  Spark master
#   SPARK_CHECK_DIR=target/spark-check   work folder
#   ERTAG_ARGS="..."             extra `ertag annotate` options for both runs (e.g. --no-relations)
#   SPARK_VENV=.cache/spark-venv the virtual environment holding pyspark (made if missing)
set -euo pipefail
cd "$(dirname "$0")/../.."

BIN=${ERTAG:-target/release/ertag}
DATA=${CONLL_DIR:-../shared/data/conll2003/iob2}
DOCS=${SPARK_CHECK_DOCS:-2000}
LINES=${SPARK_CHECK_LINES:-4}
PARTS=${SPARK_CHECK_PARTITIONS:-4}
MASTER=${SPARK_CHECK_MASTER:-local[2]}
WORK=${SPARK_CHECK_DIR:-target/spark-check}
SPARK_VENV=${SPARK_VENV:-.cache/spark-venv}
read -r -a EXTRA <<<"${ERTAG_ARGS:-}"

[ -x "$BIN" ] || { echo "check_spark: $BIN is missing (make build)" >&2; exit 2; }
command -v java >/dev/null || { echo "check_spark: Spark needs Java (java not found)" >&2; exit 2; }
if [ ! -x "$SPARK_VENV/bin/python" ] || ! "$SPARK_VENV/bin/python" -c 'import pyspark' 2>/dev/null; then
  echo "check_spark: installing pyspark into $SPARK_VENV"
  python3 -m venv "$SPARK_VENV"
  "$SPARK_VENV/bin/pip" install --quiet --disable-pip-version-check pyspark
fi

mkdir -p "$WORK"
corpus=$WORK/corpus.jsonl
for split in train dev test; do
  "$BIN" convert "$DATA/$split.txt" --to jsonl -o "$WORK/$split.gold.jsonl" >/dev/null
done
python3 - "$WORK" "$DOCS" "$LINES" >"$corpus" <<'EOF'
import json, sys
work, want, lines = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
docs = []
for split in ("train", "dev", "test"):
    for line in open(f"{work}/{split}.gold.jsonl", encoding="utf-8"):
        d = json.loads(line)
        text = d["text"]
        if lines > 0:
            text = "\n".join(text.split("\n")[:lines])
        docs.append((d["id"], text))
out, rep = 0, 0
while out < want:
    for ident, text in docs:
        if out == want:
            break
        print(json.dumps({"id": ident if rep == 0 else f"r{rep}-{ident}", "text": text}, ensure_ascii=False))
        out += 1
    rep += 1
EOF
words=$(python3 -c 'import json,sys; print(sum(len(json.loads(l)["text"].split()) for l in open(sys.argv[1])))' "$corpus")
echo "check_spark: corpus $corpus: $(wc -l <"$corpus") documents, $words words (CoNLL-2003 train+dev+test, first ${LINES} sentences per document, 0 = all)"

single=$WORK/single.jsonl
spark=$WORK/spark.jsonl
rm -f "$single" "$spark"

echo "check_spark: single process: $BIN annotate $corpus -o $single ${EXTRA[*]}"
start=$(date +%s)
"$BIN" annotate "$corpus" -o "$single" --errors "$WORK/single.errors.jsonl" "${EXTRA[@]}"
echo "check_spark: single process took $(( $(date +%s) - start ))s"

echo "check_spark: Spark ($MASTER, $PARTS partitions, RDD.pipe, ertag --threads 1 per task)"
start=$(date +%s)
"$SPARK_VENV/bin/python" scripts/spark/annotate_spark.py "$corpus" -o "$spark" \
  --master "$MASTER" --partitions "$PARTS" --ertag "$PWD/$BIN" --failed "$WORK/spark.failed.jsonl" \
  -- --threads 1 "${EXTRA[@]}" 2> >(grep -v -e ' WARN ' -e '^WARN' -e 'log4j' -e 'setLogLevel' -e 'Setting default log level' >&2)
echo "check_spark: Spark took $(( $(date +%s) - start ))s"

count() { python3 -c '
import json, sys
docs = ents = rels = 0
for line in open(sys.argv[1], encoding="utf-8"):
    d = json.loads(line); docs += 1; ents += len(d.get("entities", [])); rels += len(d.get("relations", []))
print(f"{docs} documents, {ents} entities, {rels} relations")' "$1"; }
echo "check_spark: single: $(count "$single"); sha256 $(sha256sum <"$single" | cut -c1-16)"
echo "check_spark: spark:  $(count "$spark"); sha256 $(sha256sum <"$spark" | cut -c1-16)"
if cmp "$single" "$spark"; then
  echo "check_spark: OK: the Spark output is byte-identical to the single-process output"
else
  echo "check_spark: FAIL: the outputs differ" >&2
  exit 1
fi
