use super::*;
use crate::document::Relation;

fn story() -> Document {
    let mut d = Document::new(
        "../../etc/passwd",
        "Putin called Netanyahu. Iran’s Pezeshkian <script>alert(1)</script> met Putin.",
    );
    let p = d.add_entity(0, 5, "PER").unwrap();
    let n = d.add_entity(13, 22, "PER").unwrap();
    let z = d.add_entity(31, 41, "PER").unwrap();
    let i = d.add_entity(24, 28, "LOC").unwrap();
    let p2 = d.add_entity(72, 77, "PER").unwrap();
    for (head, tail, label) in [
        (&p, &n, "phone call"),
        (&n, &p, "phone call"),
        (&z, &p2, "meets <b>"),
        (&z, &i, "leads"),
    ] {
        d.relations.push(Relation {
            head: head.clone(),
            tail: tail.clone(),
            label: label.into(),
            score: Some(0.5),
            evidence: None,
        });
    }
    d
}

fn page(d: &Document) -> String {
    render_page(d, &IndexEntry::of(d, "x.html"))
}

#[test]
fn text_labels_and_ids_are_escaped() {
    let mut d = story();
    d.text = d.text.replace("Putin.", "Put\u{7}n.");
    d.entities[4].text = "Put\u{7}n".into();
    d.entities[0].label = "P\"><script>".into();
    let html = page(&d);
    assert!(!html.contains("<script>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("P&quot;&gt;&lt;script&gt;"));
    assert!(html.contains("meets &lt;b&gt;"));
    assert!(html.contains("<h1>../../etc/passwd</h1>"));
    // The control character is shown, one character for one.
    assert!(html.contains("Put\u{2407}n"));
    assert!(!html.contains('\u{7}'));
    assert_eq!(esc("a&b'c"), "a&amp;b&#39;c");
}

#[test]
fn entities_are_marked_at_code_point_offsets() {
    let html = page(&story());
    // "Iran" after a multi-byte apostrophe elsewhere: offsets are characters.
    assert!(
        html.contains("title=\"LOC [24, 28)\">Iran<span class=\"l\">LOC</span></mark>’s"),
        "{html}"
    );
    assert!(html.contains(">Pezeshkian<span class=\"l\">PER</span></mark>"));
    assert_eq!(html.matches("<mark class=\"e\"").count(), 5);
}

#[test]
fn nested_entities_nest_and_partial_overlaps_are_left_plain() {
    let mut d = Document::new("n", "New York City Council");
    d.add_entity(0, 13, "LOC").unwrap();
    d.add_entity(0, 8, "LOC").unwrap();
    d.add_entity(9, 21, "ORG").unwrap();
    let (kept, hidden) = inline_entities(&d);
    assert_eq!((kept, hidden), (vec![0, 1], 1));
    let html = page(&d);
    assert!(html.contains("<mark class=\"e\" id=\"e0\""));
    assert!(html.contains("New York<span class=\"l\">LOC</span></mark> City<span"));
    assert!(html.contains("1 entities overlap"));
}

#[test]
fn relations_are_drawn_as_arcs_and_listed() {
    let html = page(&story());
    // Two sentences with relations: two figures. The reciprocal "phone call" is one arc
    // with two arrowheads; the other sentence has two arcs.
    assert_eq!(html.matches("<svg").count(), 2, "{html}");
    let arcs = html.matches("stroke-width=\"1.5\"").count();
    assert_eq!(arcs, 3);
    let heads = html.matches("Z\" fill=").count();
    assert_eq!(heads, 4);
    assert_eq!(html.matches(">phone call</text>").count(), 1);
    // The table lists all four, with their sentence.
    let table = &html[html.find("<h2>relations</h2>").unwrap()..html.find("<h2>entities").unwrap()];
    assert_eq!(table.matches("<tr><td>").count(), 4);
    assert!(table.contains("<td class=\"s\">Putin called Netanyahu.</td>"));
    assert!(table.contains("0.500"));
    // The figure is above its sentence.
    let fig = html.find("<div class=\"fig\">").unwrap();
    assert!(fig < html.find(">Putin<span").unwrap());
}

#[test]
fn a_document_without_relations_has_no_figure() {
    let mut d = Document::new("plain", "Anna lives in Paris.");
    d.add_entity(14, 19, "LOC").unwrap();
    let html = page(&d);
    assert!(!html.contains("<svg") && !html.contains("<h2>relations"));
    assert!(html.ends_with("</body></html>\n"));
}

#[test]
fn pages_stay_in_the_folder_and_the_index_links_them() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out");
    let mut docs = vec![story()];
    for id in ["/etc/passwd", "index", "a/b", "a?b", "ÄÖ"] {
        docs.push(Document::new(id, "Anna."));
    }
    write_dir(&docs, &out, &mut Diagnostics::default()).unwrap();
    let mut files: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(
        files,
        [
            "_._.._etc_passwd.html",
            "_etc_passwd.html",
            "a_b.html",
            "a_b_2.html",
            "index.html",
            "index_2.html",
            "ÄÖ.html"
        ]
    );
    let index = std::fs::read_to_string(out.join(INDEX)).unwrap();
    assert!(index.contains("<a href=\"_._.._etc_passwd.html\">../../etc/passwd</a>"));
    assert!(index.contains("<a href=\"index_2.html\">index</a>"));
    assert!(index.contains("<a href=\"%C3%84%C3%96.html\">ÄÖ</a>"));
    assert!(index.contains("6 documents, 5 entities, 4 relations"));
    // Each page holds its index row, for a resumed run.
    let entry = IndexEntry::read(&out.join("_._.._etc_passwd.html")).unwrap();
    assert_eq!(entry, IndexEntry::of(&docs[0], "_._.._etc_passwd.html"));
    assert_eq!(entry.labels["PER"], 4);
}

#[test]
fn a_torn_page_is_not_taken_for_a_written_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.html");
    let full = page(&story());
    std::fs::write(&path, &full[..full.len() - 20]).unwrap();
    assert!(IndexEntry::read(&path).is_none());
    std::fs::write(&path, &full).unwrap();
    assert!(IndexEntry::read(&path).is_some());
}
