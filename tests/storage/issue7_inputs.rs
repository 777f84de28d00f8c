//! Issue 7, points 8 and 11, on both databases: four eyes holds in the database however the
//! runner's name is cased or spaced (migration 0004), and a registry file in another encoding is
//! refused whole, storing nothing of it, until imported with `--encoding gb18030`.

use crate::import::{import, write_dir};
use crate::scenario::{clock, load, month, regular, Elder, APPLICATIONS, ELDERS, OPERATOR, REVIEWER};
use crate::support::{check, eq};
use chrono::{NaiveDate, TimeZone, Utc};
use libtest_mimic::Failed;
use subsidy::adapters::registry_csv::encoding::Encoding;
use subsidy::adapters::registry_csv::import::import_dir_as;
use subsidy::adapters::registry_csv::validate::Context;
use subsidy::batch::RunOutcome;
use subsidy::cli::{commands, UsageError};
use subsidy::ledger::BatchState;
use subsidy::policy::{Policy, PolicyBook, DEFAULT_POLICY};
use subsidy::store::{LedgerStore, Store};

pub fn cases() -> Vec<crate::support::Case> {
    crate::cases![
        four_eyes_compares_trimmed_case_folded_names,
        import_gbk_file_refused_whole_then_read_as_gb18030,
        import_crlf_file_reports_physical_lines
    ]
}

/// An elder of 84 in 2020 with an approved longevity application (R2: 80-89).
fn steady() -> Elder {
    Elder::new("钱二", "1935-04-01", 202, "110102007", "shebao", "6217000000000000022")
}

/// Point 8: `operator-wang` ran the batch; `Operator-Wang`, ` operator-wang ` and
/// `OPERATOR-WANG` are the same person. The command refuses them (and an empty name, as wrong
/// usage); so does the database itself, whose 0002 check compared names exactly; the reviewer
/// approves.
async fn four_eyes_compares_trimmed_case_folded_names<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    s.set_start_month(month("2020-01")).await?;
    s.add_policy(&Policy::parse(DEFAULT_POLICY)?, "fixtures/policy/beijing-2019.toml", clock().now()).await?;
    let book = PolicyBook::new(s.policy_versions().await?)?;
    let e = steady();
    let application = format!("{},longevity,2019-10-08,approved,2019-10-20\n", e.id);
    load(
        s,
        &[
            ("elders.csv", &format!("{ELDERS}{}", e.row(""))),
            ("applications.csv", &format!("{APPLICATIONS}{application}")),
        ],
    )
    .await?;
    let batch = match regular(s, &book, "2020-01").await? {
        RunOutcome::Computed(sum) => sum.batch_id,
        other => return Err(format!("run 2020-01: expected a computed batch, got {other:?}").into()),
    };
    eq(s.batch(&batch).await?.map(|b| b.run_by), Some(OPERATOR.to_string()), "run by")?;

    for runner in ["Operator-Wang", " operator-wang ", "OPERATOR-WANG"] {
        let command = commands::approve(s, &batch, runner, false, clock()).await;
        check(
            command.as_ref().is_err_and(|e| e.to_string().contains("cannot approve it")),
            format!("`approve --by {runner:?}` of a batch run by {OPERATOR} must be refused, got {command:?}"),
        )?;
        let db = s.approve_batch(&batch, runner, clock().now()).await;
        check(!matches!(db, Ok(true)), format!("the database let {runner:?} approve the batch {OPERATOR} ran"))?;
        let b = s.batch(&batch).await?.ok_or("batch missing")?;
        eq((b.state, b.approved_by), (BatchState::Computed, None), &format!("after {runner:?} tried to approve"))?;
    }
    let empty = commands::approve(s, &batch, "  ", false, clock()).await;
    check(
        empty.as_ref().is_err_and(|e| e.downcast_ref::<UsageError>().is_some()),
        format!("`approve --by \"  \"` must be wrong usage, got {empty:?}"),
    )?;

    // Someone else, given with stray spaces: approves, and is stored trimmed.
    eq(commands::approve(s, &batch, &format!(" {REVIEWER} "), false, clock()).await?, 0, "approve by the reviewer")?;
    let b = s.batch(&batch).await?.ok_or("batch missing")?;
    eq((b.state, b.approved_by.as_deref()), (BatchState::Approved, Some(REVIEWER)), "approved, name trimmed")
}

/// Point 11: an `elders.csv` saved by Chinese Excel (GB18030/GBK) is refused once, as a whole
/// (BAD_ENCODING at line 1, naming GB18030), and nothing of it is stored; read with
/// `--encoding gb18030` the same file is stored with its names intact.
async fn import_gbk_file_refused_whole_then_read_as_gb18030<S: Store>(s: &S) -> Result<(), Failed> {
    let (a, b) = (steady(), Elder::new("孙三", "1936-07-07", 303, "110102009", "minzheng", "6217000000000000033"));
    // CRLF line ends, as Excel writes them.
    let text = format!("{ELDERS}{}{}", a.row(""), b.row("")).replace('\n', "\r\n");
    let (gbk, _, unmappable) = encoding_rs::GB18030.encode(&text);
    check(!unmappable && gbk.len() != text.len(), "the file is GBK, not UTF-8")?;
    let dir = write_dir(&[]);
    std::fs::write(dir.path().join("elders.csv"), &gbk)?;

    let refused = import(s, dir.path()).await?;
    let rejects: Vec<(String, u64, &str)> =
        refused.rejects.iter().map(|r| (r.file.clone(), r.line, r.reason.as_str())).collect();
    eq(rejects, vec![("elders.csv".to_string(), 1, "BAD_ENCODING")], "one reject for the whole file")?;
    let detail = &refused.rejects[0].detail;
    check(detail.contains("GB18030") && detail.contains("--encoding gb18030"), format!("detail: {detail}"))?;
    let counts = refused.files["elders.csv"];
    eq((counts.accepted, counts.rejected), (0, 2), "elders.csv: both rows rejected with the file")?;
    for e in [&a, &b] {
        check(s.person(&e.id).await?.is_none(), format!("{} stored from a refused file", e.name))?;
    }

    let policy = Policy::parse(DEFAULT_POLICY)?;
    let ctx = Context { today: NaiveDate::from_ymd_opt(2021, 1, 1).unwrap(), policy: &policy };
    let now = Utc.with_ymd_and_hms(2021, 1, 1, 0, 0, 0).unwrap();
    let read = import_dir_as(s, dir.path(), Encoding::Gb18030, &ctx, now).await?;
    eq(read.rejects.len(), 0, &format!("rejects {:?}", read.rejects))?;
    eq(read.files["elders.csv"].accepted, 2, "elders.csv accepted")?;
    for e in [&a, &b] {
        let person = s.person(&e.id).await?.ok_or_else(|| format!("{} not stored", e.name))?;
        let names: Vec<&str> = person.registrations.iter().map(|r| r.name.as_str()).collect();
        eq(names, vec![e.name], "name stored as decoded")?;
    }
    Ok(())
}

/// Point 11: line numbers are the file's physical lines (header = 1) whatever the line ends. A
/// CRLF file as Excel writes it, with a bad district on line 2 and a record whose quoted name spans
/// two lines (lines 3–4) before a bad street on line 5: rejected at 2 and 5, the rest stored.
async fn import_crlf_file_reports_physical_lines<S: Store>(s: &S) -> Result<(), Failed> {
    let (a, b, c) = (
        steady(),
        Elder::new("孙三", "1936-07-07", 303, "110102009", "minzheng", "6217000000000000033"),
        Elder::new("李四", "1937-08-08", 404, "110102010", "minzheng", "6217000000000000044"),
    );
    let bad_district = a.row("").replace(",110102,", ",999999,");
    let spanning = b.row("").replace("孙三", "\"孙\n三\"");
    let bad_street = c.row("").replace("110102010", "110105010");
    let text = format!("{ELDERS}{bad_district}{spanning}{bad_street}").replace('\n', "\r\n");
    let dir = write_dir(&[("elders.csv", &text)]);
    let report = import(s, dir.path()).await?;
    let rejects: Vec<(u64, &str)> = report.rejects.iter().map(|r| (r.line, r.reason.as_str())).collect();
    eq(rejects, vec![(2, "UNKNOWN_CODE"), (5, "STREET_OUTSIDE_DISTRICT")], "rejects at their physical lines")?;
    check(s.person(&b.id).await?.is_some(), "the record spanning lines 3-4 is stored")
}
