//! Contract cases for `import`: every rejection reason of INTERFACE.md, with file, line and code;
//! upsert by key; `deleted` rows; whole-file rejections. Today is fixed at 2021-01-01.

use crate::support::{check, eq};
use chrono::{NaiveDate, TimeZone, Utc};
use libtest_mimic::Failed;
use std::path::Path;
use subsidy::adapters::registry_csv::import::{import_dir, ImportReport};
use subsidy::adapters::registry_csv::validate::Context;
use subsidy::idcard;
use subsidy::policy::{Policy, DEFAULT_POLICY};
use subsidy::store::{BatchTx, LedgerStore, NewBatch, Store};

pub fn cases() -> Vec<crate::support::Case> {
    crate::cases![
        import_rejects_every_reason_with_file_line_and_code,
        import_reimport_updates_by_key_and_deleted_removes,
        import_unknown_or_missing_column_rejects_whole_file,
        import_accepts_byte_order_mark_and_any_column_order,
        import_finds_duplicate_keys_across_chunks,
        import_unchanged_rows_are_read_not_rewritten,
        import_moves_the_registry_fingerprint_only_when_it_writes,
    ]
}

/// Write files into a fresh temporary directory.
pub fn write_dir(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    dir
}

/// Import with today = 2021-01-01 and the default policy.
pub async fn import<S: Store>(s: &S, dir: &Path) -> Result<ImportReport, Failed> {
    let policy = Policy::parse(DEFAULT_POLICY)?;
    let ctx = Context { today: NaiveDate::from_ymd_opt(2021, 1, 1).unwrap(), policy: &policy };
    Ok(import_dir(s, dir, &ctx, Utc.with_ymd_and_hms(2021, 1, 1, 0, 0, 0).unwrap()).await?)
}

/// A valid ID for a birth date and sequence.
fn id(birth: &str, seq: u32) -> String {
    idcard::make("110102", NaiveDate::parse_from_str(birth, "%Y-%m-%d").unwrap(), seq)
}

const ELDERS: &str = "id_number,name,birth_date,district_code,street_code,hukou_in_date,hukou_out_date,death_date,account_type,account_no";

fn elder(id: &str, name: &str, birth: &str, district: &str, street: &str, rest: &str) -> String {
    format!("{id},{name},{birth},{district},{street},{rest}\n")
}

fn summary(r: &ImportReport) -> Vec<(String, u64, String)> {
    r.rejects.iter().map(|x| (x.file.clone(), x.line, x.reason.as_str().to_string())).collect()
}

async fn import_rejects_every_reason_with_file_line_and_code<S: Store>(s: &S) -> Result<(), Failed> {
    let a = id("1935-03-10", 11);
    let bad_checksum = format!("{}{}", &a[..17], if a.ends_with('0') { '1' } else { '0' });
    // A correct check character over an embedded date that does not exist (30 February).
    let body = "11010219350230001";
    let bad_birth = format!("{body}{}", idcard::check_char(body).unwrap());
    let unknown = id("1940-01-01", 99);
    let (b, c, d, e, f, g, h, i) = (
        id("1935-03-11", 12),
        id("1936-01-01", 13),
        id("1936-01-02", 14),
        id("1936-01-03", 15),
        id("1936-01-04", 16),
        id("1936-01-05", 17),
        id("1936-01-06", 18),
        id("1936-01-07", 19),
    );
    let elders = [
        ELDERS.to_string() + "\n",
        elder(&a, "甲", "1935-03-10", "110102", "110102003", ",,,shebao,6217000000000000011"), // 2 accepted
        elder(&bad_checksum, "乙", "1935-03-10", "110102", "110102003", ",,,,"),               // 3 BAD_ID_CHECKSUM
        elder("12345", "丙", "1935-03-10", "110102", "110102003", ",,,,"),                     // 4 BAD_ID_FORMAT
        elder(&b, "丁", "1935-03-12", "110102", "110102003", ",,,,"),                          // 5 BIRTH_DATE_MISMATCH
        elder(&c, "戊", "1936-01-01", "110102", "110102003", ",,2020-02-30,,"),                // 6 BAD_DATE
        elder(&d, "己", "1936-01-02", "110102", "110102003", ",,2099-01-01,,"),                // 7 FUTURE_DATE
        elder(&e, "庚", "1936-01-03", "110102", "110102003", "2020-05-01,2020-04-01,,,"),      // 8 END_BEFORE_START
        elder(&f, "辛", "1936-01-04", "110102", "110102003", ",,,alipay,123"),                 // 9 UNKNOWN_CODE
        elder(&g, "壬", "1936-01-05", "110102", "110105001", ",,,,"), // 10 STREET_OUTSIDE_DISTRICT
        elder(&h, "", "1936-01-06", "110102", "110102003", ",,,,"),   // 11 MISSING_VALUE
        elder(&a, "甲二", "1935-03-10", "110102", "110102007", ",,,,"), // 12 DUPLICATE_KEY
        elder(&i, "癸", "1936-01-07", "999999", "999999001", ",,,,"), // 13 UNKNOWN_CODE
        elder(&bad_birth, "子", "1935-03-01", "110102", "110102003", ",,,,"), // 14 BAD_ID_BIRTH_DATE
        format!("{i},丑,1936-01-07,110102\n"),                        // 15 BAD_ROW
        elder(&i, "寅", "1936-01-07", "110102", "110102999", ",,,,"), // 16 STREET_OUTSIDE_DISTRICT (not a Xicheng street)
    ]
    .concat();
    let applications = format!(
        "id_number,allowance,applied_on,decision,decided_on\n\
         {a},longevity,2019-10-10,approved,2019-10-20\n\
         {unknown},longevity,2019-10-10,approved,2019-10-20\n\
         {a},pension,2019-10-10,approved,2019-10-20\n\
         {a},care,2019-10-10,approved,2019-10-01\n\
         {a},hardship,2019-10-10,approved,\n\
         {b},longevity,2019-10-10,approved,2019-10-20\n\
         {a},longevity,2019-10-10,rejected,2019-10-25\n\
         {a},care,2019-11-31,approved,2019-12-01\n"
    );
    let certs = format!(
        "id_number,category,grade,multiple,issued_on,revoked_on\n\
         {a},limb,5,false,2019-01-01,\n\
         {a},limb,1,yes,2019-01-01,\n\
         {a},limb,1,false,2019-01-01,2018-12-31\n\
         {a},limb,1,false,2019-01-01,\n"
    );
    let statuses =
        format!("id_number,status,valid_from,valid_to\n{a},dibao,2019-01-01,2022-12-31\n{a},rich,2019-01-01,\n");
    let dir = write_dir(&[
        ("elders.csv", &elders),
        ("applications.csv", &applications),
        ("disability_certs.csv", &certs),
        ("household_status.csv", &statuses),
    ]);
    let r = import(s, dir.path()).await?;
    let want: Vec<(&str, u64, &str)> = vec![
        ("applications.csv", 3, "UNKNOWN_PERSON"),
        ("applications.csv", 4, "UNKNOWN_CODE"),
        ("applications.csv", 5, "END_BEFORE_START"),
        ("applications.csv", 6, "MISSING_VALUE"),
        ("applications.csv", 7, "UNKNOWN_PERSON"),
        ("applications.csv", 8, "DUPLICATE_KEY"),
        ("applications.csv", 9, "BAD_DATE"),
        ("disability_certs.csv", 2, "BAD_VALUE"),
        ("disability_certs.csv", 3, "BAD_VALUE"),
        ("disability_certs.csv", 4, "END_BEFORE_START"),
        ("elders.csv", 3, "BAD_ID_CHECKSUM"),
        ("elders.csv", 4, "BAD_ID_FORMAT"),
        ("elders.csv", 5, "BIRTH_DATE_MISMATCH"),
        ("elders.csv", 6, "BAD_DATE"),
        ("elders.csv", 7, "FUTURE_DATE"),
        ("elders.csv", 8, "END_BEFORE_START"),
        ("elders.csv", 9, "UNKNOWN_CODE"),
        ("elders.csv", 10, "STREET_OUTSIDE_DISTRICT"),
        ("elders.csv", 11, "MISSING_VALUE"),
        ("elders.csv", 12, "DUPLICATE_KEY"),
        ("elders.csv", 13, "UNKNOWN_CODE"),
        ("elders.csv", 14, "BAD_ID_BIRTH_DATE"),
        ("elders.csv", 15, "BAD_ROW"),
        ("elders.csv", 16, "STREET_OUTSIDE_DISTRICT"),
        ("household_status.csv", 3, "UNKNOWN_CODE"),
    ];
    let mut got = summary(&r);
    got.sort();
    let want: Vec<(String, u64, String)> =
        want.into_iter().map(|(f, l, c)| (f.to_string(), l, c.to_string())).collect();
    eq(got, want, "rejects (file, line, reason)")?;
    let counts = |f: &str| r.files.get(f).map(|c| (c.accepted, c.rejected));
    eq(counts("elders.csv"), Some((1, 14)), "elders: 1 accepted of 15 rows")?;
    eq(counts("applications.csv"), Some((1, 7)), "applications")?;
    eq(counts("disability_certs.csv"), Some((1, 3)), "certificates")?;
    eq(counts("household_status.csv"), Some((1, 1)), "statuses (a future valid_to is allowed)")?;
    // Nothing of a rejected row is stored; the duplicate did not overwrite the first row.
    let tables = s.registry_counts().await?;
    eq(tables["elders"], 1, "elders stored")?;
    eq(tables["applications"], 1, "applications stored")?;
    let p = s.person(&a).await?.ok_or("accepted person missing")?;
    eq(p.registrations[0].name.as_str(), "甲", "first row of a duplicated key kept")?;
    eq(p.registrations[0].street_code.as_str(), "110102003", "duplicate did not update")?;
    eq(p.applications[0].decision, subsidy::codes::Decision::Approved, "duplicate application did not update")?;
    check(r.rejects.iter().all(|x| !x.detail.contains(&a)), "details never show a full ID number")?;
    Ok(())
}

async fn import_reimport_updates_by_key_and_deleted_removes<S: Store>(s: &S) -> Result<(), Failed> {
    let a = id("1930-06-15", 21);
    let b = id("1931-07-16", 22);
    let first = write_dir(&[
        ("elders.csv", &[ELDERS.to_string() + "\n", elder(&a, "甲", "1930-06-15", "110102", "110102003", ",,,shebao,1"), elder(&b, "乙", "1931-07-16", "110102", "110102009", ",,,,")].concat()),
        ("applications.csv", &format!("id_number,allowance,applied_on,decision,decided_on\n{a},longevity,2019-10-10,pending,\n{b},longevity,2019-10-11,approved,2019-10-12\n")),
    ]);
    eq(import(s, first.path()).await?.rejects.len(), 0, "first import")?;
    let second = write_dir(&[
        ("elders.csv", &format!("{ELDERS},deleted\n{a},甲,1930-06-15,110102,110102003,,,2020-08-03,shebao,2,false\n{b},乙,1931-07-16,110102,110102009,,,,,,true\n")),
        ("applications.csv", &format!("id_number,allowance,applied_on,decision,decided_on,deleted\n{a},longevity,2019-10-10,approved,2019-11-01,\n")),
    ]);
    let r = import(s, second.path()).await?;
    eq(r.rejects.len(), 0, "second import rejects")?;
    eq(r.files["elders.csv"].accepted, 2, "update and delete both accepted")?;
    let p = s.person(&a).await?.ok_or("a missing")?;
    eq(p.registrations[0].death_date, NaiveDate::from_ymd_opt(2020, 8, 3), "death date updated")?;
    eq(p.registrations[0].account_no.as_deref(), Some("2"), "account updated")?;
    eq(p.applications.len(), 1, "application updated, not duplicated")?;
    eq(p.applications[0].decision, subsidy::codes::Decision::Approved, "decision updated")?;
    eq(s.person(&b).await?.map(|p| p.registrations.len()), None, "deleted registration gone")?;
    // Re-importing the same files again changes nothing and rejects nothing (not duplicates).
    eq(import(s, second.path()).await?.rejects.len(), 0, "third import")?;
    eq(s.registry_counts().await?["applications"], 2, "applications after re-import")?;
    Ok(())
}

async fn import_unknown_or_missing_column_rejects_whole_file<S: Store>(s: &S) -> Result<(), Failed> {
    let a = id("1930-06-15", 31);
    let dir = write_dir(&[
        (
            "elders.csv",
            &[ELDERS.to_string() + "\n", elder(&a, "甲", "1930-06-15", "110102", "110102003", ",,,,")].concat(),
        ),
        (
            "exclusions.csv",
            &format!("id_number,kind,valid_from,valid_to,note\n{a},tekun,2020-01-01,,x\n{a},tekun,2020-03-01,,y\n"),
        ),
        ("suspensions.csv", &format!("id_number,reason,valid_from\n{a},missing,2020-01-01\n")),
    ]);
    let r = import(s, dir.path()).await?;
    eq(
        summary(&r),
        vec![
            ("exclusions.csv".into(), 1, "UNKNOWN_COLUMN".into()),
            ("suspensions.csv".into(), 1, "MISSING_COLUMN".into()),
        ],
        "file-level rejects",
    )?;
    eq(r.files["exclusions.csv"].rejected, 2, "every row of the file counted as rejected")?;
    eq(r.files["exclusions.csv"].accepted, 0, "nothing accepted")?;
    let t = s.registry_counts().await?;
    eq((t["exclusions"], t["suspensions"], t["elders"]), (0, 0, 1), "nothing of a rejected file stored")?;
    Ok(())
}

async fn import_accepts_byte_order_mark_and_any_column_order<S: Store>(s: &S) -> Result<(), Failed> {
    let a = id("1930-06-15", 41);
    let dir = write_dir(&[
        (
            "elders.csv",
            &format!("\u{feff}name,id_number,district_code,birth_date,street_code,hukou_in_date,hukou_out_date,death_date,account_type,account_no\n甲,{a},110102,1930-06-15,110102003,,,,,\n"),
        ),
        ("assessments.csv", &format!("\u{feff}result,assessed_on,id_number\nsevere,2020-01-05,{a}\n")),
    ]);
    let r = import(s, dir.path()).await?;
    eq(r.rejects.len(), 0, "rejects")?;
    let p = s.person(&a).await?.ok_or("missing")?;
    eq(p.registrations[0].name.as_str(), "甲", "name")?;
    eq(p.assessments.len(), 1, "assessment")?;
    Ok(())
}

/// The import writes 2,000 rows per transaction, many per statement; a key repeated in a later
/// chunk is found by the database (the row was already written by this import) and rejected,
/// the first row kept; re-importing the same file later updates instead.
async fn import_finds_duplicate_keys_across_chunks<S: Store>(s: &S) -> Result<(), Failed> {
    let birth = NaiveDate::from_ymd_opt(1930, 1, 1).unwrap();
    let ids: Vec<String> = (0..2_100u32)
        .map(|i| idcard::make("110102", birth + chrono::Days::new(u64::from(i / 1000)), i % 1000))
        .collect();
    let mut text = ELDERS.to_string() + "\n";
    for (i, id) in ids.iter().enumerate() {
        text += &elder(
            id,
            &format!("甲{i}"),
            &(birth + chrono::Days::new(i as u64 / 1000)).to_string(),
            "110102",
            "110102003",
            ",,,,",
        );
    }
    // Line 2,102 repeats the key of line 7 (ids[5]) with another street, in the second chunk.
    text += &elder(&ids[5], "重复", &birth.to_string(), "110102", "110102009", ",,,,");
    let dir = write_dir(&[("elders.csv", &text)]);
    let r = import(s, dir.path()).await?;
    eq(summary(&r), vec![("elders.csv".into(), 2_102, "DUPLICATE_KEY".into())], "the repeated key")?;
    eq(r.files["elders.csv"].accepted, 2_100, "accepted")?;
    let p = s.person(&ids[5]).await?.ok_or("first row missing")?;
    eq(p.registrations[0].street_code.as_str(), "110102003", "the first row is kept")?;
    // A later import of the same file is an update, not a duplicate.
    let again = import(s, dir.path()).await?;
    eq(summary(&again), vec![("elders.csv".into(), 2_102, "DUPLICATE_KEY".into())], "again: only the repeat")?;
    eq(s.registry_counts().await?["elders"], 2_100, "no row twice")?;
    Ok(())
}

/// Issue 11, point 3: re-importing an unchanged registry changes nothing (no person marked for
/// the next correction, no new version); a changed row, a new row and a deleted row are changes,
/// each marking its person once and keeping a version (`person_as_of` shows both states).
async fn import_unchanged_rows_are_read_not_rewritten<S: Store + LedgerStore>(s: &S) -> Result<(), Failed> {
    let (a, b, c) = (id("1930-06-15", 51), id("1931-07-16", 52), id("1932-08-17", 53));
    let rows = |street_a: &str, with_c: bool| {
        let mut text = ELDERS.to_string() + "\n";
        // A backslash in the name: PostgreSQL's COPY text format must escape it, or the row would
        // read back different and count as changed by every import.
        text += &elder(&a, "甲\\乙", "1930-06-15", "110102", street_a, ",,,shebao,1");
        text += &elder(&b, "乙", "1931-07-16", "110102", "110102009", ",,,,");
        if with_c {
            text += &elder(&c, "丙", "1932-08-17", "110102", "110102009", ",,,,");
        }
        text
    };
    let apps =
        format!("id_number,allowance,applied_on,decision,decided_on\n{a},longevity,2019-10-10,approved,2019-10-20\n");
    let first = write_dir(&[("elders.csv", &rows("110102003", false)), ("applications.csv", &apps)]);
    let one = import(s, first.path()).await?.import_id;
    let changes = |v: Vec<(String, i64)>| v.into_iter().collect::<std::collections::BTreeMap<_, _>>();
    eq(
        changes(s.person_changes(subsidy::store::IdRange::ALL).await?),
        [(a.clone(), one), (b.clone(), one)].into(),
        "first import: both new",
    )?;
    // The same files again: nothing changes.
    let two = import(s, first.path()).await?.import_id;
    check(two > one, "a second import")?;
    eq(
        changes(s.person_changes(subsidy::store::IdRange::ALL).await?),
        [(a.clone(), one), (b.clone(), one)].into(),
        "unchanged: nobody marked",
    )?;
    // A's street changes, C is new, B is untouched.
    let third = write_dir(&[("elders.csv", &rows("110102007", true)), ("applications.csv", &apps)]);
    let three = import(s, third.path()).await?.import_id;
    eq(
        changes(s.person_changes(subsidy::store::IdRange::ALL).await?),
        [(a.clone(), three), (b.clone(), one), (c.clone(), three)].into(),
        "the changed and the new person marked, the untouched one not",
    )?;
    let street = |p: Option<subsidy::registry::PersonRecords>| p.map(|p| p.registrations[0].street_code.clone());
    eq(street(s.person_as_of(&a, two).await?).as_deref(), Some("110102003"), "A as it stood")?;
    eq(s.person(&a).await?.map(|p| p.registrations[0].name.clone()).as_deref(), Some("甲\\乙"), "A's name")?;
    eq(street(s.person_as_of(&a, three).await?).as_deref(), Some("110102007"), "A as it stands")?;
    eq(street(s.person_as_of(&b, three).await?).as_deref(), Some("110102009"), "B's only version still read")?;
    // Deleting C is a change; deleting it again is not.
    let gone =
        write_dir(&[("elders.csv", &format!("{ELDERS},deleted\n{c},丙,1932-08-17,110102,110102009,,,,,,true\n"))]);
    let four = import(s, gone.path()).await?.import_id;
    let five = import(s, gone.path()).await?.import_id;
    check(five > four, "two more imports")?;
    eq(changes(s.person_changes(subsidy::store::IdRange::ALL).await?)[&c], four, "C deleted once")?;
    eq(s.person_as_of(&c, four).await?.map(|p| p.registrations.len()), None, "C gone as of the delete")?;
    Ok(())
}

/// The registry fingerprint a batch would record now (the batch row is rolled back).
async fn fingerprint_read<S: LedgerStore>(s: &S) -> Result<String, Failed> {
    let mut tx = s.begin_batch("110102").await?.ok_or("the district's run lock is free")?;
    let fingerprint = tx
        .insert_batch(&NewBatch {
            batch_id: "110102-2020-01-R1".into(),
            district_code: "110102".into(),
            service_month: "2020-01".parse().unwrap(),
            kind: subsidy::ledger::BatchKind::Regular,
            seq: 1,
            run_by: "test".into(),
            computed_at: Utc::now(),
            policy_version: "test".into(),
            reason: None,
        })
        .await?;
    tx.rollback().await?;
    Ok(fingerprint)
}

/// Issue 11, point 6: the registry fingerprint is kept by the imports, never computed by reading
/// the registry. Before any import it is SHA-256 of nothing; an import that writes a row moves it
/// to SHA-256(before, "\n", import id, "\n", its files' SHA-256); an import that writes nothing
/// (the same files again) leaves it; a deletion moves it. A batch records the one of the last
/// finished import.
async fn import_moves_the_registry_fingerprint_only_when_it_writes<S: Store + LedgerStore>(
    s: &S,
) -> Result<(), Failed> {
    let empty = subsidy::digest::EMPTY_REGISTRY;
    eq(fingerprint_read(s).await?.as_str(), empty, "no import yet: the empty registry")?;
    let a = id("1930-01-15", 61);
    let row = format!("{ELDERS}\n{}", elder(&a, "甲", "1930-01-15", "110102", "110102003", ",,,,"));
    let first = write_dir(&[("elders.csv", &row)]);
    let one = import(s, first.path()).await?.import_id;
    let after_one = {
        let files = subsidy::digest::csv_folder_sha256(first.path())?;
        subsidy::digest::sha256_hex(format!("{empty}\n{one}\n{files}").as_bytes())
    };
    eq(fingerprint_read(s).await?, after_one.clone(), "first import: moved on by its files")?;
    import(s, first.path()).await?;
    eq(fingerprint_read(s).await?, after_one.clone(), "the same files again: nothing written, unchanged")?;
    let gone = write_dir(&[(
        "elders.csv",
        &format!("{ELDERS},deleted\n{}", elder(&a, "甲", "1930-01-15", "110102", "110102003", ",,,,,true")),
    )]);
    let three = import(s, gone.path()).await?.import_id;
    let after_three = {
        let files = subsidy::digest::csv_folder_sha256(gone.path())?;
        subsidy::digest::sha256_hex(format!("{after_one}\n{three}\n{files}").as_bytes())
    };
    eq(fingerprint_read(s).await?, after_three, "a deletion is a change: moved on from the one before")?;
    Ok(())
}
