//! Step timings for `NOSHOW_PROFILE=1`: each mark prints the step's wall time and the
//! time since the start to stderr; without the variable a mark does nothing.

use std::time::Instant;

pub struct Stopwatch {
    scope: &'static str,
    enabled: bool,
    start: Instant,
    last: Instant,
}

impl Stopwatch {
    pub fn start(scope: &'static str) -> Stopwatch {
        let now = Instant::now();
        Stopwatch { scope, enabled: std::env::var_os("NOSHOW_PROFILE").is_some(), start: now, last: now }
    }

    pub fn mark(&mut self, step: &str) {
        let now = Instant::now();
        if self.enabled {
            eprintln!(
                "profile {}: {step:<34} {:>7.2} s  (total {:>7.2} s)",
                self.scope,
                (now - self.last).as_secs_f64(),
                (now - self.start).as_secs_f64()
            );
        }
        self.last = now;
    }
}
