//! Reading and writing tables: round trips with Khmer text, encodings,
//! delimiters, refused files, empty rows and row numbers.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::io::{Cursor, Read};

use komlang_core::import::{check_mapping, convert_row, guess_mapping, parse_date};
use komlang_io::{detect_kind, write_csv, write_xlsx, FileKind, IoError, Row, TableReader};

fn rows_of(r: TableReader) -> Vec<Row> {
    r.map(|r| r.unwrap()).collect()
}

fn s(v: &[&str]) -> Vec<String> {
    v.iter().map(|x| x.to_string()).collect()
}

const HEADERS: &[&str] = &["name_km", "name_latin", "national_id", "ស្ថានភាព", "note"];

fn sample_rows() -> Vec<Vec<String>> {
    vec![
        s(&["សុខ ចាន់ធា", "Sok Chantha", "0102030405", "កំពុងបម្រើការងារ", "plain"]),
        s(&["ហេង\u{200B}ដារា", "Heng Dara", "007", "", "a, comma; semicolon\tand tab"]),
        s(&["គីម សុខា", "Kim \"Sokha\"", "", "Active", "two\nlines"]),
        s(&["", "", "", "", "=1+1"]),
    ]
}

#[test]
fn csv_round_trip_with_khmer() {
    let mut out = Vec::new();
    write_csv(&mut out, HEADERS, sample_rows().into_iter()).unwrap();
    assert!(out.starts_with(&[0xEF, 0xBB, 0xBF]), "BOM for Excel");
    assert_eq!(detect_kind("export.csv", &out).unwrap(), FileKind::Csv);
    let r = TableReader::from_bytes("export.csv", out).unwrap();
    assert_eq!(r.headers(), HEADERS);
    assert_eq!(r.delimiter(), Some(b','));
    let rows = rows_of(r);
    let expected: Vec<Row> = sample_rows().into_iter().enumerate().map(|(i, r)| (i as u64 + 2, r)).collect();
    assert_eq!(rows, expected);
}

#[test]
fn xlsx_round_trip_with_khmer_and_leading_zeros() {
    let mut out = Cursor::new(Vec::new());
    write_xlsx(&mut out, HEADERS, sample_rows().into_iter()).unwrap();
    let bytes = out.into_inner();
    assert_eq!(detect_kind("export.xlsx", &bytes).unwrap(), FileKind::Xlsx);
    let r = TableReader::from_bytes("export.xlsx", bytes).unwrap();
    assert_eq!(r.kind(), FileKind::Xlsx);
    assert_eq!(r.headers(), HEADERS);
    assert_eq!(r.header_row(), 1);
    let rows = rows_of(r);
    let expected: Vec<Row> = sample_rows().into_iter().enumerate().map(|(i, r)| (i as u64 + 2, r)).collect();
    assert_eq!(rows, expected);
}

#[test]
fn export_then_import_through_the_core() {
    let headers = [
        "id",
        "name_km",
        "name_latin",
        "sex",
        "date_of_birth",
        "national_id",
        "cadre",
        "role",
        "sector",
        "workplace_code",
        "workplace_name_en",
        "status",
    ];
    let row = s(&[
        "17",
        "សុខ ចាន់ធា",
        "Sok Chantha",
        "female",
        "1990-04-13",
        "0102030405",
        "para_social_worker",
        "ccwc_focal_point",
        "government",
        "010201",
        "Mongkol Borei",
        "active",
    ]);
    let today = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    let mut csv = Vec::new();
    write_csv(&mut csv, &headers, std::iter::once(row.clone())).unwrap();
    let mut xlsx = Cursor::new(Vec::new());
    write_xlsx(&mut xlsx, &headers, std::iter::once(row)).unwrap();
    for (name, bytes) in [("w.csv", csv), ("w.xlsx", xlsx.into_inner())] {
        let mut r = TableReader::from_bytes(name, bytes).unwrap();
        let headers = r.headers().to_vec();
        let m = guess_mapping(&headers);
        check_mapping(&m).unwrap();
        let (n, cells) = r.next().unwrap().unwrap();
        let ok = convert_row(&m, &headers, n, &cells, today).unwrap();
        assert_eq!(ok.row, 2);
        assert_eq!(ok.input.national_id.as_deref(), Some("0102030405"), "{name}");
        assert_eq!(ok.input.date_of_birth.as_deref(), Some("1990-04-13"));
        assert!(r.next().is_none());
    }
}

#[test]
fn bom_or_no_bom_reads_the_same() {
    let text = "name_km,name_latin\nសុខ,Sok\n";
    let with_bom = [&[0xEF, 0xBB, 0xBF][..], text.as_bytes()].concat();
    for bytes in [text.as_bytes().to_vec(), with_bom] {
        let r = TableReader::from_bytes("f.csv", bytes).unwrap();
        assert_eq!(r.headers(), ["name_km", "name_latin"]);
        assert_eq!(rows_of(r), vec![(2, s(&["សុខ", "Sok"]))]);
    }
}

#[test]
fn semicolon_and_tab_delimiters() {
    for (text, d) in [
        ("name_km;name_latin;phone\nសុខ;Sok, Chea;012 345 678\n", b';'),
        ("name_km\tname_latin\tphone\nសុខ\tSok, Chea\t012 345 678\n", b'\t'),
        ("\"a;b\",name_latin,phone\nសុខ,\"Sok, Chea\",012 345 678\n", b','),
    ] {
        let r = TableReader::from_bytes("f.csv", text.as_bytes().to_vec()).unwrap();
        assert_eq!(r.delimiter(), Some(d));
        assert_eq!(r.headers().len(), 3);
        let rows = rows_of(r);
        assert_eq!(rows[0].1[1], "Sok, Chea");
    }
}

#[test]
fn ragged_rows_are_padded_or_kept() {
    let text = "a,b,c\n1\n1,2,3,4\n\"x\ny\",2\n";
    let rows = rows_of(TableReader::from_bytes("f.csv", text.as_bytes().to_vec()).unwrap());
    assert_eq!(rows, vec![(2, s(&["1", "", ""])), (3, s(&["1", "2", "3", "4"])), (4, s(&["x\ny", "2", ""]))]);
}

#[test]
fn empty_rows_are_skipped_and_numbers_stay_right() {
    let text = "\r\nname_km,name_latin\r\n\r\nសុខ,Sok\r\n,,\r\n  ,\t\r\n\"multi\nline\",x\r\nហេង,Heng\r\n\r\n";
    let r = TableReader::from_bytes("f.csv", text.as_bytes().to_vec()).unwrap();
    assert_eq!(r.header_row(), 2);
    assert_eq!(rows_of(r), vec![(4, s(&["សុខ", "Sok"])), (7, s(&["multi\nline", "x"])), (8, s(&["ហេង", "Heng"]))]);
}

#[test]
fn workbook_cells_are_formatted_for_import() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let date = Format::new().set_num_format("dd/mm/yyyy");
    let sheet = book.add_worksheet();
    // Header in row 2 and column B: the table starts wherever the data does.
    for (c, h) in ["name_latin", "date_of_birth", "org_id", "ratio", "flag", "national_id"].iter().enumerate() {
        sheet.write_string(1, c as u16 + 1, *h).unwrap();
    }
    sheet.write_string(2, 1, "Sok").unwrap();
    sheet.write_datetime_with_format(2, 2, ExcelDateTime::from_ymd(2024, 3, 1).unwrap(), &date).unwrap();
    sheet.write_number(2, 3, 12.0).unwrap();
    sheet.write_number(2, 4, 0.5).unwrap();
    sheet.write_boolean(2, 5, true).unwrap();
    sheet.write_number(2, 6, 10203045.0).unwrap();
    // Rows 4 and 5 empty; row 6 has a serial number typed as a plain number.
    sheet.write_string(5, 1, "Dara").unwrap();
    sheet.write_number(5, 2, 45352.0).unwrap();
    sheet.write_string(5, 3, "  ").unwrap();
    let bytes = book.save_to_buffer().unwrap();
    let r = TableReader::from_bytes("book.xlsx", bytes).unwrap();
    assert_eq!(r.header_row(), 2);
    assert_eq!(r.headers(), ["name_latin", "date_of_birth", "org_id", "ratio", "flag", "national_id"]);
    let rows = rows_of(r);
    assert_eq!(
        rows,
        vec![
            (3, s(&["Sok", "2024-03-01", "12", "0.5", "TRUE", "10203045"])),
            (6, s(&["Dara", "45352", "", "", "", ""])),
        ]
    );
    let d = chrono::NaiveDate::from_ymd_opt(2024, 3, 1);
    assert_eq!(parse_date(&rows[0].1[1]), d);
    assert_eq!(parse_date(&rows[1].1[1]), d);
}

#[test]
fn workbook_date_times_parse() {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let f = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    let sheet = book.add_worksheet();
    sheet.write_string(0, 0, "start_date").unwrap();
    sheet
        .write_datetime_with_format(1, 0, ExcelDateTime::from_ymd(1990, 4, 13).unwrap().and_hms(8, 30, 0).unwrap(), &f)
        .unwrap();
    sheet.write_datetime_with_format(2, 0, ExcelDateTime::from_ymd(1900, 1, 1).unwrap(), &f).unwrap();
    let rows = rows_of(TableReader::from_bytes("b.xlsx", book.save_to_buffer().unwrap()).unwrap());
    assert_eq!(rows[0].1[0], "1990-04-13T08:30:00");
    assert_eq!(parse_date(&rows[0].1[0]), chrono::NaiveDate::from_ymd_opt(1990, 4, 13));
    assert_eq!(parse_date(&rows[1].1[0]), chrono::NaiveDate::from_ymd_opt(1900, 1, 1));
}

#[test]
fn utf16_is_refused_with_a_clear_message() {
    let text = "name_km,name_latin\r\nសុខ,Sok\r\n";
    let mut le: Vec<u8> = vec![0xFF, 0xFE];
    le.extend(text.encode_utf16().flat_map(|u| u.to_le_bytes()));
    let mut be: Vec<u8> = vec![0xFE, 0xFF];
    be.extend(text.encode_utf16().flat_map(|u| u.to_be_bytes()));
    let no_bom: Vec<u8> = "name_latin,phone\r\nSok,012\r\n".encode_utf16().flat_map(|u| u.to_le_bytes()).collect();
    for bytes in [le, be, no_bom] {
        let e = detect_kind("workers.csv", &bytes).unwrap_err();
        assert!(matches!(e, IoError::Encoding { row: None, .. }), "{e:?}");
        assert!(e.to_string().contains("CSV UTF-8"), "{e}");
        assert_eq!(e.code(), "not_utf8");
        assert!(TableReader::from_bytes("workers.csv", bytes).is_err());
    }
}

#[test]
fn legacy_encodings_are_refused() {
    // "Café" in Windows-1252.
    let bytes = b"name_latin\r\nCaf\xE9\r\n".to_vec();
    let e = detect_kind("w.csv", &bytes).unwrap_err();
    assert!(matches!(e, IoError::Encoding { .. }), "{e:?}");
    assert!(e.to_string().contains("not UTF-8"));
    // A bad byte after the first 8 KiB is found while streaming, with its row.
    let mut big = b"name_latin,n\n".to_vec();
    let mut n = 1;
    while big.len() < 20_000 {
        n += 1;
        big.extend_from_slice(format!("Sok Chea,{n}\n").as_bytes());
    }
    big.extend_from_slice(b"Caf\xE9,x\nSok,y\n");
    let results: Vec<_> = TableReader::open("w.csv", Cursor::new(big)).unwrap().collect();
    let bad = results.iter().find_map(|r| r.as_ref().err()).unwrap();
    assert_eq!(bad.row(), Some(n + 1));
    assert!(matches!(bad, IoError::Encoding { row: Some(_), .. }));
    assert!(bad.to_string().starts_with(&format!("row {}: ", n + 1)), "{bad}");
    // Reading goes on after the bad row.
    assert_eq!(results.last().unwrap().as_ref().unwrap().1, s(&["Sok", "y"]));
}

#[test]
fn other_files_are_refused() {
    let pdf = b"%PDF-1.7\n%\xE2\xE3\xCF\xD3\n1 0 obj\n".to_vec();
    let e = detect_kind("workers.pdf", &pdf).unwrap_err();
    assert!(matches!(e, IoError::NotATable(_)));
    assert!(e.to_string().contains("PDF"));
    let xls = [&[0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1][..], &[0u8; 100]].concat();
    let e = detect_kind("workers.xls", &xls).unwrap_err();
    assert!(matches!(e, IoError::NotATable(_)));
    assert!(e.to_string().contains(".xls"));
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
    assert!(matches!(detect_kind("photo.png", &png), Err(IoError::NotATable(_))));
    assert!(matches!(detect_kind("x.xlsx", b"name,a\n1,2\n"), Err(IoError::NotATable(_))));
    // A zip that is not a workbook (e.g. a .docx) fails when read.
    let zip = b"PK\x03\x04\x14\0\0\0\0\0garbage".to_vec();
    assert_eq!(detect_kind("w.xlsx", &zip).unwrap(), FileKind::Xlsx);
    let e = TableReader::from_bytes("w.xlsx", zip).err().unwrap();
    assert_eq!(e.code(), "not_a_table", "{e}");
}

#[test]
fn empty_files_have_no_header() {
    for bytes in [&b""[..], b"\n\n", b"\xEF\xBB\xBF", b" ,, \n"] {
        let e = TableReader::from_bytes("e.csv", bytes.to_vec()).err().unwrap();
        assert!(matches!(e, IoError::Empty), "{e:?}");
    }
    let mut book = rust_xlsxwriter::Workbook::new();
    book.add_worksheet();
    let e = TableReader::from_bytes("e.xlsx", book.save_to_buffer().unwrap()).err().unwrap();
    assert!(matches!(e, IoError::Empty), "{e:?}");
}

/// A CSV of `n` rows produced as it is read (never held in memory).
struct Generated {
    n: u64,
    next: u64,
    pending: Vec<u8>,
    pos: usize,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.pos == self.pending.len() {
            if self.next > self.n {
                return Ok(0);
            }
            self.pending = if self.next == 0 {
                "\u{FEFF}name_km;name_latin;national_id\n".as_bytes().to_vec()
            } else {
                format!("សុខ {0};Sok {0};{0:09}\n", self.next).into_bytes()
            };
            self.pos = 0;
            self.next += 1;
        }
        let k = buf.len().min(self.pending.len() - self.pos);
        buf[..k].copy_from_slice(&self.pending[self.pos..self.pos + k]);
        self.pos += k;
        Ok(k)
    }
}

#[test]
fn csv_streams_from_any_reader() {
    let n = 100_000;
    let r = TableReader::open("big.csv", Generated { n, next: 0, pending: Vec::new(), pos: 0 }).unwrap();
    assert_eq!(r.headers(), ["name_km", "name_latin", "national_id"]);
    assert_eq!(r.delimiter(), Some(b';'));
    let mut count = 0;
    for (i, row) in r.enumerate() {
        let (num, cells) = row.unwrap();
        assert_eq!(num, i as u64 + 2);
        if i == 41 {
            assert_eq!(cells, s(&["សុខ 42", "Sok 42", "000000042"]));
        }
        count += 1;
    }
    assert_eq!(count, n);
}

#[test]
fn large_xlsx_export_reads_back() {
    let rows = (0..5000).map(|i| vec![format!("សុខ {i}"), format!("{i:06}")]);
    let mut out = Cursor::new(Vec::new());
    write_xlsx(&mut out, &["name_km", "national_id"], rows).unwrap();
    let r = TableReader::from_bytes("x.xlsx", out.into_inner()).unwrap();
    let rows = rows_of(r);
    assert_eq!(rows.len(), 5000);
    assert_eq!(rows[4999], (5001, s(&["សុខ 4999", "004999"])));
}

#[test]
fn write_errors_name_the_row() {
    let long = "x".repeat(40_000);
    let rows = vec![s(&["ok"]), vec![long]];
    let e = write_xlsx(Cursor::new(Vec::new()), &["a"], rows.into_iter()).unwrap_err();
    assert_eq!(e.row(), Some(3), "{e}");
}

#[test]
fn readers_can_move_to_another_thread() {
    fn is_send<T: Send + 'static>() {}
    is_send::<TableReader>();
    is_send::<IoError>();
}
