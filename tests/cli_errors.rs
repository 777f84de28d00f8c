//! Issue 13, points 3 and 4, as the binary shows them: what is wrong with a typed ID number,
//! named databases and folders, each a sentence with what to do next. Each test runs `subsidy`
//! on its own SQLite file (or folder).

#[path = "cli_support/mod.rs"]
mod cli_support;

use cli_support::subsidy;
use std::process::Output;

fn fails(out: &Output, want: i32) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(want), "exit status; stdout:\n{stdout}\nstderr:\n{stderr}");
    stderr
}

fn initialised(dir: &std::path::Path) -> String {
    let db = format!("sqlite://{}", dir.join("t.db").display());
    cli_support::ok(&subsidy(&db, &["init", "--start-month", "2020-01"]));
    db
}

#[test]
fn a_malformed_id_is_wrong_usage_saying_what_is_wrong_and_masked() {
    let tmp = tempfile::tempdir().unwrap();
    let db = initialised(tmp.path());
    let cases: [(&[&str], &str); 5] = [
        (&["explain", "--id", "1101051949123100", "--month", "2020-01"], "has 16 characters, not 18"),
        (&["explain", "--id", "11010519491231A02X", "--month", "2020-01"], "a letter at position 15"),
        (&["explain", "--id", "110105194913310021", "--month", "2020-01"], "impossible birth date"),
        (&["hold", "--id", "110105194912310021", "--reason", "r"], "should be X"),
        (&["release", "--id", "110105194912310021", "--reason", "r"], "should be X"),
    ];
    for (args, said) in cases {
        let stderr = fails(&subsidy(&db, args), 2);
        assert!(stderr.contains(said), "{args:?}: {stderr}");
        assert!(!stderr.contains(args[2]), "the full ID is never shown: {stderr}");
        assert!(!stderr.contains("in the registry"), "{stderr}");
    }
    // A lowercase x is the same ID: looked up, and (not registered) said so.
    let stderr = fails(&subsidy(&db, &["explain", "--id", "11010519491231002x", "--month", "2020-01"]), 1);
    assert!(stderr.contains("no person 1101**********002X in the registry"), "{stderr}");
}
