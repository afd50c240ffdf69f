//! Models read from a row by column position, for a statement that selects
//! them in `Column::iter()` order. sea-orm reads a joined row by name: a
//! `format!` of each prefixed column name and a lookup of it, per column and
//! row, a large part of the gateway's CPU for a page of events with their
//! accounts (bench/RESULTS.md, fourth session).
use entity::{accounts, events};
use sea_orm::{DbErr, QueryResult};

/// A model whose columns start at some position of a row.
pub trait FromColumns: Sized {
    /// How many columns it takes.
    const COLUMNS: usize;

    fn from_columns(row: &QueryResult, first: usize) -> Result<Self, DbErr>;
}

impl FromColumns for events::Model {
    const COLUMNS: usize = 12;

    fn from_columns(row: &QueryResult, first: usize) -> Result<Self, DbErr> {
        let at = |i: usize| first + i;
        Ok(Self {
            id: row.try_get_by_index(at(0))?,
            source: row.try_get_by_index(at(1))?,
            event_type: row.try_get_by_index(at(2))?,
            account_id: row.try_get_by_index(at(3))?,
            dedup_key: row.try_get_by_index(at(4))?,
            occurred_at: row.try_get_by_index(at(5))?,
            received_at: row.try_get_by_index(at(6))?,
            payload: row.try_get_by_index(at(7))?,
            content_type: row.try_get_by_index(at(8))?,
            deliveries: row.try_get_by_index(at(9))?,
            follow_up: row.try_get_by_index(at(10))?,
            purged_at: row.try_get_by_index(at(11))?,
        })
    }
}

impl FromColumns for accounts::Model {
    const COLUMNS: usize = 14;

    fn from_columns(row: &QueryResult, first: usize) -> Result<Self, DbErr> {
        let at = |i: usize| first + i;
        Ok(Self {
            id: row.try_get_by_index(at(0))?,
            customer_id: row.try_get_by_index(at(1))?,
            status: row.try_get_by_index(at(2))?,
            status_subtype: row.try_get_by_index(at(3))?,
            credit_limit_cents: row.try_get_by_index(at(4))?,
            available_credit_cents: row.try_get_by_index(at(5))?,
            total_balance_cents: row.try_get_by_index(at(6))?,
            min_pay_due_cents: row.try_get_by_index(at(7))?,
            min_pay_due_at: row.try_get_by_index(at(8))?,
            days_past_due: row.try_get_by_index(at(9))?,
            delinquent_as_of: row.try_get_by_index(at(10))?,
            snapshot: row.try_get_by_index(at(11))?,
            snapshot_changed_at: row.try_get_by_index(at(12))?,
            updated_at: row.try_get_by_index(at(13))?,
        })
    }
}

/// The account a LEFT JOIN read along, its columns from `first`; `None`
/// where none joined (its id, the first of them, is NULL).
pub fn joined_account(row: &QueryResult, first: usize) -> Result<Option<accounts::Model>, DbErr> {
    match row.try_get_by_index::<Option<String>>(first)? {
        None => Ok(None),
        Some(_) => accounts::Model::from_columns(row, first).map(Some),
    }
}

#[cfg(test)]
mod tests {
    use sea_orm::Iterable;

    use super::*;

    // That each column is read from its own position is checked against
    // sea-orm's reading by name in tests/tests/api/store_rows.rs.
    #[test]
    fn column_counts_are_the_entities() {
        assert_eq!(events::Model::COLUMNS, events::Column::iter().count());
        assert_eq!(accounts::Model::COLUMNS, accounts::Column::iter().count());
    }
}
