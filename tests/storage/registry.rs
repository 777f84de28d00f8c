//! Contract cases for settings, policy versions and reading a person back.

use crate::support::{check, eq};
use chrono::{NaiveDate, TimeZone, Utc};
use libtest_mimic::Failed;
use subsidy::policy::{Policy, DEFAULT_POLICY};
use subsidy::store::{PolicyLoad, Store};

pub fn cases() -> Vec<crate::support::Case> {
    crate::cases![
        migrations_are_idempotent_and_start_month_round_trips,
        policy_versions_load_once_and_conflicts_are_refused,
        person_reads_back_every_record_kind,
    ]
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2021, 1, 1, 0, 0, 0).unwrap()
}

async fn migrations_are_idempotent_and_start_month_round_trips<S: Store>(s: &S) -> Result<(), Failed> {
    s.migrate().await?;
    eq(s.start_month().await?, None, "start month before init")?;
    s.set_start_month("2020-01".parse()?).await?;
    eq(s.start_month().await?.map(|m| m.to_string()), Some("2020-01".into()), "start month")?;
    Ok(())
}

async fn policy_versions_load_once_and_conflicts_are_refused<S: Store>(s: &S) -> Result<(), Failed> {
    let p = Policy::parse(DEFAULT_POLICY)?;
    eq(s.add_policy(&p, "default", now()).await?, PolicyLoad::Added, "first load")?;
    eq(s.add_policy(&p, "default", now()).await?, PolicyLoad::AlreadyLoaded, "same again")?;
    let mut changed = p.clone();
    changed.longevity.tiers[0].monthly = rust_decimal::Decimal::new(900, 0);
    check(
        matches!(s.add_policy(&changed, "x", now()).await?, PolicyLoad::Conflict(_)),
        "same version, other content must conflict",
    )?;
    let mut v2 = p.clone();
    v2.version = "v2".into();
    v2.effective_from = "2021-01".parse()?;
    eq(s.add_policy(&v2, "v2.toml", now()).await?, PolicyLoad::Added, "second version")?;
    let stored = s.policy_versions().await?;
    eq(stored.len(), 2, "versions stored")?;
    eq(stored[0].clone(), p, "first version reads back exactly")?;
    eq(stored[1].version.as_str(), "v2", "ordered by effective month")?;
    Ok(())
}

async fn person_reads_back_every_record_kind<S: Store>(s: &S) -> Result<(), Failed> {
    let dir = crate::import::write_dir(&[
        (
            "elders.csv",
            "id_number,name,birth_date,district_code,street_code,hukou_in_date,hukou_out_date,death_date,account_type,account_no\n\
             11010519491231002X,王淑珍,1949-12-31,110102,110102003,,2020-05-15,,shebao,62170001\n\
             11010519491231002X,王淑珍,1949-12-31,110101,110101001,2020-05-15,,,minzheng,\n",
        ),
        ("applications.csv", "id_number,allowance,applied_on,decision,decided_on\n11010519491231002X,care,2019-11-02,approved,2019-11-20\n"),
        ("assessments.csv", "id_number,assessed_on,result\n11010519491231002X,2019-10-08,severe\n"),
        ("disability_certs.csv", "id_number,category,grade,multiple,issued_on,revoked_on\n11010519491231002X,mental,2,true,2018-03-01,2020-06-01\n"),
        ("household_status.csv", "id_number,status,valid_from,valid_to\n11010519491231002X,dibao,2019-01-01,2020-12-31\n"),
        ("exclusions.csv", "id_number,kind,valid_from,valid_to\n11010519491231002X,tekun,2020-09-01,\n"),
        ("suspensions.csv", "id_number,reason,valid_from,valid_to\n11010519491231002X,missing,2020-02-10,2020-03-05\n"),
    ]);
    let report = crate::import::import(s, dir.path()).await?;
    eq(report.rejects.len(), 0, "rejects")?;
    let p = s.person("11010519491231002X").await?.ok_or("person not found")?;
    let d = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap();
    eq(p.birth_date, Some(d("1949-12-31")), "birth date")?;
    eq(p.registrations.len(), 2, "one registration per district")?;
    eq(p.registrations[0].district_code.as_str(), "110101", "ordered by district")?;
    eq(p.registrations[0].account_no.clone(), None, "empty account is none (L3)")?;
    eq(p.registrations[1].hukou_out_date, Some(d("2020-05-15")), "moved out")?;
    eq(p.registrations[1].account_no.clone(), Some("62170001".into()), "account")?;
    eq(p.applications.len(), 1, "applications")?;
    eq(p.assessments[0].assessed_on, d("2019-10-08"), "assessment")?;
    eq(
        (p.certificates[0].grade, p.certificates[0].multiple, p.certificates[0].revoked_on),
        (2, true, Some(d("2020-06-01"))),
        "certificate",
    )?;
    eq(p.statuses[0].valid_to, Some(d("2020-12-31")), "status")?;
    eq(p.exclusions[0].valid_to, None, "open exclusion")?;
    eq(p.suspensions[0].valid_from, d("2020-02-10"), "suspension")?;
    eq(s.districts().await?, vec!["110101".to_string(), "110102".to_string()], "districts")?;
    eq(s.person("440524188001010014").await?, None, "unknown person")?;
    Ok(())
}
