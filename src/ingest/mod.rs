//! Raw logs → the lake: find the files, read and validate them, merge with the lake's
//! current version, write a new version and switch to it atomically.

pub mod merge;
pub mod record;
pub mod summary;
pub mod writer;
