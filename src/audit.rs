//! The audit trail: every command that changes state appends who, when, what, why and a
//! fingerprint of its inputs to an append-only log. Each entry carries the hash of the one before,
//! so `subsidy verify --audit` detects an entry changed or removed (the databases refuse UPDATE
//! and DELETE on the log as well).

use serde::Serialize;

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An entry to append.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditEntry {
    /// Who (`--by`, or the login name).
    pub actor: String,
    /// The command (`run`, `approve`, `import` …).
    pub command: String,
    /// What it acted on (batch id, folder, month …).
    pub target: String,
    /// Why (`--reason`), empty when the command takes none.
    pub reason: String,
    /// SHA-256 of the inputs (files, registry state, batch contents).
    pub input_fingerprint: String,
    /// JSON with the outcome (counts, totals, states).
    pub details: String,
}

/// An entry as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuditRow {
    /// 1, 2, 3 … without gaps.
    pub seq: i64,
    /// When (UTC, RFC 3339).
    pub at: String,
    /// The entry.
    #[serde(flatten)]
    pub entry: AuditEntry,
    /// Hash of the entry before (GENESIS for the first).
    pub prev_hash: String,
    /// SHA-256 over this entry and `prev_hash`.
    pub hash: String,
}

/// The hash of an entry given its place in the chain.
pub fn entry_hash(seq: i64, at: &str, e: &AuditEntry, prev_hash: &str) -> String {
    let text =
        [prev_hash, &seq.to_string(), at, &e.actor, &e.command, &e.target, &e.reason, &e.input_fingerprint, &e.details]
            .join("\n");
    crate::digest::sha256_hex(text.as_bytes())
}

/// Check the whole chain: sequence without gaps, each `prev_hash` the hash before, each hash
/// recomputed, and the last entry the head recorded at the last append (so that entries removed
/// from the end are seen too). Returns one sentence per problem.
pub fn verify_chain(rows: &[AuditRow], head: Option<(i64, String)>) -> Vec<String> {
    let mut problems = Vec::new();
    let mut prev = GENESIS.to_string();
    let mut expected_seq = 1;
    for r in rows {
        if r.seq != expected_seq {
            problems.push(format!("entry {expected_seq} is missing (found {} next)", r.seq));
        }
        if r.prev_hash != prev {
            problems.push(format!("entry {}: does not follow the entry before it (a missing or changed entry)", r.seq));
        }
        if entry_hash(r.seq, &r.at, &r.entry, &r.prev_hash) != r.hash {
            problems.push(format!(
                "entry {} ({} by {}): its content was changed after it was written",
                r.seq, r.entry.command, r.entry.actor
            ));
        }
        prev = r.hash.clone();
        expected_seq = r.seq + 1;
    }
    let last = rows.last().map(|r| (r.seq, r.hash.clone()));
    if let Some((seq, hash)) = head {
        if last.as_ref() != Some(&(seq, hash)) {
            problems.push(format!(
                "the log should end at entry {seq}, but ends at entry {}",
                last.map(|l| l.0).unwrap_or(0)
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<AuditRow> {
        let mut prev = GENESIS.to_string();
        (1..=n)
            .map(|seq| {
                let entry = AuditEntry {
                    actor: "alice".into(),
                    command: "run".into(),
                    target: format!("110102-2020-0{seq}-R1"),
                    reason: String::new(),
                    input_fingerprint: "f".into(),
                    details: "{}".into(),
                };
                let at = format!("2020-0{seq}-26T02:00:00Z");
                let hash = entry_hash(seq, &at, &entry, &prev);
                let row = AuditRow { seq, at, entry, prev_hash: prev.clone(), hash: hash.clone() };
                prev = hash;
                row
            })
            .collect()
    }

    #[test]
    fn audit_chain_detects_changed_and_missing_entries() {
        let rows = chain(4);
        let head = Some((4, rows[3].hash.clone()));
        assert!(verify_chain(&rows, head.clone()).is_empty());
        let mut changed = rows.clone();
        changed[1].entry.actor = "mallory".into();
        assert_eq!(
            verify_chain(&changed, None),
            vec!["entry 2 (run by mallory): its content was changed after it was written"]
        );
        let mut missing = rows.clone();
        missing.remove(2);
        let problems = verify_chain(&missing, None);
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].contains("entry 3 is missing"));
        let mut last_gone = rows;
        last_gone.pop();
        assert!(verify_chain(&last_gone, None).is_empty(), "the chain alone cannot see a removed tail");
        assert_eq!(verify_chain(&last_gone, head), vec!["the log should end at entry 4, but ends at entry 3"]);
    }
}
