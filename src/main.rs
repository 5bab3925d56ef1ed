//! The `noshow` binary: parse the command line, dispatch, map the outcome to an exit status.
//! Everything else lives in the library so tests and benches can call it directly.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = match noshow::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // clap prints help/version to stdout with exit 0, and usage errors with exit 2.
            let _ = err.print();
            return ExitCode::from(if err.use_stderr() { 2 } else { 0 });
        }
    };
    noshow::logging::init(cli.global.quiet);
    restrict_new_files();
    keep_standard_streams_open();
    match noshow::cli::dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            noshow::logging::line(&format!("noshow: error: {err:#}"));
            let code = if err.downcast_ref::<noshow::UsageError>().is_some() {
                2
            } else if err.downcast_ref::<noshow::model::promotion::Refused>().is_some() {
                // The new model was kept as a candidate; the current one stays.
                3
            } else {
                1
            };
            ExitCode::from(code)
        }
    }
}

/// A standard stream closed by the caller (`2>&-`) would be reused by the next file
/// noshow opens, and log lines would land in it: point closed ones at /dev/null.
fn keep_standard_streams_open() {
    #[cfg(unix)]
    for fd in 0..=2 {
        // SAFETY: fcntl(F_GETFD) only asks whether the descriptor is open; open() on a
        // NUL-terminated literal returns the lowest free descriptor, which is `fd`.
        unsafe {
            if libc::fcntl(fd, libc::F_GETFD) == -1 {
                libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
            }
        }
    }
}

/// Every folder and file noshow creates (lake, report, model, feed, logs, temp files)
/// holds candidate-level data or is derived from it: set the umask once so that none
/// of them is readable by other users, whichever code path creates it.
fn restrict_new_files() {
    #[cfg(unix)]
    // SAFETY: umask only swaps the process's file-creation mask; no memory is involved.
    unsafe {
        libc::umask(0o077);
    }
}
