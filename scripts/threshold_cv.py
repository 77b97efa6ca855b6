#!/usr/bin/env python3
"""How should a relation model's per-label thresholds be chosen? Cross-validation on dev.

Training picks each label's threshold to maximise that label's strict F1 on dev. For a label
with a handful of dev mentions that choice is noise. This script compares policies without
touching the test set to choose: it scores every dev candidate once (a copy of the model with
every threshold at the training floor, 0.05), then, 5 folds over dev documents, repeated with 3
shuffles, tunes each policy's thresholds on four folds and scores the fifth (strict matching,
micro- and macro-F1 over the schema's labels, counts pooled over the held-out folds). It also
prints each policy's gold-test score with thresholds tuned on all of dev, for reference only.

Policies: `0.5` (one fixed threshold), `pooled` (one threshold maximising dev micro-F1),
`per-label` (training's), and `per-label >= k` (per label where the label has at least k dev
mentions, else the pooled threshold). Thresholds are tried on a grid of 0.05..0.99; ties go
to the lowest.

    python3 scripts/threshold_cv.py [MODEL_DIR]      # `make threshold-cv`; default models/relations
"""
import json
import random
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / "target/release/ertag"
DEV = ROOT / "eval/corpus/geopolitics-dev.jsonl"
GOLD = ROOT / "eval/gold/geopolitics-test.jsonl"
FLOOR = 0.05
GRID = [t / 100 for t in range(5, 100)]
FOLDS, REPEATS = 5, 3


def score_all(model: Path, standoff: Path, work: Path, name: str):
    """Gold and predicted documents of one set, predicted with every score >= FLOOR kept."""
    gold = work / f"{name}.gold.jsonl"
    subprocess.run([BIN, "convert", standoff, "-o", gold], check=True, capture_output=True)
    inp = work / f"{name}.input.jsonl"
    with gold.open() as f, inp.open("w") as out:
        for line in f:
            d = json.loads(line)
            keep = {k: d[k] for k in ("id", "text", "sentences", "tokens") if k in d}
            out.write(json.dumps(keep, ensure_ascii=False) + "\n")
    pred = work / f"{name}.pred.jsonl"
    subprocess.run([BIN, "annotate", inp, "--relation-model", model, "-o", pred], check=True,
                   capture_output=True)
    return gold, pred


def relation_keys(path: Path, symmetric: set, scored: bool):
    """Per document: gold relation keys, or predicted keys with their best score. A key is
    (head span and type, tail span and type, label), symmetric labels in text order."""
    out = {}
    for line in path.open():
        d = json.loads(line)
        ents = {e["id"]: (e["start"], e["end"], e["label"]) for e in d.get("entities", [])}
        keys = {}
        for r in d.get("relations", []):
            h, t = ents[r["head"]], ents[r["tail"]]
            if r["label"] in symmetric and t < h:
                h, t = t, h
            k = (h, t, r["label"])
            keys[k] = max(keys.get(k, 0.0), r.get("score") or 1.0)
        out[d["id"]] = keys if scored else set(keys)
    return out


def counts(docs, gold, pred, threshold):
    c = defaultdict(lambda: [0, 0, 0])  # label -> tp, fp, fn
    for d in docs:
        g = gold[d]
        p = {k for k, s in pred.get(d, {}).items() if s >= threshold(k[2])}
        for k in p:
            c[k[2]][0 if k in g else 1] += 1
        for k in g - p:
            c[k[2]][2] += 1
    return c


def f1(tp, fp, fn):
    return 2 * tp / (2 * tp + fp + fn) if tp else 0.0


def micro(c):
    return f1(*(sum(v[i] for v in c.values()) for i in range(3)))


def macro(c, labels):
    return sum(f1(*c[l]) for l in labels) / len(labels)


def tune(docs, gold, pred, labels, policy):
    """The threshold function `policy` chooses on `docs`."""
    if policy == "0.5":
        return lambda _: 0.5
    pooled = max(GRID, key=lambda t: micro(counts(docs, gold, pred, lambda _: t)))
    if policy == "pooled":
        return lambda _: pooled
    support = defaultdict(int)
    for d in docs:
        for k in gold[d]:
            support[k[2]] += 1
    per = {}
    for l in labels:
        only = [(t, f1(*counts(docs, gold, pred, lambda x, t=t: t if x == l else 2.0)[l]))
                for t in GRID]
        per[l] = max(only, key=lambda x: x[1])[0]  # first maximum: the lowest threshold
    k = int(policy.split(">=")[1]) if ">=" in policy else 0
    return lambda l: per[l] if support[l] >= k else pooled


def main():
    model = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "models/relations").resolve()
    schema = tomllib.loads((model / "schema.toml").read_text())
    rels = schema["relations"]
    labels = [r["name"] for r in rels]
    symmetric = {r["name"] for r in rels if r.get("direction") == "symmetric"}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        floor_model = work / "model"
        shutil.copytree(model, floor_model)
        settings = json.loads((model / "relation.json").read_text())
        settings["ner_model"] = str((model / settings["ner_model"]).resolve())
        settings["thresholds"] = [FLOOR] * len(settings["thresholds"])
        (floor_model / "relation.json").write_text(json.dumps(settings, indent=2))
        sets = {}
        for name, path in (("dev", DEV), ("gold", GOLD)):
            g, p = score_all(floor_model, path, work, name)
            sets[name] = (relation_keys(g, symmetric, False), relation_keys(p, symmetric, True))
    gold, pred = sets["dev"]
    docs = sorted(gold)
    policies = ["0.5", "pooled", "per-label", "per-label >=5", "per-label >=10", "per-label >=20"]
    print(f"# Relation thresholds: {FOLDS}-fold cross-validation on dev ({REPEATS} shuffles)\n")
    print(f"Model `{model.relative_to(ROOT) if model.is_relative_to(ROOT) else model}`, "
          f"dev {len(docs)} documents, `scripts/threshold_cv.py`.\n")
    print("| policy | dev CV micro-F1 | dev CV macro-F1 | gold micro-F1 | gold macro-F1 |")
    print("|---|---|---|---|---|")
    gg, gp = sets["gold"]
    for policy in policies:
        mi, ma = [], []
        for rep in range(REPEATS):
            shuffled = docs[:]
            random.Random(rep).shuffle(shuffled)
            folds = [shuffled[i::FOLDS] for i in range(FOLDS)]
            total = defaultdict(lambda: [0, 0, 0])
            for i, held in enumerate(folds):
                rest = [d for j, f in enumerate(folds) if j != i for d in f]
                for l, v in counts(held, gold, pred, tune(rest, gold, pred, labels, policy)).items():
                    for j in range(3):
                        total[l][j] += v[j]
            mi.append(micro(total))
            ma.append(macro(total, labels))
        c = counts(sorted(gg), gg, gp, tune(docs, gold, pred, labels, policy))
        print(f"| {policy} | {100 * sum(mi) / len(mi):.2f} | {100 * sum(ma) / len(ma):.2f} "
              f"| {100 * micro(c):.2f} | {100 * macro(c, labels):.2f} |")


if __name__ == "__main__":
    main()
