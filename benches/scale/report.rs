//! What the scale bench's parts share: settings from the environment, quantiles, the report's
//! rows and a sampler of the process's resources.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use integration_store::SqlStore;

use crate::resident::{open_files, resident};

/// The number in the environment variable `name`, or `default`.
pub(crate) fn setting(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// The `q`-quantile of `samples` (sorted here), in the samples' unit.
pub(crate) fn quantile(samples: &mut [f64], q: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(f64::total_cmp);
    let at = ((samples.len() as f64 - 1.0) * q).round() as usize;
    samples[at]
}

/// One line of the report: what was measured, the result, and the target beside it.
pub(crate) struct Row {
    pub(crate) what: String,
    pub(crate) result: String,
    pub(crate) target: &'static str,
}

/// The highest resident size (KiB), open files and pool connections seen while it runs.
pub(crate) struct Sampler {
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<(u64, usize, u32)>,
}

impl Sampler {
    pub(crate) fn start(store: SqlStore) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            let (mut rss, mut files, mut connections) = (0, 0, 0);
            while !flag.load(Ordering::Relaxed) {
                rss = rss.max(resident().1);
                files = files.max(open_files());
                connections = connections.max(store.pool().size());
                std::thread::sleep(Duration::from_millis(50));
            }
            (rss, files, connections)
        });
        Self { stop, thread }
    }

    pub(crate) fn finish(self) -> (u64, usize, u32) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.join().unwrap()
    }
}

/// CPU time, in clock ticks (100 a second): the machine's busy and total, this process's own
/// and its waited-for children's.
#[derive(Clone, Copy, Default)]
pub(crate) struct Cpu {
    machine_busy: u64,
    machine_total: u64,
    own: u64,
    children: u64,
}

impl Cpu {
    /// Now.
    pub(crate) fn now() -> Self {
        let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
        let ticks: Vec<u64> =
            stat.lines().next().unwrap_or_default().split_whitespace().skip(1).filter_map(|t| t.parse().ok()).collect();
        let total: u64 = ticks.iter().take(8).sum();
        let idle = ticks.get(3).copied().unwrap_or(0) + ticks.get(4).copied().unwrap_or(0);
        let own = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
        // The fields after the command's closing parenthesis, from the third (state) on.
        let fields: Vec<u64> = own
            .rsplit_once(')')
            .map(|(_, rest)| rest.split_whitespace().map(|f| f.parse().unwrap_or(0)).collect())
            .unwrap_or_default();
        let field = |n: usize| fields.get(n - 3).copied().unwrap_or(0);
        Self {
            machine_busy: total.saturating_sub(idle),
            machine_total: total,
            own: field(14) + field(15),
            children: field(16) + field(17),
        }
    }

    /// What was spent since `before`: the machine's share busy, and CPU seconds of this
    /// process, of its children and of everything else (a database server, say).
    pub(crate) fn since(self, before: Self) -> String {
        let busy = self.machine_busy - before.machine_busy;
        let total = (self.machine_total - before.machine_total).max(1);
        let (own, children) = (self.own - before.own, self.children - before.children);
        let others = busy.saturating_sub(own + children);
        format!(
            "CPU {:.0} % busy: this process {:.1} s, its workers {:.1} s, the rest (the database) {:.1} s",
            busy as f64 * 100.0 / total as f64,
            own as f64 / 100.0,
            children as f64 / 100.0,
            others as f64 / 100.0
        )
    }
}
