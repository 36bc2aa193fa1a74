//! One app per store file. A second launch on the same store hands over to
//! the running app (which shows and focuses its window) and exits, instead
//! of opening a second sync worker on the same file.
//!
//! Why not `tauri-plugin-single-instance`: it keys instances by the app's
//! identifier (one app per user, not per store) and on Linux it needs a
//! D-Bus session bus, which CI under Xvfb and some kiosk setups lack.
//!
//! The mechanism: an exclusive lock (`flock`/`LockFileEx` through std) on
//! `<store file>.lock` beside the store — the OS releases it when the
//! process ends, even after a crash, so a stale file never blocks a start.
//! The holder listens on a loopback port and writes the number into
//! `<store file>.port` — not into the lock file: Windows' locks are
//! mandatory, so a later launch could not read a locked file there. A
//! later launch that cannot take the lock connects to that port and sends
//! `focus <store path>`; the holder answers `ok` once its
//! window was asked to show. The path in the request guards against a
//! port reused by another program after the holder died.

use std::fs::{File, OpenOptions, TryLockError};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long a second launch keeps trying: long enough for an app that is
/// just closing to let go of the lock (then this launch runs), short
/// enough that a hung holder is reported rather than waited on forever.
const PATIENCE: Duration = Duration::from_secs(10);
/// One handover attempt's connect/read/write bound.
const IO_TIMEOUT: Duration = Duration::from_secs(2);

/// The outcome of [`claim`].
pub enum Claim {
    /// This process is the store's app; keep the instance alive and
    /// [`Instance::serve`] it once the window exists.
    First(Instance),
    /// Another app runs on this store and was asked to show its window.
    HandedOver,
}

#[derive(Debug)]
pub enum Error {
    /// The lock file or the loopback port could not be used.
    Io(PathBuf, std::io::Error),
    /// Another app holds the store but did not answer within [`PATIENCE`].
    NoAnswer(PathBuf),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Error::Io(p, e) => write!(f, "{}: {e}", p.display()),
            Error::NoAnswer(p) => write!(
                f,
                "another ShopSync app holds {} but does not answer; close it (or end its process) and start again",
                p.display()
            ),
        }
    }
}

impl std::error::Error for Error {}

/// The store's lock, held for the process's life, and the port it listens on.
pub struct Instance {
    lock: File,
    listener: TcpListener,
    key: String,
}

/// `<store file>.lock`, in the store's folder.
pub fn lock_path(db: &Path) -> PathBuf {
    beside(db, ".lock")
}

/// `<store file>.port`: the holder's loopback port.
fn port_path(db: &Path) -> PathBuf {
    beside(db, ".port")
}

fn beside(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    db.with_file_name(name)
}

/// The store's identity: its path with the folder resolved (the file
/// itself may not exist yet, on a first launch).
fn key(db: &Path) -> String {
    let dir = db.parent().filter(|d| !d.as_os_str().is_empty());
    let dir = dir
        .and_then(|d| d.canonicalize().ok())
        .or_else(|| std::env::current_dir().ok())
        .unwrap_or_default();
    dir.join(db.file_name().unwrap_or_default())
        .display()
        .to_string()
}

/// Becomes the store's app, or hands over to the one already running.
pub fn claim(db: &Path) -> Result<Claim, Error> {
    let lock = lock_path(db);
    let port_file = port_path(db);
    let io = |e: std::io::Error| Error::Io(lock.clone(), e);
    if let Some(dir) = lock.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let key = key(db);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&lock)
        .map_err(io)?;
    let started = Instant::now();
    loop {
        match file.try_lock() {
            Ok(()) => {
                let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).map_err(io)?;
                let port = listener.local_addr().map_err(io)?.port();
                // Only the lock holder writes it; a stale one (a crashed
                // holder) is refused by whatever answers, or by no one.
                std::fs::write(&port_file, format!("{port}\n"))
                    .map_err(|e| Error::Io(port_file.clone(), e))?;
                return Ok(Claim::First(Instance {
                    lock: file,
                    listener,
                    key,
                }));
            }
            Err(TryLockError::WouldBlock) => {
                if let Some(port) = read_port(&port_file)
                    && hand_over(port, &key)
                {
                    return Ok(Claim::HandedOver);
                }
            }
            Err(TryLockError::Error(e)) => return Err(io(e)),
        }
        if started.elapsed() > PATIENCE {
            return Err(Error::NoAnswer(PathBuf::from(key)));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The holder's port, once it has written it.
fn read_port(port_file: &Path) -> Option<u16> {
    std::fs::read_to_string(port_file).ok()?.trim().parse().ok()
}

/// Asks the holder on `port` to show its window; true when it did.
fn hand_over(port: u16, key: &str) -> bool {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let attempt = || -> std::io::Result<bool> {
        let mut stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT)?;
        stream.set_read_timeout(Some(IO_TIMEOUT))?;
        stream.set_write_timeout(Some(IO_TIMEOUT))?;
        writeln!(stream, "focus {key}")?;
        let mut answer = String::new();
        BufReader::new(stream).read_line(&mut answer)?;
        Ok(answer.trim() == "ok")
    };
    attempt().unwrap_or(false)
}

impl Instance {
    /// Answers later launches for the rest of the process's life, on a
    /// thread of its own: `focus` is called for each and says whether the
    /// window could be shown (false while the app is closing: the later
    /// launch then waits for the lock instead).
    pub fn serve(self, focus: impl Fn() -> bool + Send + 'static) {
        let spawned = std::thread::Builder::new()
            .name("single-instance".into())
            .spawn(move || {
                let _held = self.lock;
                for stream in self.listener.incoming() {
                    match stream {
                        Ok(s) => answer(s, &self.key, &focus),
                        Err(e) => tracing::debug!("single instance: {e}"),
                    }
                }
            });
        if let Err(e) = spawned {
            tracing::warn!("cannot answer later launches on this store: {e}");
        }
    }
}

fn answer(stream: TcpStream, key: &str, focus: &impl Fn() -> bool) {
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let mut line = String::new();
    // Bounded: whatever connects cannot make this thread read forever.
    if BufReader::new(&stream)
        .take(4096)
        .read_line(&mut line)
        .is_err()
    {
        return;
    }
    let reply = match line.trim_end().strip_prefix("focus ") {
        Some(k) if k == key => {
            if focus() {
                "ok"
            } else {
                "closing"
            }
        }
        _ => "wrong store",
    };
    let _ = writeln!(&stream, "{reply}");
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    #[test]
    fn a_second_claim_on_the_same_store_hands_over() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let db = dir.path().join("till.db");
        let Claim::First(first) = claim(&db)? else {
            return Err("the first claim did not get the lock".into());
        };
        let asked = Arc::new(AtomicUsize::new(0));
        let seen = asked.clone();
        first.serve(move || {
            seen.fetch_add(1, Ordering::SeqCst);
            true
        });
        // flock locks per open file: a second open in this process is
        // refused exactly as a second process would be.
        assert!(matches!(claim(&db)?, Claim::HandedOver));
        assert_eq!(asked.load(Ordering::SeqCst), 1);
        // Another store in the same folder is independent.
        assert!(matches!(
            claim(&dir.path().join("other.db"))?,
            Claim::First(_)
        ));
        Ok(())
    }

    #[test]
    fn the_lock_goes_with_its_holder() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let db = dir.path().join("till.db");
        let first = claim(&db)?;
        assert!(matches!(first, Claim::First(_)));
        drop(first);
        assert!(matches!(claim(&db)?, Claim::First(_)));
        Ok(())
    }

    #[test]
    fn the_wrong_store_is_not_answered() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let Claim::First(first) = claim(&dir.path().join("till.db"))? else {
            return Err("no lock".into());
        };
        let port = first.listener.local_addr()?.port();
        first.serve(|| true);
        assert!(!hand_over(port, "/somewhere/else.db"));
        Ok(())
    }
}
