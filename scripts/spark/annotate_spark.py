#!/usr/bin/env python3
"""Annotate a JSON Lines corpus with ertag inside Apache Spark (RDD.pipe).

Each Spark partition streams its documents, one JSON object per line, through

    ertag annotate - -o - --from jsonl [ERTAG OPTIONS]

(standard input to standard output). ertag writes a partition's documents in the order it
read them and leaves out the ones it cannot annotate (their reasons go to the task's standard
error, i.e. the executor log). The driver then puts every annotated line back at its input
position: the input lines are numbered with zipWithIndex, the output lines are matched to
their numbers by document id (ids are unique in a corpus; ertag refuses duplicates) and
sorted. The output lines are ertag's own bytes, never re-serialised, so the result is the
same file the single-process `ertag annotate corpus.jsonl -o out.jsonl` writes.

Every input document is accounted for: the script prints documents read, annotated and
failed, lists the failed ids (to --failed FILE as well, when given) and exits 1 if any failed,
as ertag does.

Usage (local mode; see docs/SPARK.md for a cluster):

    .cache/spark-venv/bin/python scripts/spark/annotate_spark.py corpus.jsonl -o out.jsonl \
        --master 'local[2]' --partitions 4 -- --threads 1 --ner-model models/ner

Everything after `--` goes to `ertag annotate` unchanged (e.g. --ner-model, --no-relations,
--relation-model, --threads, --chunk-size). Give paths as the executors see them.

Limits (the price of splitting a corpus): a duplicate id is only noticed when both copies
land in the same partition (the script reports a duplicate id it sees in the input and
stops); a document without an id gets `<stdin>:LINE` numbered within its partition, so give
every document an id; Spark reads text as UTF-8 and replaces invalid bytes, where the
single-process run refuses the document.
"""

import argparse
import json
import os
import shlex
import sys
import time


def parse_args(argv):
    if "--" in argv:
        cut = argv.index("--")
        argv, ertag_args = argv[:cut], argv[cut + 1 :]
    else:
        ertag_args = []
    p = argparse.ArgumentParser(
        description="Annotate a JSON Lines corpus with ertag in Spark (RDD.pipe). "
        "Arguments after `--` go to `ertag annotate`."
    )
    p.add_argument("input", help="JSON Lines corpus (any path or URL Spark's textFile reads)")
    out = p.add_mutually_exclusive_group(required=True)
    out.add_argument("-o", "--output", help="one local JSONL file, in input order")
    out.add_argument(
        "--output-dir",
        help="a Spark output directory (saveAsTextFile): part-00000, part-00001, ... in input order",
    )
    p.add_argument(
        "--ertag",
        default=os.path.abspath("target/release/ertag"),
        help="the ertag binary as the executors see it (default: %(default)s; "
        "with spark-submit --files use ./ertag)",
    )
    p.add_argument("--master", default=None, help="Spark master (default: spark-submit's, else local[2])")
    p.add_argument("--partitions", type=int, default=4, help="input partitions = ertag processes (default 4)")
    p.add_argument("--id-field", default="id", help="the field holding the document id (default id)")
    p.add_argument("--failed", help="write the ids of the documents that were not annotated to FILE")
    args = p.parse_args(argv)
    args.ertag_args = ertag_args
    return args


def doc_id(line, id_field):
    """The id ertag will give the document on this line, or None (blank line, bad JSON, no id)."""
    try:
        value = json.loads(line)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    ident = value.get(id_field)
    return ident if isinstance(ident, str) else None


def main(argv):
    args = parse_args(argv)
    from pyspark import SparkConf, SparkContext

    conf = SparkConf().setAppName("ertag-annotate")
    if not sys.stderr.isatty():
        conf.set("spark.ui.showConsoleProgress", "false")
    if args.master:
        conf.setMaster(args.master)
    elif not conf.contains("spark.master"):
        conf.setMaster("local[2]")
    sc = SparkContext(conf=conf)
    sc.setLogLevel("WARN")
    started = time.time()

    command = [args.ertag, "annotate", "-", "-o", "-", "--from", "jsonl"]
    if args.id_field != "id":
        command += ["--id-field", args.id_field]
    command += args.ertag_args
    id_field = args.id_field

    # Contiguous partitions of the input, each line numbered with its input position.
    lines = sc.textFile(args.input, minPartitions=args.partitions)
    lines = lines.filter(lambda line: line.strip() != "")  # ertag skips blank lines too
    numbered = lines.zipWithIndex()  # (line, position)
    numbered.cache()

    # position of every id in the input; a duplicate would make the join ambiguous.
    positions = numbered.map(lambda lp: (doc_id(lp[0], id_field), lp[1])).filter(lambda kv: kv[0] is not None)
    duplicates = positions.map(lambda kv: (kv[0], 1)).reduceByKey(lambda a, b: a + b).filter(lambda kv: kv[1] > 1)
    dup = duplicates.take(5)
    if dup:
        print(
            "annotate_spark: duplicate ids in the input (ertag refuses the second copy; Spark cannot "
            "tell which one came first across partitions): %s" % ", ".join(d for d, _ in dup),
            file=sys.stderr,
        )
        sc.stop()
        return 2

    # The annotation: one ertag process per partition, JSON lines in and out.
    # pipe() passes the lines as UTF-8 on standard input and reads standard output line by line.
    annotated = numbered.keys().pipe(shlex.join(command), checkCode=False)
    by_id = annotated.map(lambda line: (doc_id(line, "id"), line))

    # Back to input order: join each output line to its input position and sort by it.
    # Range-partitioned by position (no sampling job, so ertag runs once per partition).
    read = numbered.count()
    parts = args.partitions
    ordered = positions.join(by_id, numPartitions=parts)  # (id, (position, line))
    ordered = ordered.map(lambda kv: (kv[1][0], kv[1][1])).repartitionAndSortWithinPartitions(
        numPartitions=parts, partitionFunc=lambda pos: pos * parts // max(read, 1)
    )
    ordered.cache()

    written = 0
    if args.output:
        tmp = args.output + ".tmp"
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            for _, line in ordered.toLocalIterator():
                f.write(line)
                f.write("\n")
                written += 1
        os.replace(tmp, args.output)
    else:
        ordered.values().saveAsTextFile(args.output_dir)
        written = ordered.count()

    # Accounting: which input documents did not come back?
    annotated_ids = ordered.map(lambda pl: (doc_id(pl[1], "id"), None))
    missing = positions.subtractByKey(annotated_ids).sortBy(lambda kv: kv[1]).keys().collect()
    unnamed = read - positions.count()  # lines without a usable id: bad JSON or no id field
    failed = read - written
    if args.failed:
        with open(args.failed, "w", encoding="utf-8") as f:
            for m in missing:
                f.write(json.dumps({"id": m}, ensure_ascii=False) + "\n")
    elapsed = time.time() - started
    print(
        "annotate_spark: read %d, annotated %d, failed %d in %.1fs (%d partitions, %s)"
        % (read, written, failed, elapsed, lines.getNumPartitions(), sc.master)
    )
    if failed:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        print(
            "annotate_spark: %d documents not annotated (reasons in the executors' standard error)%s%s"
            % (failed, ": " + shown if shown else "", "; %d of them without an id" % unnamed if unnamed else ""),
            file=sys.stderr,
        )
    sc.stop()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
