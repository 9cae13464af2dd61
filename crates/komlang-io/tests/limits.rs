//! The limits a table is read within: rows, cells per row, characters per cell, and what a
//! workbook unzips to (declared and actual), each refused with an error naming it.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::io::{Cursor, Write};

use komlang_io::{IoError, Limit, ReadLimits, TableReader};

fn small() -> ReadLimits {
    ReadLimits {
        max_rows: 10,
        max_cells_per_row: 5,
        max_cell_chars: 10,
        max_unzipped_bytes: 1024 * 1024,
        max_zip_entries: 50,
    }
}

fn xlsx(rows: &[Vec<String>]) -> Vec<u8> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, v).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

fn csv(rows: &[Vec<String>]) -> Vec<u8> {
    rows.iter().map(|r| r.join(",") + "\r\n").collect::<String>().into_bytes()
}

fn table(n: usize, width: usize, cell: &str) -> Vec<Vec<String>> {
    let mut rows = vec![(0..width).map(|c| format!("h{c}")).collect::<Vec<_>>()];
    rows.extend((0..n).map(|r| (0..width).map(|c| format!("{cell}{}", (r + c) % 10)).collect()));
    rows
}

#[track_caller]
fn limit_of(e: IoError) -> (Limit, u64, Option<u64>) {
    match e {
        IoError::TooLarge { limit, max, row } => (limit, max, row),
        other => panic!("expected a limit, got {other:?}"),
    }
}

/// Reads every row of a file; the first error.
fn read_all(name: &str, bytes: Vec<u8>, limits: ReadLimits) -> Result<usize, IoError> {
    let r = TableReader::from_bytes_with(name, bytes, limits)?;
    let mut n = 0;
    for row in r {
        row?;
        n += 1;
    }
    Ok(n)
}

#[test]
fn rows_cells_and_characters_within_the_limits_read() {
    let rows = table(10, 5, "abcdefghi");
    assert_eq!(read_all("f.xlsx", xlsx(&rows), small()).unwrap(), 10);
    assert_eq!(read_all("f.csv", csv(&rows), small()).unwrap(), 10);
    // Characters, not bytes: ten Khmer letters are 30 bytes.
    let khmer = table(3, 2, "សុខសុខសុខ");
    assert_eq!(read_all("f.xlsx", xlsx(&khmer), small()).unwrap(), 3);
    assert_eq!(read_all("f.csv", csv(&khmer), small()).unwrap(), 3);
}

#[test]
fn too_many_rows() {
    let rows = table(11, 2, "a");
    // A workbook is refused before any row is read.
    let e = TableReader::from_bytes_with("f.xlsx", xlsx(&rows), small()).err().expect("refused");
    assert_eq!(limit_of(e), (Limit::Rows, 10, None));
    // CSV is a stream: ten rows, then the error.
    let mut r = TableReader::from_bytes_with("f.csv", csv(&rows), small()).unwrap();
    for _ in 0..10 {
        r.next().unwrap().unwrap();
    }
    let e = r.next().unwrap().unwrap_err();
    assert_eq!(e.code(), "too_many_rows");
    assert!(e.to_string().contains("more than 10 rows"), "{e}");
    assert!(r.next().is_none(), "nothing after the error");
}

#[test]
fn too_many_cells_in_a_row() {
    let mut rows = table(3, 5, "a");
    rows[2].push("x".into());
    let e = read_all("f.xlsx", xlsx(&rows), small()).unwrap_err();
    assert_eq!(limit_of(e), (Limit::CellsPerRow, 5, Some(3)));
    let e = read_all("f.csv", csv(&rows), small()).unwrap_err();
    assert_eq!(limit_of(e), (Limit::CellsPerRow, 5, Some(3)));
    // Empty cells count in CSV (a row of commas), not past a workbook's last cell.
    let text = "a,b\r\n1,2,,,,,\r\n";
    let e = read_all("f.csv", text.as_bytes().to_vec(), small()).unwrap_err();
    assert_eq!(limit_of(e), (Limit::CellsPerRow, 5, Some(2)));
}

#[test]
fn too_long_a_cell() {
    let mut rows = table(3, 2, "a");
    rows[3][1] = "x".repeat(11);
    let e = read_all("f.xlsx", xlsx(&rows), small()).expect_err("refused");
    assert_eq!(limit_of(e), (Limit::CellChars, 10, Some(4)));
    let e = read_all("f.csv", csv(&rows), small()).unwrap_err();
    assert_eq!(e.row(), Some(4));
    assert!(e.to_string().starts_with("row 4: a cell has more than 10 characters"), "{e}");
}

/// A workbook whose sheet inflates to `n` bytes of markup (a few KB zipped).
fn inflating(mb: usize) -> Vec<u8> {
    let cell = "x".repeat(1000);
    let rows: Vec<Vec<String>> = (0..mb * 100).map(|_| (0..10).map(|_| cell.clone()).collect()).collect();
    // Inline strings: the text is in the sheet's own XML.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet_with_constant_memory();
    for (r, row) in rows.iter().enumerate() {
        for (c, v) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, v).unwrap();
        }
    }
    book.save_to_buffer().unwrap()
}

/// Sets the uncompressed size a zip's directory (and local header) declares for `part`.
fn declare_size(zip: &mut [u8], part: &str, size: u32) {
    let name = part.as_bytes();
    let mut found = 0;
    for i in 0..zip.len().saturating_sub(46) {
        if zip[i..].starts_with(b"PK\x01\x02") {
            let len = u16::from_le_bytes([zip[i + 28], zip[i + 29]]) as usize;
            if &zip[i + 46..i + 46 + len] == name {
                zip[i + 24..i + 28].copy_from_slice(&size.to_le_bytes());
                let local = u32::from_le_bytes(zip[i + 42..i + 46].try_into().unwrap()) as usize;
                zip[local + 22..local + 26].copy_from_slice(&size.to_le_bytes());
                found += 1;
            }
        }
    }
    assert_eq!(found, 1, "{part} in the zip");
}

#[test]
fn a_workbook_that_unzips_too_large_is_refused_before_it_is_read() {
    let bomb = inflating(2);
    assert!(bomb.len() < 100_000, "a small file: {} bytes", bomb.len());
    let e = TableReader::from_bytes_with("bomb.xlsx", bomb.clone(), small()).err().expect("refused");
    assert_eq!(limit_of(e), (Limit::Unzipped, 1024 * 1024, None));
    // The directory lies (the sheet is said to be 100 bytes): its real size still counts.
    let mut liar = bomb;
    declare_size(&mut liar, "xl/worksheets/sheet1.xml", 100);
    let e = TableReader::from_bytes_with("liar.xlsx", liar, small()).err().expect("refused");
    assert_eq!(limit_of(e).0, Limit::Unzipped);
}

#[test]
fn the_default_limit_refuses_a_declared_size_at_once() {
    let mut book = xlsx(&table(2, 2, "a"));
    declare_size(&mut book, "xl/worksheets/sheet1.xml", 300 * 1024 * 1024);
    let e = TableReader::from_bytes("huge.xlsx", book).err().expect("refused");
    assert_eq!(limit_of(e), (Limit::Unzipped, ReadLimits::UPLOAD.max_unzipped_bytes, None));
    assert!(e_text(Limit::Unzipped).contains("128 MB"), "{}", e_text(Limit::Unzipped));
    // The command line's limit is higher.
    let mut book = xlsx(&table(2, 2, "a"));
    declare_size(&mut book, "xl/worksheets/sheet1.xml", 300 * 1024 * 1024);
    match TableReader::from_bytes_with("huge.xlsx", book, ReadLimits::COMMAND_LINE) {
        Ok(_) | Err(IoError::NotATable(_)) => {}
        Err(e) => panic!("the command line reads it (or finds it damaged): {e:?}"),
    }
}

fn e_text(limit: Limit) -> String {
    IoError::TooLarge { limit, max: ReadLimits::UPLOAD.max_unzipped_bytes, row: None }.to_string()
}

#[test]
fn a_workbook_of_too_many_parts_is_refused() {
    let mut out = Cursor::new(Vec::new());
    {
        let mut z = zip::ZipWriter::new(&mut out);
        for i in 0..60 {
            z.start_file(format!("part{i}.xml"), zip::write::SimpleFileOptions::default()).unwrap();
            z.write_all(b"<x/>").unwrap();
        }
        z.finish().unwrap();
    }
    let e = TableReader::from_bytes_with("parts.xlsx", out.into_inner(), small()).err().expect("refused");
    assert_eq!(limit_of(e), (Limit::ZipEntries, 50, None));
}

#[test]
fn sheets_stream_and_the_reader_can_stop_early() {
    // A reader dropped after the header stops its thread (nothing hangs).
    let rows = table(5_000, 3, "abc");
    let bytes = xlsx(&rows);
    for _ in 0..20 {
        let r = TableReader::from_bytes("f.xlsx", bytes.clone()).unwrap();
        assert_eq!(r.headers(), ["h0", "h1", "h2"]);
    }
    let r = TableReader::from_bytes("f.xlsx", bytes).unwrap();
    assert_eq!(r.count(), 5_000);
}
