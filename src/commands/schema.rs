//! `ertag schema check` and `ertag schema show`.

use std::path::Path;

use crate::error::Result;
use crate::relations::Schema;

pub fn check(file: &Path) -> Result<()> {
    let s = Schema::load(file)?;
    println!(
        "{}: schema {:?} is valid: {} entity types, {} relation labels",
        file.display(),
        s.name,
        s.entity_types.len(),
        s.relations.len()
    );
    Ok(())
}

pub fn show(file: &Path) -> Result<()> {
    print!("{}", Schema::load(file)?.show());
    Ok(())
}
