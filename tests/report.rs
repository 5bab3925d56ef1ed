//! Tests of `noshow report`.
#[allow(unused_imports)]
use crate::workdir::Workdir;
