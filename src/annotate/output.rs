//! Crash-safe JSON Lines output for batch annotation.
//!
//! Each chunk is written with one `write_all` of complete lines and then flushed, so a run that
//! is killed leaves at worst one torn line at the end of the file. [`open_for_resume`] cuts
//! that line off and collects what the file already holds, so `--resume` can skip it.

use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Location, Result};

/// A JSON Lines file, or standard output, written a chunk at a time.
pub struct LineWriter {
    path: PathBuf,
    out: Box<dyn Write>,
}

impl LineWriter {
    /// Create (or truncate) `path`; `-` is standard output.
    pub fn create(path: &Path) -> Result<Self> {
        if path.as_os_str() == "-" {
            return Ok(LineWriter {
                path: path.into(),
                out: Box::new(std::io::stdout()),
            });
        }
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent).map_err(|e| Error::io(parent, e))?;
        }
        let file = File::create(path).map_err(|e| Error::io(path, e))?;
        Ok(LineWriter {
            path: path.into(),
            out: Box::new(file),
        })
    }

    /// Append to `path`, which [`open_for_resume`] has left ending in a complete line.
    pub fn append(path: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        Ok(LineWriter {
            path: path.into(),
            out: Box::new(file),
        })
    }

    /// Write complete lines (`lines` ends in `\n`) in a single write, then flush.
    pub fn write_lines(&mut self, lines: &str) -> Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        debug_assert!(lines.ends_with('\n'));
        self.out
            .write_all(lines.as_bytes())
            .and_then(|()| self.out.flush())
            .map_err(|e| Error::io(&self.path, e))
    }
}

/// The id and source of a line of the output or of the errors file.
#[derive(Deserialize)]
struct Keys {
    id: String,
    #[serde(default)]
    source: Option<String>,
}

/// What an earlier run left in a file: the ids of its lines and their sources (errors file).
#[derive(Debug, Default)]
pub struct Done {
    pub ids: HashSet<String>,
    pub sources: HashSet<String>,
    /// Bytes of a torn last line that were cut off.
    pub cut: u64,
}

/// Read the ids (and sources) of the complete lines of `path`, and cut off a trailing partial
/// line that a killed run may have left. A missing file holds nothing.
pub fn open_for_resume(path: &Path) -> Result<Done> {
    let mut done = Done::default();
    let file = match OpenOptions::new().read(true).write(true).open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(done),
        Err(e) => return Err(Error::io(path, e)),
    };
    let mut reader = BufReader::new(&file);
    let mut complete: u64 = 0;
    let mut buf = Vec::new();
    let mut line_no = 0;
    loop {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        if buf.last() != Some(&b'\n') {
            done.cut = n as u64;
            break;
        }
        line_no += 1;
        complete += n as u64;
        let keys: Keys = serde_json::from_slice(&buf).map_err(|e| {
            Error::input(
                &Location::file(path).at_line(line_no),
                format!("cannot resume from this file: {e}"),
            )
        })?;
        done.ids.insert(keys.id);
        done.sources.extend(keys.source);
    }
    drop(reader);
    if done.cut > 0 {
        file.set_len(complete).map_err(|e| Error::io(path, e))?;
        (&file)
            .seek(SeekFrom::End(0))
            .map_err(|e| Error::io(path, e))?;
    }
    Ok(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_last_line_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("out.jsonl");
        std::fs::write(
            &f,
            "{\"id\":\"a\"}\n{\"id\":\"b\",\"source\":\"x:2\"}\n{\"id\":\"c\",\"te",
        )
        .unwrap();
        let done = open_for_resume(&f).unwrap();
        assert_eq!(done.ids, HashSet::from(["a".to_string(), "b".to_string()]));
        assert_eq!(done.sources, HashSet::from(["x:2".to_string()]));
        assert_eq!(done.cut, 13);
        let mut w = LineWriter::append(&f).unwrap();
        w.write_lines("{\"id\":\"c\"}\n").unwrap();
        assert_eq!(
            std::fs::read_to_string(&f).unwrap(),
            "{\"id\":\"a\"}\n{\"id\":\"b\",\"source\":\"x:2\"}\n{\"id\":\"c\"}\n"
        );
    }

    #[test]
    fn a_missing_file_holds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let done = open_for_resume(&dir.path().join("none.jsonl")).unwrap();
        assert!(done.ids.is_empty() && done.cut == 0);
    }
}
