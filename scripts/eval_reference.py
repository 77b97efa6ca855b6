#!/usr/bin/env python3
"""Reference figures for ertag's named-entity measures, from seqeval 1.2.2 and nervaluate 1.2.1.

Usage: eval_reference.py GOLD PRED [PRED ...]

GOLD and each PRED are CoNLL files (token first, tag last; blank lines between sentences;
-DOCSTART- lines are skipped, as ertag's reader does). Prints one JSON object: {"preds": [...]},
one entry per PRED, in order, each with
  seqeval_default  classification_report (conlleval semantics) per type and micro/macro/weighted
  seqeval_strict   the same with mode='strict', scheme=IOB2
  accuracy         seqeval accuracy_score (raw tag strings)
  nervaluate       {"overall": {scheme: counts and P/R/F1}, "entities": {type: {scheme: ...}}}
tests/eval_agreement.rs compares ertag's figures with these. Python is started once for all
predictions because importing seqeval and nervaluate dominates the run time.
"""
import json
import sys
import warnings

from nervaluate import Evaluator
from seqeval.metrics import accuracy_score, classification_report
from seqeval.scheme import IOB2


def read_conll(path):
    sentences, current = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            cols = line.split()
            if not cols:
                if current:
                    sentences.append(current)
                    current = []
            elif cols[0] == "-DOCSTART-":
                continue
            else:
                current.append(cols[-1])
    if current:
        sentences.append(current)
    return sentences


def report(y_true, y_pred, **kw):
    rep = classification_report(y_true, y_pred, output_dict=True, zero_division=0, **kw)
    return {
        label: {
            "precision": float(v["precision"]),
            "recall": float(v["recall"]),
            "f1": float(v["f1-score"]),
            "support": int(v["support"]),
        }
        for label, v in rep.items()
    }


def result(r):
    keys = ["correct", "incorrect", "partial", "missed", "spurious", "possible", "actual"]
    out = {k: int(getattr(r, k)) for k in keys}
    out.update(precision=float(r.precision), recall=float(r.recall), f1=float(r.f1))
    return out


def nervaluate(y_true, y_pred):
    labels = sorted({t[2:] for s in y_true + y_pred for t in s if t != "O"})
    res = Evaluator(y_true, y_pred, tags=labels, loader="list").evaluate()
    return {
        "overall": {scheme: result(r) for scheme, r in res["overall"].items()},
        "entities": {
            label: {scheme: result(r) for scheme, r in by_scheme.items()}
            for label, by_scheme in res["entities"].items()
        },
    }


def main():
    warnings.simplefilter("ignore")
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    y_true = read_conll(sys.argv[1])
    preds = []
    for path in sys.argv[2:]:
        y_pred = read_conll(path)
        if [len(s) for s in y_pred] != [len(s) for s in y_true]:
            sys.exit(f"{path}: sentences differ from the gold file's")
        preds.append(
            {
                "file": path,
                "seqeval_default": report(y_true, y_pred),
                "seqeval_strict": report(y_true, y_pred, mode="strict", scheme=IOB2),
                "accuracy": float(accuracy_score(y_true, y_pred)),
                "nervaluate": nervaluate(y_true, y_pred),
            }
        )
    json.dump({"preds": preds}, sys.stdout)


if __name__ == "__main__":
    main()
