//! Where receipt bytes go: a network printer's raw port (`tcp://host:port`,
//! port 9100 unless given) or a device file (`/dev/usb/lp0`, a serial
//! port set up beforehand with `stty`). Every step has a time limit, so a
//! printer that is off, unplugged or jammed costs seconds, not the till.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Duration;

/// The raw printing port of network receipt printers.
pub const DEFAULT_PORT: u16 = 9100;

/// How long connecting, and each write, may take by default.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(3);

/// A printer's address, as set on the till.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PrinterTarget {
    Tcp { host: String, port: u16 },
    Device(PathBuf),
}

/// Why bytes did not reach the printer. Nothing printed may be assumed.
#[derive(Debug, thiserror::Error)]
pub enum PrintError {
    #[error("printer offline at {target}: {reason}")]
    Offline { target: String, reason: String },
    #[error("printer at {target} did not take the receipt: {reason}")]
    WriteFailed { target: String, reason: String },
    #[error("printer device {path} cannot be opened: {reason}")]
    Device { path: String, reason: String },
    #[error(
        "no receipt printer is set on this till (set one with `shopsync printer set --target tcp://HOST:9100` or in Settings)"
    )]
    NotConfigured,
}

impl PrinterTarget {
    /// Reads `tcp://host[:port]` or an absolute device path.
    pub fn parse(text: &str) -> Result<PrinterTarget, String> {
        let t = text.trim();
        if let Some(rest) = t.strip_prefix("tcp://") {
            let rest = rest.trim_end_matches('/');
            let (host, port) = match rest.rsplit_once(':') {
                // An IPv6 address is written in brackets: [::1]:9100.
                Some((h, p)) if !h.contains(':') || h.ends_with(']') => {
                    let port = p
                        .parse::<u16>()
                        .ok()
                        .filter(|p| *p > 0)
                        .ok_or_else(|| format!("'{p}' is not a port (1 to 65535)"))?;
                    (h, port)
                }
                _ => (rest, DEFAULT_PORT),
            };
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let ok_host = !host.is_empty()
                && host.len() <= 253
                && host
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '_'));
            if !ok_host {
                return Err(format!("'{host}' is not a host name or address"));
            }
            return Ok(PrinterTarget::Tcp {
                host: host.to_string(),
                port,
            });
        }
        if t.starts_with('/') && !t.contains('\0') && t.len() > 1 {
            return Ok(PrinterTarget::Device(PathBuf::from(t)));
        }
        Err(format!(
            "'{t}' is not a printer: expected tcp://HOST[:PORT] (port {DEFAULT_PORT} if left out) or a device file such as /dev/usb/lp0"
        ))
    }

    /// Sends `bytes` to the printer, each step within `timeout`.
    pub fn send(&self, bytes: &[u8], timeout: Duration) -> Result<(), PrintError> {
        match self {
            PrinterTarget::Tcp { host, port } => send_tcp(host, *port, bytes, timeout),
            PrinterTarget::Device(path) => send_device(path.clone(), bytes.to_vec(), timeout),
        }
    }
}

impl std::fmt::Display for PrinterTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PrinterTarget::Tcp { host, port } if host.contains(':') => {
                write!(f, "tcp://[{host}]:{port}")
            }
            PrinterTarget::Tcp { host, port } => write!(f, "tcp://{host}:{port}"),
            PrinterTarget::Device(p) => write!(f, "{}", p.display()),
        }
    }
}

/// An I/O error as a shop owner reads it ("connection refused").
fn reason(e: &std::io::Error) -> String {
    use std::io::ErrorKind as K;
    match e.kind() {
        K::ConnectionRefused => "connection refused".into(),
        K::TimedOut | K::WouldBlock => "no answer (timed out)".into(),
        K::NotFound => "no such device".into(),
        K::PermissionDenied => "permission denied".into(),
        K::ConnectionReset | K::BrokenPipe | K::ConnectionAborted => {
            "the printer closed the connection".into()
        }
        K::HostUnreachable | K::NetworkUnreachable => "unreachable".into(),
        _ => e.to_string(),
    }
}

/// The addresses of `host`, looked up on a thread of its own so a lookup
/// that hangs is given up after `timeout` (the thread finishes alone).
fn resolve(host: &str, port: u16, timeout: Duration) -> Result<Vec<std::net::SocketAddr>, String> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return Ok(vec![std::net::SocketAddr::new(ip, port)]);
    }
    let (tx, rx) = mpsc::channel();
    let name = host.to_string();
    std::thread::Builder::new()
        .name("receipt-dns".into())
        .spawn(move || {
            let found = (name.as_str(), port)
                .to_socket_addrs()
                .map(Iterator::collect::<Vec<_>>);
            let _ = tx.send(found);
        })
        .map_err(|e| format!("cannot resolve the name ({e})"))?;
    match rx.recv_timeout(timeout) {
        Ok(Ok(addrs)) => Ok(addrs),
        Ok(Err(e)) => Err(format!("cannot resolve the name ({e})")),
        Err(_) => Err(format!(
            "cannot resolve the name (no answer within {} s)",
            timeout.as_secs_f32()
        )),
    }
}

fn send_tcp(host: &str, port: u16, bytes: &[u8], timeout: Duration) -> Result<(), PrintError> {
    let target = if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    let offline = |reason: String| PrintError::Offline {
        target: target.clone(),
        reason,
    };
    // One deadline for the name lookup and every address tried: a name
    // whose lookup hangs (no DNS in the shop) or that has several dead
    // addresses still answers within `timeout`.
    let deadline = std::time::Instant::now() + timeout;
    let addrs = resolve(host, port, timeout).map_err(offline)?;
    let mut last = offline("no address".into());
    for addr in addrs {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            last = offline("no answer (timed out)".into());
            break;
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(mut stream) => {
                let failed = |e: std::io::Error| PrintError::WriteFailed {
                    target: target.clone(),
                    reason: reason(&e),
                };
                stream.set_write_timeout(Some(timeout)).map_err(failed)?;
                stream.write_all(bytes).map_err(failed)?;
                stream.flush().map_err(failed)?;
                // Closing sends what is buffered; the printer prints on its own.
                let _ = stream.shutdown(std::net::Shutdown::Write);
                return Ok(());
            }
            Err(e) => last = offline(reason(&e)),
        }
    }
    Err(last)
}

/// A printer's device file is a character device (`/dev/usb/lp0`,
/// `/dev/ttyUSB0`): anything else (a regular file such as the till's own
/// store file, a directory, a pipe that would block the open) is refused
/// before it is opened, so a printer setting can never overwrite a file.
pub(crate) fn check_device(path: &std::path::Path) -> std::io::Result<()> {
    let meta = std::fs::metadata(path)?;
    #[cfg(unix)]
    let device = {
        use std::os::unix::fs::FileTypeExt;
        meta.file_type().is_char_device()
    };
    #[cfg(not(unix))]
    let device = !meta.is_file() && !meta.is_dir();
    if device {
        Ok(())
    } else {
        Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a printer device (a regular file, a directory or a pipe); a receipt printer is a character device such as /dev/usb/lp0",
        ))
    }
}

/// A device file is written on a thread of its own: a stalled USB or
/// serial printer blocks `write` with no time limit of its own, and the
/// till must not wait for it. On time-out the thread is left to finish
/// or fail alone.
fn send_device(path: PathBuf, bytes: Vec<u8>, timeout: Duration) -> Result<(), PrintError> {
    let shown = path.display().to_string();
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("receipt-device".into())
        .spawn(move || {
            let r = (|| {
                check_device(&path).map_err(|e| (true, e))?;
                // Never created: a missing device is an error, not a new file.
                let mut f = std::fs::OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .map_err(|e| (true, e))?;
                f.write_all(&bytes).map_err(|e| (false, e))?;
                f.flush().map_err(|e| (false, e))
            })();
            let _ = tx.send(r);
        })
        .map_err(|e| PrintError::Device {
            path: shown.clone(),
            reason: e.to_string(),
        })?;
    match rx.recv_timeout(timeout) {
        Ok(Ok(())) => Ok(()),
        Ok(Err((true, e))) => Err(PrintError::Device {
            path: shown,
            reason: reason(&e),
        }),
        Ok(Err((false, e))) => Err(PrintError::WriteFailed {
            target: shown,
            reason: reason(&e),
        }),
        Err(_) => Err(PrintError::WriteFailed {
            target: shown,
            reason: format!("no answer within {} s", timeout.as_secs_f32()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_the_default_port() {
        assert_eq!(
            PrinterTarget::parse("tcp://10.0.0.5"),
            Ok(PrinterTarget::Tcp {
                host: "10.0.0.5".into(),
                port: 9100
            })
        );
        assert_eq!(
            PrinterTarget::parse(" tcp://printer.local:9101 ").map(|t| t.to_string()),
            Ok("tcp://printer.local:9101".to_string())
        );
        assert_eq!(
            PrinterTarget::parse("tcp://[::1]:9100").map(|t| t.to_string()),
            Ok("tcp://[::1]:9100".to_string())
        );
        assert_eq!(
            PrinterTarget::parse("/dev/usb/lp0"),
            Ok(PrinterTarget::Device("/dev/usb/lp0".into()))
        );
    }

    #[test]
    fn bad_targets_say_what_is_expected() {
        for bad in [
            "tcp://",
            "tcp://host:0",
            "tcp://host:70000",
            "tcp://ho st",
            "lp0",
            "http://x",
            "",
        ] {
            assert!(PrinterTarget::parse(bad).is_err(), "{bad}");
        }
        let e = PrinterTarget::parse("printer").err().unwrap_or_default();
        assert!(e.contains("tcp://HOST[:PORT]"), "{e}");
    }

    #[test]
    fn a_missing_device_is_not_created() {
        let dir = tempfile::tempdir().ok();
        let path = dir
            .as_ref()
            .map(|d| d.path().join("lp9"))
            .unwrap_or_default();
        let r = PrinterTarget::Device(path.clone()).send(b"x", DEFAULT_TIMEOUT);
        assert!(matches!(r, Err(PrintError::Device { .. })), "{r:?}");
        assert!(!path.exists());
    }
}
