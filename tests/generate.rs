//! Tests of `noshow generate`.
#[allow(unused_imports)]
use crate::workdir::Workdir;
