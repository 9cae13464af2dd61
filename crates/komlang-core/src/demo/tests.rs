//! Tests of the demo rules.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use super::*;
use crate::admin::{parse_admin_units, AdminCsvSet};
use crate::validate::{validate_org, validate_worker, OrgInput, WorkerInput};

fn units() -> &'static [AdminUnit] {
    static UNITS: OnceLock<Vec<AdminUnit>> = OnceLock::new();
    UNITS.get_or_init(|| {
        parse_admin_units(&AdminCsvSet {
            country: "country_code,country_kh,country_en\nKH,កម្ពុជា,Cambodia\n",
            provinces: include_str!("../../../../data/cambodia-admin/CambodiaProvinceList2025.csv"),
            districts: include_str!("../../../../data/cambodia-admin/CambodiaDistrictList2025.csv"),
            communes: include_str!("../../../../data/cambodia-admin/CambodiaCommuneList2025.csv"),
            villages: None,
        })
        .unwrap()
        .units
    })
}

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
}

fn data() -> &'static DemoDataSet {
    static DATA: OnceLock<DemoDataSet> = OnceLock::new();
    DATA.get_or_init(|| generate(units(), today()))
}

fn count_level(level: AdminLevel) -> usize {
    units().iter().filter(|u| u.level == level).count()
}

fn count(f: impl Fn(&DemoWorker) -> bool) -> usize {
    data().workers.iter().filter(|w| f(w)).count()
}

fn has_role(w: &DemoWorker, roles: &[WorkerRole]) -> bool {
    roles.contains(&w.draft.role)
}

#[test]
fn every_worker_passes_validation() {
    for w in &data().workers {
        let d = validate_worker(&WorkerInput::from_draft(&w.draft), today())
            .unwrap_or_else(|e| panic!("{} invalid: {e}", w.draft.name_latin));
        assert_eq!(d, w.draft);
        assert_eq!(w.draft.org_id, None);
    }
}

#[test]
fn every_worker_passes_validation_on_a_leap_day() {
    let today = NaiveDate::from_ymd_opt(2028, 2, 29).unwrap();
    for w in &generate(units(), today).workers {
        assert!(validate_worker(&WorkerInput::from_draft(&w.draft), today).is_ok(), "{:?}", w.draft);
    }
}

#[test]
fn every_org_passes_validation_and_keys_are_unique() {
    let mut keys = BTreeSet::new();
    let mut names = BTreeSet::new();
    let mut regs = BTreeSet::new();
    for o in &data().orgs {
        assert_eq!(validate_org(&OrgInput::from_draft(&o.draft)).as_ref(), Ok(&o.draft));
        assert!(keys.insert(o.key.clone()), "duplicate key {}", o.key);
        assert!(names.insert(o.draft.name_en.clone()), "duplicate name {}", o.draft.name_en);
        if let Some(r) = &o.draft.registration_no {
            assert!(regs.insert(r.clone()), "duplicate registration {r}");
        }
    }
    let by_kind = |k: OrgKind| data().orgs.iter().filter(|o| o.draft.kind == k).count();
    assert_eq!(by_kind(OrgKind::Ministry), 1);
    assert!(by_kind(OrgKind::MinistryDepartment) >= 2);
    assert_eq!(by_kind(OrgKind::TrainingInstitute), 1);
    assert_eq!(by_kind(OrgKind::ProvincialDepartment), count_level(AdminLevel::Province));
    assert_eq!(by_kind(OrgKind::DistrictOffice), count_level(AdminLevel::District));
    assert_eq!(by_kind(OrgKind::Ngo), NGO_COUNT);
    for o in data().orgs.iter().filter(|o| o.draft.kind == OrgKind::Ngo) {
        let reg = o.draft.registration_no.as_deref().unwrap();
        let digits = reg.strip_prefix("MOI-NGO-").unwrap();
        assert!(digits.len() == 4 && digits.chars().all(|c| c.is_ascii_digit()), "{reg}");
    }
    for key in [
        MOSVY_KEY.to_string(),
        NISA_KEY.to_string(),
        CHILD_WELFARE_DEPT_KEY.to_string(),
        dosvy_key("12"),
        district_office_key("0102"),
        ngo_key(1),
        ngo_key(NGO_COUNT),
    ] {
        assert!(keys.contains(&key), "missing {key}");
    }
    let pp = data().orgs.iter().find(|o| o.key == dosvy_key("12")).unwrap();
    assert_eq!(pp.draft.name_km.as_deref(), Some("មន្ទីរសង្គមកិច្ច អតីតយុទ្ធជន និងយុវនីតិសម្បទា រាជធានីភ្នំពេញ"));
    let btb = data().orgs.iter().find(|o| o.key == dosvy_key("02")).unwrap();
    assert_eq!(btb.draft.name_en, "Battambang Department of Social Affairs, Veterans and Youth Rehabilitation");
    assert_eq!(btb.draft.name_km.as_deref(), Some("មន្ទីរសង្គមកិច្ច អតីតយុទ្ធជន និងយុវនីតិសម្បទា ខេត្តបាត់ដំបង"));
}

#[test]
fn output_is_deterministic() {
    let a = generate(units(), today());
    let b = generate(units(), today());
    assert_eq!(a, b);
    assert_eq!(format!("{a:?}"), format!("{:?}", data()));
    assert_ne!(generate(units(), NaiveDate::from_ymd_opt(2025, 1, 1).unwrap()), a);
}

#[test]
fn no_units_no_data() {
    assert_eq!(generate(&[], today()), DemoDataSet { orgs: Vec::new(), workers: Vec::new() });
}

#[test]
fn exactly_one_focal_point_per_commune() {
    let mut per_commune: BTreeMap<&str, usize> = BTreeMap::new();
    for w in data().workers.iter().filter(|w| w.draft.role == WorkerRole::CcwcFocalPoint) {
        *per_commune.entry(w.draft.workplace_code.as_str()).or_default() += 1;
    }
    let communes: Vec<&str> =
        units().iter().filter(|u| u.level == AdminLevel::Commune).map(|u| u.code.as_str()).collect();
    assert_eq!(per_commune.len(), communes.len());
    for c in communes {
        assert_eq!(per_commune.get(c), Some(&1), "commune {c}");
    }
}

#[test]
fn group_sizes_follow_table_11() {
    use WorkerRole::*;
    let provinces = count_level(AdminLevel::Province);
    assert_eq!(count(|w| has_role(w, &[MosvyOfficer, MosvyChildProtectionOfficer])), MOSVY_WORKERS);
    assert_eq!(count(|w| w.draft.role == MosvyChildProtectionOfficer), 118);
    let dosvy_roles = [DosvyOfficer, DosvyChildProtectionOfficer, DosvyCaseManagementOfficer];
    assert_eq!(count(|w| has_role(w, &dosvy_roles) && w.draft.cadre == Cadre::ParaProfessional), 471);
    assert_eq!(count(|w| w.draft.role == DosvyChildProtectionOfficer), 125);
    assert_eq!(
        count(|w| w.draft.role == DosvyCaseManagementOfficer && w.draft.cadre == Cadre::ParaProfessional),
        DOSVY_CASE_MANAGEMENT_OFFICERS
    );
    assert_eq!(count(|w| has_role(w, &dosvy_roles) && w.draft.cadre == Cadre::Professional), provinces);
    assert_eq!(count(|w| has_role(w, &[DistrictSocialWorker, DistrictOfficer])), 406);
    assert_eq!(count(|w| has_role(w, &[NgoCaseWorker, NgoSocialWorker, NgoManager])), 1170);
    assert_eq!(count(|w| w.draft.sector == Sector::Ngo), 1170);
    assert_eq!(count(|w| has_role(w, &[CcwcFocalPoint, CcwcMember])), 3292);
    assert_eq!(count(|w| w.draft.cadre == Cadre::ParaSocialWorker), 3292);
    assert_eq!(count(|w| has_role(w, &[AlliedPolice, AlliedTeacher, AlliedHealth])), 317);
    assert_eq!(count(|w| w.draft.cadre == Cadre::Allied), 317);
    assert_eq!(data().workers.len(), 500 + 471 + provinces + 406 + 1170 + 3292 + 317);
    // Every province and district has staff.
    for p in units().iter().filter(|u| u.level == AdminLevel::Province) {
        assert!(count(|w| has_role(w, &dosvy_roles) && w.draft.workplace_code == p.code) >= 4, "{}", p.code);
    }
    for d in units().iter().filter(|u| u.level == AdminLevel::District) {
        assert!(count(|w| w.draft.role == DistrictSocialWorker && w.draft.workplace_code == d.code) == 1);
    }
}

#[test]
fn national_ids_are_unique_nine_digits_for_about_seventy_percent() {
    let ids: Vec<&str> = data().workers.iter().filter_map(|w| w.draft.national_id.as_deref()).collect();
    let unique: BTreeSet<&str> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len());
    assert!(ids.iter().all(|id| id.len() == 9 && id.chars().all(|c| c.is_ascii_digit())));
    let share = ids.len() * 100 / data().workers.len();
    assert!((65..=75).contains(&share), "{share}%");
    let phones = count(|w| w.draft.phone.is_some()) * 100 / data().workers.len();
    assert!((75..=85).contains(&phones), "{phones}%");
    let emails: Vec<&str> = data().workers.iter().filter_map(|w| w.draft.email.as_deref()).collect();
    assert_eq!(emails.iter().collect::<BTreeSet<_>>().len(), emails.len());
    assert!(emails.iter().all(|e| e.ends_with("@example.org")));
}

#[test]
fn every_code_and_org_key_exists() {
    let codes: BTreeMap<&str, AdminLevel> = units().iter().map(|u| (u.code.as_str(), u.level)).collect();
    let orgs: BTreeMap<&str, &OrgDraft> = data().orgs.iter().map(|o| (o.key.as_str(), &o.draft)).collect();
    for o in &data().orgs {
        assert!(codes.contains_key(o.draft.admin_code.as_str()), "{}", o.draft.admin_code);
    }
    for w in &data().workers {
        assert!(codes.contains_key(w.draft.workplace_code.as_str()), "{}", w.draft.workplace_code);
        if let Some(k) = &w.org_key {
            assert!(orgs.contains_key(k.as_str()), "{k}");
        }
        for p in &w.earlier_postings {
            assert!(codes.contains_key(p.workplace_code.as_str()), "{}", p.workplace_code);
            if let Some(k) = &p.org_key {
                assert!(orgs.contains_key(k.as_str()), "{k}");
            }
        }
    }
}

#[test]
fn workplaces_match_the_level_of_the_job() {
    use WorkerRole::*;
    let level: BTreeMap<&str, AdminLevel> = units().iter().map(|u| (u.code.as_str(), u.level)).collect();
    let org_code: BTreeMap<&str, &str> =
        data().orgs.iter().map(|o| (o.key.as_str(), o.draft.admin_code.as_str())).collect();
    for w in &data().workers {
        let d = &w.draft;
        let at = level[d.workplace_code.as_str()];
        match d.role {
            MosvyOfficer | MosvyChildProtectionOfficer => {
                assert!(d.workplace_code == "KH" || d.workplace_code == "12", "{}", d.workplace_code);
            }
            DosvyOfficer | DosvyChildProtectionOfficer | DosvyCaseManagementOfficer => {
                assert_eq!(at, AdminLevel::Province);
                assert_eq!(org_code[w.org_key.as_deref().unwrap()], d.workplace_code);
            }
            DistrictSocialWorker | DistrictOfficer => {
                assert_eq!(at, AdminLevel::District);
                assert_eq!(org_code[w.org_key.as_deref().unwrap()], d.workplace_code);
            }
            CcwcFocalPoint | CcwcMember => {
                assert_eq!(at, AdminLevel::Commune);
                assert_eq!(w.org_key, None);
                assert_eq!(d.sector, Sector::Government);
            }
            NgoCaseWorker | NgoSocialWorker | NgoManager => {
                let home = org_code[w.org_key.as_deref().unwrap()];
                assert!(d.workplace_code.starts_with(home), "{} not in {home}", d.workplace_code);
            }
            AlliedPolice | AlliedTeacher | AlliedHealth => assert_eq!(w.org_key, None),
            other => panic!("unexpected role {other}"),
        }
    }
}

#[test]
fn people_look_right() {
    let female: BTreeSet<&str> = FEMALE_NAMES.iter().map(|n| n.1).collect();
    let male: BTreeSet<&str> = MALE_NAMES.iter().map(|n| n.1).collect();
    assert!(FAMILY_NAMES.len() >= 20 && FEMALE_NAMES.len() >= 20 && MALE_NAMES.len() >= 20);
    assert!(female.is_disjoint(&male));
    for w in &data().workers {
        let d = &w.draft;
        assert!(d.name_latin.chars().all(|c| c.is_ascii_alphabetic() || " .'-".contains(c)), "{}", d.name_latin);
        let given = d.name_latin.split(' ').nth(1).unwrap();
        match d.sex {
            Sex::Female => assert!(female.contains(given), "{given}"),
            Sex::Male => assert!(male.contains(given), "{given}"),
        }
        let dob = d.date_of_birth.unwrap();
        let start = d.start_date.unwrap();
        assert!((22..=60).contains(&age_on(dob, today())), "{dob}");
        let first = w.earlier_postings.first().map_or(start, |p| p.start_date);
        assert!(age_on(dob, first) >= 18);
        assert!(first >= days_ago(today(), 25 * 366) && start <= days_ago(today(), 365));
    }
}

#[test]
fn education_fits_the_cadre() {
    use EducationLevel::*;
    for w in &data().workers {
        let d = &w.draft;
        let social_work_degree = matches!(d.education_level, Some(Bachelor | Master))
            && d.education_field == Some(EducationField::SocialWork);
        match d.cadre {
            Cadre::Professional => assert!(social_work_degree),
            Cadre::ParaProfessional => {
                assert!(!social_work_degree);
                assert!(matches!(d.education_level, None | Some(Tvc1 | Tvc2 | Tvc3 | Associate | Bachelor | Master)));
            }
            Cadre::ParaSocialWorker => assert!(matches!(
                d.education_level,
                None | Some(Primary | LowerSecondary | UpperSecondary | VocationalCertificate)
            )),
            Cadre::Allied => assert!(d.education_level.is_some()),
        }
    }
    assert!(count(|w| w.draft.sector == Sector::Ngo && w.draft.cadre == Cadre::Professional) > 100);
}

#[test]
fn histories_are_consistent() {
    let n = data().workers.len();
    let mut transferred = 0;
    let mut inactive = 0;
    for w in &data().workers {
        let d = &w.draft;
        let start = d.start_date.unwrap();
        let mut prev_end: Option<NaiveDate> = None;
        for p in &w.earlier_postings {
            assert!(p.start_date <= p.end_date && p.end_date < start);
            assert!(prev_end.is_none_or(|e| e < p.start_date));
            prev_end = Some(p.end_date);
            let same = p.org_key == w.org_key
                && p.role == d.role
                && p.position_title == d.position_title
                && p.workplace_code == d.workplace_code;
            assert!(!same, "earlier posting identical to the current one");
        }
        let first = w.earlier_postings.first().map_or(start, |p| p.start_date);
        assert_eq!(w.status_history.first(), Some(&(EmploymentStatus::Active, first)));
        let (last_status, last_date) = *w.status_history.last().unwrap();
        assert_eq!(last_status, d.status);
        assert!(w.status_history.windows(2).all(|p| p[0].1 < p[1].1 && p[0].0 != p[1].0));
        assert!(last_date <= today());
        match d.status {
            EmploymentStatus::Active => assert_eq!(d.end_date, None),
            EmploymentStatus::OnLeave => assert_eq!(d.end_date, None),
            EmploymentStatus::Left | EmploymentStatus::Retired => {
                assert_eq!(d.end_date, Some(last_date));
                assert!(last_date > start);
            }
            other => panic!("unexpected status {other}"),
        }
        if d.status == EmploymentStatus::Retired {
            assert!(age_on(d.date_of_birth.unwrap(), last_date) >= 55);
        }
        transferred += usize::from(!w.earlier_postings.is_empty());
        inactive += usize::from(d.status != EmploymentStatus::Active);
    }
    assert!((8..=12).contains(&(transferred * 100 / n)), "{transferred} of {n}");
    assert!((3..=7).contains(&(inactive * 100 / n)), "{inactive} of {n}");
    for s in [EmploymentStatus::OnLeave, EmploymentStatus::Left, EmploymentStatus::Retired] {
        assert!(count(|w| w.draft.status == s) > 10, "{s}");
    }
}

#[test]
fn apportion_hits_the_total() {
    assert_eq!(apportion(10, &[1, 1, 1], 0), vec![4, 3, 3]);
    assert_eq!(apportion(7, &[0, 0], 5), vec![4, 3]);
    assert_eq!(apportion(406, &[3; 210], 1).iter().sum::<usize>(), 406);
    assert_eq!(apportion(5, &[], 1), Vec::<usize>::new());
}
