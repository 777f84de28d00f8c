//! Progress of long work (an import, a district's batch, an export) for an operator watching a
//! terminal. The shell installs a [`Sink`] once (the command line: indicatif bars when stderr is a
//! terminal, nothing otherwise); the work reports to it through [`start`], [`advance`] and
//! [`finish`], as it logs through `tracing`: without a sink they cost nothing. Progress is never
//! the only record: every command still prints its summary at the end.

use std::sync::OnceLock;

/// Where progress goes.
pub trait Sink: Send + Sync {
    /// A piece of work starts: what it is (`import elders.csv`, `run 110102 2020-07`), and how
    /// many units it has when known.
    fn start(&self, what: &str, unit: &'static str, total: Option<u64>);
    /// `n` more units done.
    fn advance(&self, n: u64);
    /// The piece of work ended.
    fn finish(&self);
}

static SINK: OnceLock<Box<dyn Sink>> = OnceLock::new();

/// Install the sink (once per process; later calls are ignored).
pub fn install(sink: Box<dyn Sink>) {
    let _ = SINK.set(sink);
}

/// A piece of work starts.
pub fn start(what: &str, unit: &'static str, total: Option<u64>) {
    if let Some(s) = SINK.get() {
        s.start(what, unit, total);
    }
}

/// `n` more units done.
pub fn advance(n: u64) {
    if let Some(s) = SINK.get() {
        s.advance(n);
    }
}

/// The piece of work ended.
pub fn finish() {
    if let Some(s) = SINK.get() {
        s.finish();
    }
}
