#!/usr/bin/env bash
# Batch annotation benchmark (make bench-annotate): a measurement, not a test.
#
# 1. Throughput: the CoNLL-2003 test documents (231) as raw text (`ertag convert`, then id + text
#    only, so ertag segments and tokenises them itself), annotated BENCH_RUNS times (median
#    reported) with the shipped model(s): NER only (--no-relations) and, when models/relations
#    exists, NER + relations. Documents/s and words/s over the whole command's wall time (model
#    loading included); words = the word tokens ertag writes.
# 2. Peak memory: corpora of BENCH_MEM_DOCS documents (default 10,000 and 100,000) made by
#    repeating short documents (the first BENCH_MEM_LINES sentences of each CoNLL-2003
#    train/dev/test document, new ids) so that the runs stay bearable on a small machine,
#    annotated by the default pipeline (NER, and relations when models/relations exists); peak
#    RSS from /usr/bin/time -v (plus VmHWM sampled while it runs, to show that it stops rising).
#
# Settings (environment): BENCH_RUNS=3, BENCH_MEM_DOCS="10000 100000", BENCH_MEM_LINES=1,
# BENCH_THREADS (ertag --threads; default all cores), BENCH_DIR=target/bench-annotate,
# BENCH_SKIP_THROUGHPUT=1 / BENCH_SKIP_MEMORY=1, BENCH_DOCS (cut the test corpus to N documents,
# for trying the script out). Prints a Markdown report on standard output.
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=${ERTAG:-target/release/ertag}
DATA=${CONLL_DIR:-../shared/data/conll2003/iob2}
RUNS=${BENCH_RUNS:-3}
MEM_DOCS=${BENCH_MEM_DOCS:-10000 100000}
MEM_LINES=${BENCH_MEM_LINES:-1}
WORK=${BENCH_DIR:-target/bench-annotate}
RELATIONS=${RELATION_MODEL:-models/relations}
threads=()
[ -n "${BENCH_THREADS:-}" ] && threads=(--threads "$BENCH_THREADS")

[ -x "$BIN" ] || { echo "bench_annotate: $BIN is missing (make build)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "bench_annotate: needs /usr/bin/time (apt-get install time)" >&2; exit 2; }
mkdir -p "$WORK"
log() { echo "bench_annotate: $*" >&2; }

# NER only: --no-relations where the binary has it (it then skips a models/relations that is
# present); a binary without it has no relation stage unless --relation-model is given.
ner_only=()
if "$BIN" annotate --help | grep -q -- '--no-relations'; then ner_only=(--no-relations); fi

for split in train dev test; do
  "$BIN" convert "$DATA/$split.txt" --to jsonl -o "$WORK/$split.gold.jsonl" >/dev/null 2>&1
done
python3 - "$WORK" "${BENCH_DOCS:-0}" >"$WORK/test.raw.jsonl" <<'EOF'
import json, sys
work, cut = sys.argv[1], int(sys.argv[2])
for i, line in enumerate(open(f"{work}/test.gold.jsonl", encoding="utf-8")):
    if cut and i == cut:
        break
    d = json.loads(line)
    print(json.dumps({"id": d["id"], "text": d["text"]}, ensure_ascii=False))
EOF

echo "# Batch annotation throughput and memory"
echo
echo "Made by \`BENCH_RUNS=$RUNS BENCH_MEM_DOCS=\"$MEM_DOCS\" BENCH_MEM_LINES=$MEM_LINES scripts/bench_annotate.sh\`"
echo "(\`make bench-annotate\` runs the defaults) on $(date -u '+%Y-%m-%d %H:%M UTC')."
echo "Machine: \`nproc\` = $(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'),"
echo "$(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM; load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)."
echo "Binary: \`$BIN\` ($(stat -c '%y' "$BIN" | cut -d. -f1)); ertag threads: ${BENCH_THREADS:-all cores (default)}."
echo

# --- 1. throughput ---------------------------------------------------------------------------
# run_timed OUT ARGS...: annotate the test corpus, print the wall seconds.
run_timed() {
  local out=$1; shift
  local t0 t1
  t0=$(date +%s.%N)
  "$BIN" annotate "$WORK/test.raw.jsonl" -o "$out" "${threads[@]}" "$@" 2>"$out.log"
  t1=$(date +%s.%N)
  python3 -c "print(f'{$t1 - $t0:.2f}')"
}
throughput() {  # NAME ARGS...
  local name=$1; shift
  local times=() t
  for i in $(seq 1 "$RUNS"); do
    t=$(run_timed "$WORK/throughput.$i.jsonl" "$@")
    log "$name run $i: ${t}s"
    times+=("$t")
  done
  python3 - "$WORK/throughput.1.jsonl" "$name" "$*" "${times[@]}" <<'EOF'
import json, statistics, sys
out, name, args, times = sys.argv[1], sys.argv[2], sys.argv[3], [float(t) for t in sys.argv[4:]]
docs = words = ents = rels = 0
for line in open(out, encoding="utf-8"):
    d = json.loads(line)
    docs += 1; words += len(d.get("tokens", [])); ents += len(d.get("entities", [])); rels += len(d.get("relations", []))
med = statistics.median(times)
print(f"| {name} | `{args or '(defaults)'}` | {docs} | {words} | {ents} | {rels} | "
      f"{' / '.join(f'{t:.1f}' for t in times)} | {med:.1f} | {docs / med:.2f} | {words / med:.0f} |")
EOF
}

if [ -z "${BENCH_SKIP_THROUGHPUT:-}" ]; then
  echo "## Throughput: CoNLL-2003 test as raw text"
  echo
  echo "\`ertag annotate $WORK/test.raw.jsonl -o OUT [options]\`, $RUNS runs, median wall time (model loading"
  echo "included). Words: the word tokens ertag found (its own segmentation of the raw text)."
  echo
  echo "| pipeline | options | documents | words | entities | relations | runs (s) | median (s) | documents/s | words/s |"
  echo "|---|---|---:|---:|---:|---:|---|---:|---:|---:|"
  throughput "NER only" "${ner_only[@]}"
  if [ -f "$RELATIONS/relation.json" ]; then
    throughput "NER + relations" --relation-model "$RELATIONS"
  else
    echo
    echo "NER + relations: not measured, there is no relation model in \`$RELATIONS\` yet."
  fi
  echo
fi

# --- 2. peak memory --------------------------------------------------------------------------
if [ -z "${BENCH_SKIP_MEMORY:-}" ]; then
  echo "## Peak memory: corpus size"
  echo
  echo "Short documents: the first $MEM_LINES line(s) (sentences) of each CoNLL-2003 train/dev/test document (1,393),"
  echo "repeated with new ids; \`ertag annotate CORPUS -o OUT\` (the default pipeline: NER, and relations with"
  echo "\`$RELATIONS\` when it exists; default --chunk-size 64) under"
  echo "\`/usr/bin/time -v\`. VmHWM (the peak RSS so far) is also sampled every 2 s and shown as it stood"
  echo "after a quarter and after half of the run's wall time: if memory grew with the corpus, it would keep rising."
  echo
  echo "| documents | words | wall (s) | documents/s | VmHWM at 25% of the run (MiB) | at 50% (MiB) | peak RSS, whole run (MiB) |"
  echo "|---:|---:|---:|---:|---:|---:|---:|"
  for n in $MEM_DOCS; do
    corpus=$WORK/mem.$n.jsonl
    python3 - "$WORK" "$n" "$MEM_LINES" >"$corpus" <<'EOF'
import json, sys
work, want, lines = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
docs = []
for split in ("train", "dev", "test"):
    for line in open(f"{work}/{split}.gold.jsonl", encoding="utf-8"):
        d = json.loads(line)
        docs.append((d["id"], "\n".join(d["text"].split("\n")[:lines])))
out, rep = 0, 0
while out < want:
    for ident, text in docs:
        if out == want:
            break
        print(json.dumps({"id": f"r{rep}-{ident}", "text": text}, ensure_ascii=False))
        out += 1
    rep += 1
EOF
    words=$(python3 -c 'import json,sys; print(sum(len(json.loads(l)["text"].split()) for l in open(sys.argv[1])))' "$corpus")
    log "memory run: $n documents ($words words)"
    t0=$(date +%s.%N)
    /usr/bin/time -v -o "$WORK/mem.$n.time" "$BIN" annotate "$corpus" -o "$WORK/mem.$n.out.jsonl" \
      "${threads[@]}" 2>"$WORK/mem.$n.log" &
    tpid=$!
    : >"$WORK/mem.$n.hwm"
    while kill -0 "$tpid" 2>/dev/null; do
      child=$(pgrep -P "$tpid" | head -1 || true)
      if [ -n "$child" ]; then
        hwm=$(awk '/VmHWM/ {print $2}' "/proc/$child/status" 2>/dev/null || true)
        [ -n "$hwm" ] && echo "$(date +%s.%N) $hwm" >>"$WORK/mem.$n.hwm"
      fi
      sleep 2
    done
    wait "$tpid"
    t1=$(date +%s.%N)
    peak=$(awk -F: '/Maximum resident set size/ {gsub(/ /, "", $2); print $2}' "$WORK/mem.$n.time")
    python3 - "$n" "$words" "$t0" "$t1" "$peak" "$WORK/mem.$n.hwm" <<'EOF'
import sys
n, words, t0, t1, peak, hwm = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]), sys.argv[6]
samples = [tuple(map(float, l.split())) for l in open(hwm) if l.strip()]
def at(frac):
    seen = [kb for t, kb in samples if t <= t0 + frac * (t1 - t0)]
    return f"{seen[-1] / 1024:.0f}" if seen else "n/a"
wall = t1 - t0
print(f"| {n} | {words} | {wall:.0f} | {n / wall:.1f} | {at(0.25)} | {at(0.5)} | {peak / 1024:.0f} |")
EOF
    rm -f "$WORK/mem.$n.out.jsonl"
  done
  echo
fi
