//! Tests of `noshow ingest`.
#[allow(unused_imports)]
use crate::workdir::Workdir;
