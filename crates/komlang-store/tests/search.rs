//! Worker search through the trigram index, on every engine: the same matches as the
//! substring search it replaced (and as a plain reading of every record), kept exact as
//! records are created, imported, changed and deleted; best matches first; counts bounded.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

use std::collections::BTreeSet;

use chrono::NaiveDate;
use komlang_core::import::guess_mapping;
use komlang_core::validate::WorkerInput;
use komlang_core::*;
use komlang_store::testing::{engines, import_options, import_table, TestDb};
use komlang_store::{
    system_principal, DupDecision, Store, WorkerChange, WorkerImportOptions, WorkerQuery, WorkerRow, COUNT_LIMIT,
    SEARCH_WINDOWS,
};
use sqlx::Row;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

/// A small deterministic generator (no dependency, the same data on every run).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        self.0 >> 33
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, v: &[&'a str]) -> &'a str {
        v[self.below(v.len())]
    }
}

const LATIN: &[&str] = &[
    "Sok",
    "SOK",
    "sok",
    "Chan",
    "Dara",
    "Sophea",
    "Vanna",
    "Sokha",
    "Pisey",
    "Rith",
    "Bopha",
    "Kosal",
    "Amélie",
    "AMELIE",
    "Ánh",
    "Thérèse",
    "Rasok",
    "O'Neil",
    "Saint-Just",
    "Ly",
    "Mey",
];
const KHMER: &[&str] = &[
    "សុខ",
    "ចាន់",
    "ដារ៉ា",
    "សុភា",
    "វណ្ណា",
    "ពិសី",
    "ស្រីមុំ",
    "បុប្ផា",
    "សុខា",
    "ចាន់\u{200B}ធា",
    "ស%ខ",
    "ក_ល",
    "ម\\ន",
    "sokha",
    "Sok",
    "សុខ១២",
    "ឆ្នាំ២០២៤",
];

/// A worker's fields: Khmer name, Latin name, phone, national ID.
type Fields = (String, String, Option<String>, Option<String>);

fn fields(r: &mut Rng, i: usize) -> Fields {
    let km = format!("{} {}", r.pick(KHMER), r.pick(KHMER));
    let latin = format!("{} {}", r.pick(LATIN), r.pick(LATIN));
    let phone = match r.below(3) {
        0 => None,
        1 => Some(format!("0{:08}", r.next() % 100_000_000)),
        _ => Some(format!("012 {:03} {:03}", r.next() % 1000, r.next() % 1000)),
    };
    let nid = (r.below(2) == 0).then(|| format!("N{:07}", i));
    (km, latin, phone, nid)
}

fn input(f: &Fields, i: usize) -> WorkerInput {
    WorkerInput {
        name_km: Some(f.0.clone()),
        name_latin: Some(f.1.clone()),
        phone: f.2.clone(),
        national_id: f.3.clone(),
        sex: Some("female".into()),
        date_of_birth: Some(format!("19{:02}-{:02}-{:02}", 60 + i % 40, 1 + i % 12, 1 + i % 28)),
        cadre: Some("para_social_worker".into()),
        role: Some("ccwc_focal_point".into()),
        sector: Some("government".into()),
        workplace_code: Some(if i.is_multiple_of(3) { "010201" } else { "020101" }.into()),
        status: Some("active".into()),
        start_date: Some("2019-01-15".into()),
        ..Default::default()
    }
}

const HEADERS: &[&str] = &[
    "ឈ្មោះ",
    "Name (Latin)",
    "Sex",
    "Date of birth",
    "National ID",
    "Phone",
    "Cadre",
    "Role",
    "Sector",
    "Workplace code",
    "Status",
    "Start date",
];

fn import_row(f: &Fields, i: usize) -> Vec<String> {
    let w = input(f, i);
    [
        w.name_km,
        w.name_latin,
        Some("F".into()),
        w.date_of_birth,
        w.national_id,
        w.phone,
        w.cadre,
        w.role,
        w.sector,
        w.workplace_code,
        w.status,
        w.start_date,
    ]
    .into_iter()
    .map(Option::unwrap_or_default)
    .collect()
}

/// Imports the rows in one transaction (every row kept, even when it looks like another).
async fn import(store: &Store, rows: Vec<Vec<String>>) {
    let opts = WorkerImportOptions { default_decision: DupDecision::KeepBoth, ..import_options() };
    let report = import_table(store, &system_principal("test"), HEADERS, rows, &opts, today()).await.unwrap();
    assert!(report.rejected.is_empty(), "{:?}", report.rejected);
}

/// A stored worker as the oracle sees it.
struct Stored {
    id: i64,
    latin: String,
    km: String,
    phone: Option<String>,
    nid: Option<String>,
}

async fn stored(store: &Store) -> Vec<Stored> {
    let rows = sqlx::query("SELECT id, name_latin, name_km, phone, national_id FROM workers ORDER BY id")
        .fetch_all(store.pool())
        .await
        .unwrap();
    rows.iter()
        .map(|r| Stored {
            id: r.get("id"),
            latin: r.get("name_latin"),
            km: r.get("name_km"),
            phone: r.get("phone"),
            nid: r.get("national_id"),
        })
        .collect()
}

/// What a search must answer, in order, read off every record: each field's key holds the
/// query's key, or the national ID is the query; best tier first, then by name, then id.
fn expected(all: &[Stored], q: &str) -> Vec<i64> {
    let t = q.trim();
    let k = search_key(t);
    let mut hits: Vec<(u8, String, i64)> = Vec::new();
    for w in all {
        let (lk, kk, pk) = (search_key(&w.latin), search_key(&w.km), search_key(w.phone.as_deref().unwrap_or("")));
        let nid = w.nid.as_deref() == Some(t);
        if !(nid || lk.contains(&k) || kk.contains(&k) || pk.contains(&k)) {
            continue;
        }
        let tier = if nid {
            0
        } else if lk.starts_with(&k) {
            1
        } else if kk.starts_with(&k) {
            2
        } else {
            3
        };
        let name = if tier == 2 { kk } else { worker_search_key(&w.latin, &w.km, w.phone.as_deref()) };
        hits.push((tier, name, w.id));
    }
    hits.sort();
    hits.into_iter().map(|h| h.2).collect()
}

/// The ids of the workers of province 02 (commune 020101, where [`input`] puts two in three).
async fn in_province_02(store: &Store) -> BTreeSet<i64> {
    sqlx::query("SELECT id FROM workers WHERE workplace_code = '020101'")
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get("id"))
        .collect()
}

/// Every page of a search, in order.
async fn search_all(store: &Store, q: &str, per_page: i64) -> (Vec<i64>, Vec<WorkerRow>) {
    let rows = all_pages(store, &WorkerQuery { q: Some(q.into()), per_page, ..Default::default() }).await;
    (rows.iter().map(|r| r.id).collect(), rows)
}

/// Every page of a list, in order (`q.per_page` a page).
async fn all_pages(store: &Store, q: &WorkerQuery) -> Vec<WorkerRow> {
    let admin = system_principal("test");
    let mut rows = Vec::new();
    for page in 1.. {
        let got = store.list_workers(&admin, &WorkerQuery { page, ..q.clone() }).await.unwrap();
        let n = got.items.len() as i64;
        rows.extend(got.items);
        if n < q.per_page {
            break;
        }
    }
    rows
}

/// The ids of page `page` of a search, one row a page, and what the oracle's `want` holds there.
async fn one_row_page(store: &Store, q: &str, page: i64, want: &[i64]) -> (Vec<i64>, Vec<i64>) {
    let got = store
        .list_workers(
            &system_principal("test"),
            &WorkerQuery { q: Some(q.into()), page, per_page: 1, ..Default::default() },
        )
        .await
        .unwrap();
    (got.items.iter().map(|w| w.id).collect(), want.get(page as usize - 1).copied().into_iter().collect())
}

/// The search this one replaced: `LIKE` over the lower-cased names and the phone, the
/// national ID equal.
async fn old_like(store: &Store, q: &str) -> BTreeSet<i64> {
    let mut pat = String::from("%");
    for c in clean_text(q).to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pat.push('\\');
        }
        pat.push(c);
    }
    pat.push('%');
    let rows = sqlx::query(
        "SELECT w.id FROM workers w WHERE (LOWER(w.name_latin) LIKE $1 ESCAPE '\\' \
         OR LOWER(w.name_km) LIKE $1 ESCAPE '\\' OR w.national_id = $2 OR w.phone LIKE $1 ESCAPE '\\')",
    )
    .bind(&pat)
    .bind(q.trim())
    .fetch_all(store.pool())
    .await
    .unwrap();
    rows.iter().map(|r| r.get::<i64, _>(0)).collect()
}

/// Queries: fixed ones (case, accents, zero-width characters, Khmer digits, LIKE
/// metacharacters, short ones) and pieces of the stored names, phones and IDs.
fn queries(all: &[Stored], r: &mut Rng) -> Vec<String> {
    let mut qs: Vec<String> = [
        "sok",
        "SOK",
        "Sok",
        "ok d",
        "sokha",
        "a",
        "so",
        "ly",
        "amelie",
        "AMÉLIE",
        "ánh",
        "anh",
        "therese",
        "o'n",
        "-j",
        "សុខ",
        "ស",
        "សុ",
        "ចាន់\u{200B}ធា",
        "ចាន់ធា",
        "\u{2066}សុភា",
        "ស្រី",
        "្រ",
        "១២",
        "12",
        "២០២៤",
        "2024",
        "%",
        "_",
        "\\",
        "ស%ខ",
        "ក_ល",
        "ម\\ន",
        "%ខ",
        "012",
        "012 3",
        "N0000",
        "zzz",
        "ស ច",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    for _ in 0..40 {
        let w = &all[r.below(all.len())];
        let src = match r.below(4) {
            0 => w.latin.clone(),
            1 => w.km.clone(),
            2 => w.phone.clone().unwrap_or_else(|| w.latin.clone()),
            _ => w.nid.clone().unwrap_or_else(|| w.km.clone()),
        };
        let chars: Vec<char> = src.chars().collect();
        let len = 1 + r.below(chars.len().min(6));
        let at = r.below(chars.len() - len + 1);
        let piece: String = chars[at..at + len].iter().collect();
        qs.push(if r.below(2) == 0 { piece.to_uppercase() } else { piece });
        if let Some(n) = &w.nid {
            qs.push(n.clone());
        }
    }
    qs
}

/// Checks every query against the oracle and the old search.
async fn check_searches(store: &Store, engine: komlang_store::Engine, r: &mut Rng, stage: &str) {
    let all = stored(store).await;
    for q in queries(&all, r) {
        let want = expected(&all, &q);
        let (got, _) = search_all(store, &q, 7).await;
        assert_eq!(got, want, "{engine:?} {stage}: matches and order of {q:?}");
        let page1 = store
            .list_workers(&system_principal("t"), &WorkerQuery { q: Some(q.clone()), ..Default::default() })
            .await
            .unwrap();
        assert_eq!(page1.total, want.len() as i64, "{engine:?} {stage}: count of {q:?}");
        assert!(!page1.total_is_lower_bound);

        // Where the query's key is the query as the old search lowered it, the old
        // search's matches are all found; on records whose fields' keys are their lower
        // case (no accents, single spaces), exactly those.
        let t = q.trim();
        if search_key(t) == clean_text(t).to_lowercase() {
            let old = old_like(store, &q).await;
            let new: BTreeSet<i64> = got.iter().copied().collect();
            assert!(old.is_subset(&new), "{engine:?} {stage}: {q:?} lost {:?}", old.difference(&new));
            let plain: BTreeSet<i64> = all
                .iter()
                .filter(|w| {
                    [Some(w.latin.as_str()), Some(w.km.as_str()), w.phone.as_deref()]
                        .into_iter()
                        .flatten()
                        .all(|f| search_key(f) == f.to_ascii_lowercase())
                })
                .map(|w| w.id)
                .collect();
            assert_eq!(
                old.intersection(&plain).collect::<Vec<_>>(),
                new.intersection(&plain).collect::<Vec<_>>(),
                "{engine:?} {stage}: {q:?} on plain records"
            );
        }
    }
}

#[tokio::test]
async fn search_finds_what_the_substring_search_found_as_records_change() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = system_principal("test");
        let mut r = Rng(7);
        let mut n = 0;
        // Created one by one, then imported in one transaction.
        let mut ids = Vec::new();
        for _ in 0..40 {
            let f = fields(&mut r, n);
            ids.push(db.store.create_worker(&admin, &input(&f, n), today()).await.unwrap().id);
            n += 1;
        }
        let mut rows = Vec::new();
        for _ in 0..160 {
            let f = fields(&mut r, n);
            rows.push(import_row(&f, n));
            n += 1;
        }
        import(&db.store, rows).await;
        check_searches(&db.store, engine, &mut r, "created and imported").await;

        // Renamed, new phones, deleted: the index follows.
        for &id in ids.iter().take(15) {
            let f = fields(&mut r, n);
            n += 1;
            let patch = WorkerInput {
                name_km: Some(f.0),
                name_latin: Some(f.1),
                phone: Some(f.2.unwrap_or_else(|| "099 000 111".into())),
                ..Default::default()
            };
            db.store.update_worker(&admin, id, &patch, &WorkerChange::default(), today(), None).await.unwrap();
        }
        for &id in ids.iter().skip(30) {
            db.store.delete_worker(&admin, id, None).await.unwrap();
        }
        check_searches(&db.store, engine, &mut r, "changed and deleted").await;

        // A merge inside an import changes a stored worker's names within the import's transaction.
        let target = &stored(&db.store).await[0];
        let mut merged = import_row(&fields(&mut r, n), n);
        merged[0] = target.km.clone();
        merged[1] = "Zzyzx Merged".into();
        merged[3] = String::new();
        merged[4] = target.nid.clone().unwrap_or_else(|| "NMERGE001".into());
        if target.nid.is_none() {
            sqlx::query("UPDATE workers SET national_id = 'NMERGE001' WHERE id = $1")
                .bind(target.id)
                .execute(db.store.pool())
                .await
                .unwrap();
        }
        let headers: Vec<String> = HEADERS.iter().map(|h| h.to_string()).collect();
        let opts = WorkerImportOptions {
            file_name: "merge.csv".into(),
            file_sha256: "cd".repeat(32),
            default_decision: DupDecision::Merge,
            ..Default::default()
        };
        let report = db
            .store
            .import_workers(&admin, &headers, [Ok((2, merged))].into_iter(), &guess_mapping(&headers), &opts, today())
            .await
            .unwrap();
        assert_eq!(report.merged, 1, "{engine:?}: {report:?}");
        let (found, _) = search_all(&db.store, "zzyzx", 50).await;
        assert_eq!(found, vec![target.id], "{engine:?}: the merged name is found");
        check_searches(&db.store, engine, &mut r, "merged").await;
        db.cleanup().await;
    }
}

/// The keys of rows written without them (before the migration, or by a tool writing SQL)
/// are filled in when the store starts, and those rows are found.
#[tokio::test]
async fn missing_keys_are_filled_in_at_start() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = system_principal("test");
        let w = db.store.create_worker(&admin, &input(&fields(&mut Rng(3), 0), 0), today()).await.unwrap();
        sqlx::query(
            "UPDATE workers SET search_key = NULL, search_km = NULL, name_latin = 'Quillon Vorte' WHERE id = $1",
        )
        .bind(w.id)
        .execute(db.store.pool())
        .await
        .unwrap();
        assert!(search_all(&db.store, "quillon", 50).await.0.is_empty(), "{engine:?}: no key, not found");
        assert_eq!(db.store.ensure_search_keys().await.unwrap(), 1);
        assert_eq!(search_all(&db.store, "quillon", 50).await.0, vec![w.id], "{engine:?}");
        assert_eq!(search_all(&db.store, "qu", 50).await.0, vec![w.id], "{engine:?}: short query");
        assert_eq!(db.store.ensure_search_keys().await.unwrap(), 0, "{engine:?}: nothing left to do");
        db.cleanup().await;
    }
}

/// Past [`COUNT_LIMIT`] matches, the count stops and says so, and each page is read tier
/// by tier from the indexes: the pages are still the matches in the order of the oracle.
#[tokio::test]
async fn many_matches_are_counted_to_a_bound_and_paged_in_order() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = system_principal("test");
        let mut r = Rng(11);
        let n = COUNT_LIMIT as usize + 600;
        let mut rows = Vec::with_capacity(n);
        for i in 0..n {
            // Every name holds "ok": a Latin name starting with it, a Khmer name starting
            // with it, or "ok" inside a word.
            let mut km = format!("{} {}", r.pick(KHMER), r.pick(KHMER));
            let latin = match i % 3 {
                0 => format!("Ok{} {}", r.pick(LATIN).to_lowercase(), r.pick(LATIN)),
                1 => {
                    km = format!("ok{}", r.pick(KHMER));
                    format!("{} {}", r.pick(&["Chan", "Dara", "Vanna"]), r.pick(&["Ly", "Mey"]))
                }
                _ => format!("{} Rasok{}", r.pick(LATIN), r.pick(&["", "a", "ha"])),
            };
            rows.push(import_row(&(km, latin, None, None), i));
        }
        import(&db.store, rows).await;
        let all = stored(&db.store).await;

        let first = db
            .store
            .list_workers(&admin, &WorkerQuery { q: Some("ok".into()), per_page: 500, ..Default::default() })
            .await
            .unwrap();
        assert_eq!((first.total, first.total_is_lower_bound), (COUNT_LIMIT, true), "{engine:?}");
        assert!(first.has_next());
        // Without a search the total is summed from the worker tallies: exact, however many.
        let plain = db.store.list_workers(&admin, &WorkerQuery::default()).await.unwrap();
        assert_eq!((plain.total as usize, plain.total_is_lower_bound), (all.len(), false), "{engine:?}: no search");
        assert!(plain.total > COUNT_LIMIT, "{engine:?}: more workers than the bound");
        // A filter that leaves fewer: counted exactly.
        let q = WorkerQuery { province: Some("01".into()), ..Default::default() };
        let province = db.store.list_workers(&admin, &q).await.unwrap();
        assert_eq!(province.total as usize, n.div_ceil(3), "{engine:?}: workers of province 01");
        assert!(!province.total_is_lower_bound);

        let in_02 = in_province_02(&db.store).await;
        // The last tier's page is found among the first keys in name order, or else by
        // sorting the tier's matches (a key too short for trigrams: by reading on in order);
        // small windows reach each way with these few workers, and every way gives the pages
        // of the oracle.
        for windows in [SEARCH_WINDOWS, [1, 2], [40, 400]] {
            let store = db.store.clone().with_search_windows(windows);
            for q in ["ok", "OK", "okc", "ras"] {
                let want = expected(&all, q);
                let (got, _) = search_all(&store, q, 500).await;
                assert_eq!(got.len(), want.len(), "{engine:?} {windows:?}: {q}");
                assert!(got == want, "{engine:?} {windows:?}: order of {q}");
            }
            // Pages that start inside a later tier (one row a page, past the first tiers),
            // and past the end.
            let (third, n) = (n as i64 / 3, n as i64);
            for q in ["ok", "oka"] {
                let want = expected(&all, q);
                for page in [third, third + 1, 2 * third, 2 * third + 1, n - 1, n, n + 1] {
                    let (got, one) = one_row_page(&store, q, page, &want).await;
                    assert_eq!(got, one, "{engine:?} {windows:?}: page {page} of {q}");
                }
            }
            // With a filter on the place: more than the bound still match in province 02
            // (its workers hold "ok" in the Khmer name or inside a word).
            let q =
                WorkerQuery { q: Some("ok".into()), province: Some("02".into()), per_page: 100, ..Default::default() };
            let want: Vec<i64> = expected(&all, "ok").into_iter().filter(|id| in_02.contains(id)).collect();
            assert!(want.len() as i64 > COUNT_LIMIT, "{engine:?}: more than the bound in province 02");
            let got: Vec<i64> = all_pages(&store, &q).await.iter().map(|w| w.id).collect();
            assert!(got == want, "{engine:?} {windows:?}: order of ok in province 02");
        }
        db.cleanup().await;
    }
}

/// Workers whose Latin names hold "rok" inside a word, never at the start, and share their
/// first characters in many ways (ties of the index's rank code, keys that differ past it or
/// by a space or a character beyond `z` before it).
fn rok_rows(r: &mut Rng, n: usize) -> Vec<Vec<String>> {
    (0..n)
        .map(|i| {
            let km = format!("{} {}", r.pick(KHMER), r.pick(KHMER));
            let latin = match i % 6 {
                0 => format!("Sambath Rok{}", r.pick(&["", "a", "ha", "hy"])),
                1 => format!("Sambat Tarok {}", r.pick(LATIN)),
                2 => format!("Sambathy Arok{}", r.pick(&["", "a"])),
                3 => format!("Sambath{} Brok", r.pick(&["", "a", "ñ", "é"])),
                4 => format!("Aaron Mrok {}", r.pick(LATIN)),
                _ => format!("{} Krok", r.pick(LATIN)),
            };
            import_row(&(km, latin, None, None), i)
        })
        .collect()
}

/// A registry from before schema 29 (the trigram index keyed by the worker's id) brought up to
/// date: the migration writes every worker's entry by its rank, and a big search's pages are
/// the oracle's, the last tier's included.
#[tokio::test]
async fn a_registry_from_before_the_ranked_index_is_brought_up_to_date() {
    for engine in engines() {
        let db = TestDb::blank(engine).await;
        db.migrate_to(28).await;
        let units: Vec<_> = komlang_store::bundled_cambodia_units()
            .into_iter()
            .filter(|u| u.level != komlang_core::AdminLevel::Village)
            .collect();
        db.store.load_admin_units(&units).await.unwrap();
        import(&db.store, rok_rows(&mut Rng(28), COUNT_LIMIT as usize + 90)).await;
        db.store.migrate().await.unwrap();
        if engine == komlang_store::Engine::Sqlite {
            let workers: i64 =
                sqlx::query("SELECT COUNT(*) FROM workers").fetch_one(db.store.pool()).await.unwrap().get(0);
            assert_eq!(search_entries(&db.store).await.len() as i64, workers);
        }
        let all = stored(&db.store).await;
        for q in ["rok", "sambath", "krok"] {
            let want = expected(&all, q);
            let (got, _) = search_all(&db.store, q, 50).await;
            assert!(got == want, "{engine:?}: {q}");
        }
        db.cleanup().await;
    }
}

/// The last tier of a big search in name order when the matches' names share their first
/// characters: SQLite's trigram index keeps its entries in the order of a code of the key's
/// first seven characters (migration 0029), and the page must still be the oracle's where
/// many matches tie on that code, where keys differ only past it, and where they differ
/// before it by a space or a character beyond `z`. Pages of one row and of many, whole and
/// within a province, after records change.
#[tokio::test]
async fn the_last_tier_is_in_name_order_when_names_share_their_first_characters() {
    for engine in engines() {
        let db = TestDb::with_units(engine).await;
        let admin = system_principal("test");
        let rows = rok_rows(&mut Rng(29), COUNT_LIMIT as usize + 150);
        import(&db.store, rows).await;
        let in_02 = in_province_02(&db.store).await;
        for stage in ["imported", "changed"] {
            let all = stored(&db.store).await;
            for q in ["rok", "ROK", "brok", "rokh"] {
                let want = expected(&all, q);
                for per_page in [1, 7, 50, 500] {
                    if per_page == 1 && want.len() > 60 {
                        // One row a page, for the first pages and a few far along.
                        for page in [1, 2, 3, 40, want.len() as i64 - 1, want.len() as i64, want.len() as i64 + 1] {
                            let (got, one) = one_row_page(&db.store, q, page, &want).await;
                            assert_eq!(got, one, "{engine:?} {stage}: page {page} of {q}");
                        }
                        continue;
                    }
                    let (got, _) = search_all(&db.store, q, per_page).await;
                    assert!(got == want, "{engine:?} {stage}: {q}, {per_page} a page");
                }
            }
            let want: Vec<i64> = expected(&all, "rok").into_iter().filter(|id| in_02.contains(id)).collect();
            let q =
                WorkerQuery { q: Some("rok".into()), province: Some("02".into()), per_page: 100, ..Default::default() };
            let got: Vec<i64> = all_pages(&db.store, &q).await.iter().map(|w| w.id).collect();
            assert!(got == want, "{engine:?} {stage}: rok in province 02");
            // Records change: names renamed across the ties, and some deleted.
            let ids: Vec<i64> = all.iter().map(|w| w.id).collect();
            for (k, id) in ids.iter().enumerate().filter(|(k, _)| k % 9 == 0) {
                let latin = if k % 2 == 0 { "Sambath Arok" } else { "Aaron Rokha" };
                sqlx::query("UPDATE workers SET name_latin = $1, search_key = NULL WHERE id = $2")
                    .bind(latin)
                    .bind(id)
                    .execute(db.store.pool())
                    .await
                    .unwrap();
            }
            for id in ids.iter().skip(4).step_by(17) {
                db.store.delete_worker(&admin, *id, None).await.unwrap();
            }
            db.store.ensure_search_keys().await.unwrap();
        }
        db.cleanup().await;
    }
}

/// The rowids of SQLite's trigram index (its ranks), in order.
async fn search_entries(store: &Store) -> Vec<i64> {
    sqlx::query("SELECT rowid FROM workers_search ORDER BY rowid")
        .fetch_all(store.pool())
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect()
}

/// A big SQLite import takes the trigram index's triggers off and writes its new workers'
/// entries in rank order before it commits (`search_index.rs` of the import): it leaves the
/// same entries as an import whose triggers wrote them (the rank computed by the store's SQL
/// and by the migration's triggers agree), for new workers and for workers already there that
/// the import changes; and a search answers the oracle's pages from them.
#[tokio::test]
async fn a_big_sqlite_import_writes_the_search_entries_its_triggers_would() {
    if !engines().contains(&komlang_store::Engine::Sqlite) {
        return;
    }
    let a = TestDb::with_units(komlang_store::Engine::Sqlite).await;
    let b = TestDb::with_units(komlang_store::Engine::Sqlite).await;
    // From the second batch on, on `a`; never, on `b`.
    let deferring = a.store.clone().with_index_deferral_after(komlang_store::READ_BATCH as u64 + 1);
    let mut r = Rng(30);
    let n = 3 * komlang_store::READ_BATCH + 11;
    let rows: Vec<Fields> = (0..n)
        .map(|i| {
            let (km, _, phone, _) = fields(&mut r, i);
            let latin = match i % 4 {
                0 => format!("Sambath Rok{}", r.pick(&["", "a", "ñ"])),
                1 => format!("{} Arok {}", r.pick(LATIN), r.pick(LATIN)),
                2 => format!("Sambathy É{}", r.pick(LATIN)),
                _ => format!("{} {}", r.pick(LATIN), r.pick(LATIN)),
            };
            (km, latin, phone, Some(format!("R{i:07}")))
        })
        .collect();
    let first: Vec<Vec<String>> = rows.iter().enumerate().map(|(i, f)| import_row(f, i)).collect();
    import(&deferring, first.clone()).await;
    import(&b.store, first).await;
    assert_eq!(deferring.imports_with_deferred_indexes(), 1, "the import into a took its indexes off");
    assert_eq!(b.store.imports_with_deferred_indexes(), 0);
    let entries = search_entries(&deferring).await;
    assert_eq!(entries.len(), n);
    assert_eq!(entries, search_entries(&b.store).await, "the entries of new workers");

    // Then the workers already there: renamed by an import that merges (same national ID) and
    // big again, with new workers after them.
    let second: Vec<Vec<String>> = (0..2 * komlang_store::READ_BATCH)
        .map(|i| {
            let mut f = rows[i % n].clone();
            if i < n {
                f.1 = format!("{} Merok", r.pick(LATIN));
            } else {
                f.3 = Some(format!("S{i:07}"));
            }
            import_row(&f, i)
        })
        .collect();
    let merge = WorkerImportOptions { default_decision: DupDecision::Merge, ..import_options() };
    let admin = system_principal("test");
    for store in [&deferring, &b.store] {
        let report = import_table(store, &admin, HEADERS, second.clone(), &merge, today()).await.unwrap();
        assert!(report.committed && report.rejected.is_empty(), "{:?}", report.rejected);
    }
    assert_eq!(deferring.imports_with_deferred_indexes(), 2);
    assert_eq!(search_entries(&deferring).await, search_entries(&b.store).await, "after the merge");
    let all = stored(&deferring).await;
    for q in ["rok", "merok", "sambath", "é"] {
        let (got, _) = search_all(&deferring, q, 40).await;
        assert!(got == expected(&all, q), "{q}");
    }
    a.cleanup().await;
    b.cleanup().await;
}

/// On PostgreSQL a search of three characters or more finds its matches through the trigram
/// index (`workers_search_trgm`), not by reading the table: with sequential scans made dear
/// for the database's sessions, the index's scan count grows with each such search, and not
/// with a search too short for trigrams. (A shape of the query that no index can answer,
/// as `(search_key || '') LIKE`, had every search read the whole table, with the same
/// results.) Right after an import too: the import moves its entries out of the index's
/// pending list and takes statistics, without which the planner reads a B-tree whole.
#[tokio::test]
async fn postgres_searches_go_through_the_trigram_index() {
    for engine in engines().into_iter().filter(|e| *e == komlang_store::Engine::Postgres) {
        let db = TestDb::with_units(engine).await;
        let letter = |n: usize| char::from(b'a' + (n % 26) as u8);
        let rows = (0..3000)
            .map(|i| {
                // One in a hundred holds the rare word searched for.
                let word = if i % 100 == 0 { "Quillon" } else { "Dara" };
                let latin = format!("Sok {word}{}{}{}", letter(i / 676), letter(i / 26), letter(i));
                import_row(&("សុខ សុខា".into(), latin, None, None), i)
            })
            .collect();
        import(&db.store, rows).await;
        let name = db.url.rsplit('/').next().unwrap().split('?').next().unwrap().to_string();
        sqlx::query(&format!("ALTER DATABASE \"{name}\" SET enable_seqscan = off"))
            .execute(db.store.pool())
            .await
            .unwrap();
        let store = Store::connect(&db.url).await.unwrap();
        let scans = || async {
            // The servers' counters are flushed within a second of a statement.
            sqlx::query("SELECT pg_stat_clear_snapshot()").execute(store.pool()).await.unwrap();
            let n: i64 = sqlx::query(
                "SELECT COALESCE(SUM(idx_scan), 0)::BIGINT FROM pg_stat_user_indexes \
                 WHERE indexrelname = 'workers_search_trgm'",
            )
            .fetch_one(store.pool())
            .await
            .unwrap()
            .get(0);
            n
        };
        let settled = |before: i64| async move {
            let mut n = before;
            for _ in 0..40 {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                n = scans().await;
                if n > before {
                    break;
                }
            }
            n
        };
        let before = scans().await;
        let (ids, _) = search_all(&store, "quillon", 50).await;
        assert_eq!(ids.len(), 30, "one in a hundred");
        let after = settled(before).await;
        assert!(after > before, "a search of six letters did not read the trigram index ({before} -> {after})");
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let before = scans().await;
        let all = stored(&store).await;
        assert_eq!(search_all(&store, "ra", 500).await.0, expected(&all, "ra"));
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        assert_eq!(scans().await, before, "a search of two letters cannot use trigrams");
        store.pool().close().await;
        db.cleanup().await;
    }
}
