//! All SQL lives here. One pool type for both back ends (sqlx's `Any` driver), so every repository is the
//! same code on SQLite and PostgreSQL: queries use `$1` placeholders (SQLite accepts them too), integers are
//! BIGINT/INTEGER, times are Unix seconds, ids are text.

pub mod accounts;
pub mod audit;
pub mod mfa;
pub mod oauth;
pub mod oauth_keys;
pub mod passkeys;
pub mod roles;
pub mod sessions;
pub mod throttle;
pub mod verifications;
mod writer;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Executor};

pub use writer::{WriteFuture, Writer};

/// Which database the URL names; the two migration sets differ only in types and DDL details.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    /// Where the frequent single-statement writes of the sign-in path go (sessions, audit rows, passkey
    /// counters): on SQLite one connection where they queue (see `writer.rs`), on PostgreSQL the pool.
    pub writer: Writer,
    pub backend: Backend,
}

/// Log size (in pages of 4 KiB) past which a checkpoint restarts SQLite's write-ahead log: 256 MiB, about
/// five seconds of writes at full passkey sign-in load. Each restart holds the writer 60-180 ms (the log's
/// and the file's fsyncs, the readers still in the log), so it should be rare: at 64 MiB it came every
/// two seconds and set the sign-ins' p99 (docs/benchmarks.md, 2026-12-05). Checked once a checkpoint tick,
/// so the log grows past it by up to a second of writes (about 320 MiB in all); after the restart
/// `journal_size_limit` gives the file back. The price: a longer log is slower to look pages up in, about
/// 6 % fewer sign-ins at 8 in flight than with 64 MiB (docs/benchmarks.md, 2026-12-05 (b)).
const WAL_RESTART_FRAMES: i64 = 65_536;

/// How long a request waits for a connection before the database counts as unavailable. Short, so
/// `/readyz` and requests fail fast while the database is down.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

impl Db {
    /// Connects lazily: the server starts (and `/readyz` reports 503) even while the database is down.
    pub fn connect_lazy(url: &str) -> Result<Self, sqlx::Error> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") { Backend::Sqlite } else { Backend::Postgres };
        let url = match backend {
            Backend::Sqlite => sqlite_url(url)?,
            Backend::Postgres => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        Ok(match backend {
            // SQLite has one writer; a few readers are plenty and keep memory low.
            Backend::Sqlite => Self {
                pool: pool(backend, 8).connect_lazy_with(options.clone()),
                writer: Writer::thread(options)?,
                backend,
            },
            Backend::Postgres => {
                let pool = pool(backend, 16).connect_lazy_with(options);
                Self { writer: Writer::pool(pool.clone()), pool, backend }
            }
        })
    }

    /// Applies the pending forward-only migrations of this back end.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&self.pool).await,
            Backend::Postgres => sqlx::migrate!("./migrations/postgres").run(&self.pool).await,
        }
    }

    /// Copies committed pages from SQLite's write-ahead log into the database file (a no-op on
    /// PostgreSQL). Run every `every` by `run_checkpoints`. PASSIVE, on a reader connection: writes go on
    /// meanwhile. Under steady load that never lets the log start over (there is always a newer frame), so
    /// it grew past 1 GB in a 30-second benchmark, and every write and lookup in it got slower; once it holds
    /// more than `WAL_RESTART_FRAMES`, a RESTART on the writer connection (no write lands meanwhile; it
    /// waits for the readers still reading old frames, one query each) makes the next write start the log
    /// from its beginning, and `journal_size_limit` gives the file back.
    pub async fn checkpoint(&self) -> Result<(), sqlx::Error> {
        if self.backend == Backend::Sqlite && self.copy_log().await? > WAL_RESTART_FRAMES {
            self.restart_log().await?;
        }
        Ok(())
    }

    /// A PASSIVE checkpoint; how many frames the log holds.
    async fn copy_log(&self) -> Result<i64, sqlx::Error> {
        // (busy, frames in the log, frames copied)
        let (_, frames, _): (i64, i64, i64) =
            sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&self.pool).await?;
        Ok(frames)
    }

    /// A RESTART checkpoint on the writer: the next write starts the log from its beginning.
    async fn restart_log(&self) -> Result<(), sqlx::Error> {
        let restart = self.writer.run_alone(|c| {
            Box::pin(async move { sqlx::query("PRAGMA wal_checkpoint(RESTART)").execute(c).await.map(|_| ()) })
        });
        restart.await
    }

    /// The background checkpoint loop (SQLite); failures are logged and retried on the next tick.
    pub async fn run_checkpoints(self, every: Duration) {
        if self.backend != Backend::Sqlite {
            return;
        }
        let mut ticks = tokio::time::interval(every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            ticks.tick().await;
            if let Err(e) = self.checkpoint().await {
                tracing::warn!(error = %e, "WAL checkpoint failed");
            }
        }
    }

    /// A cheap round trip, for readiness checks.
    pub async fn ping(&self) -> Result<(), sqlx::Error> {
        sqlx::query("SELECT 1").execute(&self.pool).await.map(|_| ())
    }
}

/// A pool of at most `max` connections, each set up for `backend`.
fn pool(backend: Backend, max: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        // A pooled PostgreSQL connection can die with its server or the network, so it is pinged before
        // use; an SQLite file connection cannot, and the ping would cost a round trip to its worker thread
        // on every query.
        .test_before_acquire(backend == Backend::Postgres)
        .after_connect(move |conn, _meta| Box::pin(set_up(backend, conn)))
}

/// Sets up a new connection (the pool's and the writer's alike).
async fn set_up(backend: Backend, conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    if backend == Backend::Sqlite {
        // WAL lets readers run beside the writer; busy_timeout makes a writer wait for the lock instead of
        // failing; foreign keys are off in SQLite unless asked for. No automatic checkpoints: they would run
        // (and fsync) inside whichever request's commit crosses the threshold; `checkpoint` runs them in the
        // background instead. No memory map (mmap_size 0, SQLite's default): in WAL mode a connection unmaps
        // the whole file whenever anyone wrote since its last read and maps it again as it reads, and under
        // sign-in load that cost more than the copies it saves (docs/benchmarks.md). A log that grew is cut
        // back to 64 MiB when it starts over.
        conn.execute(
            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON; \
             PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0; PRAGMA mmap_size = 0; \
             PRAGMA journal_size_limit = 67108864;",
        )
        .await?;
    }
    Ok(())
}

/// SQLite URLs get `mode=rwc` (create the file when missing) and their directory is created.
fn sqlite_url(url: &str) -> Result<String, sqlx::Error> {
    let path = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    let file = path.split('?').next().unwrap_or_default();
    if !file.is_empty() && file != ":memory:" {
        if let Some(dir) = std::path::Path::new(file).parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
        }
    }
    Ok(if url.contains("mode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

/// A migrated SQLite database in a temporary directory, for unit tests (an in-memory database would be one
/// per pooled connection).
#[cfg(test)]
pub(crate) async fn test_db() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let db = Db::connect_lazy(&format!("sqlite://{}/test.db", dir.path().display())).unwrap_or_else(|e| panic!("{e}"));
    db.migrate().await.unwrap_or_else(|e| panic!("{e}"));
    (dir, db)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One small write through `db`: a row of the throttle table under `key`.
    async fn insert_row<'e>(db: impl sqlx::AnyExecutor<'e>, key: String) -> Result<(), sqlx::Error> {
        sqlx::query("INSERT INTO throttle (key, failures, last_failure_at) VALUES ($1, 1, 0)")
            .bind(key)
            .execute(db)
            .await
            .map(|_| ())
    }

    /// `insert_row`, which must succeed.
    async fn write_row<'e>(db: impl sqlx::AnyExecutor<'e>, key: String) {
        insert_row(db, key).await.unwrap_or_else(|e| panic!("{e}"));
    }

    /// `insert_row` on `db`'s writer connection, with its own result.
    async fn insert_on_writer(db: &Db, key: impl Into<String>) -> Result<(), sqlx::Error> {
        let key = key.into();
        db.writer.run(move |c| Box::pin(async move { insert_row(c, key).await })).await
    }

    /// `insert_on_writer`, which must succeed.
    async fn write_through_writer(db: &Db, key: String) {
        insert_on_writer(db, key).await.unwrap_or_else(|e| panic!("{e}"));
    }

    /// One query's single value, read on the writer connection.
    async fn writer_value(db: &Db, sql: &'static str) -> i64 {
        let read = db.writer.run(move |c| Box::pin(async move { sqlx::query_scalar(sql).fetch_one(c).await }));
        read.await.unwrap_or_else(|e| panic!("{e}"))
    }

    /// A read transaction holding its snapshot (as a query under way does) until it is committed.
    async fn open_reader(db: &Db) -> sqlx::Transaction<'static, sqlx::Any> {
        let mut reader = db.pool.begin().await.unwrap_or_else(|e| panic!("{e}"));
        let _: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM throttle")
            .fetch_one(&mut *reader)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        reader
    }

    #[test]
    fn sqlite_urls_create_the_file() {
        assert_eq!(sqlite_url("sqlite::memory:").ok().as_deref(), Some("sqlite::memory:?mode=rwc"));
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let url = format!("sqlite://{}/sub/v.db", dir.path().display());
        assert_eq!(sqlite_url(&url).ok(), Some(format!("{url}?mode=rwc")));
        assert!(dir.path().join("sub").is_dir());
    }

    #[tokio::test]
    async fn sqlite_connections_use_wal_busy_timeout_and_foreign_keys() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let db = Db::connect_lazy(&format!("sqlite://{}/t.db", dir.path().display())).unwrap_or_else(|e| panic!("{e}"));
        let mode: (String,) =
            sqlx::query_as("PRAGMA journal_mode").fetch_one(&db.pool).await.unwrap_or_else(|e| panic!("{e}"));
        let busy: (i64,) =
            sqlx::query_as("PRAGMA busy_timeout").fetch_one(&db.pool).await.unwrap_or_else(|e| panic!("{e}"));
        let fk: (i64,) =
            sqlx::query_as("PRAGMA foreign_keys").fetch_one(&db.pool).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((mode.0.as_str(), busy.0, fk.0), ("wal", 5000, 1));
        db.migrate().await.unwrap_or_else(|e| panic!("{e}"));
        db.migrate().await.unwrap_or_else(|e| panic!("migrations must be re-runnable: {e}"));
    }

    #[tokio::test]
    async fn sqlite_writes_queue_on_one_writer_connection_that_readers_see() {
        let (_dir, db) = test_db().await;
        assert!(db.pool.options().get_max_connections() > 1, "readers run side by side");
        let mut pragmas = Vec::new();
        for pragma in ["PRAGMA busy_timeout", "PRAGMA foreign_keys", "PRAGMA journal_size_limit", "PRAGMA mmap_size"] {
            pragmas.push(writer_value(&db, pragma).await);
        }
        assert_eq!(pragmas, [5000, 1, 67_108_864, 0], "the writer is set up like every connection");
        // writes from many tasks at once all land, in turn, and a reader connection sees them
        let writes = (0..32).map(|i| {
            let db = db.clone();
            tokio::spawn(async move { write_through_writer(&db, format!("{i:0>64}")).await })
        });
        for write in writes.collect::<Vec<_>>() {
            write.await.unwrap_or_else(|e| panic!("{e}"));
        }
        let seen: (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM throttle").fetch_one(&db.pool).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(seen.0, 32);
    }

    #[tokio::test]
    async fn a_failed_write_leaves_the_sqlite_writer_connection_usable() {
        let (_dir, db) = test_db().await;
        // marks the one connection, so the read below tells whether it is still the same one
        let mark =
            db.writer.run(|c| Box::pin(async move { sqlx::query("PRAGMA cache_size = -1234").execute(c).await }));
        mark.await.unwrap_or_else(|e| panic!("{e}"));
        write_through_writer(&db, "k".into()).await;
        let duplicate = insert_on_writer(&db, "k").await;
        assert!(matches!(duplicate, Err(sqlx::Error::Database(_))), "{duplicate:?}");
        let cache = writer_value(&db, "PRAGMA cache_size").await;
        assert_eq!(cache, -1234, "a statement's error keeps the connection (and its cached statements)");
        write_through_writer(&db, "k2".into()).await;
    }

    #[tokio::test]
    async fn a_write_on_the_sqlite_writer_may_use_a_timer() {
        let (_dir, db) = test_db().await;
        // the writer's runtime has no IO driver; a timer must still work there (without one it panics)
        let timed = db.writer.run(|c| {
            Box::pin(async move {
                let select = sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(c);
                tokio::time::timeout(Duration::from_secs(5), select).await.map_err(|e| sqlx::Error::Io(e.into()))?
            })
        });
        assert_eq!(timed.await.ok(), Some(1));
    }

    /// Keeps the writer busy until the returned sender is used (or dropped); returns once it is busy.
    async fn hold_writer(db: &Db) -> (tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
        let (started, busy) = tokio::sync::oneshot::channel();
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let writer = db.writer.clone();
        let held = tokio::spawn(async move {
            let write = writer.run(move |c| {
                Box::pin(async move {
                    let _ = started.send(());
                    let _ = released.await;
                    sqlx::query("SELECT 1").execute(c).await.map(|_| ())
                })
            });
            write.await.unwrap_or_else(|e| panic!("{e}"));
        });
        busy.await.unwrap_or_else(|e| panic!("{e}"));
        (release, held)
    }

    #[tokio::test]
    async fn queued_sqlite_writes_share_commits_and_each_hears_its_own_outcome() {
        let (_dir, db) = test_db().await;
        write_through_writer(&db, "k".into()).await;
        let (release, held) = hold_writer(&db).await;
        // queued in this order while the writer is busy (join! polls them in turn, the release last)
        let (a, duplicate, c, d, ()) = tokio::join!(
            insert_on_writer(&db, "a"),
            insert_on_writer(&db, "k"),
            insert_on_writer(&db, "c"),
            insert_on_writer(&db, "d"),
            async { release.send(()).unwrap_or_else(|()| panic!("the held write is waiting")) },
        );
        held.await.unwrap_or_else(|e| panic!("{e}"));
        assert!(a.is_ok() && c.is_ok() && d.is_ok(), "{a:?} {c:?} {d:?}");
        assert!(matches!(duplicate, Err(sqlx::Error::Database(_))), "{duplicate:?}");
        // the failed write ended the first transaction (a and it), the two after it shared the next
        assert_eq!(db.writer.shared_writes(), 4);
        let keys: Vec<String> = sqlx::query_scalar("SELECT key FROM throttle ORDER BY key")
            .fetch_all(&db.pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(keys, ["a", "c", "d", "k"], "every committed write is there for readers");
    }

    #[tokio::test]
    async fn a_checkpoint_queued_between_writes_runs_outside_their_transaction() {
        let (_dir, db) = test_db().await;
        let (release, held) = hold_writer(&db).await;
        let (a, restart, c, ()) =
            tokio::join!(insert_on_writer(&db, "a"), db.restart_log(), insert_on_writer(&db, "c"), async {
                release.send(()).unwrap_or_else(|()| panic!("the held write is waiting"))
            },);
        held.await.unwrap_or_else(|e| panic!("{e}"));
        assert!(a.is_ok() && c.is_ok(), "{a:?} {c:?}");
        restart.unwrap_or_else(|e| panic!("a checkpoint cannot run inside a transaction: {e}"));
        assert_eq!(db.writer.shared_writes(), 0, "neither write had a neighbour to share with");
    }

    #[tokio::test]
    async fn the_sqlite_writer_opens_at_first_use_and_tries_again_after_a_failed_open() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let file = dir.path().join("later.db");
        // not there yet and not to be created (mode=rw): the server starts, the first write reports the failed open
        let db = Db::connect_lazy(&format!("sqlite://{}?mode=rw", file.display())).unwrap_or_else(|e| panic!("{e}"));
        let select =
            || db.writer.run(|c| Box::pin(async move { sqlx::query_scalar::<_, i64>("SELECT 1").fetch_one(c).await }));
        assert!(select().await.is_err(), "no database file yet");
        assert!(!db.writer.has_written());
        std::fs::write(&file, b"").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(select().await.ok(), Some(1), "the next write opens the connection");
        assert!(db.writer.has_written());
    }

    #[tokio::test]
    async fn sqlite_checkpoints_only_when_asked() {
        let (dir, db) = test_db().await;
        let auto: (i64,) =
            sqlx::query_as("PRAGMA wal_autocheckpoint").fetch_one(&db.pool).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(auto.0, 0, "no checkpoint inside a request's commit");
        for i in 0..200 {
            write_row(&db.pool, format!("{i:0>64}")).await;
        }
        let file_size = || std::fs::metadata(dir.path().join("test.db")).map(|m| m.len()).unwrap_or(0);
        let before = file_size();
        db.checkpoint().await.unwrap_or_else(|e| panic!("{e}"));
        assert!(file_size() > before, "the logged pages reached the database file ({before} bytes before)");
    }

    #[tokio::test]
    async fn a_long_sqlite_log_starts_over_after_a_checkpoint() {
        let (_dir, db) = test_db().await;
        let write = |i: usize| write_through_writer(&db, format!("{i:0>64}"));
        let frames = || async { db.copy_log().await.unwrap_or_else(|e| panic!("{e}")) };
        write(0).await;
        // a reader still on old frames while the log is copied, as under steady load: the log only grows
        let reader = open_reader(&db).await;
        for i in 100..200 {
            write(i).await;
        }
        let copied = frames().await;
        assert!(copied >= 100);
        reader.commit().await.unwrap_or_else(|e| panic!("{e}"));
        write(1).await;
        assert!(frames().await > copied, "after a PASSIVE checkpoint alone the log only grows");
        // a RESTART waits for such a reader (here: ended once the RESTART is seen waiting), and the next
        // write starts the log over
        write(2).await;
        let reader = open_reader(&db).await;
        for i in 10..30 {
            write(i).await;
        }
        let restart = tokio::spawn({
            let db = db.clone();
            async move { db.restart_log().await }
        });
        // the RESTART is waiting once it keeps other writers out (a write without waiting fails)
        let mut probe = db.pool.acquire().await.unwrap_or_else(|e| panic!("{e}"));
        sqlx::query("PRAGMA busy_timeout = 0").execute(&mut *probe).await.unwrap_or_else(|e| panic!("{e}"));
        while !restart.is_finished() && sqlx::query("BEGIN IMMEDIATE").execute(&mut *probe).await.is_ok() {
            sqlx::query("ROLLBACK").execute(&mut *probe).await.unwrap_or_else(|e| panic!("{e}"));
            tokio::task::yield_now().await;
        }
        drop(probe);
        reader.commit().await.unwrap_or_else(|e| panic!("{e}"));
        restart.await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|e| panic!("{e}"));
        write(3).await;
        assert!(frames().await < 10, "after a RESTART the next write starts the log over");
    }
}
