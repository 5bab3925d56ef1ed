//! The readers' own source files, compiled without the rest of noshow.
//!
//! The fuzz targets need only the two input readers, but the `noshow` crate also
//! builds polars, and a coverage-instrumented build of polars takes hours on a
//! 2-core machine. So this crate mounts the very same files (`src/time.rs`,
//! `src/schema.rs`, the readers under `src/ingest/` and the `[[input.source]]` block
//! of `src/config/source.rs`) at the same module paths they have in `noshow`: what is
//! fuzzed is byte for byte the code that ingest runs. If a reader starts using
//! another module of the crate, add it here.
#![allow(dead_code)]

#[path = "../../src/schema.rs"]
pub mod schema;
#[path = "../../src/time.rs"]
pub mod time;

#[path = "ingest_mod.rs"]
pub mod ingest;

#[path = "config_mod.rs"]
pub mod config;

/// `noshow::usage_error`: the mapped reader reports a bad `[[input.source]]` block
/// through it (here only the message matters).
pub fn usage_error(msg: impl Into<String>) -> anyhow::Error {
    anyhow::anyhow!(msg.into())
}
