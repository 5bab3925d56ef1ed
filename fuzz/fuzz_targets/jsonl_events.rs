//! Fuzz target: the events JSONL reader on arbitrary bytes. It must never panic, and
//! when it reads the file every row must be kept or set aside exactly once.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| common::jsonl_events(data));
