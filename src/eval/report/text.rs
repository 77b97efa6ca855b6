//! Plain renderers: aligned columns for the terminal, pipe tables for Markdown.

use super::{Report, Table};

/// Display width in characters (labels may be non-ASCII).
fn width(s: &str) -> usize {
    s.chars().count()
}

/// The first column (labels) is left-aligned, every other column right-aligned, so that
/// figures line up on their decimal point.
fn terminal_table(t: &Table, out: &mut String) {
    out.push_str(&t.title);
    out.push('\n');
    let cols = t
        .rows
        .iter()
        .chain(std::iter::once(&t.header))
        .map(|r| r.len())
        .max()
        .unwrap_or(0);
    let mut widths = vec![0; cols];
    for r in t.rows.iter().chain(std::iter::once(&t.header)) {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(width(c));
        }
    }
    // A table without a header is a list of `key  value` pairs: all left-aligned.
    let keyed = t.header.iter().all(|h| h.is_empty());
    let line = |r: &[String], out: &mut String| {
        let mut s = String::from("  ");
        for (i, w) in widths.iter().enumerate() {
            let c = r.get(i).map(String::as_str).unwrap_or("");
            let pad = " ".repeat(w - width(c));
            if keyed && i > 0 {
                s.push_str("  ");
                s.push_str(c);
                s.push_str(&pad);
            } else if i == 0 {
                s.push_str(c);
                s.push_str(&pad);
            } else {
                s.push_str("  ");
                s.push_str(&pad);
                s.push_str(c);
            }
        }
        out.push_str(s.trim_end());
        out.push('\n');
    };
    if !keyed {
        line(&t.header, out);
        let total: usize = widths.iter().sum::<usize>() + 2 * widths.len().saturating_sub(1);
        out.push_str("  ");
        out.push_str(&"-".repeat(total));
        out.push('\n');
    }
    for r in &t.rows {
        line(r, out);
    }
    for n in &t.notes {
        out.push_str("  ");
        out.push_str(n);
        out.push('\n');
    }
}

/// The report as aligned text tables (the default output).
pub fn render_terminal(report: &Report) -> String {
    let mut out = String::new();
    for (i, t) in report.tables().iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        terminal_table(t, &mut out);
    }
    out
}

/// Markdown cells cannot hold `|` or line breaks; `<` and `&` are escaped because Markdown
/// renderers pass inline HTML through, and labels come from user files.
fn md_cell(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('\\', "\\\\")
        .replace('|', "\\|")
        .replace(['\n', '\r'], " ")
}

/// The report as GitHub-flavoured Markdown.
pub fn render_markdown(report: &Report) -> String {
    let mut out = String::from("# ertag evaluation\n");
    for t in report.tables() {
        out.push_str(&format!("\n## {}\n\n", md_cell(&t.title)));
        let cols = t.header.len();
        let header: Vec<String> = t.header.iter().map(|h| md_cell(h)).collect();
        out.push_str(&format!("| {} |\n", header.join(" | ")));
        let align: Vec<&str> = (0..cols)
            .map(|i| if i == 0 { ":---" } else { "---:" })
            .collect();
        out.push_str(&format!("| {} |\n", align.join(" | ")));
        for r in &t.rows {
            let cells: Vec<String> = r.iter().map(|c| md_cell(c)).collect();
            out.push_str(&format!("| {} |\n", cells.join(" | ")));
        }
        for n in &t.notes {
            out.push_str(&format!("\n{}\n", md_cell(n)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::tests::sample;
    use super::*;

    #[test]
    fn terminal_columns_line_up() {
        let text = render_terminal(&sample());
        assert!(text.contains("micro avg"), "{text}");
        // Every row of the entity table has the same length: right-aligned numbers.
        let block: Vec<&str> = text
            .split("\n\n")
            .find(|b| b.starts_with("entities\n"))
            .unwrap()
            .lines()
            .skip(1)
            // The note, and the averages without counts (trailing blanks are trimmed).
            .filter(|l| !l.contains("CI") && !l.contains("macro") && !l.contains("weighted"))
            .collect();
        let lens: Vec<usize> = block.iter().map(|l| l.chars().count()).collect();
        assert!(lens.windows(2).all(|w| w[0] == w[1]), "{block:#?}");
        assert!(text.contains("95% CI: micro F1 ["), "{text}");
    }

    #[test]
    fn markdown_tables_are_well_formed() {
        let md = render_markdown(&sample());
        assert!(md.contains("## entities\n\n| label | P | R | F1 | support | tp | fp | fn |"));
        assert!(md.contains("| :--- | ---: |"));
        assert!(md.contains("| micro avg |"));
        assert!(!md.contains("<script") && md.contains("&lt;script&gt;"));
        assert!(md.contains("## comparison: pred2.jsonl minus pred.jsonl"));
        // Every table row has as many cells as its header.
        for block in md.split("\n## ").skip(1) {
            let rows: Vec<&str> = block.lines().filter(|l| l.starts_with('|')).collect();
            let n = rows[0].matches(" | ").count();
            assert!(
                rows.iter().all(|r| r.matches(" | ").count() == n),
                "{block}"
            );
        }
    }
}
