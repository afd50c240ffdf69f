//! The subscription root: live events from the node's [`Feed`].
use async_graphql::{Context, ErrorExtensions, Response, Subscription as GraphQLSubscription};
use futures::Stream;

use crate::{
    auth::Role,
    graphql::{
        connection::after_id,
        error::{FEED_UNAVAILABLE, SHUTTING_DOWN},
        guard::RoleGuard,
        types::{Event, EventFilter},
    },
    ids::{self, CursorKind},
    live::{End, EndReason, Feed, Shutdown, Tail},
};

#[derive(Default)]
pub struct Subscription;

#[GraphQLSubscription]
impl Subscription {
    /// Every matching event committed after the subscription starts, in
    /// commit order, each once. With `after` (an event cursor), first the
    /// stored events after it, then live ones, with no gap and no repeat.
    /// The gateway may end it with an error whose `extensions.resumeAfter`
    /// is the cursor to resubscribe after.
    #[graphql(guard = "RoleGuard(Role::Read)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        filter: Option<EventFilter>,
        after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<Event>> + use<>> {
        let filter = filter.unwrap_or_default().into_store()?;
        let after = after_id(CursorKind::Event, after.as_deref())?;
        let feed = ctx.data_unchecked::<Feed>();
        let shutdown = ctx.data_unchecked::<Shutdown>().watch();
        let tail = Tail::new(feed, filter, after, shutdown);
        Ok(futures::stream::unfold(Some(tail), |tail| async move {
            let mut tail = tail?;
            Some(match tail.next().await {
                Ok(event) => (Ok(event), Some(tail)),
                Err(end) => (Err(end_error(end)), None),
            })
        }))
    }
}

/// Codes of the errors that end a subscription.
const END_CODES: [&str; 2] = [FEED_UNAVAILABLE, SHUTTING_DOWN];

fn end_error(end: End) -> async_graphql::Error {
    let (code, message) = match end.reason {
        EndReason::FeedUnavailable => (
            FEED_UNAVAILABLE,
            "the live feed stopped; subscribe again with `after: resumeAfter`",
        ),
        EndReason::ShuttingDown => (
            SHUTTING_DOWN,
            "the gateway is shutting down; subscribe again with `after: resumeAfter`",
        ),
    };
    let resume_after = end.resume_after.map(ids::event_cursor);
    async_graphql::Error::new(message).extend_with(|_, extensions| {
        extensions.set("code", code);
        extensions.set("resumeAfter", resume_after);
    })
}

/// Whether `response` ends its subscription: the transport sends it as an
/// `error` message, and nothing more on that subscription.
pub fn ends_subscription(response: &Response) -> bool {
    response.errors.iter().any(|error| {
        let code = error.extensions.as_ref().and_then(|e| e.get("code"));
        END_CODES
            .iter()
            .any(|end| code == Some(&async_graphql::Value::from(*end)))
    })
}
