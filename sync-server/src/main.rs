//! `shopsync-server`: the sync server and its admin commands.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use serde_json::json;
use shopsync_core::access::Role;
use shopsync_server::guard::{GuardOptions, printable};
use shopsync_server::postgres::is_postgres_url;
use shopsync_server::{PgStorage, ServeOptions, SqliteStorage, Storage, admin};

#[derive(Parser, Debug)]
#[command(
    name = "shopsync-server",
    version,
    about = "ShopSync sync server and its admin commands"
)]
struct Cli {
    /// The server's database: a SQLite file, or a PostgreSQL database as
    /// `postgres://USER[:PASSWORD]@HOST:PORT/DBNAME` (docs/OPERATIONS.md).
    #[arg(
        long,
        global = true,
        env = "SHOPSYNC_SERVER_DB",
        default_value = "shopsync-server.db"
    )]
    db: PathBuf,
    /// Print one JSON value on stdout.
    #[arg(long, global = true)]
    json: bool,
    /// Log lines on stderr as text, or as one JSON object each (for a log
    /// collector). The level comes from `SHOPSYNC_LOG` (default `info`).
    #[arg(
        long,
        global = true,
        env = "SHOPSYNC_LOG_FORMAT",
        value_enum,
        default_value = "text"
    )]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Cmd,
}

#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand, Debug)]
enum Cmd {
    /// Stores: `store create --name NAME` prints the store id and a manager enrolment code.
    #[command(subcommand)]
    Store(StoreCmd),
    /// Enrolment codes: `enrol-code create --store ID --role manager|till`.
    #[command(subcommand, name = "enrol-code")]
    EnrolCode(CodeCmd),
    /// Devices: `device list --store ID`, `device revoke DEVICE_ID` (a till's,
    /// a manager's or a customer's device).
    #[command(subcommand)]
    Device(DeviceCmd),
    /// Serve the sync API.
    Serve(ServeArgs),
    /// Copy the database to a new file while the server runs (VACUUM INTO).
    /// SQLite only: back up PostgreSQL with pg_dump.
    Backup { to: PathBuf },
    /// Put a backup in place of the database (stop the server first); the
    /// restored database gets a new epoch, so tills send everything again.
    /// SQLite only: restore PostgreSQL with pg_restore (docs/OPERATIONS.md).
    Restore { from: PathBuf },
    /// Move a SQLite server database into an empty PostgreSQL database
    /// (stop the server first, or it answers writes with 503 from then on);
    /// the epoch and every sequence number are kept, so tills do not notice.
    /// Then start the server with `--db postgres://…`. `--db` is not used.
    #[command(name = "migrate-storage")]
    MigrateStorage {
        /// The SQLite server database file.
        #[arg(long)]
        from: PathBuf,
        /// The PostgreSQL database: `postgres://USER[:PASSWORD]@HOST:PORT/DBNAME`
        /// (better from the environment than the command line, which
        /// others on the machine can read).
        #[arg(long, env = "SHOPSYNC_MIGRATE_TO", hide_env_values = true)]
        to: String,
    },
}

#[derive(Subcommand, Debug)]
enum StoreCmd {
    Create {
        #[arg(long)]
        name: String,
        /// Hours the manager code stays valid.
        #[arg(long, default_value_t = 72)]
        ttl_hours: u64,
    },
}

#[derive(Subcommand, Debug)]
enum CodeCmd {
    Create {
        #[arg(long)]
        store: String,
        #[arg(long, value_parser = ["manager", "till"])]
        role: String,
        #[arg(long, default_value_t = 72)]
        ttl_hours: u64,
        /// Make the code for this till id only: an offline till bringing its
        /// own history (`shopsync info` shows its till id). Without it, the
        /// server gives the enrolling till a new till id.
        #[arg(long)]
        till_id: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
enum DeviceCmd {
    List {
        #[arg(long)]
        store: String,
    },
    Revoke {
        device_id: String,
    },
}

#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, env = "SHOPSYNC_LISTEN", default_value = "127.0.0.1:8787")]
    listen: String,
    /// Serve HTTPS with this PEM certificate chain (with --tls-key).
    #[arg(long, env = "SHOPSYNC_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key for --tls-cert.
    #[arg(long, env = "SHOPSYNC_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Seconds between heartbeats on notice streams.
    #[arg(long, env = "SHOPSYNC_HEARTBEAT_SECS", default_value_t = 15)]
    heartbeat_secs: u64,
    // -- hostile bodies: limits, quotas, metrics access --
    /// Serve GET /metrics (no token) on this address too, e.g. 127.0.0.1:9787.
    #[arg(long, env = "SHOPSYNC_METRICS_LISTEN")]
    metrics_listen: Option<String>,
    /// Serve GET /metrics on the main listener to callers presenting this
    /// bearer token (without it, /metrics is not served there).
    #[arg(long, env = "SHOPSYNC_METRICS_TOKEN")]
    metrics_token: Option<String>,
    /// Seconds a request may take before it is answered 408.
    #[arg(long, env = "SHOPSYNC_REQUEST_TIMEOUT_SECS", default_value_t = 120)]
    request_timeout_secs: u64,
    /// Open notice streams one device may hold.
    #[arg(long, env = "SHOPSYNC_MAX_STREAMS_PER_DEVICE", default_value_t = 4)]
    max_streams_per_device: usize,
    /// Open notice streams in total.
    #[arg(long, env = "SHOPSYNC_MAX_STREAMS", default_value_t = 10_000)]
    max_streams: usize,
    /// Ledger documents (month partitions) one device's till may have.
    #[arg(long, env = "SHOPSYNC_QUOTA_DOCUMENTS", default_value_t = 5_000)]
    quota_documents: u64,
    /// Bytes of changes one device may upload per UTC day.
    #[arg(long, env = "SHOPSYNC_QUOTA_BYTES_PER_DAY", default_value_t = 1024 * 1024 * 1024)]
    quota_bytes_per_day: u64,
    /// Customer sign-ups (POST /v1/customers) one client address may make per minute.
    #[arg(long, env = "SHOPSYNC_SIGNUPS_PER_MINUTE", default_value_t = 10)]
    signups_per_minute: u32,
    /// Where the server keeps its replicas of shops that publish their
    /// catalog (caches). Default: `{db}.public` next to a SQLite file;
    /// `shopsync-server.public` in the working folder with PostgreSQL.
    #[arg(long, env = "SHOPSYNC_PUBLIC_DIR")]
    public_dir: Option<PathBuf>,
    /// Where the server keeps its copies of large stores that new tills
    /// download whole (caches, as big as a till's file each). Default:
    /// `{db}.snapshots` next to a SQLite file; `shopsync-server.snapshots`
    /// in the working folder with PostgreSQL.
    #[arg(long, env = "SHOPSYNC_SNAPSHOT_DIR")]
    snapshot_dir: Option<PathBuf>,
    /// A store gets a copy for new tills once it holds this many changes
    /// (0: never; new tills then download every change).
    #[arg(long, env = "SHOPSYNC_SNAPSHOT_FROM", default_value_t = shopsync_server::DEFAULT_SNAPSHOT_FROM)]
    snapshot_from: u64,
    /// The least time between two refreshes of one store's copy, in seconds.
    #[arg(long, env = "SHOPSYNC_SNAPSHOT_EVERY_SECS", default_value_t = 60)]
    snapshot_every_secs: u64,
    /// Do not serve the customer's web app at / (it is served by default).
    #[arg(
        long,
        env = "SHOPSYNC_NO_WEB_APP",
        value_parser = clap::builder::BoolishValueParser::new()
    )]
    no_web_app: bool,
    /// Publish events (sales, catalog, low stock, orders) to this NATS
    /// server's JetStream, e.g. nats://127.0.0.1:4222 (docs/EVENTS.md).
    /// Credentials in the URL (nats://user:password@host) are sent with
    /// NATS' user/password authentication and never logged.
    #[arg(long, env = "SHOPSYNC_NATS", hide_env_values = true)]
    nats: Option<String>,
}

impl std::fmt::Debug for ServeArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeArgs")
            .field("listen", &self.listen)
            .field("tls_cert", &self.tls_cert)
            .field("tls_key", &self.tls_key.as_ref().map(|_| "<redacted>"))
            .field("heartbeat_secs", &self.heartbeat_secs)
            .field("metrics_listen", &self.metrics_listen)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "<redacted>"),
            )
            .field("request_timeout_secs", &self.request_timeout_secs)
            .field("max_streams_per_device", &self.max_streams_per_device)
            .field("max_streams", &self.max_streams)
            .field("quota_documents", &self.quota_documents)
            .field("quota_bytes_per_day", &self.quota_bytes_per_day)
            .field("signups_per_minute", &self.signups_per_minute)
            .field("public_dir", &self.public_dir)
            .field("snapshot_dir", &self.snapshot_dir)
            .field("snapshot_from", &self.snapshot_from)
            .field("snapshot_every_secs", &self.snapshot_every_secs)
            .field("no_web_app", &self.no_web_app)
            // A URL may carry a user and password.
            .field("nats", &self.nats.as_ref().map(|_| "<set>"))
            .finish()
    }
}

fn print(json_mode: bool, value: serde_json::Value, human: String) -> Result<()> {
    let mut out = std::io::stdout().lock();
    if json_mode {
        writeln!(out, "{value}")?;
    } else {
        writeln!(out, "{}", human.trim_end())?;
    }
    out.flush()?;
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let logs = tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SHOPSYNC_LOG")
                .unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().init(),
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(run(cli))
}

/// The PostgreSQL URL `--db` names, if it names one.
fn postgres_url(db: &std::path::Path) -> Option<&str> {
    db.to_str().filter(|s| is_postgres_url(s))
}

async fn run(cli: Cli) -> Result<()> {
    if let Cmd::MigrateStorage { from, to } = &cli.command {
        return migrate_storage(cli.json, from, to).await;
    }
    if let Some(url) = postgres_url(&cli.db) {
        if let Cmd::Restore { .. } = &cli.command {
            anyhow::bail!(
                "`restore` replaces a SQLite database file; this server stores its data in PostgreSQL: \
                 restore a pg_dump backup with pg_restore (docs/OPERATIONS.md, \"Backups on PostgreSQL\")"
            );
        }
        let storage = PgStorage::connect(url)
            .await
            .context("cannot open the server database in PostgreSQL")?;
        let label = format!("postgres://{}", storage.target());
        return run_with(cli, storage, label, PathBuf::from("shopsync-server.public")).await;
    }
    // restore: replaces the database file, so it runs before opening it.
    if let Cmd::Restore { from } = &cli.command {
        let epoch = shopsync_server::restore::restore_file(from, &cli.db)
            .with_context(|| format!("cannot restore {}", from.display()))?;
        return print(
            cli.json,
            json!({ "restored": from, "db": cli.db, "epoch": epoch }),
            format!(
                "restored {} into {} (new epoch {epoch}: tills send everything again on their next sync)",
                from.display(),
                cli.db.display()
            ),
        );
    }
    let storage = SqliteStorage::open(&cli.db)
        .with_context(|| format!("cannot open the server database {}", cli.db.display()))?;
    let label = cli.db.display().to_string();
    let public = public_dir(&cli.db);
    run_with(cli, storage, label, public).await
}

/// `migrate-storage`: progress on stderr, a summary on stdout.
async fn migrate_storage(json_out: bool, from: &std::path::Path, to: &str) -> Result<()> {
    if !is_postgres_url(to) {
        // Not echoed: it may hold a password.
        anyhow::bail!("--to must be a PostgreSQL URL (postgres://USER@HOST:PORT/DBNAME)");
    }
    let started = std::time::Instant::now();
    let mut last_said = std::time::Instant::now();
    let mut progress = |table: &str, done: u64, total: u64| {
        if done == total || last_said.elapsed() >= std::time::Duration::from_secs(2) {
            eprintln!("{table}: {done} of {total} rows");
            last_said = std::time::Instant::now();
        }
    };
    let moved = shopsync_server::migrate_storage::migrate(from, to, &mut progress)
        .await
        .with_context(|| format!("cannot move {} to PostgreSQL", from.display()))?;
    let rows: u64 = moved.tables.iter().map(|(_, n)| n).sum();
    print(
        json_out,
        json!({
            "from": from,
            "to": format!("postgres://{}", moved.target),
            "epoch": moved.epoch,
            "tables": moved.tables.iter().map(|(t, n)| json!({ "table": t, "rows": n })).collect::<Vec<_>>(),
            "seconds": started.elapsed().as_secs_f64(),
        }),
        format!(
            "moved {rows} rows from {} to postgres://{} in {:.1} s (epoch {} kept: tills do not send their history again); \
             {} now refuses to serve: start the server with --db postgres://…",
            from.display(),
            moved.target,
            started.elapsed().as_secs_f64(),
            moved.epoch,
            from.display()
        ),
    )
}

/// SIGHUP asks a TLS server to load its certificate again (tls_reload.rs);
/// its default action, ending the process, must never take a server down,
/// TLS or not, from the moment it says it listens. Once tokio handles a
/// signal it does so for the life of the process.
fn ignore_hangup(tls: bool) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::hangup()) {
            Ok(mut hangups) if !tls => {
                tokio::spawn(async move {
                    while hangups.recv().await.is_some() {
                        tracing::info!("SIGHUP: no TLS certificate to load again");
                    }
                });
            }
            Ok(_) => {}
            Err(e) => tracing::warn!("cannot handle SIGHUP: {e}"),
        }
    }
    #[cfg(not(unix))]
    let _ = tls;
}

/// Runs the command on an open database (`label` names it in logs, never
/// with a password; `default_public` is where replicas go by default).
async fn run_with<S: Storage>(
    cli: Cli,
    storage: S,
    label: String,
    default_public: PathBuf,
) -> Result<()> {
    let j = cli.json;
    match cli.command {
        Cmd::Store(StoreCmd::Create { name, ttl_hours }) => {
            let (store, code) =
                admin::create_store(&storage, &name, Duration::from_secs(ttl_hours * 3600)).await?;
            print(
                j,
                json!({ "store_id": store.store_id, "name": store.name, "enrol_code": code }),
                format!(
                    "store {} created ({})\nmanager enrolment code: {code} (valid {ttl_hours} h, single use)\n\
                     on the first till: shopsync enrol --server URL --code {code}",
                    store.store_id, store.name
                ),
            )
        }
        Cmd::EnrolCode(CodeCmd::Create {
            store,
            role,
            ttl_hours,
            till_id,
        }) => {
            let role = Role::parse(&role).context("role must be manager or till")?;
            let code = admin::create_code_for(
                &storage,
                &store,
                role,
                Duration::from_secs(ttl_hours * 3600),
                till_id.as_deref(),
            )
            .await?;
            let for_till = till_id
                .as_deref()
                .map(|t| format!(", only for till {t}"))
                .unwrap_or_default();
            print(
                j,
                json!({ "enrol_code": code, "store_id": store, "role": role, "till_id": till_id }),
                format!(
                    "{role} enrolment code for store {store}: {code} (valid {ttl_hours} h, single use{for_till})"
                ),
            )
        }
        Cmd::Device(DeviceCmd::List { store }) => {
            let devices = admin::list_devices(&storage, &store).await?;
            let mut human = String::new();
            for d in &devices {
                human.push_str(&format!(
                    "{}  {:<8} {:<20} till {}{}\n",
                    d.device_id,
                    d.role.as_str(),
                    printable(&d.till_name),
                    d.till_id,
                    if d.revoked { "  (revoked)" } else { "" }
                ));
            }
            if devices.is_empty() {
                human.push_str("no devices\n");
            }
            print(j, serde_json::to_value(&devices)?, human)
        }
        Cmd::Device(DeviceCmd::Revoke { device_id }) => {
            admin::revoke(&storage, &device_id).await?;
            print(
                j,
                json!({ "device_id": device_id, "revoked": true }),
                format!("device {device_id} revoked"),
            )
        }
        Cmd::Backup { to } => {
            admin::backup(&storage, &to).await?;
            print(
                j,
                json!({ "backup": to }),
                format!("backed up to {}", to.display()),
            )
        }
        Cmd::Restore { .. } | Cmd::MigrateStorage { .. } => Ok(()),
        Cmd::Serve(args) => {
            tracing::info!(db = %label, config = ?args, "starting");
            let nats = args.nats.clone().filter(|u| !u.is_empty());
            if let Some(url) = &nats {
                // Refused now, not retried forever by the publisher. (The
                // error names no URL: it may carry a password.)
                shopsync_server::nats_url::NatsTarget::parse(url)
                    .map_err(|e| anyhow::anyhow!("--nats is not a NATS server URL: {e}"))?;
            }
            if nats.is_some() && !storage.keeps_outbox() {
                anyhow::bail!("--nats needs a storage with an event outbox (docs/EVENTS.md)");
            }
            let listener = std::net::TcpListener::bind(&args.listen)
                .with_context(|| format!("cannot listen on {}", args.listen))?;
            let addr = listener.local_addr()?;
            ignore_hangup(args.tls_cert.is_some());
            let scheme = if args.tls_cert.is_some() {
                "https"
            } else {
                "http"
            };
            print(
                j,
                json!({ "listening": format!("{scheme}://{addr}") }),
                format!("listening on {scheme}://{addr}"),
            )?;
            let metrics_listener = match &args.metrics_listen {
                Some(a) => {
                    let l = std::net::TcpListener::bind(a)
                        .with_context(|| format!("cannot listen on {a} for metrics"))?;
                    let maddr = l.local_addr()?;
                    print(
                        j,
                        json!({ "metrics": format!("http://{maddr}/metrics") }),
                        format!("metrics on http://{maddr}/metrics"),
                    )?;
                    Some(l)
                }
                None => None,
            };
            let guard = GuardOptions {
                request_timeout: Duration::from_secs(args.request_timeout_secs.max(1)),
                streams_per_device: args.max_streams_per_device.max(1),
                streams_total: args.max_streams.max(1),
                documents_per_device: args.quota_documents,
                bytes_per_day: args.quota_bytes_per_day,
                metrics_token: args.metrics_token.filter(|t| !t.is_empty()),
            };
            let options = ServeOptions {
                heartbeat: Duration::from_secs(args.heartbeat_secs.max(1)),
                tls: args.tls_cert.zip(args.tls_key),
                guard,
                // Replicas of the shops that publish (caches: deleting them
                // only costs a rebuild).
                public_dir: Some(args.public_dir.unwrap_or_else(|| default_public.clone())),
                // Copies of large stores for new tills (caches too).
                snapshot_dir: Some(
                    args.snapshot_dir
                        .unwrap_or_else(|| sibling(&default_public, "snapshots")),
                ),
                snapshot_from: args.snapshot_from,
                snapshot_every: Duration::from_secs(args.snapshot_every_secs),
                signups_per_minute: args.signups_per_minute,
                web_app: !args.no_web_app,
                nats,
                ..ServeOptions::default()
            };
            shopsync_server::serve_with_metrics(
                listener,
                metrics_listener,
                storage,
                options,
                shutdown_signal(),
            )
            .await?;
            tracing::info!("stopped");
            Ok(())
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

/// `{name}.public` → `{name}.{ext}`: the default folders sit side by side.
fn sibling(public: &std::path::Path, ext: &str) -> PathBuf {
    public.with_extension(ext)
}

/// Where replicas of publishing shops live: `{db}.public/`.
fn public_dir(db: &std::path::Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".public");
    db.with_file_name(name)
}
