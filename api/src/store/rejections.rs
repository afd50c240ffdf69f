use entity::rejected_deliveries;
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait, NotSet};
use sha2::{Digest, Sha256};

use crate::event::SourceKind;

/// A refused delivery, as recorded: never the body, only its size and hash.
pub struct Rejection<'a> {
    pub source: SourceKind,
    pub reason: &'static str,
    pub status: u16,
    pub remote_addr: Option<String>,
    pub body: RejectedBody<'a>,
}

pub enum RejectedBody<'a> {
    Read(&'a [u8]),
    /// Too large to read: its declared length, if any; no hash is computed.
    NotRead {
        declared_bytes: Option<u64>,
    },
}

pub async fn record(db: &impl ConnectionTrait, r: Rejection<'_>) -> Result<(), DbErr> {
    let (body_bytes, body_sha256) = match r.body {
        RejectedBody::Read(body) => (body.len() as u64, hex::encode(Sha256::digest(body))),
        RejectedBody::NotRead { declared_bytes } => (declared_bytes.unwrap_or(0), String::new()),
    };
    let row = rejected_deliveries::ActiveModel {
        id: NotSet,
        source: Set(r.source.as_str().to_owned()),
        reason: Set(r.reason.to_owned()),
        status: Set(i32::from(r.status)),
        remote_addr: Set(r.remote_addr),
        body_bytes: Set(i64::try_from(body_bytes).unwrap_or(i64::MAX)),
        body_sha256: Set(body_sha256),
        received_at: Set(crate::clock::now()),
    };
    rejected_deliveries::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

pub async fn newest_first(
    db: &impl ConnectionTrait,
    before: Option<i64>,
    limit: u64,
) -> Result<Vec<rejected_deliveries::Model>, DbErr> {
    use rejected_deliveries::{Column, Entity};
    super::page::newest_first::<Entity>(db, Column::Id, sea_orm::Condition::all(), before, limit)
        .await
}
