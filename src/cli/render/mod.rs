//! Printing the use-cases' outcomes ([`crate::ops`]): text for people on stdout, or with `--json`
//! one JSON object; refusals and failures on stderr. What is printed is the interface
//! (INTERFACE.md): the acceptance tests compare it byte for byte. ID and account numbers are
//! printed masked only.
//!
//! | module | commands |
//! |---|---|
//! | [`policy`] | `init`, `policy show`, `policy load` |
//! | [`registry`] | `import`, `generate`, `report` |
//! | [`batch`] | `run`, `rerun`, `approve`, `withdraw`, `discard`, `export`, `verify`, `recovery` |
//! | [`platform`] | `reconcile`, `hold`, `release` |
//! | [`schedule`] | `schedule` |
//! | [`status`] | `status` |
//! | [`explain`] | `explain` |

pub mod batch;
pub mod explain;
pub mod platform;
pub mod policy;
pub mod registry;
pub mod schedule;
pub mod status;

use super::exit::Failure;

/// Print a JSON value as one line on stdout.
pub fn print_json<T: serde::Serialize>(value: &T) {
    println!("{}", serde_json::to_string(value).expect("serializable output"));
}

/// A command that failed: `error: …` on stderr; with `--json`, also
/// `{"error": {"code", "message", "hint"}}` on stdout (docs/json/error.schema.json).
pub fn failure(f: &Failure, json: bool) {
    eprintln!("error: {}", f.message);
    if json {
        print_json(&error_json(f.code, &f.message, &f.hint()));
    }
}

/// The one shape of an error under `--json`.
pub fn error_json(code: &str, message: &str, hint: &str) -> serde_json::Value {
    serde_json::json!({ "error": { "code": code, "message": message, "hint": hint } })
}
