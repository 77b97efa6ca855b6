//! HTML and per-document outputs end to end: the real binary (`ertag annotate --to html|brat|conll`
//! with the tiny random model of `tests/common`, which tags every word as PER, and
//! `ertag convert --to html` of `tests/data/relations.jsonl`, which has relations).

mod common;

use std::path::{Path, PathBuf};
use std::process::Output;

use common::{ertag, repo, stderr, tiny_ner_model};

fn setup() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let model = tmp.path().join("model");
    tiny_ner_model(&model);
    (tmp, model)
}

fn annotate(model: &Path, args: &[&str]) -> Output {
    let mut all = vec![
        "annotate",
        "--ner-model",
        s(model),
        "--threads",
        "1",
        "--chunk-size",
        "2",
    ];
    all.extend_from_slice(args);
    ertag(&all)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(o: Output) -> Output {
    assert!(o.status.success(), "{}", stderr(&o));
    o
}

/// File names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every file under `dir` with its bytes, sorted by name.
fn contents(dir: &Path) -> Vec<(String, Vec<u8>)> {
    names(dir)
        .into_iter()
        .map(|n| {
            let bytes = std::fs::read(dir.join(&n)).unwrap();
            (n, bytes)
        })
        .collect()
}

/// Five stories: one quoting a script, three with hostile ids (two of which sanitise to the
/// same name), one plain.
fn hostile_input(dir: &Path) -> PathBuf {
    let input = dir.join("in.jsonl");
    let lines = [
        r#"{"id":"plain","text":"Anna met the mayor of Zurich."}"#,
        r#"{"id":"xss","text":"The mayor said <script>alert(1)</script> in Paris."}"#,
        r#"{"id":"../../escape","text":"Anna met the mayor."}"#,
        r#"{"id":"/etc/passwd","text":"He met the mayor of Paris."}"#,
        r#"{"id":"_etc_passwd","text":"She met Anna."}"#,
    ];
    std::fs::write(&input, lines.join("\n") + "\n").unwrap();
    input
}

#[test]
fn html_pages_escape_text_and_stay_in_their_folder() {
    let (tmp, model) = setup();
    let input = hostile_input(tmp.path());
    let out = tmp.path().join("deep/html");
    ok(annotate(
        &model,
        &[s(&input), "--to", "html", "-o", s(&out)],
    ));
    assert_eq!(
        names(&out),
        [
            "_._.._escape.html",
            "_etc_passwd.html",
            "_etc_passwd_2.html",
            "index.html",
            "plain.html",
            "xss.html"
        ]
    );
    // Nothing was written beside the folder or above it.
    assert_eq!(names(&tmp.path().join("deep")), ["html"]);
    assert!(!tmp.path().join("escape.html").exists());
    for (name, bytes) in contents(&out) {
        let page = String::from_utf8(bytes).unwrap();
        assert!(!page.contains("<script"), "{name}: {page}");
        assert!(page.ends_with("</html>\n"), "{name}");
    }
    let xss = std::fs::read_to_string(out.join("xss.html")).unwrap();
    // Every word is a PER entity with the tiny model, even `<`: marks with their label,
    // around escaped text.
    assert!(
        xss.contains(">&lt;<span class=\"l\">PER</span></mark>"),
        "{xss}"
    );
    assert!(
        xss.contains(">Paris<span class=\"l\">PER</span></mark>"),
        "{xss}"
    );
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    for (file, id) in [
        ("plain.html", "plain"),
        ("xss.html", "xss"),
        ("_._.._escape.html", "../../escape"),
        ("_etc_passwd.html", "/etc/passwd"),
        ("_etc_passwd_2.html", "_etc_passwd"),
    ] {
        assert!(
            index.contains(&format!("<a href=\"{file}\">{id}</a>")),
            "{file}: {index}"
        );
    }
    // Input order in the index.
    assert!(index.find("plain.html").unwrap() < index.find("_etc_passwd_2.html").unwrap());
}

#[test]
fn html_resume_writes_only_what_is_missing() {
    let (tmp, model) = setup();
    let input = hostile_input(tmp.path());
    let out = tmp.path().join("html");
    ok(annotate(
        &model,
        &[s(&input), "--to", "html", "-o", s(&out)],
    ));
    let full = contents(&out);
    std::fs::remove_file(out.join("xss.html")).unwrap();
    std::fs::remove_file(out.join("index.html")).unwrap();
    let o = ok(annotate(
        &model,
        &[s(&input), "--to", "html", "-o", s(&out), "--resume"],
    ));
    assert!(
        stderr(&o).contains("skipped 4 already written"),
        "{}",
        stderr(&o)
    );
    assert_eq!(contents(&out), full);
}

#[test]
fn brat_is_streamed_per_document_and_equals_convert() {
    let (tmp, model) = setup();
    let input = hostile_input(tmp.path());
    let jsonl = tmp.path().join("out.jsonl");
    ok(annotate(&model, &[s(&input), "-o", s(&jsonl)]));
    let whole = tmp.path().join("whole");
    ok(ertag(&[
        "convert",
        s(&jsonl),
        "--to",
        "brat",
        "-o",
        s(&whole),
    ]));
    let out = tmp.path().join("brat");
    ok(annotate(
        &model,
        &[s(&input), "--to", "brat", "-o", s(&out)],
    ));
    let streamed = contents(&out);
    assert_eq!(streamed.len(), 10, "{:?}", names(&out));
    assert_eq!(streamed, contents(&whole));
    // A run killed between a document's two files: --resume writes that document again.
    std::fs::remove_file(out.join("xss.ann")).unwrap();
    let o = ok(annotate(
        &model,
        &[s(&input), "--to", "brat", "-o", s(&out), "--resume"],
    ));
    assert!(stderr(&o).contains("skipped 4"), "{}", stderr(&o));
    assert_eq!(contents(&out), streamed);
}

#[test]
fn conll_is_appended_per_chunk_and_cannot_be_resumed() {
    let (tmp, model) = setup();
    let input = hostile_input(tmp.path());
    let jsonl = tmp.path().join("out.jsonl");
    ok(annotate(&model, &[s(&input), "-o", s(&jsonl)]));
    let whole = tmp.path().join("whole.conll");
    ok(ertag(&[
        "convert",
        s(&jsonl),
        "--to",
        "conll",
        "-o",
        s(&whole),
    ]));
    let out = tmp.path().join("out.conll");
    ok(annotate(
        &model,
        &[s(&input), "--to", "conll", "-o", s(&out)],
    ));
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&whole).unwrap());
    let o = annotate(
        &model,
        &[s(&input), "--to", "conll", "-o", s(&out), "--resume"],
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("conll output cannot be resumed"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn convert_draws_the_relations_of_a_jsonl_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("pages");
    let data = repo().join("tests/data/relations.jsonl");
    ok(ertag(&["convert", s(&data), "--to", "html", "-o", s(&out)]));
    assert_eq!(
        names(&out),
        [
            "_._.._hostile__id_.html",
            "embassy-closures.html",
            "index.html",
            "putin-calls.html"
        ]
    );
    let page = std::fs::read_to_string(out.join("putin-calls.html")).unwrap();
    // One sentence, one figure: six relations, the reciprocal phone call drawn once.
    assert_eq!(page.matches("<svg").count(), 1);
    assert_eq!(page.matches("stroke-width=\"1.5\"").count(), 5);
    assert_eq!(page.matches("Z\" fill=").count(), 6, "arrowheads");
    let table = &page[page.find("<h2>relations").unwrap()..page.find("<h2>entities").unwrap()];
    assert_eq!(table.matches("<tr><td>").count(), 6);
    let hostile = std::fs::read_to_string(out.join("_._.._hostile__id_.html")).unwrap();
    assert!(!hostile.contains("<script"));
    assert!(hostile.contains("<h1>../../hostile &lt;id&gt;</h1>"));
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(
        index.contains("3 documents, 15 entities, 9 relations"),
        "{index}"
    );
    // html is written only.
    let o = ertag(&["convert", s(&out), "--from", "html", "-o", "-"]);
    assert!(!o.status.success());
}
