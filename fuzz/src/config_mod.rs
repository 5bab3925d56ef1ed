//! `noshow::config`, reduced to the `[[input.source]]` block the mapped reader takes.

#[path = "../../src/config/source.rs"]
mod source;
pub use source::{SheetRef, SourceConfig};
