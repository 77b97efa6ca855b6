//! `ertag eval` end to end: the real binary on CoNLL-2003, against itself and against
//! predictions perturbed by the test (so the expected damage is known).

mod common;

use std::path::Path;

use serde_json::Value;

use common::{ertag, ok, shared_data};

fn conll(split: &str) -> String {
    shared_data("conll2003/iob2")
        .join(split)
        .display()
        .to_string()
}

/// Damage a CoNLL file in a known way: every 10th entity token loses its tag (`O`), every 7th
/// `B-` tag changes type. Columns other than the last are kept.
fn perturb_conll(src: &str, dst: &Path) {
    let text = std::fs::read_to_string(src).unwrap();
    let (mut ent, mut begin) = (0usize, 0usize);
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut fields: Vec<String> = line.split(' ').map(str::to_string).collect();
        let tag = fields.last().cloned().unwrap_or_default();
        if !line.starts_with("-DOCSTART-") && fields.len() > 1 && tag != "O" {
            ent += 1;
            let new = if ent % 10 == 0 {
                "O".to_string()
            } else if tag.starts_with("B-") && {
                begin += 1;
                begin % 7 == 0
            } {
                if tag == "B-PER" { "B-ORG" } else { "B-PER" }.to_string()
            } else {
                tag
            };
            *fields.last_mut().unwrap() = new;
        }
        out.push_str(&fields.join(" "));
        out.push('\n');
    }
    std::fs::write(dst, out).unwrap();
}

/// Damage JSON Lines documents: drop every 10th entity, relabel every 7th.
fn perturb_jsonl(src: &Path, dst: &Path) {
    let mut n = 0usize;
    let lines: Vec<String> = std::fs::read_to_string(src)
        .unwrap()
        .lines()
        .map(|l| {
            let mut doc: Value = serde_json::from_str(l).unwrap();
            let ents = doc["entities"].as_array().cloned().unwrap_or_default();
            let kept: Vec<Value> = ents
                .into_iter()
                .filter_map(|mut e| {
                    n += 1;
                    if n % 10 == 0 {
                        return None;
                    }
                    if n % 7 == 0 {
                        let l = if e["label"] == "PER" { "ORG" } else { "PER" };
                        e["label"] = Value::from(l);
                    }
                    Some(e)
                })
                .collect();
            doc["entities"] = Value::Array(kept);
            doc.to_string()
        })
        .collect();
    std::fs::write(dst, lines.join("\n") + "\n").unwrap();
}

fn f1(report: &Value) -> f64 {
    report["entities"]["scores"]["micro"]["f1"]
        .as_f64()
        .unwrap()
}

#[test]
fn gold_against_itself_scores_100() {
    let test = conll("test.txt");
    let o = ertag(&[
        "eval",
        "--gold",
        &test,
        "--pred",
        &test,
        "--json",
        "--bootstrap",
        "100",
    ]);
    let r: Value = serde_json::from_str(&ok(&o)).unwrap();
    assert_eq!(r["documents"], 231);
    assert_eq!(f1(&r), 1.0);
    assert_eq!(r["entities"]["scores"]["total"]["tp"], 5648);
    assert_eq!(r["token_accuracy"]["accuracy"], 1.0);
    let ci = &r["entities"]["micro_f1_ci"];
    assert_eq!(
        (ci["low"].as_f64(), ci["high"].as_f64()),
        (Some(1.0), Some(1.0))
    );
    for scheme in r["nervaluate"].as_array().unwrap() {
        assert_eq!(scheme["f1"], 1.0, "{scheme}");
    }
}

#[test]
fn perturbed_conll_scores_plausibly_and_renders_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let pred = dir.path().join("pred.conll");
    perturb_conll(&conll("test.txt"), &pred);
    let pred = pred.to_str().unwrap();
    let test = conll("test.txt");
    let html = dir.path().join("report.html");
    let errors = dir.path().join("errors.jsonl");
    let o = ertag(&[
        "eval",
        "--gold",
        &test,
        "--pred",
        pred,
        "--json",
        "--html",
        html.to_str().unwrap(),
        "--errors",
        errors.to_str().unwrap(),
        "--compare",
        &test,
    ]);
    let r: Value = serde_json::from_str(&ok(&o)).unwrap();
    let f = f1(&r);
    assert!((0.6..0.95).contains(&f), "micro F1 {f}");
    let ci = &r["entities"]["micro_f1_ci"];
    let (lo, hi) = (ci["low"].as_f64().unwrap(), ci["high"].as_f64().unwrap());
    assert!(lo < f && f < hi && hi - lo < 0.1, "[{lo}, {hi}] around {f}");
    let acc = r["token_accuracy"]["accuracy"].as_f64().unwrap();
    assert!((0.9..1.0).contains(&acc), "accuracy {acc}");
    let labels: Vec<&str> = r["entities"]["scores"]["per_label"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["LOC", "MISC", "ORG", "PER"]);
    // Gold as the second system is better, significantly.
    let m = &r["comparison"]["measures"][0];
    assert_eq!(m["measure"], "entities micro F1");
    assert!((m["difference"].as_f64().unwrap() - (1.0 - f)).abs() < 1e-9);
    assert!(m["interval"]["low"].as_f64().unwrap() > 0.0);
    assert!(m["p_value"].as_f64().unwrap() < 0.01);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.contains("<svg") && page.contains("entity type confusion"));
    let errs = std::fs::read_to_string(&errors).unwrap();
    assert!(errs.lines().count() > 100);

    let md = ok(&ertag(&[
        "eval",
        "--gold",
        &test,
        "--pred",
        pred,
        "--markdown",
        "--bootstrap",
        "0",
    ]));
    assert!(md.contains("| micro avg |"), "{md}");
    let text = ok(&ertag(&["eval", "--gold", &test, "--pred", pred]));
    assert!(text.contains("95% CI: micro F1 ["), "{text}");
}

#[test]
fn a_thousand_documents_evaluate() {
    let dir = tempfile::tempdir().unwrap();
    let mut gold = String::new();
    for split in ["train.txt", "dev.txt"] {
        let out = dir.path().join(format!("{split}.jsonl"));
        ok(&ertag(&[
            "convert",
            &conll(split),
            "--from",
            "conll",
            "-o",
            out.to_str().unwrap(),
        ]));
        gold.push_str(&std::fs::read_to_string(&out).unwrap());
    }
    // Document ids restart per file: keep the first 1,000 with unique ids.
    let mut seen = std::collections::HashSet::new();
    let lines: Vec<&str> = gold
        .lines()
        .filter(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            seen.insert(v["id"].as_str().unwrap().to_string())
        })
        .take(1000)
        .collect();
    let gold_path = dir.path().join("gold.jsonl");
    std::fs::write(&gold_path, lines.join("\n") + "\n").unwrap();
    let pred_path = dir.path().join("pred.jsonl");
    perturb_jsonl(&gold_path, &pred_path);
    let start = std::time::Instant::now();
    let o = ertag(&[
        "eval",
        "--gold",
        gold_path.to_str().unwrap(),
        "--pred",
        pred_path.to_str().unwrap(),
        "--json",
    ]);
    let elapsed = start.elapsed();
    let r: Value = serde_json::from_str(&ok(&o)).unwrap();
    eprintln!(
        "1,000-document eval (debug build, 1,000 resamples): {:.2?}",
        elapsed
    );
    println!("1,000-document eval wall time: {elapsed:.2?}");
    assert_eq!(r["documents"], lines.len());
    let f = f1(&r);
    assert!((0.7..0.95).contains(&f), "micro F1 {f}");
}
