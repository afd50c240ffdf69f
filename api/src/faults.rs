//! Failures a test can inject into a running gateway to prove it recovers.
//! Only code holding the [`crate::app::App`] can reach them: nothing from
//! outside the process (no variable, no endpoint) can set them.
use std::sync::atomic::{AtomicBool, Ordering};

#[derive(Debug, Default)]
pub struct Faults {
    writer: AtomicBool,
    feed: AtomicBool,
    jobs: AtomicBool,
}

impl Faults {
    /// The store writer panics when it takes its next batch.
    pub fn crash_writer(&self) {
        self.writer.store(true, Ordering::SeqCst);
    }

    /// The live feed panics when it next wakes.
    pub fn crash_feed(&self) {
        self.feed.store(true, Ordering::SeqCst);
    }

    /// The follow-up worker panics when it next wakes.
    pub fn crash_jobs(&self) {
        self.jobs.store(true, Ordering::SeqCst);
    }

    pub(crate) fn jobs_should_crash(&self) -> bool {
        self.jobs.swap(false, Ordering::SeqCst)
    }

    pub(crate) fn writer_should_crash(&self) -> bool {
        self.writer.swap(false, Ordering::SeqCst)
    }

    pub(crate) fn feed_should_crash(&self) -> bool {
        self.feed.swap(false, Ordering::SeqCst)
    }
}
