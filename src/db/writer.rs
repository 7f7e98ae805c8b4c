//! Where the sign-in path's frequent single-statement writes go (session rows, audit rows, passkey
//! counters).
//!
//! On SQLite: one connection of our own, held behind a lock, so those writes queue here, in order,
//! instead of colliding on SQLite's write lock (where the loser sleeps in SQLite's busy handler for 1 ms
//! or more while the cores idle). Held by hand rather than as a one-connection sqlx pool because sqlx 0.8
//! pings every connection it takes back (`return_to_pool`): on SQLite one more round trip to the
//! connection's worker thread after every write, which doubled the CPU of a write and halved how many the
//! one connection could take (docs/benchmarks.md, 2026-12-04 b). The ping is there to clean up after a
//! transaction abandoned mid-way; this connection never holds one (see `run`).
//!
//! On PostgreSQL, which has row locks, the writes share the pool.

use std::sync::Arc;

use sqlx::any::AnyConnectOptions;
use sqlx::AnyConnection;
use sqlx::{AnyPool, ConnectOptions};
use tokio::sync::Mutex;

use super::Backend;

#[derive(Clone, Debug)]
pub struct Writer(Kind);

#[derive(Clone, Debug)]
enum Kind {
    Pool(AnyPool),
    Held(Arc<Held>),
}

#[derive(Debug)]
struct Held {
    options: AnyConnectOptions,
    /// Opened at first use (the server starts while the database is missing), dropped after an error
    /// that may have broken it, so the next write opens a new one.
    connection: Mutex<Option<AnyConnection>>,
}

impl Writer {
    pub(super) fn pool(pool: AnyPool) -> Self {
        Self(Kind::Pool(pool))
    }

    pub(super) fn held(options: AnyConnectOptions) -> Self {
        Self(Kind::Held(Arc::new(Held { options, connection: Mutex::new(None) })))
    }

    /// Runs `write` on the writer connection, after the writes queued before it. `write` must leave no
    /// transaction open (a transaction's statements belong on `Db::pool`): on SQLite the next write of
    /// anyone would land in it.
    pub async fn run<T>(
        &self,
        write: impl AsyncFnOnce(&mut AnyConnection) -> Result<T, sqlx::Error>,
    ) -> Result<T, sqlx::Error> {
        match &self.0 {
            Kind::Pool(pool) => write(&mut *pool.acquire().await?).await,
            Kind::Held(held) => {
                let mut slot = held.connection.lock().await;
                let connection = match &mut *slot {
                    Some(connection) => connection,
                    empty => empty.insert(open(&held.options).await?),
                };
                let result = write(connection).await;
                if result.as_ref().is_err_and(breaks_connection) {
                    *slot = None;
                }
                result
            }
        }
    }

    /// Whether a write has gone through (opened the connection); for tests.
    #[cfg(test)]
    pub async fn has_written(&self) -> bool {
        match &self.0 {
            Kind::Pool(pool) => pool.size() > 0,
            Kind::Held(held) => held.connection.lock().await.is_some(),
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
