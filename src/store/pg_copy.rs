//! PostgreSQL's fastest write path, `COPY … FROM STDIN` in its text format, for the statements that
//! write many rows (an import's chunks, a run's postings and transfers): one round trip and no
//! statement to parse or plan per group of rows. [`CopyText`] renders rows; [`copy_in`] sends them.

use super::error::StoreResult;
use chrono::{Datelike, NaiveDate};
use sqlx::postgres::PgConnection;
use std::fmt::Write as _;

/// Rows in COPY's text format: values separated by tabs, rows by newlines, `\N` for null, and
/// backslash escapes for what would otherwise read as structure.
pub(super) struct CopyText {
    out: String,
    /// No value written yet on the current row.
    row_start: bool,
}

impl CopyText {
    pub fn with_capacity(bytes: usize) -> CopyText {
        CopyText { out: String::with_capacity(bytes), row_start: true }
    }

    fn sep(&mut self) {
        if !self.row_start {
            self.out.push('\t');
        }
        self.row_start = false;
    }

    pub fn text(&mut self, s: &str) -> &mut Self {
        self.sep();
        for c in s.chars() {
            match c {
                '\\' => self.out.push_str("\\\\"),
                '\t' => self.out.push_str("\\t"),
                '\n' => self.out.push_str("\\n"),
                '\r' => self.out.push_str("\\r"),
                c => self.out.push(c),
            }
        }
        self
    }

    pub fn opt_text(&mut self, s: Option<&str>) -> &mut Self {
        match s {
            Some(s) => self.text(s),
            None => self.null(),
        }
    }

    pub fn int(&mut self, i: i64) -> &mut Self {
        self.sep();
        let _ = write!(self.out, "{i}");
        self
    }

    pub fn bool(&mut self, b: bool) -> &mut Self {
        self.sep();
        self.out.push(if b { 't' } else { 'f' });
        self
    }

    /// A date as `YYYY-MM-DD` (no strftime: this runs for every date of a registry).
    pub fn date(&mut self, d: Option<NaiveDate>) -> &mut Self {
        match d {
            Some(d) => {
                self.sep();
                let _ = write!(self.out, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
                self
            }
            None => self.null(),
        }
    }

    pub fn null(&mut self) -> &mut Self {
        self.sep();
        self.out.push_str("\\N");
        self
    }

    pub fn end_row(&mut self) {
        self.out.push('\n');
        self.row_start = true;
    }

    pub fn is_empty(&self) -> bool {
        self.out.is_empty()
    }

    #[cfg(test)]
    fn as_str(&self) -> &str {
        &self.out
    }
}

/// Send `rows` by `statement` (`copy table (columns) from stdin`), on a transaction's connection
/// or a held one.
pub(super) async fn copy_in(conn: &mut PgConnection, statement: &str, rows: CopyText) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let mut copy = conn.copy_in_raw(statement).await?;
    copy.send(rows.out.into_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_copy_would_read_as_structure() {
        let mut t = CopyText::with_capacity(64);
        t.text("a\tb\\c\nd\re").opt_text(None).int(-5).bool(true).date(NaiveDate::from_ymd_opt(2020, 7, 1));
        t.end_row();
        t.text("x");
        t.end_row();
        assert_eq!(t.as_str(), "a\\tb\\\\c\\nd\\re\t\\N\t-5\tt\t2020-07-01\nx\n");
    }
}
