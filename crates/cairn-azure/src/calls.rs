//! Counts of ARM requests per method and resource type, printed with `-v` so that users (and
//! the refresh benchmark) see what a plan cost against ARM's rate limits.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::{Arc, Mutex};

#[derive(Clone, Debug, Default)]
pub struct CallCounts(Arc<Mutex<BTreeMap<String, u64>>>);

impl CallCounts {
    pub fn record(&self, call: String) {
        if let Ok(mut counts) = self.0.lock() {
            *counts.entry(call).or_default() += 1;
        }
    }

    pub fn snapshot(&self) -> BTreeMap<String, u64> {
        self.0.lock().map(|c| c.clone()).unwrap_or_default()
    }

    pub fn total(&self) -> u64 {
        self.snapshot().values().sum()
    }
}

impl fmt::Display for CallCounts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let counts = self.snapshot();
        write!(f, "{} total", counts.values().sum::<u64>())?;
        for (call, n) in counts {
            write!(f, ", {call} {n}")?;
        }
        Ok(())
    }
}
