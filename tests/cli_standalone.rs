//! Issue 13.2: a binary that stands alone. The built binary, copied alone into an empty folder
//! outside the repository and run with a clean environment (nothing of cargo's, no database, no
//! date), runs the demo: its fixtures and the default policy are compiled in, never read from the
//! source tree it was built from. Its closing hints name the binary, and work from that folder.

mod cli_support;

use cli_support::ok;
use std::path::Path;
use std::process::{Command, Output};

/// `./subsidy ARGS` in `dir`, with only `TMPDIR` set (to `tmp`, to see what the demo leaves there).
fn alone(dir: &Path, tmp: &Path, args: &[&str]) -> Output {
    Command::new(dir.join("subsidy"))
        .current_dir(dir)
        .env_clear()
        .env("TMPDIR", tmp)
        .args(args)
        .output()
        .expect("run the copied binary")
}

/// The folders `import` recorded in the audit log of the demo's database, in order.
fn imports(db: &Path) -> Vec<String> {
    let url = format!("sqlite://{}?mode=ro", db.display());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    rt.block_on(async {
        let pool = sqlx::SqlitePool::connect(&url).await.expect("the demo's database");
        let targets = sqlx::query_scalar("select target from audit_log where command = 'import' order by seq")
            .fetch_all(&pool)
            .await
            .expect("the audit log");
        pool.close().await;
        targets
    })
}

#[test]
fn the_binary_alone_runs_the_demo_from_any_folder() {
    let folder = tempfile::tempdir().expect("an empty folder");
    let dir = folder.path();
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).canonicalize().expect("the repository");
    let here = dir.canonicalize().expect("the folder");
    assert!(!here.starts_with(&repository), "{} is inside the repository", here.display());
    std::fs::copy(env!("CARGO_BIN_EXE_subsidy"), dir.join("subsidy")).expect("copy the binary");
    let tmp = dir.join("tmp");
    std::fs::create_dir(&tmp).expect("a temporary folder of its own");

    let stdout = ok(&alone(dir, &tmp, &["demo"]));
    assert!(stdout.contains("14 batches computed by demo-operator, approved by demo-reviewer"), "{stdout}");
    assert!(stdout.contains("nothing paid twice, nothing lost"), "{stdout}");
    // The year's report, Xicheng's section 一.
    assert!(stdout.contains("西城区（110102）2020 年 老年人津贴补贴发放情况"), "{stdout}");
    assert!(stdout.contains("项目周期：2020 年 / project period: 2020"), "{stdout}");
    assert!(dir.join("subsidy-demo.db").is_file(), "subsidy-demo.db in the folder");
    assert!(dir.join("demo-out/110102-2020-12-R1-manifest.json").is_file(), "the platform files in demo-out");
    // The registry and its corrections were read from the embedded fixtures, unpacked into a
    // temporary folder (not from the source tree the binary was built from), as the audit log
    // records; the folder was removed when the demo ended.
    let imported = imports(&dir.join("subsidy-demo.db"));
    assert_eq!(imported.len(), 4, "{imported:?}");
    for (target, folder) in imported.iter().zip([
        "/registry",
        "/corrections/2020-06-new-account-and-death",
        "/corrections/2020-08-late-death",
        "/corrections/2020-09-grade-lowered",
    ]) {
        assert!(Path::new(target).starts_with(&tmp) && target.ends_with(folder), "{target}");
    }
    let left: Vec<_> = std::fs::read_dir(&tmp).expect("tmp").collect();
    assert!(left.is_empty(), "the demo left {left:?} in TMPDIR");

    let hints: Vec<&str> = stdout.lines().skip_while(|l| !l.starts_with("look closer")).skip(1).collect();
    assert_eq!(hints.len(), 4, "{stdout}");
    for hint in &hints {
        assert!(hint.starts_with("  subsidy --database-url sqlite://subsidy-demo.db "), "{hint}");
    }
    assert!(!stdout.contains("cargo"), "{stdout}");

    // The hints work where they are printed.
    let ledger = ok(&alone(dir, &tmp, &["--database-url", "sqlite://subsidy-demo.db", "verify", "--ledger"]));
    assert!(ledger.contains("10978"), "{ledger}");
}
