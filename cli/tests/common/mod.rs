//! Shared setup for the CLI's tests: a till is a store file in a temporary
//! directory, driven through the real `shopsync` binary (optionally under
//! `faketime`), with its JSON output parsed. Each test file declares
//! `mod common;` and imports what it uses.

// Every test binary compiles its own copy of this module and uses only part
// of it; the rest would warn as dead code there.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// What a test returns: any error fails it.
pub type R = Result<(), Box<dyn std::error::Error>>;

/// Any error, for helpers that return a value.
pub type E = Box<dyn std::error::Error>;

/// The `shopsync` binary under test.
pub const BIN: &str = env!("CARGO_BIN_EXE_shopsync");

/// A path as the text a command line takes.
pub fn path(p: &Path) -> Result<&str, E> {
    Ok(p.to_str().ok_or("path is not UTF-8")?)
}

/// What one run of the binary gave.
pub struct Run {
    /// Whether it exited with success.
    pub ok: bool,
    /// Its standard output.
    pub stdout: String,
    /// Its standard error.
    pub stderr: String,
}

/// A till: its store file, and how far its clock is off (a faketime offset
/// such as `+365d`; `None` for the real clock).
pub struct Till {
    /// The store file passed as `--db`.
    pub db: PathBuf,
    /// The faketime offset every command of this till runs under.
    pub offset: Option<&'static str>,
}

impl Till {
    /// The till at `dir/<name>.db`, on the real clock.
    pub fn new(dir: &Path, name: &str) -> Till {
        Till::faked(dir, name, None)
    }

    /// The till at `dir/<name>.db`, its clock off by `offset` (under faketime).
    pub fn faked(dir: &Path, name: &str, offset: Option<&'static str>) -> Till {
        Till {
            db: dir.join(format!("{name}.db")),
            offset,
        }
    }

    /// Runs `shopsync --db DB ARGS…` and collects what it printed.
    pub fn run(&self, args: &[&str]) -> Result<Run, E> {
        self.run_env(args, &[])
    }

    /// Like `run`, with these environment variables set (staff PINs of the
    /// test's own environment never leak in).
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Result<Run, E> {
        let mut cmd = match self.offset {
            Some(off) => {
                let mut c = Command::new("faketime");
                c.args(["-f", off, BIN]);
                c
            }
            None => Command::new(BIN),
        };
        cmd.env_remove("SHOPSYNC_PIN")
            .env_remove("SHOPSYNC_APPROVE_PIN")
            .envs(env.iter().copied());
        let out = cmd.arg("--db").arg(&self.db).args(args).output()?;
        Ok(Run {
            ok: out.status.success(),
            stdout: String::from_utf8(out.stdout)?,
            stderr: String::from_utf8(out.stderr)?,
        })
    }

    /// Runs with `--json`, expects success, returns the parsed output.
    pub fn json(&self, args: &[&str]) -> Result<Value, E> {
        let mut full = vec!["--json"];
        full.extend_from_slice(args);
        let r = self.run(&full)?;
        if !r.ok {
            return Err(format!("shopsync {args:?} failed: {}", r.stderr).into());
        }
        Ok(serde_json::from_str(&r.stdout)?)
    }

    /// Runs without `--json` (human output), expects success, returns stdout.
    pub fn human(&self, args: &[&str]) -> Result<String, E> {
        let r = self.run(args)?;
        if !r.ok {
            return Err(format!("shopsync {args:?} failed: {}", r.stderr).into());
        }
        Ok(r.stdout)
    }

    /// Expects failure with one line on stderr and nothing on stdout; returns the line.
    pub fn fails(&self, args: &[&str]) -> Result<String, E> {
        let r = self.run(args)?;
        if r.ok {
            return Err(format!("shopsync {args:?} should have failed: {}", r.stdout).into());
        }
        assert_eq!(
            r.stderr.trim_end().lines().count(),
            1,
            "one-line error expected: {:?}",
            r.stderr
        );
        assert!(
            r.stdout.is_empty(),
            "nothing on stdout on failure: {:?}",
            r.stdout
        );
        Ok(r.stderr.trim_end().to_string())
    }

    /// The on-hand stock of `sku`, from `stock SKU` (one line, that SKU's).
    pub fn on_hand(&self, sku: &str) -> Result<i64, E> {
        let v = self.json(&["stock", sku])?;
        let arr = v.as_array().ok_or("stock is not an array")?;
        assert_eq!(arr.len(), 1);
        assert_eq!(arr[0]["sku"], sku);
        arr[0]["on_hand"]
            .as_i64()
            .ok_or_else(|| "on_hand is not an integer".into())
    }

    /// Creates the store `store` (EUR) with this till, named `till`.
    pub fn init(&self, store: &str, till: &str) -> Result<Value, E> {
        self.json(&[
            "init",
            "--store-name",
            store,
            "--till",
            till,
            "--currency",
            "EUR",
        ])
    }

    /// Adds a product with only a SKU, a name and a price (a decimal string).
    pub fn add_product(&self, sku: &str, name: &str, price: &str) -> Result<Value, E> {
        self.json(&[
            "product", "add", "--sku", sku, "--name", name, "--price", price,
        ])
    }

    /// Counts `sku` in a count of its own: start, record `qty`, post.
    pub fn count(&self, sku: &str, qty: &str) -> R {
        let started = self.json(&["count", "start", sku])?;
        let id = started["count_id"].as_str().ok_or("count_id")?.to_string();
        self.json(&["count", "record", &id, sku, qty])?;
        self.json(&["count", "post", &id])?;
        Ok(())
    }

    /// This till's bundle file: its store file with `.bundle` for `.db`.
    pub fn bundle(&self) -> PathBuf {
        self.db.with_extension("bundle")
    }

    /// Creates this till, named `till`, from `from`'s bundle.
    pub fn join(&self, from: &Till, till: &str) -> Result<Value, E> {
        let bundle = from.bundle();
        from.json(&["bundle", "export", path(&bundle)?])?;
        self.json(&["init", "--from-bundle", path(&bundle)?, "--till", till])
    }

    /// Sends everything this till has to `to` by bundle.
    pub fn send_to(&self, to: &Till) -> R {
        let bundle = self.bundle();
        self.json(&["bundle", "export", path(&bundle)?])?;
        to.json(&["bundle", "import", path(&bundle)?])?;
        Ok(())
    }
}

/// Sends `a`'s documents to `b`, then `b`'s back to `a`.
pub fn exchange(a: &Till, b: &Till) -> R {
    a.send_to(b)?;
    b.send_to(a)
}

/// A customer's phone, as far as the till's tests need one: it writes its
/// requests document for one store and hands the changes to a till's file
/// as a bundle, with the core (a sync server would carry them).
pub struct Customer {
    /// The customer id (letters and digits).
    pub id: String,
    requests: automerge::AutoCommit,
}

impl Customer {
    pub fn new(id: &str) -> Customer {
        Customer {
            id: id.into(),
            requests: automerge::AutoCommit::new(),
        }
    }

    /// Sends order `order_id`, of `(sku, qty)` lines (a SKU of "" is a
    /// free-text line "something"), from list `list` to `till`'s store.
    pub fn send(&mut self, till: &Till, order_id: &str, list: &str, lines: &[(&str, i64)]) -> R {
        use shopsync_core::orders::records::{OrderRequest, RequestLine};
        let mut store = shopsync_core::Store::open(&till.db)?;
        let order = OrderRequest {
            id: order_id.into(),
            customer_name: format!("Customer {}", self.id),
            list_id: None,
            list_name: list.into(),
            note: None,
            sent_at: store.now_ms(),
            lines: lines
                .iter()
                .enumerate()
                .map(|(i, (sku, qty))| RequestLine {
                    line: i as u32 + 1,
                    sku: (!sku.is_empty()).then(|| sku.to_string()),
                    text: if sku.is_empty() {
                        "something".into()
                    } else {
                        sku.to_string()
                    },
                    qty: *qty,
                })
                .collect(),
        };
        shopsync_core::orders::customer_side::put_order(&mut self.requests, order)?;
        self.requests.commit();
        let store_id = store.info().store_id.clone();
        store.import_bundle(shopsync_core::bundle::Bundle {
            store_id: store_id.clone(),
            docs: vec![(
                shopsync_core::ids::DocId::order_requests(&store_id, &self.id),
                self.requests.get_changes(&[]),
            )],
        })?;
        Ok(())
    }
}

/// (on hand, reserved, available) of `sku`, from `stock SKU --json`.
pub fn stock_of(till: &Till, sku: &str) -> Result<(i64, i64, i64), E> {
    let v = till.json(&["stock", sku])?;
    let l = &v.as_array().ok_or("stock is not an array")?[0];
    let n = |k: &str| l[k].as_i64().ok_or(format!("{k} is not an integer"));
    Ok((n("on_hand")?, n("reserved")?, n("available")?))
}

// Not every test binary prints.
#[allow(unused_imports)]
pub use shopsync_testkit::printer::{LoopbackPrinter, contains_bytes, offline_printer};
