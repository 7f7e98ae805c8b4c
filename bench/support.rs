//! What every benchmark shares: a portal prepared like `vestibule serve` on a throwaway SQLite file, and
//! running a task from N workers for a fixed time. Included by each bench with `#[path]` (benches are
//! separate crates).

// each bench uses its part of this file
#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use vestibule::server::config::RawConfig;
use vestibule::server::state::AppState;
use vestibule::server::{router, serve};

/// A running portal for a benchmark, and the phase length from the command line (`-- SECONDS`, default 10).
pub struct Portal {
    pub phase: Duration,
    pub cores: usize,
    pub state: AppState,
    pub app: axum::Router,
    /// Kept for the bench's lifetime: the database lives here.
    pub _dir: tempfile::TempDir,
}

pub async fn portal() -> Result<Portal, Box<dyn std::error::Error>> {
    let seconds: u64 = std::env::args().skip(1).find_map(|a| a.parse().ok()).unwrap_or(10);
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(2);
    let dir = tempfile::tempdir()?;
    let raw = RawConfig {
        data_dir: dir.path().join("data"),
        site_root: dir.path().join("site"),
        log_filter: "error".into(),
        ..RawConfig::default()
    };
    let (state, store) = serve::prepare(raw.validate()?).await?;
    let app = router::build(state.clone(), store);
    tokio::spawn(state.db.clone().run_checkpoints(serve::CHECKPOINT_EVERY)); // as `vestibule serve` does
    Ok(Portal { phase: Duration::from_secs(seconds), cores, state, app, _dir: dir })
}

pub struct Rate {
    pub per_second: f64,
    pub median: Duration,
    pub p99: Duration,
    /// CPU time of the whole process (all threads, user and system) per successful task: unlike the rate,
    /// hardly moved by other work on a shared machine. Zero where /proc is not there to tell.
    pub cpu_per_op: Duration,
    pub failed: u64,
    pub first_error: Option<String>,
}

impl Rate {
    /// The rate, or the phase's failure when any task failed.
    pub fn all_ok(self, workers: usize) -> Result<Rate, String> {
        match self.first_error {
            Some(first) if self.failed > 0 => {
                Err(format!("{} requests failed with {workers} in flight; the first: {first}", self.failed))
            }
            _ => Ok(self),
        }
    }

    /// The rate, after a warning on stderr when some tasks failed.
    pub fn warn_failures(self, what: &str, workers: usize) -> Rate {
        if self.failed > 0 {
            eprintln!("warning: {} of {what} failed with {workers} in flight", self.failed);
        }
        self
    }
}

/// `run` for a task that only says whether it succeeded: failures are counted and warned about (as `what`),
/// and the rate counts the successes.
pub async fn run_counting<F, Fut>(phase: Duration, workers: usize, what: &'static str, task: F) -> Rate
where
    F: Fn(usize, usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let checked = move |worker, round| {
        let attempt = task(worker, round);
        async move { attempt.await.then_some(()).ok_or_else(|| format!("a {what} failed")) }
    };
    run(phase, workers, checked).await.warn_failures(what, workers)
}

/// Runs `task(worker, round)` from `workers` workers for `phase`: successful completions per second, their
/// latencies, and how many failed (with the first error).
pub async fn run<F, Fut>(phase: Duration, workers: usize, task: F) -> Rate
where
    F: Fn(usize, usize) -> Fut + Send + Sync + Clone + 'static,
    Fut: std::future::Future<Output = Result<(), String>> + Send,
{
    let failed = Arc::new(AtomicU64::new(0));
    let first_error = Arc::new(Mutex::new(None::<String>));
    let cpu_before = process_cpu();
    let start = Instant::now();
    let handles: Vec<_> = (0..workers)
        .map(|worker| {
            let (task, failed, first_error) = (task.clone(), failed.clone(), first_error.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut round = 0;
                while start.elapsed() < phase {
                    let t0 = Instant::now();
                    match task(worker, round).await {
                        Ok(()) => latencies.push(t0.elapsed()),
                        Err(e) => {
                            failed.fetch_add(1, Ordering::Relaxed);
                            first_error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                        }
                    }
                    round += 1;
                }
                latencies
            })
        })
        .collect();
    let mut latencies = Vec::new();
    for h in handles {
        latencies.extend(h.await.unwrap_or_default());
    }
    let elapsed = start.elapsed();
    let cpu = process_cpu().saturating_sub(cpu_before);
    latencies.sort();
    let at = |q: f64| latencies.get(((latencies.len() as f64 - 1.0) * q).round() as usize).copied().unwrap_or_default();
    let first_error = first_error.lock().unwrap_or_else(|p| p.into_inner()).take();
    Rate {
        per_second: latencies.len() as f64 / elapsed.as_secs_f64(),
        median: at(0.5),
        p99: at(0.99),
        cpu_per_op: cpu.checked_div(u32::try_from(latencies.len()).unwrap_or(u32::MAX)).unwrap_or_default(),
        failed: failed.load(Ordering::Relaxed),
        first_error,
    }
}

/// User plus system CPU time this process has used so far, from /proc/self/stat (in clock ticks, 100 a
/// second on Linux); zero elsewhere.
pub fn process_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // the fields after the command name (which is in parentheses and may hold spaces)
    let fields: Vec<&str> =
        stat.rsplit_once(')').map(|(_, rest)| rest.split_whitespace().collect()).unwrap_or_default();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name
    let ticks: u64 = [11, 12].iter().filter_map(|&i| fields.get(i)?.parse::<u64>().ok()).sum();
    Duration::from_millis(ticks * 10)
}
