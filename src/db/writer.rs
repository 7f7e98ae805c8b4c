//! Where the sign-in path's frequent single-statement writes go (session rows, audit rows, passkey
//! counters).
//!
//! On SQLite: one connection, owned by a thread of its own that takes the writes one after another, so
//! they queue here, in order, instead of colliding on SQLite's write lock (where the loser sleeps in
//! SQLite's busy handler for 1 ms or more while the cores idle). Written by hand because neither shape sqlx
//! offers fits: a one-connection pool pings the connection after every use (sqlx 0.8's
//! `return_to_pool`), one more round trip to the connection's worker thread per write; and a connection
//! shared behind a lock stays locked until its holder's task runs again, which under load waits for a
//! runtime worker busy with someone's passkey verification, so each write held up all the others for
//! several times its own length (docs/benchmarks.md, 2026-12-04 b). This thread runs nothing else.
//!
//! On PostgreSQL, which has row locks, the writes share the pool.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use sqlx::any::AnyConnectOptions;
use sqlx::{AnyConnection, AnyPool, ConnectOptions};
use tokio::sync::{mpsc, oneshot};

use super::Backend;

#[derive(Clone, Debug)]
pub struct Writer(Kind);

/// What a write given to `Writer::run` returns: its statements' future, on the connection it was lent.
pub type WriteFuture<'c, T> = Pin<Box<dyn Future<Output = Result<T, sqlx::Error>> + Send + 'c>>;

#[derive(Clone, Debug)]
enum Kind {
    Pool(AnyPool),
    Thread {
        jobs: mpsc::Sender<Job>,
        /// Set once the connection is open; tests read it to tell that a write went through here.
        #[cfg_attr(not(test), allow(dead_code))]
        opened: Arc<AtomicBool>,
    },
}

/// Writes that may wait for the thread before callers wait to hand theirs over: a write runs even when
/// its caller gave up, so without a bound abandoned requests could pile up writes without end.
const QUEUE: usize = 1024;

/// One write for the thread: given its connection (or why it could not be opened), it runs and answers
/// its caller; `true` when the error it met may have broken the connection.
type Job = Box<
    dyn for<'c> FnOnce(Result<&'c mut AnyConnection, sqlx::Error>) -> Pin<Box<dyn Future<Output = bool> + Send + 'c>>
        + Send,
>;

impl Writer {
    pub(super) fn pool(pool: AnyPool) -> Self {
        Self(Kind::Pool(pool))
    }

    /// Starts the writer thread; its connection opens at the first write (the server starts while the
    /// database is missing). The thread ends when the last `Writer` handle is dropped.
    pub(super) fn thread(options: AnyConnectOptions) -> Result<Self, sqlx::Error> {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let opened = Arc::new(AtomicBool::new(false));
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let flag = Arc::clone(&opened);
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || runtime.block_on(take_writes(options, queue, flag)))?;
        Ok(Self(Kind::Thread { jobs, opened }))
    }

    /// Runs `write` on the writer connection, after the writes queued before it. `write` must leave no
    /// transaction open (a transaction's statements belong on `Db::pool`): on SQLite the next write of
    /// anyone would land in it. It runs to its end even when the caller stops waiting.
    pub async fn run<T, F>(&self, write: F) -> Result<T, sqlx::Error>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> WriteFuture<'c, T> + Send + 'static,
    {
        match &self.0 {
            Kind::Pool(pool) => write(&mut *pool.acquire().await?).await,
            Kind::Thread { jobs, .. } => {
                let (answer, answered) = oneshot::channel();
                let job: Job = Box::new(move |connection| {
                    Box::pin(async move {
                        let result = match connection {
                            Ok(connection) => write(connection).await,
                            Err(e) => Err(e),
                        };
                        let broken = result.as_ref().is_err_and(breaks_connection);
                        // the caller may have stopped waiting; the write stands either way
                        let _ = answer.send(result);
                        broken
                    })
                });
                jobs.send(job).await.map_err(|_| sqlx::Error::WorkerCrashed)?;
                answered.await.map_err(|_| sqlx::Error::WorkerCrashed)?
            }
        }
    }

    /// Whether a write has gone through (opened the connection); for tests.
    #[cfg(test)]
    pub fn has_written(&self) -> bool {
        match &self.0 {
            Kind::Pool(pool) => pool.size() > 0,
            Kind::Thread { opened, .. } => opened.load(Ordering::Relaxed),
        }
    }
}

/// The writer thread: one write at a time, on one connection, opened anew after an error that may have
/// broken it.
async fn take_writes(options: AnyConnectOptions, mut queue: mpsc::Receiver<Job>, opened: Arc<AtomicBool>) {
    let mut slot: Option<AnyConnection> = None;
    while let Some(job) = queue.recv().await {
        if slot.is_none() {
            match open(&options).await {
                Ok(connection) => {
                    slot = Some(connection);
                    opened.store(true, Ordering::Relaxed);
                }
                Err(e) => {
                    job(Err(e)).await;
                    continue;
                }
            }
        }
        let Some(connection) = slot.as_mut() else { continue };
        if job(Ok(connection)).await {
            slot = None;
        }
    }
}

async fn open(options: &AnyConnectOptions) -> Result<AnyConnection, sqlx::Error> {
    let mut connection = options.connect().await?;
    super::set_up(Backend::Sqlite, &mut connection).await?;
    Ok(connection)
}

/// Errors after which the connection may be unusable, so the next write opens a new one; a statement's
/// own errors (a constraint, a full disk, a busy database, a value that did not decode) leave it as it is.
fn breaks_connection(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed)
}
