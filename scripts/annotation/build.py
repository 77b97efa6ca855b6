#!/usr/bin/env python3
"""Build the stand-off relation corpus of the "geopolitics" schema (issue 7).

Joins the annotators' TSV files (eval/corpus/raw/<set>/*.tsv, eval/gold/raw/<set>/*.tsv; format in
scripts/annotation/README.md) with the source documents, applies the ENTITY-TYPE / ENTITY-DELETE /
ENTITY-ADD records, validates every record against eval/GUIDELINES.md and writes stand-off files
(document id, source, SHA-256 of the text, entity offsets and labels, relations; no text):

  eval/corpus/geopolitics-train.jsonl   CoNLL-2003 train + CAMEO train and test sentences (index % 5 != 0)
  eval/corpus/geopolitics-dev.jsonl     CoNLL-2003 dev + CAMEO train and test sentences (index % 5 == 0)
  eval/gold/geopolitics-test.jsonl      CoNLL-2003 test + news (seed story, examples/)

  python3 scripts/annotation/build.py [--shared ../shared] [--ertag target/release/ertag] [--strict]

Sources: CoNLL-2003 documents as `ertag convert` builds them (cached in .cache/annotation/, made
with --ertag when missing); ConfliBERT CAMEO sentences cut out of `ertag convert`'s single
document; news stories read as plain text. The entities the annotators saw for CAMEO and news came
from the NER model; they are stored as stand-off in eval/{corpus,gold}/raw/<set>/preannotation.jsonl
(written once with --write-preannotation from prepare.sh's output), so no model is run here.

A document annotated twice uses the reconciled file (`*.R.tsv`) when there is one.
Problems: a record with an unknown label, an unknown mention id, arguments in different
sentences, or an ENTITY-ADD whose text is not in its sentence is reported and left out (--strict:
fails); an argument type the schema does not allow is reported as a warning and kept.
"""
import argparse
import glob
import functools
import hashlib
import json
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sources  # noqa: E402  (round-two source documents, shared with prepare.sh)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CACHE = os.path.join(ROOT, ".cache", "annotation")

SYMMETRIC = {"phone call", "meeting", "military cooperation", "cooperates with"}
ACTOR = {"PER", "ORG", "LOC", "MISC"}
# GUIDELINES.md 1.6: (head types, tail types); "actor" is any type (MISC only when it stands for a
# state or group, which a script cannot tell).
SCHEMA = {
    "phone call": (ACTOR, ACTOR),
    "meeting": (ACTOR, ACTOR),
    "mediates": (ACTOR, ACTOR),
    "opposes interference": (ACTOR, {"LOC", "ORG", "MISC"}),
    "supports": (ACTOR, ACTOR),
    "criticizes": (ACTOR, ACTOR),
    "threatens": (ACTOR, ACTOR),
    "sanctions": (ACTOR, ACTOR),
    "withdraws from": (ACTOR, {"LOC", "ORG", "MISC"}),
    "military cooperation": (ACTOR, ACTOR),
    "arms transfer": (ACTOR, ACTOR),
    "cooperates with": (ACTOR, ACTOR),
    "attacks": (ACTOR, ACTOR),
    "leader of": ({"PER"}, {"ORG", "LOC", "MISC"}),
    "member of": ({"PER"}, {"ORG", "LOC", "MISC"}),
    "located in": ({"LOC", "ORG"}, {"LOC"}),
}
LABELS = list(SCHEMA)

# Annotation sets: raw folder, kind, source file (relative to the shared root).
SETS = [
    ("eval/corpus/raw/conll2003-train", "conll", "train"),
    ("eval/corpus/raw/conll2003-train-extra", "conll", "train"),
    ("eval/corpus/raw/conll2003-dev", "conll", "dev"),
    ("eval/corpus/raw/cameo-train", "cameo", "train"),
    ("eval/corpus/raw/cameo-test", "cameo", "test"),
    ("eval/corpus/raw/conll2003-train-rare", "conll", "train"),
    ("eval/corpus/raw/conll2003-dev-rare", "conll", "dev"),
    ("eval/corpus/raw/re3d", "re3d", None),
    ("eval/corpus/raw/cameoc", "cameoc", None),
    ("eval/corpus/raw/synthetic", "synthetic", None),
    ("eval/gold/raw/conll2003-test", "conll", "test"),
    ("eval/gold/raw/news", "news", None),
]
NEWS = {
    "putin-calls": ("shared", "seed/putin-calls.txt"),
    "naval-drills": ("repo", "examples/naval-drills.txt"),
    "embassy-closures": ("repo", "examples/embassy-closures.txt"),
}
OUTPUTS = {
    "train": "eval/corpus/geopolitics-train.jsonl",
    "dev": "eval/corpus/geopolitics-dev.jsonl",
    "test": "eval/gold/geopolitics-test.jsonl",
}
TSV_NAME = re.compile(r"^(?P<batch>[a-z]+-\d+)\.(?P<who>[A-Z][A-Za-z0-9]*)\.tsv$")


def sha256(text):
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Problems:
    def __init__(self):
        self.errors, self.warnings = [], []

    def error(self, where, msg):
        self.errors.append(f"{where}: {msg}")

    def warn(self, where, msg):
        self.warnings.append(f"{where}: {msg}")


# ---------------------------------------------------------------------------------------------
# Sources


def ertag_convert(ertag, src, dst):
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    cmd = ertag.split() + ["convert", src, "--from", "conll", "--to", "jsonl", "-o", dst]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def conll_docs(shared, ertag, split):
    """CoNLL-2003 documents of one split as ertag builds them: {id: doc}."""
    cached = os.path.join(CACHE, f"conll2003-{split}.jsonl")
    if not os.path.exists(cached):
        ertag_convert(ertag, os.path.join(shared, "data/conll2003/iob2", f"{split}.txt"), cached)
    return {d["id"]: d for d in read_jsonl(cached)}


def cameo_texts(shared, ertag, split):
    """CAMEO sentence i of the single CoNLL document: {cameo-<split>-i: text}."""
    cached = os.path.join(CACHE, f"cameo-{split}-raw.jsonl")
    if not os.path.exists(cached):
        src = os.path.join(shared, "data/conflibert-cameo/cameo_ner", f"{split}.txt")
        ertag_convert(ertag, src, cached)
    (doc,) = read_jsonl(cached)
    return {f"cameo-{split}-{i}": doc["text"][s:e] for i, (s, e) in enumerate(doc["sentences"])}


def news_texts(shared):
    out = {}
    for doc_id, (base, path) in NEWS.items():
        full = os.path.join(shared if base == "shared" else ROOT, path)
        with open(full, encoding="utf-8", newline="") as f:
            out[doc_id] = f.read()
    return out


def load_preannotation(raw_dir, texts, problems):
    """{id: {"sentences", "entities"}} from raw_dir/preannotation.jsonl, checked against texts."""
    path = os.path.join(ROOT, raw_dir, "preannotation.jsonl")
    out = {}
    for n, rec in enumerate(read_jsonl(path), 1):
        text = texts.get(rec["id"])
        if text is None:
            problems.error(f"{path}:{n}", f"unknown document {rec['id']}")
            continue
        if sha256(text) != rec["text_sha256"]:
            problems.error(f"{path}:{n}", f"text of {rec['id']} no longer matches its SHA-256")
            continue
        ents = [dict(e, text=text[e["start"]:e["end"]]) for e in rec["entities"]]
        out[rec["id"]] = {"id": rec["id"], "text": text, "sentences": rec["sentences"], "entities": ents}
    return out


def write_preannotation(predicted_jsonl, raw_dir, ids=None):
    """Store the model's entities (and the sentence spans the annotators saw) as stand-off."""
    path = os.path.join(ROOT, raw_dir, "preannotation.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for d in read_jsonl(predicted_jsonl):
            if ids is not None and d["id"] not in ids:
                continue
            rec = {
                "id": d["id"],
                "text_sha256": sha256(d["text"]),
                "sentences": d["sentences"],
                "entities": [
                    {"id": e["id"], "start": e["start"], "end": e["end"], "label": e["label"]}
                    for e in d["entities"]
                ],
            }
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    print(f"wrote {path}")


# ---------------------------------------------------------------------------------------------
# Annotation files


def parse_tsv(path, problems):
    """{doc_id: [(line_no, fields)]} in file order; comment and blank lines skipped."""
    out = {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n").rstrip("\r")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = [c.strip() for c in line.split("\t")]
            if len(fields) < 2:
                problems.error(f"{path}:{n}", f"too few columns: {line!r}")
                continue
            out.setdefault(fields[0], []).append((n, fields))
    return out


def sentence_of(doc, start, end):
    for i, (s, e) in enumerate(doc["sentences"]):
        if s <= start and end <= e:
            return i
    return None


def apply(doc, records, path, problems):
    """Apply one annotator's records to a source document.

    Returns (entities {id: entity}, relations [(head, label, tail)], done)."""
    text = doc["text"]
    ents = {e["id"]: {k: e[k] for k in ("id", "start", "end", "label")} for e in doc["entities"]}
    rels, done = [], False
    # Entity edits first (an annotator may add a mention after using it in a relation line).
    for n, f in records:
        where = f"{path}:{n} {doc['id']}"
        kind = f[1]
        if kind == "ENTITY-TYPE":
            if len(f) < 4 or f[2] not in ents:
                problems.error(where, f"ENTITY-TYPE of an unknown mention: {f[2:]}")
            elif f[3] not in ACTOR:
                problems.error(where, f"unknown entity type {f[3]!r}")
            else:
                ents[f[2]]["label"] = f[3]
        elif kind == "ENTITY-DELETE":
            if len(f) < 3 or f[2] not in ents:
                problems.error(where, f"ENTITY-DELETE of an unknown mention: {f[2:]}")
            else:
                del ents[f[2]]
        elif kind == "ENTITY-ADD":
            if len(f) < 6:
                problems.error(where, f"ENTITY-ADD needs id, S<n>, type and text: {f[2:]}")
                continue
            new_id, sent, typ, words = f[2], f[3], f[4], f[5]
            occ = int(f[6]) if len(f) > 6 and f[6].isdigit() else 1
            m = re.fullmatch(r"S(\d+)", sent)
            if new_id in ents:
                problems.error(where, f"ENTITY-ADD id {new_id} is already a mention")
                continue
            if typ not in ACTOR:
                problems.error(where, f"unknown entity type {typ!r}")
                continue
            if not m or int(m.group(1)) >= len(doc["sentences"]):
                problems.error(where, f"unknown sentence {sent!r}")
                continue
            s, e = doc["sentences"][int(m.group(1))]
            pos, k = s - 1, 0
            while k < occ:
                pos = text.find(words, pos + 1, e)
                if pos < 0:
                    break
                k += 1
            if pos < 0 or not words:
                problems.error(where, f"{words!r} (occurrence {occ}) is not in sentence {sent}")
                continue
            span = (pos, pos + len(words))
            same = [x for x in ents.values() if (x["start"], x["end"]) == span]
            if same:
                problems.warn(where, f"ENTITY-ADD {new_id} repeats mention {same[0]['id']}; using it")
                ents[new_id] = dict(same[0], id=new_id)
                del ents[same[0]["id"]]
                continue
            ents[new_id] = {"id": new_id, "start": span[0], "end": span[1], "label": typ}
    # Overlapping mentions left after all edits (an added span whose fragments were not deleted).
    spans = sorted(ents.values(), key=lambda x: (x["start"], x["end"]))
    for x, y in zip(spans, spans[1:]):
        if y["start"] < x["end"]:
            problems.warn(f"{path} {doc['id']}", f"mentions {x['id']} and {y['id']} overlap")
    for n, f in records:
        where = f"{path}:{n} {doc['id']}"
        if f[1] == "DONE":
            done = True
            continue
        if f[1].startswith("ENTITY-"):
            continue
        if len(f) < 4:
            problems.error(where, f"relation needs head, label and tail: {f[1:]}")
            continue
        head, label, tail = f[1], f[2], f[3]
        if label not in SCHEMA:
            problems.error(where, f"unknown label {label!r}")
            continue
        if head not in ents or tail not in ents:
            missing = [x for x in (head, tail) if x not in ents]
            problems.error(where, f"unknown mention {', '.join(missing)} ({head} {label} {tail})")
            continue
        if head == tail:
            problems.error(where, f"relation from {head} to itself")
            continue
        h, t = ents[head], ents[tail]
        sh, st = sentence_of(doc, h["start"], h["end"]), sentence_of(doc, t["start"], t["end"])
        if sh is None or sh != st:
            problems.error(where, f"{head} and {tail} are not in the same sentence ({label})")
            continue
        heads, tails = SCHEMA[label]
        if label in SYMMETRIC:
            ok = h["label"] in heads and t["label"] in tails
            if (t["start"], t["end"]) < (h["start"], h["end"]):
                head, tail = tail, head
        else:
            ok = h["label"] in heads and t["label"] in tails
        if not ok:
            problems.warn(
                where,
                f"{label}: {head} ({h['label']}) -> {tail} ({t['label']}) is not a type pair "
                f"the schema allows ({'/'.join(sorted(heads))} -> {'/'.join(sorted(tails))})",
            )
        if (head, label, tail) not in rels:
            rels.append((head, label, tail))
    return ents, rels, done


def annotation_files(raw_dir):
    """[(path, batch, annotator)] for the TSV files in raw_dir, R (reconciled) files included."""
    out = []
    for path in sorted(glob.glob(os.path.join(ROOT, raw_dir, "*.tsv"))):
        m = TSV_NAME.match(os.path.basename(path))
        if m:
            out.append((path, m.group("batch"), m.group("who")))
    return out


def annotations(raw_dir, problems):
    """{doc_id: {annotator: (path, records)}} over every TSV file of the set."""
    out = {}
    for path, _batch, who in annotation_files(raw_dir):
        for doc_id, recs in parse_tsv(path, problems).items():
            if who in out.setdefault(doc_id, {}):
                problems.error(path, f"{doc_id} annotated twice by {who}")
            out[doc_id][who] = (path, recs)
    return out


def choose(by_who, doc_id, problems):
    """The annotation to use for a document: the reconciled one (R) if there is one, else the
    only one; several without R is an error (the first is used)."""
    if "R" in by_who:
        others = sorted(w for w in by_who if w != "R")
        return "R", others
    whos = sorted(by_who)
    if len(whos) > 1:
        problems.error(doc_id, f"annotated by {', '.join(whos)} and not reconciled (no R file)")
    return whos[0], whos


# ---------------------------------------------------------------------------------------------
# Build


@functools.lru_cache(maxsize=None)
def round_two(kind, shared):
    """{id: (source ref, text, position)} of the re3d documents, the cameo_class sentences or
    the synthetic stories."""
    docs = {
        "re3d": sources.re3d_docs,
        "cameoc": sources.cameo_class_docs,
        "synthetic": lambda _shared: sources.synthetic_docs(ROOT),
    }[kind](shared)
    return {doc_id: (ref, text, i) for i, (doc_id, ref, text) in enumerate(docs)}


def source_docs(kind, split, shared, ertag, raw_dir, problems):
    if kind == "conll":
        return conll_docs(shared, ertag, split)
    if kind in ("re3d", "cameoc", "synthetic"):
        texts = {k: v[1] for k, v in round_two(kind, shared).items()}
        return load_preannotation(raw_dir, texts, problems)
    if kind == "cameo":
        return load_preannotation(raw_dir, cameo_texts(shared, ertag, split), problems)
    return load_preannotation(raw_dir, news_texts(shared), problems)


def source_ref(kind, split, doc_id, shared):
    if kind in ("re3d", "cameoc", "synthetic"):
        return round_two(kind, shared)[doc_id][0]
    if kind == "conll":
        path = f"data/conll2003/iob2/{split}.txt"
        return {"base": "shared", "path": path, "format": "conll", "doc": doc_id}
    if kind == "cameo":
        path = f"data/conflibert-cameo/cameo_ner/{split}.txt"
        return {"base": "shared", "path": path, "format": "conll", "sentence": cameo_index(doc_id)}
    base, path = NEWS[doc_id]
    return {"base": base, "path": path, "format": "text"}


def cameo_index(doc_id):
    return int(doc_id.rsplit("-", 1)[1])


def split_of(kind, split, doc_id, shared):
    if kind == "synthetic":
        # Training only: dev (model selection, thresholds) and the gold test stay real news.
        return "train"
    if kind in ("re3d", "cameoc"):
        # Every fifth document (re3d, in source order) or line (cameo_class) is dev.
        ref, _text, i = round_two(kind, shared)[doc_id]
        return "dev" if (i if kind == "re3d" else ref["line"]) % 5 == 0 else "train"
    if kind == "cameo":
        return "dev" if cameo_index(doc_id) % 5 == 0 else "train"
    if kind == "news":
        return "test"
    return split


def order_key(doc_id):
    m = re.search(r"(\d+)$", doc_id)
    return (doc_id[: m.start()] if m else doc_id, int(m.group(1)) if m else -1)


def build(shared, ertag, problems, only=None):
    out = {"train": [], "dev": [], "test": []}
    for raw_dir, kind, split in SETS:
        if only and os.path.normpath(only) != raw_dir:
            continue
        docs = source_docs(kind, split, shared, ertag, raw_dir, problems)
        anns = annotations(raw_dir, problems)
        for doc_id in sorted(anns, key=order_key):
            doc = docs.get(doc_id)
            if doc is None:
                problems.error(raw_dir, f"{doc_id} is not a document of the source")
                continue
            who, annotators = choose(anns[doc_id], doc_id, problems)
            path, recs = anns[doc_id][who]
            rel_path = os.path.relpath(path, ROOT)
            ents, rels, done = apply(doc, recs, rel_path, problems)
            if not done:
                problems.error(f"{rel_path} {doc_id}", "no DONE line: not finished")
            entities = sorted(ents.values(), key=lambda e: (e["start"], e["end"], e["id"]))
            rec = {
                "id": doc_id,
                "source": source_ref(kind, split, doc_id, shared),
                "text_sha256": sha256(doc["text"]),
                "entities": entities,
                "relations": [{"head": h, "tail": t, "label": label} for h, label, t in rels],
                "annotators": annotators,
            }
            if who == "R":
                rec["reconciled"] = True
            out[split_of(kind, split, doc_id, shared)].append(rec)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shared", default=os.environ.get("ERTAG_SHARED", os.path.join(ROOT, "..", "shared")))
    ap.add_argument("--ertag", default=os.environ.get("ERTAG", os.path.join(ROOT, "target/release/ertag")))
    ap.add_argument("--strict", action="store_true", help="fail on any error or warning")
    ap.add_argument(
        "--write-preannotation",
        action="store_true",
        help="store the model entities of .cache/annotation/{cameo-train,news}.jsonl as stand-off",
    )
    ap.add_argument(
        "--write-round-two",
        action="store_true",
        help="the same for .cache/annotation/{re3d,cameoc,synthetic}.jsonl only",
    )
    ap.add_argument(
        "--check",
        metavar="RAW_DIR",
        help="check one annotation set (e.g. eval/corpus/raw/re3d) and write nothing",
    )
    a = ap.parse_args()
    if a.check:
        if os.path.normpath(a.check) not in [r for r, _k, _s in SETS]:
            sys.exit(f"{a.check} is not an annotation set: {', '.join(r for r, _k, _s in SETS)}")
        problems = Problems()
        out = build(a.shared, a.ertag, problems, a.check)
        for w in problems.warnings:
            print(f"warning: {w}")
        for e in problems.errors:
            print(f"error: {e}")
        n = sum(len(v) for v in out.values())
        rels = sum(len(r["relations"]) for v in out.values() for r in v)
        print(f"{a.check}: {n} documents, {rels} relations; "
              f"{len(problems.errors)} errors, {len(problems.warnings)} warnings")
        return
    if a.write_preannotation:
        cameo_ids = set()
        for path, _b, _w in annotation_files("eval/corpus/raw/cameo-train"):
            cameo_ids |= set(parse_tsv(path, Problems()))
        write_preannotation(os.path.join(CACHE, "cameo-train.jsonl"), "eval/corpus/raw/cameo-train", cameo_ids)
        test_ids = set()
        for path, _b, _w in annotation_files("eval/corpus/raw/cameo-test"):
            test_ids |= set(parse_tsv(path, Problems()))
        write_preannotation(os.path.join(CACHE, "cameo-test.jsonl"), "eval/corpus/raw/cameo-test", test_ids)
        write_preannotation(os.path.join(CACHE, "news.jsonl"), "eval/gold/raw/news")
    if a.write_preannotation or a.write_round_two:
        write_preannotation(os.path.join(CACHE, "re3d.jsonl"), "eval/corpus/raw/re3d")
        write_preannotation(os.path.join(CACHE, "cameoc.jsonl"), "eval/corpus/raw/cameoc")
        if os.path.exists(os.path.join(CACHE, "synthetic.jsonl")):
            write_preannotation(os.path.join(CACHE, "synthetic.jsonl"), "eval/corpus/raw/synthetic")
    problems = Problems()
    out = build(a.shared, a.ertag, problems)
    for w in problems.warnings:
        print(f"warning: {w}", file=sys.stderr)
    for e in problems.errors:
        print(f"error (record left out): {e}", file=sys.stderr)
    if a.strict and (problems.errors or problems.warnings):
        sys.exit(f"{len(problems.errors)} errors, {len(problems.warnings)} warnings (--strict)")
    for split, path in OUTPUTS.items():
        with open(os.path.join(ROOT, path), "w", encoding="utf-8") as f:
            for rec in out[split]:
                f.write(json.dumps(rec, ensure_ascii=False) + "\n")
        n_rel = sum(len(r["relations"]) for r in out[split])
        print(f"{path}: {len(out[split])} documents, {n_rel} relations")
    print(f"{len(problems.errors)} errors (records left out), {len(problems.warnings)} warnings")


if __name__ == "__main__":
    main()
