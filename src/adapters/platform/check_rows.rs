//! The rows behind a difference `verify` finds (issue 13): a rendered file and the folder's are
//! compared byte for byte as the rendered bytes flow ([`Rows`]), the folder's file read alongside.
//! Up to the first differing byte the two are the same, so that byte is in the same line of both:
//! its number (1-based, as an editor shows it), both versions of it around that byte ([`shown`]:
//! decoded, without the line end, cut to about [`SHOWN`] bytes, long digit runs masked by
//! [`mask_digits`]). After it, line N is compared with line N (a hash each) while both files go
//! on, until two more differing lines are found. Memory stays bounded whatever the files' size:
//! the last [`SHOWN`] bytes before the difference, [`SHOWN`] bytes of each side after it, a hash.

use crate::idcard;
use sha2::{Digest as _, Sha256};
use std::io::{self, BufRead};

/// About how many bytes of a differing line are shown.
pub(super) const SHOWN: usize = 160;
/// Differing lines named after the first.
const FURTHER: usize = 2;

/// How a line ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum End {
    Lf,
    CrLf,
    /// The file ends without a line end.
    Eof,
}

impl End {
    /// Its name in a sentence.
    pub(super) fn name(self) -> &'static str {
        match self {
            End::Lf => "LF",
            End::CrLf => "CRLF",
            End::Eof => "none",
        }
    }
}

/// One side of a line from a point on, as its bytes come: hashed, the first `cap` kept.
struct Line {
    hash: Sha256,
    /// Up to `cap` bytes, and 2 more for the line end.
    kept: Vec<u8>,
    cap: usize,
    dropped: bool,
    fed: u64,
    /// The byte before (for a CR before the LF).
    last: Option<u8>,
    end: Option<End>,
}

impl Line {
    fn new(cap: usize, last: Option<u8>) -> Line {
        Line { hash: Sha256::new(), kept: Vec::new(), cap, dropped: false, fed: 0, last, end: None }
    }

    /// Take `bytes` up to and including the line's LF: how many were taken.
    fn feed(&mut self, bytes: &[u8]) -> usize {
        let n = bytes.iter().position(|&b| b == b'\n').map_or(bytes.len(), |p| p + 1);
        let Some(&byte) = bytes[..n].last() else { return 0 };
        let part = &bytes[..n];
        self.hash.update(part);
        let room = (self.cap + 2).saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&part[..room.min(n)]);
        self.dropped |= n > room;
        if byte == b'\n' {
            let before = if n >= 2 { Some(part[n - 2]) } else { self.last };
            self.end = Some(if before == Some(b'\r') { End::CrLf } else { End::Lf });
        }
        self.last = Some(byte);
        self.fed += n as u64;
        n
    }

    /// The line as seen, the end of the file ending it when no LF did.
    fn finish(mut self) -> Seen {
        let end = self.end.unwrap_or(End::Eof);
        if !self.dropped {
            let strip = match end {
                End::Lf => 1,
                End::CrLf => 2,
                End::Eof => 0,
            };
            self.kept.truncate(self.kept.len().saturating_sub(strip));
        }
        let more = self.dropped || self.kept.len() > self.cap;
        self.kept.truncate(self.cap);
        Seen { hash: self.hash.finalize().into(), text: self.kept, more, end }
    }
}

/// One side of a line, read to its end.
#[derive(Debug)]
pub(super) struct Seen {
    hash: [u8; 32],
    /// Its first bytes (from the first difference, for the first differing line), without the
    /// line end.
    pub text: Vec<u8>,
    /// More bytes followed `text` before the line end.
    pub more: bool,
    pub end: End,
}

/// The first differing line.
#[derive(Debug)]
pub(super) struct First {
    /// Its number, from 1.
    pub line: u64,
    /// Bytes of it before the first differing byte (the same in both files).
    pub col: u64,
    /// The last [`SHOWN`] of them at most.
    pub prefix: Vec<u8>,
    /// The folder's line from the first differing byte; none when its file ended before the line.
    pub disk: Option<Seen>,
    /// The rendered line from the first differing byte; none when it ended before the line.
    pub expected: Option<Seen>,
}

/// What the comparison found.
#[derive(Debug)]
pub(super) enum Outcome {
    Same,
    /// The folder's file could not be read to the end.
    Unreadable,
    Differs {
        first: First,
        /// The next differing lines (at most [`FURTHER`]), line N against line N.
        further: Vec<u64>,
        /// Lines of the rendered file.
        lines: u64,
    },
}

enum State {
    /// Every byte so far is the same: the lines before, the bytes of the current line so far,
    /// the last of them.
    Same {
        line: u64,
        col: u64,
        prefix: Vec<u8>,
    },
    Apart(Box<Apart>),
    Unreadable,
}

/// After the first difference.
struct Apart {
    first: First,
    /// The rendered line being read (its number, its bytes so far).
    at: u64,
    current: Line,
    further: Vec<u64>,
    /// No more lines compared: enough found, or the folder's file ended.
    stopped: bool,
}

/// A rendered file compared, as its bytes are written, with the folder's (`disk`).
pub(super) struct Rows<R> {
    disk: R,
    newlines: u64,
    last: Option<u8>,
    state: State,
}

impl<R: BufRead> Rows<R> {
    pub(super) fn new(disk: R) -> Rows<R> {
        Rows { disk, newlines: 0, last: None, state: State::Same { line: 0, col: 0, prefix: Vec::new() } }
    }

    /// The rendered file's next bytes.
    pub(super) fn write(&mut self, buf: &[u8]) {
        self.newlines += buf.iter().filter(|&&b| b == b'\n').count() as u64;
        self.last = buf.last().copied().or(self.last);
        let rest = if matches!(self.state, State::Same { .. }) { self.compare(buf) } else { buf };
        if let State::Apart(apart) = &mut self.state {
            if apart.feed(&mut self.disk, rest).is_err() {
                self.state = State::Unreadable;
            }
        }
    }

    /// The rendered file is complete.
    pub(super) fn finish(mut self) -> Outcome {
        if let State::Same { .. } = self.state {
            match self.disk.fill_buf() {
                Ok([]) => return Outcome::Same,
                // Longer than the rendered file.
                Ok(_) => self.part(),
                Err(_) => return Outcome::Unreadable,
            }
        }
        let lines = self.newlines + u64::from(self.last.is_some_and(|b| b != b'\n'));
        match self.state {
            State::Apart(mut a) => {
                // The rendered file's last line, without a line end.
                if (a.current.fed > 0 || (a.at == a.first.line && a.first.col > 0))
                    && a.line_done(&mut self.disk).is_err()
                {
                    return Outcome::Unreadable;
                }
                Outcome::Differs { first: a.first, further: a.further, lines }
            }
            State::Same { .. } => Outcome::Same,
            State::Unreadable => Outcome::Unreadable,
        }
    }

    /// Compare `buf` with the folder's next bytes: what follows the first difference.
    fn compare<'b>(&mut self, buf: &'b [u8]) -> &'b [u8] {
        let mut rest = buf;
        while !rest.is_empty() {
            let (equal, differs) = match self.disk.fill_buf() {
                Ok(disk) => match disk.iter().zip(rest).position(|(a, b)| a != b) {
                    Some(i) => (i, true),
                    // An empty `disk`: the folder's file ends here.
                    None => (disk.len().min(rest.len()), disk.is_empty()),
                },
                Err(_) => {
                    self.state = State::Unreadable;
                    return &[];
                }
            };
            self.disk.consume(equal);
            self.advance(&rest[..equal]);
            rest = &rest[equal..];
            if differs {
                self.part();
                return rest;
            }
        }
        &[]
    }

    /// Bytes the same in both files.
    fn advance(&mut self, mut bytes: &[u8]) {
        if let State::Same { line, col, prefix } = &mut self.state {
            if let Some(p) = bytes.iter().rposition(|&b| b == b'\n') {
                *line += bytes[..=p].iter().filter(|&&b| b == b'\n').count() as u64;
                (*col, bytes) = (0, &bytes[p + 1..]);
                prefix.clear();
            }
            *col += bytes.len() as u64;
            prefix.extend_from_slice(&bytes[bytes.len() - bytes.len().min(SHOWN)..]);
            if prefix.len() > 2 * SHOWN {
                prefix.drain(..prefix.len() - SHOWN);
            }
        }
    }

    /// The first difference, here: the folder's line read from it.
    fn part(&mut self) {
        let State::Same { line, col, mut prefix } = std::mem::replace(&mut self.state, State::Unreadable) else {
            return;
        };
        prefix.drain(..prefix.len().saturating_sub(SHOWN));
        let last = prefix.last().copied();
        let Ok(disk) = read_line(&mut self.disk, Line::new(SHOWN, last)) else { return };
        // Ending in the line: the line is the bytes before.
        let disk = disk.or_else(|| (col > 0).then(|| Line::new(SHOWN, last))).map(Line::finish);
        let first = First { line: line + 1, col, prefix, disk, expected: None };
        let current = Line::new(SHOWN, last);
        self.state =
            State::Apart(Box::new(Apart { first, at: line + 1, current, further: Vec::new(), stopped: false }));
    }
}

impl Apart {
    /// The rendered file's bytes after the first difference.
    fn feed<R: BufRead>(&mut self, disk: &mut R, mut bytes: &[u8]) -> io::Result<()> {
        // Once the first line is read and enough found, only the rendered file's lines count.
        let idle = |a: &Apart| a.stopped && a.first.expected.is_some();
        while !bytes.is_empty() && !idle(self) {
            bytes = &bytes[self.current.feed(bytes)..];
            if self.current.end.is_some() {
                self.line_done(disk)?;
            }
        }
        Ok(())
    }

    /// A rendered line is complete: compared with the folder's line of the same number.
    fn line_done<R: BufRead>(&mut self, disk: &mut R) -> io::Result<()> {
        let line = std::mem::replace(&mut self.current, Line::new(0, Some(b'\n'))).finish();
        if self.at == self.first.line {
            self.first.expected = Some(line);
        } else if !self.stopped {
            match read_line(disk, Line::new(0, Some(b'\n')))?.map(Line::finish) {
                None => self.stopped = true,
                Some(d) if d.hash != line.hash => {
                    self.further.push(self.at);
                    self.stopped = self.further.len() == FURTHER;
                }
                Some(_) => {}
            }
        }
        self.at += 1;
        Ok(())
    }
}

/// The rest of the folder's current line into `line`; none when the file ends before a byte.
fn read_line<R: BufRead>(disk: &mut R, mut line: Line) -> io::Result<Option<Line>> {
    loop {
        let buf = disk.fill_buf()?;
        if buf.is_empty() {
            return Ok((line.fed > 0).then_some(line));
        }
        let n = line.feed(buf);
        disk.consume(n);
        if line.end.is_some() {
            return Ok(Some(line));
        }
    }
}

/// One side of the first differing line as shown: the bytes before the difference and this
/// side's from it, the whole line when short, else about [`SHOWN`] bytes around the difference
/// ("…" where cut); decoded (UTF-8, else GB18030), control characters escaped, digits masked.
pub(super) fn shown(first: &First, side: &Seen) -> String {
    let longest = [&first.disk, &first.expected].into_iter().flatten().map(|s| s.text.len()).max().unwrap_or(0);
    let whole = first.prefix.len() as u64 == first.col && first.prefix.len() + longest <= SHOWN;
    let before = if whole { first.prefix.len() } else { first.prefix.len().min(SHOWN / 3) };
    let cut_start = (before as u64) < first.col;
    let mut start = first.prefix.len() - before;
    if cut_start {
        // At a character whatever the encoding: ASCII below 0x40 and not a digit (no byte of a
        // UTF-8 or GB18030 sequence), so no part of a character or of a number shows.
        let safe = first.prefix[start..].iter().position(|&b| b < 0x40 && !b.is_ascii_digit());
        start = safe.map_or(first.prefix.len(), |i| start + i);
    }
    let after = side.text.len().min(SHOWN - before);
    let cut_end = after < side.text.len() || side.more;
    let mut bytes = first.prefix[start..].to_vec();
    bytes.extend_from_slice(&side.text[..after]);
    let mut text = decode(&bytes);
    if cut_end {
        // No part of a character or of a number either.
        let kept =
            text.trim_end_matches(['\u{FFFD}']).trim_end_matches(|c: char| c.is_ascii_digit() || c == 'X' || c == 'x');
        text.truncate(kept.len());
    }
    let mut out = String::from(if cut_start { "…" } else { "" });
    for c in mask_digits(&text).chars() {
        if c.is_control() {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    if cut_end {
        out.push('…');
    }
    out
}

/// Bytes as text: UTF-8 (a character cut at the end left out), else GB18030.
fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(e) if e.error_len().is_none() => String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned(),
        Err(_) => encoding_rs::GB18030.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// `line` with every run of 9 or more digits (with an X after it, as an ID number's last
/// character may be) masked as [`idcard::mask`] masks an ID number: no full ID or account number
/// shows.
pub fn mask_digits(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        out.push_str(&rest[..start]);
        let run = &rest[start..];
        let digits = run.find(|c: char| !c.is_ascii_digit()).unwrap_or(run.len());
        let end = if digits >= 9 && run[digits..].starts_with(['X', 'x']) { digits + 1 } else { digits };
        if digits >= 9 {
            out.push_str(&idcard::mask(&run[..end]));
        } else {
            out.push_str(&run[..end]);
        }
        rest = &run[end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_of_nine_digits_or_more_are_masked_ids_with_their_x() {
        assert_eq!(mask_digits("11010519491231002X,张三,500.00"), "1101**********002X,张三,500.00");
        assert_eq!(mask_digits("id 11010519491231002x."), "id 1101**********002x.");
        assert_eq!(mask_digits("6217000000000000022"), "6217***********0022");
        assert_eq!(mask_digits("a123456789b12345678X"), "a1234*6789b12345678X");
        assert_eq!(mask_digits("2020-02-26,110102,12345678"), "2020-02-26,110102,12345678");
        assert_eq!(mask_digits("<Id>110105194912310021</Id>"), "<Id>1101**********0021</Id>");
        assert_eq!(mask_digits(""), "");
    }

    /// `rendered` compared with `disk`, written in pieces of `piece` bytes.
    fn outcome(disk: &[u8], rendered: &[u8], piece: usize) -> Outcome {
        let mut rows = Rows::new(io::BufReader::with_capacity(4, disk));
        rendered.chunks(piece).for_each(|p| rows.write(p));
        rows.finish()
    }

    #[test]
    fn the_first_line_apart_is_found_whatever_the_pieces() {
        let (disk, rendered) = (b"h\n1,2\n3,4\n5,6\n7,8\n9,9\n", b"h\n1,2\n3,5\n5,6\n7,9\n9,8\n");
        for piece in [1, 2, 3, 7, 100] {
            let Outcome::Differs { first, further, lines } = outcome(disk, rendered, piece) else { panic!("differs") };
            assert_eq!(
                (first.line, first.col, first.prefix.as_slice(), further, lines),
                (3, 2, &b"3,"[..], vec![5, 6], 6)
            );
            assert_eq!(shown(&first, first.disk.as_ref().unwrap()), "3,4");
            assert_eq!(shown(&first, first.expected.as_ref().unwrap()), "3,5");
        }
        assert!(matches!(outcome(disk, disk, 3), Outcome::Same));
    }

    /// The first differing line of `disk` and `rendered` as shown on each side.
    fn both(disk: &[u8], rendered: &[u8]) -> (String, String) {
        let Outcome::Differs { first, .. } = outcome(disk, rendered, 5) else { panic!("differs") };
        (shown(&first, first.disk.as_ref().unwrap()), shown(&first, first.expected.as_ref().unwrap()))
    }

    #[test]
    fn a_cut_shows_no_part_of_a_number_or_of_a_character() {
        let ids = "110105194912310021;".repeat(20);
        let (disk, rendered) = (format!("{ids}1\n"), format!("{}:{}2\n", &ids[..190], &ids[191..]));
        for text in [both(disk.as_bytes(), rendered.as_bytes()).0, both(disk.as_bytes(), rendered.as_bytes()).1] {
            assert!(text.starts_with("…;1101**********0021;") && text.ends_with(";…"), "{text}");
            let longest = text.split(|c: char| !c.is_ascii_digit()).map(str::len).max();
            assert_eq!(longest, Some(4), "{text}");
        }
        let names = "张三丰,".repeat(40);
        let (disk, rendered) = (format!("{names}李\n"), format!("{names}王\n"));
        let (d, e) = both(disk.as_bytes(), rendered.as_bytes());
        assert!(d.starts_with("…,张三丰,") && d.ends_with(",张三丰,李") && !d.contains('\u{FFFD}'), "{d}");
        assert!(e.ends_with(",王"), "{e}");
    }

    #[test]
    fn a_line_end_in_the_middle_is_shown_escaped_and_the_memory_stays_bounded() {
        assert_eq!(both(b"a\rb\n", b"a,b\n"), ("a\\rb".to_string(), "a,b".to_string()));
        // A long line: the kept bytes stay within SHOWN on each side.
        let long = vec![b'a'; 100_000];
        let Outcome::Differs { first, .. } =
            outcome(&[&long[..], b"b\n"].concat(), &[&long[..], b"c\n"].concat(), 4096)
        else {
            panic!("differs")
        };
        assert_eq!((first.col, first.prefix.len(), first.disk.unwrap().text), (100_000, SHOWN, b"b".to_vec()));
    }
}
