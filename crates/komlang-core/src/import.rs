//! Reading worker rows from spreadsheets: recognizing columns (headers in
//! Khmer or English), normalizing values (dates in several forms, Khmer
//! digits, labels instead of codes) and turning each row into a
//! [`WorkerInput`] or a list of specific problems. Pure: the file reading is
//! `komlang-io`'s, the database checks are the store's.

use std::collections::HashMap;
use std::sync::OnceLock;

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::model::vocabulary;
use crate::validate::{validate_worker, WorkerInput};

vocabulary!(
    /// Registry fields an import column can map to. Codes equal the
    /// `WorkerInput` field names, plus two ways of naming the employer.
    ImportField, "import_field" {
        NameKm => "name_km",
        NameLatin => "name_latin",
        Sex => "sex",
        DateOfBirth => "date_of_birth",
        NationalId => "national_id",
        Phone => "phone",
        Email => "email",
        Cadre => "cadre",
        Role => "role",
        Sector => "sector",
        OrgId => "org_id",
        OrgName => "org_name",
        OrgRegistrationNo => "org_registration_no",
        PositionTitle => "position_title",
        WorkplaceCode => "workplace_code",
        Status => "status",
        StartDate => "start_date",
        EndDate => "end_date",
        EducationLevel => "education_level",
        EducationField => "education_field",
    }
);

impl ImportField {
    /// Fields every import file must have a column for.
    pub const REQUIRED: &'static [ImportField] = &[
        ImportField::NameKm,
        ImportField::NameLatin,
        ImportField::Sex,
        ImportField::Cadre,
        ImportField::Role,
        ImportField::Sector,
        ImportField::WorkplaceCode,
        ImportField::Status,
    ];

    /// True for the fields listed in [`ImportField::REQUIRED`].
    pub fn is_required(self) -> bool {
        Self::REQUIRED.contains(&self)
    }

    /// True for the fields holding a date.
    pub fn is_date(self) -> bool {
        matches!(self, ImportField::DateOfBirth | ImportField::StartDate | ImportField::EndDate)
    }
}

/// Which registry field each column of a file feeds (None: ignored).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ColumnMapping {
    pub columns: Vec<Option<ImportField>>,
}

impl ColumnMapping {
    /// Index of the first column feeding `field`.
    pub fn column_of(&self, field: ImportField) -> Option<usize> {
        self.columns.iter().position(|c| *c == Some(field))
    }
}

/// A problem with a mapping (a required field with no column, a field fed by two columns).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MappingError {
    pub field: ImportField,
    /// `missing_required_column` or `duplicate_column`.
    pub code: String,
}

/// The employer as a file names it; the store resolves it to an organization.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrgRef {
    pub id: Option<i64>,
    pub name: Option<String>,
    pub registration_no: Option<String>,
}

impl OrgRef {
    /// True when the file names no employer.
    pub fn is_empty(&self) -> bool {
        self.id.is_none() && self.name.is_none() && self.registration_no.is_none()
    }
}

/// One problem in one cell (or row) of a file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RowError {
    /// 1-based row number as a spreadsheet program shows it (the header is row 1).
    pub row: u64,
    /// Header of the column (empty when the problem concerns the whole row).
    pub column: String,
    pub field: String,
    pub value: String,
    /// Same codes as the form validation (`required`, `invalid_date`, ...).
    pub code: String,
    /// Values the message refers to (e.g. `max`), as in [`crate::FieldError`].
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub params: std::collections::BTreeMap<String, String>,
}

/// A row of a file ready for the registry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportRow {
    pub row: u64,
    pub input: WorkerInput,
    pub org: OrgRef,
}

// ---------------------------------------------------------------------------
// Header recognition
// ---------------------------------------------------------------------------

/// A header or value reduced for comparison: Khmer digits to ASCII, lower
/// case, without spaces, punctuation, symbols or zero-width characters.
/// Letters, digits and Khmer combining signs are kept.
pub fn match_key(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let c = khmer_digit(c).unwrap_or(c);
        if c.is_alphanumeric() || is_khmer_sign(c) {
            out.extend(c.to_lowercase());
        }
    }
    out
}

/// Khmer vowel signs, coeng and diacritics (marks that `is_alphanumeric` rejects).
fn is_khmer_sign(c: char) -> bool {
    matches!(c, '\u{17B4}'..='\u{17D3}' | '\u{17DD}')
}

fn khmer_digit(c: char) -> Option<char> {
    match c {
        '\u{17E0}'..='\u{17E9}' => char::from_u32('0' as u32 + (c as u32 - 0x17E0)),
        _ => None,
    }
}

/// Header spellings recognized for each field, besides the field code itself.
/// Compared with [`match_key`], so case, spaces and punctuation do not matter.
const HEADER_ALIASES: &[(ImportField, &[&str])] = &[
    (
        ImportField::NameKm,
        &[
            "Name (Khmer script)",
            "Name (Khmer)",
            "Name in Khmer",
            "Name Khmer",
            "Name KH",
            "name_kh",
            "Khmer name",
            "Khmer full name",
            "Full name in Khmer",
            "Full name (Khmer)",
            "Full name Khmer",
            "Name in Khmer script",
            "Khmer script name",
            "ឈ្មោះ",
            "ឈ្មោះ (អក្សរខ្មែរ)",
            "ឈ្មោះជាអក្សរខ្មែរ",
            "ឈ្មោះខ្មែរ",
            "ឈ្មោះពេញ",
            "ឈ្មោះពេញជាអក្សរខ្មែរ",
            "នាមត្រកូល និងនាមខ្លួន",
            "គោត្តនាម និងនាម",
            "គោត្តនាមនិងនាម",
            "នាម និងគោត្តនាម",
        ],
    ),
    (
        ImportField::NameLatin,
        &[
            "Name (Latin letters)",
            "Name (Latin)",
            "Name in Latin",
            "Name in Latin letters",
            "Latin name",
            "Name (English)",
            "Name in English",
            "English name",
            "Name EN",
            "name_en",
            "Full name in Latin",
            "Full name in Latin letters",
            "Full name in English",
            "Full name (Latin)",
            "Full name (English)",
            "Romanized name",
            "Romanised name",
            "Name",
            "Full name",
            "ឈ្មោះ (អក្សរឡាតាំង)",
            "ឈ្មោះជាអក្សរឡាតាំង",
            "ឈ្មោះឡាតាំង",
            "ឈ្មោះជាភាសាអង់គ្លេស",
            "ឈ្មោះជាអក្សរអង់គ្លេស",
            "ឈ្មោះអង់គ្លេស",
        ],
    ),
    (ImportField::Sex, &["Sex", "Gender", "Sex (M/F)", "Sex (F/M)", "M/F", "F/M", "ភេទ"]),
    (
        ImportField::DateOfBirth,
        &[
            "Date of birth",
            "DOB",
            "D.O.B.",
            "Birth date",
            "Birthdate",
            "Birthday",
            "Date born",
            "Born",
            "ថ្ងៃខែឆ្នាំកំណើត",
            "ថ្ងៃ ខែ ឆ្នាំ កំណើត",
            "ថ្ងៃកំណើត",
            "កាលបរិច្ឆេទកំណើត",
        ],
    ),
    (
        ImportField::NationalId,
        &[
            "National ID",
            "National ID number",
            "National ID no",
            "National ID no.",
            "National ID card",
            "National ID card number",
            "National identity card",
            "NID",
            "ID card",
            "ID card number",
            "ID card no",
            "ID number",
            "ID no",
            "Khmer ID",
            "Khmer ID card",
            "លេខអត្តសញ្ញាណប័ណ្ណ",
            "អត្តសញ្ញាណប័ណ្ណ",
            "លេខអត្តសញ្ញាណប័ណ្ណសញ្ជាតិខ្មែរ",
            "អត្តសញ្ញាណប័ណ្ណសញ្ជាតិខ្មែរ",
            "លេខអត្តសញ្ញាណ",
        ],
    ),
    (
        ImportField::Phone,
        &[
            "Phone",
            "Phone number",
            "Phone no",
            "Tel",
            "Tel.",
            "Telephone",
            "Telephone number",
            "Mobile",
            "Mobile phone",
            "Mobile number",
            "Cell phone",
            "Contact number",
            "ទូរស័ព្ទ",
            "លេខទូរស័ព្ទ",
            "ទូរសព្ទ",
            "លេខទូរសព្ទ",
            "លេខទំនាក់ទំនង",
        ],
    ),
    (ImportField::Email, &["Email", "E-mail", "Email address", "E-mail address", "អ៊ីមែល", "អ៊ីម៉ែល", "អុីមែល", "អ៉ីមែល"]),
    (
        ImportField::Cadre,
        &["Cadre", "Worker type", "Type of worker", "Worker category", "Cadre of worker", "ប្រភេទបុគ្គលិក", "ក្របខណ្ឌ"],
    ),
    (ImportField::Role, &["Role", "Function", "Worker role", "តួនាទី"]),
    (ImportField::Sector, &["Sector", "Employment sector", "វិស័យ"]),
    (
        ImportField::OrgId,
        &["Org ID", "Organization ID", "Organisation ID", "Employer ID", "Employer organization ID", "លេខសម្គាល់អង្គភាព"],
    ),
    (
        ImportField::OrgName,
        &[
            "Organization",
            "Organisation",
            "Organization name",
            "Organisation name",
            "Employer",
            "Employer name",
            "Employer organization",
            "Employer organisation",
            "Employing organization",
            "Agency",
            "Institution",
            "NGO",
            "NGO name",
            "អង្គភាព",
            "អង្គភាពនិយោជក",
            "ឈ្មោះអង្គភាព",
            "អង្គការ",
            "ឈ្មោះអង្គការ",
            "ស្ថាប័ន",
        ],
    ),
    (
        ImportField::OrgRegistrationNo,
        &[
            "Registration number",
            "Registration no",
            "Org registration number",
            "Organization registration number",
            "Organisation registration number",
            "NGO registration number",
            "Employer registration number",
            "លេខចុះបញ្ជី",
            "លេខចុះបញ្ជីអង្គភាព",
            "លេខចុះបញ្ជីអង្គការ",
        ],
    ),
    (
        ImportField::PositionTitle,
        &["Position", "Position title", "Job title", "Title", "Post", "Designation", "មុខតំណែង", "តំណែង", "មុខងារ"],
    ),
    (
        ImportField::WorkplaceCode,
        &[
            "Workplace",
            "Workplace code",
            "Workplace (admin unit code)",
            "Workplace admin code",
            "Admin unit code",
            "Admin code",
            "Administrative unit code",
            "Location code",
            "Geo code",
            "Geocode",
            "Province/district code",
            "Province/district/commune code",
            "Province/district/commune/village code",
            "កន្លែងធ្វើការ",
            "កន្លែងធ្វើការ (លេខកូដឯកតារដ្ឋបាល)",
            "លេខកូដកន្លែងធ្វើការ",
            "លេខកូដឯកតារដ្ឋបាល",
            "លេខកូដភូមិសាស្ត្រ",
            "ទីកន្លែងធ្វើការ",
            "លេខកូដខេត្ត/ស្រុក",
            "លេខកូដខេត្ត/ស្រុក/ឃុំ",
        ],
    ),
    (ImportField::Status, &["Status", "Employment status", "Work status", "Job status", "ស្ថានភាព", "ស្ថានភាពការងារ"]),
    (
        ImportField::StartDate,
        &[
            "Start date",
            "Date started",
            "Start of employment",
            "Employment date",
            "Date of employment",
            "Hire date",
            "Date hired",
            "Date joined",
            "Joining date",
            "ថ្ងៃចាប់ផ្ដើម",
            "ថ្ងៃចាប់ផ្តើម",
            "ថ្ងៃចាប់ផ្ដើមការងារ",
            "ថ្ងៃចាប់ផ្តើមការងារ",
            "ថ្ងៃចូលបម្រើការងារ",
            "ថ្ងៃចូលធ្វើការ",
            "កាលបរិច្ឆេទចាប់ផ្ដើម",
            "កាលបរិច្ឆេទចាប់ផ្តើម",
        ],
    ),
    (
        ImportField::EndDate,
        &[
            "End date",
            "Date ended",
            "Date left",
            "End of employment",
            "Termination date",
            "Separation date",
            "ថ្ងៃបញ្ចប់",
            "ថ្ងៃឈប់",
            "ថ្ងៃបញ្ចប់ការងារ",
            "កាលបរិច្ឆេទបញ្ចប់",
        ],
    ),
    (
        ImportField::EducationLevel,
        &[
            "Education",
            "Education level",
            "Level of education",
            "Highest education",
            "Highest education level",
            "Highest qualification",
            "Qualification",
            "កម្រិតវប្បធម៌",
            "កម្រិតវប្បធម៌ខ្ពស់បំផុត",
            "កម្រិតសិក្សា",
            "កម្រិតអប់រំ",
        ],
    ),
    (
        ImportField::EducationField,
        &[
            "Field of education",
            "Education field",
            "Field of study",
            "Major",
            "Specialization",
            "Specialisation",
            "ជំនាញសិក្សា",
            "ជំនាញ",
            "ឯកទេស",
        ],
    ),
];

fn header_table() -> &'static HashMap<String, ImportField> {
    static TABLE: OnceLock<HashMap<String, ImportField>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut m = HashMap::new();
        for (field, aliases) in HEADER_ALIASES {
            m.insert(match_key(field.code()), *field);
            for a in *aliases {
                m.insert(match_key(a), *field);
            }
        }
        // Exported files use the codes as headers: they must win over any alias.
        for field in ImportField::ALL {
            m.insert(match_key(field.code()), *field);
        }
        m
    })
}

/// The field a single header names, if it is recognized.
pub fn guess_field(header: &str) -> Option<ImportField> {
    // Codes first, exactly (exported files).
    if let Some(f) = ImportField::parse(header) {
        return Some(f);
    }
    let key = match_key(header);
    if key.is_empty() {
        return None;
    }
    header_table().get(&key).copied()
}

/// Guesses the field of each header, recognizing codes, English and Khmer labels.
pub fn guess_mapping(headers: &[String]) -> ColumnMapping {
    ColumnMapping { columns: headers.iter().map(|h| guess_field(h)).collect() }
}

/// Checks that every required field has exactly one column.
pub fn check_mapping(m: &ColumnMapping) -> Result<(), Vec<MappingError>> {
    let mut errors = Vec::new();
    for field in ImportField::ALL {
        let n = m.columns.iter().filter(|c| **c == Some(*field)).count();
        if n == 0 && field.is_required() {
            errors.push(MappingError { field: *field, code: "missing_required_column".into() });
        } else if n > 1 {
            errors.push(MappingError { field: *field, code: "duplicate_column".into() });
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

// ---------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------

/// Replaces Khmer digits (០-៩) with ASCII digits.
pub fn ascii_digits(s: &str) -> String {
    s.chars().map(|c| khmer_digit(c).unwrap_or(c)).collect()
}

/// Largest Excel serial number accepted (9999-12-31, Excel's own limit).
pub const MAX_EXCEL_SERIAL: f64 = 2_958_465.0;

/// The date of an Excel serial number (1900 date system: 1 = 1900-01-01,
/// 61 = 1900-03-01; 60 is Excel's non-existent 1900-02-29 and is refused).
/// A fractional part (the time of day) is ignored.
pub fn excel_serial_to_date(serial: f64) -> Option<NaiveDate> {
    if !serial.is_finite() || !(1.0..MAX_EXCEL_SERIAL + 1.0).contains(&serial) {
        return None;
    }
    let days = serial.trunc() as i64;
    let base = NaiveDate::from_ymd_opt(1899, 12, 30)?;
    match days {
        60 => None,
        1..=59 => base.checked_add_signed(Duration::days(days + 1)),
        _ => base.checked_add_signed(Duration::days(days)),
    }
}

/// The Excel serial number of a date (inverse of [`excel_serial_to_date`]).
pub fn date_to_excel_serial(d: NaiveDate) -> i64 {
    let Some(base) = NaiveDate::from_ymd_opt(1899, 12, 30) else { return 0 };
    let days = (d - base).num_days();
    if days <= 60 {
        days - 1
    } else {
        days
    }
}

fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn ymd(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    if y.len() != 4 || !(1..=2).contains(&m.len()) || !(1..=2).contains(&d.len()) {
        return None;
    }
    if !(all_digits(y) && all_digits(m) && all_digits(d)) {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// A date in ISO (`2024-03-01`), day-first (`01/03/2024`, `1-3-2024`,
/// `01.03.2024`) or Excel serial (`45352`, `45352.5`) form, in ASCII or Khmer
/// digits. ISO dates may carry a time (`2024-03-01T00:00:00`,
/// `2024-03-01 08:30`), which is dropped. Two-digit years, month-first dates
/// with a day above 12 in second place, and a bare year (`1985`, taken as a
/// year, not as Excel's day 1985) are refused.
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    let s = ascii_digits(s.trim());
    let s = s.as_str();
    if s.is_empty() || s.len() > 40 {
        return None;
    }
    // Excel serial numbers.
    if s.bytes().all(|b| b.is_ascii_digit() || b == b'.') && s.bytes().filter(|b| *b == b'.').count() <= 1 {
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        if !all_digits(int) || (!frac.is_empty() && !all_digits(frac)) || int.len() > 7 {
            return None;
        }
        // A bare four-digit number looks like a year, not a date.
        if int.len() == 4 && frac.is_empty() && (1800..=2200).contains(&int.parse::<u32>().ok()?) {
            return None;
        }
        return excel_serial_to_date(s.parse().ok()?);
    }
    // ISO date, optionally followed by a time.
    if let Some(d) = iso_with_time(s) {
        return Some(d);
    }
    // Three numbers separated by one of / - . (day first, or year first).
    for sep in ['/', '-', '.'] {
        let parts: Vec<&str> = s.split(sep).collect();
        if parts.len() == 3 && parts.iter().all(|p| all_digits(p)) {
            return if parts[0].len() == 4 {
                ymd(parts[0], parts[1], parts[2])
            } else {
                ymd(parts[2], parts[1], parts[0])
            };
        }
    }
    // `1 Mar 2024`, `01-Mar-2024`, `1 March 2024`.
    for fmt in ["%d %b %Y", "%d-%b-%Y", "%d %B %Y", "%d-%B-%Y", "%d/%b/%Y"] {
        if let Ok(d) = NaiveDate::parse_from_str(s, fmt) {
            return Some(d);
        }
    }
    None
}

fn iso_with_time(s: &str) -> Option<NaiveDate> {
    let (date, time) = match s.find(['T', ' ']) {
        Some(i) => (&s[..i], Some(s[i + 1..].trim())),
        None => (s, None),
    };
    let mut parts = date.split('-');
    let (y, m, d) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let day = ymd(y, m, d)?;
    match time {
        None => Some(day),
        Some(t) => {
            let t = t.trim_end_matches('Z');
            let ok = ["%H:%M:%S%.f", "%H:%M:%S", "%H:%M"].iter().any(|f| NaiveTime::parse_from_str(t, f).is_ok())
                || NaiveDateTime::parse_from_str(&format!("{date}T{t}"), "%Y-%m-%dT%H:%M:%S%.f%:z").is_ok();
            ok.then_some(day)
        }
    }
}

/// Accepted spellings of vocabulary values besides the code: English and
/// Khmer labels (as in the web app's `locales/{en,km}.yml`) and common variants.
type ChoiceTable = &'static [(&'static str, &'static [&'static str])];

const SEX_LABELS: ChoiceTable =
    &[("female", &["Female", "F", "Woman", "W", "ស្រី", "ស", "នារី"]), ("male", &["Male", "M", "Man", "ប្រុស", "ប", "បុរស"])];

const CADRE_LABELS: ChoiceTable = &[
    (
        "professional_social_worker",
        &["Professional social worker", "Professional", "Social worker (professional)", "អ្នកសង្គមកិច្ចវិជ្ជាជីវៈ"],
    ),
    ("para_professional", &["Para-professional", "Paraprofessional", "អ្នកពាក់កណ្ដាលវិជ្ជាជីវៈ", "អ្នកពាក់កណ្តាលវិជ្ជាជីវៈ"]),
    ("para_social_worker", &["Para social worker", "Para-social worker", "ជំនួយការសង្គមកិច្ច"]),
    ("allied_worker", &["Allied worker", "Allied", "បុគ្គលិកពាក់ព័ន្ធ"]),
];

const ROLE_LABELS: ChoiceTable = &[
    ("mosvy_officer", &["MoSVY officer", "មន្ត្រីក្រសួងសង្គមកិច្ច"]),
    ("mosvy_child_protection_officer", &["MoSVY child protection officer", "មន្ត្រីការពារកុមារ ក្រសួងសង្គមកិច្ច"]),
    ("nisa_lecturer", &["NISA lecturer", "សាស្ត្រាចារ្យវិទ្យាស្ថានជាតិសង្គមកិច្ច"]),
    ("dosvy_case_management_officer", &["DoSVY case management officer", "មន្ត្រីគ្រប់គ្រងករណី មន្ទីរសង្គមកិច្ច"]),
    ("dosvy_child_protection_officer", &["DoSVY child protection officer", "មន្ត្រីការពារកុមារ មន្ទីរសង្គមកិច្ច"]),
    ("dosvy_officer", &["DoSVY officer", "មន្ត្រីមន្ទីរសង្គមកិច្ច"]),
    ("district_social_worker", &["District social worker", "អ្នកសង្គមកិច្ចថ្នាក់ស្រុក"]),
    ("district_officer", &["District office of social affairs officer", "District officer", "មន្ត្រីការិយាល័យសង្គមកិច្ចស្រុក"]),
    ("ccwc_focal_point", &["CCWC focal point", "បុគ្គលបង្គោល គ.ក.ន.ក", "បុគ្គលបង្គោល គកនក"]),
    ("ccwc_member", &["CCWC member", "សមាជិក គ.ក.ន.ក", "សមាជិក គកនក"]),
    ("social_work_agent", &["Social work agent", "ភ្នាក់ងារសង្គមកិច្ច"]),
    ("ngo_case_worker", &["NGO case worker", "បុគ្គលិកគ្រប់គ្រងករណី អង្គការ"]),
    ("ngo_social_worker", &["NGO social worker", "អ្នកសង្គមកិច្ច អង្គការ"]),
    ("ngo_manager", &["NGO manager", "អ្នកគ្រប់គ្រង អង្គការ"]),
    ("allied_police", &["Police officer (child protection)", "Police officer", "នគរបាល (ការពារកុមារ)"]),
    ("allied_teacher", &["Teacher (child protection)", "Teacher", "គ្រូបង្រៀន (ការពារកុមារ)"]),
    ("allied_health", &["Health worker (child protection)", "Health worker", "បុគ្គលិកសុខាភិបាល (ការពារកុមារ)"]),
    ("other", &["Other", "ផ្សេងៗ", "ផ្សេងទៀត"]),
];

const SECTOR_LABELS: ChoiceTable = &[
    ("government", &["Government", "Gov", "Govt", "Public", "State", "រដ្ឋ", "រាជរដ្ឋាភិបាល"]),
    ("ngo", &["NGO / CSO", "NGO", "CSO", "INGO", "អង្គការមិនមែនរដ្ឋាភិបាល / សង្គមស៊ីវិល", "អង្គការមិនមែនរដ្ឋាភិបាល", "សង្គមស៊ីវិល", "អង្គការ"]),
    ("private", &["Private", "Private sector", "ឯកជន"]),
    ("volunteer", &["Volunteer", "ស្ម័គ្រចិត្ត"]),
];

const STATUS_LABELS: ChoiceTable = &[
    ("active", &["Active", "Working", "In service", "កំពុងបម្រើការងារ", "កំពុងធ្វើការ", "សកម្ម"]),
    ("on_leave", &["On leave", "Leave", "ច្បាប់ឈប់សម្រាក", "ឈប់សម្រាក"]),
    ("transferred", &["Transferred", "បានផ្ទេរ", "ផ្ទេរ"]),
    ("left", &["Left", "Resigned", "បានឈប់", "ឈប់"]),
    ("retired", &["Retired", "ចូលនិវត្តន៍", "និវត្តន៍"]),
    ("deceased", &["Deceased", "Died", "Dead", "បានទទួលមរណភាព", "ទទួលមរណភាព", "ស្លាប់"]),
];

const EDUCATION_LABELS: ChoiceTable = &[
    ("primary", &["Primary school", "Primary", "បឋមសិក្សា"]),
    ("lower_secondary", &["Lower secondary school", "Lower secondary", "អនុវិទ្យាល័យ"]),
    ("upper_secondary", &["Upper secondary school", "Upper secondary", "High school", "វិទ្យាល័យ"]),
    ("vocational_certificate", &["Vocational certificate", "វិញ្ញាបនបត្រវិជ្ជាជីវៈ"]),
    ("tvc1", &["Technical and Vocational Certificate 1", "TVC 1", "វិញ្ញាបនបត្របច្ចេកទេស និងវិជ្ជាជីវៈ ១"]),
    ("tvc2", &["Technical and Vocational Certificate 2", "TVC 2", "វិញ្ញាបនបត្របច្ចេកទេស និងវិជ្ជាជីវៈ ២"]),
    ("tvc3", &["Technical and Vocational Certificate 3", "TVC 3", "វិញ្ញាបនបត្របច្ចេកទេស និងវិជ្ជាជីវៈ ៣"]),
    ("associate", &["Associate degree", "Associate", "បរិញ្ញាបត្ររង"]),
    ("bachelor", &["Bachelor's degree", "Bachelor", "Bachelor degree", "BA", "BSc", "បរិញ្ញាបត្រ"]),
    ("master", &["Master's degree", "Master", "Master degree", "MA", "MSc", "អនុបណ្ឌិត"]),
    ("doctorate", &["Doctorate", "PhD", "Doctoral degree", "បណ្ឌិត"]),
];

const FIELD_LABELS: ChoiceTable =
    &[("social_work", &["Social work", "សង្គមកិច្ច"]), ("other", &["Other field", "Other", "ជំនាញផ្សេង", "ផ្សេងៗ"])];

fn choice_table(field: ImportField) -> Option<ChoiceTable> {
    Some(match field {
        ImportField::Sex => SEX_LABELS,
        ImportField::Cadre => CADRE_LABELS,
        ImportField::Role => ROLE_LABELS,
        ImportField::Sector => SECTOR_LABELS,
        ImportField::Status => STATUS_LABELS,
        ImportField::EducationLevel => EDUCATION_LABELS,
        ImportField::EducationField => FIELD_LABELS,
        _ => return None,
    })
}

type ChoiceIndex = HashMap<(ImportField, String), &'static str>;

fn choice_index() -> &'static ChoiceIndex {
    static INDEX: OnceLock<ChoiceIndex> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut m = HashMap::new();
        for field in ImportField::ALL {
            if let Some(table) = choice_table(*field) {
                for (code, labels) in table {
                    m.insert((*field, match_key(code)), *code);
                    for l in *labels {
                        m.insert((*field, match_key(l)), *code);
                    }
                }
            }
        }
        m
    })
}

/// The code of a vocabulary value given as its code, English label or Khmer
/// label (case, spaces and punctuation ignored). None when unknown, or when
/// `field` is not a vocabulary field.
pub fn parse_choice(field: ImportField, value: &str) -> Option<&'static str> {
    let table = choice_table(field)?;
    let v = value.trim();
    if let Some((code, _)) = table.iter().find(|(code, _)| *code == v) {
        return Some(code);
    }
    choice_index().get(&(field, match_key(v))).copied()
}

// ---------------------------------------------------------------------------
// Rows
// ---------------------------------------------------------------------------

/// Turns one row into registry input: values normalized (dates to ISO,
/// labels to codes), then validated with [`crate::validate::validate_worker`].
///
/// Every problem of the row is returned at once, each naming the row, the
/// header of the column that fed the field, the cell value and a code. An
/// all-blank row gives a single error with code `empty_row` (callers usually
/// skip such rows). Cells beyond the mapping are ignored; missing cells are blank.
pub fn convert_row(
    mapping: &ColumnMapping,
    headers: &[String],
    row: u64,
    cells: &[String],
    today: NaiveDate,
) -> Result<ImportRow, Vec<RowError>> {
    if cells.iter().all(|c| is_blank(c)) {
        return Err(vec![RowError {
            params: Default::default(),
            row,
            column: String::new(),
            field: String::new(),
            value: String::new(),
            code: "empty_row".into(),
        }]);
    }
    let mut input = WorkerInput::default();
    let mut org = OrgRef::default();
    let mut errors: Vec<RowError> = Vec::new();
    // Column index of each field that was fed, for the error messages.
    let mut fed: [Option<usize>; 20] = [None; 20];

    for (i, field) in mapping.columns.iter().enumerate() {
        let Some(field) = *field else { continue };
        let slot = field_index(field);
        if fed[slot].is_some() {
            continue; // a second column for the same field: the first one wins
        }
        fed[slot] = Some(i);
        let raw = cells.get(i).map(|s| s.trim()).unwrap_or("");
        if is_blank(raw) {
            continue;
        }
        let header = headers.get(i).cloned().unwrap_or_default();
        let mut fail = |code: &str| {
            errors.push(RowError {
                params: Default::default(),
                row,
                column: header.clone(),
                field: field.code().to_string(),
                value: raw.to_string(),
                code: code.to_string(),
            });
        };
        let value = raw.to_string();
        match field {
            ImportField::NameKm => input.name_km = Some(value),
            ImportField::NameLatin => input.name_latin = Some(value),
            ImportField::Email => input.email = Some(value),
            ImportField::PositionTitle => input.position_title = Some(value),
            ImportField::NationalId => input.national_id = Some(clean_national_id(raw)),
            ImportField::Phone => input.phone = Some(ascii_digits(raw)),
            ImportField::WorkplaceCode => input.workplace_code = Some(clean_admin_code(raw)),
            ImportField::OrgName => org.name = Some(value),
            ImportField::OrgRegistrationNo => org.registration_no = Some(ascii_digits(raw)),
            ImportField::OrgId => match parse_int(raw) {
                Some(id) => {
                    input.org_id = Some(id);
                    org.id = Some(id);
                }
                None => fail("invalid_number"),
            },
            ImportField::DateOfBirth | ImportField::StartDate | ImportField::EndDate => {
                let target = match field {
                    ImportField::DateOfBirth => &mut input.date_of_birth,
                    ImportField::StartDate => &mut input.start_date,
                    _ => &mut input.end_date,
                };
                match parse_date(raw) {
                    Some(d) => *target = Some(d.format("%Y-%m-%d").to_string()),
                    None => fail("invalid_date"),
                }
            }
            ImportField::Sex
            | ImportField::Cadre
            | ImportField::Role
            | ImportField::Sector
            | ImportField::Status
            | ImportField::EducationLevel
            | ImportField::EducationField => {
                let target = match field {
                    ImportField::Sex => &mut input.sex,
                    ImportField::Cadre => &mut input.cadre,
                    ImportField::Role => &mut input.role,
                    ImportField::Sector => &mut input.sector,
                    ImportField::Status => &mut input.status,
                    ImportField::EducationLevel => &mut input.education_level,
                    _ => &mut input.education_field,
                };
                match parse_choice(field, raw) {
                    Some(code) => *target = Some(code.to_string()),
                    None => fail("invalid_choice"),
                }
            }
        }
    }

    if let Err(verrs) = validate_worker(&input, today) {
        for e in verrs.errors {
            let field = ImportField::parse(&e.field);
            // A field whose cell was already refused above is reported once.
            if let Some(f) = field {
                if errors.iter().any(|r| r.field == f.code()) {
                    continue;
                }
            }
            let col = field.and_then(|f| fed[field_index(f)]);
            let (column, value) = match col {
                Some(i) => (
                    headers.get(i).cloned().unwrap_or_default(),
                    cells.get(i).map(|s| s.trim().to_string()).unwrap_or_default(),
                ),
                None => (String::new(), String::new()),
            };
            errors.push(RowError { row, column, field: e.field, value, code: e.code, params: e.params });
        }
    }
    if errors.is_empty() {
        Ok(ImportRow { row, input, org })
    } else {
        Err(errors)
    }
}

/// A national ID as typed, in ASCII digits, without the spaces and dashes
/// people group digits with (`០១០ ២០៣-០៤៥` → `010203045`).
pub fn clean_national_id(s: &str) -> String {
    ascii_digits(s.trim()).chars().filter(|c| !c.is_whitespace() && *c != '-').collect()
}

/// An admin unit code in ASCII digits. Codes have two digits per level
/// (`01`, `0102`, `010201`, `01020103`); a spreadsheet that stored one as a
/// number dropped its leading zero (`102`), which is put back.
pub fn clean_admin_code(s: &str) -> String {
    let code = ascii_digits(s.trim());
    let code = code.strip_suffix(".0").unwrap_or(&code);
    if !code.is_empty() && code.len() < 8 && code.len() % 2 == 1 && code.bytes().all(|b| b.is_ascii_digit()) {
        format!("0{code}")
    } else {
        code.to_string()
    }
}

fn is_blank(s: &str) -> bool {
    s.chars().all(|c| c.is_whitespace() || matches!(c, '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{FEFF}'))
}

fn field_index(f: ImportField) -> usize {
    ImportField::ALL.iter().position(|x| *x == f).unwrap_or(0)
}

/// An integer in ASCII or Khmer digits; `12.0` (a spreadsheet number) is accepted.
pub fn parse_int(s: &str) -> Option<i64> {
    let s = ascii_digits(s.trim());
    let s = s.strip_suffix(".0").unwrap_or(&s);
    if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    fn today() -> NaiveDate {
        d(2026, 11, 26)
    }

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn codes_map_exactly() {
        let headers: Vec<String> = ImportField::ALL.iter().map(|f| f.code().to_string()).collect();
        let m = guess_mapping(&headers);
        assert_eq!(m.columns, ImportField::ALL.iter().map(|f| Some(*f)).collect::<Vec<_>>());
        assert!(check_mapping(&m).is_ok());
    }

    #[test]
    fn english_headers_and_variants() {
        use ImportField::*;
        for (h, f) in [
            ("Name (Khmer)", NameKm),
            ("Khmer name", NameKm),
            ("Full name in Khmer", NameKm),
            ("  NAME_KM ", NameKm),
            ("Name (Latin letters)", NameLatin),
            ("Name (Khmer script)", NameKm),
            ("Sex", Sex),
            ("Gender", Sex),
            ("DOB", DateOfBirth),
            ("D.O.B.", DateOfBirth),
            ("Date of birth", DateOfBirth),
            ("date-of-birth", DateOfBirth),
            ("National ID", NationalId),
            ("ID card", NationalId),
            ("Phone", Phone),
            ("Tel", Phone),
            ("Tel.", Phone),
            ("E-mail", Email),
            ("Province/district code", WorkplaceCode),
            ("Workplace (admin unit code)", WorkplaceCode),
            ("Employment status", Status),
            ("Highest education", EducationLevel),
            ("Field of education", EducationField),
            ("Employer organization", OrgName),
            ("Registration number", OrgRegistrationNo),
            ("Position title", PositionTitle),
            ("Start date", StartDate),
            ("End date", EndDate),
        ] {
            assert_eq!(guess_field(h), Some(f), "{h}");
        }
    }

    #[test]
    fn khmer_headers() {
        use ImportField::*;
        for (h, f) in [
            ("ឈ្មោះ", NameKm),
            ("ឈ្មោះជាអក្សរខ្មែរ", NameKm),
            ("ឈ្មោះ (អក្សរខ្មែរ)", NameKm),
            ("ឈ្មោះជាអក្សរឡាតាំង", NameLatin),
            ("ឈ្មោះ (អក្សរឡាតាំង)", NameLatin),
            ("ភេទ", Sex),
            ("ថ្ងៃខែឆ្នាំកំណើត", DateOfBirth),
            ("ថ្ងៃ ខែ ឆ្នាំ កំណើត", DateOfBirth),
            ("លេខអត្តសញ្ញាណប័ណ្ណ", NationalId),
            ("លេខអត្តសញ្ញាណប័ណ្ណសញ្ជាតិខ្មែរ", NationalId),
            ("ទូរស័ព្ទ", Phone),
            ("អ៊ីមែល", Email),
            ("ប្រភេទបុគ្គលិក", Cadre),
            ("តួនាទី", Role),
            ("វិស័យ", Sector),
            ("មុខតំណែង", PositionTitle),
            ("ស្ថានភាព", Status),
            ("ស្ថានភាពការងារ", Status),
            ("អង្គភាព", OrgName),
            ("អង្គភាពនិយោជក", OrgName),
            ("លេខចុះបញ្ជី", OrgRegistrationNo),
            ("កន្លែងធ្វើការ", WorkplaceCode),
            ("កន្លែងធ្វើការ (លេខកូដឯកតារដ្ឋបាល)", WorkplaceCode),
            ("ថ្ងៃចាប់ផ្ដើម", StartDate),
            ("ថ្ងៃបញ្ចប់", EndDate),
            ("កម្រិតវប្បធម៌ខ្ពស់បំផុត", EducationLevel),
            ("ជំនាញសិក្សា", EducationField),
            ("ឈ្មោះ\u{200B}", NameKm),
        ] {
            assert_eq!(guess_field(h), Some(f), "{h}");
        }
    }

    #[test]
    fn unknown_headers_are_ignored() {
        for h in ["id", "ID", "org_name_display", "workplace_name_en", "workplace_name_km", "", "  ", "Notes", "#"] {
            assert_eq!(guess_field(h), None, "{h:?}");
        }
    }

    #[test]
    fn exported_headers_map_back() {
        let export = [
            "id",
            "name_km",
            "name_latin",
            "sex",
            "date_of_birth",
            "national_id",
            "phone",
            "email",
            "cadre",
            "role",
            "sector",
            "org_id",
            "org_name",
            "org_registration_no",
            "position_title",
            "workplace_code",
            "workplace_name_en",
            "workplace_name_km",
            "status",
            "start_date",
            "end_date",
            "education_level",
            "education_field",
        ];
        let m = guess_mapping(&strings(&export));
        for (h, f) in export.iter().zip(&m.columns) {
            match *h {
                "id" | "workplace_name_en" | "workplace_name_km" => assert_eq!(*f, None, "{h}"),
                _ => assert_eq!(f.map(|f| f.code()), Some(*h)),
            }
        }
        assert!(check_mapping(&m).is_ok());
    }

    #[test]
    fn the_app_labels_are_recognized() {
        // The form labels of locales/{en,km}.yml `worker.*`.
        use ImportField::*;
        for (en, km, f) in [
            ("Name (Khmer script)", "ឈ្មោះ (អក្សរខ្មែរ)", NameKm),
            ("Name (Latin letters)", "ឈ្មោះ (អក្សរឡាតាំង)", NameLatin),
            ("Sex", "ភេទ", Sex),
            ("Date of birth", "ថ្ងៃខែឆ្នាំកំណើត", DateOfBirth),
            ("National ID number", "លេខអត្តសញ្ញាណប័ណ្ណសញ្ជាតិខ្មែរ", NationalId),
            ("Phone", "ទូរស័ព្ទ", Phone),
            ("Email", "អ៊ីមែល", Email),
            ("Cadre", "ប្រភេទបុគ្គលិក", Cadre),
            ("Role", "តួនាទី", Role),
            ("Sector", "វិស័យ", Sector),
            ("Employer organization", "អង្គភាពនិយោជក", OrgName),
            ("Position title", "មុខតំណែង", PositionTitle),
            ("Workplace (admin unit code)", "កន្លែងធ្វើការ (លេខកូដឯកតារដ្ឋបាល)", WorkplaceCode),
            ("Employment status", "ស្ថានភាពការងារ", Status),
            ("Start date", "ថ្ងៃចាប់ផ្ដើម", StartDate),
            ("End date", "ថ្ងៃបញ្ចប់", EndDate),
            ("Highest education", "កម្រិតវប្បធម៌ខ្ពស់បំផុត", EducationLevel),
            ("Field of education", "ជំនាញសិក្សា", EducationField),
        ] {
            assert_eq!(guess_field(en), Some(f), "{en}");
            assert_eq!(guess_field(km), Some(f), "{km}");
        }
    }

    #[test]
    fn codes_and_ids_are_cleaned() {
        assert_eq!(clean_national_id(" ០១០ ២០៣-០៤៥ "), "010203045");
        assert_eq!(clean_admin_code("102"), "0102");
        assert_eq!(clean_admin_code("1"), "01");
        assert_eq!(clean_admin_code("10201.0"), "010201");
        assert_eq!(clean_admin_code("០១០២"), "0102");
        assert_eq!(clean_admin_code("12"), "12");
        assert_eq!(clean_admin_code("abc"), "abc");
    }

    #[test]
    fn no_alias_names_two_fields() {
        let mut seen: HashMap<String, ImportField> = HashMap::new();
        for (field, aliases) in HEADER_ALIASES {
            for a in aliases.iter().copied().chain([field.code()]) {
                let k = match_key(a);
                if let Some(prev) = seen.insert(k.clone(), *field) {
                    assert_eq!(prev, *field, "alias {a:?} ({k}) names two fields");
                }
            }
        }
        for field in ImportField::ALL {
            if let Some(table) = choice_table(*field) {
                let mut seen: HashMap<String, &str> = HashMap::new();
                for (code, labels) in table {
                    for l in labels.iter().copied().chain([*code]) {
                        if let Some(prev) = seen.insert(match_key(l), code) {
                            assert_eq!(prev, *code, "{field}: label {l:?} names two codes");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn mapping_checks() {
        let m = guess_mapping(&strings(&["name_km", "name_latin", "sex", "cadre", "role", "sector", "status"]));
        let e = check_mapping(&m).unwrap_err();
        assert_eq!(e, vec![MappingError { field: ImportField::WorkplaceCode, code: "missing_required_column".into() }]);
        let m = guess_mapping(&strings(&[
            "name_km",
            "name_latin",
            "sex",
            "cadre",
            "role",
            "sector",
            "status",
            "workplace_code",
            "Phone",
            "Tel",
        ]));
        let e = check_mapping(&m).unwrap_err();
        assert_eq!(e, vec![MappingError { field: ImportField::Phone, code: "duplicate_column".into() }]);
        let m = guess_mapping(&strings(&["Sex", "Gender"]));
        let e = check_mapping(&m).unwrap_err();
        assert!(e.contains(&MappingError { field: ImportField::Sex, code: "duplicate_column".into() }));
        assert!(e.contains(&MappingError { field: ImportField::NameKm, code: "missing_required_column".into() }));
    }

    #[test]
    fn khmer_digits() {
        assert_eq!(ascii_digits("០១២៣៤៥៦៧៨៩"), "0123456789");
        assert_eq!(ascii_digits("០១២ ៣៤៥ abc"), "012 345 abc");
    }

    #[test]
    fn dates_in_every_form() {
        let m1 = d(2024, 3, 1);
        for s in [
            "2024-03-01",
            "2024-3-1",
            " 2024-03-01 ",
            "2024-03-01T00:00:00",
            "2024-03-01 00:00",
            "2024-03-01T08:30:00.5",
            "2024/03/01",
            "01/03/2024",
            "1/3/2024",
            "01-03-2024",
            "1-3-2024",
            "01.03.2024",
            "1 Mar 2024",
            "01-Mar-2024",
            "1 March 2024",
            "45352",
            "45352.0",
            "45352.75",
            "២០២៤-០៣-០១",
            "០១/០៣/២០២៤",
            "១.៣.២០២៤",
            "៤៥៣៥២",
        ] {
            assert_eq!(parse_date(s), Some(m1), "{s}");
        }
        assert_eq!(parse_date("29/02/2024"), Some(d(2024, 2, 29)));
        assert_eq!(parse_date("13/04/1990"), Some(d(1990, 4, 13)));
        assert_eq!(parse_date("32874"), Some(d(1990, 1, 1)));
        assert_eq!(parse_date("1"), Some(d(1900, 1, 1)));
        assert_eq!(parse_date("59"), Some(d(1900, 2, 28)));
        assert_eq!(parse_date("61"), Some(d(1900, 3, 1)));
    }

    #[test]
    fn garbage_dates_are_refused() {
        for s in [
            "",
            "abc",
            "01/03/24",
            "03/25/2024",
            "2024-13-01",
            "2024-02-30",
            "31/04/2024",
            "1985",
            "0",
            "60",
            "-5",
            "45352.5.1",
            "1e5",
            "99999999",
            "2024-03-01X",
            "2024-03-01T99:00",
            "01/03/2024/5",
            "1//2024",
            "+45352",
            "NaN",
            "inf",
            "២០២៤",
            "2024-03",
            "٤٥٣٥٢",
        ] {
            assert_eq!(parse_date(s), None, "{s:?}");
        }
    }

    #[test]
    fn excel_serials_round_trip() {
        for day in [d(1900, 1, 1), d(1900, 2, 28), d(1900, 3, 1), d(1990, 4, 13), d(2024, 3, 1), d(9999, 12, 31)] {
            let serial = date_to_excel_serial(day);
            assert_eq!(excel_serial_to_date(serial as f64), Some(day), "{day}");
        }
        assert_eq!(date_to_excel_serial(d(2024, 3, 1)), 45352);
        assert_eq!(excel_serial_to_date(MAX_EXCEL_SERIAL + 1.0), None);
        assert_eq!(excel_serial_to_date(f64::NAN), None);
    }

    #[test]
    fn labels_become_codes() {
        use ImportField::*;
        for (f, v, code) in [
            (Sex, "F", "female"),
            (Sex, "f", "female"),
            (Sex, "Female", "female"),
            (Sex, "ស្រី", "female"),
            (Sex, "M", "male"),
            (Sex, "Male", "male"),
            (Sex, "ប្រុស", "male"),
            (Sex, "male", "male"),
            (Cadre, "Para social worker", "para_social_worker"),
            (Cadre, "para-social worker", "para_social_worker"),
            (Cadre, "ជំនួយការសង្គមកិច្ច", "para_social_worker"),
            (Cadre, "professional_social_worker", "professional_social_worker"),
            (Role, "CCWC focal point", "ccwc_focal_point"),
            (Role, "បុគ្គលបង្គោល គ.ក.ន.ក", "ccwc_focal_point"),
            (Role, "NGO case worker", "ngo_case_worker"),
            (Sector, "NGO / CSO", "ngo"),
            (Sector, "NGO", "ngo"),
            (Sector, "រដ្ឋ", "government"),
            (Status, "On leave", "on_leave"),
            (Status, "កំពុងបម្រើការងារ", "active"),
            (Status, "បានទទួលមរណភាព", "deceased"),
            (EducationLevel, "Bachelor's degree", "bachelor"),
            (EducationLevel, "បរិញ្ញាបត្រ", "bachelor"),
            (EducationLevel, "វិញ្ញាបនបត្របច្ចេកទេស និងវិជ្ជាជីវៈ ២", "tvc2"),
            (EducationLevel, "Technical and Vocational Certificate 2", "tvc2"),
            (EducationField, "Social work", "social_work"),
            (EducationField, "ជំនាញផ្សេង", "other"),
        ] {
            assert_eq!(parse_choice(f, v), Some(code), "{f} {v}");
        }
        assert_eq!(parse_choice(Sex, "X"), None);
        assert_eq!(parse_choice(Cadre, "nurse"), None);
        assert_eq!(parse_choice(NameKm, "anything"), None);
    }

    const HEADERS: &[&str] = &[
        "ឈ្មោះ",
        "Name (Latin)",
        "Sex",
        "DOB",
        "National ID",
        "Tel",
        "Cadre",
        "Role",
        "Sector",
        "Organization",
        "org_id",
        "Workplace",
        "Status",
        "Start date",
        "End date",
        "Education",
        "Notes",
    ];

    fn good_cells() -> Vec<String> {
        strings(&[
            " សុខ ចាន់ធា ",
            "Sok Chantha",
            "ស្រី",
            "១៣/០៤/១៩៩០",
            "០១០២០៣០៤៥",
            "012 345 678",
            "Para social worker",
            "CCWC focal point",
            "Government",
            "CCWC Mongkol Borei",
            "",
            "០១០២០១",
            "Active",
            "45352",
            "",
            "បរិញ្ញាបត្រ",
            "anything",
        ])
    }

    fn mapping() -> (ColumnMapping, Vec<String>) {
        let h = strings(HEADERS);
        let m = guess_mapping(&h);
        assert!(check_mapping(&m).is_ok(), "{m:?}");
        (m, h)
    }

    #[test]
    fn a_good_row_becomes_input() {
        let (m, h) = mapping();
        let r = convert_row(&m, &h, 7, &good_cells(), today()).unwrap();
        assert_eq!(r.row, 7);
        let i = &r.input;
        assert_eq!(i.name_km.as_deref(), Some("សុខ ចាន់ធា"));
        assert_eq!(i.sex.as_deref(), Some("female"));
        assert_eq!(i.date_of_birth.as_deref(), Some("1990-04-13"));
        assert_eq!(i.national_id.as_deref(), Some("010203045"));
        assert_eq!(i.cadre.as_deref(), Some("para_social_worker"));
        assert_eq!(i.role.as_deref(), Some("ccwc_focal_point"));
        assert_eq!(i.sector.as_deref(), Some("government"));
        assert_eq!(i.workplace_code.as_deref(), Some("010201"));
        assert_eq!(i.status.as_deref(), Some("active"));
        assert_eq!(i.start_date.as_deref(), Some("2024-03-01"));
        assert_eq!(i.end_date, None);
        assert_eq!(i.education_level.as_deref(), Some("bachelor"));
        assert_eq!(i.org_id, None);
        assert_eq!(r.org, OrgRef { id: None, name: Some("CCWC Mongkol Borei".into()), registration_no: None });
        // What the store gets is exactly what validation accepted.
        assert!(validate_worker(&r.input, today()).is_ok());
    }

    #[test]
    fn short_rows_are_padded_and_org_id_is_read() {
        let (m, h) = mapping();
        let mut cells = good_cells();
        cells[10] = "៤២".into();
        cells.truncate(13);
        let r = convert_row(&m, &h, 2, &cells, today()).unwrap();
        assert_eq!(r.input.org_id, Some(42));
        assert_eq!(r.org.id, Some(42));
        assert_eq!(r.input.start_date, None);
    }

    #[test]
    fn every_problem_names_row_column_value_and_code() {
        let (m, h) = mapping();
        let mut cells = good_cells();
        cells[1] = "សុខ".into(); // Khmer in the Latin name
        cells[2] = "X".into();
        cells[3] = "31/02/1990".into();
        cells[4] = "12".into();
        cells[6] = "Nurse".into();
        cells[10] = "abc".into();
        cells[11] = "".into();
        cells[12] = "Active".into();
        cells[14] = "2025-01-01".into(); // end date while active
        let errs = convert_row(&m, &h, 12, &cells, today()).unwrap_err();
        let got: Vec<(u64, &str, &str, &str, &str)> = errs
            .iter()
            .map(|e| (e.row, e.column.as_str(), e.field.as_str(), e.value.as_str(), e.code.as_str()))
            .collect();
        for expected in [
            (12, "Name (Latin)", "name_latin", "សុខ", "invalid_latin_name"),
            (12, "Sex", "sex", "X", "invalid_choice"),
            (12, "DOB", "date_of_birth", "31/02/1990", "invalid_date"),
            (12, "National ID", "national_id", "12", "invalid_national_id"),
            (12, "Cadre", "cadre", "Nurse", "invalid_choice"),
            (12, "org_id", "org_id", "abc", "invalid_number"),
            (12, "Workplace", "workplace_code", "", "required"),
            (12, "End date", "end_date", "2025-01-01", "end_date_not_allowed"),
        ] {
            assert!(got.contains(&expected), "missing {expected:?} in {got:?}");
        }
        // One error per refused cell (no second `invalid_choice` from validation).
        assert_eq!(got.iter().filter(|e| e.2 == "sex").count(), 1);
        assert_eq!(got.iter().filter(|e| e.2 == "date_of_birth").count(), 1);
        assert_eq!(errs.len(), 8, "{got:?}");
    }

    #[test]
    fn validation_errors_use_the_cell_as_written() {
        let (m, h) = mapping();
        let mut cells = good_cells();
        cells[3] = "០១/០១/២០៣០".into();
        let errs = convert_row(&m, &h, 3, &cells, today()).unwrap_err();
        assert_eq!(
            errs,
            vec![RowError {
                params: Default::default(),
                row: 3,
                column: "DOB".into(),
                field: "date_of_birth".into(),
                value: "០១/០១/២០៣០".into(),
                code: "future_date".into(),
            }]
        );
    }

    #[test]
    fn missing_columns_are_reported_without_a_column() {
        let h = strings(&["name_km", "name_latin"]);
        let m = guess_mapping(&h);
        let errs = convert_row(&m, &h, 2, &strings(&["សុខ", "Sok"]), today()).unwrap_err();
        assert!(errs.iter().any(|e| e.field == "sex" && e.code == "required" && e.column.is_empty()));
    }

    #[test]
    fn empty_rows_are_flagged() {
        let (m, h) = mapping();
        for cells in [vec![], strings(&["", " ", "\u{200B}"]), vec![String::new(); 17]] {
            let errs = convert_row(&m, &h, 9, &cells, today()).unwrap_err();
            assert_eq!(errs.len(), 1);
            assert_eq!(errs[0].code, "empty_row");
            assert_eq!(errs[0].row, 9);
        }
    }
}
