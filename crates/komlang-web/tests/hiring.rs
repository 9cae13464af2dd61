//! Recruitment rounds over HTTP, on every engine, on the demo data set: the round in progress is
//! the demo province's to read (404 for another province's officer), its candidates ranked as
//! the store ranks them and told why they are not eligible; an import of candidates is all or
//! nothing and names row and field; the best ranked eligible candidate is appointed to a post
//! through the API and the post is filled; the ranking downloads as CSV.
#![allow(clippy::unwrap_used, clippy::expect_used, reason = "test code: a failed unwrap is a failed test")]

mod common;

use common::TestApp;
use komlang_core::UserRole;
use komlang_store::testing::engines;
use serde_json::{json, Value};
use sqlx::Row;

#[tokio::test]
async fn the_demo_round_is_run_through_the_api() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let today = komlang_web::common::today();
        app.db.store.load_demo(today).await.unwrap();
        let (btb_p, btb) = app.account("hire-btb", UserRole::ProvincialOfficer, Some("02"), None, None).await;
        let (_, pp) = app.account("hire-pp", UserRole::ProvincialOfficer, Some("12"), None, None).await;
        let http = reqwest::Client::new();
        let call = |method: reqwest::Method, path: &str, token: &str, body: Option<Value>| {
            let mut rq = http.request(method, app.url(path)).bearer_auth(token);
            if let Some(b) = body {
                rq = rq.json(&b);
            }
            async move {
                let r = rq.send().await.unwrap();
                let s = r.status().as_u16();
                let text = r.text().await.unwrap();
                (s, serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text)))
            }
        };
        use reqwest::Method;
        let (s, v) = call(Method::GET, "/api/v1/recruitment/rounds", &btb, None).await;
        assert_eq!(s, 200, "{v}");
        let round =
            v["items"].as_array().unwrap().iter().find(|r| r["status"] == "open").expect("the demo round").clone();
        let id = round["id"].as_i64().unwrap();
        let path = format!("/api/v1/recruitment/rounds/{id}");
        let (s, _) = call(Method::GET, &path, &pp, None).await;
        assert_eq!(s, 404, "{engine:?}: another province's officer");
        let (s, r) = call(Method::GET, &path, &btb, None).await;
        assert_eq!(s, 200);
        let store = app.db.store.recruitment_round(&btb_p, id, today).await.unwrap();
        let ids: Vec<i64> = r["candidates"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect();
        assert_eq!(ids, store.candidates.iter().map(|c| c.id).collect::<Vec<_>>(), "ranked as the store ranks");
        let ranks: Vec<Option<u64>> = r["candidates"].as_array().unwrap().iter().map(|c| c["rank"].as_u64()).collect();
        assert!(
            ranks.windows(2).all(|w| match (w[0], w[1]) {
                (Some(a), Some(b)) => a < b,
                (None, Some(_)) => false,
                _ => true,
            }),
            "{engine:?}: ranks ascend, unranked last: {ranks:?}"
        );
        assert!(
            r["candidates"].as_array().unwrap().iter().any(|c| c["fit"].as_array().unwrap().iter().any(|f| !f
                ["unmet"]
                .as_array()
                .unwrap()
                .is_empty())),
            "{engine:?}: the demo has a candidate told why not"
        );

        // Import: a bad row refuses the file; a good file adds its rows.
        let import = format!("{path}/candidates/import");
        let post_csv = |body: &'static str| {
            http.post(app.url(&import)).bearer_auth(&btb).header("content-type", "text/csv").body(body).send()
        };
        let res = post_csv("name_km,name_latin,sex\nសុខ,Sok One,female\nដារា,Dara Two,robot\n").await.unwrap();
        assert_eq!(res.status().as_u16(), 422);
        let text = res.text().await.unwrap();
        assert!(text.contains("row 3: sex"), "{engine:?}: {text}");
        let n = store.candidates.len();
        let res = post_csv("name_km,name_latin,sex,education_level\nសុខ,Sok One,female,bachelor\n").await.unwrap();
        assert_eq!(res.status().as_u16(), 200, "{}", res.text().await.unwrap());
        let (_, r) = call(Method::GET, &path, &btb, None).await;
        assert_eq!(r["candidates"].as_array().unwrap().len(), n + 1);

        // Appoint the best ranked candidate eligible for a vacant post.
        let (candidate, post) = r["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["rank"].is_u64() && c["status"] == "applied")
            .find_map(|c| {
                // A set of posts the candidate meets, and its first vacant post.
                c["fit"].as_array().unwrap().iter().filter(|f| f["unmet"].as_array().unwrap().is_empty()).find_map(
                    |f| {
                        let set =
                            r["requirement_sets"].as_array().unwrap().iter().find(|s| s["set"] == f["set"]).unwrap();
                        set["post_ids"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .find(|p| {
                                r["posts"]
                                    .as_array()
                                    .unwrap()
                                    .iter()
                                    .any(|x| x["post_id"] == **p && x["vacant"] == true)
                            })
                            .map(|p| (c["id"].as_i64().unwrap(), p.as_i64().unwrap()))
                    },
                )
            })
            .expect("a ranked, eligible candidate");
        let body = json!({"post_id": post, "start_date": today.to_string()});
        let (s, v) = call(
            Method::POST,
            &format!("/api/v1/recruitment/candidates/{candidate}/appoint"),
            &btb,
            Some(body.clone()),
        )
        .await;
        assert_eq!(s, 200, "{engine:?}: {v}");
        let c = v["candidates"].as_array().unwrap().iter().find(|c| c["id"] == candidate).unwrap();
        assert_eq!(c["status"], "appointed");
        let held: i64 = sqlx::query("SELECT COUNT(*) FROM postings WHERE post_id = $1 AND end_date IS NULL")
            .bind(post)
            .fetch_one(app.db.store.pool())
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
        assert_eq!(held, 1, "{engine:?}: the post is filled");
        let (s, v) =
            call(Method::POST, &format!("/api/v1/recruitment/candidates/{candidate}/appoint"), &btb, Some(body)).await;
        assert_eq!(s, 422, "{engine:?}: not twice: {v}");

        let csv = http
            .get(app.url(&format!("{path}?format=csv")))
            .bearer_auth(&btb)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert_eq!(
            csv.trim_start_matches('\u{feff}').lines().count(),
            1 + n + 1,
            "{engine:?}: header and every candidate"
        );
        app.stop().await;
    }
}

/// A round of many candidates: its page shows them 50 at a time in ranked order, with the pager;
/// a page past the last shows the last, a page that is not a number the first.
#[tokio::test]
async fn a_big_round_shows_its_candidates_page_by_page() {
    for engine in engines() {
        let app = TestApp::start(engine).await;
        let today = komlang_web::common::today();
        app.db.store.load_demo(today).await.unwrap();
        let (p, token) = app.account("hire-big", UserRole::ProvincialOfficer, Some("02"), None, None).await;
        let id = app.db.store.recruitment_rounds(&p).await.unwrap()[0].id;
        let mut csv = String::from("name_km,name_latin,sex,education_level\n");
        for n in 0..120 {
            let letters: String = [b'a' + (n / 26) as u8, b'a' + (n % 26) as u8].iter().map(|b| *b as char).collect();
            csv.push_str(&format!("សុខ,Sok Page{letters},female,bachelor\n"));
        }
        let res = reqwest::Client::new()
            .post(app.url(&format!("/api/v1/recruitment/rounds/{id}/candidates/import")))
            .bearer_auth(&token)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status().as_u16(), 200, "{}", res.text().await.unwrap());
        let ranked: Vec<i64> =
            app.db.store.recruitment_round(&p, id, today).await.unwrap().candidates.iter().map(|c| c.id).collect();
        assert!(ranked.len() > 120, "{engine:?}");
        let pages = ranked.len().div_ceil(50);
        let client = common::browser();
        common::login(&app, &client, "hire-big").await;
        let shown = |q: &'static str| {
            let client = client.clone();
            let url = app.url(&format!("/recruitment/rounds/{id}{q}"));
            async move {
                let html = client.get(url).send().await.unwrap().text().await.unwrap();
                let ids: Vec<i64> = html
                    .split("data-candidate=\"")
                    .skip(1)
                    .map(|s| s.split('"').next().unwrap().parse().unwrap())
                    .collect();
                (html, ids)
            }
        };
        let (html, first) = shown("").await;
        assert_eq!(first, ranked[..50], "{engine:?}: the first 50 in ranked order");
        // The page in the account's language: English or Khmer.
        let page_of = |n: usize| [format!("Page {n} of {pages}"), format!("ទំព័រ {n} នៃ {pages}")];
        assert!(page_of(1).iter().any(|t| html.contains(t.as_str())), "{engine:?}");
        let pager = html.split("class=\"pager\"").nth(1).map(|s| s.split("</p>").next().unwrap_or(""));
        assert!(pager.is_some_and(|p| p.contains("page=2") && p.contains("rel=\"next\"")), "{engine:?}: {pager:?}");
        let (_, second) = shown("?page=2").await;
        assert_eq!(second, ranked[50..100], "{engine:?}");
        let (html, last) = shown("?page=999").await;
        assert_eq!(last, ranked[(pages - 1) * 50..], "{engine:?}: past the last page, the last");
        assert!(page_of(pages).iter().any(|t| html.contains(t.as_str())) && !html.contains("rel=\"next\""));
        let (_, odd) = shown("?page=abc").await;
        assert_eq!(odd, first, "{engine:?}: not a number, the first page");
        app.stop().await;
    }
}
