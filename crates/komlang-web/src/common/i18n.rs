//! Interface language: Khmer and English, chosen by cookie or the browser's
//! Accept-Language, with every label looked up in `locales/*.yml`.

use axum::http::HeaderMap;
use komlang_core::FieldError;

/// Languages of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Locale {
    Km,
    En,
}

impl Locale {
    pub const ALL: [Locale; 2] = [Locale::Km, Locale::En];

    pub fn code(self) -> &'static str {
        match self {
            Locale::Km => "km",
            Locale::En => "en",
        }
    }

    pub fn parse(s: &str) -> Option<Locale> {
        match s.trim().to_ascii_lowercase().as_str() {
            "km" | "km-kh" | "kh" => Some(Locale::Km),
            "en" | "en-us" | "en-gb" => Some(Locale::En),
            _ => None,
        }
    }

    /// Name of the language in itself, for the switcher.
    pub fn native_name(self) -> &'static str {
        match self {
            Locale::Km => "ខ្មែរ",
            Locale::En => "English",
        }
    }

    /// The `lang` cookie, else the first known language in Accept-Language, else Khmer.
    pub fn from_headers(headers: &HeaderMap) -> Locale {
        let cookie = headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().strip_prefix("lang="))
            .find_map(Locale::parse);
        if let Some(l) = cookie {
            return l;
        }
        Locale::from_accept_language(headers).unwrap_or(Locale::Km)
    }

    pub fn from_accept_language(headers: &HeaderMap) -> Option<Locale> {
        headers.get(axum::http::header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).and_then(|v| {
            v.split(',')
                .find_map(|part| Locale::parse(part.split(';').next().unwrap_or("").split('-').next().unwrap_or("")))
        })
    }
}

/// Translation lookups for one request.
#[derive(Debug, Clone, Copy)]
pub struct I18n {
    pub locale: Locale,
}

/// A value with a translated label (the domain vocabularies).
pub trait Labeled {
    fn label_key(&self) -> String;
}

macro_rules! labeled {
    ($($t:ty),*) => { $( impl Labeled for $t { fn label_key(&self) -> String { <$t>::label_key(*self) } } )* };
}
labeled!(
    komlang_core::Sex,
    komlang_core::Cadre,
    komlang_core::WorkerRole,
    komlang_core::Sector,
    komlang_core::EmploymentStatus,
    komlang_core::EducationLevel,
    komlang_core::EducationField,
    komlang_core::OrgKind,
    komlang_core::AdminLevel,
    komlang_core::UserRole,
    komlang_core::import::ImportField,
    komlang_core::competency::Rating,
    komlang_core::competency::AssessmentKind,
    komlang_core::competency::CompetencyGroup,
    komlang_core::establishment::FundingSource,
    komlang_core::supervision::SupervisionModel,
    komlang_core::supervision::SupervisionFunction,
    komlang_core::performance::AppraisalForm,
    komlang_core::performance::AppraisalStatus,
    komlang_core::performance::OverallResult,
    komlang_core::performance::ActionKind,
    komlang_core::hiring::RoundKind,
    komlang_core::hiring::RoundStatus,
    komlang_core::hiring::CandidateSource,
    komlang_core::hiring::CandidateStatus,
    komlang_core::hiring::PlacementKind
);

impl<T: Labeled> Labeled for &T {
    fn label_key(&self) -> String {
        (*self).label_key()
    }
}

impl I18n {
    pub fn new(locale: Locale) -> Self {
        I18n { locale }
    }

    pub fn lang(&self) -> &'static str {
        self.locale.code()
    }

    /// The text for `key`.
    pub fn t(&self, key: &str) -> String {
        rust_i18n::t!(key, locale = self.locale.code()).into_owned()
    }

    /// The text for `key` with `%{name}` placeholders filled in.
    pub fn tp(&self, key: &str, params: &[(&str, String)]) -> String {
        let mut s = self.t(key);
        for (k, v) in params {
            s = s.replace(&format!("%{{{k}}}"), v);
        }
        s
    }

    pub fn label<T: Labeled>(&self, v: T) -> String {
        self.t(&v.label_key())
    }

    /// Label of an optional value, or "" when absent.
    pub fn opt_label<T: Labeled>(&self, v: &Option<T>) -> String {
        v.as_ref().map(|v| self.t(&v.label_key())).unwrap_or_default()
    }

    /// Label of a vocabulary code as stored in text form (audit entries).
    pub fn code_label(&self, prefix: &str, code: &str) -> String {
        let key = format!("{prefix}.{code}");
        if self.known(&key) {
            self.t(&key)
        } else {
            code.to_string()
        }
    }

    /// True when the key has a translation in this language: in its own file,
    /// `locales/<code>.yml`, not by the fallback to English that [`I18n::t`] makes.
    pub fn has(&self, key: &str) -> bool {
        rust_i18n::Backend::translate(&**crate::_RUST_I18N_BACKEND, self.locale.code(), key).is_some()
    }

    /// True when [`I18n::t`] finds a text for the key, in this language or in English.
    fn known(&self, key: &str) -> bool {
        self.has(key) || I18n::new(Locale::En).has(key)
    }

    /// A field error as a sentence in this language.
    pub fn field_error(&self, e: &FieldError) -> String {
        // Planning keeps its own messages under `planning.error.`.
        let key =
            [format!("error.{}", e.code), format!("planning.error.{}", e.code)].into_iter().find(|k| self.known(k));
        let Some(key) = key else {
            return e.code.clone();
        };
        let params: Vec<(&str, String)> = e.params.iter().map(|(k, v)| (k.as_str(), self.param_text(k, v))).collect();
        self.tp(&key, &params)
    }

    fn param_text(&self, key: &str, value: &str) -> String {
        if key == "level" {
            return self.code_label("level", value);
        }
        value.to_string()
    }

    /// Label of a form field (`worker.<field>`, falling back to the raw name).
    pub fn field_label(&self, scope: &str, field: &str) -> String {
        let key = format!("{scope}.{field}");
        if self.known(&key) {
            self.t(&key)
        } else {
            field.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every `.rs` file under `dir`, subfolders included: a module moved into a feature
    /// folder stays covered.
    #[test]
    fn every_vocabulary_value_has_both_labels() {
        use komlang_core::*;
        let mut keys: Vec<String> = Vec::new();
        keys.extend(Sex::ALL.iter().map(|v| v.label_key()));
        keys.extend(Cadre::ALL.iter().map(|v| v.label_key()));
        keys.extend(WorkerRole::ALL.iter().map(|v| v.label_key()));
        keys.extend(Sector::ALL.iter().map(|v| v.label_key()));
        keys.extend(EmploymentStatus::ALL.iter().map(|v| v.label_key()));
        keys.extend(EducationLevel::ALL.iter().map(|v| v.label_key()));
        keys.extend(EducationField::ALL.iter().map(|v| v.label_key()));
        keys.extend(OrgKind::ALL.iter().map(|v| v.label_key()));
        keys.extend(AdminLevel::ALL.iter().map(|v| v.label_key()));
        keys.extend(UserRole::ALL.iter().map(|v| v.label_key()));
        keys.extend(import::ImportField::ALL.iter().map(|v| v.label_key()));
        keys.extend(competency::Rating::ALL.iter().map(|v| v.label_key()));
        keys.extend(competency::AssessmentKind::ALL.iter().map(|v| v.label_key()));
        keys.extend(competency::CompetencyGroup::ALL.iter().map(|v| v.label_key()));
        keys.extend(establishment::FundingSource::ALL.iter().map(|v| v.label_key()));
        keys.extend(supervision::SupervisionModel::ALL.iter().map(|v| v.label_key()));
        keys.extend(supervision::SupervisionFunction::ALL.iter().map(|v| v.label_key()));
        keys.extend(performance::AppraisalForm::ALL.iter().map(|v| v.label_key()));
        keys.extend(performance::AppraisalStatus::ALL.iter().map(|v| v.label_key()));
        keys.extend(performance::OverallResult::ALL.iter().map(|v| v.label_key()));
        keys.extend(performance::ActionKind::ALL.iter().map(|v| v.label_key()));
        keys.extend(hiring::RoundKind::ALL.iter().map(|v| v.label_key()));
        keys.extend(hiring::RoundStatus::ALL.iter().map(|v| v.label_key()));
        keys.extend(hiring::CandidateSource::ALL.iter().map(|v| v.label_key()));
        keys.extend(hiring::CandidateStatus::ALL.iter().map(|v| v.label_key()));
        keys.extend(hiring::PlacementKind::ALL.iter().map(|v| v.label_key()));
        {
            use komlang_core::training::*;
            keys.extend(CertificateLevel::ALL.iter().map(|v| v.label_key()));
            keys.extend(InstitutionKind::ALL.iter().map(|v| v.label_key()));
            keys.extend(TrainingResult::ALL.iter().map(|v| v.label_key()));
            keys.extend(RecognitionKind::ALL.iter().map(|v| v.label_key()));
            keys.extend(LicenceStatus::ALL.iter().map(|v| v.label_key()));
            keys.extend(LicenceAction::ALL.iter().map(|v| v.label_key()));
        }
        for l in Locale::ALL {
            let i = I18n::new(l);
            for k in &keys {
                assert!(i.has(k), "{} has no {k}", l.code());
            }
        }
        assert_ne!(
            I18n::new(Locale::Km).t("cadre.para_social_worker"),
            I18n::new(Locale::En).t("cadre.para_social_worker")
        );
    }

    /// Every file under `dir` (in sub-folders too) whose name ends with `.{ext}`, sorted.
    fn files_under(dir: &str, ext: &str) -> Vec<std::path::PathBuf> {
        let mut out = Vec::new();
        let mut todo = vec![std::path::PathBuf::from(dir)];
        while let Some(d) = todo.pop() {
            for e in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("read {}: {e}", d.display())) {
                let path = e.unwrap().path();
                if path.is_dir() {
                    todo.push(path);
                } else if path.extension().is_some_and(|x| x == ext) {
                    out.push(path);
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn sources_are_found_in_sub_folders() {
        let src = files_under(concat!(env!("CARGO_MANIFEST_DIR"), "/src"), "rs");
        assert!(src.iter().any(|p| p.ends_with("common/i18n.rs")), "{src:?}");
        let templates = files_under(concat!(env!("CARGO_MANIFEST_DIR"), "/templates"), "html");
        assert!(templates.iter().any(|p| p.ends_with("common/base.html")), "{templates:?}");
    }

    #[test]
    fn every_key_used_in_templates_and_code_exists_in_both_languages() {
        // Every template and every module of the web layer, in every folder, so that a new one
        // is covered without listing it here.
        let mut sources: Vec<String> = Vec::new();
        for path in files_under(concat!(env!("CARGO_MANIFEST_DIR"), "/templates"), "html")
            .into_iter()
            .chain(files_under(concat!(env!("CARGO_MANIFEST_DIR"), "/src"), "rs"))
        {
            sources.push(std::fs::read_to_string(path).unwrap());
        }
        let mut missing = Vec::new();
        let mut keys = std::collections::BTreeSet::new();
        for src in &sources {
            for part in src.split(".t(\"").skip(1).chain(src.split(".tp(\"").skip(1)) {
                let key = part.split('"').next().unwrap();
                keys.insert(key);
                for l in Locale::ALL {
                    if !I18n::new(l).has(key) {
                        missing.push(format!("{}:{key}", l.code()));
                    }
                }
            }
        }
        assert!(keys.len() > 500, "the key scan found only {} keys", keys.len());
        assert!(missing.is_empty(), "missing translations: {missing:?}");
    }

    /// The files in `dir` and its folders (the store has a folder per feature).
    #[test]
    fn every_error_code_the_domain_uses_is_translated() {
        let core = concat!(env!("CARGO_MANIFEST_DIR"), "/../komlang-core/src/validate.rs");
        let competency = concat!(env!("CARGO_MANIFEST_DIR"), "/../komlang-core/src/competency.rs");
        let training = concat!(env!("CARGO_MANIFEST_DIR"), "/../komlang-core/src/training.rs");
        let web = concat!(env!("CARGO_MANIFEST_DIR"), "/src");
        let store = concat!(env!("CARGO_MANIFEST_DIR"), "/../komlang-store/src");
        let mut sources = vec![std::fs::read_to_string(core).unwrap()];
        for f in [competency, training] {
            sources.push(std::fs::read_to_string(f).unwrap());
        }
        for dir in [web, store] {
            for path in files_under(dir, "rs") {
                // This file names the patterns in its comments.
                if !path.ends_with("common/i18n.rs") {
                    sources.push(std::fs::read_to_string(path).unwrap());
                }
            }
        }
        let mut codes = std::collections::BTreeSet::new();
        for src in sources {
            // FieldError::new(..) and the stores' shorthand invalid("field", "code").
            let shorthand = src.split("invalid(\"").skip(1).map(|p| format!("\"{p}"));
            let calls: Vec<String> = src.split("FieldError::new(").skip(1).map(String::from).chain(shorthand).collect();
            for part in &calls {
                // FieldError::new("field", "code") or FieldError::new(field, "code")
                let call = part.split(')').next().unwrap_or("");
                let Some(code) = call.split('"').skip(1).step_by(2).last() else { continue };
                if code.chars().all(|c| c.is_ascii_lowercase() || c == '_') && !code.is_empty() {
                    codes.insert(code.to_string());
                    for l in Locale::ALL {
                        let i = I18n::new(l);
                        let known = i.has(&format!("error.{code}")) || i.has(&format!("planning.error.{code}"));
                        assert!(known, "{}: error.{code}", l.code());
                    }
                }
            }
        }
        assert!(codes.len() > 50, "the scan found only {} error codes", codes.len());
    }

    /// Row errors of imports are made in many ways (helpers, tables of
    /// checks): every error-like code in the import sources must be translated.
    #[test]
    fn every_import_error_code_is_translated() {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/..");
        let mut files = vec![format!("{root}/komlang-core/src/import.rs")];
        for path in files_under(&format!("{root}/komlang-store/src"), "rs") {
            files.push(path.display().to_string());
        }
        let prefixes = ["invalid_", "unknown_", "duplicate_", "ambiguous_", "missing_", "column_", "empty_row"];
        let mut missing = Vec::new();
        let mut codes = std::collections::BTreeSet::new();
        for f in files {
            let src = std::fs::read_to_string(&f).unwrap();
            for lit in src.split('"').skip(1).step_by(2) {
                let code = lit.trim();
                let looks_like_code = prefixes.iter().any(|p| code.starts_with(p))
                    && code.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                    && !code.ends_with('_');
                if looks_like_code {
                    codes.insert(code.to_string());
                    for l in Locale::ALL {
                        if !I18n::new(l).has(&format!("error.{code}")) {
                            missing.push(format!("{}: error.{code} ({f})", l.code()));
                        }
                    }
                }
            }
        }
        missing.sort();
        missing.dedup();
        assert!(codes.len() > 20, "the scan found only {} import error codes", codes.len());
        assert!(missing.is_empty(), "untranslated import error codes: {missing:?}");
    }

    #[test]
    fn placeholders_are_filled() {
        let e = FieldError::new("name_km", "too_long").with("max", 200);
        assert!(I18n::new(Locale::En).field_error(&e).contains("200"));
        assert!(I18n::new(Locale::Km).field_error(&e).contains("200"));
    }

    #[test]
    fn cookie_beats_accept_language() {
        let mut h = HeaderMap::new();
        h.insert("accept-language", "en-US,en;q=0.9".parse().unwrap());
        assert_eq!(Locale::from_headers(&h), Locale::En);
        h.insert("cookie", "a=b; lang=km".parse().unwrap());
        assert_eq!(Locale::from_headers(&h), Locale::Km);
    }
}
