//! ISO 20022 for the payment platform: the batch as a credit-transfer initiation the paying
//! office sends its bank (pain.001.001.09, [`pain001`]). This is the generic ISO version, not a
//! SEPA profile: accounts are `Othr/Id`, the currency CNY.
//!
//! Why a second format beside the CSV files: banks take pain.001 directly, so a district whose
//! bank speaks ISO 20022 needs no hand conversion; and the schema lets anyone check a file
//! (`xmllint --schema`) before it leaves. The CSV files stay the
//! reference (INTERFACE.md); the XML says the same thing: one transaction per transfer, the
//! transfer id as end-to-end id, the same amounts.
//!
//! The file is written with quick-xml's events, never by pasting strings, so escaping is the
//! library's. The writer is deterministic: the same batch, transfers and payer give the
//! same bytes; the only value from a clock is the batch's own `computed_at`, stored with it.
//! Who pays ([`Payer`]) is configuration, one entry per district ([`payer`]).

mod pain001;
pub mod payer;

pub use pain001::pain001;
pub use payer::{execution_date, payer_for, payers_from_toml, Payer, PayerError, BUILTIN_PAYERS};

/// Namespace of the credit-transfer initiation the engine writes.
pub const PAIN001_NS: &str = "urn:iso:std:iso:20022:tech:xsd:pain.001.001.09";

/// Why a pain.001 file cannot be written. Each message names the batch or transfer and what is
/// wrong.
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
}
