//! Every answer of an ingest endpoint, counted by source and status and
//! timed from request to answer. Layered outermost, so what is answered
//! before a handler runs (load shedding's 503, a wrong method's 405) counts
//! too.
use std::{sync::Arc, time::Instant};

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};

use crate::{event::SourceKind, ingest::Source, series};

/// Which source each ingest path belongs to.
#[derive(Clone)]
pub struct IngestPaths(Arc<[(&'static str, SourceKind)]>);

impl IngestPaths {
    pub fn of(sources: &[Arc<dyn Source>]) -> Self {
        Self(sources.iter().map(|s| (s.path(), s.kind())).collect())
    }

    fn source(&self, path: &str) -> Option<SourceKind> {
        self.0
            .iter()
            .find_map(|&(mounted, kind)| (mounted == path).then_some(kind))
    }
}

pub async fn measure(State(paths): State<IngestPaths>, request: Request, next: Next) -> Response {
    let Some(source) = paths.source(request.uri().path()) else {
        return next.run(request).await;
    };
    let started = Instant::now();
    let response = next.run(request).await;
    let source = source.as_str();
    metrics::histogram!(series::INGEST_DURATION, "source" => source)
        .record(started.elapsed().as_secs_f64());
    let status = response.status().as_u16().to_string();
    metrics::counter!(series::DELIVERIES, "source" => source, "status" => status).increment(1);
    response
}
