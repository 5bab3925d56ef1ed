//! Plain log lines on stderr and progress bars when stderr is a terminal.
//! Progress goes to stderr so stdout stays for machine-readable output.

use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

static QUIET: AtomicBool = AtomicBool::new(false);

/// Called once from `main`.
pub fn init(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether informational lines are suppressed (`--quiet`).
pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Writes one line to stderr. A closed or full stderr loses the line rather than
/// stopping the run (`eprintln!` would panic).
pub fn line(text: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr().lock(), "{text}");
}

/// A result line on stdout, left out with `--quiet`; a closed stdout loses it.
pub fn out(text: &str) {
    use std::io::Write as _;
    if !is_quiet() {
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    }
}

/// An informational line on stderr, prefixed with the program name.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => {
        if !$crate::logging::is_quiet() {
            $crate::logging::line(&format!("noshow: {}", format!($($arg)*)));
        }
    };
}

/// A warning on stderr; never suppressed by `--quiet`.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => {
        $crate::logging::line(&format!("noshow: warning: {}", format!($($arg)*)));
    };
}

/// A progress bar over `total` units (bytes or rows) on a terminal; hidden otherwise,
/// where callers print plain lines at milestones instead.
pub fn progress(total: u64, what: &str) -> ProgressBar {
    if is_quiet() || !std::io::stderr().is_terminal() {
        return ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    }
    let bar = ProgressBar::new(total);
    bar.set_style(
        ProgressStyle::with_template("{msg:12} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}
