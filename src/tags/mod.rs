//! Tag sequences: the one place that turns per-token tags (`B-PER`, `I-LOC`, `O`, ...) into
//! entity spans and back. The CoNLL reader and writer use it, and so does the NER decoder, so
//! that a model's output and a gold file are read by exactly the same rules.
//!
//! Decoding is lenient in the way conlleval and seqeval's default mode are: an invalid sequence
//! is read the conventional way rather than refused, but every place where a tag had to be read
//! as a different one is reported as a [`Repair`], so that callers can warn (or refuse under
//! `--strict`). A tag that is not a tag at all is an error.

use std::fmt;

mod constrained;
mod strict;

pub use constrained::best_valid_sequence;
pub use strict::decode_strict;

/// How entity tags mark the beginning, inside and end of a mention.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    Default,
    clap::ValueEnum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum TagScheme {
    /// The original CoNLL-2003 scheme: `I-X` everywhere, `B-X` only for a mention that directly
    /// follows another mention of the same type.
    Iob1,
    /// `B-X` starts every mention, `I-X` continues it (the common modern form).
    #[default]
    Iob2,
    /// `B-X` begins, `I-X` continues, `E-X` ends a multi-token mention, `S-X` is a single-token
    /// mention. `L-`/`U-` (BILOU) are read as `E-`/`S-`.
    Bioes,
}

impl TagScheme {
    pub fn name(self) -> &'static str {
        match self {
            TagScheme::Iob1 => "iob1",
            TagScheme::Iob2 => "iob2",
            TagScheme::Bioes => "bioes",
        }
    }
}

impl fmt::Display for TagScheme {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A mention over tokens `[start, end)` (token indices, end-exclusive).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TagSpan {
    pub start: usize,
    pub end: usize,
    pub label: String,
}

impl TagSpan {
    pub fn new(start: usize, end: usize, label: impl Into<String>) -> Self {
        TagSpan {
            start,
            end,
            label: label.into(),
        }
    }
}

/// A tag that an invalid sequence forced [`decode`] to read as another tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Repair {
    /// Index of the token whose tag was re-read.
    pub index: usize,
    /// What was wrong and how it was read, e.g. "I-PER follows O: read as B-PER".
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Prefix {
    O,
    B,
    I,
    E,
    S,
}

/// Split a tag into its prefix and type, checking it is allowed in `scheme`.
fn parse_tag(tag: &str, scheme: TagScheme) -> Result<(Prefix, &str), String> {
    if tag == "O" {
        return Ok((Prefix::O, ""));
    }
    let malformed = || {
        format!(
            "malformed tag '{tag}': expected O or B-/I-/E-/S- followed by a type (scheme {scheme})"
        )
    };
    let (prefix, label) = tag.split_once('-').ok_or_else(malformed)?;
    if label.is_empty() {
        return Err(malformed());
    }
    let prefix = match prefix {
        "B" => Prefix::B,
        "I" => Prefix::I,
        "E" | "L" | "S" | "U" if scheme != TagScheme::Bioes => {
            return Err(format!(
                "tag '{tag}' belongs to the BIOES scheme, but the scheme is {scheme} \
                 (use --scheme bioes)"
            ))
        }
        "E" | "L" => Prefix::E,
        "S" | "U" => Prefix::S,
        _ => return Err(malformed()),
    };
    Ok((prefix, label))
}

/// Read a tag sequence (one sentence) into entity spans.
///
/// Invalid sequences are read as conlleval reads them: a mention ends at `O`, at a tag of
/// another type, at `B-`/`S-`, and after `E-`/`S-`; an `I-`/`E-` tag that does not continue a
/// mention of its type starts one. Each tag that this reads differently from what it says is
/// reported as a [`Repair`] (IOB1 has none: every IOB1 sequence is valid). `Err` names the index
/// of a tag that is not a tag of `scheme`, and why.
#[allow(clippy::type_complexity)]
pub fn decode(
    tags: &[&str],
    scheme: TagScheme,
) -> Result<(Vec<TagSpan>, Vec<Repair>), (usize, String)> {
    let parsed = tags
        .iter()
        .enumerate()
        .map(|(i, t)| parse_tag(t, scheme).map_err(|reason| (i, reason)))
        .collect::<Result<Vec<_>, _>>()?;

    let mut spans = Vec::new();
    let mut open: Option<(usize, &str)> = None;
    for (i, &(prefix, label)) in parsed.iter().enumerate() {
        let continues = matches!(prefix, Prefix::I | Prefix::E)
            && open.is_some_and(|(_, open_label)| open_label == label);
        if !continues {
            if let Some((start, l)) = open.take() {
                spans.push(TagSpan::new(start, i, l));
            }
            if prefix != Prefix::O {
                open = Some((i, label));
            }
        }
        if matches!(prefix, Prefix::E | Prefix::S) {
            if let Some((start, l)) = open.take() {
                spans.push(TagSpan::new(start, i + 1, l));
            }
        }
    }
    if let Some((start, l)) = open {
        spans.push(TagSpan::new(start, parsed.len(), l));
    }

    let repairs = if scheme == TagScheme::Iob1 {
        Vec::new()
    } else {
        repairs(tags, &parsed, &spans, scheme)
    };
    Ok((spans, repairs))
}

/// Compare each tag with the canonical encoding of what was read; every difference is a repair.
fn repairs(
    tags: &[&str],
    parsed: &[(Prefix, &str)],
    spans: &[TagSpan],
    scheme: TagScheme,
) -> Vec<Repair> {
    let canonical = encode(spans, tags.len(), scheme);
    let mut out = Vec::new();
    for (i, read_as) in canonical.iter().enumerate() {
        let (prefix, label) = parsed[i];
        let (read_prefix, _) = parse_tag(read_as, scheme).expect("encode writes valid tags");
        if read_prefix == prefix {
            continue; // same tag, or an L-/U- alias of it
        }
        let mut why = Vec::new();
        if matches!(prefix, Prefix::I | Prefix::E) && matches!(read_prefix, Prefix::B | Prefix::S) {
            why.push(match i {
                0 => "starts the sequence".to_string(),
                _ => format!("follows {}", tags[i - 1]),
            });
        }
        if matches!(prefix, Prefix::B | Prefix::I) && matches!(read_prefix, Prefix::E | Prefix::S) {
            why.push(match tags.get(i + 1) {
                None => "ends the sequence".to_string(),
                Some(next) => format!("is followed by {next}"),
            });
        }
        if why.is_empty() {
            why.push(format!("does not fit the {scheme} scheme here"));
        }
        debug_assert_eq!(read_as.split_once('-').map(|(_, l)| l), Some(label));
        out.push(Repair {
            index: i,
            message: format!("{} {}: read as {read_as}", tags[i], why.join(" and ")),
        });
    }
    out
}

/// Tag `n_tokens` tokens with `spans` in `scheme`.
///
/// Precondition: `spans` are sorted, non-empty, non-overlapping, inside `0..n_tokens`, and have a
/// non-empty label (a tag sequence cannot express anything else); panics otherwise. Callers that
/// hold arbitrary mentions must choose which to drop first, and say so.
///
/// IOB1 uses `B-` only where a mention directly follows one of the same type, as the original
/// CoNLL-2003 files do, so that an IOB1 file is written back as it was.
pub fn encode(spans: &[TagSpan], n_tokens: usize, scheme: TagScheme) -> Vec<String> {
    let mut out = vec!["O".to_string(); n_tokens];
    let mut prev: Option<&TagSpan> = None;
    for span in spans {
        assert!(
            span.start < span.end
                && span.end <= n_tokens
                && !span.label.is_empty()
                && prev.is_none_or(|p| p.end <= span.start),
            "tags::encode needs sorted, non-empty, non-overlapping spans inside {n_tokens} tokens; \
             got {span:?} after {prev:?}"
        );
        let after_same = prev.is_some_and(|p| p.end == span.start && p.label == span.label);
        for (i, tag) in out.iter_mut().enumerate().take(span.end).skip(span.start) {
            let first = i == span.start;
            let last = i + 1 == span.end;
            let prefix = match scheme {
                TagScheme::Iob1 if first && after_same => "B",
                TagScheme::Iob1 => "I",
                TagScheme::Iob2 if first => "B",
                TagScheme::Iob2 => "I",
                TagScheme::Bioes if first && last => "S",
                TagScheme::Bioes if first => "B",
                TagScheme::Bioes if last => "E",
                TagScheme::Bioes => "I",
            };
            *tag = format!("{prefix}-{}", span.label);
        }
        prev = Some(span);
    }
    out
}

/// Guess the scheme of a tag sequence (for example all tags of a file, in order).
///
/// Any `E-`/`S-`/`L-`/`U-` tag means BIOES. Otherwise a `B-X` that starts a mention after `O`,
/// the start, or a tag of another type means IOB2 (IOB1 only uses `B-X` right after `X`); an
/// `I-X` in that place, with no such `B-X`, means IOB1. A sequence with no evidence either way
/// (all `O`, or `B-X` only after `X`) reads the same in both, and gives the default, IOB2.
pub fn detect<S: AsRef<str>>(tags: &[S]) -> TagScheme {
    let mut prev_label: Option<&str> = None;
    let (mut iob1, mut iob2) = (false, false);
    for tag in tags {
        let (prefix, label) = tag.as_ref().split_once('-').unwrap_or(("O", ""));
        match prefix {
            "E" | "S" | "L" | "U" => return TagScheme::Bioes,
            "B" if prev_label != Some(label) => iob2 = true,
            "I" if prev_label != Some(label) => iob1 = true,
            _ => {}
        }
        prev_label = matches!(prefix, "B" | "I").then_some(label);
    }
    if iob1 && !iob2 {
        TagScheme::Iob1
    } else {
        TagScheme::Iob2
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TagScheme::*;

    fn split(s: &str) -> Vec<&str> {
        s.split_whitespace().collect()
    }

    fn spans(tags: &str, scheme: TagScheme) -> Vec<(usize, usize, String)> {
        let (spans, repairs) = decode(&split(tags), scheme).unwrap();
        assert!(repairs.is_empty(), "{tags}: {repairs:?}");
        spans
            .into_iter()
            .map(|s| (s.start, s.end, s.label))
            .collect()
    }

    fn s(start: usize, end: usize, label: &str) -> (usize, usize, String) {
        (start, end, label.to_string())
    }

    fn repaired(tags: &str, scheme: TagScheme) -> (Vec<TagSpan>, Vec<Repair>) {
        decode(&split(tags), scheme).unwrap()
    }

    /// Valid sequences, each in its canonical form for its scheme.
    const VALID: &[(TagScheme, &str)] = &[
        (Iob1, ""),
        (Iob1, "O O O"),
        (Iob1, "I-PER I-PER O I-LOC"),
        (Iob1, "I-PER B-PER I-PER O I-ORG I-LOC B-LOC"),
        (Iob1, "I-MISC I-MISC I-MISC B-MISC I-ORG"),
        (Iob2, "B-PER I-PER O B-LOC"),
        (Iob2, "B-PER B-PER I-PER O B-ORG B-LOC B-LOC"),
        (Iob2, "O B-ORG I-ORG I-ORG"),
        (Bioes, "B-PER E-PER O S-LOC"),
        (Bioes, "S-PER B-PER I-PER E-PER O S-ORG S-LOC S-LOC"),
        (Bioes, "O B-ORG I-ORG I-ORG E-ORG"),
    ];

    #[test]
    fn encode_inverts_decode_for_valid_sequences() {
        for &(scheme, tags) in VALID {
            let t = split(tags);
            let (spans, repairs) = decode(&t, scheme).unwrap();
            assert!(repairs.is_empty(), "{scheme} {tags}: {repairs:?}");
            assert_eq!(encode(&spans, t.len(), scheme), t, "{scheme} {tags}");
        }
    }

    #[test]
    fn the_three_schemes_read_the_same_mentions() {
        let want = vec![s(0, 2, "PER"), s(2, 3, "PER"), s(4, 5, "LOC")];
        assert_eq!(spans("I-PER I-PER B-PER O I-LOC", Iob1), want);
        assert_eq!(spans("B-PER I-PER B-PER O B-LOC", Iob2), want);
        assert_eq!(spans("B-PER E-PER S-PER O S-LOC", Bioes), want);
        let tagspans: Vec<TagSpan> = want
            .iter()
            .map(|(a, b, l)| TagSpan::new(*a, *b, l.as_str()))
            .collect();
        assert_eq!(
            encode(&tagspans, 5, Iob1),
            split("I-PER I-PER B-PER O I-LOC")
        );
    }

    #[test]
    fn iob1_b_tags_and_type_changes() {
        // A B- after O is unusual in IOB1 but valid: it starts a mention.
        assert_eq!(spans("O B-PER I-PER", Iob1), vec![s(1, 3, "PER")]);
        // I-X after I-Y starts a new mention without any repair.
        assert_eq!(
            spans("I-PER I-LOC", Iob1),
            vec![s(0, 1, "PER"), s(1, 2, "LOC")]
        );
        // ... which IOB1 writes with I- again (only same-type neighbours need B-).
        let t = [TagSpan::new(0, 1, "PER"), TagSpan::new(1, 2, "LOC")];
        assert_eq!(encode(&t, 2, Iob1), split("I-PER I-LOC"));
    }

    #[test]
    fn bilou_aliases() {
        assert_eq!(
            spans("U-PER B-LOC I-LOC L-LOC", Bioes),
            vec![s(0, 1, "PER"), s(1, 4, "LOC")]
        );
    }

    #[test]
    fn labels_may_contain_hyphens() {
        assert_eq!(
            spans("B-DATE-TIME I-DATE-TIME", Iob2),
            vec![s(0, 2, "DATE-TIME")]
        );
    }

    #[test]
    fn iob2_i_after_o_starts_a_mention() {
        let (spans, repairs) = repaired("O I-PER I-PER", Iob2);
        assert_eq!(spans, vec![TagSpan::new(1, 3, "PER")]);
        assert_eq!(
            repairs,
            vec![Repair {
                index: 1,
                message: "I-PER follows O: read as B-PER".into()
            }]
        );
    }

    #[test]
    fn iob2_i_of_another_type_and_at_the_start() {
        let (spans, repairs) = repaired("I-ORG B-PER I-LOC", Iob2);
        assert_eq!(
            spans,
            vec![
                TagSpan::new(0, 1, "ORG"),
                TagSpan::new(1, 2, "PER"),
                TagSpan::new(2, 3, "LOC")
            ]
        );
        let msgs: Vec<_> = repairs
            .iter()
            .map(|r| (r.index, r.message.as_str()))
            .collect();
        assert_eq!(
            msgs,
            vec![
                (0, "I-ORG starts the sequence: read as B-ORG"),
                (2, "I-LOC follows B-PER: read as B-LOC"),
            ]
        );
    }

    #[test]
    fn bioes_repairs() {
        type Case = (
            &'static str,
            &'static [(usize, usize, &'static str)],
            &'static [&'static str],
        );
        let cases: &[Case] = &[
            (
                "B-PER O",
                &[(0, 1, "PER")],
                &["0: B-PER is followed by O: read as S-PER"],
            ),
            (
                "B-PER I-PER",
                &[(0, 2, "PER")],
                &["1: I-PER ends the sequence: read as E-PER"],
            ),
            (
                "O E-LOC",
                &[(1, 2, "LOC")],
                &["1: E-LOC follows O: read as S-LOC"],
            ),
            (
                "O I-LOC O",
                &[(1, 2, "LOC")],
                &["1: I-LOC follows O and is followed by O: read as S-LOC"],
            ),
            (
                "I-LOC E-LOC",
                &[(0, 2, "LOC")],
                &["0: I-LOC starts the sequence: read as B-LOC"],
            ),
            (
                "B-PER B-LOC E-LOC",
                &[(0, 1, "PER"), (1, 3, "LOC")],
                &["0: B-PER is followed by B-LOC: read as S-PER"],
            ),
            (
                "B-PER E-LOC",
                &[(0, 1, "PER"), (1, 2, "LOC")],
                &[
                    "0: B-PER is followed by E-LOC: read as S-PER",
                    "1: E-LOC follows B-PER: read as S-LOC",
                ],
            ),
            (
                "S-PER I-PER E-PER",
                &[(0, 1, "PER"), (1, 3, "PER")],
                &["1: I-PER follows S-PER: read as B-PER"],
            ),
        ];
        for &(tags, want_spans, want_repairs) in cases {
            let (got, repairs) = repaired(tags, Bioes);
            let want: Vec<_> = want_spans
                .iter()
                .map(|&(a, b, l)| TagSpan::new(a, b, l))
                .collect();
            assert_eq!(got, want, "{tags}");
            let msgs: Vec<_> = repairs
                .iter()
                .map(|r| format!("{}: {}", r.index, r.message))
                .collect();
            assert_eq!(msgs, want_repairs, "{tags}");
        }
    }

    #[test]
    fn repaired_sequences_encode_canonically() {
        let (spans, _) = repaired("O I-PER I-PER I-LOC", Iob2);
        assert_eq!(encode(&spans, 4, Iob2), split("O B-PER I-PER B-LOC"));
        let (spans, _) = repaired("B-PER I-PER O I-LOC", Bioes);
        assert_eq!(encode(&spans, 4, Bioes), split("B-PER E-PER O S-LOC"));
    }

    #[test]
    fn malformed_tags_are_errors_with_their_index() {
        for (tags, scheme, index, needle) in [
            ("O PER", Iob2, 1, "malformed tag 'PER'"),
            ("B-", Iob2, 0, "malformed tag 'B-'"),
            ("O O X-PER", Bioes, 2, "malformed tag 'X-PER'"),
            ("o", Iob1, 0, "malformed tag 'o'"),
            ("B-PER E-PER", Iob2, 1, "use --scheme bioes"),
            ("S-PER", Iob1, 0, "scheme is iob1"),
        ] {
            let (i, reason) = decode(&split(tags), scheme).unwrap_err();
            assert_eq!(i, index, "{tags}");
            assert!(reason.contains(needle), "{tags}: {reason}");
        }
    }

    #[test]
    #[should_panic(expected = "non-overlapping")]
    fn encode_refuses_overlaps() {
        encode(
            &[TagSpan::new(0, 2, "PER"), TagSpan::new(1, 3, "LOC")],
            3,
            Iob2,
        );
    }

    #[test]
    fn detect_schemes() {
        assert_eq!(detect(&split("O B-PER I-PER O")), Iob2);
        assert_eq!(detect(&split("I-PER I-PER B-PER O")), Iob1);
        assert_eq!(detect(&split("O I-PER O S-LOC")), Bioes);
        assert_eq!(detect(&split("U-PER")), Bioes);
        assert_eq!(detect(&split("B-PER E-PER")), Bioes);
        assert_eq!(detect(&split("O O")), Iob2);
        assert_eq!(detect::<&str>(&[]), Iob2);
        assert_eq!(detect(&["I-ORG".to_string(), "O".to_string()]), Iob1);
        for &(scheme, tags) in VALID {
            if split(tags).iter().any(|t| t != &"O") {
                assert_eq!(detect(&split(tags)), scheme, "{tags}");
            }
        }
    }

    #[test]
    fn serde_and_clap_names_are_lowercase() {
        assert_eq!(serde_json::to_string(&Bioes).unwrap(), "\"bioes\"");
        assert_eq!(
            <TagScheme as clap::ValueEnum>::from_str("iob1", false).unwrap(),
            Iob1
        );
        assert_eq!(TagScheme::default(), Iob2);
    }

    fn strict(tags: &str, scheme: TagScheme) -> Vec<(usize, usize, String)> {
        let spans = decode_strict(&split(tags), scheme).unwrap();
        spans
            .into_iter()
            .map(|s| (s.start, s.end, s.label))
            .collect()
    }

    /// Expected chunks computed with seqeval 1.2.2 (`Tokens(tags, scheme).entities`).
    #[test]
    fn strict_decoding_drops_invalid_chunks_as_seqeval_does() {
        assert_eq!(strict("O I-PER I-PER B-LOC", Iob2), vec![s(3, 4, "LOC")]);
        assert_eq!(
            strict("B-PER I-LOC I-LOC B-ORG I-ORG", Iob2),
            vec![s(0, 1, "PER"), s(3, 5, "ORG")]
        );
        assert_eq!(
            strict("B-PER I-PER E-PER I-PER E-PER", Bioes),
            vec![s(0, 3, "PER")]
        );
        assert_eq!(strict("B-PER I-PER O S-LOC", Bioes), vec![s(3, 4, "LOC")]);
        assert_eq!(strict("B-PER E-LOC U-ORG", Bioes), vec![s(2, 3, "ORG")]);
        assert_eq!(strict("O B-PER I-PER", Iob1), vec![s(2, 3, "PER")]);
        assert_eq!(
            strict("I-PER B-PER I-LOC", Iob1),
            vec![s(0, 1, "PER"), s(1, 2, "PER"), s(2, 3, "LOC")]
        );
        for &(scheme, tags) in VALID {
            if scheme != Iob1 {
                assert_eq!(strict(tags, scheme), spans(tags, scheme), "{scheme} {tags}");
            }
        }
        assert_eq!(decode_strict(&["O", "X-PER"], Iob2).unwrap_err().0, 1);
    }
}
