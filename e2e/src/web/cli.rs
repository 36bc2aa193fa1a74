//! The real `shopsync` CLI on a file of its own: a till's store or a
//! customer's device.

use std::path::{Path, PathBuf};
use std::process::Output;

use anyhow::{Context, Result, bail};
use serde_json::Value;
use tempfile::TempDir;

use super::Server;
use crate::{bounded_command, built_binary, failure};

/// The CLI binary: `SHOPSYNC_CLI_BIN`, else the one built with the test.
pub fn cli_binary() -> Result<PathBuf> {
    built_binary("shopsync", "shopsync-cli", "SHOPSYNC_CLI_BIN")
}

/// `shopsync --db DB [PREFIX…]`: runs commands on one file.
pub struct Cli {
    bin: PathBuf,
    db: PathBuf,
    prefix: Vec<String>,
}

impl Cli {
    /// Till commands on the store file `db`.
    pub fn till(db: &Path) -> Result<Cli> {
        Ok(Cli {
            bin: cli_binary()?,
            db: db.to_path_buf(),
            prefix: Vec::new(),
        })
    }

    /// Customer commands (`shopsync --db DB customer …`) on the device file `db`.
    pub fn customer(db: &Path) -> Result<Cli> {
        Ok(Cli {
            prefix: vec!["customer".into()],
            ..Cli::till(db)?
        })
    }

    pub fn db(&self) -> &Path {
        &self.db
    }

    /// Runs a command with `--json`; fails unless it succeeds; returns its JSON.
    pub fn run(&self, args: &[&str]) -> Result<Value> {
        let out = self.output(true, args)?;
        if !out.status.success() {
            bail!("shopsync {} failed: {}", self.describe(args), failure(&out));
        }
        serde_json::from_slice(&out.stdout)
            .with_context(|| format!("shopsync {} printed no JSON", self.describe(args)))
    }

    /// Runs a command for a person (no `--json`); fails unless it succeeds;
    /// returns what it printed.
    pub fn text(&self, args: &[&str]) -> Result<String> {
        let out = self.output(false, args)?;
        if !out.status.success() {
            bail!("shopsync {} failed: {}", self.describe(args), failure(&out));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs a command and returns whatever happened (for a test that
    /// expects it to fail); killed after [`crate::COMMAND_TIMEOUT`].
    pub fn output(&self, json: bool, args: &[&str]) -> Result<Output> {
        let mut cmd = bounded_command(&self.bin);
        cmd.arg("--db").arg(&self.db);
        if json {
            cmd.arg("--json");
        }
        cmd.args(&self.prefix)
            .args(args)
            .output()
            .with_context(|| format!("cannot run {}", self.bin.display()))
    }

    fn describe(&self, args: &[&str]) -> String {
        let mut all: Vec<&str> = self.prefix.iter().map(String::as_str).collect();
        all.extend_from_slice(args);
        format!("{all:?}")
    }
}

/// A customer with one device on the CLI, signed up with a server.
pub struct Customer {
    pub cli: Cli,
    /// The sign-up's JSON (`customer_id`, `device_id`, …).
    pub account: Value,
    _dir: TempDir,
}

impl Customer {
    /// Signs up `name` on `server` from a new device file.
    pub fn signup(server: &Server, name: &str) -> Result<Customer> {
        let dir = tempfile::Builder::new()
            .prefix("shopsync-web-customer-")
            .tempdir()?;
        let cli = Cli::customer(&dir.path().join("customer.db"))?;
        let account = cli.run(&["signup", "--server", &server.url(), "--name", name])?;
        Ok(Customer {
            cli,
            account,
            _dir: dir,
        })
    }

    /// Runs `shopsync customer ARGS…` with `--json`.
    pub fn run(&self, args: &[&str]) -> Result<Value> {
        self.cli.run(args)
    }
}
