use super::*;
use crate::document::Relation;
use crate::formats::ConllOptions;

fn opts(scheme: TagScheme, tag_column: Option<usize>) -> Options {
    Options {
        conll: ConllOptions {
            tag_column,
            scheme,
            ..Default::default()
        },
    }
}

fn read(s: &str, o: &Options, diag: &mut Diagnostics) -> Result<Vec<Document>> {
    parse(s, &Location::file("data/news.conll"), o, diag)
}

fn read_ok(s: &str, scheme: TagScheme) -> Vec<Document> {
    let mut diag = Diagnostics::default();
    let docs = read(s, &opts(scheme, None), &mut diag).unwrap();
    assert!(diag.is_empty(), "{:?}", diag.warnings);
    docs
}

fn write_ok(docs: &[Document], scheme: TagScheme) -> String {
    let mut diag = Diagnostics::default();
    let out = write(docs, &opts(scheme, None), &mut diag).unwrap();
    assert!(diag.is_empty(), "{:?}", diag.warnings);
    out
}

fn ents(doc: &Document) -> Vec<(&str, &str)> {
    let e = doc.entities.iter();
    e.map(|e| (e.text.as_str(), e.label.as_str())).collect()
}

const IOB2: &str = "-DOCSTART- -X- -X- O\n\nEU NNP B-NP B-ORG\nrejects VBZ B-VP O\n\
    German JJ B-NP B-MISC\n\nPeter NNP B-NP B-PER\nBlackburn NNP I-NP I-PER\n\n\
    -DOCSTART- -X- -X- O\n\nBRUSSELS NNP B-NP B-LOC\n\n";

#[test]
fn reads_columns_sentences_and_documents() {
    let docs = read_ok(IOB2, TagScheme::Iob2);
    assert_eq!(docs.len(), 2);
    let d = &docs[0];
    assert_eq!((d.id.as_str(), docs[1].id.as_str()), ("news-1", "news-2"));
    assert_eq!(d.text, "EU rejects German\nPeter Blackburn");
    assert_eq!(d.sentences, vec![Span::new(0, 17), Span::new(18, 33)]);
    assert_eq!(d.tokens[3], Span::new(18, 23));
    assert_eq!(
        ents(d),
        [
            ("EU", "ORG"),
            ("German", "MISC"),
            ("Peter Blackburn", "PER")
        ]
    );
    assert_eq!(d.entities[2].id, "T3");
    assert_eq!(d.meta[META_COLUMNS][1], serde_json::json!(["VBZ", "B-VP"]));
    assert_eq!(
        d.meta[META_DOCSTART],
        serde_json::json!(["-DOCSTART-", "-X-", "-X-", "O"])
    );
    assert_eq!(write_ok(&docs, TagScheme::Iob2), IOB2);
}

#[test]
fn tag_column_can_be_chosen() {
    let text = "EU\tB-ORG\tNNP\nrejects\tO\tVBZ\n\n";
    let mut diag = Diagnostics::default();
    let docs = read(text, &opts(TagScheme::Iob2, Some(1)), &mut diag).unwrap();
    assert_eq!(ents(&docs[0]), [("EU", "ORG")]);
    assert_eq!(docs[0].meta[META_TAG_COLUMN], 1);
    assert_eq!(write_ok(&docs, TagScheme::Iob2), text);
    let msg = error(text, &opts(TagScheme::Iob2, Some(3)), &mut diag);
    assert!(msg.contains("line 1 document 'news-1': the tag column is column 4"));
}

#[test]
fn iob1_docstart_at_the_end_and_no_final_newline() {
    let text = "EU I-ORG\nUN B-ORG\nsaid O\n\n-DOCSTART- O\n\nBonn I-LOC\n\n-DOCSTART- O";
    let docs = read_ok(text, TagScheme::Iob1);
    assert_eq!(docs.len(), 3);
    assert!(!docs[0].meta.contains_key(META_DOCSTART));
    assert_eq!(ents(&docs[0]), [("EU", "ORG"), ("UN", "ORG")]);
    assert_eq!(ents(&docs[1]), [("Bonn", "LOC")]);
    assert_eq!((docs[2].text.as_str(), docs[2].id.as_str()), ("", "news-3"));
    assert_eq!(write_ok(&docs, TagScheme::Iob1), text);
    let iob2 = write_ok(&docs[..2], TagScheme::Iob2);
    assert_eq!(
        iob2,
        "EU B-ORG\nUN B-ORG\nsaid O\n\n-DOCSTART- O\n\nBonn B-LOC\n\n"
    );
}

#[test]
fn the_schemes_round_trip() {
    let bioes = "A B-PER\nB E-PER\nC S-PER\nD O\nE S-LOC\n\n";
    let docs = read_ok(bioes, TagScheme::Bioes);
    assert_eq!(ents(&docs[0]), [("A B", "PER"), ("C", "PER"), ("E", "LOC")]);
    assert_eq!(write_ok(&docs, TagScheme::Bioes), bioes);
    let iob1 = "A I-PER\nB I-PER\nC B-PER\nD O\nE I-LOC\n\n";
    assert_eq!(write_ok(&docs, TagScheme::Iob1), iob1);
    assert_eq!(ents(&read_ok(iob1, TagScheme::Iob1)[0]), ents(&docs[0]));
    let iob2 = "A B-PER\nB I-PER\nC B-PER\nD O\nE B-LOC\n\n";
    assert_eq!(write_ok(&docs, TagScheme::Iob2), iob2);
}

fn error(text: &str, o: &Options, diag: &mut Diagnostics) -> String {
    read(text, o, diag).unwrap_err().to_string()
}

#[test]
fn repairs_warn_and_strict_refuses() {
    let text = "-DOCSTART- O\n\nThe O\nKremlin I-ORG\n";
    let (o, mut diag) = (opts(TagScheme::Iob2, None), Diagnostics::default());
    let docs = read(text, &o, &mut diag).unwrap();
    assert_eq!(ents(&docs[0]), [("Kremlin", "ORG")]);
    let w: Vec<String> = diag.warnings.iter().map(|w| w.to_string()).collect();
    let want = "data/news.conll:line 4 document 'news-1': I-ORG follows O: read as B-ORG";
    assert_eq!(w, [want]);
    let msg = error(text, &o, &mut Diagnostics::new(true));
    assert!(msg.contains("line 4") && msg.contains("--strict"), "{msg}");
}

#[test]
fn malformed_tags_and_column_counts_name_the_line() {
    let (o, mut diag) = (opts(TagScheme::Iob2, None), Diagnostics::default());
    for (text, line, needle) in [
        ("A O\n\nB B-PER\nC PER\n", 4, "malformed tag 'PER'"),
        (
            "A x O\nB O\n",
            2,
            "2 columns, but the sentence started on line 1 has 3",
        ),
        ("A\n", 1, "two columns"),
    ] {
        let msg = error(text, &o, &mut diag);
        let at = format!("data/news.conll:line {line} ");
        assert!(msg.starts_with(&at) && msg.contains(needle), "{msg}");
    }
}

#[test]
fn non_ascii_offsets_are_characters() {
    let text = "Iran’s O\nPezeshkian B-PER\nvisited O\nZürich B-LOC\n\n";
    let docs = read_ok(text, TagScheme::Iob2);
    let d = &docs[0];
    assert_eq!(d.text, "Iran’s Pezeshkian visited Zürich");
    assert_eq!((d.entities[0].start, d.entities[0].end), (7, 17));
    assert_eq!((d.entities[1].start, d.entities[1].end), (26, 32));
    assert!(d.problems().is_empty());
    assert_eq!(write_ok(&docs, TagScheme::Iob2), text);
}

#[test]
fn raw_text_is_segmented_and_what_cannot_be_held_is_dropped() {
    let mut d = Document::new("wire", "Putin met officials in Moscow State University.");
    let putin = d.add_entity(0, 5, "PER").unwrap();
    let msu = d.add_entity(23, 46, "ORG").unwrap();
    d.add_entity(23, 29, "LOC").unwrap();
    d.add_entity(1, 5, "PER").unwrap();
    d.relations.push(Relation {
        head: putin,
        tail: msu,
        label: "visited".into(),
        score: None,
        evidence: None,
    });
    let mut diag = Diagnostics::default();
    let out = write(&[d.clone()], &opts(TagScheme::Iob2, None), &mut diag).unwrap();
    assert!(out.starts_with("Putin B-PER\nmet O\n"), "{out}");
    assert!(
        out.contains("Moscow B-ORG\nState I-ORG\nUniversity I-ORG\n. O\n\n"),
        "{out}"
    );
    let w: Vec<String> = diag.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(w.len(), 3, "{w:?}");
    assert!(w[0].contains("dropped entity T4 'utin' [1, 5]: it does not align"));
    assert!(w[1].starts_with(
        "document 'wire': dropped overlapping entity T3 'Moscow' [23, 29]: \
         BIO cannot hold overlapping entities (kept T2"
    ));
    assert!(w[2].contains("dropped 1 relation(s)"));
    assert!(write(&[d], &Options::default(), &mut Diagnostics::new(true)).is_err());
}

#[test]
fn several_raw_documents_get_docstart_lines() {
    let docs = [Document::new("a", "Hello"), Document::new("b", "Bye")];
    let out = write_ok(&docs, TagScheme::Iob2);
    assert_eq!(out, "-DOCSTART- O\n\nHello O\n\n-DOCSTART- O\n\nBye O\n\n");
    assert_eq!(read_ok(&out, TagScheme::Iob2).len(), 2);
}

#[test]
fn strict_chunks_drop_invalid_chunks_and_keep_tags_keeps_raw_tags() {
    let text = "The O\nKremlin I-ORG\nand O\nEU B-ORG\n\n";
    let mut o = opts(TagScheme::Iob2, None);
    o.conll.strict_chunks = true;
    o.conll.keep_tags = true;
    let mut diag = Diagnostics::new(true);
    let docs = read(text, &o, &mut diag).unwrap();
    assert!(diag.is_empty());
    assert_eq!(ents(&docs[0]), [("EU", "ORG")]);
    let tags = serde_json::json!(["O", "I-ORG", "O", "B-ORG"]);
    assert_eq!(docs[0].meta[META_TAGS], tags);
    let plain = read_ok("EU B-ORG\n\n", TagScheme::Iob2);
    assert!(!plain[0].meta.contains_key(META_TAGS));
}
