//! Reading a webhook body: within the size limit, within 30 s, and within
//! a node-wide budget of buffered bytes, so slow or large senders together
//! can hold only a bounded amount of memory.
use std::{sync::Arc, time::Duration};

use axum::body::{Body, Bytes};
use http_body_util::BodyExt;
use tokio::{
    sync::{OwnedSemaphorePermit, Semaphore},
    time::Instant,
};

/// A body not complete after this is answered 408 (contract section 2).
pub const BODY_TIMEOUT: Duration = Duration::from_secs(30);
/// Webhook body bytes all requests of a node may hold at once, beyond the
/// first [`FREE_BYTES`] of each.
pub const BODY_BUDGET_BYTES: usize = 64 * 1024 * 1024;
/// What each body may hold without drawing on the budget: the size of
/// nearly every real delivery, so a budget spent by large or stalled
/// bodies never sheds an ordinary one (the in-flight limit bounds these).
pub const FREE_BYTES: usize = 16 * 1024;
/// The budget is counted in units of this many bytes.
const UNIT: usize = 1024;

/// The node's budget of buffered webhook body bytes.
#[derive(Clone, Debug)]
pub struct BodyBudget(Arc<Semaphore>);

impl Default for BodyBudget {
    fn default() -> Self {
        Self(Arc::new(Semaphore::new(BODY_BUDGET_BYTES / UNIT)))
    }
}

/// A body read whole, and its share of the budget (released when dropped).
pub struct ReadBody {
    pub bytes: Bytes,
    _budget: Option<OwnedSemaphorePermit>,
}

#[derive(Debug)]
pub enum BodyError {
    TooLarge {
        received: u64,
    },
    TimedOut {
        received: u64,
    },
    /// The node holds its whole budget of bodies already.
    Overloaded,
    /// The connection failed or the client went away.
    Broken(String),
}

/// Reads `body`, refusing it past `limit` bytes, past [`BODY_TIMEOUT`] or
/// past the node's budget.
pub async fn read(
    mut body: Body,
    limit: usize,
    declared: Option<u64>,
    budget: &BodyBudget,
) -> Result<ReadBody, BodyError> {
    let deadline = Instant::now() + BODY_TIMEOUT;
    // Allocated as bytes arrive, never on the sender's word alone.
    let first = declared.map_or(0, |d| {
        usize::try_from(d)
            .unwrap_or(limit)
            .min(limit)
            .min(UNIT * 64)
    });
    let mut bytes = Vec::with_capacity(first);
    let mut held: Option<OwnedSemaphorePermit> = None;
    let mut held_units = 0;
    loop {
        let received = bytes.len() as u64;
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return Err(BodyError::TimedOut { received }),
            Ok(None) => break,
            Ok(Some(Err(error))) => return Err(BodyError::Broken(error.to_string())),
            Ok(Some(Ok(frame))) => frame,
        };
        let Ok(data) = frame.into_data() else {
            continue; // trailers
        };
        if bytes.len() + data.len() > limit {
            return Err(BodyError::TooLarge {
                received: received + data.len() as u64,
            });
        }
        bytes.extend_from_slice(&data);
        // What is allocated counts, not only what is filled.
        let units = bytes.capacity().saturating_sub(FREE_BYTES).div_ceil(UNIT);
        if units > held_units {
            let more = u32::try_from(units - held_units).map_err(|_| BodyError::Overloaded)?;
            let permit = budget
                .0
                .clone()
                .try_acquire_many_owned(more)
                .map_err(|_| BodyError::Overloaded)?;
            match &mut held {
                Some(held) => held.merge(permit),
                None => held = Some(permit),
            }
            held_units = units;
        }
    }
    Ok(ReadBody {
        bytes: Bytes::from(bytes),
        _budget: held,
    })
}
