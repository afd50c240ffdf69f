use async_graphql::{Context, ID, Object};

use super::db;
use crate::{
    auth::Role,
    graphql::{
        connection::{Connection, Page, after_id},
        error::GqlResult,
        guard::RoleGuard,
        types::{Event, EventFilter, EventPage},
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
    ) -> GqlResult<EventPage> {
        let page = Page::new(first)?;
        let before = after_id(CursorKind::Event, after.as_deref())?;
        let filter = filter.unwrap_or_default().into_store()?;
        let db = db(ctx);
        if selects_accounts(ctx) {
            let rows = store::timed(store::events::newest_first_with_accounts(
                db,
                &filter,
                before,
                page.limit(),
            ))
            .await?;
            return Ok(Connection::from_rows(rows, page, Event::with_account).into());
        }
        let rows = store::timed(store::events::newest_first(
            db,
            &filter,
            before,
            page.limit(),
        ))
        .await?;
        Ok(Connection::from_rows(rows, page, Event::from).into())
    }
}

/// Whether the page's events have `account` selected: then the page's
/// statement reads the accounts along instead of a second one.
fn selects_accounts(ctx: &Context<'_>) -> bool {
    ctx.look_ahead()
        .field("edges")
        .field("node")
        .field("account")
        .exists()
}
