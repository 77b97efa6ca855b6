//! Plain text: a file is one document; a directory holds many (every `.txt` file, recursively).
//! A document's id is its path relative to the directory, without the `.txt` extension.

use std::path::Path;

use crate::document::Document;
use crate::error::{read_to_string, Diagnostics, Error, Result};
use crate::formats::{safe_file_stem, walk_files};

pub fn read(path: &Path, _diag: &mut Diagnostics) -> Result<Vec<Document>> {
    if !path.is_dir() {
        let id = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        return Ok(vec![Document::new(id, read_to_string(path)?)]);
    }
    let mut docs = Vec::new();
    for file in walk_files(path)? {
        if file.extension().is_none_or(|e| e != "txt") {
            continue;
        }
        let rel = file.strip_prefix(path).unwrap_or(&file).with_extension("");
        let id = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/");
        docs.push(Document::new(id, read_to_string(&file)?));
    }
    if docs.is_empty() {
        return Err(Error::Usage(format!(
            "{}: no .txt files in this directory",
            path.display()
        )));
    }
    Ok(docs)
}

/// One `<id>.txt` per document; ids are made safe as file names.
pub fn write_dir(docs: &[Document], dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    for doc in docs {
        let path = dir.join(format!("{}.txt", safe_file_stem(&doc.id)));
        std::fs::write(&path, &doc.text).map_err(|e| Error::io(&path, e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directory_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("wire");
        std::fs::create_dir_all(&sub).unwrap();
        std::fs::write(sub.join("a.txt"), "Putin called Pezeshkian.").unwrap();
        std::fs::write(dir.path().join("b.txt"), "Iran’s unrest.").unwrap();
        std::fs::write(dir.path().join("notes.md"), "not a story").unwrap();
        let docs = read(dir.path(), &mut Diagnostics::default()).unwrap();
        let ids: Vec<_> = docs.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["b", "wire/a"]);

        let out = tempfile::tempdir().unwrap();
        write_dir(&docs, out.path()).unwrap();
        let again = read(out.path(), &mut Diagnostics::default()).unwrap();
        assert_eq!(again[1].id, "wire_a");
        assert_eq!(again[1].text, docs[1].text);
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("bad.txt");
        std::fs::write(&f, b"ok\n\xc3\x28").unwrap();
        let msg = read(&f, &mut Diagnostics::default())
            .unwrap_err()
            .to_string();
        assert!(msg.contains("bad.txt:line 2: invalid UTF-8"), "{msg}");
    }
}
