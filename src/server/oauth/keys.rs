//! The signing keys as the server holds them: loaded (and on first start created) on first use, and
//! reloaded every `RELOAD_AFTER_SECS` so keys rotated by `vestibule keys rotate` in another process are
//! signed with and published within a minute.

use std::sync::{Arc, RwLock};

use rand::SeedableRng;

use crate::core::mfa::seal::SeedSealer;
use crate::core::oidc::keys::{self, KeyError, KeySet};
use crate::db::Db;
use crate::server::auth::now;

/// How old the loaded keys may get before the next use reloads them: the longest a rotation made by
/// another process goes unnoticed. A rotation keeps the previous key in the JWKS, so tokens signed by a
/// process that has not reloaded yet still verify everywhere.
pub const RELOAD_AFTER_SECS: i64 = 60;

/// After a failed reload the loaded keys stay in use, and the next attempt waits this long, so a database
/// outage does not stop signing nor make every request wait for the database.
const RETRY_AFTER_SECS: i64 = 10;

/// The loaded key set and when it is next reloaded.
#[derive(Debug, Default)]
pub struct KeyCache {
    current: RwLock<Option<(Arc<KeySet>, i64)>>,
}

impl KeyCache {
    pub fn new() -> Self {
        Self::default()
    }

    /// The key set, loading it first if it is missing or older than `RELOAD_AFTER_SECS`. Concurrent first
    /// calls may each load it (harmless: the same rows); a stale set is reloaded by one caller while the
    /// others keep using it.
    pub async fn get(&self, state_db: &Db, sealer: &SeedSealer) -> Result<Arc<KeySet>, KeyError> {
        let now = now();
        // the common case, under a shared lock: every token request passes here
        if let Some((set, reload_at)) = self.current.read().unwrap_or_else(|poisoned| poisoned.into_inner()).as_ref() {
            if *reload_at > now {
                return Ok(set.clone());
            }
        }
        let stale = {
            // The lock is only held inside this block, never across an await.
            let mut current = self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner());
            match current.as_mut() {
                Some((set, reload_at)) if *reload_at > now => return Ok(set.clone()),
                Some((set, reload_at)) => {
                    // Claims this reload: the others use the stale set meanwhile.
                    *reload_at = now + RETRY_AFTER_SECS;
                    Some(set.clone())
                }
                None => None,
            }
        };
        // StdRng rather than the thread-local generator: it must be `Send` to live across the awaits.
        let loaded = keys::load_or_create(state_db, sealer, now, &mut rand::rngs::StdRng::from_os_rng()).await;
        match (loaded, stale) {
            (Ok(set), _) => {
                let set = Arc::new(set);
                self.store(Some((set.clone(), now + RELOAD_AFTER_SECS)));
                Ok(set)
            }
            (Err(e), Some(stale)) => {
                tracing::warn!(error = %e, "reloading the token signing keys failed; keeping the loaded ones");
                Ok(stale)
            }
            (Err(e), None) => Err(e),
        }
    }

    /// Rotates the keys (a new one per algorithm; see `core::oidc::keys::rotate`) and drops the loaded set
    /// so this process signs with the new keys at once. Returns the new kids. Used by `vestibule keys rotate`.
    pub async fn rotate_now(&self, state_db: &Db, sealer: &SeedSealer) -> Result<Vec<String>, KeyError> {
        let kids = keys::rotate(state_db, sealer, now(), &mut rand::rngs::StdRng::from_os_rng()).await?;
        self.store(None);
        Ok(kids)
    }

    fn store(&self, value: Option<(Arc<KeySet>, i64)>) {
        *self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = value;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::oidc::keys::SigningAlg;

    #[tokio::test]
    async fn loads_once_and_picks_up_a_rotation() {
        let (_dir, db) = crate::db::test_db().await;
        let sealer = SeedSealer::new([9; 32], &[]);
        let cache = KeyCache::new();
        let first = cache.get(&db, &sealer).await.unwrap_or_else(|e| panic!("{e}"));
        let again = cache.get(&db, &sealer).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(Arc::ptr_eq(&first, &again), "cached");

        let kids = cache.rotate_now(&db, &sealer).await.unwrap_or_else(|e| panic!("{e}"));
        let rotated = cache.get(&db, &sealer).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rotated.signing_kid(SigningAlg::EdDSA), kids.first().map(String::as_str));

        // Another process's rotation is seen once the loaded set is due for reloading.
        let other = KeyCache::new();
        let elsewhere = other.rotate_now(&db, &sealer).await.unwrap_or_else(|e| panic!("{e}"));
        assert!(Arc::ptr_eq(&rotated, &cache.get(&db, &sealer).await.unwrap_or_else(|e| panic!("{e}"))));
        if let Some((_, reload_at)) = cache.current.write().unwrap_or_else(|p| p.into_inner()).as_mut() {
            *reload_at = now() - 1;
        }
        let reloaded = cache.get(&db, &sealer).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(reloaded.signing_kid(SigningAlg::EdDSA), elsewhere.first().map(String::as_str));
    }
}
