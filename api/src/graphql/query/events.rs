use async_graphql::{Context, ID, Object};

use super::db;
use crate::{
    auth::Role,
    graphql::{
        connection::{Connection, Page, after_id},
        error::GqlResult,
        guard::RoleGuard,
        types::{Event, EventFilter},
    },
    ids::{self, CursorKind},
    store,
};

#[derive(Default)]
pub struct EventsQuery;

#[Object]
impl EventsQuery {
    /// The event with this id; null when there is none.
    #[graphql(guard = "RoleGuard(Role::Read)")]
    async fn event(&self, ctx: &Context<'_>, id: ID) -> GqlResult<Option<Event>> {
        let Some(id) = ids::parse_event_id(&id) else {
            return Ok(None);
        };
        Ok(store::timed(store::events::find(db(ctx), id))
            .await?
            .map(Event::from))
    }

    /// Stored events, newest first (reverse commit order).
    #[graphql(guard = "RoleGuard(Role::Read)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        filter: Option<EventFilter>,
        first: Option<i32>,
        after: Option<String>,
    ) -> GqlResult<Connection<Event>> {
        let page = Page::new(first)?;
        let before = after_id(CursorKind::Event, after.as_deref())?;
        let filter = filter.unwrap_or_default().into_store()?;
        let rows = store::timed(store::events::newest_first(
            db(ctx),
            &filter,
            before,
            page.limit(),
        ))
        .await?;
        Ok(Connection::from_rows(rows, page, Event::from))
    }
}
