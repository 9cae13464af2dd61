//! The blocking keys of duplicate detection, kept in `worker_dedup_keys`.
//!
//! [`komlang_core::dedup::dedup_keys`] gives every person a few keys such that
//! two records [`komlang_core::dedup::compare`] would match share at least one.
//! The store keeps them for every worker (written with the worker, replaced
//! when a name, the date of birth or the national ID changes, deleted with
//! it), so an import finds the candidates of a row with an indexed
//! `key IN (...)` lookup instead of comparing with the whole registry. Keys
//! are stored hashed ([`compact`]) to keep that index small.
//!
//! Workers written before the keys existed, or after the key rules changed,
//! get their keys from [`Store::ensure_dedup_keys`], run by
//! [`Store::migrate`]: a fingerprint of the key rules is kept in `meta`, and
//! when it differs from the running code's every key is computed again.

use komlang_core::dedup::{dedup_keys, PersonKey};
use komlang_core::WorkerDraft;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row};

use crate::common::rows::opt_date;
use crate::common::sql::{bulk_insert, engine_of, Placeholders};
use crate::{Engine, Result, Store};

/// Meta key holding the fingerprint of the key rules the stored keys follow.
pub const DEDUP_KEYS_FINGERPRINT_KEY: &str = "dedup_keys_fingerprint";

/// What duplicate detection compares of a worker record.
pub(crate) fn dedup_person(d: &WorkerDraft) -> PersonKey {
    PersonKey {
        national_id: d.national_id.clone(),
        name_km: d.name_km.clone(),
        name_latin: d.name_latin.clone(),
        date_of_birth: d.date_of_birth,
    }
}

/// Prefix of the key that every namesake shares (see [`dedup_keys`]).
const NAME_KEY: &str = "name:";
/// The same key, as stored for a person whose date of birth is known.
const NAME_KEY_WITH_DOB: &str = "named:";

/// A key as stored: the letter of its kind and a 64-bit FNV-1a hash of the
/// key in hex (`k2a56bae1d2fe1d97` for `km:1990-04-13:សុខជា`). Half the size
/// of the readable keys (Khmer text is three bytes a letter), which keeps the
/// key index of a big registry mostly in memory; a collision only adds a
/// candidate that `compare` then turns down.
fn compact(k: &str) -> String {
    let kind = match k.split_once(':').map(|(kind, _)| kind) {
        Some("nid") => 'i',
        Some("km") => 'k',
        Some("lat") => 'l',
        Some("name") => 'n',
        Some("named") => 'd',
        _ => 'x',
    };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in k.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    format!("{kind}{h:016x}")
}

/// The keys stored for a person, sorted, without repeats ([`compact`] forms).
///
/// The `name:` key (both names, for matches where a date of birth is
/// missing) is stored as `named:` for a person whose date of birth is known:
/// a record with a date of birth then looks up `name:` and finds only the
/// namesakes without one, the only namesakes `compare` can match it with,
/// instead of every namesake in the registry.
pub(crate) fn stored_keys(p: &PersonKey) -> Vec<String> {
    keys_for(p).0
}

/// The keys stored for a person ([`stored_keys`]) and the keys to look up
/// to find every stored record `compare` may match with it.
pub(crate) fn keys_for(p: &PersonKey) -> (Vec<String>, Vec<String>) {
    let keys = dedup_keys(p);
    let mut stored = keys.clone();
    let mut lookup = keys;
    if p.date_of_birth.is_some() {
        for k in stored.iter_mut() {
            if let Some(rest) = k.strip_prefix(NAME_KEY) {
                *k = format!("{NAME_KEY_WITH_DOB}{rest}");
            }
        }
    } else {
        let extra: Vec<String> = lookup
            .iter()
            .filter_map(|k| k.strip_prefix(NAME_KEY).map(|rest| format!("{NAME_KEY_WITH_DOB}{rest}")))
            .collect();
        lookup.extend(extra);
    }
    for v in [&mut stored, &mut lookup] {
        for k in v.iter_mut() {
            *k = compact(k);
        }
        v.sort_unstable();
        v.dedup();
    }
    (stored, lookup)
}

/// `(worker_id, key)` pairs of one worker.
pub(crate) fn person_keys(worker_id: i64, p: &PersonKey) -> Vec<(i64, String)> {
    stored_keys(p).into_iter().map(|k| (worker_id, k)).collect()
}

/// Rows per multi-row `INSERT` of keys (two parameters each).
const KEY_CHUNK: usize = 1000;

/// Inserts `(worker_id, key)` pairs, a chunk per statement; pairs already
/// stored are left alone.
pub(crate) async fn insert_dedup_keys(
    conn: &mut AnyConnection,
    pairs: &[(i64, String)],
    if_absent: bool,
) -> Result<()> {
    let engine = engine_of(conn);
    for chunk in pairs.chunks(KEY_CHUNK) {
        let mut ph = Placeholders::for_engine(engine);
        let mut sql = String::with_capacity(60 + chunk.len() * 16);
        // With `if_absent`, keys already stored are left alone: `INSERT OR
        // IGNORE` on SQLite, `ON CONFLICT DO NOTHING` on PostgreSQL (for
        // several app servers computing keys at once). Otherwise, as the
        // inserts of an import ([`bulk_insert`]).
        sql.push_str(match (engine, if_absent) {
            (Engine::Sqlite, true) => "INSERT OR IGNORE INTO",
            (engine, _) => bulk_insert(engine),
        });
        sql.push_str(" worker_dedup_keys (worker_id, key) VALUES ");
        for i in 0..chunk.len() {
            if i > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            ph.push_next(&mut sql);
            sql.push_str(", ");
            ph.push_next(&mut sql);
            sql.push(')');
        }
        if engine == Engine::Postgres && if_absent {
            sql.push_str(" ON CONFLICT DO NOTHING");
        }
        let mut q = sqlx::query(&sql);
        for (id, key) in chunk {
            q = q.bind(*id).bind(key.as_str());
        }
        q.execute(&mut *conn).await?;
    }
    Ok(())
}

/// Replaces the keys of one worker.
pub(crate) async fn replace_dedup_keys(conn: &mut AnyConnection, worker_id: i64, p: &PersonKey) -> Result<()> {
    sqlx::query("DELETE FROM worker_dedup_keys WHERE worker_id = $1").bind(worker_id).execute(&mut *conn).await?;
    insert_dedup_keys(conn, &person_keys(worker_id, p), false).await
}

/// A fingerprint of the key rules: the keys of a few fixed people, hashed.
/// It changes when `dedup_keys` changes, which makes the stored keys stale.
pub(crate) fn keys_fingerprint() -> String {
    let d = |y, m, day| chrono::NaiveDate::from_ymd_opt(y, m, day);
    let samples = [
        PersonKey {
            national_id: Some("010203040".into()),
            name_km: "សុខ ចាន់ធា".into(),
            name_latin: "Sok Chantha".into(),
            date_of_birth: d(1990, 4, 13),
        },
        PersonKey {
            national_id: None,
            name_km: "ចាន់\u{200B}សុភា".into(),
            name_latin: "Chan Sophea".into(),
            date_of_birth: None,
        },
        PersonKey {
            national_id: None,
            name_km: "ហេង លី".into(),
            name_latin: "Heng Ly".into(),
            date_of_birth: d(1975, 12, 1),
        },
        PersonKey {
            national_id: Some("ABC123456".into()),
            name_km: "កែវ ដារ៉ា".into(),
            name_latin: "Keo Dara".into(),
            date_of_birth: d(2001, 1, 31),
        },
    ];
    let mut h = Sha256::new();
    for s in &samples {
        for k in stored_keys(s) {
            h.update(k.as_bytes());
            h.update([0]);
        }
        h.update([1]);
    }
    hex::encode(&h.finalize()[..12])
}

/// Workers read per step of the backfill.
const BACKFILL_BATCH: i64 = 2000;

impl Store {
    /// Gives every worker its duplicate-detection keys: once after the
    /// migration that created them, and again (all of them) whenever the key
    /// rules change. Idempotent; when the keys are up to date it costs one
    /// `meta` read. Returns how many workers got keys.
    pub async fn ensure_dedup_keys(&self) -> Result<u64> {
        let fingerprint = keys_fingerprint();
        if self.meta_get(DEDUP_KEYS_FINGERPRINT_KEY).await?.as_deref() == Some(fingerprint.as_str()) {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        // Rules changed (or never applied): recompute every worker's keys.
        sqlx::query("DELETE FROM worker_dedup_keys").execute(&mut *tx).await?;
        let mut last = 0i64;
        let mut done = 0u64;
        loop {
            let rows = sqlx::query(
                "SELECT id, national_id, name_km, name_latin, date_of_birth FROM workers WHERE id > $1 \
                 ORDER BY id LIMIT $2",
            )
            .bind(last)
            .bind(BACKFILL_BATCH)
            .fetch_all(&mut *tx)
            .await?;
            let Some(r) = rows.last() else { break };
            last = r.try_get("id")?;
            let mut pairs = Vec::with_capacity(rows.len() * 4);
            for r in &rows {
                let p = PersonKey {
                    national_id: r.try_get("national_id")?,
                    name_km: r.try_get("name_km")?,
                    name_latin: r.try_get("name_latin")?,
                    date_of_birth: opt_date(r, "date_of_birth")?,
                };
                pairs.extend(person_keys(r.try_get("id")?, &p));
            }
            insert_dedup_keys(&mut tx, &pairs, true).await?;
            done += rows.len() as u64;
        }
        sqlx::query(
            "INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(DEDUP_KEYS_FINGERPRINT_KEY)
        .bind(&fingerprint)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        if done > 0 {
            tracing::info!(workers = done, "duplicate-detection keys computed");
        }
        Ok(done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(km: &str, lat: &str, dob: Option<&str>, nid: Option<&str>) -> PersonKey {
        PersonKey {
            national_id: nid.map(String::from),
            name_km: km.into(),
            name_latin: lat.into(),
            date_of_birth: dob.map(|d| d.parse().unwrap()),
        }
    }

    #[test]
    fn compact_keys_are_stable_and_typed() {
        // Stored keys must never change: FNV-1a 64 as published (the test vectors of "a" and
        // "foobar"), and keys computed apart from this code from the same definition.
        assert_eq!(compact("a"), "xaf63dc4c8601ec8c");
        assert_eq!(compact("foobar"), "x85944171f73967e8");
        assert_eq!(compact("nid:123"), "i80a8e4264a0375be");
        assert_eq!(compact("nid:124"), "i80a8e7264a037ad7");
        assert_eq!(compact("km:1990-04-13:សុខជា"), "k2a56bae1d2fe1d97");
        assert_eq!(compact("named:x|y"), "deb9aaf213ed81643");
    }

    #[test]
    fn namesakes_with_a_date_of_birth_meet_only_through_records_without_one() {
        let a = p("សុខ ជា", "Sok Chea", Some("1990-04-13"), None);
        let b = p("សុខ ជា", "Sok Chea", Some("1971-01-01"), None);
        let c = p("សុខ ជា", "Sok Chea", None, None);
        let (sa, la) = keys_for(&a);
        let (sb, lb) = keys_for(&b);
        let (sc, lc) = keys_for(&c);
        let meets = |lookup: &[String], stored: &[String]| lookup.iter().any(|k| stored.contains(k));
        assert!(!meets(&la, &sb) && !meets(&lb, &sa), "two dates of birth: no shared key");
        assert!(meets(&la, &sc) && meets(&lc, &sa), "one without: found both ways");
        assert!(meets(&lc, &sb));
    }
}
