//! seqeval's strict mode: chunks that a scheme allows, with no repair.
//!
//! Kept apart from [`super::decode`] because it answers a different question: not "what did
//! the annotator mean" but "which chunks does seqeval's `mode='strict'` count", for the
//! evaluation harness's strict mode.

use super::{parse_tag, Prefix, TagScheme, TagSpan};
/// Bit sets of prefixes, for the seqeval pattern tables of [`decode_strict`].
const P_O: u8 = 1;
const P_B: u8 = 2;
const P_I: u8 = 4;
const P_E: u8 = 8;
const P_S: u8 = 16;
const P_ANY: u8 = P_O | P_B | P_I | P_E | P_S;

/// Whether the types of two neighbouring tags must be the same, different, or either.
#[derive(Clone, Copy)]
enum TypeCond {
    Any,
    Same,
    Diff,
}

/// `(previous prefixes, current prefixes, type condition)`, as in seqeval's `scheme.py`.
type Pattern = (u8, u8, TypeCond);

/// seqeval 1.2.2's `start_patterns`, `inside_patterns` and `end_patterns` for each scheme
/// (`IOB1`, `IOB2`, `IOBES`).
fn strict_patterns(
    scheme: TagScheme,
) -> (&'static [Pattern], &'static [Pattern], &'static [Pattern]) {
    use TypeCond::*;
    match scheme {
        TagScheme::Iob1 => (
            &[
                (P_O, P_I, Any),
                (P_I, P_I, Diff),
                (P_B, P_I, Any),
                (P_I, P_B, Same),
                (P_B, P_B, Same),
            ],
            &[(P_B, P_I, Same), (P_I, P_I, Same)],
            &[
                (P_I, P_I, Diff),
                (P_I, P_O, Any),
                (P_I, P_B, Any),
                (P_B, P_O, Any),
                (P_B, P_I, Diff),
                (P_B, P_B, Same),
            ],
        ),
        TagScheme::Iob2 => (
            &[(P_ANY, P_B, Any)],
            &[(P_B, P_I, Same), (P_I, P_I, Same)],
            &[
                (P_I, P_O, Any),
                (P_I, P_I, Diff),
                (P_I, P_B, Any),
                (P_B, P_O, Any),
                (P_B, P_I, Diff),
                (P_B, P_B, Any),
            ],
        ),
        TagScheme::Bioes => (
            &[(P_ANY, P_B, Any), (P_ANY, P_S, Any)],
            &[
                (P_B, P_I, Same),
                (P_B, P_E, Same),
                (P_I, P_I, Same),
                (P_I, P_E, Same),
            ],
            &[(P_S, P_ANY, Any), (P_E, P_ANY, Any)],
        ),
    }
}

fn prefix_bit(p: Prefix) -> u8 {
    match p {
        Prefix::O => P_O,
        Prefix::B => P_B,
        Prefix::I => P_I,
        Prefix::E => P_E,
        Prefix::S => P_S,
    }
}

/// seqeval's `Token.check_patterns`: does the pair `(prev, cur)` match one of `patterns`?
fn matches_any(patterns: &[Pattern], prev: (u8, &str), cur: (u8, &str)) -> bool {
    patterns.iter().any(|&(p, c, cond)| {
        prev.0 & p != 0
            && cur.0 & c != 0
            && match cond {
                TypeCond::Any => true,
                TypeCond::Same => prev.1 == cur.1,
                TypeCond::Diff => prev.1 != cur.1,
            }
    })
}

/// Read a tag sequence (one sentence) into the chunks that seqeval's strict mode
/// (`mode='strict'` with `scheme=IOB1`, `IOB2` or `IOBES`) counts.
///
/// Strict mode does not repair: a chunk must start with a tag the scheme allows at a start
/// (`B-` or `S-` in IOB2 and BIOES), continue with tags of its type, and end where the scheme
/// allows an end (after `E-`/`S-` in BIOES); anything else is not a chunk at all and its tags are
/// skipped. So `O I-PER I-PER` has no chunk here, where [`decode`] (conlleval, seqeval's default
/// mode) reads one PER. This is the port of seqeval 1.2.2's `Tokens.entities` and pattern
/// tables, quirks included (in IOB1, `O B-X I-X` yields only the chunk `I-X`, because seqeval
/// does not list `B-X` after `O` as a start). `L-`/`U-` are read as `E-`/`S-` (seqeval's BILOU
/// scheme has the same patterns). `Err` names the index of a tag that is not a tag of `scheme`.
pub fn decode_strict(tags: &[&str], scheme: TagScheme) -> Result<Vec<TagSpan>, (usize, String)> {
    let mut ext = tags
        .iter()
        .enumerate()
        .map(|(i, t)| {
            parse_tag(t, scheme)
                .map(|(p, l)| (prefix_bit(p), l))
                .map_err(|reason| (i, reason))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let n = ext.len();
    // seqeval appends an outside token so that a chunk at the end can be closed.
    ext.push((P_O, ""));
    let (start, inside, end_pats) = strict_patterns(scheme);
    let mut spans = Vec::new();
    let mut prev = (P_O, "");
    let mut i = 0;
    while i < ext.len() {
        let token = ext[i];
        if matches_any(start, prev, token) {
            // `_forward`: extend while each tag is inside the chunk; the appended `O` always
            // stops it (no pattern has `O` inside), so the fallback is never taken.
            let mut last = token;
            let mut end = n.saturating_sub(1).max(i + 1);
            for (j, &t) in ext.iter().enumerate().skip(i + 1) {
                if matches_any(inside, last, t) {
                    last = t;
                } else {
                    end = j;
                    break;
                }
            }
            // `_is_end`: the chunk counts only if its last tag may end a chunk before the next.
            if matches_any(end_pats, ext[end - 1], ext[end]) {
                spans.push(TagSpan::new(i, end, token.1));
            }
            i = end;
        } else {
            i += 1;
        }
        prev = ext[i - 1];
    }
    Ok(spans)
}
