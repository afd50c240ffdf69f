//! The subscription root: live events from the node's [`Feed`], each
//! rendered once for all the subscriptions that select it alike.
use std::borrow::Cow;

use async_graphql::{
    Context, ContextSelectionSet, ErrorExtensions, OutputType, Positioned, Request, Response,
    ServerResult, Subscription as GraphQLSubscription, Value, parser::types::Field,
    registry::Registry,
};
use bytes::Bytes;
use futures::Stream;
use sha2::{Digest, Sha256};

use crate::{
    auth::{Caller, Role},
    graphql::{
        connection::after_id,
        error::{FEED_UNAVAILABLE, SHUTTING_DOWN},
        guard::RoleGuard,
        response,
        scalars::SelectionDigest,
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
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<LiveEvent>> + use<>> {
        let filter = filter.unwrap_or_default().into_store()?;
        let after = after_id(CursorKind::Event, after.as_deref())?;
        let feed = ctx.data_unchecked::<Feed>();
        let shutdown = ctx.data_unchecked::<Shutdown>().watch();
        let tail = Tail::new(feed, filter, after, shutdown);
        Ok(futures::stream::unfold(Some(tail), |tail| async move {
            let mut tail = tail?;
            Some(match tail.next().await {
                Ok(event) => (Ok(LiveEvent(event)), Some(tail)),
                Err(end) => (Err(end_error(end)), None),
            })
        }))
    }
}

/// What a subscription request selects: a SHA-256 digest of its
/// operation name, variables and text. Two subscriptions with the same one
/// render an event alike for the same role. A digest rather than the text:
/// every idle subscription keeps its own.
pub struct Selection(SelectionDigest);

impl Selection {
    pub fn of(request: &Request) -> Self {
        let variables = serde_json::to_vec(&request.variables).unwrap_or_default();
        let operation = request.operation_name.as_deref().unwrap_or_default();
        // NUL cannot appear unescaped in the JSON of the variables, nor in
        // an operation name, so the parts cannot run into each other.
        let digest = Sha256::new()
            .chain_update(operation)
            .chain_update([0])
            .chain_update(variables)
            .chain_update([0])
            .chain_update(&request.query)
            .finalize();
        Self(digest.into())
    }
}

/// A live event as [`Event`] resolves it, rendered (as JSON text) by the
/// first subscription of a [`Selection`] and role and shared with the
/// others. With 100 dashboards open on the same query, resolving and writing
/// each event for each of them was most of the gateway's work.
pub struct LiveEvent(Event);

impl OutputType for LiveEvent {
    fn type_name() -> Cow<'static, str> {
        Event::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        Event::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &ContextSelectionSet<'_>,
        field: &Positioned<Field>,
    ) -> ServerResult<Value> {
        let (Some(Selection(selection)), Some(caller)) =
            (ctx.data_opt::<Selection>(), ctx.data_opt::<Caller>())
        else {
            return OutputType::resolve(&self.0, ctx, field).await;
        };
        let renderings = self.0.renderings();
        if let Some(text) = renderings.get(caller.role, selection) {
            return Ok(Value::Binary(text));
        }
        // Boxed: every idle subscription's stream would otherwise keep
        // room for this future all along.
        let value = Box::pin(OutputType::resolve(&self.0, ctx, field)).await?;
        // A field error (a store read that failed) belongs to this
        // subscription's response alone: that rendering is not shared.
        // `query_env.errors` is where async-graphql collects them for the
        // response (public, if hidden from its docs; async-graphql is pinned).
        let clean = ctx.query_env.errors.lock().is_ok_and(|e| e.is_empty());
        if !clean {
            return Ok(value);
        }
        let mut text = Vec::new();
        response::write_value(&mut text, &value);
        let text = Bytes::from(text);
        renderings.keep(caller.role, selection, text.clone());
        // `Binary` holds JSON text; the response writer writes it as is.
        Ok(Value::Binary(text))
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
