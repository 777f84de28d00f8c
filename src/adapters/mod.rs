//! I/O at the edge: the formats the engine reads and writes, and nothing else. Each adapter turns
//! bytes into the core's types or the core's types into bytes; the rules stay in the core.
//!
//! | adapter | reads or writes | contract |
//! |---|---|---|
//! | [`registry_csv`] | the seven registry CSV files (UTF-8 or GB18030, CRLF as Excel writes them), validated and streamed into the store | INTERFACE.md "Registry files" |
//! | [`platform`] | the six files of a batch for the payment platform, written as the batch's rows stream from the store (constant memory), atomically, and verified the same way; the batch as ISO 20022 pain.001 and the bank's pain.002 answer ([`platform::iso20022`]) | INTERFACE.md "Platform files", "Platform result file" |
//! | [`report`] | the year's figures as text and CSV | F5, the seed report's shape |

pub mod platform;
pub mod registry_csv;
pub mod report;
