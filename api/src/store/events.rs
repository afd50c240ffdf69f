use chrono::{DateTime, Utc};
use entity::events;
use sea_orm::{
    ActiveValue::Set,
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect,
    sea_query::{Expr, ExprTrait},
};

use crate::ingest::NewEvent;

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

pub async fn find_by_dedup_key(
    db: &impl ConnectionTrait,
    source: &str,
    dedup_key: &str,
) -> Result<Option<i64>, DbErr> {
    events::Entity::find()
        .select_only()
        .column(events::Column::Id)
        .filter(events::Column::Source.eq(source))
        .filter(events::Column::DedupKey.eq(dedup_key))
        .into_tuple()
        .one(db)
        .await
}

pub async fn count_delivery(db: &impl ConnectionTrait, id: i64) -> Result<(), DbErr> {
    events::Entity::update_many()
        .col_expr(
            events::Column::Deliveries,
            Expr::col(events::Column::Deliveries).add(1),
        )
        .filter(events::Column::Id.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn insert(
    db: &impl ConnectionTrait,
    id: i64,
    event: &NewEvent,
    received_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = events::ActiveModel {
        id: Set(id),
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
    };
    events::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn find(db: &impl ConnectionTrait, id: i64) -> Result<Option<events::Model>, DbErr> {
    events::Entity::find_by_id(id).one(db).await
}
