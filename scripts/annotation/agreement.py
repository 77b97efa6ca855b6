#!/usr/bin/env python3
"""Inter-annotator agreement on the doubly annotated documents (issue 7; GUIDELINES.md section 5).

For each doubly annotated set, every ordered pair of entity mentions of one sentence whose two
mentions both annotators have (same character span, after each one's ENTITY-* edits) is a yes/no
decision for each of the 16 labels (for a symmetric label the unordered pair is one decision).
Cohen's kappa is computed per label and overall (all label decisions pooled).

  python3 scripts/annotation/agreement.py                    # table on standard output
  python3 scripts/annotation/agreement.py --markdown FILE    # also write the Markdown report tables
  python3 scripts/annotation/agreement.py --disagreements    # list every disagreement with its sentence
"""
import argparse
import os
import sys
from collections import Counter

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import build  # noqa: E402

# (name, raw folder, kind, split, annotator A, annotator B)
DOUBLE = [
    ("CoNLL-2003 train batch 00", "eval/corpus/raw/conll2003-train", "conll", "train", "A1", "B1"),
    ("CoNLL-2003 test batch 02", "eval/gold/raw/conll2003-test", "conll", "test", "A7", "B1"),
    ("CAMEO train, 120 sentences", "eval/corpus/raw/cameo-train", "cameo", "train", "A9", "B2"),
    ("CoNLL-2003 dev batch 02", "eval/corpus/raw/conll2003-dev", "conll", "dev", "A9", "B3"),
    ("CoNLL-2003 train-extra batch 00", "eval/corpus/raw/conll2003-train-extra", "conll", "train", "A13", "B3"),
    ("re3d batch 03", "eval/corpus/raw/re3d", "re3d", None, "A18", "B4"),
    ("cameo_class, 60 sentences", "eval/corpus/raw/cameoc", "cameoc", None, "A19", "B4"),
]


def decisions(doc, ents_a, rels_a, ents_b, rels_b):
    """{(label, span_pair): (yes_a, yes_b)} over the pairs both annotators have."""
    span_a = {(e["start"], e["end"]): i for i, e in ents_a.items()}
    span_b = {(e["start"], e["end"]): i for i, e in ents_b.items()}
    common = sorted(set(span_a) & set(span_b))

    def as_spans(rels, ents):
        out = set()
        for h, label, t in rels:
            hs, ts = (ents[h]["start"], ents[h]["end"]), (ents[t]["start"], ents[t]["end"])
            if label in build.SYMMETRIC:
                hs, ts = min(hs, ts), max(hs, ts)
            out.add((label, hs, ts))
        return out

    ra, rb = as_spans(rels_a, ents_a), as_spans(rels_b, ents_b)
    out = {}
    for x in common:
        for y in common:
            if x == y or build.sentence_of(doc, *x) != build.sentence_of(doc, *y):
                continue
            for label in build.LABELS:
                if label in build.SYMMETRIC and x > y:
                    continue
                key = (label, x, y)
                out[key] = (key in ra, key in rb)
    return out, common


def kappa(pairs):
    n = len(pairs)
    if n == 0:
        return None, None
    agree = sum(a == b for a, b in pairs) / n
    pa = sum(a for a, _ in pairs) / n
    pb = sum(b for _, b in pairs) / n
    pe = pa * pb + (1 - pa) * (1 - pb)
    if pe == 1:
        return None, agree
    return (agree - pe) / (1 - pe), agree


def study(shared, ertag, name, raw_dir, kind, split, who_a, who_b, problems):
    docs = build.source_docs(kind, split, shared, ertag, raw_dir, problems)
    anns = build.annotations(raw_dir, problems)
    per_label = {label: [] for label in build.LABELS}
    disagreements = []
    n_docs = 0
    for doc_id in sorted(anns, key=build.order_key):
        by = anns[doc_id]
        if who_a not in by or who_b not in by:
            continue
        n_docs += 1
        doc = docs[doc_id]
        ea, ra, _ = build.apply(doc, by[who_a][1], by[who_a][0], problems)
        eb, rb, _ = build.apply(doc, by[who_b][1], by[who_b][0], problems)
        dec, _ = decisions(doc, ea, ra, eb, rb)
        for (label, x, y), (a, b) in sorted(dec.items(), key=lambda kv: (kv[0][1], kv[0][2], kv[0][0])):
            per_label[label].append((a, b))
            if a != b:
                disagreements.append((doc, label, x, y, a, b, ea, eb))
    return n_docs, per_label, disagreements


def table(name, who_a, who_b, n_docs, per_label, heading=None):
    lines = [
        heading or f"**{name}** ({who_a} vs {who_b}, {n_docs} documents)",
        "",
        f"| label | pairs | positives {who_a} | positives {who_b} | both | observed agreement | kappa |",
        "|---|---|---|---|---|---|---|",
    ]
    pooled = []
    for label in build.LABELS:
        d = per_label[label]
        pooled += d
        k, po = kappa(d)
        pos_a, pos_b = sum(a for a, _ in d), sum(b for _, b in d)
        both = sum(a and b for a, b in d)
        ks = "n/a" if k is None else f"{k:.3f}"
        pos = "" if po is None else f"{po:.4f}"
        lines.append(f"| {label} | {len(d)} | {pos_a} | {pos_b} | {both} | {pos} | {ks} |")
    k, po = kappa(pooled)
    pos_a, pos_b = sum(a for a, _ in pooled), sum(b for _, b in pooled)
    both = sum(a and b for a, b in pooled)
    ks = "n/a" if k is None else f"{k:.3f}"
    lines.append(f"| **overall** | {len(pooled)} | {pos_a} | {pos_b} | {both} | {po:.4f} | **{ks}** |")
    return "\n".join(lines) + "\n"


def describe(doc, label, x, y, a, b, ea, eb, who_a, who_b):
    text = doc["text"]
    s = build.sentence_of(doc, *x)
    ss, se = doc["sentences"][s]
    arrow = "--" if label in build.SYMMETRIC else "->"
    has = who_a if a else who_b
    id_a = next(i for i, e in ea.items() if (e["start"], e["end"]) == x)
    id_b = next(i for i, e in ea.items() if (e["start"], e["end"]) == y)
    return (
        f"{doc['id']} S{s} {id_a} {text[x[0]:x[1]]!r} {arrow} {id_b} {text[y[0]:y[1]]!r} "
        f"[{label}] only {has}\n    {text[ss:se]}"
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=os.environ.get("ERTAG_SHARED", os.path.join(build.ROOT, "..", "shared")))
    ap.add_argument("--ertag", default=os.environ.get("ERTAG", os.path.join(build.ROOT, "target/release/ertag")))
    ap.add_argument("--markdown", help="write the tables to this file")
    ap.add_argument("--disagreements", action="store_true")
    a = ap.parse_args()
    problems = build.Problems()
    out = []
    pooled = {label: [] for label in build.LABELS}
    total_docs = 0
    for name, raw_dir, kind, split, who_a, who_b in DOUBLE:
        n_docs, per_label, dis = study(a.shared, a.ertag, name, raw_dir, kind, split, who_a, who_b, problems)
        out.append(table(name, who_a, who_b, n_docs, per_label))
        total_docs += n_docs
        for label in build.LABELS:
            pooled[label] += per_label[label]
        if a.disagreements:
            print(f"## {name}: {len(dis)} disagreements")
            for d in dis:
                print(describe(*d, who_a, who_b))
            kinds = Counter((d[1], "only " + (who_a if d[4] else who_b)) for d in dis)
            for (label, who), n in kinds.most_common():
                print(f"#   {label} {who}: {n}")
    heading = f"**All {len(DOUBLE)} sets pooled** (first vs second annotator of each set, {total_docs} documents)"
    out.append(table("all", "first", "second", total_docs, pooled, heading))
    text = "\n".join(out)
    if not a.disagreements:
        print(text)
    if a.markdown:
        with open(a.markdown, "w", encoding="utf-8") as f:
            f.write(text)


if __name__ == "__main__":
    main()
