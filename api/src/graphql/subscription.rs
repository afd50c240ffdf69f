//! The subscription root: live events from the node's [`Feed`].
use async_graphql::{Context, Subscription as GraphQLSubscription};
use futures::Stream;
use sea_orm::DatabaseConnection;

use crate::{
    auth::Role,
    graphql::{
        connection::after_id,
        guard::RoleGuard,
        types::{Event, EventFilter},
    },
    ids::CursorKind,
    live::{Feed, Tail},
};

#[derive(Default)]
pub struct Subscription;

#[GraphQLSubscription]
impl Subscription {
    /// Every matching event committed after the subscription starts, in
    /// commit order, each once. With `after` (an event cursor), first the
    /// stored events after it, then live ones, with no gap and no repeat.
    #[graphql(guard = "RoleGuard(Role::Read)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        filter: Option<EventFilter>,
        after: Option<String>,
    ) -> async_graphql::Result<impl Stream<Item = Event> + use<>> {
        let filter = filter.unwrap_or_default().into_store()?;
        let after = after_id(CursorKind::Event, after.as_deref())?;
        let feed = ctx.data_unchecked::<Feed>();
        let db = ctx.data_unchecked::<DatabaseConnection>().clone();
        let tail = Tail::new(feed, db, filter, after);
        Ok(futures::stream::unfold(tail, |mut tail| async move {
            let event = tail.next().await?;
            Some((Event(event.as_ref().clone()), tail))
        }))
    }
}
