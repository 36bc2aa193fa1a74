//! Carts parked at this till (local state, not replicated): a cashier puts a
//! customer's cart aside, serves the next one, and resumes it later — even
//! after a restart.

use rusqlite::{OptionalExtension, params};
use shopsync_types::ipc::{CartLineInput, ParkedCart};

use crate::error::{CoreError, Result};
use crate::ids::new_id;
use crate::store::Store;

fn decode(id: String, at: i64, label: String, json: &str) -> Result<ParkedCart> {
    let lines: Vec<CartLineInput> = serde_json::from_str(json)
        .map_err(|e| CoreError::Corrupt(format!("parked cart {id} does not decode: {e}")))?;
    Ok(ParkedCart {
        id,
        label,
        parked_at: chrono::DateTime::from_timestamp_millis(at).unwrap_or_default(),
        lines,
    })
}

impl Store {
    /// Parks a cart under a label (an empty label gets the time).
    pub fn park_cart(&mut self, label: &str, lines: &[CartLineInput]) -> Result<ParkedCart> {
        self.authorize_acting(&[crate::staff::Action::Park])?;
        if lines.is_empty() {
            return Err(CoreError::invalid(
                "lines",
                "the cart is empty: nothing to park",
            ));
        }
        let json = serde_json::to_string(lines)
            .map_err(|e| CoreError::Corrupt(format!("cart does not encode: {e}")))?;
        let now = self.now_ms();
        let label = match label.trim() {
            "" => chrono::DateTime::from_timestamp_millis(now)
                .map(|t| self.zone.local(t).format("Cart %H:%M").to_string())
                .unwrap_or_else(|| "Cart".into()),
            l => l.to_string(),
        };
        let id = new_id();
        self.conn.execute(
            "INSERT INTO parked_carts (id, parked_at, label, cart_json) VALUES (?1, ?2, ?3, ?4)",
            params![id, now, label, json],
        )?;
        decode(id, now, label, &json)
    }

    /// Parked carts, oldest first.
    pub fn parked_carts(&self) -> Result<Vec<ParkedCart>> {
        let rows: Vec<(String, i64, String, String)> = self
            .conn
            .prepare(
                "SELECT id, parked_at, label, cart_json FROM parked_carts ORDER BY parked_at, id",
            )?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<rusqlite::Result<_>>()?;
        rows.into_iter()
            .map(|(id, at, label, json)| decode(id, at, label, &json))
            .collect()
    }

    /// Takes a parked cart back (it is no longer parked).
    pub fn resume_parked_cart(&mut self, id: &str) -> Result<ParkedCart> {
        let tx = self.conn.transaction()?;
        let row: Option<(String, i64, String, String)> = tx
            .query_row(
                "SELECT id, parked_at, label, cart_json FROM parked_carts WHERE id = ?1",
                [id.trim()],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .optional()?;
        let (id, at, label, json) =
            row.ok_or_else(|| CoreError::not_found("parked cart", id.trim()))?;
        tx.execute("DELETE FROM parked_carts WHERE id = ?1", [&id])?;
        tx.commit()?;
        decode(id, at, label, &json)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::InitOptions;

    #[test]
    fn park_list_resume() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| CoreError::io("tempdir", e))?;
        let mut s = Store::init(
            &dir.path().join("t.db"),
            InitOptions {
                store_name: "S".into(),
                till_name: "T".into(),
                currency: "EUR".into(),
            },
        )?;
        assert!(s.park_cart("x", &[]).is_err());
        let line = CartLineInput {
            code: "A1".into(),
            qty: 2,
            unit_price: None,
            override_reason: None,
            discount_bp: 0,
        };
        let p = s.park_cart("Mrs Smith", std::slice::from_ref(&line))?;
        assert_eq!(s.parked_carts()?.len(), 1);
        let back = s.resume_parked_cart(&p.id)?;
        assert_eq!(back.lines, vec![line]);
        assert_eq!(back.label, "Mrs Smith");
        assert!(s.parked_carts()?.is_empty());
        assert!(s.resume_parked_cart(&p.id).is_err());
        Ok(())
    }
}
