//! The planning texts exist in both languages; blocked unit-years are read line by line; the
//! charts escape their labels.

use std::collections::BTreeSet;

use super::charts::{bar_chart, ChartBar};
use super::data::DATA_KINDS;
use super::plans::{parse_blocked, plan_request_of, PlanForm, LEVEL_ORDERS};
use crate::common::{I18n, Locale};

#[test]
fn blocked_unit_years_are_read_line_by_line() {
    let b = parse_blocked("020101 2025\n0201: 2026-2027\n\n12 2025, 2027").unwrap();
    let pairs: Vec<(&str, i32)> = b.iter().map(|x| (x.admin_code.as_str(), x.year)).collect();
    assert_eq!(pairs, vec![("0201", 2026), ("0201", 2027), ("020101", 2025), ("12", 2025), ("12", 2027)]);
    let e = parse_blocked("020101\n0201 2027-2026\n02 soon").unwrap_err();
    assert_eq!(e.len(), 3);
    assert_eq!(e[0].params.get("row").map(String::as_str), Some("1"));
}

#[test]
fn every_planning_text_exists_in_both_languages() {
    let sources = [
        include_str!("mod.rs"),
        include_str!("shared.rs"),
        include_str!("tables.rs"),
        include_str!("charts.rs"),
        include_str!("coverage.rs"),
        include_str!("norms.rs"),
        include_str!("plans.rs"),
        include_str!("supply.rs"),
        include_str!("data.rs"),
        include_str!("api.rs"),
        include_str!("../../templates/planning/index.html"),
        include_str!("../../templates/planning/coverage.html"),
        include_str!("../../templates/planning/norms.html"),
        include_str!("../../templates/planning/plan_form.html"),
        include_str!("../../templates/planning/plan.html"),
        include_str!("../../templates/planning/plan_body.html"),
        include_str!("../../templates/planning/plan_print.html"),
        include_str!("../../templates/planning/compare.html"),
        include_str!("../../templates/planning/supply.html"),
        include_str!("../../templates/planning/data.html"),
    ];
    let mut keys: BTreeSet<String> = BTreeSet::new();
    for src in sources {
        for part in src.split(".t(\"").skip(1).chain(src.split(".tp(\"").skip(1)) {
            keys.insert(part.split('"').next().unwrap().to_string());
        }
    }
    // Every error code planning reports.
    for code in komlang_store::planning::PLANNING_ERROR_CODES {
        keys.insert(format!("planning.error.{code}"));
    }
    for (k, _) in LEVEL_ORDERS {
        keys.insert(format!("planning.order_{k}"));
    }
    for (k, _) in DATA_KINDS {
        keys.insert(format!("planning.data_{k}"));
    }
    for f in ["name", "norm", "parent", "posts", "start_year", "target_year", "yearly_capacity", "cap_per_unit"] {
        keys.insert(format!("planning.field.{f}"));
    }
    let mut missing = Vec::new();
    for l in Locale::ALL {
        for k in &keys {
            if !I18n::new(l).has(k) {
                missing.push(format!("{}:{k}", l.code()));
            }
        }
    }
    assert!(missing.is_empty(), "missing translations: {missing:?}");
    assert_ne!(I18n::new(Locale::Km).t("planning.title"), I18n::new(Locale::En).t("planning.title"));
}

#[test]
fn charts_escape_their_labels() {
    let svg =
        bar_chart("t<", "a", "b", &[ChartBar { label: "<x>&".into(), value: 2.0, target: Some(3.0), href: None }]);
    assert!(svg.contains("&lt;x&gt;&amp;") && !svg.contains("<x>"));
    assert!(!svg.contains("style="), "no inline style (CSP)");
}

#[test]
fn the_plan_form_reads_indicator_weights_and_blank_fields() {
    let body = "csrf=t&name=+A+&norm=&parent=+&posts=&start_year=2026&target_year=2027&w_gap=1&w_children=&\
                w_caseload=0&level_order=together&w_ind_poverty=2,5&w_ind_zero=0&other=x";
    let form: PlanForm = serde_urlencoded::from_str(body).unwrap();
    let req = plan_request_of(&form).unwrap();
    assert_eq!(req.name, "A");
    assert_eq!(req.norm, komlang_core::planning::INVESTMENT_CASE);
    assert_eq!(req.parent, None);
    assert_eq!(req.weights.indicators.into_iter().collect::<Vec<_>>(), vec![("poverty".to_string(), 2.5)]);
    let values = crate::common::form_box::values_of(&form);
    assert_eq!(values.get("w_ind_poverty").map(String::as_str), Some("2,5"));
    assert_eq!(values.get("other").map(String::as_str), Some("x"));

    let form: PlanForm = serde_urlencoded::from_str("name=&start_year=x&target_year=2027&w_ind_a=-1").unwrap();
    let fields: Vec<String> = plan_request_of(&form).unwrap_err().into_iter().map(|e| e.field).collect();
    assert_eq!(fields, vec!["start_year", "w_ind_a", "level_order", "name"]);
    let values = crate::common::form_box::values_of(&form);
    assert!(!values.contains_key("norm") && !values.contains_key("level_order"), "not posted, not shown");
}
