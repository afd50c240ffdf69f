//! Models read from a row by column position, for a statement that selects
//! them in `Column::iter()` order. sea-orm reads a joined row by name: a
//! `format!` of each prefixed column name and a lookup of it, per column and
//! row, a large part of the gateway's CPU for a page of events with their
//! accounts (bench/RESULTS.md, fourth session). On PostgreSQL the values
//! are decoded by sqlx without its check of each value's type against the
//! Rust type (a comparison with each compatible type, per value) or
//! sea-orm's wrapping (a `format!` of the index for each timestamp): the
//! statements are the gateway's own, on its own tables, and
//! `tests/tests/api/store_rows.rs` reads each model both ways on both
//! stores (fifth session).
use entity::{accounts, events};
use sea_orm::{
    DbErr, QueryResult, TryGetable,
    sqlx::{Decode, Postgres, Row, Type, postgres::PgRow},
};

/// A model whose columns start at some position of a row.
pub trait FromColumns: Sized {
    /// How many columns it takes.
    const COLUMNS: usize;

    fn from_columns(row: &QueryResult, first: usize) -> Result<Self, DbErr>;
}

/// A row's columns from `first` on.
struct Columns<'a> {
    row: &'a QueryResult,
    pg: Option<&'a PgRow>,
    first: usize,
}

impl<'a> Columns<'a> {
    fn new(row: &'a QueryResult, first: usize) -> Self {
        Self {
            row,
            pg: row.try_as_pg_row(),
            first,
        }
    }

    /// The value of the `i`th column from `first`.
    fn at<T>(&self, i: usize) -> Result<T, DbErr>
    where
        T: TryGetable + for<'r> Decode<'r, Postgres> + Type<Postgres>,
    {
        let index = self.first + i;
        match self.pg {
            Some(row) => row
                .try_get_unchecked(index)
                .map_err(|e| DbErr::Type(format!("column {index}: {e}"))),
            None => self.row.try_get_by_index(index),
        }
    }
}

impl FromColumns for events::Model {
    const COLUMNS: usize = 12;

    fn from_columns(row: &QueryResult, first: usize) -> Result<Self, DbErr> {
        let row = Columns::new(row, first);
        Ok(Self {
            id: row.at(0)?,
            source: row.at(1)?,
            event_type: row.at(2)?,
            account_id: row.at(3)?,
            dedup_key: row.at(4)?,
            occurred_at: row.at(5)?,
            received_at: row.at(6)?,
            payload: row.at(7)?,
            content_type: row.at(8)?,
            deliveries: row.at(9)?,
            follow_up: row.at(10)?,
            purged_at: row.at(11)?,
        })
    }
}

impl FromColumns for accounts::Model {
    const COLUMNS: usize = 14;

    fn from_columns(row: &QueryResult, first: usize) -> Result<Self, DbErr> {
        let row = Columns::new(row, first);
        accounts_model(&row, row.at(0)?)
    }
}

/// An account from its columns, its id read already.
fn accounts_model(row: &Columns, id: String) -> Result<accounts::Model, DbErr> {
    Ok(accounts::Model {
        id,
        customer_id: row.at(1)?,
        status: row.at(2)?,
        status_subtype: row.at(3)?,
        credit_limit_cents: row.at(4)?,
        available_credit_cents: row.at(5)?,
        total_balance_cents: row.at(6)?,
        min_pay_due_cents: row.at(7)?,
        min_pay_due_at: row.at(8)?,
        days_past_due: row.at(9)?,
        delinquent_as_of: row.at(10)?,
        snapshot: row.at(11)?,
        snapshot_changed_at: row.at(12)?,
        updated_at: row.at(13)?,
    })
}

/// The account a LEFT JOIN read along, its columns from `first`; `None`
/// where none joined (its id, the first of them, is NULL).
pub fn joined_account(row: &QueryResult, first: usize) -> Result<Option<accounts::Model>, DbErr> {
    let row = Columns::new(row, first);
    row.at::<Option<String>>(0)?
        .map(|id| accounts_model(&row, id))
        .transpose()
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
