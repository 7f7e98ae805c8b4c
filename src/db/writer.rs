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

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

use sqlx::any::AnyConnectOptions;
use sqlx::{AnyConnection, AnyPool, ConnectOptions, Connection};
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
        jobs: mpsc::Sender<Queued>,
        /// Set once the connection is open; tests read it to tell that a write went through here.
        #[cfg_attr(not(test), allow(dead_code))]
        opened: Arc<AtomicBool>,
        /// Writes that ran in a transaction shared with others; tests read it.
        #[cfg_attr(not(test), allow(dead_code))]
        shared: Arc<AtomicUsize>,
    },
}

/// Writes that may wait for the thread before callers wait to hand theirs over: a write runs even when
/// its caller gave up, so without a bound abandoned requests could pile up writes without end.
const QUEUE: usize = 1024;

/// The most writes one transaction takes: the first caller waits for all of them.
const BATCH: usize = 64;

/// One write for the thread: given its connection (or why it could not be opened), it runs and says how
/// it went; its caller hears once the write is committed.
type Job = Box<
    dyn for<'c> FnOnce(Result<&'c mut AnyConnection, sqlx::Error>) -> Pin<Box<dyn Future<Output = Ran> + Send + 'c>>
        + Send,
>;

struct Queued {
    job: Job,
    /// Must run outside any transaction (a checkpoint).
    alone: bool,
}

/// A write that ran, waiting for its transaction's end to answer its caller.
struct Ran {
    failed: bool,
    /// Its error may have broken the connection.
    broken: bool,
    answer: Answer,
}

/// Sends a write's result to its caller, or, given the commit's error, that its transaction did not commit.
type Answer = Box<dyn FnOnce(Option<&sqlx::Error>) + Send>;

impl Writer {
    pub(super) fn pool(pool: AnyPool) -> Self {
        Self(Kind::Pool(pool))
    }

    /// Starts the writer thread; its connection opens at the first write (the server starts while the
    /// database is missing). The thread ends when the last `Writer` handle is dropped.
    pub(super) fn thread(options: AnyConnectOptions) -> Result<Self, sqlx::Error> {
        let (jobs, queue) = mpsc::channel(QUEUE);
        let (opened, shared) = (Arc::new(AtomicBool::new(false)), Arc::new(AtomicUsize::new(0)));
        // Timers but no IO driver: the thread does no IO of its own (sqlx's SQLite connection answers through
        // channels from its own thread), so an idle writer parks on a condition variable instead of in epoll.
        // Measured level or slightly faster than with the IO driver (docs/benchmarks.md, 2026-12-05 and
        // 2026-12-05 (b)). Timers stay so that a write with a timeout works.
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build()?;
        let counters = (Arc::clone(&opened), Arc::clone(&shared));
        std::thread::Builder::new()
            .name("sqlite-writer".into())
            .spawn(move || runtime.block_on(take_writes(options, queue, counters)))?;
        Ok(Self(Kind::Thread { jobs, opened, shared }))
    }

    /// Runs `write` on the writer connection, after the writes queued before it; on SQLite it may share a
    /// transaction with the writes queued beside it (one commit for all). So `write` must leave
    /// transactions alone (a transaction's statements belong on `Db::pool`) and return every error its
    /// statements meet: the next write of anyone runs in the same transaction. It runs to its end even when
    /// the caller stops waiting; the answer comes once it is committed.
    pub async fn run<T, F>(&self, write: F) -> Result<T, sqlx::Error>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> WriteFuture<'c, T> + Send + 'static,
    {
        self.queue(write, false).await
    }

    /// `run` for a statement that cannot run inside a transaction (a checkpoint): it runs by itself.
    pub async fn run_alone<T, F>(&self, write: F) -> Result<T, sqlx::Error>
    where
        T: Send + 'static,
        F: for<'c> FnOnce(&'c mut AnyConnection) -> WriteFuture<'c, T> + Send + 'static,
    {
        self.queue(write, true).await
    }

    async fn queue<T, F>(&self, write: F, alone: bool) -> Result<T, sqlx::Error>
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
                        let (failed, broken) = (result.is_err(), result.as_ref().is_err_and(breaks_connection));
                        let answer: Answer = Box::new(move |uncommitted: Option<&sqlx::Error>| {
                            let result = match uncommitted {
                                Some(e) if result.is_ok() => Err(not_committed(e)),
                                _ => result,
                            };
                            // the caller may have stopped waiting; the write stands either way
                            let _ = answer.send(result);
                        });
                        Ran { failed, broken, answer }
                    })
                });
                jobs.send(Queued { job, alone }).await.map_err(|_| sqlx::Error::WorkerCrashed)?;
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

    /// How many writes ran in a transaction shared with others; for tests.
    #[cfg(test)]
    pub fn shared_writes(&self) -> usize {
        match &self.0 {
            Kind::Pool(_) => 0,
            Kind::Thread { shared, .. } => shared.load(Ordering::Relaxed),
        }
    }
}

/// The writer thread: the writes in turn, on one connection, opened anew after an error that may have
/// broken it. Writes that queued up while the last ones ran go in one transaction (group commit): under
/// load each write otherwise paid its own commit (SQLite's locks, the log's header and index, every page
/// it touched written again), and the queue grew behind them while the cores idled.
async fn take_writes(
    options: AnyConnectOptions,
    mut queue: mpsc::Receiver<Queued>,
    (opened, shared): (Arc<AtomicBool>, Arc<AtomicUsize>),
) {
    let mut slot: Option<AnyConnection> = None;
    let mut waiting = VecDeque::new();
    loop {
        if waiting.is_empty() {
            match queue.recv().await {
                Some(queued) => waiting.push_back(queued),
                None => return,
            }
        }
        while waiting.len() < BATCH {
            match queue.try_recv() {
                Ok(queued) => waiting.push_back(queued),
                Err(_) => break,
            }
        }
        if slot.is_none() {
            match open(&options).await {
                Ok(connection) => {
                    slot = Some(connection);
                    opened.store(true, Ordering::Relaxed);
                }
                Err(e) => {
                    // the first write hears why; the next one tries to open again
                    if let Some(queued) = waiting.pop_front() {
                        ((queued.job)(Err(e)).await.answer)(None);
                    }
                    continue;
                }
            }
        }
        let Some(connection) = slot.as_mut() else { continue };
        // writes up to the first that must run alone (or just that one, when it comes first)
        let together = waiting.iter().position(|q| q.alone).unwrap_or(waiting.len()).max(1);
        let broken = if together == 1 {
            let Some(queued) = waiting.pop_front() else { continue };
            let ran = (queued.job)(Ok(connection)).await;
            (ran.answer)(None);
            ran.broken
        } else {
            let batch: Vec<Job> = waiting.drain(..together).map(|q| q.job).collect();
            let (broken, unrun) = run_together(connection, batch, &shared).await;
            // a failed write ended its transaction early; the writes after it go first next time
            for job in unrun.into_iter().rev() {
                waiting.push_front(Queued { job, alone: false });
            }
            broken
        };
        if broken {
            slot = None;
        }
    }
}

/// Runs `batch` in one transaction and answers each write once it is committed. A write that fails ends
/// the transaction there (its error may have rolled everything back: the commit then tells the writes
/// before it); the writes not run come back. Whether the connection may be broken.
async fn run_together(connection: &mut AnyConnection, batch: Vec<Job>, shared: &AtomicUsize) -> (bool, Vec<Job>) {
    let broken = match connection.begin().await {
        Ok(transaction) => return run_in(transaction, batch, shared).await,
        Err(e) => breaks_connection(&e),
    };
    // no transaction: the first write runs by itself, the others come back
    let mut batch = batch.into_iter();
    let mut first_broke = false;
    if let Some(job) = batch.next() {
        let ran = job(Ok(connection)).await;
        first_broke = ran.broken;
        (ran.answer)(None);
    }
    (broken || first_broke, batch.collect())
}

async fn run_in(
    mut transaction: sqlx::Transaction<'_, sqlx::Any>,
    batch: Vec<Job>,
    shared: &AtomicUsize,
) -> (bool, Vec<Job>) {
    let mut ran = Vec::with_capacity(batch.len());
    let mut batch = batch.into_iter();
    for job in batch.by_ref() {
        let outcome = job(Ok(&mut *transaction)).await;
        let failed = outcome.failed;
        ran.push(outcome);
        if failed {
            break;
        }
    }
    let committed = transaction.commit().await;
    shared.fetch_add(ran.len(), Ordering::Relaxed);
    // after a failed commit the connection's idea of its transaction is not to be trusted: a new one
    let broken = committed.is_err() || ran.iter().any(|r| r.broken);
    for outcome in ran {
        (outcome.answer)(committed.as_ref().err());
    }
    (broken, batch.collect())
}

async fn open(options: &AnyConnectOptions) -> Result<AnyConnection, sqlx::Error> {
    let mut connection = options.connect().await?;
    super::set_up(Backend::Sqlite, &mut connection).await?;
    Ok(connection)
}

/// A write that ran but whose transaction did not commit.
fn not_committed(e: &sqlx::Error) -> sqlx::Error {
    sqlx::Error::Io(std::io::Error::other(format!("the write's transaction did not commit: {e}")))
}

/// Errors after which the connection may be unusable, so the next write opens a new one; a statement's
/// own errors (a constraint, a full disk, a busy database, a value that did not decode) leave it as it is.
fn breaks_connection(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Io(_) | sqlx::Error::Protocol(_) | sqlx::Error::WorkerCrashed)
}
