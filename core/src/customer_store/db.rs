//! Opening a customer's SQLite file: the till's pragmas, the customer's own
//! migrations (`migrations/customer`), and a refusal to open a till's file.

use std::path::Path;

use include_dir::{Dir, include_dir};
use rusqlite::Connection;
use rusqlite_migration::Migrations;

use crate::error::{CoreError, Result};

static MIGRATION_DIR: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../migrations/customer");

fn migrations() -> Result<Migrations<'static>> {
    Migrations::from_directory(&MIGRATION_DIR)
        .map_err(|e| CoreError::Corrupt(format!("embedded migrations are malformed: {e}")))
}

/// Opens (creating if needed) a customer's file and brings its schema up to
/// date. A till's store is refused before anything is written to it.
pub fn open(path: &Path) -> Result<Connection> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .map_err(|e| CoreError::io(format!("cannot create {}", dir.display()), e))?;
    }
    let mut conn = Connection::open(path)?;
    crate::db::configure(&conn)?;
    if is_till_file(&conn)? {
        return Err(CoreError::invalid(
            "db",
            format!(
                "{} is a till's store, not a customer's: give the customer's own file with --db",
                path.display()
            ),
        ));
    }
    migrations()?.to_latest(&mut conn)?;
    Ok(conn)
}

/// A till's file has `till_id` in its `meta`; a customer's never does.
fn is_till_file(conn: &Connection) -> Result<bool> {
    let has_meta: bool = conn
        .prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'")?
        .exists([])?;
    if !has_meta {
        return Ok(false);
    }
    Ok(conn
        .prepare("SELECT 1 FROM meta WHERE key = 'till_id'")?
        .exists([])?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_are_valid() -> Result<()> {
        migrations()?.validate()?;
        Ok(())
    }

    #[test]
    fn a_tills_file_is_refused_and_left_alone() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| CoreError::io("tempdir", e))?;
        let till = dir.path().join("till.db");
        drop(crate::Store::init(
            &till,
            crate::InitOptions {
                store_name: "Corner Shop".into(),
                till_name: "T1".into(),
                currency: "EUR".into(),
            },
        )?);
        conn_version(&till, 6)?;
        let err = open(&till).err();
        assert!(
            matches!(&err, Some(CoreError::Invalid { field: Some(f), .. }) if f == "db"),
            "{err:?}"
        );
        conn_version(&till, 6)?;
        Ok(())
    }

    fn conn_version(path: &Path, at_least: i64) -> Result<()> {
        let conn = Connection::open(path)?;
        let v: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
        assert!(v >= at_least, "user_version {v}");
        Ok(())
    }
}
