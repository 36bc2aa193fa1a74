//! The app's state: the open store behind a mutex, used from blocking
//! threads only (never the UI thread), and the long job running, if any.
//!
//! Long jobs (CSV import, demo data, rebuild) run on a second `Store` opened
//! on the same file, so the till keeps selling while they run: SQLite's WAL
//! lets both connections work, and the core's documents catch up with
//! changes committed by the other connection.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};

use shopsync_core::Store;
use shopsync_types::ipc::{EVENT_DATA_CHANGED, EVENT_JOB_PROGRESS, JobProgress};
use shopsync_types::{ErrorCode, ErrorInfo, Progress};
use tauri::{AppHandle, Emitter};

pub type CmdResult<T> = Result<T, ErrorInfo>;

pub struct AppState {
    pub db_path: PathBuf,
    store: Arc<Mutex<Option<Store>>>,
    job: Arc<Mutex<Option<String>>>,
}

pub fn error(code: ErrorCode, message: impl Into<String>) -> ErrorInfo {
    ErrorInfo {
        code,
        message: message.into(),
        row: None,
        field: None,
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock is a bug already reported; the store
    // itself is transactional, so carrying on is safe.
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn blocking<T: Send + 'static>(
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
                Ok(s) => Some(s),
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
        }
    }

    pub fn busy(&self) -> Option<String> {
        lock(&self.job).clone()
    }

    /// Runs `f` on the open store, on a blocking thread.
    pub async fn with<T, F>(&self, f: F) -> CmdResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Store) -> shopsync_core::Result<T> + Send + 'static,
    {
        let store = self.store.clone();
        blocking(move || {
            let mut guard = lock(&store);
            let s = guard.as_mut().ok_or_else(|| {
                error(
                    ErrorCode::NotInitialized,
                    "no store yet: create one, join one from a bundle, or open the demo",
                )
            })?;
            f(s).map_err(ErrorInfo::from)
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
            let s = f(&path).map_err(ErrorInfo::from)?;
            let info = s.info().clone();
            *guard = Some(s);
            Ok(info)
        })
        .await
    }

    /// Runs a long job on its own connection to the store file, reporting
    /// progress as `job-progress` events; then reopens the till's store so
    /// it sees everything the job wrote.
    pub async fn job<T, F>(&self, app: AppHandle, name: &'static str, f: F) -> CmdResult<T>
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
        let result = blocking(move || {
            let mut report = |p: Progress| {
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
            let out = f(&path, &mut report).map_err(ErrorInfo::from);
            if path.exists() {
                match Store::open(&path) {
                    Ok(s) => *lock(&store) = Some(s),
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
