#!/usr/bin/env python3
"""Render documents for relation annotation (issue 7): one numbered sentence per line with its
entity mentions marked [[T3 Putin|PER]], so an annotator can write relations by mention id.

Input: ertag JSONL (e.g. `ertag convert ../shared/data/conll2003/iob2/train.txt --to jsonl`).
Selection: documents that look like politics or general news, not sport (keyword scores below),
in a fixed order so batches are reproducible.

  python3 scripts/annotation/render.py IN.jsonl OUTDIR --batch-size 40 [--all] [--ids FILE]

Writes OUTDIR/batch-NN.txt (rendered) and OUTDIR/batch-NN.ids (the document ids in it).
"""
import argparse
import json
import os
import re

POLITICS = re.compile(
    r"\b(president|minister|government|talks|parliament|army|troops|military|rebels?|police|"
    r"embassy|ambassador|diplomat\w*|sanctions?|treaty|election|party|leader|prime|foreign|"
    r"peace|war|nato|united nations|u\.n\.|security|summit|visit\w*|met|meeting|killed|attack\w*|"
    r"opposition|officials?|spokesman|ministry|cabinet|accord|agreement|protest\w*|vote)\b",
    re.I,
)
SPORT = re.compile(
    r"\b(soccer|football|cricket|tennis|golf|baseball|basketball|hockey|rugby|cycling|athletics|"
    r"olympic|league|cup|innings|wickets?|goals?|match|scored|seed|round|championship|racing|"
    r"grand prix|standings|halftime|tournament|win|beat|draw|points|sets?|runs|batting|"
    r"results|division|premier|final|season|club|coach|player|team)\b",
    re.I,
)


def politics_score(doc):
    text = doc["text"]
    words = max(1, len(text.split()))
    pol = len(POLITICS.findall(text)) / words
    sport = len(SPORT.findall(text)) / words
    return pol - 2 * sport


def render(doc):
    text = doc["text"]
    ents = sorted(doc["entities"], key=lambda e: (e["start"], e["end"]))
    lines = [f"### DOC {doc['id']}"]
    for i, (s, e) in enumerate(doc["sentences"]):
        inside = [x for x in ents if x["start"] >= s and x["end"] <= e]
        out, pos = [], s
        for x in inside:
            out.append(text[pos:x["start"]])
            out.append(f"[[{x['id']} {text[x['start']:x['end']]}|{x['label']}]]")
            pos = x["end"]
        out.append(text[pos:e])
        lines.append(f"S{i}: " + "".join(out))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("input")
    ap.add_argument("outdir")
    ap.add_argument("--batch-size", type=int, default=40)
    ap.add_argument("--min-score", type=float, default=0.01)
    ap.add_argument("--all", action="store_true", help="no politics filter")
    ap.add_argument("--ids", help="render only these ids (one per line), in this order")
    a = ap.parse_args()
    docs = [json.loads(l) for l in open(a.input, encoding="utf-8")]
    if a.ids:
        want = [l.strip() for l in open(a.ids) if l.strip()]
        by_id = {d["id"]: d for d in docs}
        docs = [by_id[i] for i in want]
    elif not a.all:
        docs = [d for d in docs if politics_score(d) >= a.min_score and len(d["entities"]) >= 3]
    os.makedirs(a.outdir, exist_ok=True)
    for b in range(0, len(docs), a.batch_size):
        batch = docs[b : b + a.batch_size]
        n = b // a.batch_size
        with open(os.path.join(a.outdir, f"batch-{n:02d}.txt"), "w", encoding="utf-8") as f:
            f.write("\n".join(render(d) for d in batch))
        with open(os.path.join(a.outdir, f"batch-{n:02d}.ids"), "w") as f:
            f.write("".join(d["id"] + "\n" for d in batch))
    print(f"{len(docs)} documents in {(len(docs) + a.batch_size - 1) // a.batch_size} batches")


if __name__ == "__main__":
    main()
