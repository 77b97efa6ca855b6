//! The most probable tag sequence a scheme allows: Viterbi over per-token label distributions
//! with the scheme's transitions as hard constraints (no `I-PER` after `O` in IOB2, no `B-X`
//! left open in BIOES, ...). A token classifier scores each token on its own, so taking each
//! token's best tag can give a sequence the scheme forbids, which decoding must then repair by
//! a convention; here the sequence is valid by construction, and where the best valid sequence
//! differs from the per-token choices, it is the one the probabilities favour as a whole.

use crate::tags::TagScheme;

/// A label's role in a tag sequence; `None` for a label that is not a tag of the scheme's kind.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Role<'a> {
    Outside,
    Begin(&'a str),
    Inside(&'a str),
    End(&'a str),
    Single(&'a str),
}

fn role(label: &str) -> Option<Role<'_>> {
    if label == "O" {
        return Some(Role::Outside);
    }
    let (prefix, ty) = label.split_once('-')?;
    Some(match prefix {
        "B" => Role::Begin(ty),
        "I" => Role::Inside(ty),
        "E" | "L" => Role::End(ty),
        "S" | "U" => Role::Single(ty),
        _ => return None,
    })
}

/// Whether `cur` may follow `prev` (`None`: the sequence's start) under `scheme`.
fn allowed(scheme: TagScheme, prev: Option<&Role>, cur: &Role) -> bool {
    use Role::*;
    match scheme {
        // I-X continues a B-X or I-X mention.
        TagScheme::Iob2 => match cur {
            Inside(t) => matches!(prev, Some(Begin(p) | Inside(p)) if p == t),
            _ => true,
        },
        // B-X only separates two mentions of the same type.
        TagScheme::Iob1 => match cur {
            Begin(t) => matches!(prev, Some(Begin(p) | Inside(p)) if p == t),
            _ => true,
        },
        // Inside a mention (after B-X or I-X) only I-X or E-X; outside one, O, B-* or S-*.
        TagScheme::Bioes => match prev {
            Some(Begin(p) | Inside(p)) => matches!(cur, Inside(t) | End(t) if t == p),
            _ => matches!(cur, Outside | Begin(_) | Single(_)),
        },
    }
}

/// Whether a sequence may end with `last` (BIOES leaves no mention open).
fn may_end(scheme: TagScheme, last: &Role) -> bool {
    scheme != TagScheme::Bioes || !matches!(last, Role::Begin(_) | Role::Inside(_))
}

/// Label indices of the most probable sequence (the largest sum of log-probabilities) that
/// `scheme` allows, for one distribution over `labels` per token. `None` when a label is not a
/// tag (the caller then keeps the per-token choices) or when no valid sequence exists.
pub fn best_valid_sequence<D: AsRef<[f32]>>(
    dists: &[D],
    labels: &[String],
    scheme: TagScheme,
) -> Option<Vec<usize>> {
    let roles: Vec<Role> = labels.iter().map(|l| role(l)).collect::<Option<_>>()?;
    let n = roles.len();
    if dists.is_empty() {
        return Some(Vec::new());
    }
    let log = |p: f32| (p.max(1e-12) as f64).ln();
    // score[j]: the best log-probability of a valid prefix ending in label j.
    let mut score: Vec<f64> = (0..n)
        .map(|j| {
            if allowed(scheme, None, &roles[j]) {
                log(dists[0].as_ref()[j])
            } else {
                f64::NEG_INFINITY
            }
        })
        .collect();
    let mut back: Vec<Vec<usize>> = Vec::with_capacity(dists.len());
    for dist in &dists[1..] {
        let dist = dist.as_ref();
        let mut next = vec![f64::NEG_INFINITY; n];
        let mut from = vec![0; n];
        for j in 0..n {
            for i in 0..n {
                if score[i] > next[j] && allowed(scheme, Some(&roles[i]), &roles[j]) {
                    next[j] = score[i];
                    from[j] = i;
                }
            }
            next[j] += log(dist[j]);
        }
        back.push(from);
        score = next;
    }
    let last = (0..n)
        .filter(|&j| may_end(scheme, &roles[j]) && score[j].is_finite())
        .max_by(|&a, &b| score[a].total_cmp(&score[b]).then(b.cmp(&a)))?;
    let mut path = vec![last];
    for from in back.iter().rev() {
        path.push(from[*path.last().unwrap()]);
    }
    path.reverse();
    Some(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tags::decode;

    fn labels(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    fn tags<'a>(path: &[usize], labels: &'a [String]) -> Vec<&'a str> {
        path.iter().map(|&i| labels[i].as_str()).collect()
    }

    #[test]
    fn an_inside_tag_after_outside_becomes_a_mention_or_outside_as_the_scores_say() {
        let l = labels(&["O", "B-PER", "I-PER"]);
        // Per-token best: O I-PER (invalid in IOB2). B-PER is a close second on token 1.
        let dists = vec![vec![0.9, 0.05, 0.05], vec![0.1, 0.4, 0.5]];
        let path = best_valid_sequence(&dists, &l, TagScheme::Iob2).unwrap();
        assert_eq!(tags(&path, &l), ["O", "B-PER"]);
        // When O is the runner-up, the mention is dropped instead.
        let dists = vec![vec![0.9, 0.05, 0.05], vec![0.45, 0.05, 0.5]];
        let path = best_valid_sequence(&dists, &l, TagScheme::Iob2).unwrap();
        assert_eq!(tags(&path, &l), ["O", "O"]);
    }

    #[test]
    fn a_valid_best_sequence_is_kept_as_it_is() {
        let l = labels(&["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG"]);
        let dists = vec![
            vec![0.1, 0.8, 0.05, 0.03, 0.02],
            vec![0.1, 0.05, 0.8, 0.03, 0.02],
            vec![0.7, 0.1, 0.1, 0.05, 0.05],
            vec![0.1, 0.05, 0.05, 0.75, 0.05],
        ];
        let path = best_valid_sequence(&dists, &l, TagScheme::Iob2).unwrap();
        assert_eq!(tags(&path, &l), ["B-LOC", "I-LOC", "O", "B-ORG"]);
    }

    #[test]
    fn a_type_change_inside_a_mention_is_resolved_by_the_whole_sequence() {
        let l = labels(&["O", "B-ORG", "I-ORG", "B-LOC", "I-LOC"]);
        // B-ORG then I-LOC: either the mention is ORG throughout or it splits; ORG wins here.
        let dists = vec![
            vec![0.02, 0.9, 0.02, 0.04, 0.02],
            vec![0.02, 0.02, 0.45, 0.01, 0.5],
        ];
        let path = best_valid_sequence(&dists, &l, TagScheme::Iob2).unwrap();
        assert_eq!(tags(&path, &l), ["B-ORG", "I-ORG"]);
    }

    #[test]
    fn bioes_sequences_close_every_mention_and_iob1_begins_only_between_mentions() {
        let l = labels(&["O", "B-PER", "I-PER", "E-PER", "S-PER"]);
        // Per-token best: B-PER O (an unclosed mention).
        let dists = vec![
            vec![0.1, 0.5, 0.05, 0.05, 0.3],
            vec![0.6, 0.1, 0.05, 0.2, 0.05],
        ];
        let path = best_valid_sequence(&dists, &l, TagScheme::Bioes).unwrap();
        assert_eq!(tags(&path, &l), ["S-PER", "O"]);
        let l = labels(&["O", "I-PER", "B-PER"]);
        // B-PER at the start is invalid in IOB1: I-PER is the valid reading.
        let dists = vec![vec![0.1, 0.3, 0.6]];
        let path = best_valid_sequence(&dists, &l, TagScheme::Iob1).unwrap();
        assert_eq!(tags(&path, &l), ["I-PER"]);
    }

    #[test]
    fn every_sequence_it_returns_decodes_without_repairs() {
        // Pseudo-random distributions over BIOES labels of two types.
        let l = labels(&["O", "B-A", "I-A", "E-A", "S-A", "B-B", "I-B", "E-B", "S-B"]);
        let mut x: u64 = 7;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((x >> 33) % 1000) as f32 / 1000.0 + 0.001
        };
        for scheme in [TagScheme::Iob1, TagScheme::Iob2, TagScheme::Bioes] {
            for len in 1..12 {
                let dists: Vec<Vec<f32>> = (0..len)
                    .map(|_| (0..l.len()).map(|_| next()).collect())
                    .collect();
                let ok: Vec<usize> = (0..l.len())
                    .filter(|&i| scheme == TagScheme::Bioes || !l[i].starts_with(['E', 'S']))
                    .collect();
                // Restrict the label set to the scheme's own prefixes.
                let sub: Vec<String> = ok.iter().map(|&i| l[i].clone()).collect();
                let sub_dists: Vec<Vec<f32>> = dists
                    .iter()
                    .map(|d| ok.iter().map(|&i| d[i]).collect())
                    .collect();
                let path = best_valid_sequence(&sub_dists, &sub, scheme).unwrap();
                let (_, repairs) = decode(&tags(&path, &sub), scheme).unwrap();
                assert!(repairs.is_empty(), "{scheme:?} {:?}", tags(&path, &sub));
            }
        }
    }

    #[test]
    fn labels_that_are_not_tags_give_none() {
        let l = labels(&["O", "PERSON"]);
        assert_eq!(
            best_valid_sequence(&[vec![0.5, 0.5]], &l, TagScheme::Iob2),
            None
        );
    }
}
