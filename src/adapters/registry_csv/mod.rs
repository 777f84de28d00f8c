//! The registry's CSV files in: [`encoding`] decodes what Excel writes (UTF-8 with or without
//! BOM, GB18030/GBK), [`validate`] turns one row into a typed [`RowOp`](crate::registry::rows::RowOp)
//! or a reject with its reason code, and [`import`] streams a folder of files into the store in one
//! transaction.

pub mod encoding;
pub mod import;
pub mod validate;
