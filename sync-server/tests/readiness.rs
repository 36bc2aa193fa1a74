//! Operating a server: `/readyz` for a load balancer, and JSON log lines
//! for a log collector (issue 11, "Deployment").

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use std::time::Duration;

use common::{
    BIN, R, Server, TestDb, db_execute, db_ints, on_postgres, skip_on_postgres, wait_for,
};

/// Status and body; a refusal's body is the server's error message.
fn get(url: &str, path: &str) -> Result<(u16, String), Box<dyn std::error::Error>> {
    let resp = common::json_client().get(format!("{url}{path}")).send()?;
    let status = resp.status().as_u16();
    let body = resp.text()?;
    if status == 200 {
        return Ok((status, body));
    }
    let v: serde_json::Value = serde_json::from_str(&body)?;
    assert_eq!(v["error"]["code"], "not_ready", "{body}");
    Ok((
        status,
        v["error"]["message"].as_str().unwrap_or("").to_string(),
    ))
}

/// Ready while its database opens and reads; 503 with the reason when the
/// database's folder goes away under the running process (a volume
/// unmounted), though its open connections would still answer; ready
/// again once it is back. `/healthz` says only that the process answers.
#[test]
fn readyz_follows_the_database_and_healthz_the_process() -> R {
    if skip_on_postgres(
        "moves the SQLite file's folder away (PostgreSQL going away: postgres_outage.rs)",
    ) {
        return Ok(());
    }
    let dir = tempfile::tempdir()?;
    let data = dir.path().join("data");
    let server = Server::start(&data.join("server.db"));
    assert_eq!(get(&server.url, "/readyz")?, (200, "ready\n".to_string()));

    let away = dir.path().join("away");
    std::fs::rename(&data, &away)?;
    // An answer stands for a second (a burst of probes opens the file once).
    let waited = wait_for("503 from /readyz", || {
        get(&server.url, "/readyz").is_ok_and(|(status, _)| status == 503)
    });
    assert!(waited <= Duration::from_millis(1_500), "{waited:?}");
    let (status, body) = get(&server.url, "/readyz")?;
    assert_eq!(status, 503, "{body}");
    assert!(body.starts_with("not ready: the database"), "{body}");
    assert!(body.contains("server.db"), "{body}");
    assert_eq!(get(&server.url, "/healthz")?, (200, "ok\n".to_string()));

    std::fs::rename(&away, &data)?;
    wait_for("200 from /readyz", || {
        get(&server.url, "/readyz").is_ok_and(|(status, _)| status == 200)
    });
    assert_eq!(get(&server.url, "/readyz")?, (200, "ready\n".to_string()));
    Ok(())
}

/// A database file replaced by one at another schema (an older backup
/// copied over it) is not ready either.
#[test]
fn readyz_refuses_a_database_at_another_schema() -> R {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("server.db");
    let server = Server::start(&db);
    assert_eq!(get(&server.url, "/readyz")?.0, 200);
    let version = if on_postgres() {
        // refinery's history: the last migration applied is the schema.
        let version = db_ints(
            &db,
            "SELECT MAX(version)::bigint FROM refinery_schema_history",
        )[0];
        db_execute(
            &db,
            &format!("DELETE FROM refinery_schema_history WHERE version = {version}"),
        );
        version
    } else {
        let conn = rusqlite::Connection::open(&db)?;
        let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        conn.pragma_update(None, "user_version", version - 1)?;
        version
    };
    wait_for("503 from /readyz", || {
        get(&server.url, "/readyz").is_ok_and(|(status, _)| status == 503)
    });
    let (status, body) = get(&server.url, "/readyz")?;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains(&format!("schema {}", version - 1)), "{body}");
    Ok(())
}

/// `--log-format json`: every line the server logs is one JSON object with
/// a level and a message.
#[test]
fn json_logs_are_one_object_per_line() -> R {
    let dir = tempfile::tempdir()?;
    let database = TestDb::for_path(&dir.path().join("server.db"));
    let mut child = Command::new(BIN)
        .arg("--db")
        .arg(&database.arg)
        .args(["--log-format", "json", "serve", "--listen", "127.0.0.1:0"])
        .args(&database.serve_args)
        .env("SHOPSYNC_LOG", "info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    let mut first = String::new();
    BufReader::new(child.stdout.take().ok_or("stdout")?).read_line(&mut first)?;
    assert!(first.starts_with("listening on "), "{first:?}");
    child.kill()?;
    child.wait()?;
    let mut lines = 0;
    for line in BufReader::new(child.stderr.take().ok_or("stderr")?).lines() {
        let line = line?;
        let v: serde_json::Value = serde_json::from_str(&line)
            .map_err(|e| format!("not a JSON log line ({e}): {line}"))?;
        assert!(v["level"].is_string(), "{line}");
        assert!(v["fields"]["message"].is_string(), "{line}");
        lines += 1;
    }
    assert!(lines > 0, "the server logged nothing at info");
    Ok(())
}
