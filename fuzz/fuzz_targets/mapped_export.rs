//! Fuzz target: the mapped readers of HR systems' own exports (`[[input.source]]`) on
//! arbitrary bytes, as a workbook and as GB18030 / UTF-16 / UTF-8 text. They must
//! never panic, and when they read the file every row must be kept or set aside
//! exactly once.
#![no_main]

use libfuzzer_sys::fuzz_target;

mod common;

fuzz_target!(|data: &[u8]| common::mapped_export(data));
