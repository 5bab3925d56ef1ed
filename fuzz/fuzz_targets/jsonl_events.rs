//! Fuzz target: the events JSONL reader on arbitrary bytes. It must never panic, and
//! when it reads the file every row must be kept or set aside exactly once.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| {
    let Some(case) = common::case(data, "events.jsonl") else { return };
    let mut sink = common::Counting::default();
    // A file that cannot be read at all (not UTF-8, broken gzip) is an
    // error, which is a correct outcome; only panics and miscounts are findings.
    if let Ok(stats) = noshow_readers::ingest::jsonl_reader::read_events(&case.file, case.tz, &mut sink, &|_| {}) {
        common::check(&stats, &sink);
    }
});
