//! The metric series the gateway records (names, labels and meanings in one
//! place; README's Operations section lists the same), and the process's
//! Prometheus recorder that `GET /metrics` renders.
//!
//! The `metrics` macros write to one recorder per process, so it is
//! installed once, by the first [`Exporter::installed`] call; every gateway
//! built in the same process (tests that run several in-process) shares it.
use std::{sync::OnceLock, time::Duration};

use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Counter `{source, status}`: every answer of an ingest endpoint, by the
/// HTTP status answered.
pub const DELIVERIES: &str = "gateway_deliveries_total";
/// Histogram `{source}`: request received to answer, in seconds.
pub const INGEST_DURATION: &str = "gateway_ingest_duration_seconds";
/// Counter `{source, reason}`: refused deliveries, by the error code.
pub const REFUSALS: &str = "gateway_refusals_total";
/// Counter: refusals answered but not recorded (the record queue was full).
pub const REFUSAL_RECORDS_DROPPED: &str = "gateway_refusal_records_dropped_total";
/// Counter `{source}`: deliveries that were duplicates of a stored event.
pub const DEDUP_HITS: &str = "gateway_dedup_hits_total";
/// Histogram: one batch of deliveries, BEGIN to COMMIT, in seconds.
pub const STORE_COMMIT_DURATION: &str = "gateway_store_commit_duration_seconds";
/// Histogram: deliveries committed in one transaction.
pub const STORE_BATCH_SIZE: &str = "gateway_store_batch_size";
/// Gauge: open GraphQL subscriptions on this node.
pub const SUBSCRIBERS: &str = "gateway_subscribers";
/// Histogram: an event's commit to the node's live feed reading it.
pub const PUBSUB_LAG: &str = "gateway_pubsub_lag_seconds";
/// Counter `{target, status}`: calls to outside APIs, each attempt.
pub const UPSTREAM_CALLS: &str = "gateway_upstream_calls_total";
/// Gauge: follow-up jobs not yet done or given up (whole store).
pub const FOLLOW_UPS_PENDING: &str = "gateway_follow_ups_pending";
/// Counter `{kind}`: follow-up jobs given up.
pub const FOLLOW_UPS_FAILED: &str = "gateway_follow_ups_failed_total";

/// Prometheus's own default buckets, from 5 ms, plus 30 s (the body timeout).
const SECONDS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Up to the writer's largest batch (256).
const BATCH_SIZES: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];
/// Histogram samples are folded into their buckets at least this often, so
/// memory stays bounded between scrapes (a scrape folds them too).
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Renders the process's metrics as Prometheus text.
#[derive(Clone)]
pub struct Exporter {
    handle: PrometheusHandle,
    /// The standard `process_*` series (CPU, memory, file descriptors,
    /// threads), read from `/proc` at each scrape.
    process: metrics_process::Collector,
}

impl Exporter {
    /// The process's recorder, installed (with its upkeep thread and the
    /// series' descriptions) on the first call.
    pub fn installed() -> Self {
        static INSTALLED: OnceLock<Exporter> = OnceLock::new();
        INSTALLED.get_or_init(install).clone()
    }

    /// Every series now, in Prometheus's text format (0.0.4).
    pub fn render(&self) -> String {
        self.process.collect();
        self.handle.render()
    }
}

fn install() -> Exporter {
    let handle = match builder().install_recorder() {
        Ok(handle) => handle,
        // Only when something else set the global recorder first: this one
        // then sees nothing, and says so.
        Err(error) => {
            tracing::warn!(%error, "metrics recorder not installed; /metrics stays empty");
            builder().build_recorder().handle()
        }
    };
    let process = metrics_process::Collector::default();
    describe(&process);
    let upkeep = handle.clone();
    let _ = std::thread::Builder::new()
        .name("metrics-upkeep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(UPKEEP_EVERY);
                upkeep.run_upkeep();
            }
        });
    Exporter { handle, process }
}

/// Histograms as Prometheus histograms (buckets), not summaries.
fn builder() -> PrometheusBuilder {
    let buckets = [
        (INGEST_DURATION, SECONDS),
        (STORE_COMMIT_DURATION, SECONDS),
        (PUBSUB_LAG, SECONDS),
        (STORE_BATCH_SIZE, BATCH_SIZES),
    ];
    buckets
        .into_iter()
        .fold(PrometheusBuilder::new(), |builder, (name, values)| {
            builder
                .set_buckets_for_metric(Matcher::Full(name.to_owned()), values)
                .expect("buckets are not empty")
        })
}

fn describe(process: &metrics_process::Collector) {
    describe_counter!(
        DELIVERIES,
        "Answers of the ingest endpoints, by source and HTTP status answered"
    );
    describe_histogram!(
        INGEST_DURATION,
        Unit::Seconds,
        "Ingest request received to answer, by source"
    );
    describe_counter!(
        REFUSALS,
        "Refused deliveries, by source and reason (the error code answered)"
    );
    describe_counter!(
        REFUSAL_RECORDS_DROPPED,
        "Refused deliveries answered but not recorded: the record queue was full"
    );
    describe_counter!(
        DEDUP_HITS,
        "Deliveries that duplicated a stored event (answered 200), by source"
    );
    describe_histogram!(
        STORE_COMMIT_DURATION,
        Unit::Seconds,
        "One committed batch of deliveries, BEGIN to COMMIT"
    );
    describe_histogram!(
        STORE_BATCH_SIZE,
        Unit::Count,
        "Deliveries committed in one transaction"
    );
    describe_gauge!(SUBSCRIBERS, "Open GraphQL subscriptions on this node");
    describe_histogram!(
        PUBSUB_LAG,
        Unit::Seconds,
        "An event's commit to this node's live feed reading it"
    );
    describe_counter!(
        UPSTREAM_CALLS,
        "Calls to outside APIs (each attempt), by target and HTTP status, timeout or error"
    );
    describe_gauge!(
        FOLLOW_UPS_PENDING,
        "Follow-up jobs not yet done or given up, in the whole store"
    );
    describe_counter!(FOLLOW_UPS_FAILED, "Follow-up jobs given up, by kind");
    process.describe();
}
