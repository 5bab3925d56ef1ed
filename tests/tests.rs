//! Integration tests: one test binary (to keep link times down), one module per command.
//! Each test runs the real `noshow` binary in a temporary folder and reads what it wrote.

mod workdir;

mod generate;
mod hardening;
mod ingest;
mod report;
mod run;
mod crosscheck;
mod fuzz_replay;
mod score;
mod train;
mod notebook;
mod safety;
mod feedback;
mod mapping;
mod model_choice;
