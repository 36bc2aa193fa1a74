//! A throwaway `nats-server` with JetStream for the events tests: on a free
//! port of 127.0.0.1, its store in a temporary folder, stopped and started
//! again by the test. The binary is `SHOPSYNC_TEST_NATS` (scripts/with-nats.sh
//! installs Debian's package and sets it); without it those tests skip,
//! except on CI (`CI` set), where they fail.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use super::say_skipped;

/// The nats-server binary the tests start, if any.
pub fn nats_binary() -> Option<String> {
    std::env::var("SHOPSYNC_TEST_NATS")
        .ok()
        .filter(|s| !s.is_empty())
}

/// Prints why a NATS test does not run; the caller returns. On CI (`CI`
/// set) a missing nats-server is a failure: scripts/test.sh runs every
/// server test under scripts/with-nats.sh, so a skip there would hide that
/// the events were never tested.
pub fn skip_without_nats() -> bool {
    if nats_binary().is_none() {
        assert!(
            std::env::var_os("CI").is_none(),
            "SHOPSYNC_TEST_NATS is not set on CI: run the events tests under scripts/with-nats.sh"
        );
        say_skipped(
            "needs nats-server: set SHOPSYNC_TEST_NATS to its binary (scripts/with-nats.sh)",
        );
        return true;
    }
    false
}

pub struct NatsServer {
    bin: String,
    pub port: u16,
    store: tempfile::TempDir,
    child: Option<Child>,
}

impl NatsServer {
    /// Starts nats-server with JetStream on a free port and waits until it
    /// accepts connections.
    pub fn start() -> NatsServer {
        let bin = nats_binary().expect("SHOPSYNC_TEST_NATS");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut server = NatsServer {
            bin,
            port,
            store: tempfile::tempdir().expect("a store folder"),
            child: None,
        };
        server.start_again();
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    pub fn store_dir(&self) -> PathBuf {
        self.store.path().to_path_buf()
    }

    /// Starts it (again) on the same port and store folder.
    pub fn start_again(&mut self) {
        assert!(self.child.is_none(), "nats-server runs already");
        let child = Command::new(&self.bin)
            .args(["-js", "-a", "127.0.0.1", "-p"])
            .arg(self.port.to_string())
            .arg("-sd")
            .arg(self.store.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn nats-server");
        self.child = Some(child);
        let start = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "nats-server did not listen on port {} within 10 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops it (SIGTERM: JetStream flushes its store, as on a shutdown)
    /// and waits until it is gone.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill")
                .args(["-TERM", &child.id().to_string()])
                .status();
            let start = Instant::now();
            while child.try_wait().ok().flatten().is_none() {
                if start.elapsed() > Duration::from_secs(10) {
                    let _ = child.kill();
                    let _ = child.wait();
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
