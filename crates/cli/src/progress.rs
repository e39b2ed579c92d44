//! Progress on stderr: a bar on a terminal (indicatif hides it otherwise),
//! or, with CONCORD_PROGRESS=plain, a line every 1,000 records (an import's
//! batch) for scripts and tests that need to know how far a long command has
//! got.

use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressStyle};

pub struct Progress {
    bar: ProgressBar,
    what: String,
    plain: bool,
    last_line: AtomicU64,
}

const PLAIN_EVERY: u64 = 1_000;

pub fn bar(what: &str) -> Progress {
    let plain = std::env::var("CONCORD_PROGRESS").as_deref() == Ok("plain");
    let bar = if plain {
        ProgressBar::hidden()
    } else {
        ProgressBar::new(0)
    };
    bar.set_style(
        ProgressStyle::with_template("{msg} {pos} records ({per_sec}, {elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_message(what.to_string());
    if !plain {
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
    }
    Progress {
        bar,
        what: what.to_string(),
        plain,
        last_line: AtomicU64::new(0),
    }
}

impl Progress {
    pub fn set_position(&self, n: u64) {
        self.bar.set_position(n);
        if self.plain {
            let step = n / PLAIN_EVERY;
            if step
                > self.last_line.swap(
                    step.max(self.last_line.load(Ordering::Relaxed)),
                    Ordering::Relaxed,
                )
            {
                eprintln!("{} {}", self.what, step * PLAIN_EVERY);
            }
        }
    }

    pub fn set_length(&self, n: u64) {
        self.bar.set_length(n);
    }

    pub fn finish_and_clear(&self) {
        self.bar.finish_and_clear();
    }
}
