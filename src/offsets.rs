//! The one place where character offsets and byte offsets meet.
//!
//! Every offset ertag stores or prints is a Unicode code-point offset, end-exclusive, as Python,
//! spaCy and brat count. Rust strings index by byte, and the tokenizers crate reports bytes, so
//! any conversion goes through [`CharIndex`] (or the two helpers below for a one-off).

/// Maps character offsets to byte offsets (and back) for one text.
///
/// Pure-ASCII texts, the common case for news, need no table: both offsets are equal.
#[derive(Debug, Clone)]
pub struct CharIndex<'a> {
    text: &'a str,
    /// Byte offset of each character, plus `text.len()` at the end; empty for ASCII text.
    char_to_byte: Vec<usize>,
}

impl<'a> CharIndex<'a> {
    pub fn new(text: &'a str) -> Self {
        let char_to_byte = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices()
                .map(|(b, _)| b)
                .chain(std::iter::once(text.len()))
                .collect()
        };
        CharIndex { text, char_to_byte }
    }

    pub fn text(&self) -> &'a str {
        self.text
    }

    /// Number of characters (code points) in the text.
    pub fn char_len(&self) -> usize {
        if self.char_to_byte.is_empty() {
            self.text.len()
        } else {
            self.char_to_byte.len() - 1
        }
    }

    /// Byte offset of character offset `c`; `None` past the end of the text.
    pub fn byte(&self, c: usize) -> Option<usize> {
        if self.char_to_byte.is_empty() {
            (c <= self.text.len()).then_some(c)
        } else {
            self.char_to_byte.get(c).copied()
        }
    }

    /// Character offset of byte offset `b`; `None` if `b` is past the end or inside a character.
    pub fn char(&self, b: usize) -> Option<usize> {
        if self.char_to_byte.is_empty() {
            (b <= self.text.len()).then_some(b)
        } else {
            self.char_to_byte.binary_search(&b).ok()
        }
    }

    /// The text between character offsets `start` and `end` (end-exclusive).
    pub fn slice(&self, start: usize, end: usize) -> Option<&'a str> {
        if start > end {
            return None;
        }
        Some(&self.text[self.byte(start)?..self.byte(end)?])
    }
}

/// Character offset of byte offset `b` in `text` (`None` if not on a character boundary).
pub fn byte_to_char(text: &str, b: usize) -> Option<usize> {
    text.is_char_boundary(b).then(|| text[..b].chars().count())
}

/// Byte offset of character offset `c` in `text` (`None` past the end).
pub fn char_to_byte(text: &str, c: usize) -> Option<usize> {
    text.char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(text.len()))
        .nth(c)
}

/// Number of characters in `text`.
pub fn char_len(text: &str) -> usize {
    text.chars().count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_offsets_are_identity() {
        let ix = CharIndex::new("Putin met Netanyahu");
        assert_eq!(ix.char_len(), 19);
        assert_eq!(ix.byte(6), Some(6));
        assert_eq!(ix.slice(10, 19), Some("Netanyahu"));
        assert_eq!(ix.byte(20), None);
    }

    #[test]
    fn multibyte_offsets_count_code_points() {
        // "Iran’s" has a 3-byte apostrophe; "Zürich" a 2-byte ü; the emoji is 4 bytes.
        let text = "Iran’s envoy in Zürich 🙂 said";
        let ix = CharIndex::new(text);
        assert_eq!(ix.char_len(), text.chars().count());
        assert_eq!(ix.slice(0, 6), Some("Iran’s"));
        assert_eq!(ix.slice(16, 22), Some("Zürich"));
        assert_eq!(ix.slice(23, 24), Some("🙂"));
        let b = ix.byte(16).unwrap();
        assert_eq!(ix.char(b), Some(16));
        assert_eq!(ix.char(5), None, "byte 5 is inside the apostrophe");
        assert_eq!(byte_to_char(text, b), Some(16));
        assert_eq!(char_to_byte(text, 16), Some(b));
        assert_eq!(char_to_byte(text, ix.char_len()), Some(text.len()));
        assert_eq!(char_to_byte(text, ix.char_len() + 1), None);
    }
}
