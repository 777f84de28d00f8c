//! The text of registry files as offices write them: which encoding a file is in, and a streaming
//! reader that hands the CSV parser UTF-8 with `\n` line ends whatever the file had.
//!
//! Excel on Chinese Windows saves "CSV" in GB18030/GBK (code page 936), and Excel and Python's
//! csv module end lines with CRLF. [`refusal`] reads a file once, block by block, before any of
//! its rows is stored, and says why it cannot be read in the encoding asked for (naming the
//! encoding it looks like). [`TextReader`] then decodes it (GB18030, the superset of GBK, when the
//! operator asks for it) and turns CRLF and a lone CR into LF: the csv crate counts lines by `\n`
//! and ends a CRLF record at the `\r`, so without this every row of a CRLF file would be reported
//! one line early. A CR inside a quoted value becomes LF too (no registry value keeps line breaks).
//! Memory holds one block, never the file. Read [`TextReader::strict`] (a platform result file,
//! read once), it checks the text as it goes and ends where the text stops being in its encoding.

use std::io::{self, BufRead, Read};
use std::path::Path;

/// The encoding of CSV files: the registry files of one import (`import --encoding`) and the
/// platform's CSV files of one export (`export --encoding`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8, the format's encoding (a byte-order mark is allowed).
    #[default]
    Utf8,
    /// GB18030, which reads GBK and GB2312 files too (it is their superset).
    Gb18030,
}

impl Encoding {
    /// The name written in manifests and accepted on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Gb18030 => "gb18030",
        }
    }

    /// The encoding a manifest names; none for a name it does not know.
    pub fn from_name(name: &str) -> Option<Encoding> {
        [Encoding::Utf8, Encoding::Gb18030].into_iter().find(|e| e.name() == name)
    }

    /// Text as bytes in this encoding. GB18030 encodes every Unicode character, so nothing is lost
    /// (a rare character in a name survives, as four bytes).
    pub fn encode(self, text: &str) -> Vec<u8> {
        match self {
            Encoding::Utf8 => text.as_bytes().to_vec(),
            Encoding::Gb18030 => encoding_rs::GB18030.encode(text).0.into_owned(),
        }
    }
}

/// Bytes read at a time.
const BLOCK: usize = 64 * 1024;

/// What one pass over a file found.
#[derive(Debug)]
struct Sniff {
    /// Any byte outside ASCII.
    non_ascii: bool,
    /// The line of the first byte that is not UTF-8, if any.
    not_utf8_at: Option<u64>,
    /// The line of the first byte that is not GB18030, if any.
    not_gb18030_at: Option<u64>,
    /// Starts with a UTF-16 byte-order mark (Excel's "Unicode Text").
    utf16_bom: bool,
}

fn sniff(path: &Path) -> io::Result<Sniff> {
    let mut file = std::fs::File::open(path)?;
    let mut gb = encoding_rs::GB18030.new_decoder_without_bom_handling();
    let mut scratch = vec![0u8; BLOCK * 2];
    let mut block = vec![0u8; BLOCK];
    // Up to 3 bytes of a UTF-8 sequence cut by the block's end, and the lines before this block.
    let (mut carry, mut lines_before) = (Vec::<u8>::new(), 0u64);
    let mut s = Sniff { non_ascii: false, not_utf8_at: None, not_gb18030_at: None, utf16_bom: false };
    let mut first = true;
    loop {
        let n = file.read(&mut block)?;
        let bytes = &block[..n];
        let last = n == 0;
        if first {
            s.utf16_bom = bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]);
            first = false;
        }
        s.non_ascii |= !bytes.is_ascii();
        let line_at = |upto: usize| lines_before + bytes[..upto].iter().filter(|b| **b == b'\n').count() as u64 + 1;
        if s.not_utf8_at.is_none() {
            let mut joined = std::mem::take(&mut carry);
            joined.extend_from_slice(bytes);
            if let Err(e) = std::str::from_utf8(&joined) {
                match e.error_len() {
                    // A sequence cut by the block's end: finish it with the next block.
                    None if !last => carry = joined[e.valid_up_to()..].to_vec(),
                    _ => s.not_utf8_at = Some(line_at(e.valid_up_to().saturating_sub(joined.len() - n))),
                }
            }
        }
        if s.not_gb18030_at.is_none() {
            let mut rest = bytes;
            loop {
                let (result, read, _) = gb.decode_to_utf8_without_replacement(rest, &mut scratch, last);
                match result {
                    encoding_rs::DecoderResult::InputEmpty => break,
                    encoding_rs::DecoderResult::OutputFull => rest = &rest[read..],
                    encoding_rs::DecoderResult::Malformed(..) => {
                        let upto = (n - rest.len() + read).min(n);
                        s.not_gb18030_at = Some(line_at(upto.saturating_sub(1)));
                        break;
                    }
                }
            }
        }
        if last || (s.not_utf8_at.is_some() && s.not_gb18030_at.is_some()) {
            return Ok(s);
        }
        lines_before += bytes.iter().filter(|b| **b == b'\n').count() as u64;
    }
}

/// Why the file at `path` (named `name` in messages) cannot be imported as `encoding`, with what
/// to do instead; `None` when it can. Reads the whole file once, holding one block at a time.
pub fn refusal(path: &Path, name: &str, encoding: Encoding) -> io::Result<Option<String>> {
    let s = sniff(path)?;
    Ok(match encoding {
        Encoding::Utf8 => s.not_utf8_at.map(|line| {
            let looks = if s.utf16_bom {
                "it looks like UTF-16 (Excel's \"Unicode Text\"); save it as \"CSV UTF-8\"".to_string()
            } else if s.not_gb18030_at.is_none() {
                "it looks like GB18030/GBK (Chinese Windows/Excel); import it with `--encoding gb18030`, \
                 or save it as UTF-8"
                    .to_string()
            } else {
                "its encoding is neither UTF-8 nor GB18030/GBK; save it as UTF-8".to_string()
            };
            format!("{name} is not UTF-8 (first at line {line}): {looks}")
        }),
        // A file that is valid UTF-8 and not plain ASCII is UTF-8: read as GB18030 its Chinese
        // would turn into other, wrong characters without any error.
        Encoding::Gb18030 if s.non_ascii && s.not_utf8_at.is_none() => Some(format!(
            "{name} is UTF-8, not GB18030: import it without `--encoding gb18030` (UTF-8 is the default)"
        )),
        Encoding::Gb18030 => s.not_gb18030_at.map(|line| {
            let looks = if s.utf16_bom { "it looks like UTF-16 (Excel's \"Unicode Text\"); " } else { "" };
            format!("{name} is not GB18030/GBK (first at line {line}): {looks}save it as UTF-8 and import it without --encoding")
        }),
    })
}

/// A file's text as UTF-8 with `\n` line ends, decoded as it is read.
pub struct TextReader<R> {
    inner: R,
    decoder: Option<encoding_rs::Decoder>,
    /// Decoded, normalised bytes not yet handed out, from `pos`.
    buf: Vec<u8>,
    pos: usize,
    /// The last byte seen was a CR (turned into LF): a LF right after it is dropped.
    after_cr: bool,
    done: bool,
    /// Line ends turned into LF (off: the text as it is, for positions counted in the file).
    line_ends: bool,
    /// Checked ([`TextReader::strict`]): the text ends before the first byte that is not in the
    /// encoding, and [`TextReader::problem`] says where it was.
    strict: bool,
    problem: Option<TextProblem>,
    /// Strict UTF-8: the start of a sequence cut by the block's end (finished by the next block),
    /// and the bytes and line ends handed on before it.
    carry: Vec<u8>,
    offset: u64,
    lines: u64,
}

/// Where a file read strictly stopped being text of its encoding.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextProblem {
    /// The first byte that is not UTF-8: its offset (after a byte-order mark the caller removed) and
    /// line.
    NotUtf8 {
        /// Bytes before it.
        offset: u64,
        /// Its line (line ends before it, plus one).
        line: u64,
    },
    /// A byte sequence that is not GB18030.
    NotGb18030,
}

impl<R: BufRead> TextReader<R> {
    /// Read `inner`, which is in `encoding`; bytes that are not are replaced (a registry file was
    /// checked whole before: [`refusal`]).
    pub fn new(inner: R, encoding: Encoding) -> Self {
        let decoder = match encoding {
            Encoding::Utf8 => None,
            Encoding::Gb18030 => Some(encoding_rs::GB18030.new_decoder_without_bom_handling()),
        };
        TextReader {
            inner,
            decoder,
            buf: Vec::new(),
            pos: 0,
            after_cr: false,
            done: false,
            line_ends: true,
            strict: false,
            problem: None,
            carry: Vec::new(),
            offset: 0,
            lines: 0,
        }
    }

    /// Read `inner`, which must be in `encoding`, checking it as it is read (one pass, for a file
    /// read once): the text ends at the first byte that is not (see [`TextReader::problem`]).
    pub fn strict(inner: R, encoding: Encoding) -> Self {
        TextReader { strict: true, ..TextReader::new(inner, encoding) }
    }

    /// [`TextReader::strict`] UTF-8 with its line ends as they are (an XML file, whose positions
    /// are counted on its bytes).
    pub fn strict_utf8_as_is(inner: R) -> Self {
        TextReader { line_ends: false, ..TextReader::strict(inner, Encoding::Utf8) }
    }

    /// Read strictly, where the text stopped being in its encoding (nothing was handed out from
    /// there on); `None` while it is, and for a text read to its end that is.
    pub fn problem(&self) -> Option<TextProblem> {
        self.problem
    }

    fn refill(&mut self) -> io::Result<()> {
        self.buf.clear();
        self.pos = 0;
        while self.buf.is_empty() && !self.done {
            let input = self.inner.fill_buf()?;
            let last = input.is_empty();
            let consumed = input.len();
            match &mut self.decoder {
                None if self.strict => {
                    self.buf.append(&mut self.carry);
                    self.buf.extend_from_slice(input);
                    if let Err(e) = std::str::from_utf8(&self.buf) {
                        let valid = e.valid_up_to();
                        if e.error_len().is_none() && !last {
                            // A sequence cut by the block's end: finish it with the next block.
                            self.carry = self.buf[valid..].to_vec();
                        } else {
                            let line = self.lines + count_lf(&self.buf[..valid]) + 1;
                            self.problem = Some(TextProblem::NotUtf8 { offset: self.offset + valid as u64, line });
                        }
                        self.buf.truncate(valid);
                    }
                    self.offset += self.buf.len() as u64;
                    self.lines += count_lf(&self.buf);
                }
                None => self.buf.extend_from_slice(input),
                Some(d) => {
                    let room = d.max_utf8_buffer_length(input.len()).unwrap_or(input.len() * 4 + 16);
                    self.buf.resize(room, 0);
                    // With room for the worst case the decoder takes the whole input.
                    let written = if self.strict {
                        let (result, _, written) = d.decode_to_utf8_without_replacement(input, &mut self.buf, last);
                        if let encoding_rs::DecoderResult::Malformed(..) = result {
                            self.problem = Some(TextProblem::NotGb18030);
                        }
                        written
                    } else {
                        d.decode_to_utf8(input, &mut self.buf, last).2
                    };
                    self.buf.truncate(written);
                }
            }
            self.inner.consume(consumed);
            self.done = last || self.problem.is_some();
            if self.line_ends {
                self.normalise_line_ends();
            }
        }
        Ok(())
    }

    fn normalise_line_ends(&mut self) {
        let mut w = 0;
        for r in 0..self.buf.len() {
            let b = self.buf[r];
            if b == b'\n' && self.after_cr {
                self.after_cr = false;
                continue;
            }
            self.after_cr = b == b'\r';
            self.buf[w] = if b == b'\r' { b'\n' } else { b };
            w += 1;
        }
        self.buf.truncate(w);
    }
}

fn count_lf(bytes: &[u8]) -> u64 {
    bytes.iter().filter(|b| **b == b'\n').count() as u64
}

impl<R: BufRead> Read for TextReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        if self.pos == self.buf.len() {
            self.refill()?;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_all(bytes: &[u8], encoding: Encoding, cap: usize) -> String {
        let inner = io::BufReader::with_capacity(cap, bytes);
        let mut out = String::new();
        TextReader::new(inner, encoding).read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn line_ends_become_lf_across_any_block_boundary() {
        let text = b"a,b\r\nc,d\re,f\n\r\ng\r\n";
        // CRLF, lone CR, LF, a CRLF blank line: every line end one LF, whatever the block size.
        for cap in 1..=text.len() {
            assert_eq!(read_all(text, Encoding::Utf8, cap), "a,b\nc,d\ne,f\n\ng\n", "block size {cap}");
        }
    }

    fn read_strict(bytes: &[u8], encoding: Encoding, cap: usize) -> (String, Option<TextProblem>) {
        let mut text = TextReader::strict(io::BufReader::with_capacity(cap, bytes), encoding);
        let mut out = String::new();
        text.read_to_string(&mut out).unwrap();
        (out, text.problem())
    }

    #[test]
    fn read_strictly_the_text_ends_at_its_first_byte_not_in_the_encoding() {
        // 张 (3 bytes) cut by every block size; a bad byte on line 3 (after a CRLF: two lines).
        let mut text = "a\r\n张\r\nb".as_bytes().to_vec();
        for cap in 1..=text.len() {
            assert_eq!(read_strict(&text, Encoding::Utf8, cap), ("a\n张\nb".into(), None), "block size {cap}");
        }
        text.extend_from_slice(b"\xFFc\n");
        let stop = Some(TextProblem::NotUtf8 { offset: 9, line: 3 });
        for cap in 1..=text.len() {
            assert_eq!(read_strict(&text, Encoding::Utf8, cap), ("a\n张\nb".into(), stop), "block size {cap}");
        }
        // A sequence cut by the end of the file.
        assert_eq!(read_strict(&text[..5], Encoding::Utf8, 4).1, Some(TextProblem::NotUtf8 { offset: 3, line: 2 }));
        let (gbk, _, _) = encoding_rs::GB18030.encode("name\r\n张三\r\n");
        for cap in 1..=gbk.len() {
            assert_eq!(read_strict(&gbk, Encoding::Gb18030, cap), ("name\n张三\n".into(), None), "block size {cap}");
        }
        let mut bad = gbk.to_vec();
        bad.push(0x81);
        assert_eq!(read_strict(&bad, Encoding::Gb18030, 8).1, Some(TextProblem::NotGb18030), "cut at the end");
        let mut text = TextReader::strict_utf8_as_is("a\r\nb".as_bytes());
        let mut out = String::new();
        text.read_to_string(&mut out).unwrap();
        assert_eq!(out, "a\r\nb", "as is: the line ends kept");
    }

    #[test]
    fn gb18030_decodes_across_any_block_boundary() {
        let (gbk, _, _) = encoding_rs::GB18030.encode("name\r\n张三\r\n");
        for cap in 1..=gbk.len() {
            assert_eq!(read_all(&gbk, Encoding::Gb18030, cap), "name\n张三\n", "block size {cap}");
        }
    }

    fn refusal_of(bytes: &[u8], encoding: Encoding) -> Option<String> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("elders.csv");
        std::fs::write(&path, bytes).unwrap();
        refusal(&path, "elders.csv", encoding).unwrap()
    }

    #[test]
    fn utf8_with_or_without_bom_is_accepted_and_gbk_is_named() {
        assert_eq!(refusal_of("\u{feff}name\n张三\n".as_bytes(), Encoding::Utf8), None);
        assert_eq!(refusal_of(b"name\nzhang\n", Encoding::Gb18030), None, "ASCII is both");
        let (gbk, _, _) = encoding_rs::GB18030.encode("name\n\n张三\n");
        let why = refusal_of(&gbk, Encoding::Utf8).expect("GBK refused as UTF-8");
        assert!(why.starts_with("elders.csv is not UTF-8 (first at line 3): it looks like GB18030/GBK"), "{why}");
        assert!(why.contains("--encoding gb18030"), "{why}");
        assert_eq!(refusal_of(&gbk, Encoding::Gb18030), None);
        let why = refusal_of("name\n张三\n".as_bytes(), Encoding::Gb18030).expect("UTF-8 refused as GB18030");
        assert!(why.contains("is UTF-8, not GB18030"), "{why}");
        let why = refusal_of(&[0xFF, 0xFE, b'n', 0], Encoding::Utf8).expect("UTF-16 refused");
        assert!(why.contains("UTF-16"), "{why}");
    }

    #[test]
    fn a_utf8_sequence_cut_by_a_block_is_still_utf8() {
        // 张 is 3 bytes; put its first byte last in the first block.
        let mut text = vec![b'a'; BLOCK - 1];
        text.extend_from_slice("张\n".as_bytes());
        assert_eq!(refusal_of(&text, Encoding::Utf8), None);
        text.push(0xFF);
        let why = refusal_of(&text, Encoding::Utf8).expect("bad last byte");
        assert!(why.contains("first at line 2"), "{why}");
    }
}
