//! The process's own resources, and the one way noshow splits independent work over
//! the two cores it targets. Kept in one place so every report of time or memory
//! (profiles, run logs) measures the same thing.

/// CPU seconds (user + system) the process has used so far; NaN when unknown.
pub fn cpu_seconds() -> f64 {
    match usage() {
        Some(u) => {
            let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            seconds(u.ru_utime) + seconds(u.ru_stime)
        }
        None => f64::NAN,
    }
}

/// Peak resident memory of this process so far, in MiB (0 when unknown).
pub fn peak_rss_mib() -> f64 {
    usage().map_or(0.0, |u| u.ru_maxrss as f64 / 1024.0)
}

fn usage() -> Option<libc::rusage> {
    // SAFETY: getrusage only writes into the zeroed struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    (unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } == 0).then_some(usage)
}

/// `f` over every item, in order, on two threads: the items at even positions on this
/// one, the odd ones on a second. `None` when the second thread panicked.
pub fn map_on_two_threads<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Option<Vec<R>> {
    let f = &f;
    let (even, odd) = std::thread::scope(|scope| {
        let odd = scope.spawn(move || items.iter().skip(1).step_by(2).map(f).collect::<Vec<_>>());
        let even: Vec<R> = items.iter().step_by(2).map(f).collect();
        (even, odd.join())
    });
    let odd = odd.ok()?;
    let (mut even, mut odd) = (even.into_iter(), odd.into_iter());
    let mut out = Vec::with_capacity(items.len());
    for i in 0..items.len() {
        out.extend(if i % 2 == 0 { even.next() } else { odd.next() });
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    #[test]
    fn two_threads_keep_the_order() {
        let items: Vec<u32> = (0..101).collect();
        assert_eq!(super::map_on_two_threads(&items, |x| x * 2), Some(items.iter().map(|x| x * 2).collect()));
        assert_eq!(super::map_on_two_threads(&[] as &[u32], |x| *x), Some(vec![]));
    }
}
