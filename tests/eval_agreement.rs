//! ertag's named-entity measures agree with the reference tools: seqeval 1.2.2 (default mode,
//! which reproduces conlleval, and strict IOB2 mode), its token accuracy, and nervaluate 1.2.1's
//! four schemes. The gold is the CoNLL-2003 test set; predictions are systematic perturbations
//! of it (boundary shifts, type swaps, deletions, spurious entities, invalid tag sequences) made
//! with a fixed seed, written as CoNLL tag files, scored by `scripts/eval_reference.py` (one
//! Python process for all of them) and by ertag, and every figure must agree to 1e-4.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use ertag::document::Document;
use ertag::error::Diagnostics;
use ertag::eval::counts::add_counts;
use ertag::eval::{
    entity_counts, nervaluate_counts, token_tag_counts, LabelCounts, NerEvalCounts, Prf, Scheme,
    ScoreTable,
};
use ertag::formats::{self, ConllOptions, Format, Options};
use ertag::tags::{self, TagScheme, TagSpan};

const TOLERANCE: f64 = 1e-4;
const LABELS: [&str; 4] = ["LOC", "MISC", "ORG", "PER"];

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// splitmix64: a seeded generator, enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// A line of the gold file: a `-DOCSTART-`, a sentence break, or a token with its tag.
enum Line {
    DocStart,
    Blank,
    Token(String, String),
}

fn read_lines(path: &Path) -> Vec<Line> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            match cols.as_slice() {
                [] => Line::Blank,
                ["-DOCSTART-", ..] => Line::DocStart,
                [tok, .., tag] => Line::Token(tok.to_string(), tag.to_string()),
                [_] => panic!("one-column line '{l}'"),
            }
        })
        .collect()
}

/// How a prediction departs from the gold, as probabilities per entity (or per `O` token for
/// spurious entities and stray tags).
#[derive(Clone, Copy, Default)]
struct Perturb {
    shift: f64,
    swap: f64,
    delete: f64,
    spurious: f64,
    invalid: f64,
}

/// Perturb one sentence's (valid IOB2) tags.
fn perturb(gold: &[&str], p: Perturb, rng: &mut Rng) -> Vec<String> {
    let n = gold.len();
    let (spans, _) = tags::decode(gold, TagScheme::Iob2).unwrap();
    let mut out: Vec<TagSpan> = Vec::new();
    for mut s in spans {
        if rng.chance(p.delete) {
            continue;
        }
        if rng.chance(p.shift) {
            match rng.below(4) {
                0 if s.start > 0 => s.start -= 1,
                1 if s.end - s.start > 1 => s.start += 1,
                2 if s.end < n => s.end += 1,
                3 if s.end - s.start > 1 => s.end -= 1,
                _ => {}
            }
        }
        if rng.chance(p.swap) {
            let others: Vec<&str> = LABELS.iter().copied().filter(|l| *l != s.label).collect();
            s.label = others[rng.below(others.len())].to_string();
        }
        out.push(s);
    }
    let covered = |i: usize, spans: &[TagSpan]| spans.iter().any(|s| s.start <= i && i < s.end);
    for i in 0..n {
        if !covered(i, &out) && rng.chance(p.spurious) {
            let end = (i + 1 + rng.below(2)).min(n);
            out.push(TagSpan::new(i, end, LABELS[rng.below(4)]));
        }
    }
    // A tag sequence holds no overlaps: keep the earliest of overlapping spans.
    out.sort_by_key(|s| (s.start, s.end));
    let mut kept: Vec<TagSpan> = Vec::new();
    for s in out {
        if kept.last().is_none_or(|k| k.end <= s.start) {
            kept.push(s);
        }
    }
    let mut tags = tags::encode(&kept, n, TagScheme::Iob2);
    // Invalid sequences: B-X read as I-X (after O, or merging into a neighbour), an I-X turned
    // into I-Y inside a mention, a stray I-X after O.
    for t in tags.iter_mut() {
        if !rng.chance(p.invalid) {
            continue;
        }
        let label = LABELS[rng.below(4)];
        // B-X -> I-X; I-X or O -> I-<random type>.
        *t = match t.strip_prefix("B-") {
            Some(l) => format!("I-{l}"),
            None => format!("I-{label}"),
        };
    }
    tags
}

/// Write the prediction for the whole gold file.
fn write_pred(lines: &[Line], p: Perturb, rng: &mut Rng, path: &Path) {
    let mut out = String::new();
    let mut sentence: Vec<(&str, &str)> = Vec::new();
    let flush = |sentence: &mut Vec<(&str, &str)>, out: &mut String, rng: &mut Rng| {
        let gold: Vec<&str> = sentence.iter().map(|(_, t)| *t).collect();
        for ((tok, _), tag) in sentence.iter().zip(perturb(&gold, p, rng)) {
            out.push_str(&format!("{tok} {tag}\n"));
        }
        sentence.clear();
    };
    for line in lines {
        match line {
            Line::Token(tok, tag) => sentence.push((tok, tag)),
            Line::Blank => {
                flush(&mut sentence, &mut out, rng);
                out.push('\n');
            }
            Line::DocStart => {
                flush(&mut sentence, &mut out, rng);
                out.push_str("-DOCSTART- O\n");
            }
        }
    }
    flush(&mut sentence, &mut out, rng);
    std::fs::write(path, out).unwrap();
}

fn read(path: &Path, strict_chunks: bool) -> Vec<Document> {
    let opts = Options {
        conll: ConllOptions {
            strict_chunks,
            keep_tags: true,
            ..Default::default()
        },
    };
    let mut diag = Diagnostics::default(); // predictions have invalid sequences: warnings only
    formats::read(path, Format::Conll, &opts, &mut diag)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Compares figures, recording the largest difference and failing with the name of any that
/// disagrees by more than the tolerance.
#[derive(Default)]
struct Checker {
    max_diff: f64,
    figures: usize,
    failures: Vec<String>,
}

impl Checker {
    fn num(&mut self, what: &str, ours: f64, theirs: &Value) {
        let theirs = theirs
            .as_f64()
            .unwrap_or_else(|| panic!("{what}: no number {theirs}"));
        let diff = (ours - theirs).abs();
        self.max_diff = self.max_diff.max(diff);
        self.figures += 1;
        if diff > TOLERANCE {
            self.failures
                .push(format!("{what}: ertag {ours}, reference {theirs}"));
        }
    }

    fn prf(&mut self, what: &str, ours: &Prf, theirs: &Value) {
        self.num(
            &format!("{what} precision"),
            ours.precision,
            &theirs["precision"],
        );
        self.num(&format!("{what} recall"), ours.recall, &theirs["recall"]);
        self.num(&format!("{what} f1"), ours.f1, &theirs["f1"]);
    }

    fn seqeval(&mut self, what: &str, counts: &LabelCounts, theirs: &Value) {
        let table = ScoreTable::from_counts(counts);
        let theirs = theirs.as_object().unwrap();
        let labels = theirs.keys().filter(|k| !k.ends_with(" avg")).count();
        if labels != table.per_label.len() {
            self.failures.push(format!(
                "{what}: {} labels, reference {labels}",
                table.per_label.len()
            ));
        }
        for row in &table.per_label {
            let Some(t) = theirs.get(&row.label) else {
                self.failures
                    .push(format!("{what} {}: not in reference", row.label));
                continue;
            };
            self.prf(&format!("{what} {}", row.label), &row.prf, t);
            self.num(
                &format!("{what} {} support", row.label),
                row.support as f64,
                &t["support"],
            );
        }
        let support = table.total.support() as f64;
        for (name, prf) in [
            ("micro avg", &table.micro),
            ("macro avg", &table.macro_),
            ("weighted avg", &table.weighted),
        ] {
            self.prf(&format!("{what} {name}"), prf, &theirs[name]);
            self.num(
                &format!("{what} {name} support"),
                support,
                &theirs[name]["support"],
            );
        }
    }

    fn nervaluate(&mut self, what: &str, ours: &NerEvalCounts, theirs: &Value) {
        let check = |this: &mut Self, name: String, set: &ertag::eval::SchemeSet, t: &Value| {
            for scheme in Scheme::ALL {
                let (c, t) = (set.get(scheme), &t[scheme.name()]);
                let n = format!("{name} {}", scheme.name());
                for (k, v) in [
                    ("correct", c.correct),
                    ("incorrect", c.incorrect),
                    ("partial", c.partial),
                    ("missed", c.missed),
                    ("spurious", c.spurious),
                    ("possible", c.possible()),
                    ("actual", c.actual()),
                ] {
                    this.num(&format!("{n} {k}"), v as f64, &t[k]);
                }
                this.prf(&n, &c.scores(scheme), t);
            }
        };
        check(
            self,
            format!("{what} overall"),
            &ours.overall,
            &theirs["overall"],
        );
        let entities = theirs["entities"].as_object().unwrap();
        if entities.len() != ours.per_type.len() {
            self.failures.push(format!("{what}: per-type keys differ"));
        }
        for (label, set) in &ours.per_type {
            check(self, format!("{what} {label}"), set, &entities[label]);
        }
    }
}

#[test]
fn named_entity_measures_agree_with_seqeval_and_nervaluate() {
    let started = std::time::Instant::now();
    let gold_path = root().join("../shared/data/conll2003/iob2/test.txt");
    assert!(gold_path.is_file(), "{} is missing", gold_path.display());
    let lines = read_lines(&gold_path);
    let none = Perturb::default();
    let cases: Vec<(&str, Perturb)> = vec![
        ("identity", none),
        ("shift", Perturb { shift: 0.3, ..none }),
        ("swap", Perturb { swap: 0.3, ..none }),
        (
            "delete",
            Perturb {
                delete: 0.3,
                ..none
            },
        ),
        (
            "spurious",
            Perturb {
                spurious: 0.03,
                ..none
            },
        ),
        (
            "invalid",
            Perturb {
                invalid: 0.05,
                ..none
            },
        ),
        (
            "empty",
            Perturb {
                delete: 1.0,
                ..none
            },
        ),
        (
            "mixed",
            Perturb {
                shift: 0.2,
                swap: 0.1,
                delete: 0.1,
                spurious: 0.02,
                invalid: 0.03,
            },
        ),
        (
            "heavy",
            Perturb {
                shift: 0.6,
                swap: 0.4,
                delete: 0.2,
                spurious: 0.1,
                invalid: 0.1,
            },
        ),
    ];
    let tmp = std::env::temp_dir().join(format!("ertag-eval-agreement-{}", std::process::id()));
    std::fs::create_dir_all(&tmp).unwrap();
    let mut rng = Rng(20_240_611);
    let pred_paths: Vec<PathBuf> = cases
        .iter()
        .map(|(name, p)| {
            let path = tmp.join(format!("{name}.conll"));
            write_pred(&lines, *p, &mut rng, &path);
            path
        })
        .collect();

    let python = root().join(".venv/bin/python");
    let output = Command::new(&python)
        .arg(root().join("scripts/eval_reference.py"))
        .arg(&gold_path)
        .args(&pred_paths)
        .output()
        .unwrap_or_else(|e| panic!("running {}: {e}", python.display()));
    assert!(
        output.status.success(),
        "eval_reference.py failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let reference: Value = serde_json::from_slice(&output.stdout).unwrap();
    let python_done = started.elapsed();

    let gold = read(&gold_path, false);
    let gold_strict = read(&gold_path, true);
    let mut checker = Checker::default();
    for (i, ((name, _), path)) in cases.iter().zip(&pred_paths).enumerate() {
        let theirs = &reference["preds"][i];
        let pred = read(path, false);
        let pred_strict = read(path, true);
        assert_eq!(pred.len(), gold.len(), "{name}: document count");
        let (mut default, mut strict) = (LabelCounts::new(), LabelCounts::new());
        let (mut correct, mut total) = (0, 0);
        let mut ner = NerEvalCounts::default();
        for (g, p) in gold.iter().zip(&pred) {
            add_counts(&mut default, &entity_counts(g, p));
            let (c, t) = token_tag_counts(g, p);
            correct += c;
            total += t;
            ner += nervaluate_counts(g, p);
        }
        for (g, p) in gold_strict.iter().zip(&pred_strict) {
            add_counts(&mut strict, &entity_counts(g, p));
        }
        checker.seqeval(
            &format!("{name} seqeval default"),
            &default,
            &theirs["seqeval_default"],
        );
        checker.seqeval(
            &format!("{name} seqeval strict"),
            &strict,
            &theirs["seqeval_strict"],
        );
        let accuracy = correct as f64 / total as f64;
        checker.num(&format!("{name} accuracy"), accuracy, &theirs["accuracy"]);
        checker.nervaluate(&format!("{name} nervaluate"), &ner, &theirs["nervaluate"]);
        let (d, s) = (
            ScoreTable::from_counts(&default),
            ScoreTable::from_counts(&strict),
        );
        let partial = ner.overall.scores(Scheme::Partial).f1;
        eprintln!(
            "{name:>9}: micro F1 default {:.4} strict {:.4}, accuracy {accuracy:.4}, \
             nervaluate partial F1 {partial:.4}",
            d.micro.f1, s.micro.f1
        );
        // The perturbations must exercise what they are for, or agreement proves little.
        match *name {
            "identity" => assert_eq!(d.micro.f1, 1.0),
            "invalid" => assert_ne!(s.micro.f1, d.micro.f1, "strict mode not exercised"),
            _ => assert!(d.micro.f1 < 1.0, "{name}: no errors made"),
        }
    }
    let _ = std::fs::remove_dir_all(&tmp);
    eprintln!(
        "{} figures over {} predictions; max |difference| {:e}; python {:.1?}, total {:.1?}",
        checker.figures,
        cases.len(),
        checker.max_diff,
        python_done,
        started.elapsed()
    );
    assert!(
        checker.failures.is_empty(),
        "{} of {} figures disagree:\n{}",
        checker.failures.len(),
        checker.figures,
        checker.failures[..checker.failures.len().min(40)].join("\n")
    );
}
