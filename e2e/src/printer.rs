//! A receipt printer on 127.0.0.1 for the till's tests: a raw-TCP listener
//! on a free port that takes one connection and keeps everything sent
//! until the till closes it.

use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::thread::JoinHandle;
use std::time::Duration;

use anyhow::{Result, anyhow};

pub struct LoopbackPrinter {
    pub addr: SocketAddr,
    received: JoinHandle<std::io::Result<Vec<u8>>>,
}

impl LoopbackPrinter {
    pub fn start() -> Result<LoopbackPrinter> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let addr = listener.local_addr()?;
        let received = std::thread::spawn(move || {
            let (mut stream, _) = listener.accept()?;
            stream.set_read_timeout(Some(Duration::from_secs(30)))?;
            let mut bytes = Vec::new();
            stream.read_to_end(&mut bytes)?;
            Ok(bytes)
        });
        Ok(LoopbackPrinter { addr, received })
    }

    /// The printer as the Settings field takes it.
    pub fn target(&self) -> String {
        format!("tcp://{}", self.addr)
    }

    /// Everything the till sent (waits for it to close the connection).
    pub fn received(self) -> Result<Vec<u8>> {
        Ok(self
            .received
            .join()
            .map_err(|_| anyhow!("the loopback printer's thread panicked"))??)
    }
}

/// A `tcp://127.0.0.1:PORT` where nothing listens (a port just freed).
pub fn offline_printer() -> Result<String> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    drop(listener);
    Ok(format!("tcp://{addr}"))
}

/// Whether `needle` occurs in `hay`.
pub fn contains_bytes(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}
