//! Pairing each gold document with its prediction.
//!
//! A score is only meaningful when both sides describe the same text. A document missing on
//! either side, or a text that differs, is an error; with `lenient` it becomes a warning and is
//! counted (a missing prediction scores as an empty one, an extra prediction is ignored, a
//! document whose texts differ is left out), so a score is never silently wrong.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::document::Document;
use crate::error::{Diagnostics, Error, Location, Result};

#[derive(Debug, Clone, Default)]
pub struct AlignOptions {
    /// Pair documents by position instead of by id (CoNLL files, whose ids come from file names).
    pub by_order: bool,
    /// Warn and count instead of failing on missing, extra or mismatched documents.
    pub lenient: bool,
}

/// A gold document and the prediction for the same text.
#[derive(Debug, Clone)]
pub struct Pair<'a> {
    pub gold: Cow<'a, Document>,
    pub pred: Cow<'a, Document>,
}

/// What alignment had to leave out or fill in (all zero unless `lenient`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct AlignSummary {
    pub missing_predictions: usize,
    pub extra_predictions: usize,
    pub text_mismatches: usize,
    /// Entities and relations whose label is not in the declared label set.
    pub unknown_labels: usize,
}

/// The labels a comparison may use, as declared by the user (`--entity-labels`,
/// `--relation-labels`); an empty set declares nothing and accepts every label.
#[derive(Debug, Clone, Default)]
pub struct LabelSchema {
    pub entities: std::collections::BTreeSet<String>,
    pub relations: std::collections::BTreeSet<String>,
}

impl LabelSchema {
    /// Check every label of `docs` against the schema. A label outside it is an error naming
    /// the document, or with `lenient` a warning; returns how many labels were unknown.
    pub fn check(
        &self,
        docs: &[Document],
        loc: &Location,
        lenient: bool,
        diag: &mut Diagnostics,
    ) -> Result<usize> {
        let mut unknown = 0;
        for doc in docs {
            let ents = doc
                .entities
                .iter()
                .map(|e| ("entity", &e.label, &self.entities));
            let rels = doc
                .relations
                .iter()
                .map(|r| ("relation", &r.label, &self.relations));
            for (kind, label, known) in ents.chain(rels) {
                if known.is_empty() || known.contains(label) {
                    continue;
                }
                unknown += 1;
                let loc = loc.in_doc(&doc.id);
                let msg = format!(
                    "{kind} label {label:?} is not in the schema ({})",
                    known.iter().cloned().collect::<Vec<_>>().join(", ")
                );
                if !lenient {
                    return Err(Error::input(
                        &loc,
                        format!("{msg} (use --lenient to warn and count instead)"),
                    ));
                }
                diag.warnings
                    .push(crate::error::Warning { loc, message: msg });
            }
        }
        Ok(unknown)
    }
}

pub fn align<'a>(
    gold: &'a [Document],
    pred: &'a [Document],
    gold_loc: &Location,
    pred_loc: &Location,
    opts: &AlignOptions,
    diag: &mut Diagnostics,
) -> Result<(Vec<Pair<'a>>, AlignSummary)> {
    let mut summary = AlignSummary::default();
    let problem = |loc: &Location, msg: String, diag: &mut Diagnostics| -> Result<()> {
        if opts.lenient {
            diag.warnings.push(crate::error::Warning {
                loc: loc.clone(),
                message: msg,
            });
            Ok(())
        } else {
            Err(Error::input(
                loc,
                format!("{msg} (use --lenient to warn and count instead)"),
            ))
        }
    };
    let matched: Vec<(&Document, Option<&Document>)> = if opts.by_order {
        if gold.len() != pred.len() {
            let msg = format!(
                "gold has {} documents but the prediction has {}",
                gold.len(),
                pred.len()
            );
            problem(pred_loc, msg, diag)?;
            summary.missing_predictions += gold.len().saturating_sub(pred.len());
            summary.extra_predictions += pred.len().saturating_sub(gold.len());
        }
        gold.iter()
            .enumerate()
            .map(|(i, g)| (g, pred.get(i)))
            .collect()
    } else {
        let by_id: HashMap<&str, &Document> = pred.iter().map(|d| (d.id.as_str(), d)).collect();
        let gold_ids: std::collections::HashSet<&str> =
            gold.iter().map(|d| d.id.as_str()).collect();
        for p in pred.iter().filter(|p| !gold_ids.contains(p.id.as_str())) {
            summary.extra_predictions += 1;
            problem(
                &pred_loc.in_doc(&p.id),
                "predicted document is not in the gold".into(),
                diag,
            )?;
        }
        gold.iter()
            .map(|g| (g, by_id.get(g.id.as_str()).copied()))
            .collect()
    };
    let mut pairs = Vec::with_capacity(matched.len());
    for (g, p) in matched {
        match p {
            None => {
                summary.missing_predictions += 1;
                problem(
                    &gold_loc.in_doc(&g.id),
                    "gold document has no prediction".into(),
                    diag,
                )?;
                let empty = Document {
                    entities: Vec::new(),
                    relations: Vec::new(),
                    ..g.clone()
                };
                pairs.push(Pair {
                    gold: Cow::Borrowed(g),
                    pred: Cow::Owned(empty),
                });
            }
            Some(p) if p.text != g.text => {
                summary.text_mismatches += 1;
                let at = g
                    .text
                    .chars()
                    .zip(p.text.chars())
                    .position(|(a, b)| a != b)
                    .unwrap_or_else(|| g.text.chars().count().min(p.text.chars().count()));
                problem(
                    &pred_loc.in_doc(&p.id),
                    format!(
                        "text differs from gold document '{}' at character {at}",
                        g.id
                    ),
                    diag,
                )?;
            }
            Some(p) => pairs.push(Pair {
                gold: Cow::Borrowed(g),
                pred: Cow::Borrowed(p),
            }),
        }
    }
    Ok((pairs, summary))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(specs: &[(&str, &str)]) -> Vec<Document> {
        specs.iter().map(|(id, t)| Document::new(*id, *t)).collect()
    }

    fn run(
        g: &[Document],
        p: &[Document],
        opts: AlignOptions,
    ) -> Result<(usize, AlignSummary, usize)> {
        let mut diag = Diagnostics::default();
        let (pairs, s) = align(
            g,
            p,
            &Location::file("gold.jsonl"),
            &Location::file("pred.jsonl"),
            &opts,
            &mut diag,
        )?;
        Ok((pairs.len(), s, diag.warnings.len()))
    }

    #[test]
    fn pairs_by_id_whatever_the_order() {
        let g = docs(&[("a", "x"), ("b", "y")]);
        let p = docs(&[("b", "y"), ("a", "x")]);
        let (n, s, w) = run(&g, &p, AlignOptions::default()).unwrap();
        assert_eq!((n, w), (2, 0));
        assert_eq!(s, AlignSummary::default());
    }

    #[test]
    fn missing_and_mismatched_documents_are_errors() {
        let g = docs(&[("a", "Putin"), ("b", "Iran")]);
        let p = docs(&[("a", "Putin")]);
        let msg = run(&g, &p, AlignOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("gold.jsonl document 'b': gold document has no prediction"),
            "{msg}"
        );
        let p = docs(&[("a", "Putin"), ("b", "Irak")]);
        let msg = run(&g, &p, AlignOptions::default())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("text differs") && msg.contains("character 3"),
            "{msg}"
        );
    }

    #[test]
    fn labels_outside_the_schema_are_errors_or_counted() {
        let mut d = Document::new("d", "Putin in Kyiv");
        d.add_entity(0, 5, "PER").unwrap();
        d.add_entity(9, 13, "GPE").unwrap();
        let schema = LabelSchema {
            entities: ["PER", "LOC"].iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        let docs = [d];
        let loc = Location::file("pred.jsonl");
        let msg = schema
            .check(&docs, &loc, false, &mut Diagnostics::default())
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("document 'd'") && msg.contains("\"GPE\" is not in the schema"),
            "{msg}"
        );
        let mut diag = Diagnostics::default();
        assert_eq!(schema.check(&docs, &loc, true, &mut diag).unwrap(), 1);
        assert_eq!(diag.warnings.len(), 1);
        // No declared labels: anything goes.
        let open = LabelSchema::default();
        assert_eq!(open.check(&docs, &loc, false, &mut diag).unwrap(), 0);
    }

    #[test]
    fn lenient_counts_instead() {
        let g = docs(&[("a", "Putin"), ("b", "Iran"), ("c", "Gaza")]);
        let p = docs(&[("a", "Putin"), ("b", "Irak"), ("z", "extra")]);
        let opts = AlignOptions {
            lenient: true,
            ..Default::default()
        };
        let (n, s, w) = run(&g, &p, opts).unwrap();
        // a scored; b left out (text differs); c scored against an empty prediction.
        assert_eq!(n, 2);
        assert_eq!(
            s,
            AlignSummary {
                missing_predictions: 1,
                extra_predictions: 1,
                text_mismatches: 1,
                unknown_labels: 0
            }
        );
        assert_eq!(w, 3);
    }
}
