//! L1: the life of a batch and which of its states count as paid. The single definition of
//! "counts as paid" is [`BatchState::counts`]; the SQL says the same thing through
//! [`counting_states!`](crate::counting_states) and [`COUNTED`], checked against it by a test.

use serde::Serialize;

/// The life of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BatchState {
    /// Computed, waiting for approval.
    Computed,
    /// Approved for export.
    Approved,
    /// Files written for the platform.
    Exported,
    /// Replaced by a rerun before export (never counted).
    Superseded,
    /// Dropped before export (never counted).
    Discarded,
}

impl BatchState {
    /// Stored text.
    pub fn as_str(self) -> &'static str {
        match self {
            BatchState::Computed => "computed",
            BatchState::Approved => "approved",
            BatchState::Exported => "exported",
            BatchState::Superseded => "superseded",
            BatchState::Discarded => "discarded",
        }
    }

    /// Parse stored text.
    pub fn parse(s: &str) -> Option<BatchState> {
        use BatchState::*;
        [Computed, Approved, Exported, Superseded, Discarded].into_iter().find(|b| b.as_str() == s)
    }

    /// L1: whether the batch's postings count as paid.
    pub fn counts(self) -> bool {
        !matches!(self, BatchState::Superseded | BatchState::Discarded)
    }

    /// Neither exported nor superseded/discarded: blocks the district's next run.
    pub fn is_open(self) -> bool {
        matches!(self, BatchState::Computed | BatchState::Approved)
    }
}

/// L1 in SQL: the batch states whose postings count ([`BatchState::counts`]), as a literal list
/// for `state in …`, so that every statement that needs it says it the same way (a test checks
/// it against `counts`).
#[macro_export]
macro_rules! counting_states {
    () => {
        "('computed', 'approved', 'exported')"
    };
}

/// SQL condition (over `p` postings, `b` batches, `t` transfers) for a posting that counts in the
/// net paid (L1): not held, in a batch neither superseded nor discarded, not on a transfer the
/// platform reported failed or returned, and not a recovery item a return cancelled (the money
/// it recovered came back from the bank).
pub const COUNTED: &str = concat!(
    "p.held_reason is null and p.cancelled_by is null and b.state in ",
    counting_states!(),
    " and (t.status is null or t.status not in ('failed', 'returned'))"
);

#[cfg(test)]
mod tests {
    use super::BatchState::*;

    #[test]
    fn l1_counting_states_in_sql_are_those_that_count() {
        let listed: Vec<String> = [Computed, Approved, Exported, Superseded, Discarded]
            .into_iter()
            .filter(|s| s.counts())
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        assert_eq!(format!("({})", listed.join(", ")), counting_states!());
    }
}
