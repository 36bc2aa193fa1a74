//! A receipt printer on 127.0.0.1 for tests: a raw-TCP listener on a free
//! port that takes one connection and keeps everything sent until the
//! sender closes it.

use std::io::{self, Read};
use std::net::{SocketAddr, TcpListener};
use std::thread::JoinHandle;
use std::time::Duration;

/// How long the printer waits for more bytes before it gives up on a
/// sender that never closes the connection.
const READ_TIMEOUT: Duration = Duration::from_secs(30);

pub struct LoopbackPrinter {
    pub addr: SocketAddr,
    received: JoinHandle<io::Result<Vec<u8>>>,
}

impl LoopbackPrinter {
    pub fn start() -> io::Result<LoopbackPrinter> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let received = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept()?;
            stream.set_read_timeout(Some(READ_TIMEOUT))?;
            let mut bytes = Vec::new();
            stream.read_to_end(&mut bytes)?;
            Ok(bytes)
        });
        Ok(LoopbackPrinter { addr, received })
    }

    /// The printer as a till's printer setting takes it.
    pub fn target(&self) -> String {
        format!("tcp://{}", self.addr)
    }

    /// Everything the till sent (waits for it to close the connection).
    pub fn received(self) -> io::Result<Vec<u8>> {
        self.received
            .join()
            .map_err(|_| io::Error::other("the loopback printer's thread panicked"))?
    }
}

/// A `tcp://127.0.0.1:PORT` where nothing listens (a port just freed).
pub fn offline_printer() -> io::Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    drop(listener);
    Ok(format!("tcp://{addr}"))
}

/// Whether `needle` occurs in `hay`.
pub fn contains_bytes(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn keeps_what_was_sent_until_the_sender_closes() {
        let printer = LoopbackPrinter::start().unwrap();
        let mut s = std::net::TcpStream::connect(printer.addr).unwrap();
        s.write_all(b"hello\x1dV\x00").unwrap();
        drop(s);
        let got = printer.received().unwrap();
        assert_eq!(got, b"hello\x1dV\x00");
        assert!(contains_bytes(&got, b"\x1dV"));
        assert!(!contains_bytes(&got, b"\x1bp"));
    }

    #[test]
    fn nothing_listens_on_an_offline_printer() {
        let target = offline_printer().unwrap();
        let addr = target.strip_prefix("tcp://").unwrap();
        assert!(std::net::TcpStream::connect(addr).is_err());
    }
}
