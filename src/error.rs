//! Errors and warnings that say where: file, line and document.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where in the input something happened. Every field is optional because not every format
/// has lines (a brat directory) or ids (a CoNLL file before its first `-DOCSTART-`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub file: Option<PathBuf>,
    pub line: Option<usize>,
    pub doc: Option<String>,
}

impl Location {
    pub fn file(path: impl AsRef<Path>) -> Self {
        Location {
            file: Some(path.as_ref().to_path_buf()),
            ..Default::default()
        }
    }

    /// The same location at a 1-based line number.
    pub fn at_line(&self, line: usize) -> Self {
        Location {
            line: Some(line),
            ..self.clone()
        }
    }

    /// The same location inside document `id`.
    pub fn in_doc(&self, id: impl Into<String>) -> Self {
        Location {
            doc: Some(id.into()),
            ..self.clone()
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut wrote = false;
        if let Some(file) = &self.file {
            write!(f, "{}", file.display())?;
            wrote = true;
        }
        if let Some(line) = self.line {
            write!(f, "{}line {line}", if wrote { ":" } else { "" })?;
            wrote = true;
        }
        if let Some(doc) = &self.doc {
            write!(f, "{}document '{doc}'", if wrote { " " } else { "" })?;
            wrote = true;
        }
        if !wrote {
            write!(f, "<input>")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input that cannot be read as what it claims to be.
    #[error("{loc}: {reason}")]
    Input { loc: Location, reason: String },
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A request that cannot be carried out as given (wrong format for a path, and so on).
    #[error("{0}")]
    Usage(String),
}

pub type Result<T> = std::result::Result<T, Error>;

impl Error {
    pub fn input(loc: &Location, reason: impl Into<String>) -> Self {
        Error::Input {
            loc: loc.clone(),
            reason: reason.into(),
        }
    }

    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }
}

/// A problem that was repaired or a piece of input that a format could not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Warning {
    pub loc: Location,
    pub message: String,
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.loc, self.message)
    }
}

/// Collects warnings during reading and writing. In strict mode the first warning becomes an
/// error instead, so nothing is repaired or dropped behind the user's back.
#[derive(Debug, Default)]
pub struct Diagnostics {
    pub strict: bool,
    pub warnings: Vec<Warning>,
}

impl Diagnostics {
    pub fn new(strict: bool) -> Self {
        Diagnostics {
            strict,
            warnings: Vec::new(),
        }
    }

    /// Record a warning, or fail with it in strict mode.
    pub fn warn(&mut self, loc: &Location, message: impl Into<String>) -> Result<()> {
        let message = message.into();
        if self.strict {
            return Err(Error::input(loc, format!("{message} (refused: --strict)")));
        }
        self.warnings.push(Warning {
            loc: loc.clone(),
            message,
        });
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.warnings.is_empty()
    }
}

pub fn read_to_string(path: &Path) -> Result<String> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    utf8(bytes, &Location::file(path))
}

/// Decode UTF-8, naming the line and column of the first invalid byte.
pub fn utf8(bytes: Vec<u8>, loc: &Location) -> Result<String> {
    String::from_utf8(bytes).map_err(|e| {
        let valid = e.utf8_error().valid_up_to();
        let bytes = e.as_bytes();
        let line = 1 + bytes[..valid].iter().filter(|&&b| b == b'\n').count();
        let line_start = bytes[..valid]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |p| p + 1);
        Error::input(
            &loc.at_line(line),
            format!(
                "invalid UTF-8 (byte 0x{:02x} at byte {} of the line)",
                bytes[valid],
                valid - line_start + 1
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_names_file_line_and_document() {
        let loc = Location::file("a.jsonl").at_line(3).in_doc("d1");
        assert_eq!(loc.to_string(), "a.jsonl:line 3 document 'd1'");
        assert_eq!(Location::default().to_string(), "<input>");
    }

    #[test]
    fn invalid_utf8_names_the_line() {
        let err = utf8(b"ok\nbad \xff here".to_vec(), &Location::file("x.txt")).unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("x.txt:line 2: invalid UTF-8"), "{msg}");
        assert!(msg.contains("0xff"), "{msg}");
    }

    #[test]
    fn strict_diagnostics_refuse() {
        let mut d = Diagnostics::new(true);
        assert!(d.warn(&Location::file("f"), "repaired").is_err());
        let mut d = Diagnostics::new(false);
        d.warn(&Location::file("f"), "repaired").unwrap();
        assert_eq!(d.warnings.len(), 1);
    }
}
