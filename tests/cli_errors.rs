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

#[test]
fn a_command_in_an_empty_folder_names_the_database_creates_nothing_and_says_to_init() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [&["status"][..], &["run", "--month", "2020-01"]] {
        let out = cli_support::in_folder(tmp.path(), args).output().unwrap();
        let stderr = fails(&out, 2);
        assert!(stderr.contains("sqlite://subsidy.db"), "{stderr}");
        assert!(stderr.contains("subsidy init --start-month YYYY-MM"), "{stderr}");
        let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().collect();
        assert!(left.is_empty(), "{args:?} left {left:?}");
    }
    // A database file that exists but was never initialised: named, with what to do.
    let db = format!("sqlite://{}", tmp.path().join("t.db").display());
    cli_support::ok(&subsidy(&db, &["init", "--start-month", "2020-01"]));
    let other = format!("sqlite://{}", tmp.path().join("empty.db").display());
    std::fs::write(tmp.path().join("empty.db"), b"").unwrap();
    let stderr = fails(&subsidy(&other, &["status"]), 2);
    assert!(stderr.contains(&format!("the database {other} is not initialised")), "{stderr}");
    // A missing registry folder and an unsupported URL: wrong usage, naming them.
    let missing = tmp.path().join("nope");
    let stderr = fails(&subsidy(&db, &["import", missing.to_str().unwrap()]), 2);
    assert!(stderr.contains(&format!("the registry folder {} does not exist", missing.display())), "{stderr}");
    let stderr = fails(&subsidy("mysql://u:pw@h/x", &["status"]), 2);
    assert!(stderr.contains("unsupported database URL `mysql://u:***@h/x`"), "{stderr}");
}

fn help(args: &[&str]) -> String {
    let out = std::process::Command::new(cli_support::bin()).args(args).output().unwrap();
    assert!(out.status.success(), "{args:?}");
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn help_lists_only_the_options_a_command_uses_and_shows_an_example() {
    assert!(!help(&["generate", "--help"]).contains("--database-url"));
    let demo = help(&["demo", "--help"]);
    assert!(!demo.contains("--database-url") && !demo.contains("--district"), "{demo}");
    for command in [
        "init",
        "policy",
        "import",
        "explain",
        "run",
        "rerun",
        "discard",
        "withdraw",
        "recovery",
        "approve",
        "export",
        "reconcile",
        "hold",
        "release",
        "verify",
        "status",
        "report",
        "schedule",
        "demo",
        "generate",
    ] {
        let said = help(&[command, "--help"]);
        assert!(said.contains("Example: subsidy "), "{command}: {said}");
        if !["generate", "demo"].contains(&command) {
            assert!(said.contains("--database-url") && said.contains("--district"), "{command}: {said}");
        }
    }
    // Every command is listed with what it does (a doc comment out of place once gave
    // `completions` the generator's words and `generate` none).
    let top = help(&["--help"]);
    let commands: Vec<&str> =
        top.lines().skip_while(|l| !l.starts_with("Commands:")).skip(1).take_while(|l| !l.is_empty()).collect();
    assert!(commands.len() >= 20, "{top}");
    for line in commands {
        assert!(line.trim().split_once(' ').is_some_and(|(_, what)| !what.trim().is_empty()), "no words: {line}");
    }
    assert!(top.contains("generate     Write a synthetic registry"), "{top}");
    assert!(top.contains("completions  Print the shell completion script"), "{top}");
    // --database-url before or after the command.
    let tmp = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", tmp.path().join("named.db").display());
    for args in [&["--database-url", &url, "status"][..], &["status", "--database-url", &url]] {
        let stderr = fails(&cli_support::in_folder(tmp.path(), args).output().unwrap(), 2);
        assert!(stderr.contains(&format!("there is no database at {url}")), "{stderr}");
    }
    // recovery needs a decision.
    let stderr = fails(&subsidy("sqlite://x.db", &["recovery", "--key", "k", "--reason", "r", "--by", "w"]), 2);
    assert!(stderr.contains("<--collected|--waived>"), "{stderr}");
}

#[test]
fn completions_and_the_man_page_are_printed_on_stdout() {
    for args in [&["completions", "bash"][..], &["completions", "zsh"], &["completions", "fish"], &["man"]] {
        let said = help(args);
        assert!(!said.is_empty() && said.contains("subsidy"), "{args:?}");
    }
    assert!(help(&["man"]).contains(".TH subsidy 1"));
}

/// Issue 13 point 4f: a reader that goes away early (`subsidy … | head -1`) ends `subsidy`
/// quietly, by SIGPIPE, with no panic on stderr.
#[cfg(unix)]
#[test]
fn a_reader_that_goes_away_ends_subsidy_quietly() {
    use std::process::{Command, Stdio};
    let mut child = Command::new(cli_support::bin())
        .args(["completions", "bash"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The reader is gone before subsidy writes: its first write meets a closed pipe.
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked") && stderr.is_empty(), "stderr: {stderr}");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(out.status.signal(), Some(libc_sigpipe()), "{:?}", out.status);
}

/// SIGPIPE's number on the platforms subsidy runs on.
#[cfg(unix)]
fn libc_sigpipe() -> i32 {
    13
}
