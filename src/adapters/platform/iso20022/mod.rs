//! ISO 20022 for the payment platform. First piece: who pays ([`Payer`]), the configuration a
//! pain.001 credit-transfer initiation needs besides the batch, one entry per district
//! ([`payer`]).

pub mod payer;

pub use payer::{execution_date, payer_for, payers_from_toml, Payer, PayerError, BUILTIN_PAYERS};
