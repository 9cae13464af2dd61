//! Komlang file formats: reading tables from CSV and XLSX (and ODS) files,
//! and writing them for export. No domain logic: rows come out as text cells
//! with the row numbers a spreadsheet program shows; `komlang-core::import`
//! recognizes the columns and turns the cells into registry input.
//!
//! - [`detect_kind`] tells CSV from XLSX by content, and refuses, with a
//!   message a user can act on, files in another encoding or format.
//! - [`TableReader`] streams CSV from any [`Read`] in constant memory and streams the first
//!   sheet of a workbook row by row; both yield `(row number, cells)`, within
//!   [`ReadLimits`] (rows, cells per row, characters per cell, what a workbook unzips to).
//! - [`write_csv`] (UTF-8 with BOM) and [`write_xlsx`] (text cells, bold frozen header) export.
//! - [`guard_formula`] and [`unguard_formula`]: no CSV cell written here starts a formula in
//!   a spreadsheet program, and the CSV reader reads every written cell back unchanged.

use std::collections::VecDeque;
use std::io::{Cursor, Read};
use std::sync::{Arc, Mutex};

mod limits;
mod sheet;
mod write;

pub use limits::{Limit, ReadLimits};
pub use sheet::format_number;
pub use write::{csv_rows, guard_formula, is_formula_like, unguard_formula, write_csv, write_xlsx};

/// What a file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FileKind {
    /// Delimited text in UTF-8 (`,`, `;` or tab).
    Csv,
    /// A zipped workbook: XLSX (also ODS and XLSB, read the same way).
    Xlsx,
}

/// Why a file cannot be read or written.
#[derive(Debug, thiserror::Error)]
pub enum IoError {
    /// Not UTF-8 text (UTF-16, a legacy code page, broken bytes).
    #[error("{}{message}", row_prefix(*row))]
    Encoding { row: Option<u64>, message: String },
    /// Not a table at all (PDF, old `.xls`, an image, a damaged workbook...).
    #[error("{0}")]
    NotATable(String),
    /// A row that cannot be read (or written).
    #[error("row {row}: {message}")]
    Row { row: u64, message: String },
    /// No header row: the file or its first sheet is empty.
    #[error("the file is empty: the first row must name the columns")]
    Empty,
    #[error("reading or writing the file failed: {0}")]
    Io(#[from] std::io::Error),
    /// The XLSX writer failed.
    #[error("writing the XLSX file failed: {0}")]
    Xlsx(String),
    /// The file goes past one of the [`ReadLimits`] (`max`); `row` when one row does.
    #[error("{}", limits::limit_message(*limit, *max, *row))]
    TooLarge { limit: Limit, max: u64, row: Option<u64> },
}

fn row_prefix(row: Option<u64>) -> String {
    row.map(|r| format!("row {r}: ")).unwrap_or_default()
}

impl IoError {
    /// Stable code for translation: `not_utf8`, `not_a_table`, `bad_row`, `empty_file`, `io`,
    /// `xlsx`, or the [`Limit::code`] of a limit passed.
    pub fn code(&self) -> &'static str {
        match self {
            IoError::TooLarge { limit, .. } => limit.code(),
            IoError::Encoding { .. } => "not_utf8",
            IoError::NotATable(_) => "not_a_table",
            IoError::Row { .. } => "bad_row",
            IoError::Empty => "empty_file",
            IoError::Io(_) => "io",
            IoError::Xlsx(_) => "xlsx",
        }
    }

    /// The row the problem is in, when it concerns one row.
    pub fn row(&self) -> Option<u64> {
        match self {
            IoError::Encoding { row, .. } => *row,
            IoError::Row { row, .. } => Some(*row),
            IoError::TooLarge { row, .. } => *row,
            _ => None,
        }
    }
}

const NOT_UTF8: &str = "the file is not UTF-8 text: in Excel or LibreOffice choose \"Save as\" and the type \
                        \"CSV UTF-8 (comma delimited)\" (or save it as .xlsx), then upload it again";

fn encoding(row: Option<u64>, detail: &str) -> IoError {
    IoError::Encoding { row, message: format!("{detail}; {NOT_UTF8}") }
}

/// How many bytes of a file's beginning [`detect_kind`] looks at (more is ignored).
pub const HEAD_LEN: usize = 8192;

/// Tells what a file holds from its name and its first bytes (up to [`HEAD_LEN`]).
///
/// - zip (`PK\x03\x04`): a workbook ([`FileKind::Xlsx`]);
/// - UTF-8 text, with or without BOM: [`FileKind::Csv`];
/// - UTF-16/UTF-32 (BOM or NUL-interleaved text) or bytes that are not UTF-8: [`IoError::Encoding`];
/// - anything else binary (PDF, old `.xls`, images, archives): [`IoError::NotATable`].
pub fn detect_kind(file_name: &str, head: &[u8]) -> Result<FileKind, IoError> {
    let head = &head[..head.len().min(HEAD_LEN)];
    let ext = file_name.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()).unwrap_or_default();
    if head.starts_with(b"PK\x03\x04") || head.starts_with(b"PK\x05\x06") {
        return Ok(FileKind::Xlsx);
    }
    if head.starts_with(&[0xD0, 0xCF, 0x11, 0xE0]) {
        return Err(IoError::NotATable(
            "this is an old Excel 97-2003 workbook (.xls): open it in Excel or LibreOffice and save it as \
             .xlsx or as \"CSV UTF-8\", then upload it again"
                .into(),
        ));
    }
    if head.starts_with(b"%PDF") {
        return Err(IoError::NotATable(
            "this is a PDF document, not a table: upload the spreadsheet (.xlsx or CSV) the PDF was made from".into(),
        ));
    }
    if head.starts_with(&[0xFF, 0xFE]) || head.starts_with(&[0xFE, 0xFF]) {
        return Err(encoding(None, "the file is UTF-16 text (Excel's \"Unicode text\")"));
    }
    if head.starts_with(&[0x00, 0x00, 0xFE, 0xFF]) {
        return Err(encoding(None, "the file is UTF-32 text"));
    }
    let body = head.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).unwrap_or(head);
    if body.contains(&0) {
        // Text with every other byte zero is UTF-16 without a BOM.
        let zeros_odd = body.iter().skip(1).step_by(2).filter(|b| **b == 0).count();
        let zeros_even = body.iter().step_by(2).filter(|b| **b == 0).count();
        let half = body.len() / 2;
        if half > 0 && (zeros_odd * 10 >= half * 8 || zeros_even * 10 >= half * 8) {
            return Err(encoding(None, "the file is UTF-16 text (Excel's \"Unicode text\")"));
        }
        return Err(not_a_table(&ext));
    }
    match std::str::from_utf8(body) {
        Ok(text) => {
            if text.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r' | '\x0C')) {
                return Err(not_a_table(&ext));
            }
        }
        // A character cut at the end of the head is fine.
        Err(e) if e.error_len().is_none() => {}
        Err(_) => {
            return Err(encoding(
                None,
                "the file contains bytes that are not UTF-8 (perhaps Windows-1252 or a legacy Khmer font encoding)",
            ))
        }
    }
    if matches!(ext.as_str(), "xlsx" | "xlsm" | "ods" | "xlsb") {
        return Err(IoError::NotATable(format!("the file is named .{ext} but is not a workbook: it holds plain text")));
    }
    Ok(FileKind::Csv)
}

fn not_a_table(ext: &str) -> IoError {
    let named = if ext.is_empty() { String::new() } else { format!(" (named .{ext})") };
    IoError::NotATable(format!(
        "the file{named} is neither a CSV text file nor an XLSX workbook: save the table as .xlsx or \"CSV UTF-8\""
    ))
}

/// The delimiter of a CSV header line: the most frequent of `,`, `;` and
/// tab outside quotes (`,` when none appears or on a tie).
pub fn detect_delimiter(header_line: &[u8]) -> u8 {
    let (mut comma, mut semi, mut tab) = (0usize, 0usize, 0usize);
    let mut quoted = false;
    let start = header_line.iter().position(|b| !b.is_ascii_whitespace()).unwrap_or(0);
    for &b in &header_line[start..] {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            b',' if !quoted => comma += 1,
            b';' if !quoted => semi += 1,
            b'\t' if !quoted => tab += 1,
            _ => {}
        }
    }
    if semi > comma && semi >= tab {
        b';'
    } else if tab > comma && tab > semi {
        b'\t'
    } else {
        b','
    }
}

/// The cells of one row: its 1-based row number as a spreadsheet shows it
/// (the header is row 1 in a normal file), and its cells as text.
pub type Row = (u64, Vec<String>);

/// A table read from a file: the header row, then the rows as an iterator.
///
/// Fully empty rows are skipped (their numbers are not reused). Rows shorter
/// than the header are padded with empty cells; longer ones keep their extra
/// cells. CSV is read as it is iterated, in constant memory; so is a workbook's first
/// sheet, by a thread of its own, once what the workbook unzips to, its rows and its cells
/// were checked against the [`ReadLimits`]. A CSV file past a limit yields an error at the
/// row that goes past it (and nothing after it).
pub struct TableReader {
    kind: FileKind,
    headers: Vec<String>,
    header_row: u64,
    delimiter: Option<u8>,
    rows: Rows,
}

enum Rows {
    Csv(Box<CsvRows>),
    Sheet(sheet::SheetRows),
}

struct CsvRows {
    reader: csv::Reader<Box<dyn Read + Send>>,
    record: csv::ByteRecord,
    /// Offsets of the `\n` bytes the CSV parser has been given but that were not counted yet.
    newlines: Arc<Mutex<VecDeque<u64>>>,
    /// `\n` bytes before the end of the last record.
    lines_done: u64,
    /// Line breaks inside quoted cells so far: a line number minus these is the row number.
    inner_breaks: u64,
    done: bool,
    limits: ReadLimits,
    /// Non-empty records read so far (the header is the first).
    records: u64,
}

/// Passes bytes through, noting where each `\n` is (row numbers come from
/// them: the CSV parser's own line count skips blank lines and lags on CRLF).
struct LineTracker<R> {
    inner: R,
    offset: u64,
    newlines: Arc<Mutex<VecDeque<u64>>>,
}

impl<R: Read> Read for LineTracker<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut q = self.newlines.lock().unwrap_or_else(|e| e.into_inner());
        for (i, b) in buf[..n].iter().enumerate() {
            if *b == b'\n' {
                q.push_back(self.offset + i as u64);
            }
        }
        self.offset += n as u64;
        Ok(n)
    }
}

impl CsvRows {
    /// The limits on the record just read (row `row`), before its cells are copied.
    fn check_limits(&self, row: u64) -> Result<(), IoError> {
        self.limits.check_rows(self.records.saturating_sub(1))?;
        self.limits.check_width(row, self.record.len() as u64)?;
        for field in self.record.iter() {
            self.limits.check_cell(row, field)?;
        }
        Ok(())
    }

    /// The next record that has a non-blank cell, with its row number.
    fn next_record(&mut self) -> Option<Result<(u64, Vec<String>), IoError>> {
        loop {
            if self.done {
                return None;
            }
            match self.reader.read_byte_record(&mut self.record) {
                Ok(false) => {
                    self.done = true;
                    return None;
                }
                Ok(true) => {}
                Err(e) => {
                    self.done = true;
                    return Some(Err(match e.into_kind() {
                        csv::ErrorKind::Io(io) => IoError::Io(io),
                        other => IoError::Row { row: self.lines_done + 1, message: format!("{other:?}") },
                    }));
                }
            }
            // The record ends at `end` (after its terminator, or part of a CRLF).
            let end = self.reader.position().byte();
            let mut last_is_newline = false;
            {
                let mut q = self.newlines.lock().unwrap_or_else(|e| e.into_inner());
                while let Some(&at) = q.front() {
                    if at >= end {
                        break;
                    }
                    q.pop_front();
                    self.lines_done += 1;
                    last_is_newline = at + 1 == end;
                }
            }
            let last_line = self.lines_done + u64::from(!last_is_newline);
            self.inner_breaks +=
                self.record.iter().map(|f| f.iter().filter(|b| **b == b'\n').count() as u64).sum::<u64>();
            let row = last_line.saturating_sub(self.inner_breaks).max(1);
            if self.record.iter().all(|f| f.iter().all(|b| b.is_ascii_whitespace())) {
                continue;
            }
            self.records += 1;
            if let Err(e) = self.check_limits(row) {
                self.done = true;
                return Some(Err(e));
            }
            let mut cells = Vec::with_capacity(self.record.len());
            for field in self.record.iter() {
                match std::str::from_utf8(field) {
                    Ok(s) => cells.push(unguard_formula(s).to_string()),
                    Err(_) => {
                        return Some(Err(encoding(Some(row), "this row contains bytes that are not UTF-8")));
                    }
                }
            }
            return Some(Ok((row, cells)));
        }
    }
}

impl TableReader {
    /// Reads a file of either kind from a stream within the upload limits
    /// ([`ReadLimits::UPLOAD`]); see [`TableReader::open_with`].
    pub fn open<R: Read + Send + 'static>(file_name: &str, r: R) -> Result<Self, IoError> {
        Self::open_with(file_name, r, ReadLimits::default())
    }

    /// Reads a file of either kind from a stream: looks at its first bytes
    /// ([`detect_kind`]), then streams CSV, or reads the whole workbook into memory and
    /// streams its first sheet.
    pub fn open_with<R: Read + Send + 'static>(file_name: &str, mut r: R, limits: ReadLimits) -> Result<Self, IoError> {
        let mut head = Vec::with_capacity(HEAD_LEN);
        (&mut r).take(HEAD_LEN as u64).read_to_end(&mut head)?;
        match detect_kind(file_name, &head)? {
            FileKind::Csv => Self::csv_with(Cursor::new(head).chain(r), limits),
            FileKind::Xlsx => {
                r.read_to_end(&mut head)?;
                Self::xlsx_with(head, limits)
            }
        }
    }

    /// Reads a file of either kind held in memory, within the upload limits.
    pub fn from_bytes(file_name: &str, bytes: Vec<u8>) -> Result<Self, IoError> {
        Self::from_bytes_with(file_name, bytes, ReadLimits::default())
    }

    /// Reads a file of either kind held in memory, within `limits`.
    pub fn from_bytes_with(file_name: &str, bytes: Vec<u8>, limits: ReadLimits) -> Result<Self, IoError> {
        match detect_kind(file_name, &bytes)? {
            FileKind::Csv => Self::csv_with(Cursor::new(bytes), limits),
            FileKind::Xlsx => Self::xlsx_with(bytes, limits),
        }
    }

    /// Streams CSV from `r` within the upload limits; see [`TableReader::csv_with`].
    pub fn csv<R: Read + Send + 'static>(r: R) -> Result<Self, IoError> {
        Self::csv_with(r, ReadLimits::default())
    }

    /// Streams CSV from `r`: UTF-8 with or without BOM, delimiter `,`, `;` or
    /// tab (guessed from the header line), quotes as Excel writes them.
    pub fn csv_with<R: Read + Send + 'static>(mut r: R, limits: ReadLimits) -> Result<Self, IoError> {
        // Read the header line (up to 64 KiB) to choose the delimiter, then put it back.
        let mut prefix = Vec::new();
        let mut buf = [0u8; 4096];
        let mut quoted = false;
        let mut seen_text = false;
        'fill: while prefix.len() < 65536 {
            let n = r.read(&mut buf)?;
            if n == 0 {
                break;
            }
            prefix.extend_from_slice(&buf[..n]);
            for &b in &buf[..n] {
                match b {
                    b'"' => quoted = !quoted,
                    b'\n' if !quoted && seen_text => break 'fill,
                    b if !b.is_ascii_whitespace() => seen_text = true,
                    _ => {}
                }
            }
        }
        // `prefix` may hold bytes after the header line; that is fine: they are replayed.
        let body = prefix.strip_prefix(&[0xEF, 0xBB, 0xBF][..]).map(<[u8]>::to_vec).unwrap_or(prefix);
        let delimiter = detect_delimiter(&body);
        let newlines = Arc::new(Mutex::new(VecDeque::new()));
        let stream: Box<dyn Read + Send> =
            Box::new(LineTracker { inner: Cursor::new(body).chain(r), offset: 0, newlines: newlines.clone() });
        let reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(delimiter)
            .buffer_capacity(64 * 1024)
            .from_reader(stream);
        let mut rows = CsvRows {
            reader,
            record: csv::ByteRecord::new(),
            newlines,
            lines_done: 0,
            inner_breaks: 0,
            done: false,
            limits,
            records: 0,
        };
        let (header_row, headers) = match rows.next_record() {
            None => return Err(IoError::Empty),
            Some(Err(e)) => return Err(e),
            Some(Ok(h)) => h,
        };
        let headers = headers.into_iter().map(|h| h.trim().to_string()).collect();
        Ok(Self {
            kind: FileKind::Csv,
            headers,
            header_row,
            delimiter: Some(delimiter),
            rows: Rows::Csv(Box::new(rows)),
        })
    }

    /// Reads a workbook held in memory within the upload limits; see [`TableReader::xlsx_with`].
    pub fn xlsx(bytes: Vec<u8>) -> Result<Self, IoError> {
        Self::xlsx_with(bytes, ReadLimits::default())
    }

    /// Reads the first sheet of a workbook (XLSX; also ODS and XLSB) held in memory: first
    /// what it unzips to, its rows and its cells are checked against `limits` (an error
    /// names the limit), then its rows are streamed.
    ///
    /// Numbers come out without a trailing `.0` (`45352`, `0.5`); cells
    /// formatted as dates as ISO dates (`2024-03-01`, or `2024-03-01T08:30:00`
    /// with a time); booleans as `TRUE`/`FALSE`; errors as Excel shows them (`#N/A`).
    pub fn xlsx_with(bytes: Vec<u8>, limits: ReadLimits) -> Result<Self, IoError> {
        let ((header_row, headers), rows) = sheet::open_sheet(bytes, limits)?;
        let headers: Vec<String> = headers.into_iter().map(|h| h.trim().to_string()).collect();
        Ok(Self { kind: FileKind::Xlsx, headers, header_row, delimiter: None, rows: Rows::Sheet(rows) })
    }

    /// The header cells (trimmed), in file order.
    pub fn headers(&self) -> &[String] {
        &self.headers
    }

    /// Row number of the header (1 unless empty rows come first).
    pub fn header_row(&self) -> u64 {
        self.header_row
    }

    pub fn kind(&self) -> FileKind {
        self.kind
    }

    /// The CSV delimiter found (None for a workbook).
    pub fn delimiter(&self) -> Option<u8> {
        self.delimiter
    }
}

impl Iterator for TableReader {
    type Item = Result<Row, IoError>;

    fn next(&mut self) -> Option<Self::Item> {
        let width = self.headers.len();
        let row = match &mut self.rows {
            Rows::Sheet(sheet) => sheet.next_row(),
            Rows::Csv(csv) => csv.next_record(),
        };
        row.map(|r| {
            r.map(|(n, mut cells)| {
                if cells.len() < width {
                    cells.resize(width, String::new());
                }
                (n, cells)
            })
        })
    }
}
