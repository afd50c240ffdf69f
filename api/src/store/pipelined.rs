//! A PostgreSQL transaction in two round trips, however many statements it
//! has: `BEGIN` and its reads go in one message, and the writes decided from
//! what they read, with `COMMIT`, in a second. Sent one statement at a time
//! (as SeaORM does), the ingest transaction was seven round trips on the
//! writer's one connection, and at one or eight connections their latency,
//! not CPU, bounded ingest (bench/RESULTS.md).
//!
//! Several statements in one message is PostgreSQL's simple query protocol,
//! which has no parameters: the values are written into the SQL text as
//! literals ([`inline`]). Each statement still runs with
//! a snapshot of its own, after the one before it has finished, so a read
//! after `pg_advisory_xact_lock` sees every transaction that held the lock.
use std::{iter, mem, sync::Arc, time::Instant};

use futures::TryStreamExt;
use sea_orm::{
    DbErr, QueryResult, RuntimeErr, Statement, Value,
    sea_query::{PostgresQueryBuilder, QueryBuilder},
    sqlx::{self, AssertSqlSafe, Either, PgPool, Postgres, pool::PoolConnection},
};

/// The writer's connection between its transactions, kept while they follow
/// one another closely: taking it from the pool and giving it back costs
/// a round trip each (sqlx pings a connection as it comes back, and, once
/// idle for [`super::PING_WHEN_IDLE_FOR`], as it goes out).
#[derive(Default)]
pub struct Kept(Option<(PoolConnection<Postgres>, Instant)>);

/// Runs `reads` in a transaction, then the statements `decide` returns from
/// their rows (one `Vec` per read, in order), and commits; returns what
/// `decide` returned with them. On any failure, or if the future is dropped
/// midway, nothing is committed and the connection never goes back to the
/// pool inside the transaction. The connection is `kept`'s if it was used
/// recently (else one from `pool`), and is kept for the next transaction
/// once this one has committed; after a failure it goes back to the pool,
/// which drops it if it no longer answers.
pub async fn transaction<T>(
    pool: &PgPool,
    kept: &mut Kept,
    reads: &[Statement],
    decide: impl FnOnce(Vec<Vec<QueryResult>>) -> Result<(T, Vec<Statement>), DbErr>,
) -> Result<T, DbErr> {
    let mut conn = match kept.0.take() {
        Some((conn, used)) if used.elapsed() < super::PING_WHEN_IDLE_FOR => conn,
        _ => pool.acquire().await.map_err(acquire_error)?,
    };
    let mut open = Open {
        conn: &mut conn,
        in_transaction: true,
    };
    let result = run(open.conn, reads, decide).await;
    if result.is_err()
        && sqlx::raw_sql("ROLLBACK")
            .execute(&mut **open.conn)
            .await
            .is_err()
    {
        return result;
    }
    open.in_transaction = false;
    drop(open);
    if result.is_ok() {
        kept.0 = Some((conn, Instant::now()));
    }
    result
}

async fn run<T>(
    conn: &mut PoolConnection<Postgres>,
    reads: &[Statement],
    decide: impl FnOnce(Vec<Vec<QueryResult>>) -> Result<(T, Vec<Statement>), DbErr>,
) -> Result<T, DbErr> {
    let begin = script(iter::once("BEGIN".to_owned()).chain(reads.iter().map(inline)));
    let mut results = Vec::with_capacity(reads.len() + 1);
    let mut rows = Vec::new();
    let mut replies = sqlx::raw_sql(AssertSqlSafe(begin)).fetch_many(&mut **conn);
    while let Some(reply) = replies.try_next().await.map_err(query_error)? {
        match reply {
            // The end of one statement's rows.
            Either::Left(_) => results.push(mem::take(&mut rows)),
            Either::Right(row) => rows.push(QueryResult::from(row)),
        }
    }
    drop(replies);
    if results.len() != reads.len() + 1 {
        return Err(DbErr::Custom(format!(
            "{} of {} statements answered",
            results.len(),
            reads.len() + 1
        )));
    }
    results.remove(0); // BEGIN's
    let (value, writes) = decide(results)?;
    let commit = script(
        writes
            .iter()
            .map(inline)
            .chain(iter::once("COMMIT".to_owned())),
    );
    sqlx::raw_sql(AssertSqlSafe(commit))
        .execute(&mut **conn)
        .await
        .map_err(exec_error)?;
    Ok(value)
}

/// `statement`'s SQL with its values written in as literals. Text without
/// a `$` (or a NUL, which PostgreSQL refuses either way) is dollar-quoted, so it goes as it is, nothing escaped (a 12 KiB
/// payload costs a copy, and PostgreSQL's scanner takes it in one piece);
/// with no `$` inside, the only `$g$` after the opening one is the closing
/// one. Other text, and other values, as sea-query's PostgreSQL escaping
/// writes them. The SQL is sea-query's, in which every value is a
/// parameter: `$N` outside quotes is the N-th.
fn inline(statement: &Statement) -> String {
    let values = statement
        .values
        .as_ref()
        .map_or(&[][..], |v| v.0.as_slice());
    let mut out =
        String::with_capacity(statement.sql.len() + values.iter().map(text_len).sum::<usize>());
    let mut rest = statement.sql.as_str();
    while let Some(at) = rest.find(['$', '"', '\'']) {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let mark = rest.as_bytes()[0];
        let end = if mark == b'$' {
            let digits = rest[1..].bytes().take_while(u8::is_ascii_digit).count();
            let value = rest[1..=digits]
                .parse::<usize>()
                .ok()
                .and_then(|n| values.get(n.checked_sub(1)?));
            match value {
                Some(value) => {
                    write_literal(&mut out, value);
                    rest = &rest[1 + digits..];
                    continue;
                }
                None => 1,
            }
        } else {
            // A quoted identifier (or literal), copied whole.
            rest[1..]
                .find(char::from(mark))
                .map_or(rest.len(), |i| i + 2)
        };
        out.push_str(&rest[..end]);
        rest = &rest[end..];
    }
    out.push_str(rest);
    out
}

fn text_len(value: &Value) -> usize {
    match value {
        Value::String(Some(text)) => text.len() + 6,
        _ => 0,
    }
}

fn write_literal(out: &mut String, value: &Value) {
    match value {
        Value::String(Some(text)) if !text.contains(['$', '\0']) => {
            out.push_str("$g$");
            out.push_str(text);
            out.push_str("$g$");
        }
        value => out.push_str(&PostgresQueryBuilder.value_to_string(value)),
    }
}

/// Statements as one message.
fn script(statements: impl Iterator<Item = String>) -> String {
    statements.collect::<Vec<_>>().join(";\n")
}

/// A connection that may be inside a transaction: closed instead of pooled
/// if it is dropped so (the server then rolls back and releases the locks).
struct Open<'a> {
    conn: &'a mut PoolConnection<Postgres>,
    in_transaction: bool,
}

impl Drop for Open<'_> {
    fn drop(&mut self) {
        if self.in_transaction {
            self.conn.close_on_drop();
        }
    }
}

/// As SeaORM reports a connection it could not get.
fn acquire_error(error: sqlx::Error) -> DbErr {
    match error {
        sqlx::Error::PoolTimedOut => {
            DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::Timeout)
        }
        sqlx::Error::PoolClosed => {
            DbErr::ConnectionAcquire(sea_orm::error::ConnAcquireErr::ConnectionClosed)
        }
        error => DbErr::Conn(RuntimeErr::SqlxError(Arc::new(error))),
    }
}

fn query_error(error: sqlx::Error) -> DbErr {
    DbErr::Query(RuntimeErr::SqlxError(Arc::new(error)))
}

fn exec_error(error: sqlx::Error) -> DbErr {
    DbErr::Exec(RuntimeErr::SqlxError(Arc::new(error)))
}

#[cfg(test)]
mod tests {
    use sea_orm::DbBackend;

    use super::*;

    #[test]
    fn values_are_written_in_as_literals_quotes_left_alone() {
        let statement = Statement::from_sql_and_values(
            DbBackend::Postgres,
            r#"INSERT INTO "t$1" ("a", "b", "c", "d") VALUES ($1, $2, $3, $4), ($10)"#,
            [
                "it's \\ \"x\"\n".into(),
                "costs $5".into(),
                7i64.into(),
                Option::<String>::None.into(),
            ],
        );
        assert_eq!(
            inline(&statement),
            r#"INSERT INTO "t$1" ("a", "b", "c", "d") VALUES ($g$it's \ "x""#.to_owned()
                + "\n$g$, 'costs $5', 7, NULL), ($10)"
        );
    }
}
