//! `ertag eval`: read gold and predicted documents in any format, pair them, compute every
//! measure per document, and render one [`Report`].
//!
//! Per-document counts are kept (not only their sums) because bootstrap intervals and the
//! paired comparison with `--compare` resample documents.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::Path;

use crate::cli::EvalArgs;
use crate::document::Document;
use crate::error::{Diagnostics, Error, Location, Result};
use crate::eval::bootstrap::Settings;
use crate::eval::nervaluate::{Scheme, SchemeCounts};
use crate::eval::relations::RelationSetting;
use crate::eval::report::{
    self, Accuracy, Comparison, ComparisonRow, ConfusionMatrix, NerScheme, Report, ScoreSection,
    ThresholdCurve, ThresholdPoint,
};
use crate::eval::{
    align, entity_confusion, entity_counts, entity_errors, nervaluate_counts, relation_confusion,
    relation_counts, relation_errors, token_tag_counts, write_errors, AlignOptions, LabelCounts,
    LabelSchema, Pair,
};
use crate::formats::{self, ConllOptions, Format, Options};

/// How CoNLL tags become entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum EvalMode {
    /// As conlleval and seqeval's default: an `I-X` that continues nothing starts an entity.
    #[default]
    Conlleval,
    /// As seqeval `mode='strict'`: chunks that break the tag scheme are dropped.
    Strict,
}

/// Every per-document count of one prediction, in the order of the aligned pairs.
struct PerDoc {
    entities: Vec<LabelCounts>,
    tokens: Vec<(usize, usize)>,
    nervaluate: Vec<[SchemeCounts; 4]>,
    /// Indexed like [`relation_sections`].
    relations: Vec<Vec<LabelCounts>>,
}

/// (setting, document level) of every relation section, in report order.
fn relation_sections() -> Vec<(RelationSetting, bool)> {
    [false, true]
        .into_iter()
        .flat_map(|doc| RelationSetting::ALL.into_iter().map(move |s| (s, doc)))
        .collect()
}

fn has_relations(pairs: &[Pair]) -> bool {
    pairs
        .iter()
        .any(|p| !p.gold.relations.is_empty() || !p.pred.relations.is_empty())
}

fn per_doc(pairs: &[Pair], symmetric: &BTreeSet<String>, relations: bool) -> PerDoc {
    let sections = if relations {
        relation_sections()
    } else {
        Vec::new()
    };
    PerDoc {
        entities: pairs
            .iter()
            .map(|p| entity_counts(&p.gold, &p.pred))
            .collect(),
        tokens: pairs
            .iter()
            .map(|p| token_tag_counts(&p.gold, &p.pred))
            .collect(),
        nervaluate: pairs
            .iter()
            .map(|p| {
                let n = nervaluate_counts(&p.gold, &p.pred);
                Scheme::ALL.map(|s| *n.overall.get(s))
            })
            .collect(),
        relations: sections
            .iter()
            .map(|&(setting, doc)| {
                pairs
                    .iter()
                    .map(|p| relation_counts(&p.gold, &p.pred, setting, symmetric, doc))
                    .collect()
            })
            .collect(),
    }
}

fn read(
    path: &Path,
    named: Option<Format>,
    opts: &Options,
    diag: &mut Diagnostics,
) -> Result<(Vec<Document>, Format)> {
    let format = formats::guess_format(path, named)?;
    Ok((formats::read(path, format, opts, diag)?, format))
}

/// Build the report for `pairs` (and `compare`, pairs of the same gold with a second
/// prediction), without printing anything.
fn build(
    args: &EvalArgs,
    pairs: &[Pair],
    summary: crate::eval::AlignSummary,
    compare: Option<&[Pair]>,
) -> Report {
    let boot = (args.bootstrap > 0).then_some(Settings {
        resamples: args.bootstrap,
        seed: args.seed,
    });
    let symmetric: BTreeSet<String> = args.symmetric.iter().cloned().collect();
    let relations = has_relations(pairs) || compare.is_some_and(has_relations);
    let counts = per_doc(pairs, &symmetric, relations);
    let mut r = Report::new(
        &args.gold.display().to_string(),
        &args.pred.display().to_string(),
        pairs.len(),
        summary,
    );
    r.bootstrap = boot;
    r.entities = Some(ScoreSection::build("entities", &counts.entities, boot));
    if counts.tokens.iter().any(|&(_, n)| n > 0) {
        r.token_accuracy = Some(Accuracy::build(&counts.tokens, boot));
    }
    r.nervaluate = Scheme::ALL
        .iter()
        .enumerate()
        .map(|(i, &s)| {
            let docs: Vec<SchemeCounts> = counts.nervaluate.iter().map(|d| d[i]).collect();
            NerScheme::build(s, &docs, boot)
        })
        .collect();
    for ((setting, doc), docs) in relation_sections().into_iter().zip(&counts.relations) {
        let level = if doc { "document" } else { "mention" };
        let name = format!("relations ({}, {level} level)", setting.name());
        r.relations
            .push(ScoreSection::build(&name, docs, boot).relation(setting.name(), level));
    }
    let mut ents = crate::eval::Confusion::default();
    let mut rels = crate::eval::Confusion::default();
    for p in pairs {
        ents += entity_confusion(&p.gold, &p.pred);
        if relations {
            rels += relation_confusion(&p.gold, &p.pred, &symmetric);
        }
    }
    r.confusion
        .push(ConfusionMatrix::from_counts("entity type confusion", &ents));
    if relations {
        r.confusion.push(ConfusionMatrix::from_counts(
            "relation label confusion (arguments by boundaries)",
            &rels,
        ));
    }
    let scored = pairs
        .iter()
        .any(|p| p.pred.relations.iter().any(|x| x.score.is_some()));
    if scored {
        let docs = || pairs.iter().map(|p| (&*p.gold, &*p.pred));
        let setting = RelationSetting::Strict;
        let points: Vec<ThresholdPoint> =
            crate::eval::relations::threshold_sweep(docs(), setting, &symmetric, false)
                .iter()
                .map(|p| ThresholdPoint {
                    threshold: p.threshold as f64,
                    precision: p.prf.precision,
                    recall: p.prf.recall,
                    f1: p.prf.f1,
                })
                .collect();
        let best = points
            .iter()
            .copied()
            .fold(None, |b: Option<ThresholdPoint>, p| match b {
                Some(b) if b.f1 >= p.f1 => Some(b),
                _ => Some(p),
            });
        let per_label = crate::eval::relations::best_thresholds(docs(), setting, &symmetric, false)
            .into_iter()
            .map(|(l, (t, _))| (l, t as f64))
            .collect();
        r.thresholds.push(ThresholdCurve {
            name: "relation score threshold (strict, mention level)".into(),
            points,
            best,
            best_per_label: per_label,
        });
    }
    if let (Some(other), Some(path)) = (compare, &args.compare) {
        r.comparison = Some(comparison(args, pairs, other, path, &symmetric, relations));
    }
    r
}

/// Paired comparison over the gold documents that both predictions were aligned with.
fn comparison(
    args: &EvalArgs,
    pairs: &[Pair],
    other: &[Pair],
    path: &Path,
    symmetric: &BTreeSet<String>,
    relations: bool,
) -> Comparison {
    let s = Settings {
        resamples: args.bootstrap.max(1),
        seed: args.seed,
    };
    // Lenient alignment may leave different documents out on each side: keep the common ones,
    // matched by the gold document itself.
    let key = |p: &Pair| (&*p.gold) as *const Document;
    let in_other: std::collections::HashMap<*const Document, usize> =
        other.iter().enumerate().map(|(i, p)| (key(p), i)).collect();
    let (mut a, mut b): (Vec<Pair>, Vec<Pair>) = (Vec::new(), Vec::new());
    for p in pairs {
        if let Some(&i) = in_other.get(&key(p)) {
            a.push(p.clone());
            b.push(other[i].clone());
        }
    }
    let (ca, cb) = (
        per_doc(&a, symmetric, relations),
        per_doc(&b, symmetric, relations),
    );
    let mut measures = ComparisonRow::f1_rows("entities", &ca.entities, &cb.entities, s);
    if relations {
        measures.extend(ComparisonRow::f1_rows(
            "relations (strict, mention level)",
            &ca.relations[0],
            &cb.relations[0],
            s,
        ));
    }
    Comparison {
        pred: path.display().to_string(),
        method: report::COMPARISON_METHOD.into(),
        measures,
    }
}

fn write_error_file(path: &Path, pairs: &[Pair], symmetric: &BTreeSet<String>) -> Result<()> {
    let mut items = Vec::new();
    for p in pairs {
        items.extend(entity_errors(&p.gold, &p.pred));
        items.extend(relation_errors(&p.gold, &p.pred, symmetric));
    }
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let mut w = std::io::BufWriter::new(file);
    let jsonl = path.extension().is_some_and(|e| e == "jsonl");
    let res = if jsonl {
        items.iter().try_for_each(|i| {
            let line = serde_json::to_string(i).expect("error items serialise");
            writeln!(w, "{line}")
        })
    } else {
        write_errors(&items, &mut w)
    };
    res.and_then(|_| w.flush())
        .map_err(|e| Error::io(path, e))?;
    eprintln!("wrote {} errors to {}", items.len(), path.display());
    Ok(())
}

pub fn run(args: &EvalArgs, diag: &mut Diagnostics) -> Result<()> {
    let with_schema;
    let args = match &args.schema {
        Some(path) => {
            let schema = crate::relations::Schema::load(path)?;
            let mut a = args.clone();
            a.entity_labels.extend(schema.entity_types.iter().cloned());
            a.relation_labels
                .extend(schema.labels().into_iter().map(String::from));
            a.symmetric
                .extend(crate::relations::train::symmetric_labels(&schema));
            with_schema = a;
            &with_schema
        }
        None => args,
    };
    if args.json && args.markdown {
        return Err(Error::Usage("choose one of --json and --markdown".into()));
    }
    let opts = Options {
        conll: ConllOptions {
            scheme: args.scheme,
            strict_chunks: args.mode == EvalMode::Strict,
            keep_tags: true,
            ..ConllOptions::default()
        },
    };
    let (gold, gold_fmt) = read(&args.gold, args.gold_format.or(args.from), &opts, diag)?;
    let (pred, pred_fmt) = read(&args.pred, args.pred_format.or(args.from), &opts, diag)?;
    let align_opts = AlignOptions {
        by_order: args.by_order || (gold_fmt == Format::Conll && pred_fmt == Format::Conll),
        lenient: args.lenient,
    };
    let (gl, pl) = (Location::file(&args.gold), Location::file(&args.pred));
    let schema = LabelSchema {
        entities: args.entity_labels.iter().cloned().collect(),
        relations: args.relation_labels.iter().cloned().collect(),
    };
    let unknown_labels = schema.check(&gold, &gl, args.lenient, diag)?
        + schema.check(&pred, &pl, args.lenient, diag)?;
    let (pairs, mut summary) = align(&gold, &pred, &gl, &pl, &align_opts, diag)?;
    summary.unknown_labels = unknown_labels;
    let other_docs = match &args.compare {
        Some(path) => Some(read(path, args.pred_format.or(args.from), &opts, diag)?.0),
        None => None,
    };
    let other_pairs = match &other_docs {
        Some(docs) => {
            let cl = Location::file(args.compare.as_ref().expect("compare path"));
            schema.check(docs, &cl, args.lenient, diag)?;
            Some(align(&gold, docs, &gl, &cl, &align_opts, diag)?.0)
        }
        None => None,
    };
    let report = build(args, &pairs, summary, other_pairs.as_deref());
    if let Some(path) = &args.errors {
        let symmetric: BTreeSet<String> = args.symmetric.iter().cloned().collect();
        write_error_file(path, &pairs, &symmetric)?;
    }
    if let Some(path) = &args.html {
        std::fs::write(path, report::render_html(&report)).map_err(|e| Error::io(path, e))?;
        eprintln!("wrote {}", path.display());
    }
    let text = if args.json {
        report.to_json() + "\n"
    } else if args.markdown {
        report::render_markdown(&report)
    } else {
        report::render_terminal(&report)
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|_| out.flush())
        .map_err(|e| Error::io("<stdout>", e))
}
