//! Ending every live subscription of the node at once (graceful shutdown).
use std::{sync::Arc, time::Duration};

use tokio::sync::watch;

/// One per node. Every [`super::Tail`] and every WebSocket connection holds
/// a [`watch`](Self::watch) of it: when it fires, each subscription ends
/// with `SHUTTING_DOWN` and its resume cursor, then its socket closes (1001).
#[derive(Clone)]
pub struct Shutdown(Arc<watch::Sender<bool>>);

impl Default for Shutdown {
    fn default() -> Self {
        Self(Arc::new(watch::channel(false).0))
    }
}

impl Shutdown {
    /// True once the node is shutting down.
    pub fn watch(&self) -> watch::Receiver<bool> {
        self.0.subscribe()
    }

    /// Ends every open subscription and waits until every subscription and
    /// WebSocket connection has finished, at most `within`; false when some
    /// were still open then. Connections opened afterwards close at once.
    pub async fn close_subscriptions(&self, within: Duration) -> bool {
        self.0.send_replace(true);
        tokio::time::timeout(within, self.0.closed()).await.is_ok()
    }
}
