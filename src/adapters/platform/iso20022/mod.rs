//! ISO 20022 for the payment platform: the batch as a credit-transfer initiation the paying
//! office sends its bank (pain.001.001.09, [`pain001`]), and the bank's answer per transaction
//! read back as the core's [`TransferResult`](crate::ledger::TransferResult)s (pain.002.001.12,
//! [`pain002`]). These are the generic ISO versions of `schemas/iso20022/`, not a SEPA profile:
//! accounts are `Othr/Id`, the currency CNY.
//!
//! Why a second format beside the CSV files: banks take pain.001 directly and answer in pain.002,
//! so a district whose bank speaks ISO 20022 needs no hand conversion either way; and the schema
//! lets anyone check a file (`xmllint --schema`) before it leaves. The CSV files stay the
//! reference (INTERFACE.md); the XML says the same thing: one transaction per transfer, the
//! transfer id as end-to-end id, the same amounts.
//!
//! Both files are written and read with quick-xml's events, never by pasting strings, so escaping
//! is the library's. The writer is deterministic: the same batch, transfers and payer give the
//! same bytes; the only value from a clock is the batch's own `computed_at`, stored with it.
//! Who pays ([`Payer`]) is configuration, one entry per district ([`payer`]).

mod pain001;
mod pain002;
pub mod payer;

pub use pain001::{pain001, Pain001};
pub use pain002::{pain002, pain002_report, NotFinal, Pain002Failure, Pain002Reader, Pain002Report};
pub use payer::{execution_date, payer_for, payers_from_toml, Payer, PayerError, BUILTIN_PAYERS};

/// Namespace of the credit-transfer initiation the engine writes.
pub const PAIN001_NS: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";
/// Namespace of the payment status report the engine reads.
pub const PAIN002_NS: &str = "urn:iso:std:iso:20022:tech:xsd:pain.002.001.12";

/// Why a pain.001 file cannot be written, or a pain.002 file cannot be read. Each message names
/// where (batch, transfer, or line and transaction of the file) and what to do.
#[derive(Debug, thiserror::Error)]
pub enum Iso20022Error {
    /// pain.001 requires at least one credit transfer per payment instruction.
    #[error(
        "batch {0} has no transfers, so it has no pain.001 file (ISO 20022 requires at least one \
         credit transfer); export its CSV files only"
    )]
    NoTransfers(String),
    /// The payer given does not pay for the batch's district, or cannot be written.
    #[error("batch {batch}: {problem}")]
    Payer {
        /// The batch.
        batch: String,
        /// What is wrong.
        problem: String,
    },
    /// A transfer the schema cannot carry (an id over 35 characters, an empty account …).
    #[error("transfer {transfer}: {problem}")]
    Transfer {
        /// The transfer id.
        transfer: String,
        /// What is wrong.
        problem: String,
    },
    /// The transfers written are not those the file's header announced (they changed while it
    /// was written).
    #[error("batch {batch}: {problem}; export it again")]
    NotAnnounced {
        /// The batch.
        batch: String,
        /// What differs.
        problem: String,
    },
    /// The file is not UTF-8.
    #[error("the file is not UTF-8 (invalid byte at offset {offset}); a pain.002 file is read as UTF-8")]
    NotUtf8 {
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// The file is not well-formed XML.
    #[error("malformed XML at line {line}, column {column}: {message}")]
    Malformed {
        /// 1-based line.
        line: u64,
        /// 1-based column (characters).
        column: u64,
        /// What the parser found.
        message: String,
    },
    /// Well-formed XML, but not a pain.002.001.12 status report.
    #[error("{found}; expected an ISO 20022 payment status report pain.002.001.12 (namespace {PAIN002_NS})")]
    WrongMessage {
        /// What the file is.
        found: String,
    },
    /// A report without any transaction status (a group or payment-level status only).
    #[error("{0}")]
    NoTransactions(String),
    /// A transaction status the engine cannot use.
    #[error("transaction {position} (line {line}): {problem}")]
    Transaction {
        /// 1-based position of the TxInfAndSts in the file.
        position: u64,
        /// Line of the file where it starts.
        line: u64,
        /// What is wrong.
        problem: String,
    },
}

/// 1-based line and column (in characters) of byte `offset` of a UTF-8 `text`, read up to it (an
/// offset inside a character counts up to that character; one past the end, up to the end).
fn line_col(text: impl std::io::Read, offset: u64) -> std::io::Result<(u64, u64)> {
    use std::io::Read as _;
    let (mut line, mut column) = (1, 1);
    let mut rest = offset;
    let mut bytes = std::io::BufReader::new(text).bytes();
    while rest > 0 {
        let Some(b) = bytes.next().transpose()? else { return Ok((line, column)) };
        rest -= 1;
        if b == b'\n' {
            (line, column) = (line + 1, 1);
        } else if b & 0xC0 != 0x80 {
            column += 1;
        }
    }
    // Inside a character: its first byte was counted, the character is not before the offset.
    if bytes.next().transpose()?.is_some_and(|b| b & 0xC0 == 0x80) {
        column -= 1;
    }
    Ok((line, column))
}

#[cfg(test)]
mod tests {
    #[test]
    fn line_and_column_count_characters() {
        let at = |text: &str, offset| super::line_col(text.as_bytes(), offset).unwrap();
        assert_eq!(at("ab\n名字x", 0), (1, 1));
        assert_eq!(at("ab\n名字x", 3), (2, 1));
        assert_eq!(at("ab\n名字x", 9), (2, 3));
        assert_eq!(at("ab\n名字x", 7), (2, 2), "inside 字: up to it");
        assert_eq!(at("ab", 99), (1, 3));
        assert_eq!(at("ab\nc", u64::MAX), (2, 2));
    }
}
