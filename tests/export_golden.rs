//! Golden bytes of `export` (issue 11, point 5): a generated registry of 3,000 elders (seed 7),
//! March 2020 run, approved and exported as CSV with pain.001 and again as GB18030; then a few
//! corrections imported (five deaths in February: recovery items; two held persons given an
//! account: their held months paid as arrears; three care reassessments) and April run, approved
//! and exported the same two ways. Every exported file's SHA-256 must equal the constants below,
//! on SQLite and, when `SUBSIDY_TEST_PG_URL` is set, on PostgreSQL; `verify` passes on each folder.
//! Before each month's exports, an export whose files cannot be written to the end (a file size
//! limit) leaves the batch approved and nothing in its folder.
//!
//! The constants were captured from the export that held every file in memory, before export and
//! verify were made to stream (constant memory whatever the batch's size). They guard what the
//! streaming must keep: the same file names and bytes (row order, quoting, amounts, GB18030), the
//! same manifest (sizes, rows, SHA-256 of each file) and the same pain.001 file, on both databases.
//!
//! One value changed on purpose since: the manifest's `registry_fingerprint` (issue 11, point 6).
//! It was the hash of every person record a batch read; it is now kept incrementally by the
//! imports (the fingerprint before, the import's id and its files' SHA-256). The test checks it
//! against that chain, computed here from the two imported folders, and hashes each manifest with
//! the value blanked (64 zeros): the four manifests' constants were taken that way, everything
//! else in them (sizes, rows, each file's SHA-256, the policy version) as before.
//!
//! The only value from a clock in these files is pain.001's CreDtTm, the batch's `computed_at` to
//! the second: each command runs at a fixed instant (`SUBSIDY_NOW`) and the run's `computed_at` is
//! set to the run's instant exactly, so that the milliseconds a process takes to start cannot
//! carry it into the next second.

mod cli_support;

use cli_support::{bin, PgDatabase};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};

/// The date the rules see: after every date the generator writes (2020-12-31 at the latest).
const TODAY: &str = "2021-01-15";

/// Run `subsidy` at the instant `now` (Beijing time) on `db`.
fn at(db: &str, now: &str, args: &[&str]) -> Output {
    Command::new(bin())
        .env("DATABASE_URL", db)
        .env("USER", "golden")
        .env("SUBSIDY_TODAY", TODAY)
        .env("SUBSIDY_NOW", now)
        .env_remove("SUBSIDY_DISTRICT")
        .args(args)
        .output()
        .expect("run subsidy")
}

fn ok(out: Output) -> String {
    cli_support::ok(&out)
}

/// Set a batch's `computed_at` to `instant` (RFC 3339), on either database.
fn pin_computed_at(db: &str, batch: &str, instant: &str) {
    let at = chrono::DateTime::parse_from_rfc3339(instant).unwrap().with_timezone(&chrono::Utc);
    let sql = "update batches set computed_at = $1 where batch_id = $2";
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let changed = rt.block_on(async {
        if db.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(db).await.unwrap();
            let n = sqlx::query(sql).bind(at).bind(batch).execute(&pool).await.unwrap().rows_affected();
            pool.close().await;
            n
        } else {
            let pool = sqlx::PgPool::connect(db).await.unwrap();
            let n = sqlx::query(sql).bind(at).bind(batch).execute(&pool).await.unwrap().rows_affected();
            pool.close().await;
            n
        }
    });
    assert_eq!(changed, 1, "batch {batch} not found");
}

/// The corrections imported before April: five elders paid in March die on 2020-02-10 (their
/// February and March are recovered), two elders held for want of an account get one (their held
/// months are paid), three elders paid care in March are reassessed moderate in December 2019.
fn corrections(registry: &Path, dir: &Path) {
    const DEAD: [&str; 5] =
        ["110101192402212847", "110101192702025269", "110101193003150970", "110101193008033503", "110101193101161761"];
    const GIVEN_ACCOUNT: [&str; 2] = ["110101193204290371", "110101193512107778"];
    const REASSESSED: [&str; 3] = ["110101193006160402", "110101193307118283", "110101193508097642"];
    let elders = std::fs::read_to_string(registry.join("elders.csv")).unwrap();
    let header = elders.lines().next().unwrap();
    let mut out = format!("{header}\n");
    for id in DEAD.iter().chain(&GIVEN_ACCOUNT) {
        let row = elders.lines().find(|l| l.starts_with(&format!("{id},"))).expect("elder in the registry");
        let mut cells: Vec<String> = row.split(',').map(str::to_string).collect();
        if DEAD.contains(id) {
            cells[7] = "2020-02-10".into();
        } else {
            assert_eq!(cells[9], "", "{id} has no account in the generated registry");
            (cells[8], cells[9]) = ("shebao".into(), "6217000000000009999".into());
        }
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("elders.csv"), out).unwrap();
    let assessments: String = REASSESSED.iter().map(|id| format!("{id},2019-12-01,moderate\n")).collect();
    std::fs::write(dir.join("assessments.csv"), format!("id_number,assessed_on,result\n{assessments}")).unwrap();
}

/// Run, approve and export `month`'s batch into `<month>-pain001` (UTF-8 CSV and pain.001) and
/// `<month>-gb18030` (GB18030 CSV); verify both folders. `day` is the run's day in March or April.
fn month(db: &str, dir: &Path, month: &str, day: &str) {
    let batch = format!("110102-{month}-R1");
    let run_at = format!("{day}T02:00:00+08:00");
    ok(at(db, &run_at, &["run", "--month", month, "--by", "operator"]));
    pin_computed_at(db, &batch, &run_at);
    ok(at(db, &format!("{day}T09:00:00+08:00"), &["approve", "--batch", &batch, "--by", "reviewer"]));
    #[cfg(unix)]
    export_failing_part_way(db, dir, &batch, &format!("{day}T09:30:00+08:00"));
    let payers = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/payers.toml");
    let pain001 = dir.join(format!("{month}-pain001"));
    let gb18030 = dir.join(format!("{month}-gb18030"));
    let (pain001_s, gb18030_s) = (pain001.display().to_string(), gb18030.display().to_string());
    let export_at = format!("{day}T10:00:00+08:00");
    let payers = payers.display().to_string();
    let export = |out: &str, how: &[&str]| {
        let args = [&["export", "--batch", &batch, "--by", "exporter", "--out", out][..], how].concat();
        ok(at(db, &export_at, &args));
    };
    export(&pain001_s, &["--format", "pain001", "--payers", &payers]);
    export(&gb18030_s, &["--encoding", "gb18030"]);
    for folder in [&pain001_s, &gb18030_s] {
        ok(at(db, &export_at, &["verify", "--batch", &batch, "--dir", folder]));
    }
}

/// An export whose files cannot be written to the end (the process may write no file over 100 KiB:
/// `transfers.csv` is written whole, `lines.csv` fails part-way) exits 1 saying nothing was
/// exported: the batch stays approved and the folder holds nothing, not even a temporary file.
#[cfg(unix)]
fn export_failing_part_way(db: &str, dir: &Path, batch: &str, now: &str) {
    let out = dir.join("failing");
    let o = out.display().to_string();
    // SIGXFSZ ignored: a write over the limit fails (EFBIG) instead of killing the process.
    let failed = Command::new("sh")
        .args(["-c", "trap '' XFSZ; ulimit -f 200; exec \"$0\" \"$@\"", bin()])
        .args(["export", "--batch", batch, "--by", "exporter", "--out", &o])
        .env("DATABASE_URL", db)
        .env("USER", "golden")
        .env("SUBSIDY_TODAY", TODAY)
        .env("SUBSIDY_NOW", now)
        .env_remove("SUBSIDY_DISTRICT")
        .output()
        .expect("run subsidy under a file size limit");
    let stderr = String::from_utf8_lossy(&failed.stderr);
    assert_eq!(failed.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(&format!("nothing was exported: batch {batch} stays approved")), "{stderr}");
    assert!(stderr.contains(&format!("{batch}-lines.csv")), "the file that failed is named: {stderr}");
    let left: Vec<_> = std::fs::read_dir(&out).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "files left by the failed export: {left:?}");
    let status = ok(at(db, now, &["--json", "status"]));
    let status: serde_json::Value = serde_json::from_str(&status).unwrap();
    let state = status["batches"].as_array().unwrap().iter().find(|b| b["batch_id"] == batch).unwrap()["state"].clone();
    assert_eq!(state, "approved", "the batch after the failed export");
}

/// The registry fingerprint an import with id `import_id` of `folder` leaves after `before`.
fn next_fingerprint(before: &str, import_id: i64, folder: &Path) -> String {
    let files = subsidy::digest::csv_folder_sha256(folder).unwrap();
    subsidy::digest::sha256_hex(format!("{before}\n{import_id}\n{files}").as_bytes())
}

/// A manifest with its registry fingerprint checked against `fingerprints` (by service month) and
/// blanked.
fn blank_fingerprint(name: &str, bytes: Vec<u8>, fingerprints: &BTreeMap<&str, String>) -> Vec<u8> {
    let text = String::from_utf8(bytes).unwrap();
    let value: serde_json::Value = serde_json::from_str(&text).unwrap();
    let month = &name[..7];
    let got = value["registry_fingerprint"].as_str().unwrap();
    assert_eq!(got, fingerprints[month], "{name}: the registry fingerprint of the import the batch read");
    text.replace(got, &"0".repeat(64)).into_bytes()
}

/// Folder/file → SHA-256 of every file exported in `dir` (manifests with their registry
/// fingerprint checked and blanked).
fn hashes(dir: &Path, fingerprints: &BTreeMap<&str, String>) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    for folder in std::fs::read_dir(dir).unwrap() {
        let folder = folder.unwrap().path();
        let name = folder.file_name().unwrap().to_string_lossy().to_string();
        if !name.ends_with("-pain001") && !name.ends_with("-gb18030") {
            continue;
        }
        for file in std::fs::read_dir(&folder).unwrap() {
            let file = file.unwrap().path();
            let mut bytes = std::fs::read(&file).unwrap();
            let file_name = file.file_name().unwrap().to_string_lossy().to_string();
            if file_name.ends_with("-manifest.json") {
                bytes = blank_fingerprint(&name, bytes, fingerprints);
            }
            out.insert(format!("{name}/{file_name}"), hex::encode(Sha256::digest(&bytes)));
        }
    }
    out
}

fn session(db: &str, dir: &Path) {
    let registry = dir.join("registry");
    let registry_s = registry.display().to_string();
    ok(at(db, "2021-01-15T08:00:00+08:00", &["generate", "--elders", "3000", "--seed", "7", "--out", &registry_s]));
    ok(at(db, "2020-03-20T08:00:00+08:00", &["init", "--start-month", "2020-01"]));
    ok(at(db, "2020-03-20T08:10:00+08:00", &["import", &registry_s]));
    month(db, dir, "2020-03", "2020-03-26");
    let fixes = dir.join("corrections");
    corrections(&registry, &fixes);
    ok(at(db, "2020-04-20T08:00:00+08:00", &["import", &fixes.display().to_string()]));
    month(db, dir, "2020-04", "2020-04-26");

    // Import 1 is the registry (read by March), import 2 the corrections (read by April).
    let march = next_fingerprint(subsidy::digest::EMPTY_REGISTRY, 1, &registry);
    let april = next_fingerprint(&march, 2, &fixes);
    let got = hashes(dir, &[("2020-03", march), ("2020-04", april)].into());
    let want: BTreeMap<String, String> = GOLDEN.iter().map(|(f, h)| (f.to_string(), h.to_string())).collect();
    if got != want {
        let table: String = got.iter().map(|(f, h)| format!("    (\"{f}\", \"{h}\"),\n")).collect();
        panic!("the exported files differ from the golden hashes on {db}; the files now:\n{table}");
    }
}

/// SHA-256 of every exported file, captured before the streaming change; the manifests' with the
/// registry fingerprint blanked (see the module's doc).
const GOLDEN: [(&str, &str); 26] = [
    ("2020-03-gb18030/110102-2020-03-R1-held.csv", "6f4cec4f26a7330293e46fef8a75c1878c5c7fdaa42116d06a57577c311aed60"),
    ("2020-03-gb18030/110102-2020-03-R1-lines.csv", "4cdb0a15efeeb87a510b3e1d73bcd2d4016645c581683695fea838f94abba658"),
    (
        "2020-03-gb18030/110102-2020-03-R1-manifest.json",
        "657370ee85595c7e0171c9ed2e20ea05a8754b8a66d29c35d1fca9a5248423c6",
    ),
    (
        "2020-03-gb18030/110102-2020-03-R1-order.json",
        "4134ab60f581ec51949cb94122028ef0dd67a941d8bb569e8ad2c788382003c1",
    ),
    (
        "2020-03-gb18030/110102-2020-03-R1-recoveries.csv",
        "81aa37c00d2ff7feaeb759a47ceb040e3033e491e204b3a49a480577fa3d494f",
    ),
    (
        "2020-03-gb18030/110102-2020-03-R1-transfers.csv",
        "c1e32d4b6cf8fe4629db29b705af4bbfc1a1226afe65b99efe4c151197304272",
    ),
    ("2020-03-pain001/110102-2020-03-R1-held.csv", "d1241ec171d45fd47858f0af4bf3fc36ec3dbc2307c55cee5f11ed4a30aef520"),
    ("2020-03-pain001/110102-2020-03-R1-lines.csv", "4cdb0a15efeeb87a510b3e1d73bcd2d4016645c581683695fea838f94abba658"),
    (
        "2020-03-pain001/110102-2020-03-R1-manifest.json",
        "dd24e58b437c32e9eb74e59f86e4adf9e4a7a64bd9a804f5bdc8dee729011321",
    ),
    (
        "2020-03-pain001/110102-2020-03-R1-order.json",
        "4134ab60f581ec51949cb94122028ef0dd67a941d8bb569e8ad2c788382003c1",
    ),
    (
        "2020-03-pain001/110102-2020-03-R1-pain001.xml",
        "f00d318bd96a7e082373daf0af7155273d0b283117f6dbef7d6efcd07f2712b9",
    ),
    (
        "2020-03-pain001/110102-2020-03-R1-recoveries.csv",
        "81aa37c00d2ff7feaeb759a47ceb040e3033e491e204b3a49a480577fa3d494f",
    ),
    (
        "2020-03-pain001/110102-2020-03-R1-transfers.csv",
        "f7f7f8dc99c676df450c69b359b7e88c01fa8e40b967398d04d5a3607f791bfe",
    ),
    ("2020-04-gb18030/110102-2020-04-R1-held.csv", "a207ce0482d172b7525b06a0b7d46d8333d34c073e52f7451591ff5e644a61de"),
    ("2020-04-gb18030/110102-2020-04-R1-lines.csv", "0305ee3f42c711928ab6853f53a97987d9268a5c942e494e304a28191c281f19"),
    (
        "2020-04-gb18030/110102-2020-04-R1-manifest.json",
        "b4588348a7bde38120c6e30a4c5e8e35361291120e83be92dc6cccddd8647623",
    ),
    (
        "2020-04-gb18030/110102-2020-04-R1-order.json",
        "50d2239509f4aed0e9ac252dc4e5ccdb92b7661ffd4a2ec505756104fd145845",
    ),
    (
        "2020-04-gb18030/110102-2020-04-R1-recoveries.csv",
        "6e5d49bb2be27a9bc5f34cb638be79eff9ec50f73e868bc67a72e164a5fc64ac",
    ),
    (
        "2020-04-gb18030/110102-2020-04-R1-transfers.csv",
        "72e9b003e6ec7eaadc034c4ebf275c518eb8a2e040e1469aa839d4a02a364d15",
    ),
    ("2020-04-pain001/110102-2020-04-R1-held.csv", "10254b3d53fd770c79e45fadf0de16b50a87b596a64ecb0fdb6d3d86b1b1c6ba"),
    ("2020-04-pain001/110102-2020-04-R1-lines.csv", "0305ee3f42c711928ab6853f53a97987d9268a5c942e494e304a28191c281f19"),
    (
        "2020-04-pain001/110102-2020-04-R1-manifest.json",
        "89368e6499f4e746a287b3ca7168b7de898710e9b2f82b9b68b3dddac11502d4",
    ),
    (
        "2020-04-pain001/110102-2020-04-R1-order.json",
        "50d2239509f4aed0e9ac252dc4e5ccdb92b7661ffd4a2ec505756104fd145845",
    ),
    (
        "2020-04-pain001/110102-2020-04-R1-pain001.xml",
        "1aae09a5afc5f4e6afd2188288816216f8a8109449bb0e552c5923ffddf0dc17",
    ),
    (
        "2020-04-pain001/110102-2020-04-R1-recoveries.csv",
        "8a2e2a0f57580ebc09d5317dfc5281917c4dd11884e93011f0b3ed1d75951953",
    ),
    (
        "2020-04-pain001/110102-2020-04-R1-transfers.csv",
        "6cb1b2b385107e7337a5be55ec10a214cf7d7670e8e17386a51de37adbea718d",
    ),
];

#[test]
fn export_writes_the_golden_bytes_on_sqlite() {
    let tmp = tempfile::tempdir().unwrap();
    session(&format!("sqlite://{}", tmp.path().join("golden.db").display()), tmp.path());
}

#[test]
fn export_writes_the_golden_bytes_on_postgres() {
    let Some(pg) = PgDatabase::fresh("export_golden") else { return };
    let tmp = tempfile::tempdir().unwrap();
    session(&pg.url, tmp.path());
}
