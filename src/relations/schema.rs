//! Relation schemas: the entity types and relation labels a relation model knows, which pairs
//! of types each label allows, and its direction. Users write them (TOML, or JSON with the same
//! fields); a trained relation model carries a copy, so it never runs against other labels.
//!
//! ```toml
//! name = "conll04"
//! entity_types = ["Peop", "Org", "Loc", "Other"]
//!
//! [[relations]]
//! name = "Work_For"
//! description = "a person works for an organisation"
//! direction = "directed"          # or "symmetric"
//! pairs = [["Peop", "Org"]]       # (head type, tail type); "*" is any type
//! cameo = ["041"]                 # optional event codes
//! plover = ["CONSULT"]
//! ```

use std::collections::HashSet;
use std::fmt::Write as _;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Location, Result};

/// The label of a candidate pair that holds no relation. Reserved: no schema label may use it.
pub const NONE: &str = "none";
/// Any entity type, in `pairs`.
pub const ANY: &str = "*";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Head and tail play different roles (`Work_For`: a person, an organisation).
    Directed,
    /// Either order means the same (`phone call`); stored once, head first in the text.
    Symmetric,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RelationLabel {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub direction: Direction,
    /// Allowed (head type, tail type) pairs; for a symmetric label either order is allowed.
    pub pairs: Vec<(String, String)>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cameo: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plover: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schema {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub entity_types: Vec<String>,
    pub relations: Vec<RelationLabel>,
}

impl Schema {
    /// Read and validate a schema file (`.json` is JSON, anything else TOML).
    pub fn load(path: &Path) -> Result<Self> {
        let text = crate::error::read_to_string(path)?;
        Self::parse(&text, path)
    }

    /// Parse and validate; errors name the file, the line where known, and every mistake.
    pub fn parse(text: &str, path: &Path) -> Result<Self> {
        let loc = Location::file(path);
        let schema: Schema = if path.extension().is_some_and(|e| e == "json") {
            serde_json::from_str(text).map_err(|e| {
                Error::input(&loc.clone().at_line(e.line()), format!("not a schema: {e}"))
            })?
        } else {
            toml::from_str(text).map_err(|e| {
                let line = e
                    .span()
                    .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
                let l = match line {
                    Some(n) => loc.clone().at_line(n),
                    None => loc.clone(),
                };
                Error::input(&l, format!("not a schema: {}", e.message()))
            })?
        };
        let problems = schema.problems();
        if problems.is_empty() {
            return Ok(schema);
        }
        let list: Vec<String> = problems
            .iter()
            .map(
                |(label, p)| match label.as_deref().and_then(|n| line_of(text, n)) {
                    Some(n) => format!("line {n}: {p}"),
                    None => p.clone(),
                },
            )
            .collect();
        Err(Error::input(
            &loc,
            format!(
                "{} mistake(s) in the schema:\n  {}",
                list.len(),
                list.join("\n  ")
            ),
        ))
    }

    /// Every mistake, each with the relation label it concerns (to find its line).
    fn problems(&self) -> Vec<(Option<String>, String)> {
        let mut out = Vec::new();
        let mut say = |label: Option<&str>, msg: String| out.push((label.map(String::from), msg));
        if self.entity_types.is_empty() {
            say(
                None,
                "entity_types is empty: list the entity types the NER stage produces".into(),
            );
        }
        let mut types = HashSet::new();
        for t in &self.entity_types {
            if t.trim().is_empty() || t == ANY {
                say(None, format!("entity type {t:?} is not a usable name"));
            } else if !types.insert(t.as_str()) {
                say(None, format!("entity type {t:?} is listed twice"));
            }
        }
        if self.relations.is_empty() {
            say(
                None,
                "no relations: add at least one [[relations]] table".into(),
            );
        }
        let mut names = HashSet::new();
        for r in &self.relations {
            let n = Some(r.name.as_str());
            if r.name.trim().is_empty() {
                say(n, "a relation has an empty name".into());
            } else if r.name.eq_ignore_ascii_case(NONE) {
                say(
                    n,
                    format!("{NONE:?} is reserved for pairs with no relation"),
                );
            } else if !names.insert(r.name.as_str()) {
                say(n, format!("relation {:?} is defined twice", r.name));
            }
            if r.pairs.is_empty() {
                say(
                    n,
                    format!(
                        "relation {:?} allows no pair of types: add pairs = [[\"HEAD\", \"TAIL\"]] (\"*\" is any type)",
                        r.name
                    ),
                );
            }
            for (h, t) in &r.pairs {
                for (role, ty) in [("head", h), ("tail", t)] {
                    if ty != ANY && !types.contains(ty.as_str()) {
                        say(
                            n,
                            format!(
                                "relation {:?}: {role} type {ty:?} is not one of entity_types {:?}",
                                r.name, self.entity_types
                            ),
                        );
                    }
                }
            }
            for code in &r.cameo {
                let ok = (2..=4).contains(&code.len()) && code.chars().all(|c| c.is_ascii_digit());
                if !ok {
                    say(
                        n,
                        format!(
                            "relation {:?}: CAMEO code {code:?} is not 2 to 4 digits",
                            r.name
                        ),
                    );
                }
            }
        }
        out
    }

    pub fn labels(&self) -> Vec<&str> {
        self.relations.iter().map(|r| r.name.as_str()).collect()
    }

    pub fn label_index(&self, name: &str) -> Option<usize> {
        self.relations.iter().position(|r| r.name == name)
    }

    pub fn type_index(&self, name: &str) -> Option<usize> {
        self.entity_types.iter().position(|t| t == name)
    }

    pub fn is_symmetric(&self, label: usize) -> bool {
        self.relations[label].direction == Direction::Symmetric
    }

    /// Whether `label` may hold from a `head`-typed to a `tail`-typed mention.
    pub fn allows(&self, label: usize, head: &str, tail: &str) -> bool {
        let r = &self.relations[label];
        let fits = |a: &str, b: &str| {
            r.pairs
                .iter()
                .any(|(h, t)| (h == ANY || h == a) && (t == ANY || t == b))
        };
        fits(head, tail) || (r.direction == Direction::Symmetric && fits(tail, head))
    }

    /// Per label, whether it may hold from `head` to `tail` (the candidate mask of a pair).
    pub fn mask(&self, head: &str, tail: &str) -> Vec<bool> {
        (0..self.relations.len())
            .map(|l| self.allows(l, head, tail))
            .collect()
    }

    /// The schema as TOML, as it is saved with a model.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("a schema serialises")
    }

    /// A readable listing for `ertag schema show`.
    pub fn show(&self) -> String {
        let mut s = format!("schema {:?}", self.name);
        if !self.description.is_empty() {
            s += &format!(": {}", self.description);
        }
        s += &format!("\nentity types: {}\n", self.entity_types.join(", "));
        s += &format!("{} relation labels:\n", self.relations.len());
        for r in &self.relations {
            let arrow = match r.direction {
                Direction::Directed => "->",
                Direction::Symmetric => "--",
            };
            let pairs: Vec<String> = r
                .pairs
                .iter()
                .map(|(h, t)| format!("{h} {arrow} {t}"))
                .collect();
            let _ = write!(
                s,
                "  {:<24} {:<9} {}",
                r.name,
                format!("{:?}", r.direction).to_lowercase(),
                pairs.join(", ")
            );
            if !r.cameo.is_empty() {
                let _ = write!(s, "  CAMEO {}", r.cameo.join(" "));
            }
            if !r.plover.is_empty() {
                let _ = write!(s, "  PLOVER {}", r.plover.join(" "));
            }
            s.push('\n');
            if !r.description.is_empty() {
                let _ = writeln!(s, "  {:<24} {}", "", r.description);
            }
        }
        s
    }
}

/// The line of `name = "<label>"` in a schema's text, to point a mistake at its table.
fn line_of(text: &str, label: &str) -> Option<usize> {
    let quoted = format!("{label:?}");
    text.lines()
        .position(|l| l.contains("name") && l.contains(&quoted))
        .map(|i| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
name = "test"
entity_types = ["PER", "ORG", "LOC"]

[[relations]]
name = "works for"
description = "employment"
direction = "directed"
pairs = [["PER", "ORG"]]

[[relations]]
name = "phone call"
direction = "symmetric"
pairs = [["PER", "PER"], ["PER", "LOC"]]
cameo = ["041"]
plover = ["CONSULT"]
"#;

    fn parse(text: &str) -> Result<Schema> {
        Schema::parse(text, Path::new("s.toml"))
    }

    #[test]
    fn a_good_schema_parses_and_answers() {
        let s = parse(GOOD).unwrap();
        assert_eq!(s.labels(), ["works for", "phone call"]);
        assert!(s.allows(0, "PER", "ORG"));
        assert!(!s.allows(0, "ORG", "PER"));
        // Symmetric: either order of an allowed pair.
        assert!(s.allows(1, "LOC", "PER"));
        assert_eq!(s.mask("PER", "PER"), [false, true]);
        let again = parse(&s.to_toml()).unwrap();
        assert_eq!(again, s);
        assert!(s.show().contains("PER -- LOC"), "{}", s.show());
    }

    #[test]
    fn json_schemas_read_too() {
        let s = parse(GOOD).unwrap();
        let json = serde_json::to_string(&s).unwrap();
        assert_eq!(Schema::parse(&json, Path::new("s.json")).unwrap(), s);
    }

    #[test]
    fn mistakes_are_explained_with_their_lines() {
        let bad = GOOD
            .replace(r#"[["PER", "ORG"]]"#, r#"[["PER", "ORGANIZATION"]]"#)
            .replace(r#"name = "phone call""#, r#"name = "none""#)
            .replace(r#"cameo = ["041"]"#, r#"cameo = ["4x"]"#);
        let msg = parse(&bad).unwrap_err().to_string();
        assert!(msg.contains("s.toml"), "{msg}");
        assert!(msg.contains("3 mistake(s)"), "{msg}");
        assert!(
            msg.contains("line 6:") && msg.contains("\"ORGANIZATION\" is not one of"),
            "{msg}"
        );
        assert!(msg.contains("reserved"), "{msg}");
        assert!(msg.contains("CAMEO code \"4x\""), "{msg}");
    }

    #[test]
    fn syntax_errors_and_unknown_keys_name_the_line() {
        let msg = parse("name = \"x\"\nentity_types = [\"PER\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            msg.contains("s.toml:") && msg.contains("not a schema"),
            "{msg}"
        );
        let typo = GOOD.replace(
            "direction = \"directed\"",
            "direction = \"directed\"\npair = []",
        );
        let msg = parse(&typo).unwrap_err().to_string();
        assert!(msg.contains("unknown field"), "{msg}");
        let dup = format!("{GOOD}\n[[relations]]\nname = \"works for\"\ndirection = \"directed\"\npairs = [[\"*\", \"*\"]]\n");
        let msg = parse(&dup).unwrap_err().to_string();
        assert!(msg.contains("defined twice"), "{msg}");
        let bad_dir = GOOD.replace("\"symmetric\"", "\"both\"");
        assert!(parse(&bad_dir)
            .unwrap_err()
            .to_string()
            .contains("unknown variant"));
    }
}
