//! Tests of `noshow run`.
#[allow(unused_imports)]
use crate::workdir::Workdir;
