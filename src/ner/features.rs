//! From segmented documents to model inputs: sub-word windows over word tokens.
//!
//! Labels belong to words (`Document::tokens`), never to sub-words, so the tokenizer is fed the
//! words as a pre-tokenised sequence and every sub-word keeps the index of its word. Training
//! and inference build windows the same way, through [`Featurizer::windows`].
//!
//! Windows follow FLERT (Schweter & Akbik, 2020): a window *decides* one or more whole
//! consecutive sentences and is filled up to the sub-word budget with the neighbouring
//! sentences on both sides as context, which the model sees but whose labels this window does
//! not decide. A sentence longer than the budget is cut into overlapping chunks; each word is
//! decided by the chunk in which it sits furthest from the border (the cut lies in the middle of
//! the overlap). Every word token of a document is decided by exactly one window; nothing is
//! truncated (only the sub-words of a single word longer than the whole budget are cut, and
//! that word is still decided).

use std::ops::Range;
use std::path::Path;

use tch::{Device, Tensor};
use tokenizers::Tokenizer;

use crate::document::{Document, Span};
use crate::error::{Error, Location, Result};
use crate::offsets::CharIndex;

/// A word's casing class. The shipped backbone is uncased (its tokenizer lower-cases), so the
/// class reaches the model as the token type id of each of the word's sub-words.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Casing {
    /// No upper-case letter ("said", "2024", "—").
    Lower = 0,
    /// Upper-case first letter, then lower case ("Putin", "McCain").
    Title = 1,
    /// Letters all upper case, at least one ("NATO", "U.S.").
    Upper = 2,
    /// Anything else with an upper-case letter ("iPhone", "eBay").
    Other = 3,
}

/// The casing class of `word`, judged on its letters only.
pub fn casing_of(word: &str) -> Casing {
    let letters: Vec<char> = word.chars().filter(|c| c.is_alphabetic()).collect();
    let upper = |c: &char| c.is_uppercase();
    let lower = |c: &char| c.is_lowercase();
    if !letters.iter().any(upper) {
        Casing::Lower
    } else if !letters.iter().any(lower) {
        Casing::Upper
    } else if upper(&letters[0]) && !letters[1..].iter().any(upper) {
        Casing::Title
    } else {
        Casing::Other
    }
}

/// How windows are built.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WindowConfig {
    /// Sub-words per window, special tokens included.
    pub max_subwords: usize,
    /// Fill the rest of each window with neighbouring sentences (FLERT context).
    pub context: bool,
    /// Token type ids carry each word's [`Casing`] (a model trained with `ertag.casing`).
    pub casing: bool,
}

impl Default for WindowConfig {
    fn default() -> Self {
        WindowConfig {
            max_subwords: 128,
            context: true,
            casing: false,
        }
    }
}

/// One model input row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// Index of the document among those being processed.
    pub doc: usize,
    pub input_ids: Vec<i64>,
    pub type_ids: Vec<i64>,
    /// Per sub-word: the index into `doc.tokens` of its word, `None` for special tokens.
    pub word_of: Vec<Option<usize>>,
    /// Per sub-word: whether it is the first sub-word of its word.
    pub first_of_word: Vec<bool>,
    /// The document token indices whose labels this window decides (a contiguous range; the
    /// other words in the window are context).
    pub decides: Range<usize>,
}

impl Window {
    pub fn len(&self) -> usize {
        self.input_ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.input_ids.is_empty()
    }
}

/// Turns documents into [`Window`]s with one tokenizer.
pub struct Featurizer {
    tokenizer: Tokenizer,
    cfg: WindowConfig,
    /// Special tokens before and after the words of one sequence ([CLS] / [SEP], <s> / </s>).
    prefix: Vec<i64>,
    suffix: Vec<i64>,
    pad_id: i64,
    /// Stands in for a word that the tokenizer turns into nothing (a lone combining accent, a
    /// control character), so that every word has at least one sub-word to be labelled by.
    unk_id: i64,
}

impl Featurizer {
    /// Read a Hugging Face `tokenizer.json`. Its own padding and truncation are switched off:
    /// windows are sized here, and batches padded by [`collate`].
    pub fn from_file(tokenizer_json: &Path, cfg: WindowConfig) -> Result<Self> {
        let loc = Location::file(tokenizer_json);
        if !tokenizer_json.is_file() {
            return Err(Error::input(&loc, "tokenizer file not found"));
        }
        let mut tokenizer = Tokenizer::from_file(tokenizer_json)
            .map_err(|e| Error::input(&loc, format!("cannot read tokenizer: {e}")))?;
        let find = |t: &Tokenizer, names: &[&str]| names.iter().find_map(|n| t.token_to_id(n));
        let pad_id = match tokenizer.get_padding() {
            Some(p) => p.pad_id,
            None => find(&tokenizer, &["[PAD]", "<pad>"]).unwrap_or(0),
        } as i64;
        tokenizer.with_padding(None);
        tokenizer
            .with_truncation(None)
            .map_err(|e| Error::input(&loc, format!("cannot switch truncation off: {e}")))?;
        // The post-processor's special tokens, found by encoding one word with them.
        let probe = tokenizer
            .encode(vec!["a"], true)
            .map_err(|e| Error::input(&loc, format!("tokenizer fails on a test word: {e}")))?;
        let words = probe.get_word_ids();
        let first = words.iter().position(Option::is_some).unwrap_or(0);
        let last = words.iter().rposition(Option::is_some).map_or(0, |p| p + 1);
        let ids: Vec<i64> = probe.get_ids().iter().map(|&i| i as i64).collect();
        let (prefix, suffix) = (ids[..first].to_vec(), ids[last..].to_vec());
        let unk_id = find(&tokenizer, &["[UNK]", "<unk>", "<UNK>"]).map_or(pad_id, |i| i as i64);
        let specials = prefix.len() + suffix.len();
        if cfg.max_subwords < specials + 2 {
            return Err(Error::Usage(format!(
                "windows of {} sub-words are too short: the tokenizer adds {specials} special tokens",
                cfg.max_subwords
            )));
        }
        Ok(Featurizer {
            tokenizer,
            cfg,
            prefix,
            suffix,
            pad_id,
            unk_id,
        })
    }

    pub fn pad_id(&self) -> i64 {
        self.pad_id
    }

    pub fn config(&self) -> &WindowConfig {
        &self.cfg
    }

    /// Sub-words available to words in one window.
    fn budget(&self) -> usize {
        self.cfg.max_subwords - self.prefix.len() - self.suffix.len()
    }

    /// The windows of one segmented document (`doc_index` is copied into each). Tokens outside
    /// every sentence, or a document without sentences, are still covered (see
    /// [`sentence_groups`]). An empty document gives no windows.
    pub fn windows(&self, doc_index: usize, doc: &Document) -> Result<Vec<Window>> {
        let groups = sentence_groups(doc);
        let flat = self.encode(doc, &groups)?;
        let budget = self.budget();
        let mut out = Vec::new();
        let mut g = 0;
        while g < groups.len() {
            let size = |r: &Range<usize>| flat.word_start[r.end] - flat.word_start[r.start];
            if size(&groups[g]) > budget {
                for (core, decides) in chunks(&flat.word_start, groups[g].clone(), budget) {
                    out.push(self.window(doc_index, &flat, core, decides));
                }
                g += 1;
                continue;
            }
            // Pack whole sentences while they fit.
            let start = groups[g].start;
            let mut end = groups[g].end;
            g += 1;
            while g < groups.len() && size(&(start..groups[g].end)) <= budget {
                end = groups[g].end;
                g += 1;
            }
            out.push(self.window(doc_index, &flat, start..end, start..end));
        }
        Ok(out)
    }

    /// Encode each sentence group's words once; concatenated, they form the document's
    /// sub-word sequence.
    fn encode(&self, doc: &Document, groups: &[Range<usize>]) -> Result<Flat> {
        let ix = CharIndex::new(&doc.text);
        let loc = Location::default().in_doc(doc.id.clone());
        let word = |t: usize| -> Result<&str> {
            let Span { start, end } = doc.tokens[t];
            ix.slice(start, end).ok_or_else(|| {
                Error::input(
                    &loc,
                    format!("token {t} [{start}, {end}] is outside the text"),
                )
            })
        };
        let inputs = groups
            .iter()
            .map(|r| r.clone().map(word).collect::<Result<Vec<&str>>>())
            .collect::<Result<Vec<_>>>()?;
        let encodings = self
            .tokenizer
            .encode_batch(inputs.clone(), false)
            .map_err(|e| Error::input(&loc, format!("tokenizer failed: {e}")))?;
        let budget = self.budget();
        let mut flat = Flat::default();
        for ((r, words), enc) in groups.iter().zip(&inputs).zip(&encodings) {
            let mut per_word: Vec<Vec<i64>> = vec![Vec::new(); r.len()];
            for (&id, w) in enc.get_ids().iter().zip(enc.get_word_ids()) {
                if let Some(w) = w {
                    per_word[*w as usize].push(id as i64);
                }
            }
            for (i, mut ids) in per_word.into_iter().enumerate() {
                if ids.is_empty() {
                    ids.push(self.unk_id);
                }
                ids.truncate(budget);
                let type_id = if self.cfg.casing {
                    casing_of(words[i]) as i64
                } else {
                    0
                };
                flat.word_start.push(flat.ids.len());
                flat.type_ids
                    .extend(std::iter::repeat_n(type_id, ids.len()));
                flat.word_of
                    .extend(std::iter::repeat_n(r.start + i, ids.len()));
                flat.ids.extend(ids);
            }
        }
        flat.word_start.push(flat.ids.len());
        Ok(flat)
    }

    /// A window around the words `core` (all of which it holds), deciding `decides`, with
    /// context filled evenly on both sides up to the budget when context is on.
    fn window(&self, doc: usize, flat: &Flat, core: Range<usize>, decides: Range<usize>) -> Window {
        let ws = &flat.word_start;
        let (mut lo, mut hi) = (core.start, core.end);
        if self.cfg.context {
            let room = self.budget() - (ws[hi] - ws[lo]);
            let (left_avail, right_avail) = (ws[lo], flat.ids.len() - ws[hi]);
            let right = right_avail.min(room - room / 2);
            let left = left_avail.min(room - right);
            let right = right_avail.min(room - left);
            // Whole words only: a word cut in half is poor context.
            let target = ws[lo] - left;
            while lo > 0 && ws[lo - 1] >= target {
                lo -= 1;
            }
            let target = ws[hi] + right;
            while hi + 1 < ws.len() && ws[hi + 1] <= target {
                hi += 1;
            }
        }
        let (a, b) = (ws[lo], ws[hi]);
        let n = self.prefix.len() + (b - a) + self.suffix.len();
        let mut w = Window {
            doc,
            input_ids: Vec::with_capacity(n),
            type_ids: Vec::with_capacity(n),
            word_of: Vec::with_capacity(n),
            first_of_word: Vec::with_capacity(n),
            decides,
        };
        let push_special = |w: &mut Window, id: i64| {
            w.input_ids.push(id);
            w.type_ids.push(0);
            w.word_of.push(None);
            w.first_of_word.push(false);
        };
        for &id in &self.prefix {
            push_special(&mut w, id);
        }
        for p in a..b {
            w.input_ids.push(flat.ids[p]);
            w.type_ids.push(flat.type_ids[p]);
            w.word_of.push(Some(flat.word_of[p]));
            w.first_of_word
                .push(p == 0 || flat.word_of[p - 1] != flat.word_of[p]);
        }
        for &id in &self.suffix {
            push_special(&mut w, id);
        }
        w
    }
}

/// A document's sub-words, word after word.
#[derive(Debug, Default)]
struct Flat {
    ids: Vec<i64>,
    type_ids: Vec<i64>,
    /// Document token index of each sub-word.
    word_of: Vec<usize>,
    /// Position of each word's first sub-word, plus the total at the end.
    word_start: Vec<usize>,
}

/// Overlapping chunks of one over-long sentence (`words`, a token range): `(held, decided)`
/// pairs of token ranges. Chunks advance by about half the budget; the cut between two chunks'
/// decided ranges lies in the middle of their overlap, so each word is decided where it has the
/// most context on both sides, and by exactly one chunk.
fn chunks(
    word_start: &[usize],
    words: Range<usize>,
    budget: usize,
) -> Vec<(Range<usize>, Range<usize>)> {
    let pos = |w: usize| word_start[w];
    let stride = (budget / 2).max(1);
    let mut held: Vec<Range<usize>> = Vec::new();
    let mut a = words.start;
    loop {
        let mut b = a + 1;
        while b < words.end && pos(b + 1) - pos(a) <= budget {
            b += 1;
        }
        held.push(a..b);
        if b == words.end {
            break;
        }
        let mut next = a + 1;
        while next < b && pos(next) < pos(a) + stride {
            next += 1;
        }
        a = next;
    }
    let mut out = Vec::with_capacity(held.len());
    let mut from = words.start;
    for (k, h) in held.iter().enumerate() {
        let to = match held.get(k + 1) {
            None => words.end,
            Some(next) => {
                // Overlap is words [next.start, h.end): cut at the word boundary nearest its middle.
                let mid = (pos(next.start) + pos(h.end)) / 2;
                let cut = (next.start..=h.end)
                    .min_by_key(|&c| pos(c).abs_diff(mid))
                    .unwrap_or(h.end);
                cut.max(from)
            }
        };
        if to > from {
            out.push((h.clone(), from..to));
        }
        from = to;
    }
    out
}

/// Consecutive runs of token indices that belong to one sentence: the unit that windows keep
/// whole and that tags are decoded over. Tokens that lie in no sentence form runs of their own,
/// and a document without sentences is one run, so every token belongs to exactly one group.
pub fn sentence_groups(doc: &Document) -> Vec<Range<usize>> {
    let mut groups: Vec<Range<usize>> = Vec::new();
    // The sentence of the previous token (`Some(None)`: it lay in no sentence).
    let mut last: Option<Option<usize>> = None;
    let mut s = 0;
    for (t, tok) in doc.tokens.iter().enumerate() {
        let key = if doc.sentences.is_empty() {
            Some(0)
        } else {
            while s < doc.sentences.len() && doc.sentences[s].end <= tok.start {
                s += 1;
            }
            if s < doc.sentences.len() && doc.sentences[s].contains(*tok) {
                Some(s)
            } else {
                // Unsorted sentences or a token outside them: look it up from the start.
                doc.sentences.iter().position(|x| x.contains(*tok))
            }
        };
        match groups.last_mut() {
            Some(g) if last == Some(key) => g.end = t + 1,
            _ => groups.push(t..t + 1),
        }
        last = Some(key);
    }
    groups
}

/// Model inputs for a batch of windows, padded to the longest.
#[derive(Debug)]
pub struct Batch {
    pub input_ids: Tensor,
    pub mask: Tensor,
    pub type_ids: Tensor,
}

/// Pad `windows` to the same length (`pad_id`, mask 0, type 0) as `[batch, length]` tensors.
pub fn collate(windows: &[&Window], pad_id: i64, device: Device) -> Batch {
    let len = windows.iter().map(|w| w.len()).max().unwrap_or(0);
    let n = windows.len();
    let mut ids = vec![pad_id; n * len];
    let mut mask = vec![0i64; n * len];
    let mut types = vec![0i64; n * len];
    for (r, w) in windows.iter().enumerate() {
        let row = r * len;
        ids[row..row + w.len()].copy_from_slice(&w.input_ids);
        types[row..row + w.len()].copy_from_slice(&w.type_ids);
        mask[row..row + w.len()].fill(1);
    }
    let shape = [n as i64, len as i64];
    let t = |v: Vec<i64>| Tensor::from_slice(&v).view(shape).to_device(device);
    Batch {
        input_ids: t(ids),
        mask: t(mask),
        type_ids: t(types),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::ner::pipeline::tests::tiny_tokenizer_json;
    use crate::segment::Segmenter;

    pub(crate) fn featurizer(cfg: WindowConfig) -> (tempfile::TempDir, Featurizer) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        std::fs::write(&path, tiny_tokenizer_json()).unwrap();
        let f = Featurizer::from_file(&path, cfg).unwrap();
        (dir, f)
    }

    /// Many short sentences around one very long one, with words of several sub-words.
    pub(crate) fn long_document() -> Document {
        let mut text = String::new();
        for i in 0..12 {
            text.push_str(&format!("Anna met the mayor of Zürich {i}. "));
        }
        text.push_str("She said ");
        for i in 0..60 {
            text.push_str(["walking ", "talks ", "Paris, ", "der ", "emoji🙂 "][i % 5]);
        }
        text.push_str("end. ");
        for _ in 0..5 {
            text.push_str("He walks in Paris. ");
        }
        let mut doc = Document::new("long", text);
        Segmenter::default().segment(&mut doc);
        doc
    }

    /// Every token decided by exactly one window, every window within budget, and every decided
    /// word present in its window with its first sub-word marked.
    pub(crate) fn check_windows(doc: &Document, windows: &[Window], max: usize) {
        let mut decided = vec![0; doc.tokens.len()];
        for w in windows {
            assert!(w.len() <= max, "window of {} > {max}", w.len());
            assert_eq!(w.type_ids.len(), w.len());
            assert_eq!(w.word_of.len(), w.len());
            assert_eq!(w.first_of_word.len(), w.len());
            for t in w.decides.clone() {
                decided[t] += 1;
                let first = w.word_of.iter().position(|x| *x == Some(t));
                assert!(first.is_some_and(|p| w.first_of_word[p]), "token {t}");
            }
        }
        assert!(decided.iter().all(|&n| n == 1), "{decided:?}");
    }

    #[test]
    fn casing_classes() {
        assert_eq!(casing_of("said"), Casing::Lower);
        assert_eq!(casing_of("2024"), Casing::Lower);
        assert_eq!(casing_of("Zürich"), Casing::Title);
        assert_eq!(casing_of("Ömer"), Casing::Title);
        assert_eq!(casing_of("NATO"), Casing::Upper);
        assert_eq!(casing_of("U.S."), Casing::Upper);
        assert_eq!(casing_of("A"), Casing::Upper);
        assert_eq!(casing_of("iPhone"), Casing::Other);
        assert_eq!(casing_of("McCain"), Casing::Other);
        assert_eq!(Casing::Other as i64, 3);
    }

    #[test]
    fn every_token_is_decided_exactly_once() {
        let doc = long_document();
        assert!(doc.sentences.len() > 15);
        for max in [6, 7, 16, 33, 128] {
            for context in [true, false] {
                let cfg = WindowConfig {
                    max_subwords: max,
                    context,
                    casing: false,
                };
                let (_d, f) = featurizer(cfg);
                let windows = f.windows(3, &doc).unwrap();
                assert!(windows.iter().all(|w| w.doc == 3));
                check_windows(&doc, &windows, max);
                // Decided ranges follow each other in document order.
                let mut next = 0;
                for w in &windows {
                    assert_eq!(w.decides.start, next);
                    next = w.decides.end;
                }
                assert_eq!(next, doc.tokens.len());
            }
        }
    }

    #[test]
    fn windows_pack_whole_sentences_and_add_context() {
        let doc = long_document();
        let cfg = WindowConfig {
            max_subwords: 32,
            context: true,
            casing: false,
        };
        let (_d, f) = featurizer(cfg);
        let windows = f.windows(0, &doc).unwrap();
        let groups = sentence_groups(&doc);
        let starts: Vec<usize> = groups.iter().map(|g| g.start).collect();
        let ends: Vec<usize> = groups.iter().map(|g| g.end).collect();
        // The first window decides whole sentences and sees the next one as context.
        let w = &windows[0];
        assert!(starts.contains(&w.decides.start) && ends.contains(&w.decides.end));
        assert!(w.word_of.iter().flatten().any(|&t| t >= w.decides.end));
        assert_eq!(w.len(), 32, "filled to the budget");
        assert_eq!(w.input_ids[0], 2, "[CLS]");
        assert_eq!(*w.input_ids.last().unwrap(), 3, "[SEP]");
        // A later window also has context on its left.
        let w = &windows[2];
        assert!(w.word_of.iter().flatten().any(|&t| t < w.decides.start));
        // Without context, a window holds only what it decides (short sentences).
        let (_d, f) = featurizer(WindowConfig {
            context: false,
            ..cfg
        });
        let w = &f.windows(0, &doc).unwrap()[0];
        assert!(w.word_of.iter().flatten().all(|t| w.decides.contains(t)));
    }

    #[test]
    fn casing_reaches_type_ids_and_empty_words_get_unk() {
        let mut doc = Document::new("d", "NATO met Anna \u{301} iPhone");
        Segmenter::default().segment(&mut doc);
        let cfg = WindowConfig {
            casing: true,
            ..Default::default()
        };
        let (_d, f) = featurizer(cfg);
        let w = &f.windows(0, &doc).unwrap()[0];
        let per_word: Vec<(Option<usize>, i64)> = w
            .word_of
            .iter()
            .copied()
            .zip(w.type_ids.iter().copied())
            .collect();
        assert_eq!(per_word[0], (None, 0));
        assert!(per_word.contains(&(Some(0), 2)) && per_word.contains(&(Some(2), 1)));
        let last = doc.tokens.len() - 1;
        assert!(per_word.contains(&(Some(last), 3)));
        check_windows(&doc, std::slice::from_ref(w), 128);
        assert_eq!(f.pad_id(), 0);
        // The lone combining accent is a word the normaliser strips to nothing: it is [UNK].
        let ix = CharIndex::new(&doc.text);
        let accent = (0..doc.tokens.len())
            .find(|&t| ix.slice(doc.tokens[t].start, doc.tokens[t].end) == Some("\u{301}"))
            .expect("the accent is a token");
        let p = w.word_of.iter().position(|x| *x == Some(accent)).unwrap();
        assert_eq!(w.input_ids[p], 1);
    }

    #[test]
    fn empty_documents_give_no_windows() {
        let (_d, f) = featurizer(WindowConfig::default());
        let mut doc = Document::new("e", "  \n ");
        Segmenter::default().segment(&mut doc);
        assert!(f.windows(0, &doc).unwrap().is_empty());
    }

    #[test]
    fn tokens_outside_sentences_are_still_grouped() {
        let mut doc = Document::new("d", "a b c d e");
        doc.tokens = (0..5).map(|i| Span::new(2 * i, 2 * i + 1)).collect();
        doc.sentences = vec![Span::new(2, 5)];
        assert_eq!(sentence_groups(&doc), [0..1, 1..3, 3..5]);
        doc.sentences.clear();
        assert_eq!(sentence_groups(&doc), vec![Range { start: 0, end: 5 }]);
    }

    #[test]
    fn collate_pads_to_the_longest() {
        let doc = long_document();
        let (_d, f) = featurizer(WindowConfig {
            max_subwords: 16,
            ..Default::default()
        });
        let windows = f.windows(0, &doc).unwrap();
        let refs: Vec<&Window> = vec![&windows[0], windows.last().unwrap()];
        let b = collate(&refs, f.pad_id(), Device::Cpu);
        let len = refs.iter().map(|w| w.len()).max().unwrap() as i64;
        assert_eq!(b.input_ids.size(), [2, len]);
        assert_eq!(b.mask.size(), [2, len]);
        assert_eq!(b.type_ids.size(), [2, len]);
        let ones = b.mask.sum(tch::Kind::Int64).int64_value(&[]);
        assert_eq!(ones as usize, refs[0].len() + refs[1].len());
    }
}
