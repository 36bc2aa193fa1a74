//! The real `shopsync-server` on a free 127.0.0.1 port with a database in a
//! temporary folder of its own.

use std::fs::OpenOptions;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;
use tempfile::TempDir;

use crate::{POLL, TIMEOUT, bounded_command, built_binary, failure, terminate};

/// How long a stopping server may take to close its connections before it
/// is killed (open notice streams can hold a graceful shutdown).
const STOP_GRACE: Duration = Duration::from_secs(5);

/// A running sync server. Killed, and its folder removed, on drop.
pub struct Server {
    bin: PathBuf,
    db: PathBuf,
    port: u16,
    serve_args: Vec<String>,
    child: Option<Child>,
    // Last: removed after the process is gone.
    dir: TempDir,
}

/// Defaults that keep tests from tripping on limits meant for the internet:
/// fast heartbeats, and many sign-ups from one address (every customer of a
/// test comes from 127.0.0.1). A test's own `serve` flag replaces its default.
const DEFAULTS: [(&str, &str); 2] = [
    ("--heartbeat-secs", "1"),
    ("--signups-per-minute", "100000"),
];

/// The server binary: `SHOPSYNC_SERVER_BIN`, else the one built with the test.
pub fn server_binary() -> Result<PathBuf> {
    built_binary("shopsync-server", "shopsync-server", "SHOPSYNC_SERVER_BIN")
}

impl Server {
    /// Starts a server on a free port with an empty database.
    pub fn start() -> Result<Server> {
        Server::start_with(&[])
    }

    /// Starts a server with more `serve` flags (e.g. `--request-timeout-secs 5`).
    pub fn start_with(serve_args: &[&str]) -> Result<Server> {
        let dir = tempfile::Builder::new()
            .prefix("shopsync-web-server-")
            .tempdir()?;
        let mut args: Vec<String> = serve_args.iter().map(|a| a.to_string()).collect();
        for (flag, value) in DEFAULTS {
            if !serve_args.contains(&flag) {
                args.extend([flag.to_string(), value.to_string()]);
            }
        }
        let mut server = Server {
            bin: server_binary()?,
            db: dir.path().join("server.db"),
            port: 0,
            serve_args: args,
            child: None,
            dir,
        };
        server.spawn()?;
        Ok(server)
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's database file.
    pub fn db(&self) -> &Path {
        &self.db
    }

    /// Whether the process runs now.
    pub fn is_running(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    /// Stops the server as an operator would (SIGTERM; SIGKILL after 5 s).
    /// Its port and database stay for [`Server::restart`].
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            terminate(&mut c, STOP_GRACE);
        }
    }

    /// Kills the server at once (a crash, a pulled plug).
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts the server again on the same port and database (stopping it
    /// first if it runs).
    pub fn restart(&mut self) -> Result<()> {
        self.stop();
        self.spawn()
    }

    /// Runs an admin command (`shopsync-server --db DB --json ARGS…`) and
    /// returns its JSON. Works while the server runs. Killed after
    /// [`crate::COMMAND_TIMEOUT`].
    pub fn admin(&self, args: &[&str]) -> Result<Value> {
        let out = bounded_command(&self.bin)
            .arg("--db")
            .arg(&self.db)
            .arg("--json")
            .args(args)
            .output()
            .with_context(|| format!("cannot run {}", self.bin.display()))?;
        if !out.status.success() {
            bail!("shopsync-server {args:?} failed: {}", failure(&out));
        }
        serde_json::from_slice(&out.stdout)
            .with_context(|| format!("shopsync-server {args:?} printed no JSON"))
    }

    /// Creates a store on the server; returns its id and the manager's
    /// enrolment code.
    pub fn create_store(&self, name: &str) -> Result<(String, String)> {
        let v = self.admin(&["store", "create", "--name", name])?;
        Ok((field(&v, "store_id")?, field(&v, "enrol_code")?))
    }

    /// A one-time enrolment code for `store_id`, role `manager` or `till`.
    pub fn enrol_code(&self, store_id: &str, role: &str) -> Result<String> {
        let v = self.admin(&["enrol-code", "create", "--store", store_id, "--role", role])?;
        field(&v, "enrol_code")
    }

    /// The server's log so far (all its runs), for a failing test to print.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("server.log")
    }

    /// Starts the process on `self.port` (0: any free port, then kept) and
    /// waits for the address it prints.
    fn spawn(&mut self) -> Result<()> {
        let out_path = self.dir.path().join("stdout.json");
        let stdout = std::fs::File::create(&out_path)?;
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_path())?;
        let level = std::env::var("SHOPSYNC_LOG").unwrap_or_else(|_| "info".into());
        let mut child = Command::new(&self.bin)
            .arg("--db")
            .arg(&self.db)
            .arg("--json")
            .arg("serve")
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .args(&self.serve_args)
            .env("SHOPSYNC_LOG", level)
            .stdin(Stdio::null())
            .stdout(stdout)
            .stderr(log)
            .spawn()
            .with_context(|| format!("cannot start {}", self.bin.display()))?;
        let started = Instant::now();
        let url = loop {
            // First line: {"listening":"http://127.0.0.1:PORT"}.
            let printed = std::fs::read_to_string(&out_path).unwrap_or_default();
            if let Some(line) = printed.lines().next().filter(|_| printed.contains('\n')) {
                let v: Value = serde_json::from_str(line)
                    .with_context(|| format!("the server printed {line:?}"))?;
                break field(&v, "listening")?;
            }
            if let Ok(Some(status)) = child.try_wait() {
                bail!(
                    "the server exited ({status}) before listening:\n{}",
                    self.log()
                );
            }
            if started.elapsed() > TIMEOUT {
                terminate(&mut child, STOP_GRACE);
                bail!(
                    "the server did not listen within {TIMEOUT:?}:\n{}",
                    self.log()
                );
            }
            std::thread::sleep(POLL);
        };
        self.port = url
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| anyhow!("no port in {url:?}"))?;
        self.child = Some(child);
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A string field of a command's JSON output.
pub(crate) fn field(v: &Value, name: &str) -> Result<String> {
    v.get(name)
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| anyhow!("no {name:?} in {v}"))
}
