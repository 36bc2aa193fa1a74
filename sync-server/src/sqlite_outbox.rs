//! The event outbox on SQLite (migration 06-outbox; docs/EVENTS.md):
//! queued inside `store_changes`' transaction, read and deleted by the
//! publisher.

use std::collections::HashMap;

use rusqlite::{Connection, params};

use crate::events::OutboxEvent;
use crate::storage::{OutboxBacklog, OutboxRow, StorageResult};

/// Events grouped by the change they come from, in their order.
pub(crate) fn by_change(events: Vec<OutboxEvent>) -> HashMap<[u8; 32], Vec<OutboxEvent>> {
    let mut out: HashMap<[u8; 32], Vec<OutboxEvent>> = HashMap::new();
    for e in events {
        out.entry(e.change_hash).or_default().push(e);
    }
    out
}

/// Queues `events` (in the caller's transaction). An event id already
/// waiting is not queued twice.
pub(crate) fn queue(conn: &Connection, events: &[OutboxEvent]) -> StorageResult<()> {
    let now = chrono::Utc::now().timestamp_millis();
    let mut insert = conn.prepare_cached(
        "INSERT INTO event_outbox (event_id, subject, payload, created_ms) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (event_id) DO NOTHING",
    )?;
    for e in events {
        insert.execute(params![e.event_id, e.subject, e.payload, now])?;
    }
    Ok(())
}

pub(crate) fn batch(conn: &Connection, after: i64, limit: u32) -> StorageResult<Vec<OutboxRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, event_id, subject, payload, created_ms FROM event_outbox
         WHERE id > ?1 ORDER BY id LIMIT ?2",
    )?;
    let rows = stmt
        .query_map(params![after, limit], |r| {
            Ok(OutboxRow {
                id: r.get(0)?,
                event_id: r.get(1)?,
                subject: r.get(2)?,
                payload: r.get(3)?,
                created_ms: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub(crate) fn delete(conn: &mut Connection, upto: i64) -> StorageResult<()> {
    conn.execute("DELETE FROM event_outbox WHERE id <= ?1", [upto])?;
    Ok(())
}

pub(crate) fn backlog(conn: &Connection) -> StorageResult<OutboxBacklog> {
    let (events, oldest_ms): (i64, Option<i64>) = conn.query_row(
        "SELECT count(*), min(created_ms) FROM event_outbox",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(OutboxBacklog {
        events: events.max(0) as u64,
        oldest_ms,
    })
}
