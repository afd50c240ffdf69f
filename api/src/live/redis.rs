use std::{sync::Arc, time::Duration};

use futures::StreamExt;
use redis::{AsyncCommands, Client, aio::ConnectionManager};
use tokio::sync::{Mutex, watch};

use super::feed::Feed;

/// Any Redis round trip longer than this counts as Redis being down.
const TIMEOUT: Duration = Duration::from_secs(1);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

#[derive(Clone)]
pub struct RedisPubSub {
    client: Client,
    channel: Arc<str>,
    /// Connected lazily, so a gateway starts (and ingests) while Redis is down.
    connection: Arc<Mutex<Option<ConnectionManager>>>,
}

impl RedisPubSub {
    pub fn new(url: &str, channel: &str) -> anyhow::Result<Self> {
        Ok(Self {
            client: Client::open(url)?,
            channel: channel.into(),
            connection: Arc::default(),
        })
    }

    async fn connection(&self) -> Option<ConnectionManager> {
        let mut slot = self.connection.lock().await;
        if slot.is_none() {
            let connect = ConnectionManager::new(self.client.clone());
            match tokio::time::timeout(TIMEOUT, connect).await {
                Ok(Ok(connection)) => *slot = Some(connection),
                Ok(Err(error)) => tracing::debug!(%error, "redis connection failed"),
                Err(_) => tracing::debug!("redis connection timed out"),
            }
        }
        slot.clone()
    }

    pub async fn ping(&self) -> bool {
        let Some(mut connection) = self.connection().await else {
            return false;
        };
        let ping = redis::cmd("PING");
        let reply = ping.query_async::<String>(&mut connection);
        matches!(tokio::time::timeout(TIMEOUT, reply).await, Ok(Ok(_)))
    }

    pub(super) async fn publish_commits(self, mut committed: watch::Receiver<i64>) {
        while committed.changed().await.is_ok() {
            let up_to = *committed.borrow_and_update();
            let Some(mut connection) = self.connection().await else {
                continue;
            };
            let publish = connection.publish::<_, _, i64>(&*self.channel, up_to);
            match tokio::time::timeout(TIMEOUT, publish).await {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => tracing::debug!(%error, "redis publish failed"),
                Err(_) => tracing::debug!("redis publish timed out"),
            }
        }
    }

    pub(super) async fn listen(self, feed: Feed) {
        let mut backoff = Duration::from_millis(100);
        loop {
            match self.subscribe().await {
                Ok(mut messages) => {
                    tracing::info!(channel = %self.channel, "subscribed to redis");
                    backoff = Duration::from_millis(100);
                    // Whatever was announced while we were away is in the store.
                    feed.wake();
                    while messages.next().await.is_some() {
                        feed.wake();
                    }
                    tracing::warn!("redis subscription lost; reconnecting");
                }
                Err(error) => tracing::debug!(%error, "redis subscribe failed"),
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    async fn subscribe(&self) -> anyhow::Result<impl futures::Stream<Item = redis::Msg> + use<>> {
        let subscribe = async {
            let mut pubsub = self.client.get_async_pubsub().await?;
            pubsub.subscribe(&*self.channel).await?;
            Ok::<_, redis::RedisError>(pubsub.into_on_message())
        };
        Ok(tokio::time::timeout(TIMEOUT, subscribe).await??)
    }
}
