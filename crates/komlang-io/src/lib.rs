//! Komlang file formats: reading tables from CSV and XLSX (and ODS) files,
//! and writing them for export. No domain logic: rows come out as text cells
//! with the row numbers a spreadsheet program shows; `komlang-core::import`
//! recognizes the columns and turns the cells into registry input.
//!
//! - [`detect_kind`] tells CSV from XLSX by content, and refuses, with a
//!   message a user can act on, files in another encoding or format.
//! - [`TableReader`] streams CSV from any [`Read`] in constant memory and reads
//!   the first sheet of a workbook; both yield `(row number, cells)`.
//! - [`write_csv`] (UTF-8 with BOM) and [`write_xlsx`] (text cells, bold frozen header) export.
//! - [`guard_formula`] and [`unguard_formula`]: no CSV cell written here starts a formula in
//!   a spreadsheet program, and the CSV reader reads every written cell back unchanged.

use std::collections::{BTreeMap, VecDeque};
use std::io::{Cursor, Read, Seek, Write};
use std::sync::{Arc, Mutex};

use calamine::{DataRef, Reader};

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
}

fn row_prefix(row: Option<u64>) -> String {
    row.map(|r| format!("row {r}: ")).unwrap_or_default()
}

impl IoError {
    /// Stable code for translation: `not_utf8`, `not_a_table`, `bad_row`, `empty_file`, `io`, `xlsx`.
    pub fn code(&self) -> &'static str {
        match self {
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
/// cells. CSV is read as it is iterated, in constant memory; a workbook's
/// first sheet is read when the reader is made.
pub struct TableReader {
    kind: FileKind,
    headers: Vec<String>,
    header_row: u64,
    delimiter: Option<u8>,
    rows: Rows,
}

enum Rows {
    Csv(Box<CsvRows>),
    Sheet(std::vec::IntoIter<Row>),
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
    /// Reads a file of either kind from a stream: looks at its first bytes
    /// ([`detect_kind`]), then streams CSV, or reads the whole workbook into memory.
    pub fn open<R: Read + Send + 'static>(file_name: &str, mut r: R) -> Result<Self, IoError> {
        let mut head = Vec::with_capacity(HEAD_LEN);
        (&mut r).take(HEAD_LEN as u64).read_to_end(&mut head)?;
        match detect_kind(file_name, &head)? {
            FileKind::Csv => Self::csv(Cursor::new(head).chain(r)),
            FileKind::Xlsx => {
                r.read_to_end(&mut head)?;
                Self::xlsx(head)
            }
        }
    }

    /// Reads a file of either kind held in memory.
    pub fn from_bytes(file_name: &str, bytes: Vec<u8>) -> Result<Self, IoError> {
        match detect_kind(file_name, &bytes)? {
            FileKind::Csv => Self::csv(Cursor::new(bytes)),
            FileKind::Xlsx => Self::xlsx(bytes),
        }
    }

    /// Streams CSV from `r`: UTF-8 with or without BOM, delimiter `,`, `;` or
    /// tab (guessed from the header line), quotes as Excel writes them.
    pub fn csv<R: Read + Send + 'static>(mut r: R) -> Result<Self, IoError> {
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
        let mut rows =
            CsvRows { reader, record: csv::ByteRecord::new(), newlines, lines_done: 0, inner_breaks: 0, done: false };
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

    /// Reads the first sheet of a workbook (XLSX; also ODS and XLSB) held in memory.
    ///
    /// Numbers come out without a trailing `.0` (`45352`, `0.5`); cells
    /// formatted as dates as ISO dates (`2024-03-01`, or `2024-03-01T08:30:00`
    /// with a time); booleans as `TRUE`/`FALSE`; errors as Excel shows them (`#N/A`).
    pub fn xlsx(bytes: Vec<u8>) -> Result<Self, IoError> {
        let cells = std::panic::catch_unwind(move || read_first_sheet(bytes))
            .unwrap_or_else(|_| Err(IoError::NotATable("the workbook is damaged and cannot be read".into())))?;
        let mut rows = cells.into_iter();
        let (header_row, headers) = rows.next().ok_or(IoError::Empty)?;
        let headers: Vec<String> = headers.into_iter().map(|h| h.trim().to_string()).collect();
        let width = headers.len();
        let rows: Vec<Row> = rows
            .map(|(n, mut cells)| {
                if cells.len() < width {
                    cells.resize(width, String::new());
                }
                (n, cells)
            })
            .collect();
        Ok(Self { kind: FileKind::Xlsx, headers, header_row, delimiter: None, rows: Rows::Sheet(rows.into_iter()) })
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
        match &mut self.rows {
            Rows::Sheet(it) => it.next().map(Ok),
            Rows::Csv(csv) => {
                let width = self.headers.len();
                csv.next_record().map(|r| {
                    r.map(|(n, mut cells)| {
                        if cells.len() < width {
                            cells.resize(width, String::new());
                        }
                        (n, cells)
                    })
                })
            }
        }
    }
}

/// Excel's largest column index (XFD) and row count.
const MAX_COLS: u32 = 16_384;
const MAX_ROWS: u32 = 1_048_576;

/// The non-empty rows of the first sheet, with 1-based row numbers.
fn read_first_sheet(bytes: Vec<u8>) -> Result<Vec<Row>, IoError> {
    let damaged = |e: &dyn std::fmt::Display| {
        IoError::NotATable(format!("the file is not a readable XLSX or ODS workbook ({e}); save it again as .xlsx"))
    };
    // XLSX: read cell by cell (sparse; a stray far-away cell costs nothing).
    match calamine::open_workbook_from_rs::<calamine::Xlsx<_>, _>(Cursor::new(bytes.as_slice())) {
        Ok(mut book) => {
            let Some(name) = book.sheet_names().first().cloned() else { return Err(IoError::Empty) };
            let mut reader = book.worksheet_cells_reader(&name).map_err(|e| damaged(&e))?;
            let mut sparse: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
            while let Some(cell) = reader.next_cell().map_err(|e| damaged(&e))? {
                let (r, c) = cell.get_position();
                if r >= MAX_ROWS || c >= MAX_COLS {
                    continue;
                }
                let text = cell_text(cell.get_value());
                if !text.trim().is_empty() {
                    sparse.entry(r).or_default().push((c, text));
                }
            }
            Ok(dense_rows(sparse))
        }
        Err(xlsx_err) => {
            // ODS or XLSB.
            let mut book =
                calamine::open_workbook_auto_from_rs(Cursor::new(bytes.as_slice())).map_err(|_| damaged(&xlsx_err))?;
            let range = match book.worksheet_range_at(0) {
                None => return Err(IoError::Empty),
                Some(r) => r.map_err(|e| damaged(&e))?,
            };
            let (r0, c0) = range.start().unwrap_or((0, 0));
            let mut sparse: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
            for (i, row) in range.rows().enumerate() {
                for (j, v) in row.iter().enumerate() {
                    let text = data_text(v);
                    if !text.trim().is_empty() {
                        sparse.entry(r0 + i as u32).or_default().push((c0 + j as u32, text));
                    }
                }
            }
            Ok(dense_rows(sparse))
        }
    }
}

/// Rows from sparse cells: columns from A (so the header's columns line up),
/// rows numbered from 1 as the spreadsheet shows them.
fn dense_rows(sparse: BTreeMap<u32, Vec<(u32, String)>>) -> Vec<Row> {
    let first_col = sparse.values().flat_map(|cells| cells.iter().map(|c| c.0)).min().unwrap_or(0);
    sparse
        .into_iter()
        .map(|(r, cells)| {
            let width = cells.iter().map(|c| c.0 - first_col + 1).max().unwrap_or(0) as usize;
            let mut row = vec![String::new(); width];
            for (c, text) in cells {
                row[(c - first_col) as usize] = text;
            }
            (u64::from(r) + 1, row)
        })
        .collect()
}

/// The text of a cell of a sheet read whole (ODS, XLSB).
fn data_text(d: &calamine::Data) -> String {
    use calamine::Data;
    match d {
        Data::Empty => String::new(),
        Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        Data::Float(f) => format_number(*f),
        Data::Bool(b) => cell_text(&DataRef::Bool(*b)),
        Data::DateTime(dt) => cell_text(&DataRef::DateTime(*dt)),
        Data::Error(e) => e.to_string(),
    }
}

/// A number as a person would type it: no trailing `.0`, no exponent for whole numbers.
pub fn format_number(f: f64) -> String {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        format!("{f}")
    }
}

fn cell_text(v: &DataRef<'_>) -> String {
    match v {
        DataRef::Empty => String::new(),
        DataRef::String(s) => s.clone(),
        DataRef::SharedString(s) => s.to_string(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => format_number(*f),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        DataRef::DateTime(dt) => {
            let f = dt.as_f64();
            // Dates from 1900 to 9999 (also in the 1904 system); anything else stays a number.
            if dt.is_datetime() && (0.0..2_958_466.0).contains(&f) {
                match dt.as_datetime() {
                    Some(t) if t.time() == chrono::NaiveTime::MIN => t.format("%Y-%m-%d").to_string(),
                    Some(t) => t.format("%Y-%m-%dT%H:%M:%S").to_string(),
                    None => format_number(f),
                }
            } else {
                format_number(f)
            }
        }
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::Error(e) => e.to_string(),
    }
}

/// The first characters that make a spreadsheet program (Excel, LibreOffice, Google Sheets)
/// read a cell as a formula (OWASP "CSV Injection"), with their full-width forms, which some
/// of them read the same way in East Asian input modes.
const FORMULA_STARTS: &[char] = &['=', '+', '-', '@', '\u{FF1D}', '\u{FF0B}', '\u{FF0D}', '\u{FF20}'];

/// True when a spreadsheet program could read `cell` as a formula: it starts with a tab or a
/// carriage return, or its first character other than white space is one of `= + - @` (or
/// their full-width forms). A plain negative number (`-12`, `-0.5`) is a number to every
/// spreadsheet program, not a formula, and is not counted.
pub fn is_formula_like(cell: &str) -> bool {
    if cell.starts_with(['\t', '\r']) {
        return true;
    }
    if !cell.trim_start().starts_with(FORMULA_STARTS) {
        return false;
    }
    !is_negative_number(cell)
}

/// `-` then digits, with at most one `.` between digits.
fn is_negative_number(cell: &str) -> bool {
    let Some(digits) = cell.strip_prefix('-') else { return false };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    all_digits(whole) && all_digits(fraction)
}

/// True when the cell, without its leading single quotes, is formula-like: such a cell
/// gets one more `'` in a CSV file.
fn needs_guard(cell: &str) -> bool {
    is_formula_like(cell.trim_start_matches('\''))
}

/// A cell as a CSV file holds it: one single quote `'` before a cell that a spreadsheet
/// program could read as a formula ([`is_formula_like`]), so that it shows as text, and
/// before a cell made of single quotes and then such a cell (so that one that began with a
/// `'` reads back unchanged too). Every other cell is written as it is.
///
/// [`unguard_formula`] undoes it: for every text `s`, `unguard_formula(&guard_formula(s)) == s`.
pub fn guard_formula(cell: &str) -> std::borrow::Cow<'_, str> {
    if needs_guard(cell) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// A cell of a CSV file as it was before [`guard_formula`]: one leading `'` is dropped
/// when what follows is formula-like after its own leading single quotes (`'=1+1` reads
/// `=1+1`, `''=x` reads `'=x`, `'+855 12 345 678` reads `+855 12 345 678`). A cell like
/// `'abc` or `'-5` stays as it is. Files from elsewhere follow the same rule: a value typed
/// as `'=…` (a quote before a formula character) reads without its first quote.
pub fn unguard_formula(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if needs_guard(rest) => rest,
        _ => cell,
    }
}

fn csv_writer<W: Write>(out: W) -> csv::Writer<W> {
    csv::WriterBuilder::new().flexible(true).terminator(csv::Terminator::CRLF).from_writer(out)
}

fn csv_error(e: csv::Error) -> IoError {
    match e.into_kind() {
        csv::ErrorKind::Io(io) => IoError::Io(io),
        other => IoError::Io(std::io::Error::other(format!("{other:?}"))),
    }
}

/// Every CSV row this crate writes goes through here: each cell through [`guard_formula`].
fn write_record<W: Write, S: AsRef<str>>(w: &mut csv::Writer<W>, cells: &[S]) -> Result<(), IoError> {
    use std::borrow::Cow;
    fn bytes(c: &str) -> Cow<'_, [u8]> {
        match guard_formula(c) {
            Cow::Borrowed(s) => Cow::Borrowed(s.as_bytes()),
            Cow::Owned(s) => Cow::Owned(s.into_bytes()),
        }
    }
    w.write_record(cells.iter().map(|c| bytes(c.as_ref()))).map_err(csv_error)
}

/// Writes a CSV file for export: UTF-8 with a BOM (so Excel shows Khmer
/// text), comma-delimited, CRLF line ends, quoted where needed, no cell that a spreadsheet
/// program would run as a formula ([`guard_formula`]; [`TableReader`] reads them back as
/// they were).
pub fn write_csv<W: Write>(out: W, headers: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Result<(), IoError> {
    let mut out = out;
    out.write_all(&[0xEF, 0xBB, 0xBF])?;
    let mut w = csv_writer(out);
    write_record(&mut w, headers)?;
    for row in rows {
        write_record(&mut w, &row)?;
    }
    w.flush()?;
    Ok(())
}

/// Rows as [`write_csv`] writes them after its BOM and header: for a file sent in pieces
/// (the header with `write_csv` and no rows, then the rows page by page).
pub fn csv_rows<R: AsRef<[String]>>(rows: impl IntoIterator<Item = R>) -> Result<Vec<u8>, IoError> {
    let mut w = csv_writer(Vec::new());
    for row in rows {
        write_record(&mut w, row.as_ref())?;
    }
    w.into_inner().map_err(|e| IoError::Io(std::io::Error::other(e.to_string())))
}

/// Excel's limit on the characters in one cell.
const MAX_CELL_CHARS: usize = 32_767;

/// Writes an XLSX workbook for export: one sheet, a bold header row that
/// stays in view (frozen), every cell as text (national IDs and phone
/// numbers keep their leading zeros). Rows are written as they come, through
/// a temporary file, so memory stays flat. Errors name the row (as the sheet shows it).
pub fn write_xlsx<W: Write + Seek + Send>(
    out: W,
    headers: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> Result<(), IoError> {
    use rust_xlsxwriter::{Format, Workbook};
    let x = |e: rust_xlsxwriter::XlsxError| IoError::Xlsx(e.to_string());
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let text = Format::new().set_num_format("@");
    let sheet = book.add_worksheet_with_constant_memory();
    sheet.set_name("workers").map_err(x)?;
    for (c, h) in headers.iter().enumerate() {
        let c = u16::try_from(c).map_err(|_| IoError::Xlsx("too many columns".into()))?;
        sheet.set_column_width(c, (h.chars().count() as f64 + 4.0).clamp(10.0, 40.0)).map_err(x)?;
    }
    sheet.set_freeze_panes(1, 0).map_err(x)?;
    for (c, h) in headers.iter().enumerate() {
        sheet.write_string_with_format(0, c as u16, *h, &bold).map_err(x)?;
    }
    for (i, row) in rows.enumerate() {
        let r = i as u64 + 1;
        let too_many =
            || IoError::Row { row: r + 1, message: "more rows than a worksheet can hold (1,048,576)".into() };
        let r32 = u32::try_from(r).ok().filter(|r| *r < MAX_ROWS).ok_or_else(too_many)?;
        for (c, v) in row.iter().enumerate() {
            if v.is_empty() {
                continue;
            }
            let c = u16::try_from(c)
                .ok()
                .filter(|c| u32::from(*c) < MAX_COLS)
                .ok_or_else(|| IoError::Row { row: r + 1, message: "more columns than a worksheet can hold".into() })?;
            if v.chars().count() > MAX_CELL_CHARS {
                return Err(IoError::Row {
                    row: r + 1,
                    message: format!("a cell is longer than Excel allows ({MAX_CELL_CHARS} characters)"),
                });
            }
            sheet
                .write_string_with_format(r32, c, v, &text)
                .map_err(|e| IoError::Row { row: r + 1, message: e.to_string() })?;
        }
    }
    book.save_to_writer(out).map_err(x)?;
    Ok(())
}
