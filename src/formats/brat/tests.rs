use super::*;

fn read(path: &Path) -> Result<Vec<Document>> {
    read_dir(path, &mut Diagnostics::default())
}

/// A brat folder: `files` are (relative path, content).
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    dir
}

/// The message of reading one document `a` whose annotations are `ann`.
fn ann_error(text: &str, ann: &str) -> String {
    let dir = folder(&[("a.txt", text), ("a.ann", ann)]);
    read(dir.path()).unwrap_err().to_string()
}

const TEXT: &str = "Putin called Pezeshkian.\r\nIran’s talks\r\nin Zürich resumed.";
const ANN: &str = "T1\tPER 0 5\tPutin\r\nT2\tPER 13 23\tPezeshkian\r\n\
    T3\tLOC 26 30\tIran\r\nT4\tEVENT 33 38;43 49\ttalks Zürich\r\n\
    R1\tphone_call Arg1:T1 Arg2:T2\r\nA1\tNegated T4\r\nA2\tConfidence T1 High\r\n\
    #1\tAnnotatorNotes T2\tpresident since 2024\r\n*\tEquiv T1 T2\r\n\
    E1\tMeet:T4 Agent:T1\r\nR2\tpart_of Arg1:E1 Arg2:T3\r\nN1\tReference T3 Wikidata:Q794\tIran\r\n";

#[test]
fn reads_a_folder() {
    let dir = folder(&[
        ("wire/a.txt", TEXT),
        ("wire/a.ann", ANN),
        ("b.txt", "No annotations here."),
        ("annotation.conf", "[entities]\nPER\n"),
    ]);
    let mut diag = Diagnostics::default();
    let docs = read_dir(dir.path(), &mut diag).unwrap();
    let ids: Vec<_> = docs.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(ids, ["b", "wire/a"]);
    assert!(docs[0].entities.is_empty());
    let d = &docs[1];
    assert_eq!(d.text, TEXT, "the text is kept as stored, CRLF and all");
    let got: Vec<_> = d.entities.iter().map(|e| (&*e.id, &*e.text)).collect();
    let t4 = ("T4", "talks\r\nin Zürich");
    assert_eq!(
        got,
        [("T1", "Putin"), ("T2", "Pezeshkian"), ("T3", "Iran"), t4]
    );
    let r: Vec<_> = d.relations.iter().map(|r| (&*r.head, &*r.label)).collect();
    assert_eq!(r, [("T1", "phone_call")]);
    assert_eq!(
        d.meta[ATTRIBUTES][1],
        json!({"id": "A2", "name": "Confidence", "target": "T1", "value": "High"})
    );
    assert_eq!(d.meta[NOTES][0]["text"], "president since 2024");
    let msgs: Vec<_> = diag.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(msgs.len(), 2, "{msgs:?}");
    has(
        &msgs[0],
        "a.ann:line 4: T4 is discontinuous (33 38;43 49); kept as one span [33, 49)",
    );
    has(&msgs[1], "document 'wire/a': ignored 1 equivalences (*), 1 events (E), 1 normalizations (N), 1 relations to events");
    crate::formats::check(&docs, &Location::file(dir.path())).unwrap();
    assert!(read_dir(dir.path(), &mut Diagnostics::new(true)).is_err());
}

#[test]
fn reads_one_file() {
    let dir = folder(&[("x.txt", "Putin spoke."), ("x.ann", "T1\tPER 0 5\tPutin\n")]);
    for name in ["x.txt", "x.ann"] {
        let docs = read(&dir.path().join(name)).unwrap();
        assert_eq!((docs[0].id.as_str(), docs[0].entities.len()), ("x", 1));
    }
    let msg = read(&dir.path().join("x.csv")).unwrap_err().to_string();
    has(
        &msg,
        "brat input is a directory, or one document's .txt or .ann file",
    );
}

#[test]
fn round_trip() {
    let dir = folder(&[("wire/a.txt", TEXT), ("wire/a.ann", ANN)]);
    let docs = read(dir.path()).unwrap();
    let out = tempfile::tempdir().unwrap();
    write_dir(&docs, out.path(), &mut Diagnostics::default()).unwrap();
    let ann = std::fs::read_to_string(out.path().join("wire_a.ann")).unwrap();
    has(&ann, "T1\tPER 0 5\tPutin\nT2\tPER 13 23\tPezeshkian\n");
    has(&ann, "T4\tEVENT 33 49\ttalks  in Zürich\n");
    has(&ann, "R1\tphone_call Arg1:T1 Arg2:T2\nA1\tNegated T4\nA2\tConfidence T1 High\n#1\tAnnotatorNotes T2\tpresident since 2024\n");
    let mut diag = Diagnostics::new(true);
    let back = read_dir(out.path(), &mut diag).unwrap();
    let mut expected = docs[0].clone();
    expected.id = "wire_a".into();
    assert_eq!(back, [expected]);
}

#[test]
fn write_renumbers_and_relabels() {
    let mut d = Document::new("../up", "Putin met\nNetanyahu");
    d.add_entity(0, 5, "PER").unwrap();
    d.entities[0].id = "putin".into();
    d.entities[0].score = Some(0.99);
    d.add_entity(4, 19, "ODD SPAN").unwrap();
    let (head, tail, label) = ("putin".into(), "T2".into(), "met with".into());
    let (score, evidence) = (Some(0.5), None);
    d.relations.push(Relation {
        head,
        tail,
        label,
        score,
        evidence,
    });
    let mut twin = d.clone();
    twin.id = "..\\up".into();
    let out = tempfile::tempdir().unwrap();
    let mut diag = Diagnostics::default();
    write_dir(&[d, twin], out.path(), &mut diag).unwrap();
    let ann = std::fs::read_to_string(out.path().join("_._up.ann")).unwrap();
    assert_eq!(
        ann,
        "T1\tPER 0 5\tPutin\nT2\tODD_SPAN 4 19\tn met Netanyahu\nR1\tmet_with Arg1:T1 Arg2:T2\n"
    );
    assert!(out.path().join("_._up_2.ann").exists());
    let msgs: Vec<_> = diag.warnings.iter().map(|w| w.message.as_str()).collect();
    assert_eq!(msgs.len(), 3, "{msgs:?}");
    has(msgs[0], "label \"ODD SPAN\" written as \"ODD_SPAN\"");
    has(
        msgs[2],
        "file name '_._up' is taken by document '../up'; written as '_._up_2'",
    );
    let back = read(out.path()).unwrap();
    assert_eq!(back[0].entities[1].text, "n met\nNetanyahu");
}

#[track_caller]
fn has(msg: &str, part: &str) {
    assert!(msg.contains(part), "{msg:?} lacks {part:?}");
}

#[test]
fn malformed_lines_are_errors_with_file_and_line() {
    for (ann, expected) in [
        ("T1\tPER 0 5\tPutin\nT2\tPER\tPutin\n", "a.ann:line 2: malformed text-bound annotation \"T2\\tPER\\tPutin\" (expected ID<tab>LABEL START END<tab>TEXT)"),
        ("T1\tPER 0 x\tPutin\n", "a.ann:line 1: T1: offsets \"0 x\" are not two numbers"),
        ("R1\tmet Arg1:T1\n", "a.ann:line 1: malformed relation \"R1\\tmet Arg1:T1\""),
        ("\nX1\tfoo\n", "a.ann:line 2: malformed line \"X1\\tfoo\""),
        ("A1\tNegated\n", "a.ann:line 1: malformed attribute or note"),
        ("T1\tPER 0 5\tPutin\nT1\tPER 0 5\tPutin\n", "a.ann:line 2: annotation id 'T1' is used twice"),
    ] {
        has(&ann_error("Putin", ann), expected);
    }
}

#[test]
fn offsets_and_texts_are_checked() {
    let msg = ann_error("Iran’s", "\nT1\tLOC 0 7\tIran’s\n");
    has(
        &msg,
        "a.ann:line 2: T1: offsets [0, 7) are outside the text (6 characters)",
    );
    let msg = ann_error("Iran’s talks", "T1\tLOC 0 4\tIraq\n");
    has(
        &msg,
        "a.ann:line 1: T1 has text \"Iraq\" but the .txt has \"Iran\" at 0 4",
    );
    has(
        &ann_error("Iran", "T1\tLOC 2 2\t\n"),
        "the span [2, 2) is empty",
    );
}

#[test]
fn relations_must_point_at_entities() {
    let msg = ann_error("Putin", "T1\tPER 0 5\tPutin\nR1\tmet Arg1:T1 Arg2:T9\n");
    has(
        &msg,
        "a.ann:line 2: R1 (met) points at 'T9', which is not a T annotation",
    );
    // Arg1 is the head even when written second; a BOM before the first line is no id.
    let ann = "\u{feff}T1\tPER 0 5\tPutin\nT2\tPER 10 13\tBen\nR1\tmet Arg2:T1 Arg1:T2\n";
    let dir = folder(&[("a.txt", "Putin met Ben"), ("a.ann", ann)]);
    let r = &read(dir.path()).unwrap()[0].relations[0];
    assert_eq!((r.head.as_str(), r.tail.as_str()), ("T2", "T1"));
}

#[test]
fn an_ann_needs_its_txt() {
    let dir = folder(&[("a.txt", "x"), ("sub/b.ann", "T1\tPER 0 1\tx\n")]);
    let msg = read(dir.path()).unwrap_err().to_string();
    has(&msg, "b.ann: annotations without their text");
    has(&msg, "b.txt does not exist");
    let msg = read(&dir.path().join("sub/b.ann")).unwrap_err().to_string();
    has(&msg, "b.ann: annotations without their text");
}
