//! What keeps one caller from costing everyone else: the budget of refusals
//! written to the audit trail for callers nobody can name, the gate in
//! front of password checks (one check per account at a time, a bounded
//! number hashing at once, off the async workers), and the budget of
//! CPU-heavy questions (similarity) run off the async workers at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::error::{AppError, AppResult};

/// The longest request description kept in a refusal's audit row, in
/// characters: enough to tell which endpoint and record, never a path an
/// attacker made long.
pub(crate) const REFUSAL_TEXT: usize = 200;

/// Refusals of anonymous callers (no credentials, or credentials that do
/// not work) written one by one: a burst of this many, then this many per
/// second. Beyond it they are counted, and the count goes into the next row
/// written, so that the trail still says that they happened.
const ANONYMOUS_REFUSALS_BURST: f64 = 300.0;
const ANONYMOUS_REFUSALS_PER_SEC: f64 = 2.0;

pub(crate) struct RefusalBudget {
    state: Mutex<BudgetState>,
}

struct BudgetState {
    tokens: f64,
    at: Instant,
    /// Refusals not written since the last one that was.
    unrecorded: u64,
}

impl Default for RefusalBudget {
    fn default() -> Self {
        RefusalBudget {
            state: Mutex::new(BudgetState {
                tokens: ANONYMOUS_REFUSALS_BURST,
                at: Instant::now(),
                unrecorded: 0,
            }),
        }
    }
}

impl RefusalBudget {
    /// Whether to write this anonymous refusal: `Some(n)` with the number
    /// of refusals left unwritten before it, or `None` (counted instead).
    pub(crate) fn take(&self) -> Option<u64> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let gained = now.duration_since(s.at).as_secs_f64() * ANONYMOUS_REFUSALS_PER_SEC;
        s.tokens = (s.tokens + gained).min(ANONYMOUS_REFUSALS_BURST);
        s.at = now;
        if s.tokens >= 1.0 {
            s.tokens -= 1.0;
            Some(std::mem::take(&mut s.unrecorded))
        } else {
            s.unrecorded += 1;
            None
        }
    }
}

/// How many password checks wait for their turn before more are turned
/// away (each takes tens of milliseconds of one core).
const PASSWORD_QUEUE: usize = 64;

pub(crate) struct SignInGate {
    /// One sign-in per account at a time, so that the failure count read
    /// before a check includes every check before it (on this node).
    accounts: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Password hashing at once: one core's worth, leaving the other for
    /// everything else.
    hashing: Arc<tokio::sync::Semaphore>,
    waiting: std::sync::atomic::AtomicUsize,
    /// Since start, on this node: passwords checked and found wrong (or
    /// for no live account), and attempts refused unchecked by the limits.
    pub(crate) wrong: std::sync::atomic::AtomicU64,
    pub(crate) throttled: std::sync::atomic::AtomicU64,
}

impl Default for SignInGate {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        SignInGate {
            accounts: Mutex::new(HashMap::new()),
            hashing: Arc::new(tokio::sync::Semaphore::new((cores / 2).max(1))),
            waiting: Default::default(),
            wrong: Default::default(),
            throttled: Default::default(),
        }
    }
}

impl SignInGate {
    /// The lock of one account's sign-ins (held across check and record).
    pub(crate) fn account(&self, key: &str) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        // Locks nobody holds or waits for are dropped as the map grows.
        if map.len() > 1024 {
            map.retain(|_, l| Arc::strong_count(l) > 1);
        }
        map.entry(key.to_string()).or_default().clone()
    }

    /// Runs a password check off the async workers, at most a core's worth
    /// at once; too many waiting is a refusal to try again shortly.
    pub(crate) async fn hash<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        use std::sync::atomic::Ordering;
        if self.waiting.fetch_add(1, Ordering::AcqRel) >= PASSWORD_QUEUE {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(AppError::TooManyRequests(
                "Too many people are signing in at this moment. Try again in a minute.".into(),
            ));
        }
        let permit = self.hashing.clone().acquire_owned().await;
        self.waiting.fetch_sub(1, Ordering::AcqRel);
        blocking(permit, "a password check", work).await
    }
}

/// CPU-heavy questions (the similarity engine's) run off the async workers,
/// no more at once than there are cores: the rest wait their turn, and the
/// workers stay free for pages that need no such work.
pub(crate) struct CpuBudget(Arc<tokio::sync::Semaphore>);

impl Default for CpuBudget {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        CpuBudget(Arc::new(tokio::sync::Semaphore::new(cores)))
    }
}

impl CpuBudget {
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let permit = self.0.clone().acquire_owned().await;
        blocking(permit, "a similarity question", work).await
    }
}

/// Listings the database answers (the search index lagging, or a page past
/// its window) count and sort every record that passes the filters: seconds
/// at a million records. No more than two run at once, so that callers who
/// ask for them, however many, hold at most two of the database's
/// connections; the rest wait their turn.
pub(crate) struct ScanBudget(Arc<tokio::sync::Semaphore>);

/// How many database listings run at once (see [`ScanBudget`]).
pub const DATABASE_LISTINGS_AT_ONCE: usize = 2;

impl Default for ScanBudget {
    fn default() -> Self {
        ScanBudget(Arc::new(tokio::sync::Semaphore::new(
            DATABASE_LISTINGS_AT_ONCE,
        )))
    }
}

impl ScanBudget {
    pub(crate) async fn enter(&self) -> AppResult<tokio::sync::SemaphorePermit<'_>> {
        self.0
            .acquire()
            .await
            .map_err(|e| AppError::Internal(e.to_string()))
    }

    /// Listings running now.
    #[cfg(test)]
    fn running(&self) -> usize {
        DATABASE_LISTINGS_AT_ONCE - self.0.available_permits()
    }
}

/// Runs `work` off the async workers, holding `permit` (one of a bounded
/// number) until it is done.
async fn blocking<T: Send + 'static>(
    permit: Result<tokio::sync::OwnedSemaphorePermit, tokio::sync::AcquireError>,
    what: &str,
    work: impl FnOnce() -> T + Send + 'static,
) -> AppResult<T> {
    let permit = permit.map_err(|e| AppError::Internal(e.to_string()))?;
    tokio::task::spawn_blocking(move || {
        let out = work();
        drop(permit);
        out
    })
    .await
    .map_err(|e| AppError::Internal(format!("{what} failed: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn database_listings_take_turns() {
        let budget = Arc::new(ScanBudget::default());
        let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (budget, most) = (budget.clone(), most.clone());
                tokio::spawn(async move {
                    let _turn = budget.enter().await.unwrap();
                    most.fetch_max(budget.running(), std::sync::atomic::Ordering::SeqCst);
                    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let most = most.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(
            most, DATABASE_LISTINGS_AT_ONCE,
            "at most two at once, and two did run together"
        );
        assert_eq!(budget.running(), 0);
    }

    #[test]
    fn the_budget_counts_what_it_does_not_write() {
        let b = RefusalBudget::default();
        let written = (0..1000).filter_map(|_| b.take()).count();
        // The burst, and perhaps a token or two refilled meanwhile.
        assert!((300..=305).contains(&written), "{written} written of 1000");
        // The next one written carries the count of the unwritten.
        std::thread::sleep(std::time::Duration::from_millis(600));
        assert_eq!(b.take(), Some(1000 - written as u64));
    }
}
