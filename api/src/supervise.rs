//! Background tasks the gateway cannot do without (the store writer, the
//! live feed): each runs under a supervisor that restarts it when it
//! panics, and tells `/readyz` whether it is running.
use std::{
    future::Future,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

/// Restart delays: the first restart waits this long (so a crash is seen
/// as "not ready" at least briefly), doubling up to [`MAX_BACKOFF`] while
/// the task keeps dying; a task that ran for [`STABLE`] starts over at the
/// shortest delay.
const MIN_BACKOFF: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(30);
const STABLE: Duration = Duration::from_secs(60);

/// Whether a supervised task is running right now.
#[derive(Clone, Debug)]
pub struct Running(Arc<AtomicBool>);

impl Running {
    pub fn get(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }
}

/// Runs `start()` and runs it again each time it panics. A task that
/// returns has finished its work (its inputs closed) and is not restarted.
pub fn supervise<F, Fut>(name: &'static str, mut start: F) -> Running
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let running = Running(Arc::new(AtomicBool::new(true)));
    let flag = running.clone();
    tokio::spawn(async move {
        let mut backoff = MIN_BACKOFF;
        loop {
            flag.0.store(true, Ordering::SeqCst);
            let started = Instant::now();
            let outcome = tokio::spawn(start()).await;
            flag.0.store(false, Ordering::SeqCst);
            match outcome {
                Ok(()) => {
                    tracing::info!(task = name, "task finished");
                    return;
                }
                Err(error) if error.is_panic() => {
                    tracing::error!(task = name, restart_in = ?backoff, "task panicked; restarting");
                }
                // Cancelled: the runtime is shutting down.
                Err(_) => return,
            }
            if started.elapsed() >= STABLE {
                backoff = MIN_BACKOFF;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    });
    running
}
