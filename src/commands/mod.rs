//! What each subcommand does, callable without the command line.

pub mod annotate;
pub mod convert;
pub mod eval;
pub mod info;
pub mod schema;
pub mod segment;
pub mod train;
pub mod vote;

use crate::error::Diagnostics;

/// How many warnings are printed one by one before the rest are only counted.
const WARNINGS_SHOWN: usize = 20;

pub fn print_warnings(diag: &Diagnostics) {
    for w in diag.warnings.iter().take(WARNINGS_SHOWN) {
        eprintln!("warning: {w}");
    }
    if diag.warnings.len() > WARNINGS_SHOWN {
        eprintln!(
            "warning: ... and {} more ({} in all)",
            diag.warnings.len() - WARNINGS_SHOWN,
            diag.warnings.len()
        );
    }
}
