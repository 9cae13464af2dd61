//! Likely duplicates among workers: same national ID; same normalized name
//! and date of birth; names written differently (Latin spellings of one Khmer
//! name, word order, Khmer spacing or zero-width characters), scored and explained.
//!
//! Rules of [`compare`] (score out of 100):
//!
//! | evidence | score | reasons |
//! |---|---|---|
//! | same national ID | 100 | `SameNationalId` (+ the others that hold) |
//! | same date of birth, same Khmer and Latin name | 98 | `SameDateOfBirth`, `SameKhmerName`, `SameLatinName` |
//! | same date of birth, same Khmer name | 96 | `SameDateOfBirth`, `SameKhmerName` |
//! | same date of birth, same Latin name | 95 | `SameDateOfBirth`, `SameLatinName` |
//! | same date of birth, Latin names ≥ 85 % alike | 80-94 | `SameDateOfBirth`, `SimilarNames(pct)` |
//! | a date of birth missing, same Khmer and Latin name | 75 | `SameKhmerName`, `SameLatinName` |
//!
//! Two different national IDs (both given) lower the score by
//! [`DIFFERENT_ID_PENALTY`]; anything under [`MATCH_THRESHOLD`] is no match.
//! Two different dates of birth (both given) rule out every rule but the national ID.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;

/// What is compared of a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonKey {
    pub national_id: Option<String>,
    pub name_km: String,
    pub name_latin: String,
    pub date_of_birth: Option<NaiveDate>,
}

/// Why two records look like one person.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum DupReason {
    SameNationalId,
    SameDateOfBirth,
    SameKhmerName,
    SameLatinName,
    /// Names alike to this percentage.
    SimilarNames(u8),
}

/// A likely duplicate: a score from 0 to 100 and the reasons.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DupMatch {
    pub score: u8,
    pub reasons: Vec<DupReason>,
}

/// Lowest score [`compare`] reports.
pub const MATCH_THRESHOLD: u8 = 70;
/// Lowest [`name_similarity`] of two Latin names counted as "alike".
pub const SIMILAR_NAMES: f64 = 0.85;
/// Taken off the score when both records carry a national ID and they differ.
pub const DIFFERENT_ID_PENALTY: u8 = 25;

// ---------------------------------------------------------------------------
// Khmer
// ---------------------------------------------------------------------------

const COENG: char = '\u{17D2}';
const RO: char = '\u{179A}';

fn is_invisible(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' | '\u{17B4}' | '\u{17B5}'
        )
}

/// Khmer consonants and independent vowels: the bases clusters are built on.
fn is_khmer_base(c: char) -> bool {
    matches!(c, '\u{1780}'..='\u{17B3}')
}

/// Order of a combining mark (or coeng pair) within a Khmer cluster, in the
/// order the Unicode Standard recommends: robat, subscripts (coeng + RO last),
/// register shifters, dependent vowels, other signs.
fn khmer_mark_rank(c: char) -> Option<u8> {
    Some(match c {
        '\u{17CC}' => 0,                                        // robat
        '\u{17C9}' | '\u{17CA}' => 3,                           // register shifters
        '\u{17B6}'..='\u{17C5}' => 4,                           // dependent vowels
        '\u{17C6}'..='\u{17C8}' | '\u{17CB}' => 5,              // nikahit, reahmuk, yuukaleapintu, bantoc
        '\u{17CD}'..='\u{17D1}' | '\u{17D3}' | '\u{17DD}' => 5, // other signs
        _ => return None,
    })
}

/// Khmer name without spaces, zero-width characters or joiner variations:
/// whitespace, U+200B-U+200D, U+2060, U+FEFF, soft hyphens and the
/// deprecated inherent vowels U+17B4/U+17B5 are removed; the marks of each
/// cluster are put in the standard order (robat, subscripts with coeng-RO
/// last, register shifter, vowel, signs), so typing-order variants such as
/// vowel-before-subscript or RO-before-another-subscript agree; split vowels
/// (U+17C1 + U+17B8, U+17C1 + U+17B6) become their single characters; the
/// deprecated independent vowels U+17A3/U+17A4 become អ/អា. Text is NFC first.
pub fn normalize_khmer(s: &str) -> String {
    let chars: Vec<char> = s.nfc().filter(|c| !is_invisible(*c)).collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if !is_khmer_base(c) {
            out.push(c);
            i += 1;
            continue;
        }
        // A cluster: the base, then marks and coeng pairs.
        match c {
            '\u{17A3}' => out.push('\u{17A2}'),
            '\u{17A4}' => out.push_str("\u{17A2}\u{17B6}"),
            _ => out.push(c),
        }
        i += 1;
        let mut parts: Vec<(u8, String)> = Vec::new();
        while i < chars.len() {
            let m = chars[i];
            if m == COENG && i + 1 < chars.len() && is_khmer_base(chars[i + 1]) {
                let rank = if chars[i + 1] == RO { 2 } else { 1 };
                parts.push((rank, [m, chars[i + 1]].iter().collect()));
                i += 2;
            } else if let Some(rank) = khmer_mark_rank(m) {
                parts.push((rank, m.to_string()));
                i += 1;
            } else if m == COENG {
                // A dangling coeng (nothing to subscript): drop it.
                i += 1;
            } else {
                break;
            }
        }
        parts.sort_by_key(|p| p.0); // stable: same-rank marks keep their order
        let mut marks: String = parts.into_iter().map(|p| p.1).collect();
        marks = marks.replace("\u{17C1}\u{17B8}", "\u{17BE}").replace("\u{17C1}\u{17B6}", "\u{17C4}");
        out.push_str(&marks);
    }
    out
}

fn has_khmer(s: &str) -> bool {
    s.chars().any(|c| matches!(c, '\u{1780}'..='\u{17FF}' | '\u{19E0}'..='\u{19FF}'))
}

// ---------------------------------------------------------------------------
// Latin
// ---------------------------------------------------------------------------

/// Latin name lower-cased, accents removed, words sorted.
/// Punctuation (`-`, `.`, `'`, ...) separates words; spaces are collapsed.
pub fn normalize_latin(s: &str) -> String {
    let mut words = latin_words(s);
    words.sort();
    words.join(" ")
}

/// The words of a Latin name, lower-cased, without accents, in their order.
fn latin_words(s: &str) -> Vec<String> {
    let mut cleaned = String::with_capacity(s.len());
    for c in s.nfd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        let c = match c {
            'ß' => 's',
            'æ' | 'Æ' => 'a',
            'ø' | 'Ø' => 'o',
            'đ' | 'Đ' => 'd',
            'ł' | 'Ł' => 'l',
            _ => c,
        };
        if c.is_alphanumeric() {
            cleaned.extend(c.to_lowercase());
        } else {
            cleaned.push(' ');
        }
    }
    cleaned.split_whitespace().map(str::to_string).collect()
}

/// The phonetic skeleton of one romanized Khmer word: the spelling variants
/// of one sound map to one form. Rules, in order: letters only (lower case,
/// accents removed); `j` → `c` (`Jea`/`Chea`); `tch` → `c`; `b` → `p`;
/// `q` → `k`; `w` → `v`; an `h` after a consonant is dropped
/// (`Chhay`/`Chay`, `Sokh`/`Sok`, `Thida`/`Tida`), and so is any `h` but the
/// first letter; a final `r` after a vowel is dropped (`Chear`/`Chea`);
/// vowels (`a e i o u y`) are dropped; doubled letters are collapsed
/// (`Sovann`/`Sovan`). A word of vowels only gives `_`.
pub fn phonetic_skeleton(word: &str) -> String {
    let w: String = latin_words(word).concat();
    let w = w.replace("tch", "c");
    let letters: Vec<char> = w
        .chars()
        .filter(|c| c.is_ascii_alphabetic())
        .map(|c| match c {
            'j' => 'c',
            'b' => 'p',
            'q' => 'k',
            'w' => 'v',
            _ => c,
        })
        .collect();
    let is_vowel = |c: char| matches!(c, 'a' | 'e' | 'i' | 'o' | 'u' | 'y');
    let n = letters.len();
    let mut out = String::new();
    let mut last: Option<char> = None;
    for (i, &c) in letters.iter().enumerate() {
        if is_vowel(c) {
            continue;
        }
        if c == 'h' && i > 0 {
            continue;
        }
        if c == 'r' && i + 1 == n && i > 0 && is_vowel(letters[i - 1]) {
            continue;
        }
        if last == Some(c) {
            continue;
        }
        out.push(c);
        last = Some(c);
    }
    if out.is_empty() {
        "_".into()
    } else {
        out
    }
}

/// The phonetic skeletons of a Latin name's words, sorted, joined by spaces.
pub fn latin_skeleton(name: &str) -> String {
    let mut sk: Vec<String> = latin_words(name).iter().map(|w| phonetic_skeleton(w)).collect();
    sk.sort();
    sk.join(" ")
}

fn jw(a: &str, b: &str) -> f64 {
    strsim::jaro_winkler(a, b)
}

/// A word of a Latin name with its phonetic skeleton.
struct Word {
    text: String,
    skeleton: String,
}

fn words_of(texts: Vec<String>) -> Vec<Word> {
    texts.into_iter().map(|text| Word { skeleton: phonetic_skeleton(&text), text }).collect()
}

/// Similarity of two words, knowing romanization variants: spellings of one
/// skeleton are at least 0.9 alike; words whose skeletons differ (another
/// consonant: `Sokha`/`Sopha`, `Dara`/`Tara`) are no more alike than their
/// skeletons are.
fn word_similarity(a: &Word, b: &Word) -> f64 {
    if a.text == b.text {
        return 1.0;
    }
    let s = jw(&a.text, &b.text);
    if a.skeleton == b.skeleton {
        s.max(0.9)
    } else {
        s.min(jw(&a.skeleton, &b.skeleton))
    }
}

/// Longest names compared word by word (longer ones are compared as wholes).
const MAX_WORDS: usize = 6;

/// Best pairing of the words of two names with as many words, in any order,
/// averaged with the longer word of each pair as its weight.
fn aligned_similarity(a: &[Word], b: &[Word]) -> f64 {
    let n = a.len();
    if n == 0 || n != b.len() || n > MAX_WORDS {
        return 0.0;
    }
    let sims: Vec<Vec<f64>> = a.iter().map(|x| b.iter().map(|y| word_similarity(x, y)).collect()).collect();
    let mut best = 0.0f64;
    let mut perm: Vec<usize> = (0..n).collect();
    permutations(&mut perm, 0, &mut |p| {
        let mut total = 0.0;
        let mut weight = 0.0;
        for (i, &j) in p.iter().enumerate() {
            let w = a[i].text.chars().count().max(b[j].text.chars().count()) as f64;
            total += sims[i][j] * w;
            weight += w;
        }
        if weight > 0.0 {
            best = best.max(total / weight);
        }
    });
    best
}

fn permutations(p: &mut [usize], k: usize, f: &mut dyn FnMut(&[usize])) {
    if k == p.len() {
        f(p);
        return;
    }
    for i in k..p.len() {
        p.swap(k, i);
        permutations(p, k + 1, f);
        p.swap(k, i);
    }
}

/// Every way of joining neighbouring words of `words` into `m` words
/// (`Sok Chan Thy` → `Sokchan Thy`, `Sok Chanthy`).
fn joinings(words: &[String], m: usize, out: &mut Vec<Vec<String>>) {
    fn go(rest: &[String], m: usize, acc: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        if m == 1 {
            acc.push(rest.concat());
            out.push(acc.clone());
            acc.pop();
            return;
        }
        for k in 1..=rest.len() - (m - 1) {
            acc.push(rest[..k].concat());
            go(&rest[k..], m - 1, acc, out);
            acc.pop();
        }
    }
    if m >= 1 && m <= words.len() {
        go(words, m, &mut Vec::new(), out);
    }
}

/// Similarity of two Latin names, 0.0 to 1.0: Jaro-Winkler (strsim) on the
/// normalized words, paired in the best order (the word-sorted comparison
/// when the sorted orders agree), each pair counted as at least 0.9 alike
/// when only romanization differs (see [`phonetic_skeleton`]), weighted by
/// word length. When one name has more words, neighbouring words are joined
/// (`Chan Thy`/`Chanthy`), and the score is scaled by the share of letters the
/// shorter name has, so a missing word makes the names unlike (`Sok Chea`/`Sok`).
/// Names of more than six words are compared as word-sorted wholes.
fn latin_similarity(a: &str, b: &str) -> f64 {
    let wa = latin_words(a);
    let wb = latin_words(b);
    if wa.is_empty() || wb.is_empty() {
        return 0.0;
    }
    let mut sa = wa.clone();
    sa.sort();
    let mut sb = wb.clone();
    sb.sort();
    if sa == sb {
        return 1.0;
    }
    if wa.len().max(wb.len()) > MAX_WORDS {
        return jw(&sa.join(" "), &sb.join(" "));
    }
    let (long, short) = if wa.len() >= wb.len() { (wa, wb) } else { (wb, wa) };
    // Joining words explains a different split of the same letters, not a
    // missing word: scale by how many of the letters the shorter name has.
    let letters = |w: &[String]| w.iter().map(|x| x.chars().count()).sum::<usize>() as f64;
    let coverage = if long.len() == short.len() {
        1.0
    } else {
        letters(&short).min(letters(&long)) / letters(&long).max(letters(&short))
    };
    let short = words_of(short);
    let mut candidates = Vec::new();
    joinings(&long, short.len(), &mut candidates);
    let best = candidates.into_iter().map(|c| aligned_similarity(&words_of(c), &short)).fold(0.0, f64::max);
    (best * coverage).clamp(0.0, 1.0)
}

/// Similarity of two Khmer names, 0.0 to 1.0 (normalized, and with the words in either order).
fn khmer_similarity(a: &str, b: &str) -> f64 {
    let (na, nb) = (normalize_khmer(a), normalize_khmer(b));
    if na.is_empty() || nb.is_empty() {
        return 0.0;
    }
    if na == nb {
        return 1.0;
    }
    let sorted = |s: &str| {
        let mut w: Vec<String> = s.split_whitespace().map(normalize_khmer).collect();
        w.sort();
        w.concat()
    };
    jw(&na, &nb).max(jw(&sorted(a), &sorted(b)))
}

/// Similarity of two names, 0.0 to 1.0. Latin names are compared as
/// described for the word-sorted normalized names with romanization variants
/// ("Sok Chea", "Sok Chia", "Chea Sok", "Sok Chear" are all ≥ 0.85 alike);
/// when both names are in Khmer script they are compared normalized.
///
/// Symmetric to the last bit: `name_similarity(a, b) == name_similarity(b, a)`.
pub fn name_similarity(a: &str, b: &str) -> f64 {
    let (a, b) = in_one_order(a, b);
    if has_khmer(a) && has_khmer(b) {
        khmer_similarity(a, b)
    } else {
        latin_similarity(a, b)
    }
}

/// The two names in one order whatever the order given: the similarities are symmetric,
/// but their sums run in argument order and may differ in the last bit otherwise (which a
/// threshold could tell apart).
fn in_one_order<'a>(a: &'a str, b: &'a str) -> (&'a str, &'a str) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

// ---------------------------------------------------------------------------
// Records
// ---------------------------------------------------------------------------

/// A national ID reduced for comparison: ASCII digits, upper case, letters and digits only.
pub fn normalize_national_id(s: &str) -> String {
    crate::import::ascii_digits(s)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn nid(p: &PersonKey) -> Option<String> {
    p.national_id.as_deref().map(normalize_national_id).filter(|s| !s.is_empty())
}

/// A match when the two look like one person, with its score and reasons (see the module documentation).
pub fn compare(a: &PersonKey, b: &PersonKey) -> Option<DupMatch> {
    let (ida, idb) = (nid(a), nid(b));
    let same_id = ida.is_some() && ida == idb;
    let different_id = ida.is_some() && idb.is_some() && !same_id;
    let (ka, kb) = (normalize_khmer(&a.name_km), normalize_khmer(&b.name_km));
    let same_km = !ka.is_empty() && ka == kb;
    let (la, lb) = (normalize_latin(&a.name_latin), normalize_latin(&b.name_latin));
    let same_lat = !la.is_empty() && la == lb;
    let dob_known = a.date_of_birth.is_some() && b.date_of_birth.is_some();
    let same_dob = dob_known && a.date_of_birth == b.date_of_birth;

    let mut reasons = Vec::new();
    if same_id {
        reasons.push(DupReason::SameNationalId);
    }
    if same_dob {
        reasons.push(DupReason::SameDateOfBirth);
    }
    if same_km {
        reasons.push(DupReason::SameKhmerName);
    }
    if same_lat {
        reasons.push(DupReason::SameLatinName);
    }

    let mut score: u8 = if same_dob {
        match (same_km, same_lat) {
            (true, true) => 98,
            (true, false) => 96,
            (false, true) => 95,
            (false, false) => {
                let (x, y) = in_one_order(&a.name_latin, &b.name_latin);
                let sim = latin_similarity(x, y);
                if sim >= SIMILAR_NAMES {
                    let pct = (sim * 100.0).floor() as u8;
                    reasons.push(DupReason::SimilarNames(pct));
                    80 + (((sim - SIMILAR_NAMES) / (1.0 - SIMILAR_NAMES)) * 14.0).round() as u8
                } else {
                    0
                }
            }
        }
    } else if !dob_known && same_km && same_lat {
        75
    } else {
        0
    };
    if same_id {
        score = 100;
    } else if different_id {
        score = score.saturating_sub(DIFFERENT_ID_PENALTY);
    }
    if score < MATCH_THRESHOLD {
        return None;
    }
    Some(DupMatch { score, reasons })
}

/// The match in words, in English: "same date of birth, names 92% alike".
pub fn explain(m: &DupMatch) -> String {
    let parts: Vec<String> = m
        .reasons
        .iter()
        .map(|r| match r {
            DupReason::SameNationalId => "same national ID".to_string(),
            DupReason::SameDateOfBirth => "same date of birth".to_string(),
            DupReason::SameKhmerName => "same Khmer name".to_string(),
            DupReason::SameLatinName => "same Latin name".to_string(),
            DupReason::SimilarNames(p) => format!("names {p}% alike"),
        })
        .collect();
    parts.join(", ")
}

/// Blocking keys for indexed lookup: store them for each record, and look
/// up a new record's keys to find the only candidates [`compare`] needs to see.
///
/// Keys:
/// - `nid:<ID>`: the normalized national ID;
/// - `km:<dob>:<normalized Khmer name>` (with a date of birth);
/// - `lat:<dob>:<sorted phonetic skeletons of the Latin words>` (with a date of birth),
///   see [`phonetic_skeleton`];
/// - `name:<normalized Khmer name>|<normalized Latin name>`: for the matches
///   where a date of birth is missing. Every namesake shares it; a store
///   looking up a record that has a date of birth may restrict this key's
///   candidates to records without one.
///
/// Guarantee: two records that [`compare`] matches share at least one key
/// when the match rests on the national ID, on identical normalized names
/// (Khmer or Latin, with the same date of birth, or both names when a date of
/// birth is missing), or on Latin names that differ only in ways the skeleton
/// ignores: word order, case, accents, punctuation and spacing between words
/// of the same split, vowels (`Chea`/`Chia`/`Chea`), `h` after a consonant,
/// `j`/`ch`, `b`/`p`, `w`/`v`, doubled letters and a final `r` after a vowel.
///
/// Fuzzy matches the keys may miss: `SimilarNames` matches whose Latin
/// names differ in a letter the skeleton keeps, i.e. an added, dropped or
/// other consonant (`Sok Chea`/`Sok Cheat`, `Sok Sopheap`/`Sok Sopheak`),
/// or whose words are split differently (`Sok Chanthy`/`Sok Chan Thy`).
/// Those are found only by comparing wider candidate sets (e.g. everyone
/// with that date of birth).
pub fn dedup_keys(p: &PersonKey) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(id) = nid(p) {
        keys.push(format!("nid:{id}"));
    }
    let km = normalize_khmer(&p.name_km);
    let lat = normalize_latin(&p.name_latin);
    if let Some(dob) = p.date_of_birth {
        if !km.is_empty() {
            keys.push(format!("km:{dob}:{km}"));
        }
        if !lat.is_empty() {
            keys.push(format!("lat:{dob}:{}", latin_skeleton(&p.name_latin)));
        }
    }
    if !km.is_empty() && !lat.is_empty() {
        keys.push(format!("name:{km}|{lat}"));
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(km: &str, lat: &str, dob: Option<(i32, u32, u32)>, id: Option<&str>) -> PersonKey {
        PersonKey {
            national_id: id.map(str::to_string),
            name_km: km.into(),
            name_latin: lat.into(),
            date_of_birth: dob.map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap()),
        }
    }

    const DOB: Option<(i32, u32, u32)> = Some((1990, 4, 13));

    fn shares_key(a: &PersonKey, b: &PersonKey) -> bool {
        let ka = dedup_keys(a);
        dedup_keys(b).iter().any(|k| ka.contains(k))
    }

    #[test]
    fn khmer_normalization() {
        assert_eq!(normalize_khmer("សុខ ជា"), "សុខជា");
        assert_eq!(normalize_khmer("សុខ\u{200B}ជា"), "សុខជា");
        assert_eq!(normalize_khmer("\u{FEFF}សុខ\u{200C}\u{200D} ជា "), "សុខជា");
        // Coeng RO typed before another subscript: ស្ត្រី.
        assert_eq!(normalize_khmer("ស\u{17D2}\u{179A}\u{17D2}\u{178F}\u{17B8}"), "ស្ត្រី");
        // Vowel typed before the subscript: ក្មេង.
        assert_eq!(normalize_khmer("ក\u{17C1}\u{17D2}\u{1798}ង"), "ក្មេង");
        // Split vowel.
        assert_eq!(normalize_khmer("ស\u{17C1}\u{17B8}"), "សើ");
        assert_eq!(normalize_khmer("ចន្ធា"), "ចន្ធា");
    }

    #[test]
    fn latin_normalization() {
        assert_eq!(normalize_latin("  Sok   CHEA "), "chea sok");
        assert_eq!(normalize_latin("Chéa-Sok"), "chea sok");
        assert_eq!(normalize_latin("O'Neill, Ány"), "any neill o");
        assert_eq!(normalize_latin(""), "");
    }

    #[test]
    fn romanization_variants_are_alike() {
        for (a, b) in [
            ("Sok Chea", "Sok Chia"),
            ("Sok Chea", "Chea Sok"),
            ("Sok Chea", "Sok Chear"),
            ("Sok Chia", "Chear Sok"),
            ("Sokh Chea", "Sok Chea"),
            ("Sovann Dara", "Sovan Dara"),
            ("Chhay Bopha", "Chay Popha"),
            ("Sok Chanthy", "Sok Chan Thy"),
            ("sok  chea", "SOK CHEA"),
            ("Sok Chea", "Sok Tchea"),
            ("Sok Chea", "Jea Sok"),
            ("Sok Chea", "Sôk Chéa"),
            ("Sok Chan Thy", "Chanthy Sok"),
            ("Heng Dara", "Heng Darra"),
            ("Sok Chea", "Sak Chea"),
        ] {
            let s = name_similarity(a, b);
            assert!(s >= 0.85, "{a} / {b}: {s}");
        }
        assert_eq!(name_similarity("Sok Chea", "Chea Sok"), 1.0);
    }

    #[test]
    fn different_people_are_not_alike() {
        for (a, b) in [
            ("Sok Chea", "Heng Dara"),
            ("Sok Chea", "Sok Dara"),
            ("Chan Sophal", "Keo Sreymom"),
            ("Sok Chea", "Kim Sokha"),
            ("Heng Dara", "Heng Sophea"),
            ("Sok Chea", "Srey Mom"),
            ("Sok Chea", "Kim Chea"),
            ("Sok Chea", "Srey Chea"),
            ("Sokha Chan", "Sopha Chan"),
            ("Chan Dara", "Chan Tara"),
            ("Chan Thy", "Chanthy Sok"),
            ("Sok Chea", "Sok"),
        ] {
            let s = name_similarity(a, b);
            assert!(s < 0.85, "{a} / {b}: {s}");
        }
        assert!(name_similarity("Sok Chea", "Heng Dara") < 0.6);
        assert_eq!(name_similarity("", "Sok"), 0.0);
    }

    /// Pairs whose two orders gave numbers one bit apart before the names were put in one
    /// order (the property tests find such pairs only now and then).
    #[test]
    fn similarity_is_symmetric_to_the_last_bit() {
        for (a, b) in [("pak sa sem sin", "pen keang cha sang"), ("ᳩ:f 𝕆 ﬓ𐊠", "0🌀0[ῠſჇኲ 𞴁")] {
            assert_ne!(
                latin_similarity(a, b).to_bits(),
                latin_similarity(b, a).to_bits(),
                "{a} / {b}: pick another pair"
            );
            assert_eq!(name_similarity(a, b).to_bits(), name_similarity(b, a).to_bits(), "{a} / {b}");
        }
    }

    #[test]
    fn khmer_names_compare_normalized() {
        assert_eq!(name_similarity("សុខ ជា", "សុខ\u{200B}ជា"), 1.0);
        assert_eq!(name_similarity("សុខ ជា", "ជា សុខ"), 1.0);
        assert!(name_similarity("សុខ ជា", "ហេង ដារា") < 0.7);
    }

    #[test]
    fn same_national_id_is_certain() {
        let a = p("សុខ ជា", "Sok Chea", DOB, Some("010203045"));
        let b = p("ហេង ដារា", "Heng Dara", None, Some(" 0102-03045 "));
        let m = compare(&a, &b).unwrap();
        assert_eq!(m.score, 100);
        assert_eq!(m.reasons, vec![DupReason::SameNationalId]);
        assert_eq!(explain(&m), "same national ID");
        assert!(shares_key(&a, &b));
    }

    #[test]
    fn issue_examples() {
        let base = p("សុខ ជា", "Sok Chea", DOB, None);
        for lat in ["Sok Chia", "Chea Sok", "Sok Chear"] {
            let other = p("", lat, DOB, None);
            let m = compare(&base, &other).unwrap_or_else(|| panic!("{lat}"));
            assert!((80..=98).contains(&m.score), "{lat}: {m:?}");
            assert!(m.reasons.contains(&DupReason::SameDateOfBirth));
            assert!(shares_key(&base, &other), "{lat}: {:?} / {:?}", dedup_keys(&base), dedup_keys(&other));
        }
        let m = compare(&base, &p("", "Chea Sok", DOB, None)).unwrap();
        assert_eq!(m.score, 95);
        assert_eq!(explain(&m), "same date of birth, same Latin name");
        let m = compare(&base, &p("", "Sok Chia", DOB, None)).unwrap();
        let DupReason::SimilarNames(pct) = m.reasons[1] else { panic!("{m:?}") };
        assert!(pct >= 85);
        assert_eq!(explain(&m), format!("same date of birth, names {pct}% alike"));
        // Khmer with zero-width spaces and different spacing.
        let zw = p("សុខ\u{200B}ជា", "Sok Chea Sr", DOB, None);
        let m = compare(&base, &zw).unwrap();
        assert_eq!(m.score, 96);
        assert_eq!(m.reasons, vec![DupReason::SameDateOfBirth, DupReason::SameKhmerName]);
        assert!(shares_key(&base, &zw));
        let same = p("សុខ ជា", "SOK  Chea", DOB, None);
        assert_eq!(compare(&base, &same).unwrap().score, 98);
    }

    #[test]
    fn no_false_match_between_different_people() {
        let a = p("សុខ ជា", "Sok Chea", DOB, None);
        for (km, lat) in [("ហេង ដារា", "Heng Dara"), ("សុខ ដារា", "Sok Dara"), ("គីម សុខា", "Kim Sokha")]
        {
            assert_eq!(compare(&a, &p(km, lat, DOB, None)), None, "{lat}");
        }
        // Same name, different date of birth: two people.
        assert_eq!(compare(&a, &p("សុខ ជា", "Sok Chea", Some((1991, 4, 13)), None)), None);
        // Similar names and same birthday but different national IDs (e.g. twins).
        let t1 = p("សុខ ជា", "Sok Chea", DOB, Some("111111"));
        let t2 = p("សុខ ជៀ", "Sok Chia", DOB, Some("222222"));
        assert_eq!(compare(&t1, &t2), None);
    }

    #[test]
    fn missing_date_of_birth_needs_identical_names() {
        let a = p("សុខ ជា", "Sok Chea", DOB, None);
        let b = p("សុខ\u{200B}ជា", "Chea Sok", None, None);
        let m = compare(&a, &b).unwrap();
        assert_eq!(m.score, 75);
        assert_eq!(m.reasons, vec![DupReason::SameKhmerName, DupReason::SameLatinName]);
        assert!(shares_key(&a, &b));
        assert_eq!(compare(&a, &p("សុខ ជា", "Sok Chia", None, None)), None);
        let with_id = p("សុខ ជា", "Sok Chea", DOB, Some("111111"));
        assert_eq!(compare(&with_id, &p("សុខ ជា", "Sok Chea", None, Some("999999"))), None);
    }

    #[test]
    fn documented_key_misses() {
        for (x, y) in [("Sok Chea", "Sok Cheat"), ("Sok Sopheap", "Sok Sopheak"), ("Sok Chanthy", "Sok Chan Thy")] {
            let (a, b) = (p("", x, DOB, None), p("", y, DOB, None));
            assert!(compare(&a, &b).is_some(), "{x}/{y}");
            assert!(!shares_key(&a, &b), "{x}/{y} now share a key: update the documentation of dedup_keys");
        }
    }

    #[test]
    fn skeletons() {
        for (a, b) in [
            ("Chea", "Chia"),
            ("Chea", "Chear"),
            ("Chea", "Jea"),
            ("Sok", "Sokh"),
            ("Sovann", "Sovan"),
            ("Bopha", "Popha"),
            ("Chhay", "Chay"),
            ("Thida", "Tida"),
        ] {
            assert_eq!(phonetic_skeleton(a), phonetic_skeleton(b), "{a}/{b}");
        }
        assert_ne!(phonetic_skeleton("Dara"), phonetic_skeleton("Sok"));
        assert_eq!(phonetic_skeleton("Ou"), "_");
        assert_eq!(latin_skeleton("Sok Chea"), latin_skeleton("Chia Sok"));
    }

    mod props {
        use super::*;
        use proptest::prelude::*;

        const ONSETS: &[&str] = &["s", "ch", "k", "kh", "t", "th", "p", "ph", "d", "m", "n", "l", "r", "v", "h", "y"];
        const VOWELS: &[&str] = &["a", "e", "i", "o", "u", "ea", "ia", "ey", "ou", "oeu", "au", "ai"];
        const CODAS: &[&str] = &["", "k", "n", "ng", "m", "t", "p", "l", "y", "nn"];

        fn word() -> impl Strategy<Value = String> {
            (0..ONSETS.len(), 0..VOWELS.len(), 0..CODAS.len())
                .prop_map(|(o, v, c)| format!("{}{}{}", ONSETS[o], VOWELS[v], CODAS[c]))
        }

        /// A romanization variant of a word: other vowels, an `h` after the
        /// first consonant added or dropped, a doubled final consonant, a final `r`, case.
        fn variant(w: &str, vowel: usize, h: bool, double: bool, r: bool, upper: bool) -> String {
            let mut out = String::new();
            let chars: Vec<char> = w.chars().collect();
            let mut i = 0;
            // onset
            while i < chars.len() && !"aeiouy".contains(chars[i]) {
                out.push(chars[i]);
                i += 1;
            }
            if h && !out.is_empty() && !out.ends_with('h') && out != "h" {
                out.push('h');
            } else if h && out.len() > 1 && out.ends_with('h') {
                out.pop();
            }
            // replace the vowel run
            while i < chars.len() && "aeiouy".contains(chars[i]) && (i > 0 || out.is_empty()) {
                i += 1;
            }
            out.push_str(VOWELS[vowel % VOWELS.len()]);
            let rest: String = chars[i..].iter().collect();
            if rest.is_empty() {
                if r {
                    out.push('r');
                }
            } else {
                out.push_str(&rest);
                if double && !rest.ends_with('y') {
                    out.push(rest.chars().last().unwrap());
                }
            }
            if upper {
                out = out.to_uppercase();
            }
            out
        }

        proptest! {
            #[test]
            fn variants_share_a_latin_key(
                words in proptest::collection::vec(word(), 1..4),
                changes in proptest::collection::vec((0usize..12, any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()), 4),
                reverse in any::<bool>(),
                y in 1950i32..2005, m in 1u32..13, d in 1u32..29,
            ) {
                let a_name = words.join(" ");
                let mut vw: Vec<String> = words
                    .iter()
                    .zip(changes.iter().cycle())
                    .map(|(w, (v, h, dbl, r, up))| variant(w, *v, *h, *dbl, *r, *up))
                    .collect();
                if reverse {
                    vw.reverse();
                }
                let b_name = vw.join(" ");
                let dob = Some((y, m, d));
                let a = p("", &a_name, dob, None);
                let b = p("", &b_name, dob, None);
                prop_assert_eq!(latin_skeleton(&a_name), latin_skeleton(&b_name));
                prop_assert!(shares_key(&a, &b), "{} / {}", a_name, b_name);
            }

            #[test]
            fn matches_on_exact_rules_share_a_key(
                words in proptest::collection::vec(word(), 1..4),
                km in "[សុខជាហេងដារា \u{200B}]{1,8}",
                id in proptest::option::of("[0-9]{6,9}"),
                dob_a in proptest::option::of(0u32..3), dob_b in proptest::option::of(0u32..3),
                flip in any::<bool>(),
            ) {
                let day = |o: Option<u32>| o.map(|k| (1990, 1, 1 + k));
                let name_b = if flip { words.iter().rev().cloned().collect::<Vec<_>>().join("  ") } else { words.join(" ") };
                let a = p(&km, &words.join(" "), day(dob_a), id.as_deref());
                let b = p(&km.replace(' ', "\u{200B}"), &name_b, day(dob_b), id.as_deref());
                if compare(&a, &b).is_some() {
                    prop_assert!(shares_key(&a, &b));
                }
            }

            #[test]
            fn compare_is_symmetric_and_keys_ignore_writing_variants(
                wa in proptest::collection::vec(word(), 1..4),
                wb in proptest::collection::vec(word(), 1..4),
                km in "[សុខជាហេងដារា]{1,6}",
                dob_a in proptest::option::of(0u32..2), dob_b in proptest::option::of(0u32..2),
            ) {
                let day = |o: Option<u32>| o.map(|k| (1990, 1, 1 + k));
                let a = p(&km, &wa.join(" "), day(dob_a), None);
                let b = p("", &wb.join(" "), day(dob_b), None);
                prop_assert_eq!(compare(&a, &b), compare(&b, &a));
                if let Some(m) = compare(&a, &b) {
                    prop_assert!(m.score >= MATCH_THRESHOLD && m.score <= 100);
                    prop_assert!(!explain(&m).is_empty());
                }
                // Spacing, zero-width characters, case, accents and punctuation change no key.
                let noisy = p(
                    &format!("\u{200B}{}\u{FEFF}", km.chars().map(|c| format!("{c}\u{200C}")).collect::<String>()),
                    &format!("  {}. ", wa.iter().rev().map(|w| w.to_uppercase()).collect::<Vec<_>>().join(" - ")),
                    day(dob_a),
                    None,
                );
                prop_assert_eq!(dedup_keys(&a), dedup_keys(&noisy));
            }

            #[test]
            fn similarity_is_bounded_and_symmetric(a in "\\PC{0,20}", b in "\\PC{0,20}") {
                let s = name_similarity(&a, &b);
                prop_assert!((0.0..=1.0).contains(&s));
                prop_assert_eq!(s.to_bits(), name_similarity(&b, &a).to_bits(), "{:?} / {:?}", a, b);
                prop_assert!((latin_similarity(&a, &b) - latin_similarity(&b, &a)).abs() < 1e-9, "{:?} / {:?}", a, b);
                let k = normalize_khmer(&a);
                prop_assert_eq!(normalize_khmer(&k), k);
                let _ = dedup_keys(&p(&a, &b, DOB, Some(&a)));
            }

            /// Random text seldom looks like a name: the same on names and their variants,
            /// where the word pairing, the joining of words and the skeletons come into play.
            #[test]
            fn similarity_of_names_is_symmetric(
                wa in proptest::collection::vec(word(), 1..5),
                wb in proptest::collection::vec(word(), 1..5),
                changes in proptest::collection::vec((0usize..12, any::<bool>(), any::<bool>(), any::<bool>(), any::<bool>()), 4),
                variant_of_a in any::<bool>(),
                km_a in "[សុខជាហេងដារា ]{1,8}", km_b in "[សុខជាហេងដារា ]{1,8}",
            ) {
                let a = wa.join(" ");
                let b = if variant_of_a {
                    wa.iter().zip(changes.iter().cycle()).map(|(w, (v, h, dbl, r, up))| variant(w, *v, *h, *dbl, *r, *up)).collect::<Vec<_>>().join(" ")
                } else {
                    wb.join(" ")
                };
                for (x, y) in [(&a, &b), (&km_a, &km_b), (&a, &km_b)] {
                    let s = name_similarity(x, y);
                    prop_assert!((0.0..=1.0).contains(&s));
                    prop_assert_eq!(s.to_bits(), name_similarity(y, x).to_bits(), "{:?} / {:?}", x, y);
                    // The methods themselves, before the arguments are put in one order: alike
                    // but for rounding.
                    for f in [latin_similarity, khmer_similarity] {
                        prop_assert!((f(x, y) - f(y, x)).abs() < 1e-9, "{:?} / {:?}: {} / {}", x, y, f(x, y), f(y, x));
                    }
                }
            }
        }
    }
}
