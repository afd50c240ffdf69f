use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, SubsecRound, Utc};
use entity::{accounts, events};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult,
    Iterable, JoinType, QueryFilter, QueryOrder, QueryResult, QuerySelect, QueryTrait, Statement,
    sea_query::{Alias, Asterisk, CaseStatement, Expr, ExprTrait, Order, Query, UnionType},
};

use super::{
    page,
    rows::{self, FromColumns},
};
use crate::event::NewEvent;

/// The highest event id committed so far (0 when empty).
pub async fn max_id(db: &impl ConnectionTrait) -> Result<i64, DbErr> {
    let max: Option<Option<i64>> = events::Entity::find()
        .select_only()
        .column_as(events::Column::Id.max(), "max")
        .into_tuple()
        .one(db)
        .await?;
    Ok(max.flatten().unwrap_or(0))
}

/// What a batch needs to know before it writes, read in one statement: the
/// highest event id committed, and the ids of the stored events with these
/// `(source, dedup_key)` pairs. [`batch_started`] reads its rows.
pub fn batch_start(backend: DbBackend, keys: &[(&str, &str)]) -> Statement {
    use events::Column;
    let mut query = Query::select();
    query
        .expr_as(Expr::val(0), Alias::new("known"))
        .expr_as(Expr::col(Column::Id).max(), Alias::new("id"))
        .expr_as(Expr::val(Option::<String>::None), Alias::new("source"))
        .expr_as(Expr::val(Option::<String>::None), Alias::new("dedup_key"))
        .from(events::Entity);
    if !keys.is_empty() {
        // Two IN lists use the (source, dedup_key) index; an OR of pairs does not.
        let sources: HashSet<&str> = keys.iter().map(|(source, _)| *source).collect();
        let mut known = Query::select();
        known
            .expr(Expr::val(1))
            .columns([Column::Id, Column::Source, Column::DedupKey])
            .from(events::Entity)
            .and_where(Column::Source.is_in(sources))
            .and_where(Column::DedupKey.is_in(keys.iter().map(|(_, key)| *key)));
        query.union(UnionType::All, known);
    }
    backend.build(&query)
}

/// Stored event ids by `(source, dedup_key)`.
pub type KnownKeys = HashMap<(String, String), i64>;

/// The highest event id and the known `(source, dedup_key)` ids, from the
/// rows of [`batch_start`].
pub fn batch_started(rows: &[QueryResult]) -> Result<(i64, KnownKeys), DbErr> {
    let mut max_id = 0;
    let mut known = HashMap::new();
    for row in rows {
        let id: Option<i64> = row.try_get("", "id")?;
        if row.try_get::<i32>("", "known")? == 0 {
            max_id = id.unwrap_or(0);
        } else if let (Some(id), Some(source), Some(key)) = (
            id,
            row.try_get::<Option<String>>("", "source")?,
            row.try_get::<Option<String>>("", "dedup_key")?,
        ) {
            known.insert((source, key), id);
        }
    }
    Ok((max_id, known))
}

/// Adds `more` deliveries to each event id, in one statement.
pub fn count_deliveries(backend: DbBackend, more: &HashMap<i64, i32>) -> Option<Statement> {
    use events::Column;
    if more.is_empty() {
        return None;
    }
    let mut added = CaseStatement::new();
    for (id, n) in more {
        added = added.case(Column::Id.eq(*id), *n);
    }
    let update = events::Entity::update_many()
        .col_expr(Column::Deliveries, Expr::col(Column::Deliveries).add(added))
        .filter(Column::Id.is_in(more.keys().copied()));
    Some(update.build(backend))
}

/// Inserts `(id, event)` rows in one statement.
pub fn insert_many(
    backend: DbBackend,
    rows: &[(i64, &NewEvent)],
    received_at: DateTime<Utc>,
) -> Option<Statement> {
    if rows.is_empty() {
        return None;
    }
    let models = rows.iter().map(|(id, event)| events::ActiveModel {
        id: Set(*id),
        source: Set(event.source.as_str().to_owned()),
        event_type: Set(event.event_type.clone()),
        account_id: Set(event.account_id.clone()),
        dedup_key: Set(event.dedup_key.clone()),
        occurred_at: Set(event.occurred_at),
        received_at: Set(received_at),
        payload: Set(event.payload.clone()),
        content_type: Set(event.content_type.clone()),
        deliveries: Set(1),
        follow_up: Set(None),
        purged_at: Set(None),
    });
    Some(events::Entity::insert_many(models).build(backend))
}

/// Attaches the provider state its follow-up read (JSON text).
pub async fn set_follow_up(
    db: &impl ConnectionTrait,
    id: i64,
    follow_up: String,
) -> Result<(), DbErr> {
    events::Entity::update_many()
        .col_expr(events::Column::FollowUp, Expr::value(follow_up))
        .filter(events::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<events::Model>, DbErr> {
    events::Entity::find_by_id(id).one(db).await
}

/// What an events list selects; every part becomes SQL.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct EventFilter {
    /// Stored source names; an empty list matches nothing.
    pub sources: Option<Vec<String>>,
    /// An empty list matches nothing.
    pub types: Option<Vec<String>>,
    pub account_id: Option<String>,
    /// Inclusive, on `received_at`.
    pub since: Option<DateTime<Utc>>,
    /// Exclusive, on `received_at`.
    pub until: Option<DateTime<Utc>>,
}

impl EventFilter {
    fn condition(&self) -> Condition {
        use events::Column;
        let mut condition = Condition::all();
        if let Some(sources) = &self.sources {
            condition = condition.add(Column::Source.is_in(sources.iter().cloned()));
        }
        if let Some(types) = &self.types {
            condition = condition.add(Column::EventType.is_in(types.iter().cloned()));
        }
        if let Some(account_id) = &self.account_id {
            condition = condition.add(Column::AccountId.eq(account_id.as_str()));
        }
        if let Some(since) = self.since {
            condition = condition.add(Column::ReceivedAt.gte(ceil_micros(since)));
        }
        if let Some(until) = self.until {
            condition = condition.add(Column::ReceivedAt.lt(ceil_micros(until)));
        }
        condition
    }
}

impl EventFilter {
    /// The same selection as [`condition`](Self::condition), for an event
    /// already in memory (the live feed).
    pub fn matches(&self, event: &events::Model) -> bool {
        self.sources
            .as_ref()
            .is_none_or(|s| s.contains(&event.source))
            && self
                .types
                .as_ref()
                .is_none_or(|t| t.contains(&event.event_type))
            && self
                .account_id
                .as_ref()
                .is_none_or(|a| event.account_id.as_ref() == Some(a))
            && self.since.is_none_or(|since| event.received_at >= since)
            && self.until.is_none_or(|until| event.received_at < until)
    }
}

/// Events after id `after` in id (commit) order, matching `filter` if given.
pub async fn oldest_first_after(
    db: &impl ConnectionTrait,
    filter: Option<&EventFilter>,
    after: i64,
    limit: u64,
) -> Result<Vec<events::Model>, DbErr> {
    let condition = filter.map_or_else(Condition::all, EventFilter::condition);
    events::Entity::find()
        .filter(condition.add(events::Column::Id.gt(after)))
        .order_by_asc(events::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// A page of events in id order, and whether it stopped at one of its
/// bounds (so more may follow).
pub struct EventPage {
    pub events: Vec<events::Model>,
    pub more: bool,
}

/// Like [`oldest_first_after`], but the page also stops before its events'
/// payloads and follow-ups would pass `max_bytes` (it always holds at least
/// one event): live readers hold whole pages, and payloads can be 2 MiB
/// each. Two statements: the sizes first (an index walk), then the rows
/// that fit. Ids are dense and committed in order, so both see the same rows.
pub async fn oldest_first_page(
    db: &impl ConnectionTrait,
    filter: Option<&EventFilter>,
    after: i64,
    max_rows: u64,
    max_bytes: u64,
) -> Result<EventPage, DbErr> {
    use events::Column;
    let condition = filter
        .map_or_else(Condition::all, EventFilter::condition)
        .add(Column::Id.gt(after));
    let sizes: Vec<(i64, i64)> = events::Entity::find()
        .select_only()
        .column(Column::Id)
        .column_as(
            Expr::cust(
                "CAST(octet_length(payload) + COALESCE(octet_length(follow_up), 0) AS BIGINT)",
            ),
            "size",
        )
        .filter(condition.clone())
        .order_by_asc(Column::Id)
        .limit(max_rows)
        .into_tuple()
        .all(db)
        .await?;
    let (mut fitting, mut total) = (0, 0);
    for (_, size) in &sizes {
        total += size;
        if fitting > 0 && total > max_bytes as i64 {
            break;
        }
        fitting += 1;
    }
    let more = fitting < sizes.len() || sizes.len() as u64 == max_rows;
    let Some(&(last, _)) = fitting.checked_sub(1).and_then(|i| sizes.get(i)) else {
        return Ok(EventPage {
            events: Vec::new(),
            more,
        });
    };
    let events = events::Entity::find()
        .filter(condition.add(Column::Id.lte(last)))
        .order_by_asc(Column::Id)
        .all(db)
        .await?;
    Ok(EventPage { events, more })
}

/// Stored times have microseconds. A finer bound rounded up to them selects
/// the same rows (`t >= b` iff `t >= ceil(b)` for such `t`, and likewise for
/// `<`) and compares exactly on both backends: PostgreSQL would otherwise
/// truncate it, and SQLite compares the text of both.
fn ceil_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    let truncated = t.trunc_subsecs(6);
    if truncated < t {
        truncated + Duration::microseconds(1)
    } else {
        truncated
    }
}

/// A page of events matching `filter`, newest first, below id `before`.
pub async fn newest_first(
    db: &impl ConnectionTrait,
    filter: &EventFilter,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<events::Model>, DbErr> {
    page::newest_first::<events::Entity>(db, events::Column::Id, filter.condition(), before, limit)
        .await
}

/// [`newest_first`] with each event's account (by `account_id`, whatever
/// the event's source), in the same statement: one round trip, and the
/// accounts as they stood when the page was read.
pub async fn newest_first_with_accounts(
    db: &impl ConnectionTrait,
    filter: &EventFilter,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<(events::Model, Option<accounts::Model>)>, DbErr> {
    let account = events::Entity::belongs_to(accounts::Entity)
        .from(events::Column::AccountId)
        .to(accounts::Column::Id);
    let page = page::newest_first_select::<events::Entity>(
        events::Column::Id,
        filter.condition(),
        before,
        limit,
    )
    .select_also(accounts::Entity)
    .join(JoinType::LeftJoin, account.into())
    .build(db.get_database_backend());
    let rows = db.query_all_raw(page).await?;
    rows.iter()
        .map(|row| {
            let event = events::Model::from_columns(row, 0)?;
            Ok((event, rows::joined_account(row, events::Model::COLUMNS)?))
        })
        .collect()
}

/// Accounts one statement pages at most: SQLite allows 500 `SELECT`s in a
/// compound statement.
const ACCOUNTS_PER_STATEMENT: usize = 250;

/// For each of `account_ids`, its first `limit` events matching `filter`
/// below id `before`, newest first, ordered by account. One `UNION ALL`
/// statement per [`ACCOUNTS_PER_STATEMENT`] accounts; each branch walks the
/// `(account_id, id)` index and stops at `limit`, however many events an
/// account has.
pub async fn newest_first_per_account(
    db: &impl ConnectionTrait,
    account_ids: &[String],
    filter: &EventFilter,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<events::Model>, DbErr> {
    use events::Column;
    let mut condition = filter.condition();
    if let Some(before) = before {
        condition = condition.add(Column::Id.lt(before));
    }
    let mut rows = Vec::new();
    for chunk in account_ids.chunks(ACCOUNTS_PER_STATEMENT) {
        // SQLite takes ORDER BY and LIMIT only on a compound statement as a
        // whole, so each account's page is a subquery.
        let mut pages = chunk.iter().enumerate().map(|(i, account_id)| {
            let mut page = Query::select();
            page.columns(Column::iter())
                .from(events::Entity)
                .cond_where(
                    condition
                        .clone()
                        .add(Column::AccountId.eq(account_id.as_str())),
                )
                .order_by(Column::Id, Order::Desc)
                .limit(limit);
            let mut branch = Query::select();
            branch
                .column(Asterisk)
                .from_subquery(page, Alias::new(format!("page{i}")));
            branch
        });
        let Some(mut query) = pages.next() else {
            continue;
        };
        for page in pages {
            query.union(UnionType::All, page);
        }
        let statement = db.get_database_backend().build(&query);
        rows.extend(events::Model::find_by_statement(statement).all(db).await?);
    }
    rows.sort_by(|a, b| a.account_id.cmp(&b.account_id).then(b.id.cmp(&a.id)));
    Ok(rows)
}
