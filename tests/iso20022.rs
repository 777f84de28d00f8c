//! The ISO 20022 adapter against the published schemas (`schemas/iso20022/`, copied into the
//! repository so that any checkout validates offline): the pain.001 the engine writes, and the
//! pain.002 example it reads, each checked with `xmllint --schema`. Without xmllint these tests
//! fail, never pass quietly: install Debian's libxml2-utils. The example pain.002 and the CSV
//! result file beside it (`fixtures/platform/`) must say the same thing.

use chrono::{TimeZone, Utc};
use std::path::{Path, PathBuf};
use std::process::Command;
use subsidy::adapters::platform::iso20022::{pain001, pain002, payers_from_toml, Payer, BUILTIN_PAYERS};
use subsidy::ledger::{transfer_id, BatchKind, BatchState, FaultCode, TransferStatus};
use subsidy::store::{BatchRow, TransferRow};

const BATCH: &str = "110102-2020-07-R1";

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// `xmllint --noout --schema XSD FILE`, failing the test with xmllint's words.
fn validate(xsd: &str, file: &Path) {
    let schema = repo("schemas/iso20022").join(xsd);
    let out = match Command::new("xmllint").arg("--noout").arg("--schema").arg(&schema).arg(file).output() {
        Ok(out) => out,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "xmllint is not installed, so the ISO 20022 files cannot be checked against their schema: \
             install Debian's libxml2-utils (apt-get install -y libxml2-utils)"
        ),
        Err(e) => panic!("cannot run xmllint: {e}"),
    };
    assert!(
        out.status.success(),
        "{} is not valid against {xsd}:\n{}",
        file.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn payer() -> Payer {
    payers_from_toml(BUILTIN_PAYERS).expect("built-in payers").remove(0)
}

fn transfer(seq: u32, name: &str, account_type: Option<&str>, allowance: &str, amount_fen: i64) -> TransferRow {
    TransferRow {
        transfer_id: transfer_id(BATCH, seq),
        batch_id: BATCH.into(),
        id_number: format!("1101021934010800{seq:02}"),
        allowance: allowance.into(),
        name: name.into(),
        account_type: account_type.map(str::to_string),
        account_no: format!("621700000011010200{seq:02}"),
        amount_fen,
    }
}

fn transfers() -> Vec<TransferRow> {
    vec![
        transfer(2, "李秀英", Some("minzheng"), "care", 60_000),
        transfer(1, "王建国", Some("yanglao_zhucan"), "longevity", 10_000),
        transfer(3, "欧阳 & 子<明>", None, "hardship", 1),
        transfer(4, "张伟", Some("shebao"), "longevity", 50_000),
    ]
}

fn batch(transfers: &[TransferRow]) -> BatchRow {
    BatchRow {
        batch_id: BATCH.into(),
        district_code: "110102".into(),
        service_month: "2020-07".parse().unwrap(),
        kind: BatchKind::Regular,
        seq: 1,
        state: BatchState::Approved,
        run_by: "operator".into(),
        approved_by: Some("approver".into()),
        policy_version: "beijing-2019-v1".into(),
        registry_fingerprint: "0".repeat(64),
        transfer_count: transfers.len() as i64,
        control_sum_fen: transfers.iter().map(|t| t.amount_fen).sum(),
        lottery_fen: 0,
        district_fen: 0,
        held_fen: 0,
        recovery_fen: 0,
        summary: "{}".into(),
        state_reason: None,
        registry_import_id: 1,
        computed_at: Utc.with_ymd_and_hms(2020, 6, 25, 18, 0, 0).unwrap(),
    }
}

fn written() -> Vec<u8> {
    let t = transfers();
    pain001(&batch(&t), &t, &payer()).expect("pain.001")
}

#[test]
fn l4_the_pain001_of_a_batch_is_valid_against_the_schema_and_repeats_byte_for_byte() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join(format!("{BATCH}-pain001.xml"));
    let bytes = written();
    std::fs::write(&file, &bytes).unwrap();
    validate("pain.001.001.09.xsd", &file);
    assert_eq!(written(), bytes);
    let xml = String::from_utf8(bytes).unwrap();
    assert!(xml.contains("<CtrlSum>1200.01</CtrlSum>"), "100.00 + 600.00 + 0.01 + 500.00");
    assert!(xml.contains("<Nm>欧阳 &amp; 子&lt;明&gt;</Nm>"));
}

#[test]
fn the_example_pain002_is_valid_against_the_schema() {
    validate("pain.002.001.12.xsd", &repo("fixtures/platform/pain002-example.xml"));
}

#[test]
fn l3_the_example_pain002_says_what_the_example_csv_result_file_says() {
    let xml = std::fs::read(repo("fixtures/platform/pain002-example.xml")).unwrap();
    let from_xml: Vec<_> = pain002(&xml)
        .expect("the example reads")
        .into_iter()
        .map(|r| (r.transfer_id, r.status, r.fault, r.reason))
        .collect();
    let mut csv = csv::Reader::from_path(repo("fixtures/platform/results-example.csv")).unwrap();
    assert_eq!(csv.headers().unwrap(), vec!["transfer_id", "status", "reason_code", "reason"]);
    let from_csv: Vec<_> = csv
        .records()
        .map(|r| {
            let r = r.unwrap();
            let status = TransferStatus::parse(&r[1]).expect("a status");
            let fault = (!r[2].is_empty()).then(|| FaultCode::parse(&r[2]).expect("a reason code"));
            let reason = (!r[3].is_empty()).then(|| r[3].to_string());
            (r[0].to_string(), status, fault, reason)
        })
        .collect();
    assert_eq!(from_xml, from_csv);
    let statuses: Vec<TransferStatus> = from_xml.iter().map(|r| r.1).collect();
    use TransferStatus::*;
    assert_eq!(statuses, [Paid, Failed, Failed, Returned, Paid], "each kind of answer is in the example");
}

#[test]
fn the_pain001_the_engine_wrote_is_not_taken_for_the_bank_s_answer() {
    let err = pain002(&written()).unwrap_err().to_string();
    assert!(err.contains("pain.001.001.09 credit-transfer initiation (the payment file sent to the bank)"), "{err}");
}
