//! One module per subcommand: its flags (whose doc comments are the help text) and
//! the glue from resolved settings to the library.

pub mod generate;
pub mod generate_outcomes;
pub mod ingest;
pub mod inspect;
pub mod report;
pub mod run;
pub mod score;
pub mod train;
