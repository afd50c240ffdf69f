//! Writes distinct signed Canopy webhook bodies, one per line, for load
//! tests: the 11 fixtures in turn (250 B to 12.6 KB; the big ones full
//! account objects that go through the projection), each made distinct by a
//! unique `bench_id` as the first key of `data`, signed as Canopy signs
//! (`JSON.stringify(data)`).
//!
//! ```sh
//! cargo run --release -p tests --example canopy_bodies -- 100000 bench-secret [prefix] > bodies.jsonl
//! ```
use std::{
    io::{BufWriter, Write},
    path::Path,
};

use serde_json::{Map, Value};

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/canopy");

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: canopy_bodies <count> <secret> [id prefix]";
    let count: usize = args.next().ok_or_else(|| anyhow::anyhow!(usage))?.parse()?;
    let secret = args.next().ok_or_else(|| anyhow::anyhow!(usage))?;
    let prefix = args.next().unwrap_or_else(|| "bench".to_owned());
    let mut fixtures: Vec<(String, Value)> = std::fs::read_dir(Path::new(FIXTURES))?
        .map(|entry| {
            let body: Value = serde_json::from_str(&std::fs::read_to_string(entry?.path())?)?;
            let event = body["event"].as_str().unwrap_or("test_event").to_owned();
            Ok((event, body["data"].clone()))
        })
        .collect::<anyhow::Result<_>>()?;
    fixtures.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = BufWriter::new(std::io::stdout().lock());
    for i in 0..count {
        let (event, data) = &fixtures[i % fixtures.len()];
        let mut distinct = Map::new();
        distinct.insert("bench_id".into(), Value::from(format!("{prefix}-{i}")));
        distinct.extend(data.as_object().cloned().unwrap_or_default());
        let body = api::ingest::canopy::signed_body(&secret, Value::Object(distinct), event)?;
        writeln!(out, "{body}")?;
    }
    Ok(())
}
