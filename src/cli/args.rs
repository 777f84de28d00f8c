//! The command line's shape (clap types only); [`super::commands`] does the work.

use crate::month::ServiceMonth;
use clap::{Arg, CommandFactory, Parser, Subcommand};
use std::path::PathBuf;

/// subsidy: the batch engine that pays Beijing's elderly allowances.
#[derive(Debug, Parser)]
#[command(name = "subsidy", version, about, long_about = None)]
pub struct Cli {
    /// Database: sqlite://FILE or postgres://… (`init` creates it; other commands need it to exist)
    #[arg(long, global = true, env = "DATABASE_URL", default_value = "sqlite://subsidy.db")]
    pub database_url: String,
    /// Act on this district only (6-digit code); default: every district in the registry.
    #[arg(long, global = true, env = "SUBSIDY_DISTRICT")]
    pub district: Option<String>,
    /// Print one JSON object on stdout instead of text (logs always go to stderr).
    #[arg(long, global = true)]
    pub json: bool,
    /// Log lines on stderr as text or as JSON objects (for log collectors); which events: RUST_LOG.
    #[arg(long, global = true, value_enum, default_value = "text")]
    pub log_format: crate::logging::LogFormat,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The command line as `main` parses it: [`Cli`], with `--database-url` left out of the help of
/// `generate` and `demo`, which open no database, and `--district` out of `demo`'s (it writes
/// its own). Each is still accepted there, before or after the command, as everywhere.
pub fn command() -> clap::Command {
    // A subcommand's own argument of the same id stops clap propagating the global one into it;
    // the value given there still reaches `Cli` (global values are copied up to the parent).
    let hidden = |id: &'static str, long: &'static str| Arg::new(id).long(long).hide(true);
    Cli::command()
        .mut_subcommand("generate", |c| c.arg(hidden("database_url", "database-url")))
        .mut_subcommand("demo", |c| c.arg(hidden("database_url", "database-url")).arg(hidden("district", "district")))
        .mut_subcommand("completions", |c| {
            c.arg(hidden("database_url", "database-url")).arg(hidden("district", "district"))
        })
        .mut_subcommand("man", |c| c.arg(hidden("database_url", "database-url")).arg(hidden("district", "district")))
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the database if needed, apply migrations, load the default policy (T7: --start-month).
    #[command(after_help = "Example: subsidy init --start-month 2020-01")]
    Init {
        /// The first service month this engine pays (required the first time).
        #[arg(long)]
        start_month: Option<ServiceMonth>,
        /// Who initialises (recorded in the audit log). Default: $USER, else $LOGNAME.
        #[arg(long)]
        by: Option<String>,
    },
    /// Show or load the policy (rates, quotas, allocations, [decision] parameters).
    #[command(after_help = "Example: subsidy policy show")]
    Policy {
        /// show or load.
        #[command(subcommand)]
        action: PolicyAction,
    },
    /// Load the registry CSV files found in DIR (upsert by key; `deleted`=true removes).
    #[command(after_help = "Example: subsidy import registry/ --encoding gb18030")]
    Import {
        /// Folder with elders.csv, applications.csv, … (any subset).
        dir: PathBuf,
        /// The files' encoding: utf-8 (a BOM is allowed) or gb18030 (GBK files of Chinese
        /// Windows/Excel; GB18030 is their superset).
        #[arg(long, value_enum, default_value = "utf-8")]
        encoding: ImportEncoding,
        /// Who imports (recorded in the audit log). Default: $USER, else $LOGNAME.
        #[arg(long)]
        by: Option<String>,
    },
    /// For one person and month: each allowance, paid or not, amount, tier, shares and the rules.
    #[command(after_help = "Example: subsidy explain --id 11010519491231002X --month 2020-07")]
    Explain {
        /// 18-character ID number.
        #[arg(long)]
        id: String,
        /// Service month YYYY-MM.
        #[arg(long)]
        month: ServiceMonth,
    },
    /// Compute the regular batch of a service month for each district (L2).
    #[command(after_help = "Example: subsidy --district 110102 run --month 2020-07")]
    Run {
        /// Service month YYYY-MM.
        #[arg(long)]
        month: ServiceMonth,
        /// Who runs it (recorded; may not approve it). Default: $USER, else $LOGNAME.
        #[arg(long)]
        by: Option<String>,
        /// Compute and print, write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// After corrections: a correction batch settling every difference through M (L2); it replaces
    /// M's batch when that is not yet exported.
    #[command(after_help = "Example: subsidy rerun --month 2020-07 --reason \"registry corrected\"")]
    Rerun {
        /// Service month YYYY-MM.
        #[arg(long)]
        month: ServiceMonth,
        /// Why (kept with the batch and in the audit log).
        #[arg(long)]
        reason: String,
        /// Who runs it. Default: $USER, else $LOGNAME.
        #[arg(long)]
        by: Option<String>,
        /// Print, per person and allowance, net paid, owed now and the difference; write nothing.
        #[arg(long)]
        dry_run: bool,
    },
    /// Drop a batch that is not exported (kept, marked discarded, never counted as paid).
    #[command(after_help = "Example: subsidy discard --batch 110102-2020-07-R1 --reason \"wrong registry\"")]
    Discard {
        /// Batch id.
        #[arg(long)]
        batch: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Who. Default: $USER, else $LOGNAME.
        #[arg(long)]
        by: Option<String>,
    },
    /// Withdraw the approval of a batch that is not yet exported (back to computed).
    #[command(after_help = "Example: subsidy withdraw --batch 110102-2020-07-R1 --reason \"sent twice\"")]
    Withdraw {
        /// Batch id.
        #[arg(long)]
        batch: String,
        /// Why.
        #[arg(long)]
        reason: String,
        /// Who. Default: $USER, else $LOGNAME.
        #[arg(long)]
        by: Option<String>,
    },
    /// Close a recovery item (追回): collected, or waived by decision. Both stay in the net paid (L1).
    #[command(after_help = "Example: subsidy recovery --key KEY --collected --reason \"receipt 123\" --by wang")]
    #[command(group(clap::ArgGroup::new("decision").args(["collected", "waived"]).required(true)))]
    Recovery {
        /// Payment key of the recovery item (see `subsidy status --recoveries`).
        #[arg(long)]
        key: String,
        /// The money came back.
        #[arg(long)]
        collected: bool,
        /// The district decided not to collect it.
        #[arg(long)]
        waived: bool,
        /// Why (receipt number, decision reference …).
        #[arg(long)]
        reason: String,
        /// Who records it.
        #[arg(long)]
        by: String,
    },
    /// Approve a computed batch for export; the approver must differ from whoever ran it. Prints
    /// the month's review first (as `report --month`); on a terminal, then asks to confirm.
    #[command(after_help = "Example: subsidy approve --batch 110102-2020-07-R1")]
    Approve {
        /// Batch id, e.g. 110102-2020-07-R1.
        #[arg(long)]
        batch: String,
        /// Who approves.
        #[arg(long)]
        by: String,
        /// Do not ask on a terminal (without a terminal nothing is ever asked).
        #[arg(long)]
        yes: bool,
    },
    /// Write the platform files of an approved batch (repeating it writes identical files).
    #[command(after_help = "Example: subsidy export --batch 110102-2020-07-R1 --out out/")]
    Export {
        /// Batch id.
        #[arg(long)]
        batch: String,
        /// Folder to write to (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// Who exports (recorded in the audit log). Default: $USER, else $LOGNAME.
        #[arg(long)]
        by: Option<String>,
        /// The CSV files' encoding: utf-8, or gb18030 (the GBK family Chinese bank systems read;
        /// every character survives). The manifest records it; verify reads it from there.
        #[arg(long, value_enum, default_value = "utf-8")]
        encoding: ImportEncoding,
        /// csv: the platform's CSV files; pain001: also an ISO 20022 pain.001.001.09 file beside
        /// them (the CSV files stay the accounting record).
        #[arg(long, value_enum, default_value = "csv")]
        format: ExportFormat,
        /// The payers' configuration (TOML, as fixtures/payers.toml) naming the district's paying
        /// office, account and bank for pain001. Default: the built-in FICTIONAL Xicheng payer.
        #[arg(long)]
        payers: Option<PathBuf>,
    },
    /// Record the platform's answers: its result CSV (transfer_id,status,reason_code[,reason]) or an
    /// ISO 20022 pain.002 status report. Failed and returned transfers wait, held, for their fault
    /// to be corrected (L3). The whole file is refused if any answer is impossible; the same file
    /// twice changes nothing.
    #[command(after_help = "Example: subsidy reconcile --file results.csv")]
    Reconcile {
        /// The result file.
        #[arg(long)]
        file: PathBuf,
        /// The CSV file's encoding: utf-8 (a BOM is allowed) or gb18030.
        #[arg(long, value_enum, default_value = "utf-8")]
        encoding: ImportEncoding,
        /// Who records it (audit log). Default: $USER, else $LOGNAME.
        #[arg(long)]
        by: Option<String>,
    },
    /// Withhold a person's payments pending a review (all allowances, or one): their lines are
    /// held by every batch until `subsidy release` (L3).
    #[command(after_help = "Example: subsidy hold --id 11010519491231002X --reason \"death reported\"")]
    Hold(PersonHold),
    /// Release a person's holds (an operator's hold, or a platform fault the bank fixed, or a
    /// DECEASED report that was an error): the next batch pays what waited (L3).
    #[command(after_help = "Example: subsidy release --id 11010519491231002X --reason \"reported in error\"")]
    Release(PersonHold),
    /// Recompute a batch's files from the database and check them, their manifest and totals;
    /// or, with --audit, check the audit log's hash chain; or, with --ledger, that nothing is paid
    /// twice or lost.
    #[command(after_help = "Example: subsidy verify --batch 110102-2020-07-R1 --dir out/")]
    Verify {
        /// Batch id.
        #[arg(long, required_unless_present_any = ["audit", "ledger"], requires = "dir")]
        batch: Option<String>,
        /// Folder holding the exported files.
        #[arg(long)]
        dir: Option<PathBuf>,
        /// Check the audit log instead.
        #[arg(long, conflicts_with_all = ["batch", "dir", "ledger"])]
        audit: bool,
        /// Check the ledger instead: for every person, allowance and month, owed = paid + held +
        /// waiting on a failed or returned transfer + recovered; prints those that differ (exit 5).
        #[arg(long, conflicts_with_all = ["batch", "dir"])]
        ledger: bool,
    },
    /// Batches and their states, with counts and amounts.
    #[command(after_help = "Example: subsidy status --month 2020-07")]
    Status {
        /// Only this service month.
        #[arg(long)]
        month: Option<ServiceMonth>,
        /// List every recovery item and its decision.
        #[arg(long)]
        recoveries: bool,
    },
    /// The district's figures for a year (F5): person-times, amounts, lottery against allocation;
    /// or, with --month alone, the month's review before approval (what changed since last month
    /// and why, totals by allowance, tier, fund and street, persons worth a look).
    #[command(after_help = "Example: subsidy report --year 2020 --format xlsx --out 2020.xlsx")]
    Report {
        /// Year of the service months.
        #[arg(long, required_unless_present = "month")]
        year: Option<i32>,
        /// With --year: only this service month of the year's figures. Alone: the month's review.
        #[arg(long)]
        month: Option<ServiceMonth>,
        /// text, csv, json, html or xlsx (with --out FILE.xlsx); --json also selects json. The
        /// month's review (--month alone): text, csv or json. Default: text (json with --json,
        /// which refuses any other --format).
        #[arg(long)]
        format: Option<ReportFormat>,
        /// Write to this file instead of stdout.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Stay running and start each month's run on time (T1: the policy's day and time, 02:00 on
    /// the 26th, Asia/Shanghai), for every district; --once: do what is due now, then exit (for
    /// cron, systemd timers, Kubernetes CronJobs). SIGTERM / Ctrl-C: the district in progress is
    /// finished, no other is started.
    #[command(after_help = "Example: subsidy schedule --once")]
    Schedule {
        /// Do what is due now and exit.
        #[arg(long)]
        once: bool,
        /// Who runs the batches (recorded; may not approve them). Default: $USER, else $LOGNAME.
        #[arg(long)]
        by: Option<String>,
    },
    /// Run a year of Xicheng's allowances on its own database (subsidy-demo.db) and report it.
    #[command(after_help = "Example: subsidy demo --out demo-out")]
    Demo {
        /// Folder for the exported platform files.
        #[arg(long, default_value = "demo-out")]
        out: PathBuf,
    },
    /// Print the shell completion script for bash, zsh or fish on stdout.
    #[command(after_help = "Example: subsidy completions bash > /etc/bash_completion.d/subsidy")]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    #[command(after_help = "Example: subsidy man > subsidy.1 && man ./subsidy.1")]
    /// Print the manual page (roff) on stdout.
    Man,
    /// Write a synthetic registry of N elders (deterministic for a seed).
    #[command(after_help = "Example: subsidy generate --elders 1000 --out registry/")]
    Generate {
        /// Number of elders.
        #[arg(long)]
        elders: u64,
        /// Random seed.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Folder to write the CSV files to.
        #[arg(long)]
        out: PathBuf,
        /// Add this many malformed rows across the files (to try the import's checks).
        #[arg(long, default_value_t = 0)]
        malformed: u64,
    },
}

/// `policy` sub-commands.
#[derive(Debug, Subcommand)]
pub enum PolicyAction {
    /// Print every policy version, with the one in force now marked.
    Show,
    /// Load a new version from a file in the format of fixtures/policy/.
    Load {
        /// The TOML file.
        file: PathBuf,
        /// Who loads it (recorded in the audit log). Default: $USER, else $LOGNAME.
        #[arg(long)]
        by: Option<String>,
    },
}

/// Whom `hold` and `release` act on, and why.
#[derive(Debug, clap::Args)]
pub struct PersonHold {
    /// 18-character ID number.
    #[arg(long)]
    pub id: String,
    /// Only this allowance: longevity, care or hardship.
    #[arg(long)]
    pub allowance: Option<String>,
    /// Why (kept in the audit log).
    #[arg(long)]
    pub reason: String,
    /// Who. Default: $USER, else $LOGNAME.
    #[arg(long)]
    pub by: Option<String>,
}

/// Formats of `export`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// The CSV files and their manifest.
    Csv,
    /// The CSV files, and an ISO 20022 pain.001.001.09 file beside them.
    Pain001,
}

/// Output formats of `report`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    /// Plain text in the shape of the seed report's section 一.
    Text,
    /// One row per district and allowance.
    Csv,
    /// One JSON object.
    Json,
    /// One self-contained HTML page: section 一's tables and charts per month, street and age
    /// band, nothing fetched (for --out FILE).
    Html,
    /// An Excel workbook for reviewers (a sheet each: summary, by month, by street, by age
    /// band); binary, so to a file (--out) or a redirected stdout, never to a terminal.
    Xlsx,
}

/// Encodings `import` reads and `export` writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportEncoding {
    /// UTF-8, the format's encoding (a byte-order mark is allowed).
    #[value(name = "utf-8", alias = "utf8")]
    Utf8,
    /// GB18030, which reads GBK and GB2312 too.
    #[value(name = "gb18030", alias = "gbk")]
    Gb18030,
}

impl From<ImportEncoding> for crate::adapters::registry_csv::encoding::Encoding {
    fn from(e: ImportEncoding) -> Self {
        match e {
            ImportEncoding::Utf8 => Self::Utf8,
            ImportEncoding::Gb18030 => Self::Gb18030,
        }
    }
}
