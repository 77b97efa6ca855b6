//! One self-contained HTML page: inline CSS and inline SVG, no scripts, no external resources,
//! so the file can be mailed, archived or opened offline and always looks the same.
//!
//! Every piece of text from the data (labels, file names) goes through [`esc`]: labels come
//! from user files and must never become markup.

use std::fmt::Write;

use super::{pct, ConfusionMatrix, Report, ScoreSection, Table, ThresholdCurve};

/// Escape text for HTML element content and attribute values.
pub fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

const CSS: &str = "
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:2em auto;
max-width:1100px;color:#1d2433;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{font-size:1.15em;margin:1.6em 0 .5em;
border-bottom:1px solid #d8dee9;padding-bottom:.2em}
table{border-collapse:collapse;font-size:.9em;margin:.3em 0}
th,td{padding:.25em .7em;border-bottom:1px solid #e5e9f0}
th{background:#f3f5f9;text-align:right}th:first-child,td:first-child{text-align:left}
td{text-align:right;font-variant-numeric:tabular-nums}
tr.avg td{font-weight:600;background:#fafbfc}
table.keyed td{text-align:left}
p.note{color:#4c566a;font-size:.85em;margin:.2em 0}
.charts{display:flex;flex-wrap:wrap;gap:1.5em;align-items:flex-start}
svg text{font-family:inherit;font-size:11px;fill:#1d2433}
.sub{color:#4c566a}
";

fn table_html(t: &Table, out: &mut String) {
    // A table without a header is a list of `key: value` pairs, read left to right.
    let keyed = t.header.iter().all(|h| h.is_empty());
    let _ = write!(
        out,
        "<h2>{}</h2>\n<table{}>\n",
        esc(&t.title),
        if keyed { " class=\"keyed\"" } else { "" }
    );
    if !keyed {
        out.push_str("<tr>");
        for h in &t.header {
            let _ = write!(out, "<th>{}</th>", esc(h));
        }
        out.push_str("</tr>\n");
    }
    for r in &t.rows {
        let avg = r.first().is_some_and(|c| c.ends_with(" avg"));
        out.push_str(if avg { "<tr class=\"avg\">" } else { "<tr>" });
        for c in r {
            let _ = write!(out, "<td>{}</td>", esc(c));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</table>\n");
    for n in &t.notes {
        let _ = writeln!(out, "<p class=\"note\">{}</p>", esc(n));
    }
}

/// Horizontal bars of per-label F1 (0 to 100%).
fn f1_bars(s: &ScoreSection, out: &mut String) {
    let labels = &s.scores.per_label;
    if labels.is_empty() {
        return;
    }
    let (label_w, bar_w, row_h) = (150.0, 250.0, 22.0);
    let h = 30.0 + row_h * labels.len() as f64;
    let _ = write!(
        out,
        "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" role=\"img\">\
         <title>{t}: F1 per label</title>\
         <text x=\"0\" y=\"14\" font-weight=\"600\">{t}: F1 per label</text>",
        w = label_w + bar_w + 60.0,
        t = esc(&s.name)
    );
    for (i, l) in labels.iter().enumerate() {
        let y = 24.0 + row_h * i as f64;
        let w = bar_w * l.prf.f1.clamp(0.0, 1.0);
        let name: String = l.label.chars().take(26).collect();
        let _ = write!(
            out,
            "<text x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\">{n}</text>\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{bar_w}\" height=\"{bh}\" fill=\"#eceff4\"/>\
             <rect x=\"{label_w}\" y=\"{y}\" width=\"{w:.1}\" height=\"{bh}\" fill=\"#4c78a8\"/>\
             <text x=\"{vx:.1}\" y=\"{ty}\">{v}</text>",
            tx = label_w - 6.0,
            ty = y + 13.0,
            n = esc(&name),
            bh = row_h - 6.0,
            vx = label_w + w + 4.0,
            v = pct(l.prf.f1),
        );
    }
    out.push_str("</svg>\n");
}

/// A heatmap of a confusion matrix; each row is shaded relative to its own gold total, so
/// rare labels are as readable as frequent ones.
fn heatmap(c: &ConfusionMatrix, out: &mut String) {
    let n = c.labels.len();
    if n == 0 {
        return;
    }
    let (margin, cell) = (110.0, if n > 12 { 28.0 } else { 44.0 });
    let size = margin + cell * n as f64 + 10.0;
    let _ = write!(
        out,
        "<svg width=\"{size}\" height=\"{hs}\" viewBox=\"0 0 {size} {hs}\" role=\"img\">\
         <title>{t}</title><text x=\"0\" y=\"14\" font-weight=\"600\">{t}</text>\
         <text x=\"{margin}\" y=\"32\" class=\"sub\">predicted &#8594;</text>",
        hs = size + 30.0,
        t = esc(&c.name)
    );
    let top = 30.0 + margin - 60.0 + 30.0;
    for (j, l) in c.labels.iter().enumerate() {
        let x = margin + cell * (j as f64 + 0.5);
        let short: String = l.chars().take(12).collect();
        let _ = write!(
            out,
            "<text x=\"{x}\" y=\"{y}\" text-anchor=\"start\" transform=\"rotate(-40 {x} {y})\">{s}</text>",
            y = top - 6.0,
            s = esc(&short)
        );
    }
    for (i, (l, row)) in c.labels.iter().zip(&c.matrix).enumerate() {
        let y = top + cell * i as f64;
        let total: usize = row.iter().sum();
        let short: String = l.chars().take(14).collect();
        let _ = write!(
            out,
            "<text x=\"{x}\" y=\"{ty}\" text-anchor=\"end\">{s}</text>",
            x = margin - 6.0,
            ty = y + cell / 2.0 + 4.0,
            s = esc(&short)
        );
        for (j, &v) in row.iter().enumerate() {
            let share = if total == 0 {
                0.0
            } else {
                v as f64 / total as f64
            };
            let x = margin + cell * j as f64;
            // White to a strong blue (diagonal) or red (errors).
            let (r, g, b) = if i == j {
                (76.0, 120.0, 168.0)
            } else {
                (200.0, 70.0, 60.0)
            };
            let mix = |c: f64| (255.0 - (255.0 - c) * share).round() as u8;
            let dark = share > 0.55;
            let _ = write!(
                out,
                "<rect x=\"{x}\" y=\"{y}\" width=\"{cell}\" height=\"{cell}\" \
                 fill=\"rgb({},{},{})\" stroke=\"#fff\"><title>gold {} / predicted {}: {v}</title></rect>\
                 <text x=\"{tx}\" y=\"{ty}\" text-anchor=\"middle\" style=\"fill:{col}\">{v}</text>",
                mix(r),
                mix(g),
                mix(b),
                esc(l),
                esc(&c.labels[j]),
                tx = x + cell / 2.0,
                ty = y + cell / 2.0 + 4.0,
                col = if dark { "#fff" } else { "#1d2433" },
            );
        }
    }
    let _ = writeln!(
        out,
        "<text x=\"0\" y=\"{y}\" class=\"sub\">rows: gold</text></svg>",
        y = top + cell * n as f64 + 18.0
    );
}

/// Precision (y) against recall (x) over the threshold sweep, with the best-F1 point marked.
fn pr_curve(t: &ThresholdCurve, out: &mut String) {
    if t.points.is_empty() {
        return;
    }
    let (l, top, w, h) = (50.0, 30.0, 320.0, 260.0);
    let px = |r: f64| l + w * r.clamp(0.0, 1.0);
    let py = |p: f64| top + h * (1.0 - p.clamp(0.0, 1.0));
    let _ = write!(
        out,
        "<svg width=\"{sw}\" height=\"{sh}\" viewBox=\"0 0 {sw} {sh}\" role=\"img\">\
         <title>{n}: precision/recall</title>\
         <text x=\"0\" y=\"14\" font-weight=\"600\">{n}</text>\
         <rect x=\"{l}\" y=\"{top}\" width=\"{w}\" height=\"{h}\" fill=\"#fafbfc\" stroke=\"#d8dee9\"/>",
        sw = (l + w + 20.0).max(7.0 * t.name.chars().count() as f64),
        sh = top + h + 45.0,
        n = esc(&t.name)
    );
    for k in 0..=4 {
        let v = k as f64 / 4.0;
        let _ = write!(
            out,
            "<line x1=\"{l}\" x2=\"{x2}\" y1=\"{y}\" y2=\"{y}\" stroke=\"#e5e9f0\"/>\
             <text x=\"{tx}\" y=\"{ty}\" text-anchor=\"end\">{p}</text>\
             <text x=\"{x}\" y=\"{by}\" text-anchor=\"middle\">{p}</text>",
            x2 = l + w,
            y = py(v),
            tx = l - 4.0,
            ty = py(v) + 4.0,
            x = px(v),
            by = top + h + 15.0,
            p = (v * 100.0) as u32,
        );
    }
    let mut pts: Vec<_> = t.points.clone();
    pts.sort_by(|a, b| a.recall.total_cmp(&b.recall));
    let path: Vec<String> = pts
        .iter()
        .map(|p| format!("{:.1},{:.1}", px(p.recall), py(p.precision)))
        .collect();
    let _ = write!(
        out,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#4c78a8\" stroke-width=\"2\"/>",
        path.join(" ")
    );
    for p in &pts {
        let _ = write!(
            out,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"2.5\" fill=\"#4c78a8\">\
             <title>threshold {:.2}: P {} R {} F1 {}</title></circle>",
            px(p.recall),
            py(p.precision),
            p.threshold,
            pct(p.precision),
            pct(p.recall),
            pct(p.f1)
        );
    }
    if let Some(b) = t.best {
        let _ = write!(
            out,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"6\" fill=\"none\" stroke=\"#c8463c\" stroke-width=\"2\"/>\
             <text x=\"{tx:.1}\" y=\"{ty:.1}\" style=\"fill:#c8463c\">best F1 {f} at {th:.2}</text>",
            x = px(b.recall),
            y = py(b.precision),
            tx = (px(b.recall) - 150.0).max(l + 4.0),
            ty = (py(b.precision) + 20.0).min(top + h - 6.0),
            f = pct(b.f1),
            th = b.threshold
        );
    }
    let _ = writeln!(
        out,
        "<text x=\"{cx}\" y=\"{y}\" text-anchor=\"middle\" class=\"sub\">recall (%)</text>\
         <text x=\"12\" y=\"{cy}\" text-anchor=\"middle\" class=\"sub\" \
         transform=\"rotate(-90 12 {cy})\">precision (%)</text></svg>",
        cx = l + w / 2.0,
        y = top + h + 35.0,
        cy = top + h / 2.0
    );
}

/// The whole report as one HTML page.
pub fn render_html(report: &Report) -> String {
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>ertag evaluation: {p}</title><style>{CSS}</style></head><body>\n\
         <h1>ertag evaluation</h1><p class=\"sub\">{p} against {g}, {n} documents</p>\n",
        p = esc(&report.pred),
        g = esc(&report.gold),
        n = report.documents
    );
    let sections: Vec<&ScoreSection> = report
        .entities
        .iter()
        .chain(report.relations.iter())
        .collect();
    let has_charts = sections.iter().any(|s| !s.scores.per_label.is_empty())
        || !report.confusion.is_empty()
        || !report.thresholds.is_empty();
    if has_charts {
        out.push_str("<h2>charts</h2><div class=\"charts\">\n");
        for s in &sections {
            f1_bars(s, &mut out);
        }
        for c in &report.confusion {
            heatmap(c, &mut out);
        }
        for t in &report.thresholds {
            pr_curve(t, &mut out);
        }
        out.push_str("</div>\n");
    }
    for t in report.tables() {
        table_html(&t, &mut out);
    }
    out.push_str("</body></html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;

    #[test]
    fn labels_are_escaped_and_the_page_is_self_contained() {
        let html = render_html(&sample());
        assert!(!html.contains("<script"), "unescaped script tag");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
        for external in ["http://", "https://", "src=", "<link", "@import"] {
            assert!(!html.contains(external), "external resource: {external}");
        }
        assert!(html.contains("<svg") && html.contains("<polyline"));
        assert!(html.starts_with("<!DOCTYPE html>") && html.ends_with("</html>\n"));
    }

    #[test]
    fn escaping_covers_attributes() {
        assert_eq!(esc("a\"b'<&>"), "a&quot;b&#39;&lt;&amp;&gt;");
    }
}
