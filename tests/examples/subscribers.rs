//! Load tool for live subscriptions: opens idle and matching
//! `graphql-transport-ws` subscriptions on a running gateway, measures its
//! memory per subscription, then posts signed Canopy webhooks at a steady rate
//! and measures ingest → subscriber latency on the matching ones.
//! Driven by `bench/subscribers.sh`; loopback only.
//!
//! ```sh
//! cargo run --release -p tests --example subscribers -- \
//!   --addr 127.0.0.1:18182 --gateway-pid 1234 --idle 1000 --matching 100
//! ```
use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant, SystemTime, UNIX_EPOCH},
};

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::{
    net::TcpStream,
    sync::{Semaphore, watch},
};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{
        Message, client::IntoClientRequest, http::HeaderValue, protocol::WebSocketConfig,
    },
};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

const IDLE_QUERY: &str = "subscription($filter: EventFilter) { events(filter: $filter) { id } }";
const MATCHING_QUERY: &str = "subscription { events { id type payload } }";
const EVENT: &str = "account_calculations_change";
/// Linux reports process CPU time in USER_HZ, which is 100 for userspace.
const USER_HZ: f64 = 100.0;

struct Args {
    addr: SocketAddr,
    gateway_pid: u32,
    idle: usize,
    matching: usize,
    rate: u64,
    seconds: u64,
    secret: String,
    open_concurrency: usize,
    /// Whether idle connections subscribe (false: `connection_init` only,
    /// to tell a connection's memory from its subscription's).
    idle_subscribe: bool,
}

impl Args {
    fn parse() -> Self {
        let mut args = Self {
            addr: "127.0.0.1:8080".parse().unwrap(),
            gateway_pid: 0,
            idle: 1000,
            matching: 100,
            rate: 1000,
            seconds: 15,
            secret: "bench-secret".into(),
            open_concurrency: 64,
            idle_subscribe: true,
        };
        let mut it = std::env::args().skip(1);
        while let Some(flag) = it.next() {
            let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
            match flag.as_str() {
                "--addr" => args.addr = parse(&flag, &value),
                "--gateway-pid" => args.gateway_pid = parse(&flag, &value),
                "--idle" => args.idle = parse(&flag, &value),
                "--matching" => args.matching = parse(&flag, &value),
                "--rate" => args.rate = parse(&flag, &value),
                "--seconds" => args.seconds = parse(&flag, &value),
                "--secret" => args.secret = value,
                "--open-concurrency" => args.open_concurrency = parse(&flag, &value),
                "--idle-subscribe" => args.idle_subscribe = parse(&flag, &value),
                _ => panic!("unknown flag {flag}"),
            }
        }
        assert!(args.addr.ip().is_loopback(), "loopback addresses only");
        assert!(args.gateway_pid > 0, "--gateway-pid is required");
        // No matching subscribers (and no idle ones) is the baseline: the
        // webhook answer with nobody to deliver to.
        assert!(args.rate > 0 && args.seconds > 0);
        assert!(
            args.rate <= 10_000 && args.seconds <= 120,
            "keep the run bounded"
        );
        args
    }
}

fn parse<T: std::str::FromStr<Err: std::fmt::Display>>(flag: &str, value: &str) -> T {
    value
        .parse()
        .unwrap_or_else(|e| panic!("{flag} {value}: {e}"))
}

fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}

fn rss_kib(pid: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

/// User + system CPU ticks of a process (0 if it is gone).
fn cpu_ticks(pid: &str) -> u64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0;
    };
    // Fields after the command name (which may hold spaces): state is 3rd,
    // utime 14th, stime 15th.
    let rest = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let field = |n: usize| fields.get(n - 3).and_then(|v| v.parse::<u64>().ok());
    field(14).unwrap_or(0) + field(15).unwrap_or(0)
}

/// CPU ticks of every process named `postgres` (server and backends).
fn postgres_ticks() -> u64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0;
    };
    dir.filter_map(Result::ok)
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|pid| pid.bytes().all(|b| b.is_ascii_digit()))
        .filter(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|comm| comm.trim() == "postgres")
        })
        .map(|pid| cpu_ticks(&pid))
        .sum()
}

struct Cpu {
    tool: u64,
    gateway: u64,
    postgres: u64,
}

impl Cpu {
    fn now(gateway: &str) -> Self {
        Self {
            tool: cpu_ticks("self"),
            gateway: cpu_ticks(gateway),
            postgres: postgres_ticks(),
        }
    }
}

async fn receive(ws: &mut Ws, wait: Duration) -> Result<Value, String> {
    loop {
        match tokio::time::timeout(wait, ws.next()).await {
            Err(_) => return Err("timed out".into()),
            Ok(Some(Ok(Message::Text(text)))) => {
                return serde_json::from_str(&text).map_err(|e| e.to_string());
            }
            Ok(Some(Ok(Message::Close(frame)))) => return Err(format!("closed: {frame:?}")),
            Ok(Some(Ok(_))) => {}
            Ok(Some(Err(e))) => return Err(e.to_string()),
            Ok(None) => return Err("connection ended".into()),
        }
    }
}

async fn send(ws: &mut Ws, message: Value) -> Result<(), String> {
    ws.send(Message::Text(message.to_string().into()))
        .await
        .map_err(|e| e.to_string())
}

/// Connects, initialises and subscribes (unless `query` is `None`); returns
/// once a ping sent after the `subscribe` is answered, so the gateway has
/// taken the subscription.
async fn open(addr: SocketAddr, query: Option<&str>, variables: Value) -> Result<Ws, String> {
    let wait = Duration::from_secs(20);
    let mut request = format!("ws://{addr}/graphql/ws")
        .into_client_request()
        .map_err(|e| e.to_string())?;
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    // Small read buffers: the default 128 KiB per connection is touched on
    // the first read, 1.3 GB for 10,000 connections.
    let config = WebSocketConfig::default().read_buffer_size(4096);
    let connect = tokio_tungstenite::connect_async_with_config(request, Some(config), true);
    let (mut ws, _) = tokio::time::timeout(wait, connect)
        .await
        .map_err(|_| "connect timed out".to_string())?
        .map_err(|e| e.to_string())?;
    send(&mut ws, json!({"type": "connection_init", "payload": {}})).await?;
    let ack = receive(&mut ws, wait).await?;
    if ack["type"] != "connection_ack" {
        return Err(format!("expected connection_ack, got {ack}"));
    }
    if let Some(query) = query {
        let subscribe = json!({"id": "1", "type": "subscribe",
            "payload": {"query": query, "variables": variables}});
        send(&mut ws, subscribe).await?;
    }
    send(&mut ws, json!({"type": "ping"})).await?;
    loop {
        let message = receive(&mut ws, wait).await?;
        match message["type"].as_str() {
            Some("pong") => return Ok(ws),
            Some("ping") => send(&mut ws, json!({"type": "pong"})).await?,
            _ => return Err(format!("unexpected before pong: {message}")),
        }
    }
}

async fn open_many(
    args: &Args,
    count: usize,
    query: Option<&'static str>,
    variables: Value,
) -> (Vec<Ws>, usize) {
    let addr = args.addr;
    let results: Vec<_> = futures::stream::iter(0..count)
        .map(|_| open(addr, query, variables.clone()))
        .buffer_unordered(args.open_concurrency)
        .collect()
        .await;
    let mut failed = 0;
    let mut sockets = Vec::with_capacity(count);
    for result in results {
        match result {
            Ok(ws) => sockets.push(ws),
            Err(error) => {
                if failed < 3 {
                    eprintln!("open failed: {error}");
                }
                failed += 1;
            }
        }
    }
    (sockets, failed)
}

/// What a matching subscriber saw: (seq, latency in µs) per benchmark event.
struct Seen {
    samples: Vec<(i64, i64)>,
    warmups: u64,
    errors: u64,
}

async fn matching_subscriber(
    mut ws: Ws,
    mut stop: watch::Receiver<bool>,
    received: Arc<AtomicU64>,
) -> Seen {
    let mut seen = Seen {
        samples: Vec::new(),
        warmups: 0,
        errors: 0,
    };
    loop {
        let frame = tokio::select! {
            frame = ws.next() => frame,
            _ = stop.changed() => break,
        };
        let at = now_us();
        let text = match frame {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => {
                seen.errors += 1;
                break;
            }
            Some(Ok(_)) => continue,
        };
        // Cheap scan instead of a full parse, so the tool spends little CPU:
        // only `next` messages carry `"sent_at_us":`.
        let (Some(seq), Some(sent)) = (
            number_after(&text, "\"seq\":"),
            number_after(&text, "\"sent_at_us\":"),
        ) else {
            let message: Value = serde_json::from_str(&text).unwrap_or_default();
            if message["type"] == "ping" {
                let _ = send(&mut ws, json!({"type": "pong"})).await;
            } else {
                seen.errors += 1;
            }
            continue;
        };
        if seq < 0 {
            seen.warmups += 1;
        } else {
            seen.samples.push((seq, at - sent));
        }
        received.fetch_add(1, Ordering::Relaxed);
    }
    let _ = ws.close(None).await;
    seen
}

/// The integer right after `key` in `text` (the payload is compact JSON).
fn number_after(text: &str, key: &str) -> Option<i64> {
    let rest = &text[text.find(key)? + key.len()..];
    let end = rest
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && c == '-')))
        .map_or(rest.len(), |(i, _)| i);
    rest[..end].parse().ok()
}

/// Holds an idle subscription; counts anything it unexpectedly receives.
async fn idle_subscriber(mut ws: Ws, mut stop: watch::Receiver<bool>) -> u64 {
    let mut unexpected = 0;
    loop {
        let frame = tokio::select! {
            frame = ws.next() => frame,
            _ = stop.changed() => break,
        };
        match frame {
            Some(Ok(Message::Text(text))) => {
                let message: Value = serde_json::from_str(&text).unwrap_or_default();
                if message["type"] == "ping" {
                    let _ = send(&mut ws, json!({"type": "pong"})).await;
                } else {
                    unexpected += 1;
                }
            }
            Some(Ok(_)) => {}
            Some(Err(_)) | None => {
                unexpected += 1;
                break;
            }
        }
    }
    let _ = ws.close(None).await;
    unexpected
}

fn body(secret: &str, seq: i64) -> String {
    let data = json!({
        "account_id": format!("acct-{}", seq.rem_euclid(1000)),
        "available_credit_cents": seq,
        "effective_as_of": "2023-01-26T15:42:39.567559-05:00",
        "seq": seq,
        "sent_at_us": now_us(),
    });
    let signature = api::ingest::canopy::sign(secret, &data);
    json!({"event": EVENT, "data": data, "hmac_signature": signature}).to_string()
}

async fn post(client: &reqwest::Client, url: &str, body: String) -> Result<u16, String> {
    let response = client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    Ok(response.status().as_u16())
}

fn percentile(sorted: &[i64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

fn summary(name: &str, values: &mut [i64]) -> String {
    values.sort_unstable();
    format!(
        "{name}: n={} p50={:.1}ms p90={:.1}ms p99={:.1}ms p99.9={:.1}ms max={:.1}ms",
        values.len(),
        percentile(values, 50.0),
        percentile(values, 90.0),
        percentile(values, 99.0),
        percentile(values, 99.9),
        values.last().copied().unwrap_or(0) as f64 / 1000.0
    )
}

#[tokio::main]
async fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args = Args::parse();
    let gateway = args.gateway_pid.to_string();
    let (stop_tx, stop_rx) = watch::channel(false);
    let received = Arc::new(AtomicU64::new(0));
    let url = format!("http://{}/webhooks/canopy", args.addr);
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();

    // Memory: idle subscriptions first, then the matching ones.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let rss0 = rss_kib(&gateway);
    let started = Instant::now();
    let (idle, idle_failed) = open_many(
        &args,
        args.idle,
        args.idle_subscribe.then_some(IDLE_QUERY),
        json!({"filter": {"types": ["never_sent"]}}),
    )
    .await;
    let idle_open_s = started.elapsed().as_secs_f64();
    let idle_count = idle.len();
    let idle_tasks: Vec<_> = idle
        .into_iter()
        .map(|ws| tokio::spawn(idle_subscriber(ws, stop_rx.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss1 = rss_kib(&gateway);
    let (matching, matching_failed) =
        open_many(&args, args.matching, Some(MATCHING_QUERY), json!({})).await;
    let matching_count = matching.len();
    let matching_tasks: Vec<_> = matching
        .into_iter()
        .map(|ws| tokio::spawn(matching_subscriber(ws, stop_rx.clone(), received.clone())))
        .collect();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss2 = rss_kib(&gateway);
    println!(
        "opened {idle_count} idle ({idle_failed} failed, {idle_open_s:.1}s) and \
         {matching_count} matching ({matching_failed} failed) subscriptions"
    );
    let per_idle = (rss1.saturating_sub(rss0)) as f64 / idle_count.max(1) as f64;
    let per_all = (rss2.saturating_sub(rss0)) as f64 / (idle_count + matching_count).max(1) as f64;
    println!(
        "gateway RSS: {rss0} KiB before, {rss1} KiB with idle, {rss2} KiB with all; \
         {per_idle:.1} KiB per idle subscription, {per_all:.1} KiB per subscription overall"
    );

    // Warm-up: one event every matching subscriber must see before the run.
    let status = post(&client, &url, body(&args.secret, -1)).await;
    assert!(
        matches!(status, Ok(202)),
        "warm-up delivery answered {status:?}"
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.load(Ordering::Relaxed) < matching_count as u64 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let warm = received.swap(0, Ordering::Relaxed);
    println!("warm-up event reached {warm} of {matching_count} matching subscribers");

    // Steady rate: event i is sent at start + i / rate, stamped when sent.
    let total = args.rate * args.seconds;
    let period = Duration::from_nanos(1_000_000_000 / args.rate);
    let in_flight = Arc::new(Semaphore::new(512));
    let statuses: Arc<std::sync::Mutex<HashMap<String, u64>>> = Default::default();
    let ingest_us: Arc<std::sync::Mutex<Vec<i64>>> = Default::default();
    let mut late = 0u64;
    let cpu0 = Cpu::now(&gateway);
    let start = tokio::time::Instant::now();
    let wall0 = Instant::now();
    let mut posts = Vec::with_capacity(total as usize);
    for seq in 0..total {
        let due = start + period * seq as u32;
        tokio::time::sleep_until(due).await;
        let permit = in_flight.clone().acquire_owned().await.unwrap();
        if tokio::time::Instant::now() > due + Duration::from_millis(5) {
            late += 1;
        }
        let (client, url, secret) = (client.clone(), url.clone(), args.secret.clone());
        let (statuses, ingest_us) = (statuses.clone(), ingest_us.clone());
        posts.push(tokio::spawn(async move {
            let sent = Instant::now();
            let status = post(&client, &url, body(&secret, seq as i64)).await;
            let took = sent.elapsed().as_micros() as i64;
            drop(permit);
            let key = match status {
                Ok(code) => code.to_string(),
                Err(_) => "error".into(),
            };
            ingest_us.lock().unwrap().push(took);
            *statuses.lock().unwrap().entry(key).or_default() += 1;
        }));
    }
    for task in posts {
        let _ = task.await;
    }
    let send_s = wall0.elapsed().as_secs_f64();
    let accepted = statuses.lock().unwrap().get("202").copied().unwrap_or(0);
    let expected = accepted * matching_count as u64;
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let drain_s = wall0.elapsed().as_secs_f64() - send_s;
    let cpu1 = Cpu::now(&gateway);
    let wall = wall0.elapsed().as_secs_f64();
    let rss3 = rss_kib(&gateway);

    let _ = stop_tx.send(true);
    let mut samples = Vec::new();
    let mut warmups = 0;
    let mut errors = 0;
    for task in matching_tasks {
        let seen = task.await.unwrap();
        samples.extend(seen.samples);
        warmups += seen.warmups;
        errors += seen.errors;
    }
    let mut unexpected = 0;
    for task in idle_tasks {
        unexpected += task.await.unwrap();
    }

    let mut statuses: Vec<_> = statuses.lock().unwrap().clone().into_iter().collect();
    statuses.sort();
    println!(
        "sent {total} events in {send_s:.1}s ({:.0}/s, {late} started >5 ms late), answers {statuses:?}",
        total as f64 / send_s
    );
    let mut answers = ingest_us.lock().unwrap().clone();
    println!("{}", summary("ingest answer", &mut answers));
    let delivered = samples.len() as u64;
    println!(
        "delivered {delivered} of {expected} (events × matching subscribers), drained {drain_s:.1}s after the last send; \
         {warmups} warm-up repeats, {errors} subscriber errors, {unexpected} unexpected messages on idle subscriptions"
    );
    let mut last_per_event: HashMap<i64, i64> = HashMap::new();
    for &(seq, latency) in &samples {
        let slot = last_per_event.entry(seq).or_insert(i64::MIN);
        *slot = (*slot).max(latency);
    }
    let mut all: Vec<i64> = samples.iter().map(|&(_, l)| l).collect();
    let mut last: Vec<i64> = last_per_event.into_values().collect();
    let all_line = summary("ingest → subscriber (every delivery)", &mut all);
    println!("{all_line}");
    println!(
        "{}",
        summary("ingest → last matching subscriber (per event)", &mut last)
    );
    let cores = |a: u64, b: u64| (b.saturating_sub(a)) as f64 / USER_HZ / wall;
    println!(
        "CPU over {wall:.1}s (cores busy on average, of {}): load tool {:.2}, gateway {:.2}, postgres {:.2}",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        cores(cpu0.tool, cpu1.tool),
        cores(cpu0.gateway, cpu1.gateway),
        cores(cpu0.postgres, cpu1.postgres),
    );
    println!("gateway RSS after the run: {rss3} KiB");
    println!(
        "RESULT idle={idle_count} matching={matching_count} rate={:.0} \
         post_p50_ms={:.1} post_p99_ms={:.1} p50_ms={:.1} p99_ms={:.1} last_p99_ms={:.1} \
         delivered={delivered} expected={expected} kib_per_idle={per_idle:.1} \
         cpu_tool={:.2} cpu_gateway={:.2} cpu_postgres={:.2}",
        total as f64 / send_s,
        percentile(&answers, 50.0),
        percentile(&answers, 99.0),
        percentile(&all, 50.0),
        percentile(&all, 99.0),
        percentile(&last, 99.0),
        cores(cpu0.tool, cpu1.tool),
        cores(cpu0.gateway, cpu1.gateway),
        cores(cpu0.postgres, cpu1.postgres),
    );
}
