//! The app's state: the open store behind a mutex, used from blocking
//! threads only (never the UI thread), and the long job running, if any.
//!
//! Long jobs (CSV import, demo data, rebuild) run on a second `Store` opened
//! on the same file, so the till keeps selling while they run: SQLite's WAL
//! lets both connections work, and the core's documents catch up with
//! changes committed by the other connection.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use shopsync_core::sync::SyncStatus;
use shopsync_core::sync::client::{SyncWorker, WorkerOptions};
use shopsync_core::{Snapshots, Store};
use shopsync_types::ipc::{
    EVENT_DATA_CHANGED, EVENT_JOB_PROGRESS, EVENT_SYNC_STATE, JobProgress, SyncState,
    SyncStatusView,
};
use shopsync_types::{ErrorCode, ErrorInfo, Progress};
use tauri::{AppHandle, Emitter};

use crate::convert;
use crate::session::{self, Session};

pub type CmdResult<T> = Result<T, ErrorInfo>;

pub struct AppState {
    pub db_path: PathBuf,
    store: Arc<Mutex<Option<Store>>>,
    job: Arc<Mutex<Option<String>>>,
    /// Held by every command while it uses the store. A long job that
    /// commits in chunks passes through it between chunks, so a sale that
    /// is waiting for the database goes first (SQLite's busy handler alone
    /// is not fair: the job could take the lock again at once).
    gate: Arc<Mutex<()>>,
    /// The background sync, once the till is enrolled with a server.
    sync: Mutex<Option<SyncWorker>>,
    /// Who is signed in (with staff on the store); see `session.rs`.
    session: Arc<Mutex<Option<Session>>>,
}

/// What the indicator shows for a sync status (the core's view; a worker
/// that gave up for good, e.g. a revoked device, shows as an error).
pub fn sync_view(st: &SyncStatus, syncing: bool, stopped: bool) -> SyncStatusView {
    let mut view = st.view(syncing);
    if stopped {
        view.state = SyncState::Error;
    }
    view
}

pub fn error(code: ErrorCode, message: impl Into<String>) -> ErrorInfo {
    ErrorInfo {
        code,
        message: message.into(),
        row: None,
        field: None,
    }
}

fn not_initialized() -> ErrorInfo {
    error(
        ErrorCode::NotInitialized,
        "no store yet: create one, join one from a bundle, or open the demo",
    )
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock is a bug already reported; the store
    // itself is transactional, so carrying on is safe.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The store the till sells from: snapshots and checkpoints on threads of
/// their own, so a sale never waits for them.
fn at_the_counter(mut store: Store) -> Store {
    store.set_snapshots(Snapshots::Background);
    store
}

pub async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> CmdResult<T> + Send + 'static,
) -> CmdResult<T> {
    tauri::async_runtime::spawn_blocking(f)
        .await
        .map_err(|e| error(ErrorCode::Internal, format!("background task failed: {e}")))?
}

impl AppState {
    pub fn new(db_path: PathBuf) -> Self {
        let store = if db_path.exists() {
            match Store::open(&db_path) {
                Ok(s) => Some(at_the_counter(s)),
                Err(e) => {
                    tracing::warn!("cannot open {}: {e}", db_path.display());
                    None
                }
            }
        } else {
            None
        };
        AppState {
            db_path,
            store: Arc::new(Mutex::new(store)),
            job: Arc::new(Mutex::new(None)),
            gate: Arc::new(Mutex::new(())),
            sync: Mutex::new(None),
            session: Arc::new(Mutex::new(None)),
        }
    }

    /// Starts the background sync if this till is enrolled (and it is not
    /// running yet). It has its own connection; a sale never waits on it.
    pub fn start_sync(&self, app: &AppHandle) {
        let enrolled = lock(&self.store)
            .as_ref()
            .and_then(|s| s.sync_config().ok().flatten())
            .is_some();
        let mut worker = lock(&self.sync);
        if !enrolled || worker.is_some() {
            return;
        }
        let emitter = app.clone();
        let spawned =
            SyncWorker::spawn(self.db_path.clone(), WorkerOptions::default(), move |st| {
                let _ = emitter.emit(
                    EVENT_SYNC_STATE,
                    sync_view(&st.status, st.syncing, st.stopped),
                );
                if st.last_report.as_ref().is_some_and(|r| r.received_new > 0) {
                    let _ = emitter.emit(EVENT_DATA_CHANGED, ());
                }
            });
        match spawned {
            Ok(w) => *worker = Some(w),
            Err(e) => tracing::warn!("cannot start the background sync: {e}"),
        }
    }

    /// Builds the store's product name index on a thread of its own, so
    /// no search waits for it (~150 ms on 100k products; without it the
    /// second name search builds it under the store lock). It holds the
    /// store that long, once, right after launch.
    pub fn prepare_search(&self) {
        let store = self.store.clone();
        let gate = self.gate.clone();
        let spawned = std::thread::Builder::new()
            .name("search-index".into())
            .spawn(move || {
                let _turn = lock(&gate);
                if let Some(s) = lock(&store).as_ref()
                    && let Err(e) = s.prepare_search()
                {
                    tracing::warn!("cannot build the product search index: {e}");
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("cannot start building the product search index: {e}");
        }
    }

    /// Asks the background sync to run now; false when there is none.
    pub fn nudge_sync(&self) -> bool {
        match lock(&self.sync).as_ref() {
            Some(w) => {
                w.nudge();
                true
            }
            None => false,
        }
    }

    /// The background sync's live state, when it runs.
    pub fn sync_state(&self) -> Option<(bool, bool)> {
        lock(&self.sync)
            .as_ref()
            .and_then(SyncWorker::state)
            .map(|s| (s.syncing, s.stopped))
    }

    pub fn busy(&self) -> Option<String> {
        lock(&self.job).clone()
    }

    /// Runs `f` on the open store, on a blocking thread, with the
    /// signed-in staff member acting (nobody when nobody is, or their
    /// sign-in lapsed: the core then refuses writes once staff exist).
    pub async fn with<T, F>(&self, f: F) -> CmdResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> shopsync_core::Result<T> + Send + 'static,
    {
        self.with_approval(None, f).await
    }

    /// [`AppState::with`] for an operation the signed-in staff member's
    /// role may not do alone: `approve_pin`, when given, is found with the
    /// core's PIN check (wrong PINs count towards its pause) and approves
    /// this one call only.
    pub async fn with_approval<T, F>(&self, approve_pin: Option<String>, f: F) -> CmdResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> shopsync_core::Result<T> + Send + 'static,
    {
        let store = self.store.clone();
        let gate = self.gate.clone();
        let session = self.session.clone();
        blocking(move || {
            let _turn = lock(&gate);
            let mut guard = lock(&store);
            let s = guard.as_mut().ok_or_else(not_initialized)?;
            // Not activity: the page's polls (sync state, badges) come
            // through here every few seconds and would keep an idle
            // sign-in alive for ever. Input is reported by `staff_touch`.
            let mut op =
                session::operator(s, &mut lock(&session), false).map_err(convert::error_info)?;
            if let Some(pin) = approve_pin
                .as_deref()
                .map(str::trim)
                .filter(|p| !p.is_empty())
            {
                let Some(signed_in) = op.take() else {
                    return Err(convert::error_info(
                        shopsync_core::CoreError::SignInRequired,
                    ));
                };
                let approver = s.staff_by_pin(pin).map_err(convert::approval_error)?;
                op = Some(signed_in.approved_by(approver.id));
            }
            s.acting(op, f).map_err(convert::error_info)
        })
        .await
    }

    /// Who acts now (for a long job on its own connection).
    pub async fn operator(&self) -> CmdResult<Option<shopsync_core::staff::Operator>> {
        self.with_session(|s, session| session::operator(s, session, false))
            .await
    }

    /// Runs `f` with the store and the sign-in state (sign in, sign out,
    /// the session as the UI sees it).
    pub async fn with_session<T, F>(&self, f: F) -> CmdResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store, &mut Option<Session>) -> shopsync_core::Result<T> + Send + 'static,
    {
        let store = self.store.clone();
        let gate = self.gate.clone();
        let session = self.session.clone();
        blocking(move || {
            let _turn = lock(&gate);
            let mut guard = lock(&store);
            let s = guard.as_mut().ok_or_else(not_initialized)?;
            f(s, &mut lock(&session)).map_err(convert::error_info)
        })
        .await
    }

    /// Whether a store is open (first launch shows the setup screen).
    pub async fn info(&self) -> CmdResult<Option<shopsync_types::StoreInfo>> {
        let store = self.store.clone();
        blocking(move || Ok(lock(&store).as_ref().map(|s| s.info().clone()))).await
    }

    /// Creates or joins the store (first launch), on a blocking thread.
    pub async fn create<F>(&self, f: F) -> CmdResult<shopsync_types::StoreInfo>
    where
        F: FnOnce(&std::path::Path) -> shopsync_core::Result<Store> + Send + 'static,
    {
        let store = self.store.clone();
        let path = self.db_path.clone();
        blocking(move || {
            let mut guard = lock(&store);
            if guard.is_some() {
                return Err(error(ErrorCode::Conflict, "this till already has a store"));
            }
            let s = f(&path).map_err(convert::error_info)?;
            let info = s.info().clone();
            *guard = Some(at_the_counter(s));
            Ok(info)
        })
        .await
    }

    /// Runs a long job on its own connection to the store file, reporting
    /// progress as `job-progress` events; then reopens the till's store so
    /// it sees everything the job wrote. With `yields`, the job's progress
    /// callback (which must run between its transactions) lets waiting
    /// commands go first.
    pub async fn job<T, F>(
        &self,
        app: AppHandle,
        name: &'static str,
        yields: bool,
        f: F,
    ) -> CmdResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&std::path::Path, &mut dyn FnMut(Progress)) -> shopsync_core::Result<T>
            + Send
            + 'static,
    {
        {
            let mut job = lock(&self.job);
            if let Some(running) = job.as_ref() {
                return Err(error(
                    ErrorCode::Conflict,
                    format!("wait for the {running} to finish first"),
                ));
            }
            *job = Some(name.to_string());
        }
        let path = self.db_path.clone();
        let store = self.store.clone();
        let job = self.job.clone();
        let emitter = app.clone();
        let gate = self.gate.clone();
        let result = blocking(move || {
            let mut report = |p: Progress| {
                if yields {
                    drop(lock(&gate));
                }
                let _ = emitter.emit(
                    EVENT_JOB_PROGRESS,
                    JobProgress {
                        job: name.to_string(),
                        stage: p.stage,
                        done: p.done,
                        total: p.total,
                    },
                );
            };
            let out = f(&path, &mut report).map_err(convert::error_info);
            if path.exists() {
                match Store::open(&path) {
                    Ok(s) => {
                        // Here, off the command path: the old store serves
                        // commands meanwhile.
                        if let Err(e) = s.prepare_search() {
                            tracing::warn!("cannot build the product search index: {e}");
                        }
                        // Its threads start, and the old store closes (its
                        // threads stop), outside the lock: a sale need not
                        // wait for either.
                        let s = at_the_counter(s);
                        let old = lock(&store).replace(s);
                        drop(old);
                    }
                    Err(e) => tracing::warn!("cannot reopen the store: {e}"),
                }
            }
            out
        })
        .await;
        *lock(&job) = None;
        let _ = app.emit(EVENT_DATA_CHANGED, ());
        result
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant, SystemTime};

    use shopsync_core::InitOptions;
    use shopsync_core::staff::{NewStaff, Pin, StaffRole};
    use shopsync_types::ipc::SignedIn;

    use super::*;

    #[test]
    fn commands_keep_no_sign_in_alive_only_input_does() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("shop.db");
        let mut s = Store::init(
            &path,
            InitOptions {
                store_name: "Shop".into(),
                till_name: "Till 1".into(),
                currency: "EUR".into(),
            },
        )
        .unwrap();
        let ann = s
            .add_staff(NewStaff {
                name: "Ann".into(),
                role: StaffRole::Manager,
                pin: Pin::parse("1111").unwrap(),
            })
            .unwrap();
        drop(s);
        let state = AppState::new(path);
        let four_minutes_ago = (
            Instant::now() - Duration::from_secs(240),
            SystemTime::now() - Duration::from_secs(240),
        );
        *lock(&state.session) = Some(Session {
            who: SignedIn {
                staff_id: ann.id.clone(),
                name: ann.name.clone(),
                role: ann.role.clone(),
            },
            last_active: four_minutes_ago.0,
            last_active_wall: four_minutes_ago.1,
        });
        let last_active = |state: &AppState| {
            lock(&state.session)
                .as_ref()
                .map(|x| (x.last_active, x.last_active_wall))
        };
        // A poll, and a write: Ann still acts, and her idle time runs on.
        let (acting, _) = tauri::async_runtime::block_on(async {
            let who = state.operator().await.unwrap();
            let written = state
                .with(|s| s.set_setting("receipt_footer", "Thanks"))
                .await;
            (who, written.unwrap())
        });
        assert_eq!(acting.map(|o| o.staff), Some(ann.id.clone()));
        assert_eq!(last_active(&state), Some(four_minutes_ago));
        // Input at the till (the page's staff_touch) refreshes it.
        tauri::async_runtime::block_on(
            state.with_session(|s, current| session::operator(s, current, true)),
        )
        .unwrap();
        let (mono, _) = last_active(&state).unwrap();
        assert!(mono > four_minutes_ago.0);
    }
}
