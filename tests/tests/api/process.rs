//! The gateway as a process of its own, for tests that measure it or stop
//! it from outside. The `gateway` binary is the one `cargo nextest run
//! --workspace` (or `cargo build -p api`) builds into the same target
//! directory as this test binary.
use std::{
    net::SocketAddr,
    path::PathBuf,
    process::Stdio,
    sync::{Arc, Mutex},
    time::Duration,
};

use serde_json::Value;
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

pub struct GatewayProcess {
    child: Child,
    pub addr: SocketAddr,
    /// Every line it has written to stderr so far.
    logs: Arc<Mutex<Vec<String>>>,
    /// Its working directory (where a `.env` would be read from).
    _dir: tempfile::TempDir,
}

impl GatewayProcess {
    /// Starts `gateway serve` with `env` as its whole environment (plus a
    /// free loopback port, unless `env` names `GATEWAY_ADDR`, and JSON logs)
    /// and returns once it listens. Its logs are kept ([`Self::logs`]) and
    /// passed on to this test's stderr; it is killed when dropped.
    pub async fn start(env: &[(&str, &str)]) -> Self {
        let binary = binary();
        assert!(
            binary.exists(),
            "{} is missing: build it with `cargo build -p api` (cargo nextest run --workspace does)",
            binary.display()
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let mut command = Command::new(&binary);
        command
            .current_dir(dir.path())
            .env_clear()
            .env("GATEWAY_ADDR", "127.0.0.1:0")
            .env("LOG_FORMAT", "json")
            .env("RUST_LOG", "info")
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = command.spawn().expect("gateway starts");
        let mut lines = BufReader::new(child.stderr.take().expect("piped stderr")).lines();
        let logs = Arc::new(Mutex::new(Vec::new()));
        let keep = {
            let logs = logs.clone();
            move |line: &str| {
                eprintln!("gateway: {line}");
                logs.lock().unwrap().push(line.to_owned());
            }
        };
        let listening = async {
            while let Some(line) = lines.next_line().await.expect("gateway stderr") {
                keep(&line);
                if let Some(addr) = listening_on(&line) {
                    return addr;
                }
            }
            panic!("the gateway exited before listening");
        };
        let addr = tokio::time::timeout(Duration::from_secs(30), listening)
            .await
            .expect("the gateway listens within 30 s");
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                keep(&line);
            }
        });
        Self {
            child,
            addr,
            logs,
            _dir: dir,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The lines it has written to stderr so far.
    pub fn logs(&self) -> Vec<String> {
        self.logs.lock().unwrap().clone()
    }

    pub fn pid(&self) -> u32 {
        self.child.id().expect("the gateway is running")
    }

    /// Sends it `signal` (`TERM`, `INT`, `KILL`).
    pub fn signal(&self, signal: &str) {
        let sent = std::process::Command::new("kill")
            .args([&format!("-{signal}"), &self.pid().to_string()])
            .status()
            .expect("kill runs");
        assert!(sent.success(), "kill -{signal}");
    }

    /// Waits for it to exit (at most `within`): its exit status, and how
    /// long it took.
    pub async fn exited(mut self, within: Duration) -> (std::process::ExitStatus, Duration) {
        let started = std::time::Instant::now();
        let status = tokio::time::timeout(within, self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("the gateway did not exit within {within:?}"))
            .expect("its exit status");
        (status, started.elapsed())
    }
}

/// A loopback port nothing listens on now, for a gateway that must come
/// back at the same address.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// The resident memory of process `pid` now (`VmRSS`).
pub fn resident_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("its status");
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS");
    kib * 1024
}

/// `target/<profile>/gateway`, next to `target/<profile>/deps/<this test>`.
fn binary() -> PathBuf {
    let test = std::env::current_exe().expect("the test binary's path");
    let profile_dir = test
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target/<profile>/deps");
    profile_dir.join(format!("gateway{}", std::env::consts::EXE_SUFFIX))
}

/// The address of a JSON "gateway listening" log line.
fn listening_on(line: &str) -> Option<SocketAddr> {
    let log: Value = serde_json::from_str(line).ok()?;
    let fields = &log["fields"];
    (fields["message"] == "gateway listening")
        .then(|| fields["addr"].as_str()?.parse().ok())
        .flatten()
}
