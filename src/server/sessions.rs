//! tower-sessions on our own database.
//!
//! Written here rather than taken from tower-sessions-sqlx-store because that crate keeps one store per
//! back end and an opaque blob per row: we need one store over the `Any` pool (same code on SQLite and
//! PostgreSQL), ids stored only as hashes, an absolute lifetime enforced at load, and the account id as a
//! column so users can list and end their sessions (account center) and sign-out-everywhere can work.

use std::cell::Cell;
use std::future::Future;
use std::time::Duration;

use async_trait::async_trait;
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use time::OffsetDateTime;
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions::{Expiry, SessionManagerLayer};

use crate::db::{sessions as repo, Db};
use crate::server::config::Config;

/// Session data key holding the signed-in account's id; copied into the `account_id` column (see `owner`).
pub const ACCOUNT_ID_KEY: &str = "account_id";

/// The cookie name: `__Host-` (Secure, Path=/, no Domain, enforced by browsers) whenever the portal is served
/// over https. Browsers refuse `__Host-` cookies without `Secure`, which plain http on localhost cannot set.
pub fn cookie_name(https: bool) -> &'static str {
    if https {
        "__Host-vestibule"
    } else {
        "vestibule"
    }
}

#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
    absolute_lifetime: i64,
}

impl DbSessionStore {
    pub fn new(db: Db, absolute_lifetime: Duration) -> Self {
        Self { db, absolute_lifetime: i64::try_from(absolute_lifetime.as_secs()).unwrap_or(i64::MAX) }
    }

    fn now() -> i64 {
        OffsetDateTime::now_utc().unix_timestamp()
    }

    /// Inserts the record's row, deleting the row `replaces` once it is in (a rotated id); draws a new id
    /// when the record's is taken.
    async fn insert(&self, record: &mut Record, replaces: Option<&str>) -> session_store::Result<()> {
        loop {
            let (row, replaces, db_backend) =
                (StoredSession::of(record)?, replaces.map(str::to_owned), self.db.backend);
            let insert = self.db.writer.run(move |c| {
                Box::pin(async move {
                    match replaces {
                        Some(old) => repo::insert_replacing(c, db_backend, &row.as_new(), &old).await,
                        None => repo::insert(c, &row.as_new()).await,
                    }
                })
            });
            if insert.await.map_err(backend)? {
                return Ok(());
            }
            // 128 random bits collided: draw again rather than overwrite someone's session.
            record.id = Id::default();
        }
    }

    async fn delete_hash(&self, hash: String) -> session_store::Result<()> {
        let delete = self.db.writer.run(move |c| Box::pin(async move { repo::delete(c, &hash).await }));
        delete.await.map_err(backend)
    }
}

/// Takes `key`'s value out of the session when it holds one. Use this or `forget`, never tower-sessions'
/// own removal: that counts removing a key the session does not hold as a change, and a changed session is
/// written back whole when the request ends, so a page load that removed nothing overwrote what another
/// request of the same browser had stored meanwhile (an app's waiting logout request, lost in an
/// end-to-end run).
#[allow(clippy::disallowed_methods)]
pub async fn take<T: serde::de::DeserializeOwned>(
    session: &tower_sessions::Session,
    key: &str,
) -> Result<Option<T>, tower_sessions::session::Error> {
    match session.get_value(key).await? {
        Some(_) => session.remove(key).await,
        None => Ok(None),
    }
}

/// Removes `key` from the session when it holds it (see `take`); a session that cannot be read keeps it.
pub async fn forget(session: &tower_sessions::Session, key: &str) {
    let _ = take::<serde_json::Value>(session, key).await;
}

tokio::task_local! {
    /// Within one request (`settle_rotation`): the hash of the row a rotated session id replaces, until
    /// the new row's `create` deletes it or the request's end does.
    static REPLACED: Cell<Option<String>>;
    /// Set while `rotate_id` runs tower-sessions' `cycle_id`: the store's `delete` it calls is left to the
    /// new row's `create` (see `rotate_id`).
    static ROTATING: ();
}

/// Gives the session a new id (a sign-in, a step-up, any change of privilege: security.md's session
/// fixation line). Use this, never tower-sessions' `cycle_id` directly (clippy forbids it).
///
/// `cycle_id` deletes the old row at once, and the new row is inserted when the request ends: two trips
/// to the writer connection on the sign-in path. Inside a request (`settle_rotation`), the old row is
/// instead deleted by the new row's insert, in one statement batch (`db::sessions::insert_replacing`), or,
/// when no new row is stored (a server error, a session emptied), by `settle_rotation` before the
/// response leaves. Either way the old id never holds what the new one does, and it stops working
/// before the browser hears of the new one.
#[allow(clippy::disallowed_methods)]
pub async fn rotate_id(session: &tower_sessions::Session) -> Result<(), tower_sessions::session::Error> {
    // the id the request came with (`None`: no cookie, or a second rotation in this request, whose
    // first one already noted the row to replace; the ids in between are never stored)
    let replaced = session.id().map(|old| id_hash(&old));
    let deferred = REPLACED.try_with(|owed| {
        let first = owed.take().or(replaced);
        owed.set(first);
    });
    match deferred {
        Ok(()) => ROTATING.scope((), session.cycle_id()).await,
        // outside a request (a test of the store by itself): as tower-sessions does it
        Err(_) => session.cycle_id().await,
    }
}

/// Runs a request with room for its session's rotation (see `rotate_id`); placed outside the session
/// layer, so the new row's `create` at the end of the request runs inside it. A rotated row that no insert
/// replaced is deleted before the response goes out.
pub async fn settle_rotation(State(store): State<DbSessionStore>, request: Request, next: Next) -> Response {
    in_rotation_scope(&store, next.run(request)).await
}

async fn in_rotation_scope<T>(store: &DbSessionStore, request: impl Future<Output = T>) -> T {
    REPLACED
        .scope(Cell::new(None), async {
            let response = request.await;
            if let Some(old) = REPLACED.try_with(Cell::take).ok().flatten() {
                if let Err(e) = store.delete_hash(old).await {
                    tracing::error!(error = %e, "the replaced session row was not deleted");
                }
            }
            response
        })
        .await
}

/// The stored form of a session id: only its SHA-256 is kept, and shown (to name a session in a form).
pub fn id_hash(id: &Id) -> String {
    hex::encode(Sha256::digest(id.to_string().as_bytes()))
}

fn backend(e: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

/// A record as stored, owned (it goes to the writer connection's thread).
struct StoredSession {
    id_hash: String,
    data: String,
    expires_at: i64,
    account_id: Option<String>,
    now: i64,
}

impl StoredSession {
    fn of(record: &Record) -> session_store::Result<Self> {
        Ok(Self {
            id_hash: id_hash(&record.id),
            data: serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))?,
            expires_at: record.expiry_date.unix_timestamp(),
            account_id: owner(record),
            now: DbSessionStore::now(),
        })
    }

    fn as_new(&self) -> repo::NewSession<'_> {
        repo::NewSession {
            id_hash: &self.id_hash,
            data: &self.data,
            expires_at: self.expires_at,
            account_id: self.account_id.as_deref(),
            now: self.now,
        }
    }
}

/// The account a session belongs to, for the `account_id` column: the one it is signed in as, or else the
/// one whose second-factor step or password reset it holds. So ending an account's sessions (a reset, a
/// password change) also ends a half sign-in that knew the old password and a reset granted before.
fn owner(record: &Record) -> Option<String> {
    use crate::server::auth::{RESET_GRANT_KEY, SECOND_FACTOR_KEY};
    let signed_in = record.data.get(ACCOUNT_ID_KEY).and_then(|v| v.as_str());
    let pending = [SECOND_FACTOR_KEY, RESET_GRANT_KEY]
        .into_iter()
        .find_map(|key| record.data.get(key)?.get("account_id")?.as_str());
    signed_in.or(pending).map(str::to_owned)
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // a rotated session's new row replaces the old one (see `rotate_id`)
        let replaces = REPLACED.try_with(Cell::take).ok().flatten();
        let created = self.insert(record, replaces.as_deref()).await;
        if created.is_err() {
            // the old row may still be there: `settle_rotation` deletes it by itself
            let _ = REPLACED.try_with(|owed| owed.set(replaces));
        }
        created
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let row = StoredSession::of(record)?;
        let upsert = self.db.writer.run(move |c| Box::pin(async move { repo::upsert(c, &row.as_new()).await }));
        upsert.await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let now = Self::now();
        let Some(row) =
            repo::find_live(&self.db.pool, &id_hash(id), now, now - self.absolute_lifetime).await.map_err(backend)?
        else {
            return Ok(None);
        };
        let data = serde_json::from_str(&row.data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = OffsetDateTime::from_unix_timestamp(row.expires_at)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        if ROTATING.try_with(|()| ()).is_ok() {
            // `rotate_id`'s `cycle_id`: the new row's `create` deletes this one
            return Ok(());
        }
        self.delete_hash(id_hash(id)).await
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        let now = Self::now();
        let removed = repo::delete_expired(&self.db.pool, now, now - self.absolute_lifetime).await.map_err(backend)?;
        if removed > 0 {
            tracing::debug!(removed, "expired sessions deleted");
        }
        Ok(())
    }
}

/// The session layer: cookie named and flagged per security.md (HttpOnly, SameSite=Lax, Path=/, no Domain,
/// Secure under https), idle expiry from the configuration.
pub fn layer(store: DbSessionStore, config: &Config) -> SessionManagerLayer<DbSessionStore> {
    let idle = time::Duration::seconds(i64::try_from(config.session.idle_timeout_secs).unwrap_or(i64::MAX));
    SessionManagerLayer::new(store)
        .with_name(cookie_name(config.is_https()))
        .with_secure(config.is_https())
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_path("/")
        .with_expiry(Expiry::OnInactivity(idle))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store(absolute: u64) -> (tempfile::TempDir, DbSessionStore) {
        let (dir, db) = crate::db::test_db().await;
        (dir, DbSessionStore::new(db, Duration::from_secs(absolute)))
    }

    fn record(expires_in: i64) -> Record {
        let mut data = std::collections::HashMap::new();
        data.insert(ACCOUNT_ID_KEY.to_string(), serde_json::json!("acct-1"));
        Record { id: Id::default(), data, expiry_date: OffsetDateTime::now_utc() + time::Duration::seconds(expires_in) }
    }

    #[tokio::test]
    async fn round_trip_keeps_data_and_stores_only_the_hash() {
        let (_dir, store) = store(3600).await;
        let mut r = record(600);
        store.create(&mut r).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(store.db.writer.has_written(), "session rows are written through the writer connection");
        let loaded = store.load(&r.id).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(loaded.map(|l| l.data), Some(r.data.clone()));
        let ids: Vec<(String, Option<String>)> = sqlx::query_as("SELECT id_hash, account_id FROM sessions")
            .fetch_all(&store.db.pool)
            .await
            .unwrap_or_default();
        assert_eq!(ids, vec![(id_hash(&r.id), Some("acct-1".to_string()))]);
        assert!(!ids[0].0.contains(&r.id.to_string()));
        store.delete(&r.id).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(store.load(&r.id).await.unwrap_or_else(|e| panic!("{e}")).is_none());
    }

    async fn stored_hashes(store: &DbSessionStore) -> Vec<String> {
        sqlx::query_scalar("SELECT id_hash FROM sessions ORDER BY id_hash")
            .fetch_all(&store.db.pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    /// `N` sessions stored through the store, as a sign-in would leave them.
    async fn stored_records<const N: usize>(store: &DbSessionStore) -> [Record; N] {
        let mut records = std::array::from_fn(|_| record(600));
        for r in &mut records {
            store.create(r).await.unwrap_or_else(|e| panic!("{e}"));
        }
        records
    }

    /// The hashes of `ids`, in `stored_hashes`' order.
    fn sorted_hashes(ids: &[Id]) -> Vec<String> {
        let mut hashes: Vec<String> = ids.iter().map(id_hash).collect();
        hashes.sort();
        hashes
    }

    /// A browser's session as a request sees it, for a stored record (`None`: a browser without one).
    fn request_session(store: &DbSessionStore, id: Option<Id>) -> tower_sessions::Session {
        tower_sessions::Session::new(id, std::sync::Arc::new(store.clone()), None)
    }

    #[tokio::test]
    async fn a_rotated_id_replaces_the_old_row_when_the_new_one_is_stored() {
        let (_dir, store) = store(3600).await;
        let [old] = stored_records(&store).await;
        let session = request_session(&store, Some(old.id));
        in_rotation_scope(&store, async {
            rotate_id(&session).await.unwrap_or_else(|e| panic!("{e}"));
            // a second change of privilege in the same request (a reset grant, then a sign-in)
            rotate_id(&session).await.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(stored_hashes(&store).await, [id_hash(&old.id)], "nothing written before the request ends");
            session.save().await.unwrap_or_else(|e| panic!("{e}"));
        })
        .await;

        let new = session.id().unwrap_or_else(|| panic!("the new row is stored"));
        assert_ne!(new, old.id);
        assert_eq!(stored_hashes(&store).await, [id_hash(&new)], "the old row went with the new one's insert");
        assert!(store.load(&old.id).await.unwrap_or_else(|e| panic!("{e}")).is_none(), "the old id stopped working");
        let loaded = store.load(&new).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(loaded.map(|r| r.data), Some(old.data), "the data moved over, and nothing of the rotation");
    }

    #[tokio::test]
    async fn rotating_a_session_never_stored_deletes_nothing() {
        let (_dir, store) = store(3600).await;
        let [bystander] = stored_records(&store).await;
        let session = request_session(&store, None);
        in_rotation_scope(&store, async {
            session.insert(ACCOUNT_ID_KEY, "acct-2").await.unwrap_or_else(|e| panic!("{e}"));
            rotate_id(&session).await.unwrap_or_else(|e| panic!("{e}"));
            session.save().await.unwrap_or_else(|e| panic!("{e}"));
        })
        .await;
        let new = session.id().unwrap_or_else(|| panic!("stored"));
        assert_eq!(stored_hashes(&store).await, sorted_hashes(&[bystander.id, new]));
    }

    #[tokio::test]
    async fn a_rotated_row_no_new_row_replaced_goes_at_the_end_and_outside_a_request_at_once() {
        let (_dir, store) = store(3600).await;
        let [failed, direct] = stored_records(&store).await;
        // the request fails after the rotation: tower-sessions stores no new row
        let session = request_session(&store, Some(failed.id));
        in_rotation_scope(&store, async {
            rotate_id(&session).await.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(stored_hashes(&store).await.len(), 2, "not yet");
        })
        .await;
        assert_eq!(stored_hashes(&store).await, [id_hash(&direct.id)], "deleted when the request ended");
        // no request around it: tower-sessions' own way, the old row goes at once
        let session = request_session(&store, Some(direct.id));
        rotate_id(&session).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(stored_hashes(&store).await.is_empty());
    }

    #[tokio::test]
    async fn a_new_row_whose_id_is_taken_replaces_nothing() {
        let (_dir, store) = store(3600).await;
        let [old, taken] = stored_records(&store).await;
        let row = StoredSession::of(&taken).unwrap_or_else(|e| panic!("{e}"));
        let (backend, old_hash) = (store.db.backend, id_hash(&old.id));
        let replaced = store
            .db
            .writer
            .run(move |c| Box::pin(async move { repo::insert_replacing(c, backend, &row.as_new(), &old_hash).await }))
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(!replaced, "the caller draws another id");
        let both = sorted_hashes(&[old.id, taken.id]);
        assert_eq!(stored_hashes(&store).await, both, "the old row stays until a new one is in");
    }

    #[tokio::test]
    async fn idle_expired_and_absolutely_expired_sessions_do_not_load_and_are_cleaned_up() {
        let (_dir, store) = store(3600).await;
        let mut expired = record(-5);
        store.create(&mut expired).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(store.load(&expired.id).await.unwrap_or_else(|e| panic!("{e}")).is_none());

        let mut old = record(600);
        store.create(&mut old).await.unwrap_or_else(|e| panic!("{e}"));
        sqlx::query("UPDATE sessions SET created_at = created_at - 7200 WHERE id_hash = $1")
            .bind(id_hash(&old.id))
            .execute(&store.db.pool)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(store.load(&old.id).await.unwrap_or_else(|e| panic!("{e}")).is_none());

        let mut live = record(600);
        store.create(&mut live).await.unwrap_or_else(|e| panic!("{e}"));
        store.delete_expired().await.unwrap_or_else(|e| panic!("{e}"));
        let left: (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM sessions").fetch_one(&store.db.pool).await.unwrap_or((-1,));
        assert_eq!(left.0, 1);
        assert!(store.load(&live.id).await.unwrap_or_else(|e| panic!("{e}")).is_some());
    }
}
