//! Relay-style connections with keyset cursors, shared by every list.
use async_graphql::{OutputType, SimpleObject};

use super::{
    error::{GqlError, GqlResult},
    types::{Account, AuditEntry, CompanyRecord, Event, RejectedDelivery},
};
use crate::ids::{self, CursorKind};

pub const DEFAULT_FIRST: i32 = 20;
pub const MAX_FIRST: i32 = 100;

#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

#[derive(SimpleObject)]
#[graphql(concrete(name = "EventEdge", params(Event)))]
#[graphql(concrete(name = "AccountEdge", params(Account)))]
#[graphql(concrete(name = "RejectedDeliveryEdge", params(RejectedDelivery)))]
#[graphql(concrete(name = "AuditEntryEdge", params(AuditEntry)))]
#[graphql(concrete(name = "CompanyRecordEdge", params(CompanyRecord)))]
pub struct Edge<T: OutputType> {
    pub cursor: String,
    pub node: T,
}

#[derive(SimpleObject)]
#[graphql(concrete(name = "EventConnection", params(Event)))]
#[graphql(concrete(name = "AccountConnection", params(Account)))]
#[graphql(concrete(name = "RejectedDeliveryConnection", params(RejectedDelivery)))]
#[graphql(concrete(name = "AuditEntryConnection", params(AuditEntry)))]
#[graphql(concrete(name = "CompanyRecordConnection", params(CompanyRecord)))]
pub struct Connection<T: OutputType>
where
    Edge<T>: OutputType,
{
    pub edges: Vec<Edge<T>>,
    pub page_info: PageInfo,
}

/// A node that knows its own cursor.
pub trait Cursored {
    fn cursor(&self) -> String;
}

impl<T: OutputType + Cursored> Connection<T>
where
    Edge<T>: OutputType,
{
    /// Builds a page from up to `first + 1` rows fetched in list order; the
    /// extra row only tells that another page follows.
    pub fn from_rows<M>(rows: Vec<M>, page: Page, node: impl Fn(M) -> T) -> Self {
        let has_next_page = rows.len() > page.first;
        let edges: Vec<Edge<T>> = rows
            .into_iter()
            .take(page.first)
            .map(|row| {
                let node = node(row);
                Edge {
                    cursor: node.cursor(),
                    node,
                }
            })
            .collect();
        let end_cursor = edges.last().map(|edge| edge.cursor.clone());
        Self {
            edges,
            page_info: PageInfo {
                has_next_page,
                end_cursor,
            },
        }
    }
}

/// A validated `first`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Page {
    pub first: usize,
}

impl Page {
    pub fn new(first: Option<i32>) -> GqlResult<Self> {
        let first = first.unwrap_or(DEFAULT_FIRST);
        if !(0..=MAX_FIRST).contains(&first) {
            return Err(GqlError::bad_input(format!(
                "first must be between 0 and {MAX_FIRST}, not {first}"
            )));
        }
        Ok(Self {
            first: usize::try_from(first).expect("checked non-negative"),
        })
    }

    /// Rows to fetch: one more than the page, to learn whether more follow.
    pub fn limit(self) -> u64 {
        self.first as u64 + 1
    }
}

/// The key inside an `after` cursor of `kind`.
pub fn after_key(kind: CursorKind, after: Option<&str>) -> GqlResult<Option<String>> {
    after
        .map(|cursor| ids::parse_cursor(kind, cursor).ok_or_else(|| bad_cursor(cursor)))
        .transpose()
}

/// The row id inside an `after` cursor of a list ordered by id.
pub fn after_id(kind: CursorKind, after: Option<&str>) -> GqlResult<Option<i64>> {
    after
        .map(|cursor| ids::parse_id_cursor(kind, cursor).ok_or_else(|| bad_cursor(cursor)))
        .transpose()
}

fn bad_cursor(cursor: &str) -> GqlError {
    GqlError::bad_input(format!("{cursor:?} is not a cursor of this list"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_defaults_to_20_and_stays_within_0_to_100() {
        assert_eq!(Page::new(None).unwrap().first, 20);
        assert_eq!(Page::new(Some(0)).unwrap().first, 0);
        assert_eq!(Page::new(Some(100)).unwrap().limit(), 101);
        assert!(Page::new(Some(101)).is_err());
        assert!(Page::new(Some(-1)).is_err());
    }
}
