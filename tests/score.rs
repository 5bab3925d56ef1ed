//! Tests of `noshow score`.
#[allow(unused_imports)]
use crate::workdir::Workdir;
