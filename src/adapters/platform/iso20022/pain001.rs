//! The batch as a pain.001.001.09 credit-transfer initiation: one payment instruction (the
//! batch) from the district's payer, one credit transfer per transfer of the batch, in byte order
//! of transfer id like `transfers.csv`.
//!
//! What goes where, and why:
//! - MsgId and PmtInfId are the batch id: one file per batch, so the bank's pain.002 names the
//!   batch it answers (OrgnlMsgId). EndToEndId (and InstrId) is the transfer id, which the bank
//!   sends back per transaction (OrgnlEndToEndId); transfer ids are at most 35 characters by
//!   construction (`ledger::transfer_id`).
//! - CreDtTm is the batch's `computed_at` in Beijing time (+08:00), to the second: the only value
//!   from a clock, stored with the batch, so a repeated export writes the same bytes.
//!   ReqdExctnDt follows the payer's rule ([`execution_date`]), never today.
//! - Amounts are yuan with two decimals from integer fen (`money::format_fen`, exact); CtrlSum is
//!   the sum of the transfers in fen, formatted once.
//! - The creditor is the person: name (Max140Text; Chinese names are short, but a longer one is
//!   cut at 140 *characters*, as the schema counts, never bytes), ID number as a national identity
//!   number (PrvtId/Othr, scheme NIDN) so the bank can check it against the account, and the
//!   account as `Othr/Id` with the account type as a proprietary scheme name. Ids and account
//!   numbers are never cut: a shortened account pays someone else, so it is an error instead.
//! - ChrgBr DEBT: the payer bears the charges, the elder receives the whole allowance.
//! - RmtInf/Ustrd names the allowance and the batch: what the elder reads on the statement.
//!
//! A batch without transfers has no file: the schema requires at least one CdtTrfTxInf.

use super::payer::{execution_date, Payer};
use super::{Iso20022Error, PAIN001_NS};
use crate::codes::Allowance;
use crate::money::format_fen;
use crate::store::{BatchRow, TransferRow};
use chrono::{FixedOffset, SecondsFormat};
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

type Xml = Writer<Vec<u8>>;

/// Writing into a `Vec` cannot fail.
const IN_MEMORY: &str = "in-memory XML write";

/// Beijing time, UTC+8 all year (no daylight saving since 1991).
const BEIJING: i32 = 8 * 3600;

/// The elements the transactions are written inside, outermost first.
const OPEN: [&str; 3] = ["Document", "CstmrCdtTrfInitn", "PmtInf"];

/// The pain.001.001.09 file of `batch`: its `transfers` paid from `payer`'s account, created at
/// the batch's `computed_at`. UTF-8 with an XML declaration, indented by two spaces, LF line ends.
/// (The whole file in memory: [`Pain001`] writes it transfer by transfer.)
pub fn pain001(batch: &BatchRow, transfers: &[TransferRow], payer: &Payer) -> Result<Vec<u8>, Iso20022Error> {
    if transfers.is_empty() {
        return Err(Iso20022Error::NoTransfers(batch.batch_id.clone()));
    }
    execution_date_of(batch, payer)?;
    let mut sorted: Vec<&TransferRow> = transfers.iter().collect();
    sorted.sort_by(|a, b| a.transfer_id.as_bytes().cmp(b.transfer_id.as_bytes()));
    let mut seen = Seen::default();
    for t in &sorted {
        seen.check(batch, t)?;
    }
    let mut file = Pain001::start(batch, payer, seen.count, seen.total_fen)?;
    for t in sorted {
        file.push(t)?;
    }
    file.finish()?;
    let mut bytes = Vec::new();
    file.write_to(&mut bytes).expect("writing to a Vec");
    Ok(bytes)
}

/// A pain.001 file written as the batch's transfers come, in byte order of transfer id, so that
/// memory holds one transfer whatever the batch's size. The group header and the payment
/// information carry the number of transactions and the control sum before the first one: they
/// are given at the start (the export adds them up while writing `transfers.csv`) and checked
/// against the transfers at the end. [`Pain001::write_to`] hands over what is written so far.
pub struct Pain001 {
    xml: Xml,
    batch: BatchRow,
    count: u64,
    total_fen: i64,
    seen: Seen,
}

impl Pain001 {
    /// Check what the file needs of the batch and the payer, and write everything up to the
    /// first transaction, announcing `count` transactions adding up to `control_sum_fen`.
    pub fn start(batch: &BatchRow, payer: &Payer, count: u64, control_sum_fen: i64) -> Result<Pain001, Iso20022Error> {
        let batch_id = &batch.batch_id;
        if count == 0 {
            return Err(Iso20022Error::NoTransfers(batch_id.clone()));
        }
        let date = execution_date_of(batch, payer)?;
        let beijing = FixedOffset::east_opt(BEIJING).expect("valid offset");
        let count_text = count.to_string();
        let control_sum = format_fen(control_sum_fen);
        let created = batch.computed_at.with_timezone(&beijing).to_rfc3339_opts(SecondsFormat::Secs, false);

        let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None))).expect(IN_MEMORY);
        let document = BytesStart::new(OPEN[0]).with_attributes([("xmlns", PAIN001_NS)]);
        w.write_event(Event::Start(document)).expect(IN_MEMORY);
        w.write_event(Event::Start(BytesStart::new(OPEN[1]))).expect(IN_MEMORY);
        node(&mut w, "GrpHdr", |w| {
            leaf(w, "MsgId", batch_id);
            leaf(w, "CreDtTm", &created);
            leaf(w, "NbOfTxs", &count_text);
            leaf(w, "CtrlSum", &control_sum);
            node(w, "InitgPty", |w| leaf(w, "Nm", &payer.name));
        });
        w.write_event(Event::Start(BytesStart::new(OPEN[2]))).expect(IN_MEMORY);
        leaf(&mut w, "PmtInfId", batch_id);
        leaf(&mut w, "PmtMtd", "TRF");
        leaf(&mut w, "NbOfTxs", &count_text);
        leaf(&mut w, "CtrlSum", &control_sum);
        node(&mut w, "ReqdExctnDt", |w| leaf(w, "Dt", &date.format("%Y-%m-%d").to_string()));
        node(&mut w, "Dbtr", |w| leaf(w, "Nm", &payer.name));
        node(&mut w, "DbtrAcct", |w| {
            node(w, "Id", |w| node(w, "Othr", |w| leaf(w, "Id", &payer.account)));
            leaf(w, "Ccy", "CNY");
        });
        node(&mut w, "DbtrAgt", |w| debtor_agent(w, payer));
        leaf(&mut w, "ChrgBr", "DEBT");
        Ok(Pain001 { xml: w, batch: batch.clone(), count, total_fen: control_sum_fen, seen: Seen::default() })
    }

    /// The next transfer (in byte order of transfer id) as a credit transfer.
    pub fn push(&mut self, t: &TransferRow) -> Result<(), Iso20022Error> {
        self.seen.check(&self.batch, t)?;
        credit_transfer(&mut self.xml, &self.batch.batch_id, t);
        Ok(())
    }

    /// Close the file, once the transfers pushed are those announced at the start.
    pub fn finish(&mut self) -> Result<(), Iso20022Error> {
        if (self.seen.count, self.seen.total_fen) != (self.count, self.total_fen) {
            return Err(Iso20022Error::NotAnnounced {
                batch: self.batch.batch_id.clone(),
                problem: format!(
                    "its header announces {} transfers of {}, but {} of {} were written",
                    self.count,
                    format_fen(self.total_fen),
                    self.seen.count,
                    format_fen(self.seen.total_fen)
                ),
            });
        }
        for name in OPEN.iter().rev() {
            self.xml.write_event(Event::End(BytesEnd::new(*name))).expect(IN_MEMORY);
        }
        self.xml.get_mut().push(b'\n');
        Ok(())
    }

    /// Move what is written so far into `out`.
    pub fn write_to(&mut self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let bytes = self.xml.get_mut();
        out.write_all(bytes)?;
        bytes.clear();
        Ok(())
    }
}

/// What the file needs of the batch and the payer, checked before any transfer: the payer pays
/// for the batch's district and can be written, the batch id fits MsgId. Returns the execution date.
fn execution_date_of(batch: &BatchRow, payer: &Payer) -> Result<chrono::NaiveDate, Iso20022Error> {
    let batch_id = &batch.batch_id;
    let payer_problem = |problem: String| Iso20022Error::Payer { batch: batch_id.clone(), problem };
    if payer.district_code != batch.district_code {
        return Err(payer_problem(format!(
            "the batch is district {}'s, the payer given pays for district {}",
            batch.district_code, payer.district_code
        )));
    }
    payer.check().map_err(|(field, problem)| payer_problem(format!("payer `{field}` {problem}")))?;
    let beijing = FixedOffset::east_opt(BEIJING).expect("valid offset");
    let date = execution_date(
        batch.service_month,
        payer.execution_day,
        batch.computed_at.with_timezone(&beijing).date_naive(),
    )
    .ok_or_else(|| payer_problem(format!("no execution date on day {}", payer.execution_day)))?;
    if batch_id.chars().count() > 35 {
        return Err(payer_problem("the batch id is longer than 35 characters (MsgId)".into()));
    }
    Ok(date)
}

/// The transfers checked so far: how many, their sum, the last id (ids must rise: the file's order,
/// and each end-to-end id once).
#[derive(Default)]
struct Seen {
    count: u64,
    total_fen: i64,
    last: Option<String>,
}

impl Seen {
    fn check(&mut self, batch: &BatchRow, t: &TransferRow) -> Result<(), Iso20022Error> {
        check_transfer(batch, t)?;
        match self.last.as_deref().map(|last| t.transfer_id.as_bytes().cmp(last.as_bytes())) {
            Some(std::cmp::Ordering::Equal) => {
                return Err(transfer_problem(t, "appears twice; an end-to-end id must be unique".into()))
            }
            Some(std::cmp::Ordering::Less) => {
                return Err(transfer_problem(
                    t,
                    "comes after a greater transfer id; the file lists them in order".into(),
                ))
            }
            _ => {}
        }
        self.total_fen = self
            .total_fen
            .checked_add(t.amount_fen)
            .ok_or_else(|| transfer_problem(t, "the control sum overflows".into()))?;
        self.count += 1;
        self.last = Some(t.transfer_id.clone());
        Ok(())
    }
}

fn transfer_problem(t: &TransferRow, problem: String) -> Iso20022Error {
    Iso20022Error::Transfer { transfer: t.transfer_id.clone(), problem }
}

/// What the schema requires of a transfer and cannot be repaired by cutting a name.
fn check_transfer(batch: &BatchRow, t: &TransferRow) -> Result<(), Iso20022Error> {
    let bad = |problem: &str| Err(transfer_problem(t, problem.to_string()));
    let id_len = t.transfer_id.chars().count();
    if id_len == 0 || id_len > 35 {
        return bad("the transfer id must be 1 to 35 characters (EndToEndId)");
    }
    if t.batch_id != batch.batch_id {
        return Err(transfer_problem(t, format!("belongs to batch {}, not {}", t.batch_id, batch.batch_id)));
    }
    if t.amount_fen <= 0 {
        return bad("the amount is not positive; only positive nets are transfers");
    }
    let account_len = t.account_no.chars().count();
    if t.account_no.trim().is_empty() || account_len > 34 {
        return bad("the account number must be 1 to 34 characters (Othr/Id); it is never shortened");
    }
    if t.name.trim().is_empty() {
        return bad("the name is empty");
    }
    if t.id_number.chars().count() > 35 {
        return bad("the ID number is longer than 35 characters");
    }
    let fields = [&t.transfer_id, &t.name, &t.account_no, &t.id_number];
    if fields.into_iter().chain(t.account_type.as_ref()).any(|f| f.chars().any(char::is_control)) {
        return bad("a control character in its id, name, account or ID number cannot be written in XML");
    }
    Ok(())
}

fn credit_transfer(w: &mut Xml, batch_id: &str, t: &TransferRow) {
    node(w, "CdtTrfTxInf", |w| {
        node(w, "PmtId", |w| {
            leaf(w, "InstrId", &t.transfer_id);
            leaf(w, "EndToEndId", &t.transfer_id);
        });
        node(w, "Amt", |w| {
            w.create_element("InstdAmt")
                .with_attribute(("Ccy", "CNY"))
                .write_text_content(BytesText::new(&format_fen(t.amount_fen)))
                .expect(IN_MEMORY);
        });
        node(w, "Cdtr", |w| {
            leaf(w, "Nm", &max_chars(&t.name, 140));
            if !t.id_number.is_empty() {
                node(w, "Id", |w| {
                    node(w, "PrvtId", |w| {
                        node(w, "Othr", |w| {
                            leaf(w, "Id", &t.id_number);
                            node(w, "SchmeNm", |w| leaf(w, "Cd", "NIDN"));
                        })
                    })
                });
            }
        });
        node(w, "CdtrAcct", |w| {
            node(w, "Id", |w| {
                node(w, "Othr", |w| {
                    leaf(w, "Id", &t.account_no);
                    if let Some(kind) = t.account_type.as_deref().filter(|k| !k.is_empty()) {
                        node(w, "SchmeNm", |w| leaf(w, "Prtry", &max_chars(kind, 35)));
                    }
                })
            })
        });
        node(w, "RmtInf", |w| leaf(w, "Ustrd", &max_chars(&remittance(&t.allowance, batch_id), 140)));
    });
}

/// The payer's bank, by every identification it has: BIC, CNAPS code, name (schema order).
fn debtor_agent(w: &mut Xml, payer: &Payer) {
    node(w, "FinInstnId", |w| {
        if let Some(bic) = &payer.agent_bic {
            leaf(w, "BICFI", bic);
        }
        if let Some(id) = &payer.agent_member_id {
            node(w, "ClrSysMmbId", |w| {
                node(w, "ClrSysId", |w| leaf(w, "Cd", "CNAPS"));
                leaf(w, "MmbId", id);
            });
        }
        if let Some(name) = &payer.agent_name {
            leaf(w, "Nm", name);
        }
    });
}

/// What the elder reads on the statement: the allowance in Chinese and as coded, and the batch.
fn remittance(allowance: &str, batch_id: &str) -> String {
    let label = match allowance.parse::<Allowance>() {
        Ok(Allowance::Longevity) => "高龄老年人津贴 ",
        Ok(Allowance::Care) => "失能老年人护理补贴 ",
        Ok(Allowance::Hardship) => "困难老年人养老服务补贴 ",
        Err(_) => "",
    };
    format!("{label}{allowance} {batch_id}")
}

/// At most `max` characters (not bytes: ISO 20022 text lengths count characters).
fn max_chars(s: &str, max: usize) -> String {
    s.chars().take(max).collect()
}

fn leaf(w: &mut Xml, name: &str, text: &str) {
    w.create_element(name).write_text_content(BytesText::new(text)).expect(IN_MEMORY);
}

fn node(w: &mut Xml, name: &str, inner: impl FnOnce(&mut Xml)) {
    w.create_element(name)
        .write_inner_content(|w| {
            inner(w);
            Ok(())
        })
        .expect(IN_MEMORY);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ledger::{BatchKind, BatchState};
    use chrono::{DateTime, TimeZone, Utc};

    fn batch(transfers: &[TransferRow]) -> BatchRow {
        BatchRow {
            batch_id: "110102-2020-07-R1".into(),
            district_code: "110102".into(),
            service_month: "2020-07".parse().unwrap(),
            kind: BatchKind::Regular,
            seq: 1,
            state: BatchState::Approved,
            run_by: "operator".into(),
            approved_by: Some("approver".into()),
            policy_version: "beijing-2019-v1".into(),
            registry_fingerprint: "f".repeat(64),
            transfer_count: transfers.len() as i64,
            control_sum_fen: transfers.iter().map(|t| t.amount_fen).sum(),
            lottery_fen: 0,
            district_fen: 0,
            held_fen: 0,
            recovery_fen: 0,
            summary: "{}".into(),
            state_reason: None,
            registry_import_id: 1,
            computed_at: at(),
        }
    }

    fn transfer(seq: u32, name: &str, amount_fen: i64) -> TransferRow {
        TransferRow {
            transfer_id: crate::ledger::transfer_id("110102-2020-07-R1", seq),
            batch_id: "110102-2020-07-R1".into(),
            id_number: "11010219340108006X".into(),
            allowance: "longevity".into(),
            name: name.into(),
            account_type: Some("yanglao_zhucan".into()),
            account_no: format!("62000000000000{seq:04}"),
            amount_fen,
        }
    }

    fn payer() -> Payer {
        super::super::payers_from_toml(super::super::BUILTIN_PAYERS).unwrap().remove(0)
    }

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2020, 6, 25, 18, 0, 7).unwrap() + chrono::Duration::milliseconds(250)
    }

    fn write(transfers: &[TransferRow]) -> String {
        String::from_utf8(pain001(&batch(transfers), transfers, &payer()).unwrap()).unwrap()
    }

    fn three() -> Vec<TransferRow> {
        vec![transfer(3, "王五", 1), transfer(1, "张三", 10_000), transfer(2, "李四", 20_000)]
    }

    #[test]
    fn l4_the_same_batch_writes_the_same_bytes() {
        let t = three();
        let mut reversed = t.clone();
        reversed.reverse();
        assert_eq!(write(&t), write(&t));
        assert_eq!(write(&t), write(&reversed), "the input order does not matter");
    }

    #[test]
    fn f4_the_control_sum_is_exact_in_fen() {
        let xml = write(&three());
        assert_eq!(xml.matches("<CtrlSum>300.01</CtrlSum>").count(), 2, "{xml}");
        assert_eq!(xml.matches("<NbOfTxs>3</NbOfTxs>").count(), 2);
        assert!(xml.contains(r#"<InstdAmt Ccy="CNY">0.01</InstdAmt>"#));
        assert!(xml.contains(r#"<InstdAmt Ccy="CNY">100.00</InstdAmt>"#));
    }

    #[test]
    fn transactions_follow_transfer_id_byte_order_with_the_batch_as_message() {
        let xml = write(&three());
        let ids: Vec<usize> =
            (1..=3).map(|s| xml.find(&format!("<EndToEndId>110102-2020-07-R1-00000{s}")).unwrap()).collect();
        assert!(ids[0] < ids[1] && ids[1] < ids[2]);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Document xmlns=\"urn:iso:std:iso:20022:tech:xsd:pain.001.001.09\">\n"));
        assert!(xml.ends_with("</Document>\n") && !xml.contains('\r'));
        assert!(
            xml.contains("<MsgId>110102-2020-07-R1</MsgId>") && xml.contains("<PmtInfId>110102-2020-07-R1</PmtInfId>")
        );
        assert!(xml.contains("<Ustrd>高龄老年人津贴 longevity 110102-2020-07-R1</Ustrd>"));
        assert!(xml.contains("<Prtry>yanglao_zhucan</Prtry>") && xml.contains("<Cd>NIDN</Cd>"));
    }

    #[test]
    fn t1_creation_time_is_the_batch_s_in_beijing_time_and_the_execution_date_follows_the_rule() {
        let xml = write(&three());
        assert!(xml.contains("<CreDtTm>2020-06-26T02:00:07+08:00</CreDtTm>"), "{xml}");
        assert!(xml.contains("<ReqdExctnDt>\n        <Dt>2020-06-28</Dt>"), "{xml}");
    }

    #[test]
    fn a_batch_without_transfers_has_no_file() {
        let err = pain001(&batch(&[]), &[], &payer()).unwrap_err();
        assert!(err.to_string().contains("110102-2020-07-R1 has no transfers"), "{err}");
    }

    #[test]
    fn names_are_escaped_and_cut_by_characters_never_accounts() {
        let mut t = transfer(1, &"名".repeat(150), 100);
        t.name.push_str("&<");
        let xml = write(&[t.clone(), transfer(2, "A&B <C>", 100)]);
        assert!(xml.contains(&format!("<Nm>{}</Nm>", "名".repeat(140))));
        assert!(xml.contains("<Nm>A&amp;B &lt;C&gt;</Nm>"));
        t.account_no = "1".repeat(35);
        let err = pain001(&batch(&[t.clone()]), &[t], &payer()).unwrap_err();
        assert!(err.to_string().contains("110102-2020-07-R1-000001: the account number must be 1 to 34"), "{err}");
    }

    #[test]
    fn a_payer_of_another_district_or_a_duplicate_transfer_is_refused() {
        let t = three();
        let mut other = payer();
        other.district_code = "110101".into();
        let err = pain001(&batch(&t), &t, &other).unwrap_err().to_string();
        assert!(err.contains("district 110102's, the payer given pays for district 110101"), "{err}");
        let twice = vec![transfer(1, "张三", 100), transfer(1, "张三", 100)];
        let err = pain001(&batch(&twice), &twice, &payer()).unwrap_err().to_string();
        assert!(err.contains("appears twice"), "{err}");
    }
}
