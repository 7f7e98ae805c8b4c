//! argon2id password hashing (security.md "Passwords", architecture.md rule 7).
//!
//! Every hash and verification runs on tokio's blocking pool, and only after taking a permit from a
//! semaphore: argon2 is CPU- and memory-hard on purpose, so a burst of logins must queue (briefly) and then
//! be refused with `Busy` rather than stall the async runtime or allocate `n × memory_kib` without bound.
//! Passwords and hashes are never logged or printed.

use std::sync::Arc;
use std::time::Duration;

use argon2::password_hash::{self, SaltString};
use argon2::{Algorithm, Argon2, Params, PasswordHash, PasswordHasher, PasswordVerifier, Version};
use rand::TryRngCore;
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Longest input (in bytes) this module will hash: a backstop against absurd input, the policy module
/// rejects long passwords first with a message for the user.
const MAX_PASSWORD_BYTES: usize = 1024;

/// Salt length in bytes (128 bits, as RFC 9106 recommends).
const SALT_BYTES: usize = 16;

/// argon2 cost parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("too many password hashes in progress")]
    Busy,
    #[error("password hashing failed: {0}")]
    Internal(String),
}

/// Outcome of a verification. `needs_rehash` is only ever true together with `ok`: the caller then has the
/// plaintext in hand and can store a fresh hash with the current parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Verified {
    pub ok: bool,
    pub needs_rehash: bool,
}

const REJECTED: Verified = Verified { ok: false, needs_rehash: false };

/// Hashes and verifies passwords with bounded concurrency. Cheap to clone.
#[derive(Clone)]
pub struct Hasher {
    inner: Arc<Inner>,
}

struct Inner {
    params: HashParams,
    argon2: Argon2<'static>,
    permits: Arc<Semaphore>,
    queue_wait: Duration,
    /// Hash of a random password nobody knows, with the current parameters: verifying against it costs
    /// exactly what a real check costs, so unknown accounts and corrupt records are not told apart by timing.
    dummy_phc: String,
}

// By hand so the dummy hash never appears in logs or panics.
impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("params", &self.inner.params)
            .field("available_permits", &self.inner.permits.available_permits())
            .field("queue_wait", &self.inner.queue_wait)
            .finish_non_exhaustive()
    }
}

impl Hasher {
    /// `max_concurrent`: hashes computed at once (0 = available parallelism); `queue_wait`: how long an
    /// excess request waits for a slot before `Busy`. Computes the dummy hash synchronously (once, at start).
    pub fn new(params: HashParams, max_concurrent: usize, queue_wait: Duration) -> Result<Self, HashError> {
        let argon2_params = Params::new(params.memory_kib, params.iterations, params.parallelism, None)
            .map_err(|e| HashError::Internal(format!("invalid argon2 parameters: {e}")))?;
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, argon2_params);

        let max_concurrent = match max_concurrent {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        }
        // Semaphore::new panics above MAX_PERMITS; no real configuration gets near it.
        .min(Semaphore::MAX_PERMITS);

        let mut dummy_password = [0u8; 32];
        fill_random(&mut dummy_password)?;
        let dummy_phc = hash_blocking(&argon2, &dummy_password)?;

        Ok(Self {
            inner: Arc::new(Inner {
                params,
                argon2,
                permits: Arc::new(Semaphore::new(max_concurrent)),
                queue_wait,
                dummy_phc,
            }),
        })
    }

    pub fn params(&self) -> HashParams {
        self.inner.params
    }

    /// argon2id PHC string of `password` with a fresh random 16-byte salt.
    #[tracing::instrument(skip_all)]
    pub async fn hash(&self, password: &str) -> Result<String, HashError> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(HashError::Internal("password too long".into()));
        }
        let password = SecretString::from(password);
        self.run(move |inner| hash_blocking(&inner.argon2, password.expose_secret().as_bytes())).await?
    }

    /// Checks `password` against a stored PHC string. A malformed or unsupported PHC gives `ok: false`
    /// after the time of a dummy verification, and a warning in the log.
    #[tracing::instrument(skip_all)]
    pub async fn verify(&self, password: &str, phc: &str) -> Result<Verified, HashError> {
        // Backstop only (see MAX_PASSWORD_BYTES): refused without hashing, whether the account exists or not.
        if password.len() > MAX_PASSWORD_BYTES {
            return Ok(REJECTED);
        }
        let password = SecretString::from(password);
        let phc = SecretString::from(phc);
        self.run(move |inner| inner.verify_blocking(password.expose_secret().as_bytes(), phc.expose_secret())).await
    }

    /// A full verification against the dummy hash, for unknown accounts, so their timing equals a real
    /// check. The result is always a mismatch and is discarded.
    #[tracing::instrument(skip_all)]
    pub async fn verify_dummy(&self, password: &str) -> Result<(), HashError> {
        // Same early exit as `verify`, so the two stay indistinguishable for long input too.
        if password.len() > MAX_PASSWORD_BYTES {
            return Ok(());
        }
        let password = SecretString::from(password);
        self.run(move |inner| inner.burn(password.expose_secret().as_bytes())).await
    }

    /// Waits (at most `queue_wait`) for a permit, then runs `work` on the blocking pool. The permit moves
    /// into the blocking task, so it is held until the hash really ends, even if the caller's future is
    /// dropped meanwhile (a cancelled request must not free a slot while its hash still uses the memory).
    async fn run<T, F>(&self, work: F) -> Result<T, HashError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> T + Send + 'static,
    {
        let permit = self.acquire().await?;
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let out = work(&inner);
            drop(permit);
            out
        })
        .await
        .map_err(|e| HashError::Internal(format!("hashing task failed: {e}")))
    }

    async fn acquire(&self) -> Result<OwnedSemaphorePermit, HashError> {
        let acquire = Arc::clone(&self.inner.permits).acquire_owned();
        match tokio::time::timeout(self.inner.queue_wait, acquire).await {
            Ok(Ok(permit)) => Ok(permit),
            Ok(Err(_closed)) => Err(HashError::Internal("hash semaphore closed".into())),
            Err(_elapsed) => {
                tracing::warn!("password hash queue full; request refused");
                Err(HashError::Busy)
            }
        }
    }

    /// Test hook: takes a slot as a concurrent hash would, so `Busy` can be tested without racing.
    #[cfg(test)]
    async fn hold_permit(&self) -> OwnedSemaphorePermit {
        #[allow(clippy::expect_used)]
        self.acquire().await.expect("free permit")
    }

    #[cfg(test)]
    fn available_permits(&self) -> usize {
        self.inner.permits.available_permits()
    }
}

impl Inner {
    fn verify_blocking(&self, password: &[u8], phc: &str) -> Verified {
        let parsed = match PasswordHash::new(phc) {
            Ok(parsed) => parsed,
            Err(e) => {
                // The error names the faulty field, never the value.
                tracing::warn!(error = %e, "stored password hash is malformed");
                self.burn(password);
                return REJECTED;
            }
        };
        // Verifies with the algorithm, version and parameters recorded in the PHC, so hashes made with
        // older parameters keep working until they are rehashed.
        match self.argon2.verify_password(password, &parsed) {
            Ok(()) => Verified { ok: true, needs_rehash: self.needs_rehash(&parsed) },
            Err(password_hash::Error::Password) => REJECTED,
            Err(e) => {
                // Unsupported algorithm or out-of-range parameters: most fail before any hashing, so
                // spend the time of a real check.
                tracing::warn!(error = %e, "stored password hash could not be checked");
                self.burn(password);
                REJECTED
            }
        }
    }

    /// True when `parsed` was not made with exactly the current algorithm, version and parameters.
    fn needs_rehash(&self, parsed: &PasswordHash<'_>) -> bool {
        if parsed.algorithm.as_str() != Algorithm::Argon2id.as_str() || parsed.version != Some(Version::V0x13.into()) {
            return true;
        }
        let current = self.argon2.params();
        match Params::try_from(parsed) {
            Ok(stored) => {
                stored.m_cost() != current.m_cost()
                    || stored.t_cost() != current.t_cost()
                    || stored.p_cost() != current.p_cost()
                    || parsed.hash.map(|h| h.len()) != Some(Params::DEFAULT_OUTPUT_LEN)
            }
            Err(_) => true,
        }
    }

    /// Verifies against the dummy hash and discards the result: costs what a real verification costs.
    fn burn(&self, password: &[u8]) {
        match PasswordHash::new(&self.dummy_phc) {
            Ok(parsed) => {
                // A match would need the random dummy password; either way the answer is "no".
                let _ = self.argon2.verify_password(password, &parsed);
            }
            // Cannot happen (we made this string), but never panic on the login path.
            Err(e) => tracing::error!(error = %e, "dummy password hash unparsable"),
        }
    }
}

fn hash_blocking(argon2: &Argon2<'_>, password: &[u8]) -> Result<String, HashError> {
    let mut salt = [0u8; SALT_BYTES];
    fill_random(&mut salt)?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| HashError::Internal(format!("salt encoding: {e}")))?;
    argon2.hash_password(password, &salt).map(|h| h.to_string()).map_err(|e| HashError::Internal(e.to_string()))
}

/// Fills `buf` from the OS CSPRNG (not a userspace generator: salts and the dummy must be unpredictable).
fn fill_random(buf: &mut [u8]) -> Result<(), HashError> {
    rand::rngs::OsRng.try_fill_bytes(buf).map_err(|e| HashError::Internal(format!("OS random source failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    const FAST: HashParams = HashParams { memory_kib: 1024, iterations: 1, parallelism: 1 };
    const WAIT: Duration = Duration::from_secs(10);

    fn hasher(params: HashParams) -> Hasher {
        Hasher::new(params, 2, WAIT).unwrap()
    }

    #[tokio::test]
    async fn hash_then_verify() {
        let h = hasher(FAST);
        let phc = h.hash("correct horse battery staple").await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=1024,t=1,p=1$"), "unexpected PHC prefix");

        let good = h.verify("correct horse battery staple", &phc).await.unwrap();
        assert_eq!(good, Verified { ok: true, needs_rehash: false });

        let bad = h.verify("correct horse battery stapler", &phc).await.unwrap();
        assert_eq!(bad, REJECTED);
    }

    #[tokio::test]
    async fn unicode_password_round_trips() {
        let h = hasher(FAST);
        let phc = h.hash("pässwörd 🔐 with spaces").await.unwrap();
        assert!(h.verify("pässwörd 🔐 with spaces", &phc).await.unwrap().ok);
        assert!(!h.verify("pässwörd 🔐 with space", &phc).await.unwrap().ok);
    }

    #[tokio::test]
    async fn salts_differ() {
        let h = hasher(FAST);
        let a = h.hash("same password").await.unwrap();
        let b = h.hash("same password").await.unwrap();
        assert_ne!(a, b);
        // Salt is 16 bytes: 22 unpadded base64 characters.
        let salt = a.split('$').nth(4).unwrap();
        assert_eq!(salt.len(), 22);
    }

    #[tokio::test]
    async fn needs_rehash_when_params_change() {
        let old = hasher(FAST);
        let new = hasher(HashParams { memory_kib: 2048, iterations: 2, parallelism: 1 });
        let phc = old.hash("pw for rehash").await.unwrap();

        assert_eq!(new.verify("pw for rehash", &phc).await.unwrap(), Verified { ok: true, needs_rehash: true });
        assert_eq!(old.verify("pw for rehash", &phc).await.unwrap(), Verified { ok: true, needs_rehash: false });
        // A wrong password never asks for a rehash.
        assert_eq!(new.verify("wrong", &phc).await.unwrap(), REJECTED);

        let parallel = hasher(HashParams { parallelism: 2, ..FAST });
        assert!(parallel.verify("pw for rehash", &phc).await.unwrap().needs_rehash);
    }

    #[tokio::test]
    async fn needs_rehash_for_other_algorithm() {
        let params = Params::new(FAST.memory_kib, FAST.iterations, FAST.parallelism, None).unwrap();
        let argon2i = Argon2::new(Algorithm::Argon2i, Version::V0x13, params);
        let phc = hash_blocking(&argon2i, b"legacy").unwrap();
        assert!(phc.starts_with("$argon2i$"));

        let h = hasher(FAST);
        assert_eq!(h.verify("legacy", &phc).await.unwrap(), Verified { ok: true, needs_rehash: true });
    }

    #[tokio::test]
    async fn verify_dummy_is_ok() {
        let h = hasher(FAST);
        h.verify_dummy("whatever").await.unwrap();
        h.verify_dummy("").await.unwrap();
        h.verify_dummy(&"x".repeat(2000)).await.unwrap();
    }

    #[tokio::test]
    async fn malformed_phc_is_rejected() {
        let h = hasher(FAST);
        let good = h.hash("pw").await.unwrap();
        let truncated = &good[..good.len() - 10];
        for phc in [
            "",
            "not a hash",
            "$argon2id$",
            "$argon2id$v=19$m=1024,t=1,p=1$!!!$???",
            "$argon2id$v=19$m=1,t=1,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA",
            "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
            "$scrypt$ln=16,r=8,p=1$aM15713r3Xsvxbi31lqr1Q$nFNh2CVHVjNldFVKDHDlm4CbdRSCdEBsjjJxD+iCs5E",
            truncated,
        ] {
            assert_eq!(h.verify("pw", phc).await.unwrap(), REJECTED);
        }
    }

    #[tokio::test]
    async fn malformed_phc_costs_a_real_check() {
        // Lower bound only (noise can make work slower, never faster): a rejected PHC must not answer
        // in microseconds while a real check takes milliseconds.
        let h = hasher(FAST);
        let mut dummy = Duration::MAX;
        for _ in 0..3 {
            let start = std::time::Instant::now();
            h.verify_dummy("pw").await.unwrap();
            dummy = dummy.min(start.elapsed());
        }
        for phc in ["", "not a hash", "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW"] {
            let start = std::time::Instant::now();
            assert_eq!(h.verify("pw", phc).await.unwrap(), REJECTED);
            assert!(start.elapsed() >= dummy / 4, "malformed PHC answered in {:?}", start.elapsed());
        }
    }

    #[tokio::test]
    async fn long_input_is_refused_without_hashing() {
        let h = hasher(FAST);
        let long = "a".repeat(2000);
        assert!(matches!(h.hash(&long).await, Err(HashError::Internal(m)) if m == "password too long"));

        // Even against a hash of that very input (made around the limit), verify refuses it.
        let phc = hash_blocking(&h.inner.argon2, long.as_bytes()).unwrap();
        assert_eq!(h.verify(&long, &phc).await.unwrap(), REJECTED);

        // 1024 bytes exactly is still accepted.
        let max = "b".repeat(MAX_PASSWORD_BYTES);
        let phc = h.hash(&max).await.unwrap();
        assert!(h.verify(&max, &phc).await.unwrap().ok);
    }

    #[tokio::test]
    async fn invalid_params_are_an_error() {
        let bad = HashParams { memory_kib: 1, iterations: 1, parallelism: 1 };
        assert!(matches!(Hasher::new(bad, 1, WAIT), Err(HashError::Internal(_))));
    }

    #[tokio::test]
    async fn zero_means_available_parallelism() {
        let h = Hasher::new(FAST, 0, WAIT).unwrap();
        assert!(h.available_permits() >= 1);
        assert_eq!(h.available_permits(), std::thread::available_parallelism().map_or(1, |n| n.get()));
    }

    #[tokio::test]
    async fn busy_when_all_slots_taken() {
        // Deterministic: the test holds the only slot itself, so the outcome does not depend on hash speed.
        let h = Hasher::new(FAST, 1, Duration::from_millis(10)).unwrap();

        let held = h.hold_permit().await;
        assert!(matches!(h.hash("pw").await, Err(HashError::Busy)));
        assert!(matches!(h.verify("pw", "$argon2id$x").await, Err(HashError::Busy)));
        assert!(matches!(h.verify_dummy("pw").await, Err(HashError::Busy)));

        // The slot frees: the same call now succeeds, and the permit comes back afterwards.
        drop(held);
        assert!(h.hash("pw").await.unwrap().starts_with("$argon2id$v=19$m=1024,t=1,p=1$"));
        assert_eq!(h.available_permits(), 1);
    }

    #[tokio::test]
    async fn busy_while_a_real_hash_runs() {
        // Production-like heavy params (64 MiB, t=3) so the first hash lasts far longer than the 10 ms
        // queue wait: over 100 ms even optimised (the dev profile builds argon2 with opt-level 3).
        let heavy = HashParams { memory_kib: 65_536, iterations: 3, parallelism: 1 };
        let h = Hasher::new(heavy, 1, Duration::from_millis(10)).unwrap();

        let first = tokio::spawn({
            let h = h.clone();
            async move { h.hash("first").await }
        });
        // Wait until the first hash holds the only slot, then ask for a second one.
        tokio::time::timeout(WAIT, async {
            while h.available_permits() > 0 {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
        .await
        .unwrap();
        assert!(matches!(h.hash("second").await, Err(HashError::Busy)));

        // Cancelling the caller does not free the slot while its hash still runs on the blocking pool...
        first.abort();
        assert!(first.await.unwrap_err().is_cancelled());
        assert_eq!(h.available_permits(), 0);
        // ...it comes back when the hash ends.
        tokio::time::timeout(WAIT, async {
            while h.available_permits() == 0 {
                tokio::time::sleep(Duration::from_millis(5)).await;
            }
        })
        .await
        .unwrap();
        assert_eq!(h.available_permits(), 1);
    }

    #[tokio::test]
    async fn waiting_request_gets_the_slot() {
        // A queued request within queue_wait is served, not refused.
        let h = Hasher::new(FAST, 1, WAIT).unwrap();
        let held = h.hold_permit().await;
        let waiting = tokio::spawn({
            let h = h.clone();
            async move { h.hash("queued").await }
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(held);
        assert!(waiting.await.unwrap().is_ok());
    }

    #[test]
    fn debug_hides_the_dummy_hash() {
        let h = hasher(FAST);
        let shown = format!("{h:?}");
        assert!(!shown.contains("$argon2"), "{shown}");
    }
}
