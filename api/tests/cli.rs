//! The `gateway` binary itself: zero-configuration start and the helper commands.
use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpStream,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
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
