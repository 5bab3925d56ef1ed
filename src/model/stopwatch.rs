//! Step timings for `NOSHOW_PROFILE=1`: each mark prints the step's wall time, the
//! process CPU time it used (user + system, all threads: on a shared machine the wall
//! time says more about the neighbours than about the step) and the time since the
//! start, to stderr; without the variable a mark does nothing.

use std::time::Instant;

pub struct Stopwatch {
    scope: &'static str,
    enabled: bool,
    start: Instant,
    last: Instant,
    last_cpu: f64,
}

use crate::sys::cpu_seconds;

impl Stopwatch {
    pub fn start(scope: &'static str) -> Stopwatch {
        let now = Instant::now();
        let enabled = std::env::var_os("NOSHOW_PROFILE").is_some();
        Stopwatch { scope, enabled, start: now, last: now, last_cpu: if enabled { cpu_seconds() } else { 0.0 } }
    }

    pub fn mark(&mut self, step: &str) {
        let now = Instant::now();
        if self.enabled {
            let cpu = cpu_seconds();
            eprintln!(
                "profile {}: {step:<34} {:>7.2} s wall {:>7.2} s cpu  (total {:>7.2} s wall)",
                self.scope,
                (now - self.last).as_secs_f64(),
                cpu - self.last_cpu,
                (now - self.start).as_secs_f64()
            );
            self.last_cpu = cpu;
        }
        self.last = now;
    }
}
