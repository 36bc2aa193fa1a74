//! Staff operations on the store: sign-in by PIN, the list, and the
//! manager's edits (add, change role or PIN, deactivate), each a catalog
//! edit (so only a device allowed to write the catalog makes them).

use rusqlite::{Connection, OptionalExtension, params};

use super::authorize::{Attribution, authorize, staff_exist};
use super::permissions::{Action, StaffRole};
use super::pin::Pin;
use super::{Operator, StaffMember, lockout};
use crate::catalog::{self, Field, STAFF};
use crate::error::{CoreError, Result};
use crate::ids::new_id;
use crate::store::Store;

/// A staff member to add. Its `Debug` shows no PIN ([`Pin`] hides it).
#[derive(Debug, Clone)]
pub struct NewStaff {
    pub name: String,
    pub role: StaffRole,
    pub pin: Pin,
}

fn member(conn: &Connection, id: &str) -> Result<StaffMember> {
    conn.prepare_cached("SELECT id, name, role, active, conflicts FROM staff WHERE id = ?1")?
        .query_row([id], row_to_member)
        .optional()?
        .ok_or_else(|| CoreError::not_found("staff member", id))
}

fn row_to_member(r: &rusqlite::Row<'_>) -> rusqlite::Result<StaffMember> {
    let conflicts: String = r.get(4)?;
    Ok(StaffMember {
        id: r.get(0)?,
        name: r.get(1)?,
        role: r.get(2)?,
        active: r.get(3)?,
        conflicts: conflicts
            .split(',')
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

/// (id, PIN hash) of every active staff member.
fn active_hashes(conn: &Connection) -> Result<Vec<(String, String)>> {
    Ok(conn
        .prepare_cached("SELECT id, pin_hash FROM staff WHERE active = 1 ORDER BY id")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?)
}

/// Refuses a PIN another active staff member already has: sign-in must
/// find one person.
fn ensure_pin_free(conn: &Connection, pin: &Pin, except: Option<&str>) -> Result<()> {
    for (id, hash) in active_hashes(conn)? {
        if Some(id.as_str()) != except && pin.matches(&hash) {
            return Err(CoreError::Conflict(
                "another staff member has this PIN: choose a different one".into(),
            ));
        }
    }
    Ok(())
}

/// Refuses a change after which active staff remain but no active manager
/// (nobody could then edit the catalog or staff).
fn ensure_a_manager_remains(
    conn: &Connection,
    id: &str,
    role: StaffRole,
    active: bool,
) -> Result<()> {
    let others: Vec<String> = conn
        .prepare_cached("SELECT role FROM staff WHERE active = 1 AND id <> ?1")?
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let manager_left = (active && role == StaffRole::Manager)
        || others.iter().any(|r| r == StaffRole::Manager.as_str());
    let anyone_left = active || !others.is_empty();
    if anyone_left && !manager_left {
        return Err(CoreError::Conflict(
            "this would leave no active manager: nobody could edit the catalog or staff".into(),
        ));
    }
    Ok(())
}

fn name_of(raw: &str) -> Result<String> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(CoreError::invalid("name", "a staff member needs a name"));
    }
    if name.len() > crate::validate::MAX_TEXT_LEN {
        return Err(CoreError::invalid(
            "name",
            format!("a name is at most {} bytes", crate::validate::MAX_TEXT_LEN),
        ));
    }
    Ok(name.to_string())
}

impl Store {
    /// Whether any staff member is active: if not, no PIN is asked.
    pub fn staff_exist(&self) -> Result<bool> {
        staff_exist(&self.conn)
    }

    /// Every staff member, active first, by name. Never the PIN hashes.
    pub fn staff(&self) -> Result<Vec<StaffMember>> {
        Ok(self
            .conn
            .prepare(
                "SELECT id, name, role, active, conflicts FROM staff
                 ORDER BY active DESC, lower(name), id",
            )?
            .query_map([], row_to_member)?
            .collect::<rusqlite::Result<_>>()?)
    }

    /// A staff member by id, or by name when exactly one has it.
    pub fn staff_member(&self, id_or_name: &str) -> Result<StaffMember> {
        let key = id_or_name.trim();
        if let Ok(m) = member(&self.conn, key) {
            return Ok(m);
        }
        let ids: Vec<String> = self
            .conn
            .prepare_cached(
                "SELECT id FROM staff WHERE lower(name) = lower(?1) ORDER BY active DESC, id",
            )?
            .query_map([key], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        match ids.as_slice() {
            [one] => member(&self.conn, one),
            [] => Err(CoreError::not_found("staff member", key)),
            _ => Err(CoreError::Conflict(format!(
                "{} staff members are called '{key}': name one by id",
                ids.len()
            ))),
        }
    }

    /// The active staff member whose PIN this is. A wrong PIN is counted:
    /// after [`lockout::MAX_WRONG_PINS`] within ten minutes on this till
    /// (right ones in between do not clear the count), PIN checks are
    /// refused for 30 s. A PIN two staff share (set on two devices
    /// offline) signs in nobody until a manager changes one.
    pub fn staff_by_pin(&mut self, pin: &str) -> Result<StaffMember> {
        let now = self.now_ms();
        lockout::ensure_open(&self.conn, now)?;
        let pin = Pin::parse(pin)?;
        let staff = active_hashes(&self.conn)?;
        if staff.is_empty() {
            return Err(CoreError::invalid(
                "pin",
                "this store has no staff: no PIN is needed",
            ));
        }
        let found: Vec<&String> = staff
            .iter()
            .filter(|(_, hash)| pin.matches(hash))
            .map(|(id, _)| id)
            .collect();
        match found.as_slice() {
            [] => Err(CoreError::WrongPin(lockout::wrong(&self.conn, now)?)),
            [id] => member(&self.conn, id),
            many => Err(CoreError::Conflict(format!(
                "{} staff members have this PIN (set on two devices offline): a manager must give one of them a new PIN",
                many.len()
            ))),
        }
    }

    /// Checks `actions` against who is acting (see [`Operator`]): `Ok`
    /// with whom the records name, or why not. A store without active
    /// staff allows everything without an operator.
    pub fn authorize(
        &self,
        actions: &[Action],
        operator: Option<&Operator>,
    ) -> Result<Attribution> {
        authorize(&self.conn, actions, operator)
    }

    /// Runs `f` with `operator` acting: every operation in it is checked
    /// against their role (and their approver's) and its records name them.
    /// Afterwards nobody is acting again, so an approval never outlives the
    /// operation it was given for.
    pub fn acting<T>(
        &mut self,
        operator: Option<Operator>,
        f: impl FnOnce(&mut Store) -> Result<T>,
    ) -> Result<T> {
        let before = std::mem::replace(&mut self.acting, operator);
        let out = f(self);
        self.acting = before;
        out
    }

    /// Sets who acts from now on, until set again. For a process that does
    /// one operation and ends (the command line); a till at the counter
    /// uses [`Store::acting`], so an approval never outlives its operation.
    pub fn set_operator(&mut self, operator: Option<Operator>) {
        self.acting = operator;
    }

    /// Who is acting now (set by [`Store::acting`] or [`Store::set_operator`]).
    pub fn operator(&self) -> Option<&Operator> {
        self.acting.as_ref()
    }

    /// Checks `actions` against whoever is acting now.
    pub(crate) fn authorize_acting(&self, actions: &[Action]) -> Result<Attribution> {
        authorize(&self.conn, actions, self.acting.as_ref())
    }

    /// Adds a staff member (a manager's catalog edit; the first staff
    /// member of a store must be a manager, and needs no approval).
    pub fn add_staff(&mut self, s: NewStaff) -> Result<StaffMember> {
        self.authorize_acting(&[Action::ManageStaff])?;
        let name = name_of(&s.name)?;
        if !staff_exist(&self.conn)? && s.role != StaffRole::Manager {
            return Err(CoreError::invalid(
                "role",
                "the first staff member must be a manager: nobody else could then manage the catalog and staff",
            ));
        }
        ensure_pin_free(&self.conn, &s.pin, None)?;
        let hash = s.pin.hash()?;
        let id = new_id();
        let key = format!("{STAFF}{id}");
        self.write(|w| {
            w.catalog_edit(|doc| {
                catalog::create_entity(
                    doc,
                    &key,
                    &[
                        ("name", Field::Str(name)),
                        ("role", Field::Str(s.role.as_str().into())),
                        ("pin_hash", Field::Str(hash)),
                        ("active", Field::Bool(true)),
                    ],
                )?;
                Ok(vec![key.clone()])
            })
        })?;
        member(&self.conn, &id)
    }

    /// Gives a staff member another role.
    pub fn set_staff_role(&mut self, id_or_name: &str, role: StaffRole) -> Result<StaffMember> {
        self.authorize_acting(&[Action::ManageStaff])?;
        let m = self.staff_member(id_or_name)?;
        ensure_a_manager_remains(&self.conn, &m.id, role, m.active)?;
        self.update_staff(&m.id, vec![("role", Field::Str(role.as_str().into()))])
    }

    /// Gives a staff member a new PIN (not one another active member has).
    pub fn set_staff_pin(&mut self, id_or_name: &str, pin: &Pin) -> Result<StaffMember> {
        self.authorize_acting(&[Action::ManageStaff])?;
        let m = self.staff_member(id_or_name)?;
        ensure_pin_free(&self.conn, pin, Some(&m.id))?;
        let hash = pin.hash()?;
        self.update_staff(&m.id, vec![("pin_hash", Field::Str(hash))])
    }

    /// Deactivates a staff member: their PIN signs in nobody any more;
    /// their records keep naming them.
    pub fn deactivate_staff(&mut self, id_or_name: &str) -> Result<StaffMember> {
        self.authorize_acting(&[Action::ManageStaff])?;
        let m = self.staff_member(id_or_name)?;
        let role = m.role.parse().unwrap_or(StaffRole::Cashier);
        ensure_a_manager_remains(&self.conn, &m.id, role, false)?;
        self.update_staff(&m.id, vec![("active", Field::Bool(false))])
    }

    fn update_staff(
        &mut self,
        id: &str,
        fields: Vec<(&'static str, Field)>,
    ) -> Result<StaffMember> {
        let key = format!("{STAFF}{id}");
        self.write(|w| {
            w.catalog_edit(|doc| {
                catalog::update_entity(doc, &key, &fields)?;
                Ok(vec![key.clone()])
            })
        })?;
        member(&self.conn, id)
    }
}

/// Projects `staff/{id}` (see `projection::catalog`).
pub(crate) fn project(
    conn: &Connection,
    doc: &automerge::AutoCommit,
    key: &str,
    id: &str,
) -> Result<()> {
    match catalog::read_entity(doc, key)? {
        Some(e) => conn
            .prepare_cached(
                "INSERT INTO staff (id, name, role, pin_hash, active, conflicts)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                 ON CONFLICT (id) DO UPDATE SET name = excluded.name, role = excluded.role,
                     pin_hash = excluded.pin_hash, active = excluded.active,
                     conflicts = excluded.conflicts",
            )?
            .execute(params![
                id,
                e.str("name").unwrap_or_default(),
                e.str("role").unwrap_or_default(),
                e.str("pin_hash").unwrap_or_default(),
                e.bool("active").unwrap_or(false),
                e.conflicts.join(","),
            ])?,
        None => conn.execute("DELETE FROM staff WHERE id = ?1", [id])?,
    };
    Ok(())
}
