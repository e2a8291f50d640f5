//! Group commit for the audit trail. Every audited request waits for its row, but rows from
//! concurrent requests are appended together: one chain-head lock and one commit per batch
//! instead of per request, which is what keeps auditing every detail read affordable.

use std::sync::{Arc, OnceLock};

use tokio::sync::{mpsc, oneshot};
use wangge_store::audit::NewAuditEvent;
use wangge_store::{Store, StoreError};

type Ack = oneshot::Sender<Result<(), String>>;

/// Rows appended per transaction at most.
const MAX_BATCH: usize = 256;

#[derive(Clone)]
pub struct AuditWriter {
    store: Store,
    queue: Arc<OnceLock<mpsc::Sender<(NewAuditEvent, Ack)>>>,
}

impl AuditWriter {
    pub fn new(store: Store) -> Self {
        AuditWriter {
            store,
            queue: Arc::new(OnceLock::new()),
        }
    }

    /// Appends the event; returns once it is committed (an action that cannot be audited is not
    /// confirmed to the caller).
    pub async fn write(&self, event: NewAuditEvent) -> Result<(), StoreError> {
        let queue = self.queue.get_or_init(|| {
            let (sender, receiver) = mpsc::channel(4 * MAX_BATCH);
            tokio::spawn(run(self.store.clone(), receiver));
            sender
        });
        let (ack, done) = oneshot::channel();
        let stopped = || StoreError::Backend("audit writer stopped".into());
        queue.send((event, ack)).await.map_err(|_| stopped())?;
        done.await
            .map_err(|_| stopped())?
            .map_err(StoreError::Backend)
    }
}

async fn run(store: Store, mut queue: mpsc::Receiver<(NewAuditEvent, Ack)>) {
    while let Some(first) = queue.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (events, acks): (Vec<NewAuditEvent>, Vec<Ack>) = batch.into_iter().unzip();
        let result = store
            .append_audit_batch(&events)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string());
        if let Err(e) = &result {
            tracing::error!(error = %e, rows = events.len(), "audit append failed");
        }
        for ack in acks {
            let _ = ack.send(result.clone());
        }
    }
}
