//! The work ec2lite does beside requests, under one supervisor: the block sweeper and
//! the VM Import queue. Each worker watches one shutdown signal; at shutdown the
//! supervisor asks them to stop and waits for them (briefly) before the store closes.

pub mod import;
pub mod raw_disk;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::app::App;

/// How long shutdown waits for workers before dropping them.
const STOP_GRACE: Duration = Duration::from_secs(5);

/// A worker's view of the shutdown signal.
#[derive(Clone)]
pub struct Stop(watch::Receiver<bool>);

impl Stop {
    /// Resolves once shutdown has been asked for.
    pub async fn requested(&mut self) {
        // An error means the supervisor is gone: stop too.
        let _ = self.0.wait_for(|stop| *stop).await;
    }
}

pub struct Supervisor {
    signal: watch::Sender<bool>,
    workers: JoinSet<()>,
}

impl Default for Supervisor {
    fn default() -> Self {
        Supervisor { signal: watch::channel(false).0, workers: JoinSet::new() }
    }
}

impl Supervisor {
    /// Starts a worker; it gets the shutdown signal to watch.
    pub fn spawn<F, W>(&mut self, worker: W)
    where
        W: FnOnce(Stop) -> F,
        F: Future<Output = ()> + Send + 'static,
    {
        self.workers.spawn(worker(Stop(self.signal.subscribe())));
    }

    /// Signals every worker to stop and waits for them, at most `STOP_GRACE`.
    pub async fn shutdown(mut self) {
        let _ = self.signal.send(true);
        let drained =
            tokio::time::timeout(STOP_GRACE, async { while self.workers.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!("workers did not stop in time; dropping them");
            self.workers.shutdown().await;
        }
    }
}

/// Removes unreferenced blocks every `every_secs` (0: never).
pub async fn sweep_blocks(app: Arc<App>, every_secs: u64, mut stop: Stop) {
    if every_secs == 0 {
        return;
    }
    let mut ticks = tokio::time::interval(Duration::from_secs(every_secs));
    ticks.tick().await;
    loop {
        tokio::select! {
            _ = ticks.tick() => {}
            () = stop.requested() => return,
        }
        if let Err(err) = app.sweep_blocks().await {
            tracing::warn!(error = %err, "periodic block sweep failed");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn shutdown_stops_every_worker() {
        let mut supervisor = Supervisor::default();
        let (done_tx, mut done_rx) = tokio::sync::mpsc::unbounded_channel();
        for n in 0..3 {
            let done = done_tx.clone();
            supervisor.spawn(move |mut stop| async move {
                stop.requested().await;
                let _ = done.send(n);
            });
        }
        drop(done_tx);
        supervisor.shutdown().await;
        let mut stopped = Vec::new();
        while let Some(n) = done_rx.recv().await {
            stopped.push(n);
        }
        stopped.sort();
        assert_eq!(stopped, [0, 1, 2]);
    }
}
