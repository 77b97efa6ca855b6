#!/usr/bin/env python3
"""Source documents of the second annotation round (issue 7), for prepare.sh and build.py.

  sources.py re3d SHARED OUT.jsonl          re3d documents as {"id", "text"}
  sources.py cameo-class SHARED OUT.jsonl   cameo_class sentences not in cameo_ner
  sources.py conll-rare IN.jsonl OUT.ids    unannotated CoNLL-2003 documents with rare-label cues

The texts are read exactly as ertag's stand-off reader reads them (`records` and `tsv` source
formats), so their SHA-256 match.
"""
import glob
import json
import os
import re
import sys

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
RE3D = "data/re3d/original"
CAMEO_CLASS = "data/conflibert-cameo/cameo_class"
CAMEO_NER = "data/conflibert-cameo/cameo_ner"
# Cues of the labels with fewest examples (phone call, mediates, opposes interference,
# withdraws from, arms transfer, military cooperation, threatens).
RARE = re.compile(
    r"\b(telephon\w*|phoned|by phone|phone (call|conversation)\w*|mediat\w*|broker\w*|"
    r"interfer\w*|internal affairs|meddl\w*|withdr[ae]w\w*|pull(ed|ing)? out|evacuat\w*|"
    r"arms (sale|deal|suppl)\w*|weapons|missiles|(joint|military) (exercise|manoeuvre|maneuver)s?|"
    r"drills?|threat\w*)\b",
    re.I,
)


def lines(text):
    """Rust's str::lines: split at \\n, drop one \\r before it."""
    out = text.split("\n")
    if out and out[-1] == "":
        out.pop()
    return [l[:-1] if l.endswith("\r") else l for l in out]


def read(path):
    with open(path, encoding="utf-8", newline="") as f:
        return f.read().lstrip("\ufeff")


def re3d_docs(shared):
    """[(id, source ref, text)] of every re3d document, in folder and file order."""
    out = []
    for path in sorted(glob.glob(os.path.join(shared, RE3D, "*", "documents.json"))):
        rel = os.path.relpath(path, shared)
        for line in lines(read(path)):
            if line.strip():
                d = json.loads(line)
                ref = {"base": "shared", "path": rel, "format": "records", "doc": d["_id"]}
                out.append((f"re3d-{d['_id'][:12].lower()}", ref, d["text"]))
    return out


SYNTHETIC = "eval/corpus/synthetic/stories.jsonl"


def synthetic_docs(root):
    """[(id, source ref, text)] of the synthetic training stories (the repository's own text)."""
    path = os.path.join(root, SYNTHETIC)
    if not os.path.exists(path):
        return []
    out = []
    for line in lines(read(path)):
        if line.strip():
            d = json.loads(line)
            ref = {"base": "repo", "path": SYNTHETIC, "format": "records", "doc": d["id"]}
            out.append((d["id"], ref, d["text"]))
    return out


def norm(s):
    return re.sub(r"[\W_]+", "", s).lower()


def cameo_ner_sentences(shared):
    seen = set()
    for split in ("train", "test"):
        toks = []
        for line in lines(read(os.path.join(shared, CAMEO_NER, f"{split}.txt"))) + [""]:
            if not line.strip():
                if toks:
                    seen.add(norm("".join(toks)))
                toks = []
            else:
                toks.append(line.rsplit(" ", 1)[0])
    return seen


def cameo_class_docs(shared):
    """[(id, source ref, text)]: cameo_class sentences in neither cameo_ner file, first
    occurrence only."""
    seen = cameo_ner_sentences(shared)
    out = []
    for split in ("train", "test"):
        rel = f"{CAMEO_CLASS}/{split}.tsv"
        for n, line in enumerate(lines(read(os.path.join(shared, rel))), 1):
            if not line.strip():
                continue
            text = line.rsplit("\t", 1)[0] if "\t" in line else line
            key = norm(text)
            if not key or key in seen:
                continue
            seen.add(key)
            ref = {"base": "shared", "path": rel, "format": "tsv", "line": n}
            out.append((f"cameoc-{split}-{n}", ref, text))
    return out


def annotated_ids():
    ids = set()
    for path in glob.glob(os.path.join(ROOT, "eval/corpus/raw/*/*.tsv")):
        for line in open(path, encoding="utf-8"):
            if line.strip() and not line.startswith("#"):
                ids.add(line.split("\t", 1)[0])
    return ids


def main():
    kind, src, dst = sys.argv[1:4]
    if kind in ("re3d", "cameo-class"):
        docs = re3d_docs(src) if kind == "re3d" else cameo_class_docs(src)
        with open(dst, "w", encoding="utf-8") as f:
            for doc_id, _ref, text in docs:
                f.write(json.dumps({"id": doc_id, "text": text}, ensure_ascii=False) + "\n")
        print(f"{dst}: {len(docs)} documents")
    elif kind == "conll-rare":
        done = annotated_ids()
        docs = [json.loads(l) for l in open(src, encoding="utf-8")]
        pick = [d["id"] for d in docs if d["id"] not in done and RARE.search(d["text"])
                and len(d["entities"]) >= 3]
        with open(dst, "w") as f:
            f.write("".join(i + "\n" for i in pick))
        print(f"{dst}: {len(pick)} documents")
    else:
        sys.exit(f"unknown kind {kind}")


if __name__ == "__main__":
    main()
