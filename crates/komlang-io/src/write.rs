//! Writing tables for export: CSV (UTF-8 with BOM, no cell a spreadsheet program would run
//! as a formula) and XLSX (text cells).

use std::io::{Seek, Write};

use crate::sheet::{MAX_COLS, MAX_ROWS};
use crate::IoError;

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
