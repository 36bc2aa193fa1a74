//! `shopsync-load --nats URL`: the event publisher's lag. While the tills
//! upload, a thread reads the first instance's `/metrics` every 250 ms and
//! keeps the largest age of the oldest waiting outbox entry
//! (`shopsync_events_lag_seconds`); after the merge, the report waits until
//! every instance's outbox is empty and says how long that took.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use anyhow::{Result, anyhow};

use crate::publish::derive_metrics;

pub struct Sampler {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<(f64, f64)>,
}

impl Sampler {
    pub fn start(url: &str, token: &str) -> Sampler {
        let stop = Arc::new(AtomicBool::new(false));
        let (url, token, flag) = (url.to_string(), token.to_string(), stop.clone());
        let thread = std::thread::spawn(move || {
            let (mut max_lag, mut max_outbox) = (0.0f64, 0.0f64);
            while !flag.load(SeqCst) {
                if let Ok(m) = derive_metrics(&url, &token) {
                    let get = |k: &str| m.get(k).copied().unwrap_or(0.0);
                    max_lag = max_lag.max(get("shopsync_events_lag_seconds"));
                    max_outbox = max_outbox.max(get("shopsync_events_outbox"));
                }
                std::thread::sleep(Duration::from_millis(250));
            }
            (max_lag, max_outbox)
        });
        Sampler { stop, thread }
    }

    /// Stops sampling (the merge has ended), waits for every instance's
    /// outbox to be empty (at most 5 minutes) and prints the figures.
    pub fn report(self, urls: &[String], token: &str) -> Result<()> {
        let merged = Instant::now();
        self.stop.store(true, SeqCst);
        let (max_lag, max_outbox) = self
            .thread
            .join()
            .map_err(|_| anyhow!("lag sampler panicked"))?;
        let deadline = merged + Duration::from_secs(300);
        let (published, dead) = loop {
            let (mut waiting, mut published, mut dead) = (0.0, 0.0, 0.0);
            for url in urls {
                let m = derive_metrics(url, token)?;
                let get = |k: &str| m.get(k).copied().unwrap_or(0.0);
                waiting += get("shopsync_events_outbox");
                published += get("shopsync_events_published_total");
                dead += get("shopsync_events_dead_letters_total");
            }
            if waiting == 0.0 {
                break (published, dead);
            }
            if Instant::now() > deadline {
                return Err(anyhow!(
                    "{waiting} outbox entries still waiting 5 minutes after the merge"
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        println!(
            "events: {published:.0} published ({dead:.0} dead letters); during the merge the oldest waiting outbox entry was at most {max_lag:.1} s old and the outbox held at most {max_outbox:.0} entries (changes or events); outbox empty {:.2} s after the merge ended",
            merged.elapsed().as_secs_f64()
        );
        Ok(())
    }
}
