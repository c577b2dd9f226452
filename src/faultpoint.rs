//! Crash points between the durability steps, for tests only: built with the `fault-points`
//! feature, the process aborts at the step named by `SEALDROPTEST_CRASH_AT`. Without the feature
//! this is an empty function.

/// Aborts the process here if the test asked for a crash at `step`.
#[inline]
pub fn crash_point(step: &str) {
    #[cfg(feature = "fault-points")]
    if std::env::var("SEALDROPTEST_CRASH_AT").is_ok_and(|s| s == step) {
        eprintln!("fault point: crashing at {step}");
        std::process::abort();
    }
    let _ = step;
}
