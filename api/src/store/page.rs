//! Keyset pages: lists resume after a row key, never at an offset, so a page
//! costs the same however deep it is and rows committed meanwhile neither
//! repeat nor go missing.
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Select,
};

/// One page of a list ordered by a numeric id, newest (highest) first.
/// `limit` is the page size plus one, so the caller learns whether more follow.
pub async fn newest_first<E>(
    db: &impl ConnectionTrait,
    id: E::Column,
    filter: Condition,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<E::Model>, DbErr>
where
    E: EntityTrait,
{
    newest_first_select::<E>(id, filter, before, limit)
        .all(db)
        .await
}

/// The statement of [`newest_first`], for callers that read more along
/// (a join).
pub fn newest_first_select<E>(
    id: E::Column,
    filter: Condition,
    before: Option<i64>,
    limit: u64,
) -> Select<E>
where
    E: EntityTrait,
{
    let mut filter = filter;
    if let Some(before) = before {
        filter = filter.add(id.lt(before));
    }
    E::find().filter(filter).order_by_desc(id).limit(limit)
}
