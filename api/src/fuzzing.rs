//! What the fuzz targets (`fuzz/`) need beyond the public API: the parts of
//! a request's path that are private to their module. Not for other callers.
pub use crate::{
    graphql::connection::{after_id, after_key},
    ingest::canopy::payload::Envelope as CanopyEnvelope,
};
