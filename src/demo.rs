//! `subsidy demo`: a year of Xicheng's allowances on a database of its own.

use crate::clock::Clock;
use std::path::Path;

/// Run the demo.
pub async fn run(_out: &Path, _json: bool, _clock: Clock) -> anyhow::Result<i32> {
    anyhow::bail!("not yet")
}
