//! Issue 7 cases (placeholder: filled by the work on this issue).

pub fn cases() -> Vec<crate::support::Case> {
    Vec::new()
}
