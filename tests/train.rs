//! Tests of `noshow train`.
#[allow(unused_imports)]
use crate::workdir::Workdir;
