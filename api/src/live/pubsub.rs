//! Wake-ups between gateway nodes. A message only says "events up to id N
//! are committed"; the events themselves are always read from the store, so
//! a lost message (Redis is at-most-once) delays an event, never loses it.
use tokio::sync::watch;

use super::{feed::Feed, redis::RedisPubSub};

#[derive(Clone)]
pub enum PubSub {
    /// One node: the feed is woken in process, nothing crosses the network.
    Memory,
    Redis(RedisPubSub),
}

impl PubSub {
    pub fn new(redis_url: Option<&str>, channel: &str) -> anyhow::Result<Self> {
        Ok(match redis_url {
            Some(url) => Self::Redis(RedisPubSub::new(url, channel)?),
            None => Self::Memory,
        })
    }

    /// Publishes every commit this node makes and wakes `feed` whenever
    /// another node announces one (and after every reconnect, so the feed
    /// catches up on what it missed while disconnected).
    pub fn start(&self, committed: watch::Receiver<i64>, feed: Feed) {
        if let Self::Redis(redis) = self {
            tokio::spawn(redis.clone().publish_commits(committed));
            tokio::spawn(redis.clone().listen(feed));
        }
    }

    /// `None` when no Redis is configured.
    pub async fn ping(&self) -> Option<bool> {
        match self {
            Self::Memory => None,
            Self::Redis(redis) => Some(redis.ping().await),
        }
    }
}
