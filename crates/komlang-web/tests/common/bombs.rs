//! Files that expand: workbooks whose sheet unzips to far more than the file, and tables of
//! many long rows.

use std::io::{Cursor, Read, Write};

/// A workbook of `rows` rows of `cells` cells of `chars` characters each, with a header row
/// of worker columns; its sheet (inline strings) unzips to about `rows * cells * chars`
/// bytes, the file is some 70 times smaller. Written as a stream: the test holds the zip only.
pub fn xlsx_bomb(rows: usize, cells: usize, chars: usize) -> Vec<u8> {
    // The other parts of a workbook, from a real one.
    let mut book = rust_xlsxwriter::Workbook::new();
    book.add_worksheet().write_string(0, 0, "x").unwrap();
    let small = book.save_to_buffer().unwrap();
    let mut src = zip::ZipArchive::new(Cursor::new(small)).unwrap();
    let mut out = Cursor::new(Vec::new());
    let mut z = zip::ZipWriter::new(&mut out);
    for i in 0..src.len() {
        let f = src.by_index_raw(i).unwrap();
        if f.name() != "xl/worksheets/sheet1.xml" {
            z.raw_copy_file(f).unwrap();
        }
    }
    let opts = zip::write::SimpleFileOptions::default().compression_level(Some(1));
    z.start_file("xl/worksheets/sheet1.xml", opts).unwrap();
    let col = |c: usize| char::from(b'A' + (c % 26) as u8).to_string();
    let cell =
        |r: usize, c: usize, text: &str| format!("<c r=\"{}{r}\" t=\"inlineStr\"><is><t>{text}</t></is></c>", col(c));
    z.write_all(
        b"<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<worksheet \
          xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\"><sheetData>",
    )
    .unwrap();
    let headers = ["name_km", "name_latin", "sex", "cadre", "role", "sector", "workplace_code", "status"];
    let head: String = (0..cells).map(|c| cell(1, c, headers.get(c).copied().unwrap_or("notes"))).collect();
    z.write_all(format!("<row r=\"1\">{head}</row>").as_bytes()).unwrap();
    let long = "x".repeat(chars);
    for r in 2..rows + 2 {
        let row: String = (0..cells).map(|c| cell(r, c, &long)).collect();
        z.write_all(format!("<row r=\"{r}\">{row}</row>").as_bytes()).unwrap();
    }
    z.write_all(b"</sheetData></worksheet>").unwrap();
    z.finish().unwrap();
    out.into_inner()
}

/// What the parts of a zip unzip to, all together.
pub fn unzipped_size(bytes: &[u8]) -> u64 {
    let mut z = zip::ZipArchive::new(Cursor::new(bytes)).unwrap();
    let mut total = 0;
    for i in 0..z.len() {
        let mut f = z.by_index(i).unwrap();
        total += std::io::copy(&mut f, &mut std::io::sink()).unwrap();
    }
    total
}

/// Sets the uncompressed size a zip's directory (and local header) declares for `part`:
/// a file that says it is huge, cheaply.
pub fn declare_size(zip: &mut [u8], part: &str, size: u32) {
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

/// A CSV file of worker columns and `rows` rows, each rejected (the sex is `nobody`), with
/// `extra` more columns of `chars` characters.
pub fn rejected_rows_csv(rows: usize, extra: usize, chars: usize) -> Vec<u8> {
    let mut s = String::from("name_km,name_latin,sex,cadre,role,sector,workplace_code,status");
    for c in 0..extra {
        s.push_str(&format!(",notes {c}"));
    }
    s.push_str("\r\n");
    let long = "y".repeat(chars);
    for _ in 0..rows {
        s.push_str("សុខ,Sok,nobody,para_social_worker,ccwc_focal_point,government,010201,active");
        for _ in 0..extra {
            s.push(',');
            s.push_str(&long);
        }
        s.push_str("\r\n");
    }
    s.into_bytes()
}

/// Peak and current resident memory of this process (kB), from `/proc/self/status`.
pub fn memory_kb() -> (u64, u64) {
    let mut s = String::new();
    std::fs::File::open("/proc/self/status").unwrap().read_to_string(&mut s).unwrap();
    let field = |name: &str| {
        s.lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or_else(|| panic!("{name} in /proc/self/status"))
    };
    (field("VmHWM:"), field("VmRSS:"))
}

/// Resets the peak of resident memory (`VmHWM`) to the current size.
pub fn reset_peak_memory() {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
}
