//! `noshow::ingest`, reduced to the readers and what they use.

#[path = "../../src/ingest/csv_reader.rs"]
pub mod csv_reader;
#[path = "../../src/ingest/files.rs"]
pub mod files;
#[path = "../../src/ingest/mapped.rs"]
pub mod mapped;
#[path = "../../src/ingest/jsonl_reader.rs"]
pub mod jsonl_reader;
#[path = "../../src/ingest/record.rs"]
pub mod record;
