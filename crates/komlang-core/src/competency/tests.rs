//! Tests of the competency rules.

use super::*;

fn fw() -> Framework {
    bundled()
}

// ----- the bundled framework against seed 000 -----

#[test]
fn bundled_framework_parses_and_round_trips_exactly() {
    let f = fw();
    assert_eq!(f.version, "mosvy-2019");
    // The types match the file exactly: serializing gives back the same JSON.
    let original: serde_json::Value = serde_json::from_str(BUNDLED_FRAMEWORK).unwrap();
    assert_eq!(serde_json::to_value(&f).unwrap(), original);
    assert!(f.translation_note.contains("working translation"));
}

#[test]
fn bundled_counts_match_seed_000() {
    let f = fw();
    let areas: Vec<&str> = f.areas.iter().map(|a| a.code.as_str()).collect();
    assert_eq!(areas, ["values", "knowledge", "skills"]);
    assert_eq!(f.competency_count(), 56);
    assert_eq!(f.indicator_count(), 285);

    let count =
        |area: &str, group: &str| f.area(area).unwrap().competencies.iter().filter(|c| c.group == group).count();
    let indicators = |area: &str, group: &str| -> usize {
        f.area(area).unwrap().competencies.iter().filter(|c| c.group == group).map(|c| c.indicators.len()).sum()
    };
    assert_eq!(count("values", ""), 11);
    assert_eq!(f.area("values").unwrap().competencies.len(), 11);
    assert_eq!(count("knowledge", "theories"), 10);
    assert_eq!(count("knowledge", "practice_models"), 6);
    // Seed 000, Area 2 C: conventions a-e, laws and legal standards a-k, policies a-c.
    assert_eq!(count("knowledge", "international_conventions"), 5);
    assert_eq!(count("knowledge", "national_laws"), 11);
    assert_eq!(count("knowledge", "national_policies"), 3);
    assert_eq!(count("knowledge", ""), 0);
    assert_eq!(count("skills", ""), 10);
    assert_eq!(f.area("skills").unwrap().competencies.len(), 10);

    assert_eq!(indicators("values", ""), 42);
    assert_eq!(indicators("knowledge", "theories"), 51);
    assert_eq!(indicators("knowledge", "practice_models"), 65);
    assert_eq!(indicators("knowledge", "international_conventions"), 22);
    assert_eq!(indicators("knowledge", "national_laws"), 49);
    assert_eq!(indicators("knowledge", "national_policies"), 10);
    assert_eq!(indicators("skills", ""), 46);

    // A few per-competency counts from the seed.
    let n = |code: &str| f.competency(code).unwrap().indicators.len();
    assert_eq!(n("values.01"), 5); // the confidentiality exceptions are one indicator
    assert_eq!(n("knowledge.practice.01"), 17);
    assert_eq!(n("knowledge.theories.07"), 9);
    assert_eq!(n("knowledge.laws.03"), 8);
    assert_eq!(n("skills.09"), 2);
}

#[test]
fn bundled_codes_follow_the_scheme() {
    let f = fw();
    let prefix = |c: &Competency| match c.group_kind() {
        None => String::new(),
        Some(CompetencyGroup::Theories) => "theories.".into(),
        Some(CompetencyGroup::PracticeModels) => "practice.".into(),
        Some(CompetencyGroup::InternationalConventions) => "conventions.".into(),
        Some(CompetencyGroup::NationalLaws) => "laws.".into(),
        Some(CompetencyGroup::NationalPolicies) => "policies.".into(),
    };
    for area in &f.areas {
        let mut numbers: BTreeMap<String, usize> = BTreeMap::new();
        for c in &area.competencies {
            let k = numbers.entry(prefix(c)).or_default();
            *k += 1;
            assert_eq!(c.code, format!("{}.{}{:02}", area.code, prefix(c), k));
            for (i, ind) in c.indicators.iter().enumerate() {
                assert_eq!(ind.code, format!("{}.{}", c.code, i + 1));
            }
        }
    }
    assert_eq!(f.competency_of_indicator("knowledge.laws.03.8").unwrap().name_en, "Juvenile Justice Law");
}

#[test]
fn every_text_has_khmer() {
    let f = fw();
    let khmer = |s: &str| s.chars().any(|ch| ('\u{1780}'..='\u{17FF}').contains(&ch));
    assert!(khmer(&f.title_km));
    for a in &f.areas {
        assert!(khmer(&a.name_km), "{}", a.code);
        for c in &a.competencies {
            assert!(khmer(&c.name_km), "{}", c.code);
            for i in &c.indicators {
                assert!(khmer(&i.text_km), "{}", i.code);
                assert!(!khmer(&i.text_en), "{}", i.code);
            }
        }
    }
}

#[test]
fn indicator_texts_are_verbatim_from_seed_000() {
    let f = fw();
    let text = |code: &str| f.indicator(code).unwrap().text_en.clone();
    // Area 1, Values and ethics, 1. Dignity and right for privacy (exceptions joined in).
    assert_eq!(
        text("values.01.1"),
        "Respects the inherent worth of every individual and shows unconditional acceptance."
    );
    assert_eq!(
        text("values.01.3"),
        "Keeps confidentiality and protects the client's privacy in keeping their identity and records \
         (including electronic) except in certain narrow exceptions; only for client's interest and public \
         safety such as: Supervision/ consultation; Reporting any abuse as required by law; In an emergency \
         to protect client/others from serious bodily harm or death; Occurrence of a felony, as defined in \
         the Criminal Code."
    );
    // Area 2, Knowledge, C 2 c. Juvenile justice law.
    assert_eq!(
        text("knowledge.laws.03.1"),
        "Explains why detention is the last resort and must be as short as possible."
    );
    // Area 2, Knowledge, A 5. Empowerment theory (typographic quotes as in the seed).
    assert_eq!(
        text("knowledge.theories.05.1"),
        "Distinguishes between “enabling” and “empowering” and knows when to use each concept in the helping relationship."
    );
    // Area 3, Skills, 6. Communication skills.
    assert_eq!(
        text("skills.06.1"),
        "Listens attentively, without interrupting and using ‘active listening’—i.e. encouraging, showing understanding."
    );
    // The last indicator of the document.
    assert_eq!(
        text("skills.10.6"),
        "Is well anchored in good personal relationships and a set of clear beliefs in order to nurture self and others."
    );
    assert_eq!(
        f.competency("knowledge.conventions.01").unwrap().name_en,
        "U.N. Convention on the Rights of the Child (UNCRC)"
    );
    assert_eq!(f.competency("knowledge.laws.01").unwrap().name_km, "ច្បាប់ស្ដីពីកិច្ចការពារ និងការលើកកម្ពស់សិទ្ធិជនពិការ");
}

// ----- bad framework files -----

fn tiny_json() -> serde_json::Value {
    serde_json::json!({
        "version": "test-1",
        "title_en": "Test framework",
        "title_km": "ក្របខណ្ឌសាកល្បង",
        "areas": [
            {"code": "values", "name_en": "Values", "name_km": "គុណតម្លៃ", "competencies": [
                {"code": "values.01", "name_en": "Dignity", "name_km": "សេចក្ដីថ្លៃថ្នូរ", "group": "", "indicators": [
                    {"code": "values.01.1", "text_en": "Respects.", "text_km": "គោរព។"},
                    {"code": "values.01.2", "text_en": "Treats.", "text_km": "ប្រព្រឹត្ត។"}
                ]},
                {"code": "values.02", "name_en": "Service", "name_km": "សេវា", "group": "", "indicators": [
                    {"code": "values.02.1", "text_en": "Serves.", "text_km": "បម្រើ។"}
                ]}
            ]},
            {"code": "knowledge", "name_en": "Knowledge", "name_km": "ចំណេះដឹង", "competencies": [
                {"code": "knowledge.theories.01", "name_en": "Ecosystem", "name_km": "អេកូឡូស៊ី", "group": "theories", "indicators": [
                    {"code": "knowledge.theories.01.1", "text_en": "Understands.", "text_km": "យល់។"},
                    {"code": "knowledge.theories.01.2", "text_en": "Identifies.", "text_km": "កំណត់។"},
                    {"code": "knowledge.theories.01.3", "text_en": "Finds.", "text_km": "ស្វែងរក។"}
                ]}
            ]}
        ]
    })
}

fn tiny() -> Framework {
    parse_framework(&tiny_json().to_string()).unwrap()
}

fn problems_of(v: serde_json::Value) -> Vec<FrameworkProblem> {
    match parse_framework(&v.to_string()) {
        Err(FrameworkError::Invalid(p)) => p,
        other => panic!("expected content problems, got {other:?}"),
    }
}

fn has(p: &[FrameworkProblem], at: &str, field: &str, code: &str) -> bool {
    p.iter().any(|x| x.at == at && x.field == field && x.code == code)
}

#[test]
fn duplicate_codes_are_refused() {
    let mut v = tiny_json();
    v["areas"][0]["competencies"][0]["indicators"][1]["code"] = "values.01.1".into();
    let p = problems_of(v);
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(has(&p, "values.01.1", "code", "duplicate_code"));
    assert_eq!(p[0].to_string(), "values.01.1: code \"values.01.1\" is used more than once");
}

#[test]
fn a_competency_without_indicators_is_refused() {
    let mut v = tiny_json();
    v["areas"][0]["competencies"][1]["indicators"] = serde_json::json!([]);
    let p = problems_of(v);
    assert_eq!(p, vec![FrameworkProblem::new("values.02", "indicators", "empty_list", None)]);
    let e = parse_framework(
        &{
            let mut v = tiny_json();
            v["areas"][0]["competencies"][1]["indicators"] = serde_json::json!([]);
            v
        }
        .to_string(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("values.02: indicators has no entries"), "{e}");
}

#[test]
fn unknown_groups_are_refused() {
    let mut v = tiny_json();
    v["areas"][1]["competencies"][0]["group"] = "theory".into();
    let p = problems_of(v);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].value.as_deref(), Some("theory"));
    assert!(has(&p, "knowledge.theories.01", "group", "unknown_group"));
    assert!(p[0].to_string().contains("\"theory\" is not one of"));
}

#[test]
fn empty_texts_in_either_language_are_refused() {
    let mut v = tiny_json();
    v["areas"][0]["competencies"][0]["indicators"][0]["text_km"] = "  ".into();
    v["areas"][0]["competencies"][1]["name_en"] = "".into();
    v["areas"][1]["name_km"] = "".into();
    v["title_km"] = "".into();
    let p = problems_of(v);
    assert_eq!(p.len(), 4, "{p:?}");
    assert!(has(&p, "values.01.1", "text_km", "required"));
    assert!(has(&p, "values.02", "name_en", "required"));
    assert!(has(&p, "knowledge", "name_km", "required"));
    assert!(has(&p, "framework", "title_km", "required"));
}

#[test]
fn bad_codes_are_refused_with_their_position() {
    let mut v = tiny_json();
    v["areas"][0]["competencies"][0]["indicators"][0]["code"] = "".into();
    v["areas"][0]["competencies"][0]["indicators"][1]["code"] = "Values 01.2".into();
    v["areas"][0]["competencies"][1]["code"] = "skills.02".into();
    v["areas"][0]["competencies"][1]["indicators"][0]["code"] = "skills.02.1".into();
    let p = problems_of(v);
    assert!(has(&p, "areas[0].competencies[0].indicators[0]", "code", "required"), "{p:?}");
    assert!(has(&p, "Values 01.2", "code", "invalid_code"));
    assert!(p
        .iter()
        .any(|x| x.at == "skills.02" && x.code == "code_outside_parent" && x.value.as_deref() == Some("values.")));
    assert_eq!(p.len(), 3, "{p:?}");
}

#[test]
fn empty_lists_and_malformed_files_are_refused() {
    let mut v = tiny_json();
    v["areas"] = serde_json::json!([]);
    assert!(has(&problems_of(v), "framework", "areas", "empty_list"));

    let mut v = tiny_json();
    v["areas"][1]["competencies"] = serde_json::json!([]);
    assert!(has(&problems_of(v), "knowledge", "competencies", "empty_list"));

    // A misspelt field is not silently dropped.
    let mut v = tiny_json();
    v["areas"][0]["competencies"][0]["indicators"][0]["text_kh"] = "x".into();
    let e = parse_framework(&v.to_string()).unwrap_err();
    assert!(matches!(&e, FrameworkError::Syntax { message, .. } if message.contains("text_kh")), "{e}");
    assert!(e.problems().is_empty());

    // A missing field.
    let mut v = tiny_json();
    v["areas"][0].as_object_mut().unwrap().remove("name_km");
    assert!(matches!(parse_framework(&v.to_string()), Err(FrameworkError::Syntax { .. })));

    // Not JSON at all: the position is reported.
    match parse_framework("{\n  \"version\": ") {
        Err(FrameworkError::Syntax { line, .. }) => assert_eq!(line, 2),
        other => panic!("{other:?}"),
    }
}

// ----- rating scale -----

#[test]
fn rating_scale() {
    assert_eq!(Rating::from_value(1), Some(Rating::NotYet));
    assert_eq!(Rating::from_value(4), Some(Rating::Advanced));
    assert_eq!(Rating::from_value(0), None);
    assert_eq!(Rating::from_value(5), None);
    assert_eq!(Rating::parse(" 3 "), Some(Rating::Competent));
    assert_eq!(Rating::parse("developing"), Some(Rating::Developing));
    assert_eq!(Rating::parse("5"), None);
    assert_eq!(Rating::parse("good"), None);
    assert_eq!(Rating::Developing.label_key(), "rating.developing");
    assert_eq!(Rating::Advanced.value(), 4);
    assert!(Rating::NotYet < Rating::Advanced);
    assert_eq!(serde_json::to_string(&Rating::Competent).unwrap(), "3");
    assert_eq!(serde_json::from_str::<Rating>("2").unwrap(), Rating::Developing);
    assert!(serde_json::from_str::<Rating>("0").is_err());
    assert!(serde_json::from_str::<Rating>("7").is_err());
    assert_eq!(Rating::floor_of_mean(7, 2), Some(Rating::Competent)); // 3.5 -> 3
    assert_eq!(Rating::floor_of_mean(11, 3), Some(Rating::Competent)); // 3.67 -> 3
    assert_eq!(Rating::floor_of_mean(0, 0), None);
    let req = RequiredLevel {
        applies_to: RequirementFor::Cadre(Cadre::ParaSocialWorker),
        competency_code: "skills.01".into(),
        level: Rating::Competent,
    };
    assert_eq!(
        serde_json::to_value(&req).unwrap(),
        serde_json::json!({"applies_to": {"cadre": "para_social_worker"}, "competency_code": "skills.01", "level": 3})
    );
}

// ----- assessments as submitted -----

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap()
}

fn rin(code: &str, rating: i64) -> RatingInput {
    RatingInput { indicator_code: code.into(), rating, evidence: None }
}

fn good_input() -> AssessmentInput {
    AssessmentInput {
        kind: Some("supervisor".into()),
        assessed_on: Some("2025-03-01".into()),
        assessor: Some("  Sok Dara ".into()),
        notes: Some(String::new()),
        framework_version: None,
        ratings: vec![
            rin("knowledge.theories.01.2", 2),
            RatingInput { indicator_code: "values.01.1".into(), rating: 4, evidence: Some(" seen ".into()) },
        ],
    }
}

#[test]
fn a_valid_assessment_becomes_a_draft_in_framework_order() {
    let d = validate_assessment(&tiny(), &good_input(), day("2025-03-01")).unwrap();
    assert_eq!(d.kind, AssessmentKind::Supervisor);
    assert_eq!(d.assessed_on, day("2025-03-01"));
    assert_eq!(d.assessor.as_deref(), Some("Sok Dara"));
    assert_eq!(d.notes, None);
    assert_eq!(d.framework_version, "test-1");
    let codes: Vec<&str> = d.ratings.iter().map(|r| r.indicator_code.as_str()).collect();
    assert_eq!(codes, ["values.01.1", "knowledge.theories.01.2"]);
    assert_eq!(d.ratings[0].evidence.as_deref(), Some("seen"));
    assert_eq!(d.ratings[0].rating, Rating::Advanced);
    assert_eq!(AssessmentKind::parse("self"), Some(AssessmentKind::SelfAssessment));
    assert_eq!(AssessmentKind::Training.label_key(), "assessment_kind.training");
}

#[test]
fn every_bad_field_of_an_assessment_is_reported() {
    let f = tiny();
    let fields = |input: &AssessmentInput| -> Vec<(String, String)> {
        validate_assessment(&f, input, day("2025-03-01"))
            .unwrap_err()
            .errors
            .into_iter()
            .map(|e| (e.field, e.code))
            .collect()
    };
    let pair = |a: &str, b: &str| (a.to_string(), b.to_string());
    let mut i = good_input();
    i.kind = Some("peer".into());
    i.assessed_on = Some("2025-03-02".into());
    i.ratings = vec![rin("values.01.1", 5), rin("values.01.1", 3), rin("skills.01.1", 3), rin("values.02.1", 0)];
    i.notes = Some("x".repeat(NOTES_MAX + 1));
    assert_eq!(
        fields(&i),
        vec![
            pair("kind", "invalid_choice"),
            pair("assessed_on", "future_date"),
            pair("notes", "too_long"),
            pair("rating.values.01.1", "rating_out_of_scale"),
            pair("rating.values.01.1", "duplicate_indicator"),
            pair("rating.skills.01.1", "unknown_indicator"),
            pair("rating.values.02.1", "rating_out_of_scale"),
        ]
    );
    let e = validate_assessment(&f, &i, day("2025-03-01")).unwrap_err();
    let out = e.for_field("rating.values.01.1").unwrap();
    assert_eq!((out.params["value"].as_str(), out.params["min"].as_str(), out.params["max"].as_str()), ("5", "1", "4"));
    assert_eq!(e.for_field("rating.skills.01.1").unwrap().params["version"], "test-1");

    let empty = AssessmentInput::default();
    assert_eq!(
        fields(&empty),
        vec![pair("kind", "required"), pair("assessed_on", "required"), pair("ratings", "no_ratings")]
    );
    let mut i = good_input();
    i.assessed_on = Some("1/3/2025".into());
    i.ratings[1].evidence = Some("e".repeat(EVIDENCE_MAX + 1));
    assert_eq!(fields(&i), vec![pair("assessed_on", "invalid_date"), pair("evidence.values.01.1", "too_long")]);
    // Today is allowed.
    let mut i = good_input();
    i.assessed_on = Some("2025-03-01".into());
    assert!(validate_assessment(&f, &i, day("2025-03-01")).is_ok());
    // JSON: an unknown field is refused, a rating is a number.
    assert!(serde_json::from_value::<AssessmentInput>(serde_json::json!({"kind": "self", "extra": 1})).is_err());
    assert!(serde_json::from_value::<AssessmentInput>(
        serde_json::json!({"ratings": [{"indicator_code": "values.01.1", "rating": 9}]})
    )
    .is_ok());
}

// ----- default required levels -----

#[test]
fn default_requirements_cover_the_bundled_framework_sensibly() {
    let f = fw();
    let reqs = default_requirements(&f);
    let mut keys = BTreeSet::new();
    for r in &reqs {
        assert!(f.competency(&r.competency_code).is_some(), "{}", r.competency_code);
        assert!(keys.insert((format!("{:?}", r.applies_to), r.competency_code.clone())), "twice: {r:?}");
    }
    let level =
        |cadre: Cadre, role: WorkerRole, code: &str| required_levels(&reqs, Some(cadre), Some(role)).get(code).copied();
    use Cadre::*;
    use WorkerRole as R;
    // Para social workers: competent in values and the basic skills.
    for (area, comp) in f.competencies().filter(|(a, _)| a.code == "values") {
        assert_eq!(level(ParaSocialWorker, R::CcwcMember, &comp.code), Some(Rating::Competent), "{}", area.code);
    }
    assert_eq!(level(ParaSocialWorker, R::CcwcMember, "skills.01"), Some(Rating::Competent));
    assert_eq!(level(ParaSocialWorker, R::CcwcMember, "skills.09"), Some(Rating::Developing));
    assert_eq!(level(ParaSocialWorker, R::CcwcMember, "knowledge.theories.01"), None);
    // The focal point's role adds networking.
    assert_eq!(level(ParaSocialWorker, R::CcwcFocalPoint, "skills.08"), Some(Rating::Competent));
    // Professional social workers: advanced in skills and values.
    for (_, comp) in f.competencies().filter(|(a, _)| a.code == "skills") {
        assert_eq!(level(Professional, R::DistrictSocialWorker, &comp.code), Some(Rating::Advanced));
    }
    assert_eq!(level(Professional, R::Other, "knowledge.laws.03"), Some(Rating::Competent));
    // A case worker's role raises case management above the cadre's level.
    assert_eq!(level(ParaSocialWorker, R::NgoCaseWorker, "knowledge.practice.01"), Some(Rating::Competent));
    assert_eq!(level(Allied, R::AlliedPolice, "knowledge.laws.03"), Some(Rating::Competent));
    // Every cadre has requirements.
    for c in Cadre::ALL {
        assert!(reqs.iter().any(|r| r.applies_to == RequirementFor::Cadre(*c)), "{c}");
    }
    // On another framework only the rules that fit apply.
    let t = default_requirements(&tiny());
    assert!(t.iter().all(|r| tiny().competency(&r.competency_code).is_some()));
    assert!(t.iter().any(|r| r.competency_code == "values.01"));
}

// ----- gaps and comparisons on a small framework -----

fn r(code: &str, v: u8) -> IndicatorRating {
    IndicatorRating::new(code, Rating::try_from(v).unwrap())
}

fn req(applies_to: RequirementFor, code: &str, level: u8) -> RequiredLevel {
    RequiredLevel { applies_to, competency_code: code.into(), level: Rating::try_from(level).unwrap() }
}

#[test]
fn scores_are_the_mean_rounded_down() {
    let f = tiny();
    let s = competency_scores(&f, &[r("values.01.1", 4), r("values.01.2", 3), r("knowledge.theories.01.1", 2)]);
    assert_eq!(s.len(), 3);
    assert_eq!(
        (s[0].competency_code.as_str(), s[0].rated, s[0].sum, s[0].score),
        ("values.01", 2, 7, Some(Rating::Competent))
    );
    assert_eq!(s[0].mean(), Some(3.5));
    assert_eq!((s[1].competency_code.as_str(), s[1].rated, s[1].score), ("values.02", 0, None));
    assert_eq!(s[1].mean(), None);
    assert_eq!((s[2].indicators, s[2].rated, s[2].score), (3, 1, Some(Rating::Developing)));
}

#[test]
fn required_levels_take_the_higher_of_cadre_and_role() {
    let reqs = [
        req(RequirementFor::Cadre(Cadre::ParaSocialWorker), "values.01", 3),
        req(RequirementFor::Role(WorkerRole::CcwcFocalPoint), "values.01", 2),
        req(RequirementFor::Role(WorkerRole::CcwcFocalPoint), "values.02", 4),
        req(RequirementFor::Cadre(Cadre::Professional), "values.02", 1),
    ];
    let m = required_levels(&reqs, Some(Cadre::ParaSocialWorker), Some(WorkerRole::CcwcFocalPoint));
    assert_eq!(m.get("values.01"), Some(&Rating::Competent));
    assert_eq!(m.get("values.02"), Some(&Rating::Advanced));
    assert_eq!(m.len(), 2);
    assert!(required_levels(&reqs, None, None).is_empty());
    let m = required_levels(&reqs, Some(Cadre::Professional), None);
    assert_eq!(m.into_iter().collect::<Vec<_>>(), vec![("values.02".to_string(), Rating::NotYet)]);
}

#[test]
fn gaps_list_competencies_below_the_required_level() {
    let f = tiny();
    let required: BTreeMap<String, Rating> = [
        ("values.01".to_string(), Rating::Advanced),
        ("values.02".to_string(), Rating::Competent),
        ("knowledge.theories.01".to_string(), Rating::Developing),
    ]
    .into();
    let ratings = [
        r("values.01.1", 4),
        r("values.01.2", 3), // 3.5 -> competent, below advanced
        // values.02 not rated: not a gap
        r("knowledge.theories.01.1", 2),
        r("knowledge.theories.01.2", 2),
        r("knowledge.theories.01.3", 3), // 2.33 -> developing, meets developing
    ];
    let g = gaps(&f, &required, &ratings);
    assert_eq!(
        g,
        vec![Gap {
            area_code: "values".into(),
            competency_code: "values.01".into(),
            required: Rating::Advanced,
            score: Rating::Competent
        }]
    );
    // No requirement, no gap.
    assert!(gaps(&f, &BTreeMap::new(), &ratings).is_empty());
    // Rated low everywhere.
    let low = [r("values.01.1", 1), r("values.02.1", 2), r("knowledge.theories.01.2", 1)];
    let codes: Vec<String> = gaps(&f, &required, &low).into_iter().map(|g| g.competency_code).collect();
    assert_eq!(codes, ["values.01", "values.02", "knowledge.theories.01"]);
}

#[test]
fn ratings_from_another_version_are_refused() {
    let f = tiny();
    assert!(check_ratings(&f, &[r("values.01.1", 2), r("values.02.1", 3)]).is_ok());
    let e = check_ratings(&f, &[r("values.01.1", 2), r("values.01.1", 3), r("skills.01.1", 3)]).unwrap_err();
    assert_eq!(
        e,
        vec![
            RatingProblem::DuplicateIndicator("values.01.1".into()),
            RatingProblem::UnknownIndicator("skills.01.1".into())
        ]
    );
    assert_eq!(e[1].to_string(), "indicator \"skills.01.1\" is not in this framework version");
    // Unknown codes do not count towards a score.
    let s = competency_scores(&f, &[r("values.01.1", 2), r("skills.01.1", 4)]);
    assert_eq!(s[0].score, Some(Rating::Developing));
}

#[test]
fn self_and_supervisor_differences() {
    let f = tiny();
    let mine = [
        r("values.01.1", 4),
        r("values.01.2", 4), // 4
        r("values.02.1", 3), // 3
        r("knowledge.theories.01.1", 3),
        r("knowledge.theories.01.2", 3), // 3
    ];
    let theirs = [
        r("values.01.1", 3),
        r("values.01.2", 4), // 3.5 -> 3: differs by 1
        r("values.02.1", 3), // same
        r("knowledge.theories.01.1", 4),
        r("knowledge.theories.01.2", 2),
        r("knowledge.theories.01.3", 4), // 3.33 -> 3: same score though indicators differ
    ];
    let d = compare_self_supervisor(&f, &mine, &theirs);
    assert_eq!(
        d,
        vec![RatingDifference {
            area_code: "values".into(),
            competency_code: "values.01".into(),
            self_score: Rating::Advanced,
            supervisor_score: Rating::Competent,
            difference: 1,
            indicators: vec![IndicatorDifference {
                indicator_code: "values.01.1".into(),
                self_rating: Rating::Advanced,
                supervisor_rating: Rating::Competent
            }],
        }]
    );
    // The supervisor higher: negative difference. Competencies rated by one side only are skipped.
    let d = compare_self_supervisor(&f, &[r("values.02.1", 1), r("values.01.1", 2)], &[r("values.02.1", 4)]);
    assert_eq!(d.len(), 1);
    assert_eq!((d[0].competency_code.as_str(), d[0].difference), ("values.02", -3));
}

// ----- aggregates -----

fn wa(worker_id: i64, date: &str, cadre: Option<Cadre>, ratings: Vec<IndicatorRating>) -> WorkerAssessment {
    WorkerAssessment { worker_id, assessed_on: date.parse().unwrap(), cadre, role: None, ratings }
}

#[test]
fn aggregate_counts_latest_assessments() {
    let f = tiny();
    let reqs = [
        req(RequirementFor::Cadre(Cadre::ParaSocialWorker), "values.01", 3),
        req(RequirementFor::Cadre(Cadre::Professional), "values.01", 4),
    ];
    let psw = Some(Cadre::ParaSocialWorker);
    let pro = Some(Cadre::Professional);
    let assessments = vec![
        // Worker 1: an old low assessment, superseded by a later one at competent.
        wa(1, "2024-01-10", psw, vec![r("values.01.1", 1), r("values.01.2", 1)]),
        wa(1, "2025-03-01", psw, vec![r("values.01.1", 3), r("values.01.2", 4), r("values.02.1", 2)]),
        // Worker 2: professional at 3.5 -> 3, below 4.
        wa(2, "2025-02-01", pro, vec![r("values.01.1", 3), r("values.01.2", 4)]),
        // Worker 3: para social worker at 2, below 3.
        wa(3, "2025-02-01", psw, vec![r("values.01.1", 2)]),
        // Worker 4: no cadre: assessed, no requirement.
        wa(4, "2025-02-01", None, vec![r("values.01.1", 1), r("knowledge.theories.01.3", 4)]),
    ];
    let cells = aggregate(&f, &reqs, &assessments);
    assert_eq!(cells.len(), 3);
    let v1 = &cells[0];
    assert_eq!(v1.competency_code, "values.01");
    assert_eq!((v1.assessed, v1.with_requirement, v1.below_required), (4, 3, 2));
    assert_eq!(v1.share_below, Some(0.5));
    assert_eq!((cells[1].assessed, cells[1].with_requirement, cells[1].below_required), (1, 0, 0));
    assert_eq!(cells[1].share_below, Some(0.0));
    assert_eq!((cells[2].area_code.as_str(), cells[2].assessed), ("knowledge", 1));
    assert!(aggregate(&f, &reqs, &[]).iter().all(|c| c.assessed == 0 && c.share_below.is_none()));

    let needs = training_needs(&cells);
    assert_eq!(needs.len(), 1);
    assert_eq!(needs[0].competency_code, "values.01");

    // Same date twice: the one later in the list counts.
    let same_day =
        vec![wa(9, "2025-01-01", psw, vec![r("values.01.1", 4)]), wa(9, "2025-01-01", psw, vec![r("values.01.1", 1)])];
    assert_eq!(latest_per_worker(&same_day)[0].ratings[0].rating, Rating::NotYet);
    assert_eq!(aggregate(&f, &reqs, &same_day)[0].below_required, 1);
}

#[test]
fn the_latest_score_of_each_competency_survives_partial_assessments() {
    let f = tiny();
    let first = [r("values.01.1", 1), r("values.01.2", 2), r("values.02.1", 2)];
    let second = [r("values.01.2", 4), r("knowledge.theories.01.1", 3)]; // values.02 left unrated
    let third: [IndicatorRating; 0] = [];
    let merged = latest_by_competency(&f, [&first[..], &second[..], &third[..]]);
    let got: Vec<(usize, &str, u8)> =
        merged.iter().map(|(n, x)| (*n, x.indicator_code.as_str(), x.rating.value())).collect();
    // values.01 comes whole from the second assessment (its values.01.1 is not carried over).
    assert_eq!(got, [(1, "values.01.2", 4), (0, "values.02.1", 2), (1, "knowledge.theories.01.1", 3)]);
    assert!(latest_by_competency(&f, []).is_empty());
}

/// xorshift64*: deterministic pseudo-random numbers for the property test.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

#[test]
fn aggregates_equal_a_direct_count_over_random_assessments() {
    let f = fw();
    let indicator_codes: Vec<String> = f.indicators().map(|(_, _, i)| i.code.clone()).collect();
    let competency_codes: Vec<String> = f.competencies().map(|(_, c)| c.code.clone()).collect();
    for seed in [1u64, 42, 2019, 0x5eed] {
        let mut rng = Rng(seed);
        let mut reqs = Vec::new();
        for _ in 0..60 {
            let applies_to = if rng.below(2) == 0 {
                RequirementFor::Cadre(Cadre::ALL[rng.below(Cadre::ALL.len() as u64) as usize])
            } else {
                RequirementFor::Role(WorkerRole::ALL[rng.below(WorkerRole::ALL.len() as u64) as usize])
            };
            let code = competency_codes[rng.below(competency_codes.len() as u64) as usize].clone();
            reqs.push(RequiredLevel { applies_to, competency_code: code, level: Rating::ALL[rng.below(4) as usize] });
        }
        let mut assessments = Vec::new();
        for _ in 0..300 {
            let cadre = (rng.below(5) > 0).then(|| Cadre::ALL[rng.below(Cadre::ALL.len() as u64) as usize]);
            let role = (rng.below(3) > 0).then(|| WorkerRole::ALL[rng.below(WorkerRole::ALL.len() as u64) as usize]);
            let mut ratings = Vec::new();
            for code in &indicator_codes {
                if rng.below(3) == 0 {
                    ratings.push(IndicatorRating::new(code, Rating::ALL[rng.below(4) as usize]));
                }
            }
            let day = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap() + chrono::Days::new(rng.below(20));
            assessments.push(WorkerAssessment {
                worker_id: rng.below(80) as i64,
                assessed_on: day,
                cadre,
                role,
                ratings,
            });
        }
        let cells = aggregate(&f, &reqs, &assessments);

        // Direct count, written independently: for each worker the index of the latest
        // assessment; for each competency the floor of the mean computed in floating point.
        let mut latest: BTreeMap<i64, usize> = BTreeMap::new();
        for (idx, a) in assessments.iter().enumerate() {
            let keep = latest.get(&a.worker_id).is_some_and(|&j| assessments[j].assessed_on > a.assessed_on);
            if !keep {
                latest.insert(a.worker_id, idx);
            }
        }
        for (cell, (area, comp)) in cells.iter().zip(f.competencies()) {
            assert_eq!(
                (cell.area_code.as_str(), cell.competency_code.as_str()),
                (area.code.as_str(), comp.code.as_str())
            );
            let (mut assessed, mut with_req, mut below) = (0u32, 0u32, 0u32);
            for &idx in latest.values() {
                let a = &assessments[idx];
                let values: Vec<f64> = comp
                    .indicators
                    .iter()
                    .filter_map(|i| a.ratings.iter().rev().find(|x| x.indicator_code == i.code))
                    .map(|x| f64::from(x.rating as u8))
                    .collect();
                if values.is_empty() {
                    continue;
                }
                assessed += 1;
                let score = (values.iter().sum::<f64>() / values.len() as f64).floor() as u8;
                let needed = reqs
                    .iter()
                    .filter(|q| q.competency_code == comp.code)
                    .filter(|q| match q.applies_to {
                        RequirementFor::Cadre(c) => a.cadre == Some(c),
                        RequirementFor::Role(x) => a.role == Some(x),
                    })
                    .map(|q| q.level as u8)
                    .max();
                if let Some(needed) = needed {
                    with_req += 1;
                    if score < needed {
                        below += 1;
                    }
                }
            }
            assert_eq!(
                (cell.assessed, cell.with_requirement, cell.below_required),
                (assessed, with_req, below),
                "seed {seed}, {}",
                comp.code
            );
            let share = (assessed > 0).then(|| f64::from(below) / f64::from(assessed));
            assert_eq!(cell.share_below, share);
        }
        assert!(cells.iter().any(|c| c.below_required > 0), "the random data exercises gaps");
        let needs = training_needs(&cells);
        assert!(needs.windows(2).all(|w| w[0].below_required >= w[1].below_required));
    }
}
