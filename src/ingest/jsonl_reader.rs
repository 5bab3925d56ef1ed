//! `events*.jsonl` → validated event rows.
