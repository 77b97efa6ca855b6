//! The SVG of one sentence's relations, drawn over its related entities.

use std::fmt::Write;

use super::{colour, esc};
use crate::document::{Document, Entity, Relation};
use crate::offsets::CharIndex;

/// Text shown in a figure: at most `max` characters, the middle elided, one line.
fn clip(s: &str, max: usize) -> String {
    let s: Vec<char> = s
        .chars()
        .map(|c| if c.is_whitespace() { ' ' } else { c })
        .collect();
    if s.len() <= max {
        return s.into_iter().collect();
    }
    let half = (max - 1) / 2;
    let head: String = s[..half].iter().collect();
    let tail: String = s[s.len() - half..].iter().collect();
    format!("{}\u{2026}{}", head.trim_end(), tail.trim_start())
}

const CW: f64 = 7.2; // width of a character at 12px
const LW: f64 = 6.6; // width of a label character at 10px bold
const LEVEL: f64 = 24.0;

/// The SVG of one sentence's relations: its related entities in text order (the text between
/// them in grey, long stretches elided), and an arc per relation from head to tail.
pub fn figure(out: &mut String, doc: &Document, ix: &CharIndex, rels: &[&Relation]) {
    let mut ents: Vec<&Entity> = rels
        .iter()
        .flat_map(|r| [doc.entity(&r.head), doc.entity(&r.tail)])
        .flatten()
        .collect();
    ents.sort_by_key(|e| (e.start, e.end, e.id.clone()));
    ents.dedup_by_key(|e| e.id.clone());
    // Reciprocal pairs with one label are one arc with two arrowheads.
    let mut arcs: Vec<(usize, usize, &str, bool)> = Vec::new();
    for r in rels {
        let pos = |id: &str| ents.iter().position(|e| e.id == id).unwrap_or(0);
        let (h, t) = (pos(&r.head), pos(&r.tail));
        if let Some(a) = arcs
            .iter_mut()
            .find(|a| a.0 == t && a.1 == h && a.2 == r.label)
        {
            a.3 = true;
        } else if !arcs.iter().any(|a| a.0 == h && a.1 == t && a.2 == r.label) {
            arcs.push((h, t, &r.label, false));
        }
    }
    // Levels: inner arcs low, an arc above every arc it spans, none sharing a level with an
    // overlapping one.
    let range = |a: &(usize, usize, &str, bool)| (a.0.min(a.1), a.0.max(a.1));
    let mut order: Vec<usize> = (0..arcs.len()).collect();
    order.sort_by_key(|&i| (range(&arcs[i]).1 - range(&arcs[i]).0, range(&arcs[i]).0));
    let mut level = vec![0usize; arcs.len()];
    for (k, &i) in order.iter().enumerate() {
        let (lo, hi) = range(&arcs[i]);
        let placed = &order[..k];
        let mut l = 1 + placed
            .iter()
            .filter(|&&j| lo <= range(&arcs[j]).0 && range(&arcs[j]).1 <= hi)
            .map(|&j| level[j])
            .max()
            .unwrap_or(0);
        while placed
            .iter()
            .any(|&j| level[j] == l && range(&arcs[j]).0 <= hi && lo <= range(&arcs[j]).1)
        {
            l += 1;
        }
        level[i] = l;
    }
    let top = level.iter().max().copied().unwrap_or(1) as f64 * LEVEL + 12.0;
    let (y0, bh) = (top + 4.0, 24.0);
    // Boxes and the gaps between them.
    let mut x = 4.0;
    let mut boxes = Vec::new();
    let mut body = String::new();
    for (k, e) in ents.iter().enumerate() {
        if k > 0 && ents[k - 1].end < e.start {
            let gap = clip(
                ix.slice(ents[k - 1].end, e.start)
                    .unwrap_or_default()
                    .trim(),
                16,
            );
            if !gap.is_empty() {
                let w = gap.chars().count() as f64 * CW;
                let _ = write!(
                    body,
                    "<text x=\"{:.1}\" y=\"{:.1}\" fill=\"#6b7280\" font-size=\"12\" textLength=\"{w:.1}\" lengthAdjust=\"spacingAndGlyphs\">{}</text>",
                    x + 6.0,
                    y0 + 16.5,
                    esc(&gap)
                );
                x += w + 12.0;
            } else {
                x += 8.0;
            }
        } else if k > 0 {
            x += 8.0;
        }
        let text = clip(&e.text, 40);
        let (tw, lw) = (
            text.chars().count() as f64 * CW,
            e.label.chars().count() as f64 * LW,
        );
        let w = tw + lw + 20.0;
        let _ = write!(
            body,
            "<g><title>{id} {label} [{s}, {en})</title><rect x=\"{x:.1}\" y=\"{y0:.1}\" width=\"{w:.1}\" height=\"{bh}\" rx=\"5\" fill=\"{c}\"/>\
             <text x=\"{tx:.1}\" y=\"{ty:.1}\" font-size=\"12\" textLength=\"{tw:.1}\" lengthAdjust=\"spacingAndGlyphs\">{t}</text>\
             <text x=\"{lx:.1}\" y=\"{ty:.1}\" font-size=\"10\" font-weight=\"700\" textLength=\"{lw:.1}\" lengthAdjust=\"spacingAndGlyphs\">{label}</text></g>",
            id = esc(&e.id),
            label = esc(&e.label),
            s = e.start,
            en = e.end,
            c = colour(&e.label),
            tx = x + 7.0,
            ty = y0 + 16.5,
            t = esc(&text),
            lx = x + 13.0 + tw,
        );
        boxes.push((x, w));
        x += w;
    }
    let width = x + 4.0;
    // Each box's arc ends spread over its middle, ordered by where the other end lies.
    let mut ends: Vec<Vec<(usize, bool, f64)>> = vec![Vec::new(); ents.len()];
    for (i, a) in arcs.iter().enumerate() {
        let other = |k: usize| boxes[k].0 + boxes[k].1 / 2.0;
        ends[a.0].push((i, true, other(a.1) - if a.0 == a.1 { 1.0 } else { 0.0 }));
        ends[a.1].push((i, false, other(a.0) + if a.0 == a.1 { 1.0 } else { 0.0 }));
    }
    let mut at = vec![[0.0f64; 2]; arcs.len()];
    for (k, list) in ends.iter_mut().enumerate() {
        list.sort_by(|a, b| a.2.total_cmp(&b.2));
        let (bx, bw) = boxes[k];
        for (n, &(i, head, _)) in list.iter().enumerate() {
            let x = bx + bw * (0.2 + 0.6 * (n as f64 + 1.0) / (list.len() as f64 + 1.0));
            at[i][usize::from(!head)] = x;
        }
    }
    for (i, a) in arcs.iter().enumerate() {
        let (x1, x2) = (at[i][0], at[i][1]);
        let yt = y0 - level[i] as f64 * LEVEL;
        let r = ((x2 - x1).abs() / 2.0).min(8.0);
        let dir = if x2 >= x1 { 1.0 } else { -1.0 };
        let _ = write!(
            body,
            "<path d=\"M{x1:.1},{y0:.1} V{:.1} Q{x1:.1},{yt:.1} {:.1},{yt:.1} H{:.1} Q{x2:.1},{yt:.1} {x2:.1},{:.1} V{:.1}\" fill=\"none\" stroke=\"#4c566a\" stroke-width=\"1.5\"/>",
            yt + r,
            x1 + dir * r,
            x2 - dir * r,
            yt + r,
            y0 - 6.0
        );
        let head = |x: f64| {
            format!(
                "<path d=\"M{:.1},{:.1} L{x:.1},{y0:.1} L{:.1},{:.1} Z\" fill=\"#4c566a\"/>",
                x - 4.0,
                y0 - 7.0,
                x + 4.0,
                y0 - 7.0
            )
        };
        body.push_str(&head(x2));
        if a.3 {
            body.push_str(&head(x1));
        }
        let label = clip(a.2, 40);
        let lw = label.chars().count() as f64 * 6.6;
        let mid = (x1 + x2) / 2.0;
        let _ = write!(
            body,
            "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"14\" fill=\"#fff\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#1d2433\" textLength=\"{lw:.1}\" lengthAdjust=\"spacingAndGlyphs\">{}</text>",
            mid - lw / 2.0 - 3.0,
            yt - 7.0,
            lw + 6.0,
            mid - lw / 2.0,
            yt + 4.0,
            esc(&label)
        );
    }
    let height = y0 + bh + 4.0;
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width:.0}\" height=\"{height:.0}\" viewBox=\"0 0 {width:.1} {height:.1}\" style=\"max-width:100%;height:auto;min-width:{:.0}px\" role=\"img\" font-family=\"ui-monospace,Menlo,Consolas,monospace\">{body}</svg>",
        (width * 0.6).min(1000.0)
    );
}
