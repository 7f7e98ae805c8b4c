//! Throttling with growing delays (security.md "Enumeration, throttling, lockout"): a key may fail a few
//! times freely; after that each further failure doubles the wait before the next attempt, up to a cap. An
//! attacker can slow a victim's sign-in but never lock it for long, and the counters are shared by every
//! factor that later issues add (TOTP, recovery codes, email codes).

use crate::db::{throttle as repo, Db};

#[derive(Clone, Copy, Debug)]
pub struct ThrottlePolicy {
    /// Failures allowed before any delay.
    pub free_failures: i64,
    /// Delay after the first counted failure, doubled for each one after.
    pub base_delay_secs: i64,
    pub max_delay_secs: i64,
    /// Failures older than this are forgotten.
    pub window_secs: i64,
}

/// Per account (keyed by the normalised email, so unknown addresses behave exactly like known ones).
pub const PER_ACCOUNT: ThrottlePolicy =
    ThrottlePolicy { free_failures: 5, base_delay_secs: 2, max_delay_secs: 15 * 60, window_secs: 24 * 3600 };
/// Per client IP: more room (shared addresses), same growth; `Key::ip` takes the free failures from
/// `limits.failures_per_ip_per_day`.
pub const PER_IP: ThrottlePolicy =
    ThrottlePolicy { free_failures: 30, base_delay_secs: 2, max_delay_secs: 15 * 60, window_secs: 24 * 3600 };

impl ThrottlePolicy {
    /// Seconds to wait after the `failures`-th failure.
    pub fn delay_after(&self, failures: i64) -> i64 {
        let over = failures - self.free_failures;
        if over <= 0 {
            return 0;
        }
        let doublings = u32::try_from(over - 1).unwrap_or(u32::MAX).min(30);
        self.base_delay_secs.saturating_mul(1i64 << doublings).min(self.max_delay_secs)
    }
}

/// A throttle key and its policy.
pub struct Key {
    pub key: String,
    pub policy: ThrottlePolicy,
}

impl Key {
    pub fn email(email: &str) -> Self {
        Self { key: format!("email:{email}"), policy: PER_ACCOUNT }
    }

    /// Per client IP, with `free_failures` (`limits.failures_per_ip_per_day`) before the waits start.
    pub fn ip(ip: &str, free_failures: i64) -> Self {
        Self { key: format!("ip:{ip}"), policy: ThrottlePolicy { free_failures, ..PER_IP } }
    }
}

/// `Some(seconds)` to wait when any key is still in its delay.
pub async fn retry_after(db: &Db, keys: &[Key], now: i64) -> Result<Option<i64>, sqlx::Error> {
    let mut wait = 0;
    for k in keys {
        if let Some((failures, last)) = repo::get(&db.pool, &k.key).await? {
            if last >= now - k.policy.window_secs {
                wait = wait.max(last + k.policy.delay_after(failures) - now);
            }
        }
    }
    Ok((wait > 0).then_some(wait))
}

/// Counts a failure against every key.
pub async fn record_failure(db: &Db, keys: &[Key], now: i64) -> Result<(), sqlx::Error> {
    for k in keys {
        repo::add_failure(&db.pool, &k.key, now, now - k.policy.window_secs).await?;
    }
    Ok(())
}

pub async fn clear(db: &Db, key: &Key) -> Result<(), sqlx::Error> {
    repo::clear(&db.pool, &key.key).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_start_after_the_free_failures_double_and_cap() {
        let p = PER_ACCOUNT;
        let delays: Vec<i64> = (1..=12).map(|n| p.delay_after(n)).collect();
        assert_eq!(delays, vec![0, 0, 0, 0, 0, 2, 4, 8, 16, 32, 64, 128]);
        assert_eq!(p.delay_after(1000), 900);
    }

    #[tokio::test]
    async fn failures_count_and_expire_with_time() {
        let (_dir, db) = crate::db::test_db().await;
        let keys = [Key::email("a@example.com")];
        let now = 1_000_000;
        for i in 0..6 {
            record_failure(&db, &keys, now + i).await.unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(retry_after(&db, &keys, now + 5).await.ok().flatten(), Some(2));
        assert_eq!(retry_after(&db, &keys, now + 7).await.ok().flatten(), None);
        // a day later the count restarts
        let later = now + 24 * 3600 + 10;
        record_failure(&db, &keys, later).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(retry_after(&db, &keys, later).await.ok().flatten(), None);
    }

    #[tokio::test]
    async fn fifty_parallel_failures_count_fifty() {
        let (_dir, db) = crate::db::test_db().await;
        let now = 2_000_000;
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let db = db.clone();
                tokio::spawn(async move { record_failure(&db, &[Key::ip("192.0.2.1", 30)], now).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap_or_else(|e| panic!("{e}")).unwrap_or_else(|e| panic!("{e}"));
        }
        assert_eq!(repo::get(&db.pool, "ip:192.0.2.1").await.ok().flatten().map(|r| r.0), Some(50));
    }
}
