//! The database a test server uses: a SQLite file at the path the test
//! names, or, with `SHOPSYNC_TEST_POSTGRES` set (scripts/with-postgres.sh),
//! a PostgreSQL database made for that path (CREATE DATABASE with a unique
//! name) and dropped when the last server using it is dropped. Tests read
//! the server's tables through [`db_ints`] and friends, on either backend.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// The PostgreSQL server tests run against, if any (a URL whose database
/// may be connected to, to create others).
pub fn postgres_base() -> Option<String> {
    std::env::var("SHOPSYNC_TEST_POSTGRES")
        .ok()
        .filter(|s| !s.is_empty())
}

/// True when the tests run on PostgreSQL.
pub fn on_postgres() -> bool {
    postgres_base().is_some()
}

/// Prints why a test is skipped, past the test harness's output capture
/// (which swallows `eprintln!` of passing tests), so a skip is never silent.
pub fn say_skipped(why: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "skipped: {why}");
}

/// Prints why a test does not apply to PostgreSQL; the caller returns.
pub fn skip_on_postgres(why: &str) -> bool {
    if on_postgres() {
        say_skipped(&format!("on PostgreSQL, {why}"));
        return true;
    }
    false
}

/// Prints why a PostgreSQL-only test does not run; the caller returns.
pub fn skip_without_postgres() -> bool {
    if !on_postgres() {
        say_skipped("PostgreSQL only: set SHOPSYNC_TEST_POSTGRES (scripts/with-postgres.sh)");
        return true;
    }
    false
}

/// `base` with its database name replaced by `name`.
pub fn with_dbname(base: &str, name: &str) -> String {
    let (url, query) = match base.split_once('?') {
        Some((u, q)) => (u, Some(q)),
        None => (base, None),
    };
    let scheme_end = url.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match url[scheme_end..].find('/') {
        Some(i) => &url[..scheme_end + i],
        None => url,
    };
    match query {
        Some(q) => format!("{host_part}/{name}?{q}"),
        None => format!("{host_part}/{name}"),
    }
}

/// Runs `f` on a fresh single-threaded runtime in its own thread (tests may
/// already be inside a runtime).
pub fn block_on<T: Send + 'static>(f: impl std::future::Future<Output = T> + Send + 'static) -> T {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    })
    .join()
    .unwrap()
}

async fn pg_client(url: &str) -> Result<tokio_postgres::Client, tokio_postgres::Error> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    Ok(client)
}

/// One PostgreSQL database made for a test; dropped with its last holder.
pub struct PgDatabase {
    base: String,
    name: String,
    pub url: String,
}

impl PgDatabase {
    fn create(base: &str) -> PgDatabase {
        let name = format!("shopsync_t_{}", uuid::Uuid::new_v4().simple());
        let url = with_dbname(base, &name);
        let (b, n) = (base.to_string(), name.clone());
        block_on(async move {
            let c = pg_client(&b)
                .await
                .expect("connect to SHOPSYNC_TEST_POSTGRES");
            c.batch_execute(&format!("CREATE DATABASE {n}"))
                .await
                .expect("CREATE DATABASE");
        });
        PgDatabase {
            base: base.to_string(),
            name,
            url,
        }
    }
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (b, n) = (self.base.clone(), self.name.clone());
        let dropped = block_on(async move {
            let c = pg_client(&b).await?;
            // FORCE: a killed server's connections may still be closing.
            c.batch_execute(&format!("DROP DATABASE IF EXISTS {n} WITH (FORCE)"))
                .await
        });
        if let Err(e) = dropped {
            eprintln!("could not drop the test database {}: {e}", self.name);
        }
    }
}

/// Databases by the path tests name them with.
static DATABASES: Mutex<Vec<(PathBuf, Arc<PgDatabase>)>> = Mutex::new(Vec::new());

fn registered(path: &Path) -> Option<Arc<PgDatabase>> {
    let base = postgres_base()?;
    let mut dbs = DATABASES.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, db)) = dbs.iter().find(|(p, _)| p == path) {
        return Some(db.clone());
    }
    let db = Arc::new(PgDatabase::create(&base));
    dbs.push((path.to_path_buf(), db.clone()));
    Some(db)
}

/// What `--db` gets for the server database at `path`: the path, or the URL
/// of the PostgreSQL database made for it (made on first use).
pub fn db_arg(path: &Path) -> OsString {
    match registered(path) {
        Some(db) => db.url.clone().into(),
        None => path.as_os_str().to_owned(),
    }
}

/// A server's hold on its database. With PostgreSQL, the last holder of a
/// path's database drops it; `serve_args` keep the replicas of publishing
/// shops and the snapshots for new tills next to the path, as with SQLite.
pub struct TestDb {
    pub arg: OsString,
    pub serve_args: Vec<OsString>,
    path: PathBuf,
    pg: Option<Arc<PgDatabase>>,
}

impl TestDb {
    /// The SQLite file at `path`, whatever the tests run on.
    pub fn sqlite(path: &Path) -> TestDb {
        TestDb {
            arg: path.as_os_str().to_owned(),
            serve_args: Vec::new(),
            path: path.to_path_buf(),
            pg: None,
        }
    }

    pub fn for_path(path: &Path) -> TestDb {
        let pg = registered(path);
        let (arg, serve_args) = match &pg {
            Some(db) => {
                let mut public = path.as_os_str().to_owned();
                public.push(".public");
                let mut snapshots = path.as_os_str().to_owned();
                snapshots.push(".snapshots");
                (
                    db.url.clone().into(),
                    vec![
                        "--public-dir".into(),
                        public,
                        "--snapshot-dir".into(),
                        snapshots,
                    ],
                )
            }
            None => (path.as_os_str().to_owned(), Vec::new()),
        };
        TestDb {
            arg,
            serve_args,
            path: path.to_path_buf(),
            pg,
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(db) = self.pg.take() else { return };
        let mut dbs = DATABASES.lock().unwrap_or_else(|e| e.into_inner());
        // The registry's reference and this one: nobody else uses it.
        if Arc::strong_count(&db) == 2 {
            dbs.retain(|(p, _)| p != &self.path);
        }
        drop(dbs);
        // The last reference drops the database.
        drop(db);
    }
}

/// A value read from the server's database.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Null,
    Int(i64),
    Bytes(Vec<u8>),
}

/// The first row of `sql` on the server database at `path` (same SQL on both
/// backends: keep to what SQLite and PostgreSQL both read the same way).
/// Integer and blob/bytea columns only.
pub fn db_row(path: &Path, sql: &str) -> Vec<Cell> {
    match registered(path) {
        None => {
            let c = rusqlite::Connection::open(path).unwrap();
            c.query_row(sql, [], |r| {
                let n = r.as_ref().column_count();
                (0..n)
                    .map(|i| {
                        Ok(match r.get_ref(i)? {
                            rusqlite::types::ValueRef::Null => Cell::Null,
                            rusqlite::types::ValueRef::Integer(v) => Cell::Int(v),
                            rusqlite::types::ValueRef::Blob(b) => Cell::Bytes(b.to_vec()),
                            other => panic!("unexpected column type {other:?} in {sql}"),
                        })
                    })
                    .collect()
            })
            .unwrap()
        }
        Some(db) => {
            let (url, sql) = (db.url.clone(), sql.to_string());
            block_on(async move {
                let c = pg_client(&url).await.unwrap();
                let row = c.query_one(&sql, &[]).await.unwrap();
                (0..row.len())
                    .map(|i| match row.columns()[i].type_().name() {
                        "int8" => row.get::<_, Option<i64>>(i).map_or(Cell::Null, Cell::Int),
                        "int4" => row
                            .get::<_, Option<i32>>(i)
                            .map_or(Cell::Null, |v| Cell::Int(v.into())),
                        "bytea" => row
                            .get::<_, Option<Vec<u8>>>(i)
                            .map_or(Cell::Null, Cell::Bytes),
                        other => panic!("unexpected column type {other} in {sql}"),
                    })
                    .collect()
            })
        }
    }
}

/// The first row's columns as integers (none may be NULL).
pub fn db_ints(path: &Path, sql: &str) -> Vec<i64> {
    db_row(path, sql)
        .into_iter()
        .map(|c| match c {
            Cell::Int(v) => v,
            other => panic!("not an integer: {other:?} in {sql}"),
        })
        .collect()
}

/// Runs statements on the server database at `path` (either backend).
pub fn db_execute(path: &Path, sql: &str) {
    match registered(path) {
        None => rusqlite::Connection::open(path)
            .unwrap()
            .execute_batch(sql)
            .unwrap(),
        Some(db) => {
            let (url, sql) = (db.url.clone(), sql.to_string());
            block_on(async move {
                pg_client(&url)
                    .await
                    .unwrap()
                    .batch_execute(&sql)
                    .await
                    .unwrap();
            })
        }
    }
}

/// Copies the stopped server database at `from` over the one at `to` (a
/// database put back by hand: it keeps its epoch). SQLite: the file and its
/// WAL; PostgreSQL: `CREATE DATABASE … TEMPLATE`, like a restored dump.
pub fn copy_database(from: &Path, to: &Path) {
    let (Some(src), Some(dst)) = (registered(from), registered(to)) else {
        for suffix in ["", "-wal", "-shm"] {
            let (src, dst) = (
                format!("{}{suffix}", from.display()),
                format!("{}{suffix}", to.display()),
            );
            let _ = std::fs::remove_file(&dst);
            if suffix != "-shm" && Path::new(&src).exists() {
                std::fs::copy(&src, &dst).unwrap();
            }
        }
        return;
    };
    let (base, src, dst) = (src.base.clone(), src.name.clone(), dst.name.clone());
    block_on(async move {
        let c = pg_client(&base).await.unwrap();
        // A killed server's sessions may still be closing; a template must
        // have none.
        c.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
            &[&src],
        )
        .await
        .unwrap();
        // Two statements, two calls (neither runs in a transaction block).
        c.batch_execute(&format!("DROP DATABASE IF EXISTS {dst} WITH (FORCE)"))
            .await
            .unwrap();
        c.batch_execute(&format!("CREATE DATABASE {dst} TEMPLATE {src}"))
            .await
            .unwrap();
    });
}

/// The PostgreSQL URL of the database at `path`, if the tests run there.
pub fn postgres_url(path: &Path) -> Option<String> {
    registered(path).map(|db| db.url.clone())
}
