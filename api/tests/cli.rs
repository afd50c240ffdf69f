//! The `gateway` binary itself: zero-configuration start and the helper commands.
use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use serde_json::json;
use wiremock::{
    Mock, MockServer, ResponseTemplate,
    matchers::{body_json, header, method, path},
};

const GATEWAY: &str = env!("CARGO_BIN_EXE_gateway");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures");

fn gateway() -> Command {
    let mut cmd = Command::new(GATEWAY);
    // Nothing from the developer's or CI's environment leaks in.
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn http_get(addr: &str, path: &str) -> String {
    let mut stream = TcpStream::connect(addr).expect("gateway accepts connections");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
}

#[test]
fn starts_with_no_configuration_and_creates_its_sqlite_store() {
    let dir = tempfile::tempdir().unwrap();
    // Only the port is chosen (0: any free one), so parallel runs can't collide.
    let mut child = gateway()
        .current_dir(dir.path())
        .env("GATEWAY_ADDR", "127.0.0.1:0")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = child.stderr.take().unwrap();
    let _running = Running(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut addr = None;
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap();
        if let Some(rest) = line
            .contains("gateway listening")
            .then(|| line.split("addr=").nth(1))
            .flatten()
        {
            addr = Some(rest.split_whitespace().next().unwrap().to_owned());
            break;
        }
        assert!(Instant::now() < deadline, "no listening line in time");
    }
    let addr = addr.expect("the gateway logs its address");
    assert!(dir.path().join("gateway.db").exists());
    let health = http_get(&addr, "/healthz");
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    let ready = http_get(&addr, "/readyz");
    assert!(ready.starts_with("HTTP/1.1 200"), "{ready}");
}

#[test]
fn migrate_applies_the_schema_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let status = gateway()
        .current_dir(dir.path())
        .arg("migrate")
        .status()
        .unwrap();
    assert!(status.success());
    assert!(dir.path().join("gateway.db").exists());
}

/// The signature `sign-canopy` prints is the one Canopy's own JavaScript
/// example computes (checked with Node.js, not with the gateway's code).
#[test]
fn sign_canopy_signs_as_canopys_javascript_does() {
    let fixture = std::fs::read(format!("{FIXTURES}/canopy/account_update.json")).unwrap();
    let mut child = gateway()
        .args(["sign-canopy", "--secret", "s3cret"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(&fixture).unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(output.status.success());
    let body = String::from_utf8(output.stdout).unwrap();

    let script = "let s='';process.stdin.on('data',c=>s+=c).on('end',()=>{\
        const b=JSON.parse(s);\
        const want=require('crypto').createHmac('sha256','s3cret').update(JSON.stringify(b.data)).digest('base64');\
        process.stdout.write(b.event+' '+(want===b.hmac_signature));})";
    let mut node = Command::new("node")
        .args(["-e", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("node is installed");
    node.stdin
        .take()
        .unwrap()
        .write_all(body.as_bytes())
        .unwrap();
    let verdict = node.wait_with_output().unwrap();
    assert_eq!(
        String::from_utf8(verdict.stdout).unwrap(),
        "account_update true"
    );
}

#[test]
fn sign_canopy_refuses_what_is_not_an_object() {
    let mut child = gateway()
        .args(["sign-canopy", "--secret", "s"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"[1,2]").unwrap();
    assert!(!child.wait().unwrap().success());
}

/// A mock Canopy API on a runtime of its own (these tests are synchronous).
fn mock_canopy(secret_answer: ResponseTemplate) -> (tokio::runtime::Runtime, MockServer) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let canopy = runtime.block_on(async {
        let canopy = MockServer::start().await;
        Mock::given(method("POST"))
            .and(path("/auth/token"))
            .and(body_json(
                json!({"client_id": "cli-id", "client_secret": "cli-secret"}),
            ))
            .respond_with(
                ResponseTemplate::new(200)
                    .set_body_json(json!({"access_token": "tok", "expires_in": 3600})),
            )
            .expect(1)
            .mount(&canopy)
            .await;
        Mock::given(method("GET"))
            .and(path("/organization/subscribe/get_webhook_secret"))
            .and(header("authorization", "Bearer tok"))
            .respond_with(secret_answer)
            .expect(1)
            .mount(&canopy)
            .await;
        canopy
    });
    (runtime, canopy)
}

fn webhook_secret(api_url: &str) -> std::process::Output {
    gateway()
        .args(["canopy", "webhook-secret"])
        .env("CANOPY_API_URL", api_url)
        .env("CANOPY_CLIENT_ID", "cli-id")
        .env("CANOPY_CLIENT_SECRET", "cli-secret")
        .output()
        .unwrap()
}

#[test]
fn canopy_webhook_secret_prints_the_secret_from_canopy() {
    let answer = ResponseTemplate::new(200).set_body_json(json!({"webhook_secret": "whsec-123"}));
    let (runtime, canopy) = mock_canopy(answer);
    let output = webhook_secret(&canopy.uri());
    assert!(output.status.success(), "{output:?}");
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "whsec-123\n");
    runtime.block_on(canopy.verify());
}

#[test]
fn canopy_webhook_secret_fails_in_one_line_when_canopy_is_down() {
    // A port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let output = webhook_secret(&format!("http://127.0.0.1:{port}"));
    assert!(!output.status.success());
    assert!(output.stdout.is_empty());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("Canopy is unavailable"), "{stderr}");
}

#[test]
fn canopy_webhook_secret_without_the_api_configured_says_what_is_missing() {
    let output = gateway()
        .args(["canopy", "webhook-secret"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("CANOPY_API_URL"), "{stderr}");
}
