#!/usr/bin/env python3
"""ertag's speed benchmark (issue 6): ertag vs Python transformers vs rust-bert's NERModel.

    make bench                                # the full run, writes eval/results/bench.{md,json}
    python scripts/bench/bench.py --quick     # a smoke test on a few documents, one run each

Every tool runs the same weights (models/ner) on 2 threads, on two corpora made from the
CoNLL-2003 test set as raw text: its 231 stories, and the same stories joined into 20 long
documents. Each measurement is a warm-up run followed by --runs timed runs (the median is
reported); peak RSS comes from /usr/bin/time -v. The matrix-product peak of the machine is
measured in the same run (torch fp32 2048x2048 matmul on 2 threads, best of N), and FLOP
efficiency is the model's useful FLOPs per second over it.

Internal sub-command `hf` (run under /usr/bin/time by the driver): the transformers pipeline.
"""

import argparse
import datetime
import json
import os
import platform
import re
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GOLD = ROOT.parent / "shared/data/conll2003/iob2/test.txt"
MODEL = ROOT / "models/ner"
RELATIONS = ROOT / "models/relations"
BIN = ROOT / "target/release/ertag"
RUST_BERT = ROOT / "target/release/examples/rust_bert_ner"
PROFILE = ROOT / "target/release/examples/ertag_profile"
WORK = ROOT / ".cache/bench"
THREADS = 2
LONG_DOCS = 20


# --------------------------------------------------------------------------------------------
# Model FLOPs
# --------------------------------------------------------------------------------------------

def flops_per_token(config, context=128):
    """Useful forward FLOPs per sub-word of a BERT encoder + linear tagging head.

    2 * (weights a token is multiplied by) + attention scores and weighted sum:
      linear = layers * (4 d^2 + 2 d d_ff) + d * labels      (Q, K, V, output; FFN in, out; head)
      flops  = 2 * linear + 4 * layers * d * context           (Q.K^T and A.V over `context` keys)
    Embedding look-ups, layer norms, GELU and softmax are left out (a few percent)."""
    d, ff, n = config["hidden_size"], config["intermediate_size"], config["num_hidden_layers"]
    labels = len(config["id2label"])
    linear = n * (4 * d * d + 2 * d * ff) + d * labels
    return 2 * linear + 4 * n * d * context


def matmul_peak(threads, size=2048, reps=10, kind="float32"):
    """Best FLOP/s of a square torch matmul on `threads` threads."""
    import torch

    torch.set_num_threads(threads)
    dtype = getattr(torch, kind)
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    for _ in range(2):
        a @ b
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * size**3 / best


# --------------------------------------------------------------------------------------------
# Corpus
# --------------------------------------------------------------------------------------------

def prepare(quick):
    """Write the two corpora as {"id", "text"} JSON Lines; return their word and sub-word counts."""
    WORK.mkdir(parents=True, exist_ok=True)
    full = WORK / "test.full.jsonl"
    if not full.exists():
        subprocess.run([str(BIN), "convert", str(GOLD), "--to", "jsonl", "-o", str(full)],
                       check=True, stderr=subprocess.DEVNULL)
    docs = [json.loads(line) for line in full.open()]
    if quick:
        docs = docs[:6]
    stories = [{"id": d["id"], "text": d["text"], "words": len(d["tokens"])} for d in docs]
    n_long = min(LONG_DOCS, len(stories))
    long_docs = []
    for i in range(n_long):
        part = stories[i * len(stories) // n_long:(i + 1) * len(stories) // n_long]
        long_docs.append({"id": f"long-{i + 1}", "text": "\n\n".join(s["text"] for s in part),
                          "words": sum(s["words"] for s in part)})
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    corpora = {}
    for name, ds in [("stories", stories), ("long", long_docs)]:
        path = WORK / f"{name}{'.quick' if quick else ''}.jsonl"
        with path.open("w") as f:
            for d in ds:
                f.write(json.dumps({"id": d["id"], "text": d["text"]}) + "\n")
        subwords = sum(len(e.ids) for e in tok.encode_batch([d["text"] for d in ds],
                                                            add_special_tokens=False))
        corpora[name] = {"path": str(path), "documents": len(ds),
                         "words": sum(d["words"] for d in ds), "subwords": subwords}
    tiny = WORK / "tiny.jsonl"
    tiny.write_text(json.dumps({"id": "tiny", "text": "Rain fell in Paris."}) + "\n")
    return corpora, tiny


# --------------------------------------------------------------------------------------------
# Running and timing
# --------------------------------------------------------------------------------------------

def timed(cmd):
    """Run `cmd` under /usr/bin/time -v: (wall seconds, peak RSS in MB, stdout)."""
    t = time.perf_counter()
    p = subprocess.run(["/usr/bin/time", "-v"] + cmd, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"failed ({p.returncode}): {shlex.join(cmd)}\n{p.stderr[-3000:]}")
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", p.stderr).group(1))
    return wall, rss / 1024, p.stdout


def bench_ertag(corpus, tiny, runs, extra):
    """ertag annotate: each run is a process. Load time = median wall time of a one-sentence
    document (start-up + model load); annotation time = median wall time - load time."""
    out = WORK / "ertag.out.jsonl"

    def cmd(path):
        return [str(BIN), "--threads", str(THREADS), "annotate", str(path), "--from", "jsonl",
                "-o", str(out)] + extra

    timed(cmd(tiny))
    load = statistics.median(timed(cmd(tiny))[0] for _ in range(runs))
    timed(cmd(corpus["path"]))  # warm-up
    walls, rss = [], []
    for _ in range(runs):
        w, r, _ = timed(cmd(corpus["path"]))
        walls.append(w)
        rss.append(r)
    entities = sum(len(json.loads(line)["entities"]) for line in out.open())
    return {"load_s": load, "run_s": [w - load for w in walls], "wall_s": walls,
            "rss_mb": max(rss), "entities": entities, "command": shlex.join(cmd("CORPUS"))}


def bench_hf(corpus, runs, batch_size):
    cmd = [sys.executable, __file__, "hf", corpus["path"], "--runs", str(runs),
           "--batch-size", str(batch_size)]
    _, rss, stdout = timed(cmd)
    r = json.loads(stdout.strip().splitlines()[-1])
    r["rss_mb"] = rss
    r["command"] = f"pipeline('token-classification', aggregation_strategy='first', batch_size={batch_size}, stride=128)"
    return r


def bench_rust_bert(corpus, runs, batch):
    cmd = [str(RUST_BERT), str(MODEL), corpus["path"], "--threads", str(THREADS), "--runs",
           str(runs), "--batch", str(batch)]
    _, rss, stdout = timed(cmd)
    r = json.loads(stdout.strip().splitlines()[-1])
    r["rss_mb"] = rss
    r["command"] = f"cargo run --release --example rust_bert_ner -- models/ner CORPUS --batch {batch}"
    return r


def f1_by_precision(precisions):
    """CoNLL-2003 test micro F1 of ertag annotating the CoNLL test file itself, per precision,
    with the annotation time (one process, model load included)."""
    out = {}
    for prec in precisions:
        pred = WORK / f"test.{prec}.jsonl"
        t = time.perf_counter()
        subprocess.run([str(BIN), "--threads", str(THREADS), "annotate", str(GOLD), "--from",
                        "conll", "--no-relations", "--precision", prec, "-o", str(pred)],
                       check=True, stderr=subprocess.DEVNULL)
        wall = time.perf_counter() - t
        p = subprocess.run([str(BIN), "eval", "--gold", str(GOLD), "--pred", str(pred), "--json"],
                           capture_output=True, text=True, check=True)
        e = json.loads(p.stdout)["entities"]
        out[prec] = {"f1": 100 * e["scores"]["micro"]["f1"],
                     "ci": [100 * e["micro_f1_ci"]["low"], 100 * e["micro_f1_ci"]["high"]],
                     "wall_s": wall}
    return out


def profile_ertag(corpus, precision):
    """Stage times and computed sub-words of ertag's NER (examples/ertag_profile.rs) on the
    first 40 documents of `corpus`."""
    part = WORK / f"{Path(corpus['path']).stem}.first40.jsonl"
    part.write_text("".join(open(corpus["path"]).readlines()[:40]))
    p = subprocess.run([str(PROFILE), str(MODEL), str(part), "--threads", str(THREADS),
                        "--precision", precision], capture_output=True, text=True, check=True)
    r = json.loads(p.stdout.strip().splitlines()[-1])
    from tokenizers import Tokenizer

    tok = Tokenizer.from_file(str(MODEL / "tokenizer.json"))
    tok.no_padding()
    tok.no_truncation()
    texts = [json.loads(line)["text"] for line in part.open()]
    r["corpus_subwords"] = sum(len(e.ids) for e in tok.encode_batch(texts, add_special_tokens=False))
    return r


def profile_ops(threads, attention, batch=16, length=128):
    """Share of CPU time per operator of one MiniLM-L6 forward pass [batch, length] in torch
    fp32 (the same libtorch kernels tch calls): what the matrix products leave to the rest.
    attention "eager" computes attention as rust-bert (and so ertag) does: matmul, scale,
    mask, softmax, matmul; "sdpa" is transformers' default fused kernel."""
    import torch
    from transformers import AutoModelForTokenClassification

    torch.set_num_threads(threads)
    model = AutoModelForTokenClassification.from_pretrained(
        str(MODEL), attn_implementation=attention).eval()
    ids = torch.randint(1000, 20000, (batch, length))
    mask = torch.ones_like(ids)
    with torch.no_grad():
        for _ in range(2):
            model(input_ids=ids, attention_mask=mask)
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
            for _ in range(3):
                model(input_ids=ids, attention_mask=mask)
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    top = sorted(events, key=lambda e: -e.self_cpu_time_total)[:8]
    return {e.key: e.self_cpu_time_total / total for e in top}


def hf_main(args):
    """The transformers pipeline on one corpus: load, warm-up, `runs` timed runs."""
    import torch

    torch.set_num_threads(THREADS)
    t = time.perf_counter()
    from transformers import AutoTokenizer, pipeline

    tok = AutoTokenizer.from_pretrained(str(MODEL), model_max_length=512)
    ner = pipeline("token-classification", model=str(MODEL), tokenizer=tok,
                   aggregation_strategy="first", device=-1)
    load = time.perf_counter() - t
    texts = [json.loads(line)["text"] for line in open(args.corpus)]

    def once():
        # stride: documents longer than 512 sub-words are cut into overlapping windows rather
        # than truncated (transformers' own way of reading all of a long text).
        out = ner(texts, batch_size=args.batch_size, stride=128)
        return sum(len(o) for o in out)

    t = time.perf_counter()
    entities = once()
    warm = time.perf_counter() - t
    times = []
    for _ in range(args.runs):
        t = time.perf_counter()
        once()
        times.append(time.perf_counter() - t)
    print(json.dumps({"tool": "transformers pipeline", "load_s": load, "warmup_s": warm,
                      "run_s": times, "entities": entities, "batch_size": args.batch_size,
                      "transformers": __import__("transformers").__version__,
                      "torch": torch.__version__}))


# --------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------

def row(tool, setting, corpus, r, fpt, peak):
    t = statistics.median(r["run_s"])
    words, subwords = corpus["words"] / t, corpus["subwords"] / t
    return {"tool": tool, "setting": setting, "corpus": corpus["name"], "time_s": t,
            "words_per_s": words, "subwords_per_s": subwords, "rss_mb": r["rss_mb"],
            "load_s": r["load_s"], "gflops": subwords * fpt / 1e9,
            "efficiency": subwords * fpt / peak, "entities": r.get("entities"),
            "runs_s": r["run_s"], "command": r.get("command")}


def markdown(result):
    lines = [
        "# ertag speed benchmark",
        "",
        f"Made by `make bench` (`{result['command']}`) on {result['date']}, "
        f"{result['machine']}, {THREADS} threads, median of {result['runs']} runs after a warm-up run.",
        "",
        f"Matrix-product peak measured in this run: {result['peak_gflops']:.0f} GFLOP/s fp32 "
        f"(torch 2048x2048 matmul, {THREADS} threads, best of 10)"
        + (f", {result['peak_bf16_gflops']:.0f} GFLOP/s bf16" if result.get("peak_bf16_gflops") else "")
        + ".",
        f"Model FLOPs: {result['flops_per_token'] / 1e6:.2f} MFLOP per sub-word "
        "= 2 * (layers * (4 d^2 + 2 d d_ff) + d * labels) + 4 * layers * d * 128 "
        "(MiniLM-L6: d = 384, d_ff = 1536, 6 layers, 9 labels; attention over 128 keys). "
        "Counted on the corpus's own sub-words (no special tokens, padding, context or "
        "window overlap), so work a tool repeats counts against its efficiency. Efficiency is "
        "over the fp32 peak, except for bf16 rows (over the bf16 peak).",
        "",
    ]
    for name, c in result["corpora"].items():
        lines += [
            f"## {name}: {c['documents']} documents, {c['words']:,} words, {c['subwords']:,} sub-words",
            "",
            "| tool | setting | words/s | sub-words/s | time (s) | peak RSS (MB) | load (s) | GFLOP/s | efficiency | entities |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for r in result["rows"]:
            if r["corpus"] != name:
                continue
            lines.append(
                f"| {r['tool']} | {r['setting']} | {r['words_per_s']:,.0f} | "
                f"{r['subwords_per_s']:,.0f} | {r['time_s']:.2f} | {r['rss_mb']:.0f} | "
                f"{r['load_s']:.2f} | {r['gflops']:.1f} | {100 * r['efficiency']:.0f}% | "
                f"{r['entities']} |")
        lines.append("")
    lines += ["## Notes", ""] + [f"- {n}" for n in result["notes"]] + [""]
    return "\n".join(lines)


def cpu_model():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.machine()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--quick", action="store_true", help="a few documents, one run: a smoke test")
    p.add_argument("--hf-batch-sizes", default="1,8,32")
    p.add_argument("--rust-bert-batch", type=int, default=32)
    p.add_argument("--skip", default="", help="comma-separated: ertag,hf,rust-bert,profile,f1")
    p.add_argument("--corpora", default="stories,long", help="comma-separated: stories,long")
    p.add_argument("--out", default=str(ROOT / "eval/results/bench"))
    args = p.parse_args()
    if args.quick:
        args.runs = 1
    skip = set(filter(None, args.skip.split(",")))
    config = json.loads((MODEL / "config.json").read_text())
    fpt = flops_per_token(config)
    corpora, tiny = prepare(args.quick)
    corpora = {k: v for k, v in corpora.items() if k in args.corpora.split(",")}
    for name, c in corpora.items():
        c["name"] = name
    peak = matmul_peak(THREADS)
    peak_bf16 = matmul_peak(THREADS, kind="bfloat16")
    print(f"matmul peak: {peak / 1e9:.0f} GFLOP/s fp32, {peak_bf16 / 1e9:.0f} bf16", file=sys.stderr)
    notes = [
        "Same weights everywhere (models/ner, fp16 on disk, run in fp32). ertag feeds each word's "
        "casing class as its token type (the model was trained with them); transformers and "
        "rust-bert cannot, so they run with token types 0: the same compute, other inputs "
        "(their entities differ).",
        "ertag: one process per run; load = median wall time of a one-sentence document "
        "(process start + model load), time = wall time - load. transformers and rust-bert: "
        "timed inside one process (load once, warm-up run, timed runs).",
        "ertag windows: at most 128 sub-words with neighbouring sentences as context. "
        "transformers: model_max_length 512, stride 128 (the pipeline's way of reading a whole "
        "long text). rust-bert: its own windows, max_length 512 from config.json.",
    ]
    rows = []
    precision = "--precision" in subprocess.run([str(BIN), "annotate", "--help"],
                                                capture_output=True, text=True).stdout
    for name, c in corpora.items():
        print(f"== {name}: {c}", file=sys.stderr)
        if "ertag" not in skip:
            r = bench_ertag(c, tiny, args.runs, ["--no-relations"])
            rows.append(row("ertag", "NER, fp32", c, r, fpt, peak))
            print(rows[-1], file=sys.stderr)
            if precision:
                r = bench_ertag(c, tiny, args.runs, ["--no-relations", "--precision", "bf16"])
                rows.append(row("ertag", "NER, bf16", c, r, fpt, peak_bf16))
                print(rows[-1], file=sys.stderr)
            if (RELATIONS / "relation.json").is_file():
                r = bench_ertag(c, tiny, args.runs, [])
                rows.append(row("ertag", "NER + relations, fp32", c, r, fpt, peak))
                print(rows[-1], file=sys.stderr)
                if precision:
                    r = bench_ertag(c, tiny, args.runs, ["--precision", "bf16"])
                    rows.append(row("ertag", "NER + relations, bf16", c, r, fpt, peak_bf16))
                    print(rows[-1], file=sys.stderr)
        if "hf" not in skip:
            best = None
            for bs in map(int, args.hf_batch_sizes.split(",")):
                r = row("transformers", f"pipeline, batch_size {bs}", c,
                        bench_hf(c, args.runs, bs), fpt, peak)
                print(r, file=sys.stderr)
                if best is None or r["time_s"] < best["time_s"]:
                    best = r
                c.setdefault("hf_batch_sizes", {})[bs] = r["time_s"]
            best["setting"] += " (best of " + args.hf_batch_sizes.replace(",", ", ") + ")"
            rows.append(best)
        if "rust-bert" not in skip:
            r = bench_rust_bert(c, args.runs, args.rust_bert_batch)
            c["rust_bert_windows"] = r["windows"]
            rows.append(row("rust-bert", f"NERModel, batch {args.rust_bert_batch}", c, r, fpt, peak))
            print(rows[-1], file=sys.stderr)
        # What is done so far survives an interrupted run.
        (WORK / "bench.partial.json").write_text(json.dumps(rows, indent=1) + "\n")
    profiles = {}
    if "profile" not in skip:
        for prec in ["fp32", "bf16"] if precision else ["fp32"]:
            r = profile_ertag(next(iter(corpora.values())), prec)
            profiles[prec] = r
            print(r, file=sys.stderr)
            notes.append(
                f"Profile of ertag NER {prec} (examples/ertag_profile.rs, first {r['documents']} "
                f"stories): the encoder computes {r['window_subwords'] / r['corpus_subwords']:.2f} "
                f"sub-words per corpus sub-word (context sentences filling each 128-sub-word "
                f"window, [CLS]/[SEP]) and {r['padded_subwords'] / r['corpus_subwords']:.2f} with "
                f"padding; forward passes {r['forward_s']:.2f} s, segmentation "
                f"{r['segment_s']:.3f} s, windows (tokenizer) {r['windows_s']:.3f} s; whole "
                f"annotate {r['annotate_s']:.2f} s.")
        for attention in ["eager", "sdpa"]:
            ops = profile_ops(THREADS, attention)
            profiles[f"torch_ops_fp32_16x128_{attention}"] = ops
            notes.append(f"CPU time by operator of a MiniLM-L6 forward pass (16 x 128, torch fp32, "
                         f"{attention} attention, torch.profiler): "
                         + ", ".join(f"{k} {100 * v:.0f}%" for k, v in ops.items()) + ".")
    f1 = {}
    if precision and "f1" not in skip and not args.quick:
        f1 = f1_by_precision(["fp32", "bf16"])
        print(f1, file=sys.stderr)
        loss = f1["fp32"]["f1"] - f1["bf16"]["f1"]
        notes.append(
            f"CoNLL-2003 test micro F1 (`ertag annotate test.txt --from conll --precision P`, "
            f"`ertag eval`): fp32 {f1['fp32']['f1']:.2f} [{f1['fp32']['ci'][0]:.2f}, "
            f"{f1['fp32']['ci'][1]:.2f}], bf16 {f1['bf16']['f1']:.2f} "
            f"[{f1['bf16']['ci'][0]:.2f}, {f1['bf16']['ci'][1]:.2f}]: bf16 loses {loss:.2f} F1 "
            f"(limit 0.3); the whole command takes {f1['fp32']['wall_s']:.1f} s in fp32, "
            f"{f1['bf16']['wall_s']:.1f} s in bf16.")
    if not (RELATIONS / "relation.json").is_file():
        notes.append("NER + relations not measured: models/relations/ does not exist yet.")
    if not precision:
        notes.append("This ertag build has no --precision option: no bf16 row.")
    for name, c in corpora.items():
        base = [r for r in rows if r["corpus"] == name]
        ertag = next((r for r in base if r["setting"] == "NER, fp32"), None)
        others = [r for r in base if r["tool"] != "ertag"]
        for setting in ["NER, fp32", "NER, bf16"]:
            mine = next((r for r in base if r["setting"] == setting), None)
            if mine and others:
                ratios = ", ".join(f"{mine['words_per_s'] / r['words_per_s']:.2f}x {r['tool']}"
                                   for r in others)
                notes.append(f"{name}: ertag {setting} words/s = {ratios} (target: 1.5x each).")
        for prec in ["fp32", "bf16"]:
            ner = next((r for r in base if r["setting"] == f"NER, {prec}"), None)
            rel = next((r for r in base if r["setting"] == f"NER + relations, {prec}"), None)
            if ner and rel:
                notes.append(f"{name}: NER + relations takes {rel['time_s'] / ner['time_s']:.2f}x "
                             f"the time of NER only in {prec} (target: at most 1.3x).")
    result = {
        "command": "python scripts/bench/bench.py" + (" --quick" if args.quick else ""),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{cpu_model()}, {os.cpu_count()} cores",
        "runs": args.runs,
        "peak_gflops": peak / 1e9,
        "peak_bf16_gflops": peak_bf16 / 1e9,
        "flops_per_token": fpt,
        "corpora": corpora,
        "rows": rows,
        "profiles": profiles,
        "f1": f1,
        "notes": notes,
    }
    out = Path(str(WORK / "bench.quick") if args.quick else args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    Path(f"{out}.json").write_text(json.dumps(result, indent=1) + "\n")
    Path(f"{out}.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "hf":
        p = argparse.ArgumentParser()
        p.add_argument("cmd")
        p.add_argument("corpus")
        p.add_argument("--runs", type=int, default=3)
        p.add_argument("--batch-size", type=int, default=8)
        hf_main(p.parse_args())
    else:
        main()
