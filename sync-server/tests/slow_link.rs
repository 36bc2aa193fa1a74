//! A till on a slow link: the server answers 408 to a batch it could not
//! read within its request timeout, and the till sends the same changes
//! again in smaller batches instead of failing every sync (it used to retry
//! the same 8 MiB batch forever).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::time::Duration;

use common::*;
use shopsync_core::sync::SyncConfig;

/// Forwards one request per connection, writing its body to the server at
/// about 100 KB/s.
fn slow_link_proxy(server: String) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let server = server.clone();
            std::thread::spawn(move || slow_link_forward(conn, &server));
        }
    });
    format!("http://{addr}")
}

fn slow_link_forward(mut client: TcpStream, server: &str) {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let header_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match client.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < header_end + len {
        match client.read(&mut chunk) {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let mut text = String::from_utf8_lossy(&buf[..header_end]).to_string();
    text = text.replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n");
    let Ok(mut up) = TcpStream::connect(server) else {
        return;
    };
    if up.write_all(text.as_bytes()).is_err() {
        return;
    }
    for piece in buf[header_end..].chunks(4 * 1024) {
        if up.write_all(piece).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(40));
    }
    let mut resp = Vec::new();
    let _ = up.read_to_end(&mut resp);
    let _ = client.write_all(&resp);
    let _ = client.shutdown(Shutdown::Both);
}

#[test]
fn a_till_on_a_slow_link_sends_smaller_batches_after_a_timeout() -> R {
    let dir = tempfile::tempdir()?;
    let server = Server::start_with(
        &dir.path().join("server.db"),
        "127.0.0.1:0",
        &["--request-timeout-secs", "1"],
    );
    let (_, code) = server.create_store("Slow Shop");
    let a_path = dir.path().join("a.db");
    drop(first_till(&a_path, 5_000));
    let mut a = enrol(&a_path, &server, &code, None);
    // About 160 KB of changes as sent (gzipped): more than the link
    // carries in a second.
    for i in 0..1_500 {
        sell(&mut a, i, 1);
    }
    assert!(a.sync_status()?.changes_waiting >= 1_500);
    let cfg = a.sync_config()?.unwrap();
    let proxied = slow_link_proxy(server.addr.clone());
    a.set_sync_config(&SyncConfig {
        server: proxied,
        ..cfg
    })?;
    let report = sync(&mut a)?;
    assert!(report.round_trips > 1, "{report:?}");
    assert_eq!(a.sync_status()?.changes_waiting, 0);
    Ok(())
}
