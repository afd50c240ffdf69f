//! The follow-up queue: jobs are inserted with their event (by the
//! writer), claimed by the workers of every node with a lease, and finished
//! (through the writer), rescheduled or given up by their claim's holder.
//!
//! A claim is a lease: it sets `due_at` to the lease's end, so the job of a
//! node that died is claimed again once the lease runs out. Each claim adds
//! one to `attempts`, which is the claim's token: only the holder of the
//! latest claim can finish or reschedule the job.
use std::time::Duration;

use chrono::{DateTime, Utc};
use entity::follow_ups::{ActiveModel, Column, Entity, Model};
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbBackend, DbErr, EntityTrait, FromQueryResult, NotSet,
    PaginatorTrait, QueryFilter, QuerySelect, QueryTrait, Statement,
    sea_query::{Expr, ExprTrait, LockBehavior, LockType, Order, Query},
};

use super::companies::CompanyChange;
use crate::event::{AccountChange, FollowUp};

pub const PENDING: &str = "pending";
pub const DONE: &str = "done";
pub const FAILED: &str = "failed";

/// A job claimed by this node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claimed {
    pub id: i64,
    pub event_id: i64,
    pub follow_up: FollowUp,
    /// The claim's token (the attempt's number, from 1).
    pub claim: i32,
    pub created_at: DateTime<Utc>,
}

/// A claimed job's result: stored (through the writer) only if its claim
/// still holds.
#[derive(Clone, Debug, PartialEq)]
pub struct Finished {
    pub id: i64,
    pub claim: i32,
    pub event_id: i64,
    /// The event's `followUp` (JSON text).
    pub follow_up: String,
    /// What it read of a Canopy account, for the projection.
    pub account: Option<AccountChange>,
    /// What it read of an Embedded Funding company, for the company view.
    pub company: Option<CompanyChange>,
}

/// Inserts one pending job per `(event_id, follow_up)`, due at once, in one
/// statement.
pub fn insert_many(
    backend: DbBackend,
    rows: &[(i64, &FollowUp)],
    now: DateTime<Utc>,
) -> Option<Statement> {
    if rows.is_empty() {
        return None;
    }
    let models = rows.iter().map(|(event_id, follow_up)| ActiveModel {
        id: NotSet,
        event_id: Set(*event_id),
        kind: Set(follow_up.kind().to_owned()),
        input: Set(serde_json::to_string(follow_up).expect("plain data serializes")),
        state: Set(PENDING.to_owned()),
        attempts: Set(0),
        due_at: Set(now),
        last_error: Set(None),
        created_at: Set(now),
        updated_at: Set(now),
    });
    Some(Entity::insert_many(models).build(backend))
}

/// Claims up to `limit` due jobs of `kinds`, soonest due first, each for
/// `lease`. On PostgreSQL the rows are chosen `FOR UPDATE SKIP LOCKED`, so
/// nodes claiming at once never take the same job; SQLite runs the
/// statement under its single write lock.
pub async fn claim(
    db: &impl ConnectionTrait,
    kinds: &[&str],
    limit: u64,
    now: DateTime<Utc>,
    lease: Duration,
) -> Result<Vec<Claimed>, DbErr> {
    if kinds.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let due = || Column::State.eq(PENDING).and(Column::DueAt.lte(now));
    // A read first: with nothing due (the usual case) nothing is written,
    // and on SQLite a write would contend for the ingest writer's lock.
    let any_due = Entity::find()
        .select_only()
        .column(Column::Id)
        .filter(due())
        .filter(Column::Kind.is_in(kinds.iter().copied()))
        .into_tuple::<i64>()
        .one(db)
        .await?;
    if any_due.is_none() {
        return Ok(Vec::new());
    }
    let mut chosen = Query::select();
    chosen
        .column(Column::Id)
        .from(Entity)
        .and_where(due())
        .and_where(Column::Kind.is_in(kinds.iter().copied()))
        .order_by(Column::DueAt, Order::Asc)
        .order_by(Column::Id, Order::Asc)
        .limit(limit)
        .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked);
    let mut update = Query::update();
    update
        .table(Entity)
        .value(Column::Attempts, Expr::col(Column::Attempts).add(1))
        .value(Column::DueAt, lease_end(now, lease))
        .value(Column::UpdatedAt, now)
        .and_where(Column::Id.in_subquery(chosen))
        // Checked again on the row itself, as PostgreSQL re-reads it.
        .and_where(due())
        .returning_all();
    let statement = db.get_database_backend().build(&update);
    let rows = Model::find_by_statement(statement).all(db).await?;
    let mut claimed = Vec::with_capacity(rows.len());
    for row in rows {
        match serde_json::from_str(&row.input) {
            Ok(follow_up) => claimed.push(Claimed {
                id: row.id,
                event_id: row.event_id,
                follow_up,
                claim: row.attempts,
                created_at: row.created_at,
            }),
            // Written by a newer gateway, or damaged: failing it loudly is
            // better than claiming it again every lease.
            Err(error) => {
                let error = format!("its input is unreadable: {error}");
                tracing::error!(job = row.id, %error, "follow-up given up");
                give_up(db, row.id, row.attempts, &error, now).await?;
            }
        }
    }
    Ok(claimed)
}

fn lease_end(now: DateTime<Utc>, lease: Duration) -> DateTime<Utc> {
    now + chrono::Duration::from_std(lease).expect("a lease of seconds")
}

/// Updates the job only while `claim` is still its latest claim and it is
/// pending; whether it did.
async fn update_claimed(
    db: &impl ConnectionTrait,
    id: i64,
    claim: i32,
    changes: ActiveModel,
) -> Result<bool, DbErr> {
    let updated = Entity::update_many()
        .set(changes)
        .filter(Column::Id.eq(id))
        .filter(Column::Attempts.eq(claim))
        .filter(Column::State.eq(PENDING))
        .exec(db)
        .await?;
    Ok(updated.rows_affected == 1)
}

/// The attempt failed: tried again at `due_at`.
pub async fn retry_at(
    db: &impl ConnectionTrait,
    id: i64,
    claim: i32,
    due_at: DateTime<Utc>,
    error: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let changes = ActiveModel {
        due_at: Set(due_at),
        last_error: Set(Some(error.to_owned())),
        updated_at: Set(now),
        ..Default::default()
    };
    update_claimed(db, id, claim, changes).await
}

/// The job is not tried again.
pub async fn give_up(
    db: &impl ConnectionTrait,
    id: i64,
    claim: i32,
    error: &str,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let changes = ActiveModel {
        state: Set(FAILED.to_owned()),
        last_error: Set(Some(error.to_owned())),
        updated_at: Set(now),
        ..Default::default()
    };
    update_claimed(db, id, claim, changes).await
}

/// Marks the job done, inside the transaction that stores its result;
/// false (and nothing should be stored) when the claim was lost meanwhile.
pub async fn finish(
    db: &impl ConnectionTrait,
    id: i64,
    claim: i32,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let changes = ActiveModel {
        state: Set(DONE.to_owned()),
        last_error: Set(None),
        updated_at: Set(now),
        ..Default::default()
    };
    update_claimed(db, id, claim, changes).await
}

/// Jobs not yet done nor given up.
pub async fn pending(db: &impl ConnectionTrait) -> Result<u64, DbErr> {
    Entity::find()
        .filter(Column::State.eq(PENDING))
        .count(db)
        .await
}

/// The jobs of these events (at most one each).
pub async fn for_events(db: &impl ConnectionTrait, event_ids: &[i64]) -> Result<Vec<Model>, DbErr> {
    Entity::find()
        .filter(Column::EventId.is_in(event_ids.iter().copied()))
        .all(db)
        .await
}
