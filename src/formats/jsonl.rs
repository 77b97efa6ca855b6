//! ertag's native format: JSON Lines, one [`Document`] per line.

use crate::document::Document;
use crate::error::{Diagnostics, Error, Location, Result};
use crate::formats::Options;

/// Parse one line of JSON Lines into a checked document.
pub fn parse_line(line: &str, loc: &Location) -> Result<Document> {
    let doc: Document = serde_json::from_str(line)
        .map_err(|e| Error::input(loc, format!("malformed document JSON: {e}")))?;
    if let Some(problem) = doc.problems().into_iter().next() {
        return Err(Error::input(&loc.in_doc(&doc.id), problem));
    }
    Ok(doc)
}

pub fn parse(
    content: &str,
    loc: &Location,
    _opts: &Options,
    _diag: &mut Diagnostics,
) -> Result<Vec<Document>> {
    content
        .lines()
        .enumerate()
        .filter(|(_, line)| !line.trim().is_empty())
        .map(|(i, line)| parse_line(line, &loc.at_line(i + 1)))
        .collect()
}

pub fn to_line(doc: &Document) -> String {
    serde_json::to_string(doc).expect("a Document always serialises")
}

pub fn write(docs: &[Document], _opts: &Options, _diag: &mut Diagnostics) -> Result<String> {
    let mut out = String::new();
    for doc in docs {
        out.push_str(&to_line(doc));
        out.push('\n');
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_str(s: &str) -> Result<Vec<Document>> {
        parse(
            s,
            &Location::file("in.jsonl"),
            &Options::default(),
            &mut Diagnostics::default(),
        )
    }

    #[test]
    fn round_trip() {
        let line = r#"{"id":"a","text":"Putin called Netanyahu.","entities":[{"id":"T1","start":0,"end":5,"label":"PER","text":"Putin"}],"relations":[],"meta":{"source":"tass"}}"#;
        let docs = parse_str(&format!("{line}\n\n")).unwrap();
        assert_eq!(docs.len(), 1);
        assert_eq!(docs[0].meta["source"], "tass");
        let out = write(&docs, &Options::default(), &mut Diagnostics::default()).unwrap();
        assert_eq!(out, format!("{line}\n"));
    }

    #[test]
    fn malformed_json_names_the_line() {
        let err =
            parse_str("{\"id\":\"a\",\"text\":\"x\"}\n{\"id\": \"b\", \"text\": }\n").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("in.jsonl:line 2: malformed document JSON"),
            "{msg}"
        );
    }

    #[test]
    fn missing_text_is_an_error() {
        let msg = parse_str("{\"id\":\"a\"}").unwrap_err().to_string();
        assert!(
            msg.contains("line 1") && msg.contains("missing field `text`"),
            "{msg}"
        );
    }

    #[test]
    fn offsets_outside_the_text_name_line_and_document() {
        let line = r#"{"id":"d7","text":"Iran","entities":[{"id":"T1","start":0,"end":9,"label":"LOC","text":"Iran"}]}"#;
        let msg = parse_str(line).unwrap_err().to_string();
        assert!(msg.starts_with("in.jsonl:line 1 document 'd7'"), "{msg}");
        assert!(msg.contains("outside the text"), "{msg}");
    }

    #[test]
    fn entity_text_must_match_offsets() {
        let line = r#"{"id":"d","text":"Moscow and Tehran","entities":[{"id":"T1","start":0,"end":6,"label":"LOC","text":"Tehran"}]}"#;
        let msg = parse_str(line).unwrap_err().to_string();
        assert!(msg.contains("has text \"Tehran\""), "{msg}");
    }
}
