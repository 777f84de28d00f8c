//! Issue 9, point 5: `export --encoding gb18030` writes the platform's CSV files in the GBK family
//! Chinese bank systems read, with every character kept (GB18030 encodes all of Unicode, so a rare
//! character in a name survives as four bytes), the manifest naming the encoding, and `verify`
//! rendering in the encoding the folder's manifest names.

use crate::ops::{import_approved_for_longevity, init_2020};
use crate::scenario::{clock, month, Elder, DISTRICT, OPERATOR, REVIEWER};
use crate::support::{check, eq};
use libtest_mimic::Failed;
use subsidy::adapters::registry_csv::encoding::Encoding;
use subsidy::ops;
use subsidy::ops::run::RunOrder;
use subsidy::store::{LedgerStore, Store};

pub fn cases() -> Vec<crate::support::Case> {
    crate::cases![export_gb18030_keeps_every_character_and_the_manifest_names_it]
}

/// An elder of 84 in 2020, approved for longevity (R2: 80-89, 100.00 a month), whose name has a
/// character outside GBK (𠀀, CJK extension B: four bytes in GB18030) and one of extension A (䶮).
fn rare() -> Elder {
    Elder::new("钱𠀀䶮", "1935-04-01", 202, "110102007", "shebao", "6217000000000000022")
}

const BATCH: &str = "110102-2020-01-R1";

fn file(dir: &std::path::Path, suffix: &str) -> Result<Vec<u8>, Failed> {
    Ok(std::fs::read(dir.join(format!("{BATCH}-{suffix}")))?)
}

fn manifest(dir: &std::path::Path) -> Result<serde_json::Value, Failed> {
    Ok(serde_json::from_slice(&file(dir, "manifest.json")?)?)
}

/// January 2020 for the rare-named elder, exported in both encodings: the GB18030 CSV files are
/// the UTF-8 ones transcoded (decoding them gives the same text, the name included), the JSON
/// files are the same bytes, each manifest names its encoding and the SHA-256 of its own bytes,
/// `verify` finds both folders right and a UTF-8 file in the GB18030 folder wrong, and exporting
/// again writes the same bytes.
async fn export_gb18030_keeps_every_character_and_the_manifest_names_it<S: Store + LedgerStore>(
    s: &S,
) -> Result<(), Failed> {
    init_2020(s).await?;
    let _registry = import_approved_for_longevity(s, &rare()).await?;
    let order = RunOrder { district: Some(DISTRICT), month: month("2020-01"), by: OPERATOR, dry_run: false };
    ops::run::run(s, &order, clock(), |_| {}).await?;
    ops::approve::approve(s, BATCH, REVIEWER, clock()).await?;

    let (gbk, utf8) = (tempfile::tempdir()?, tempfile::tempdir()?);
    ops::export::export_as(s, BATCH, gbk.path(), OPERATOR, Encoding::Gb18030, clock()).await?;
    ops::export::export_as(s, BATCH, utf8.path(), OPERATOR, Encoding::Utf8, clock()).await?;

    // transfers.csv: one transfer of 100.00 (R2, 80-89) to the rare-named elder.
    let text = String::from_utf8(file(utf8.path(), "transfers.csv")?)?;
    let expected = format!(
        "transfer_id,id_number,name,account_type,account_no,allowance,amount\n\
         {BATCH}-000001,{},钱𠀀䶮,shebao,6217000000000000022,longevity,100.00\n",
        rare().id
    );
    eq(text.as_str(), expected.as_str(), "the UTF-8 transfers file")?;
    for suffix in ["transfers.csv", "lines.csv", "held.csv", "recoveries.csv"] {
        let bytes = file(gbk.path(), suffix)?;
        let (decoded, _, malformed) = encoding_rs::GB18030.decode(&bytes);
        check(!malformed, format!("{suffix} decodes as GB18030"))?;
        eq(decoded.as_bytes(), file(utf8.path(), suffix)?.as_slice(), &format!("{suffix}: the same text"))?;
    }
    let gbk_transfers = file(gbk.path(), "transfers.csv")?;
    check(std::str::from_utf8(&gbk_transfers).is_err(), "the GB18030 file is not the UTF-8 bytes")?;
    // 钱 is two bytes of GBK (C7 AE); 𠀀 (U+20000) is four bytes of GB18030: its offset from
    // U+10000 is 65,536 = 5 × 12,600 + 2 × 1,260 + 1 × 10 + 6, so 0x90+5, 0x30+2, 0x81+1, 0x30+6.
    // (䶮 round-trips through the decoding check above.)
    let name_bytes: &[u8] = &[0xC7, 0xAE, 0x95, 0x32, 0x82, 0x36];
    check(gbk_transfers.windows(name_bytes.len()).any(|w| w == name_bytes), "the name's GB18030 bytes")?;
    eq(file(gbk.path(), "order.json")?, file(utf8.path(), "order.json")?, "the payment order is the same JSON")?;

    for (dir, name) in [(gbk.path(), "gb18030"), (utf8.path(), "utf-8")] {
        let m = manifest(dir)?;
        eq(m["encoding"].as_str(), Some(name), "the manifest names the encoding")?;
        let listed = m["files"].as_array().ok_or("manifest files")?;
        let transfers = listed.iter().find(|f| f["name"] == format!("{BATCH}-transfers.csv")).ok_or("listed")?;
        let bytes = file(dir, "transfers.csv")?;
        eq(transfers["sha256"].as_str(), Some(subsidy::digest::sha256_hex(&bytes).as_str()), "its own bytes")?;
        eq(transfers["bytes"].as_u64(), Some(bytes.len() as u64), "size")?;
        let (_, problems) = ops::verify::verify_batch(s, BATCH, dir).await?;
        eq(problems, Vec::<String>::new(), &format!("verify of the {name} folder"))?;
    }

    // Exporting again in GB18030 writes byte-identical files.
    let again = tempfile::tempdir()?;
    ops::export::export_as(s, BATCH, again.path(), OPERATOR, Encoding::Gb18030, clock()).await?;
    for suffix in ["transfers.csv", "lines.csv", "manifest.json"] {
        eq(file(again.path(), suffix)?, file(gbk.path(), suffix)?, &format!("{suffix} exported again"))?;
    }

    // A UTF-8 transfers file in the GB18030 folder is a difference.
    std::fs::write(gbk.path().join(format!("{BATCH}-transfers.csv")), text.as_bytes())?;
    let (_, problems) = ops::verify::verify_batch(s, BATCH, gbk.path()).await?;
    // Line 2, the name's, differs; decoded and masked, both look the same and the sentence says why.
    let row = format!(
        "{BATCH}-000001,{},钱𠀀䶮,shebao,6217***********0022,longevity,100.00",
        subsidy::idcard::mask(&rare().id)
    );
    let want = format!(
        "{BATCH}-transfers.csv differs from the database at line 2 (of 2 expected): on disk \"{row}\", expected \"{row}\" \
         (the same once shown: the bytes differ in the encoding or in masked digits) \
         ({} bytes on disk, {} expected; sha256 {} on disk)",
        text.len(),
        gbk_transfers.len(),
        subsidy::digest::sha256_hex(text.as_bytes())
    );
    eq(problems, vec![want], "one difference, its row named")?;
    Ok(())
}
