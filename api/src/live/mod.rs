//! Live events for subscriptions. The events table is the outbox: the
//! node's [`Feed`] follows it in commit order and wakes only the
//! subscriptions each batch matches, each subscription is a
//! [`Tail`] (a cursor over the feed that catches up from the store), and
//! [`PubSub`] wakes the feed when another node commits. [`Shutdown`] ends
//! every subscription of the node at once.
mod fanout;
mod feed;
mod pubsub;
mod redis;
mod shutdown;
mod tail;

pub use feed::Feed;
pub use pubsub::PubSub;
pub use shutdown::Shutdown;
pub use tail::{End, EndReason, Tail};
