//! Several tills sync through a loopback proxy that drops, delays,
//! duplicates, truncates and resets requests, for over 1,000 sync rounds;
//! once the network heals, every till converges to the same state.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use common::*;
use rand::{Rng, SeedableRng};
use shopsync_core::sync::SyncConfig;

#[derive(Default)]
struct Counts {
    pass: AtomicU64,
    drop: AtomicU64,
    drop_reply: AtomicU64,
    delay: AtomicU64,
    duplicate: AtomicU64,
    truncate: AtomicU64,
    reset: AtomicU64,
}

/// Reads one HTTP request (headers + Content-Length body).
fn read_request(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let header_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..header_end]).to_ascii_lowercase();
    let len: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while buf.len() < header_end + len {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    // One request per upstream connection: ask the server to close after it.
    let text = String::from_utf8_lossy(&buf[..header_end]).to_string();
    let mut out = String::new();
    for line in text.split("\r\n") {
        if !line.to_ascii_lowercase().starts_with("connection:") && !line.is_empty() {
            out.push_str(line);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    let mut req = out.into_bytes();
    req.extend_from_slice(&buf[header_end..]);
    Some(req)
}

fn upstream(addr: &str, req: &[u8]) -> Option<Vec<u8>> {
    let mut up = TcpStream::connect(addr).ok()?;
    up.write_all(req).ok()?;
    let mut resp = Vec::new();
    up.read_to_end(&mut resp).ok()?;
    Some(resp)
}

fn handle(mut client: TcpStream, server: String, seed: u64, counts: Arc<Counts>) {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let Some(req) = read_request(&mut client) else {
        return;
    };
    let roll = rng.random_range(0..100);
    let resp = match roll {
        0..=9 => {
            counts.drop.fetch_add(1, Ordering::Relaxed);
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
        10..=19 => {
            // The server applies it; the answer is lost.
            counts.drop_reply.fetch_add(1, Ordering::Relaxed);
            let _ = upstream(&server, &req);
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
        20..=29 => {
            counts.delay.fetch_add(1, Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(rng.random_range(10..150)));
            upstream(&server, &req)
        }
        30..=39 => {
            counts.duplicate.fetch_add(1, Ordering::Relaxed);
            let _ = upstream(&server, &req);
            upstream(&server, &req)
        }
        40..=49 => {
            counts.truncate.fetch_add(1, Ordering::Relaxed);
            let resp = upstream(&server, &req).unwrap_or_default();
            let cut = rng.random_range(0..resp.len().max(1));
            let _ = client.write_all(&resp[..cut]);
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
        50..=54 => {
            // Reset mid-request: the server sees half a request.
            counts.reset.fetch_add(1, Ordering::Relaxed);
            if let Ok(mut up) = TcpStream::connect(&server) {
                let _ = up.write_all(&req[..req.len() / 2]);
                let _ = up.shutdown(Shutdown::Both);
            }
            let _ = client.shutdown(Shutdown::Both);
            return;
        }
        _ => {
            counts.pass.fetch_add(1, Ordering::Relaxed);
            upstream(&server, &req)
        }
    };
    if let Some(resp) = resp {
        let _ = client.write_all(&resp);
    }
    let _ = client.shutdown(Shutdown::Both);
}

fn start_proxy(server: String, counts: Arc<Counts>, stop: Arc<AtomicBool>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    std::thread::spawn(move || {
        let mut seed = 7u64;
        for conn in listener.incoming() {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            let Ok(conn) = conn else { continue };
            seed += 1;
            let (server, counts) = (server.clone(), counts.clone());
            std::thread::spawn(move || handle(conn, server, seed, counts));
        }
    });
    format!("http://{addr}")
}

fn point_at(store: &mut shopsync_core::Store, url: &str) {
    let cfg = store.sync_config().unwrap().unwrap();
    store
        .set_sync_config(&SyncConfig {
            server: url.to_string(),
            ..cfg
        })
        .unwrap();
}

#[test]
fn tills_converge_through_a_faulty_network() -> R {
    let s = shop(1_000_000);
    let c_code = s.server.code(&s.store_id, "till");
    let c = enrol(&s.dir.path().join("c.db"), &s.server, &c_code, Some("C"));
    let mut tills = vec![s.a, s.b, c];
    let counts = Arc::new(Counts::default());
    let stop = Arc::new(AtomicBool::new(false));
    let proxy = start_proxy(s.server.addr.clone(), counts.clone(), stop.clone());
    for t in &mut tills {
        point_at(t, &proxy);
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(42);
    let mut sold = 0i64;
    let (mut ok, mut failed) = (0u32, 0u32);
    let rounds = 1_020;
    for round in 0..rounds {
        let t = &mut tills[round % 3];
        for _ in 0..rng.random_range(0..3) {
            sell(t, (round / 3) as i64, 1);
            sold += 1;
        }
        match sync(t) {
            Ok(_) => ok += 1,
            Err(e) => {
                assert!(e.is_retryable(), "round {round}: {e}");
                failed += 1;
            }
        }
    }
    eprintln!(
        "{rounds} rounds through the proxy: {ok} ok, {failed} failed; faults: drop {} drop-reply {} delay {} duplicate {} truncate {} reset {} pass {}",
        counts.drop.load(Ordering::Relaxed),
        counts.drop_reply.load(Ordering::Relaxed),
        counts.delay.load(Ordering::Relaxed),
        counts.duplicate.load(Ordering::Relaxed),
        counts.truncate.load(Ordering::Relaxed),
        counts.reset.load(Ordering::Relaxed),
        counts.pass.load(Ordering::Relaxed),
    );
    assert!(
        ok > 100 && failed > 100,
        "both outcomes happen: {ok} ok, {failed} failed"
    );
    // The network heals.
    stop.store(true, Ordering::SeqCst);
    for t in &mut tills {
        point_at(t, &s.server.url);
    }
    for _ in 0..2 {
        for t in &mut tills {
            sync(t)?;
        }
    }
    for t in &tills {
        assert_eq!(stock(t), 1_000_000 - sold, "till {}", t.info().till_name);
        assert_eq!(t.sync_status()?.changes_waiting, 0);
        let n: i64 = t
            .connection()
            .query_row("SELECT COUNT(*) FROM sales", [], |r| r.get(0))?;
        assert_eq!(n, sold);
    }
    let refs: Vec<&shopsync_core::Store> = tills.iter().collect();
    assert_same(&refs);
    let counts = db_ints(
        &s.server.db,
        "SELECT COUNT(*), COUNT(DISTINCT hash) FROM changes",
    );
    let (rows, distinct) = (counts[0], counts[1]);
    assert_eq!(rows, distinct, "nothing stored twice");
    Ok(())
}
