//! The time, from one place. `--now` (env `STAGEGATE_NOW`, RFC 3339) fixes it
//! for the whole process — freeze windows, wait timers, soak, the calver date,
//! ServiceNow windows and every recorded time — so a test or a rehearsal of a
//! Friday-evening promotion sees exactly the time it asked for.
//!
//! Commands carry a [`Clock`] value; code far from a command (records of the
//! local forge, journal claims, locks) reads the process's clock with
//! [`now`], which the command line installs once at start.

use std::sync::OnceLock;

use chrono::{DateTime, Utc};

/// The system clock, or a fixed instant.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Clock {
    fixed: Option<DateTime<Utc>>,
}

impl Clock {
    pub fn new(fixed: Option<DateTime<Utc>>) -> Clock {
        Clock { fixed }
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.fixed.unwrap_or_else(Utc::now)
    }

    /// The fixed instant, if the clock is fixed.
    pub fn fixed(&self) -> Option<DateTime<Utc>> {
        self.fixed
    }
}

static PROCESS: OnceLock<Clock> = OnceLock::new();

/// Makes `clock` the process's clock. The first call wins: the command line
/// installs it before anything reads the time.
pub fn install(clock: Clock) {
    let _ = PROCESS.set(clock);
}

/// The process's clock: the system clock unless `--now` fixed it.
pub fn now() -> DateTime<Utc> {
    PROCESS.get().copied().unwrap_or_default().now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fixed_clock_stands_still_and_the_system_clock_moves() {
        let at = DateTime::parse_from_rfc3339("2026-12-25T17:00:00Z").unwrap().with_timezone(&Utc);
        let c = Clock::new(Some(at));
        assert_eq!((c.now(), c.now()), (at, at));
        assert!(Clock::default().now() > at - chrono::Duration::days(3650));
    }
}
