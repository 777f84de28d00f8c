//! A person's other records: applications (longevity, care, hardship), disability certificates,
//! ability assessments, household statuses, exclusions and suspensions.

use super::*;

// ---------------------------------------------------------------------------------------------
// Applications.

/// How long after becoming eligible a person applies.
#[derive(Clone, Copy, Debug)]
pub(super) enum Timing {
    /// Before the policy's start when already eligible, else within 3 months.
    Prompt,
    /// Within T5's six months of back pay.
    WithinSixMonths,
    /// Beyond them: payment starts at the application's month.
    Late,
}

/// When a person eligible from `eligible` applies; none when that would be after the data ends.
pub(super) fn applied_on(rng: &mut ChaCha8Rng, p: &Person, eligible: NaiveDate) -> Option<NaiveDate> {
    let timing = pick(rng, &TIMINGS);
    let (lo, hi) = if eligible < POLICY_START {
        match timing {
            Timing::Prompt => (eligible.max(PRE_POLICY_FROM), minus(POLICY_START, 1)),
            Timing::WithinSixMonths => (POLICY_START, BACK_PAY_UNTIL),
            Timing::Late => (plus(BACK_PAY_UNTIL, 1), LAST_DAY),
        }
    } else {
        match timing {
            Timing::Prompt => (eligible, plus(eligible, 91)),
            Timing::WithinSixMonths => (plus(eligible, 92), plus(eligible, 182)),
            Timing::Late => (plus(eligible, 200), plus(eligible, 365)),
        }
    };
    day_in(rng, p.applies_from(lo), hi.min(p.last_day()))
}

/// Write an application decided 5–30 days after it was made (pending if that passes the year),
/// and, for some approved ones, a second application of the same allowance.
pub(super) fn write_application(
    rng: &mut ChaCha8Rng,
    files: &mut Files,
    p: &Person,
    allowance: Allowance,
    applied: NaiveDate,
    decision: Decision,
) -> anyhow::Result<()> {
    write_decided(rng, files, p, allowance, applied, decision)?;
    if decision == Decision::Approved && REAPPLY.hit(rng) {
        let again = day_in(rng, plus(applied, 60), plus(applied, 240).min(p.last_day()));
        if let Some(again) = again {
            write_decided(rng, files, p, allowance, again, Decision::Approved)?;
        }
    }
    Ok(())
}

pub(super) fn write_decided(
    rng: &mut ChaCha8Rng,
    files: &mut Files,
    p: &Person,
    allowance: Allowance,
    applied: NaiveDate,
    decision: Decision,
) -> anyhow::Result<()> {
    let decided = match decision {
        Decision::Pending => None,
        _ => Some(plus(applied, rng.gen_range(5..=30))).filter(|d| *d <= LAST_DAY),
    };
    let decision = if decided.is_some() { decision } else { Decision::Pending };
    let row = vec![p.id.clone(), allowance.to_string(), applied.to_string(), decision.to_string(), text(decided)];
    files.write(RegistryFile::Applications, row)
}

pub(super) fn write_longevity(rng: &mut ChaCha8Rng, files: &mut Files, p: &Person) -> anyhow::Result<()> {
    let turns_80 = p.birth + Months::new(80 * 12);
    if turns_80 > p.last_day() {
        return Ok(());
    }
    let Some(decision) = pick(rng, &LONGEVITY_DECISIONS) else {
        return Ok(());
    };
    match applied_on(rng, p, turns_80) {
        Some(applied) => write_application(rng, files, p, Allowance::Longevity, applied, decision),
        None => Ok(()),
    }
}

// ---------------------------------------------------------------------------------------------
// Care: certificates, assessments, applications.

/// A disability certificate: its category lines, whether multiple, when issued.
pub(super) struct Certificate {
    pub(super) lines: Vec<(Category, u8)>,
    pub(super) multiple: bool,
    pub(super) issued: NaiveDate,
}

/// Care tiers of R4 as letters, best first.
pub(super) fn certificate_tier(cert: &Certificate) -> Option<char> {
    cert.lines.iter().filter_map(|&(category, grade)| line_tier(category, grade, cert.multiple)).min()
}

pub(super) fn line_tier(category: Category, grade: u8, multiple: bool) -> Option<char> {
    use Category::*;
    match (category, grade) {
        (Visual | Limb | Intellectual | Mental, 1) => Some('A'),
        (Intellectual | Mental, 2) if multiple => Some('A'),
        (Visual | Limb | Intellectual | Mental, 2) | (Intellectual | Mental, 3) => Some('B'),
        (Hearing | Speech, 1 | 2) => Some('C'),
        _ => None,
    }
}

pub(super) fn draw_certificate(rng: &mut ChaCha8Rng, issued: NaiveDate) -> Certificate {
    let first = pick(rng, &CATEGORIES);
    let mut lines = vec![(first, pick(rng, &GRADES))];
    if TWO_CATEGORIES.hit(rng) {
        // Keys hold the category: the second line must differ from the first.
        let others: Vec<(Category, u32)> = CATEGORIES.iter().copied().filter(|c| c.0 != first).collect();
        lines.push((pick(rng, &others), pick(rng, &GRADES)));
    }
    let multiple = lines.len() > 1;
    Certificate { lines, multiple, issued }
}

/// What a person's certificates amount to for the care application.
pub(super) struct Certified {
    /// Issue date of the first certificate qualifying for a tier.
    pub(super) qualifying: Option<NaiveDate>,
    /// Issue date of the first certificate.
    pub(super) issued: NaiveDate,
}

pub(super) fn write_certificates(
    rng: &mut ChaCha8Rng,
    files: &mut Files,
    p: &Person,
) -> anyhow::Result<Option<Certified>> {
    if !CERTIFICATE.hit(rng) {
        return Ok(None);
    }
    // Most were issued long ago; 15 % during the policy's time.
    let issued = if rng.gen_range(0..100) < 85 {
        day_in(rng, CERTIFICATES_FROM, minus(POLICY_START, 1).min(p.last_day()))
    } else {
        day_in(rng, POLICY_START, p.last_day())
    };
    let Some(issued) = issued else {
        return Ok(None);
    };
    let cert = draw_certificate(rng, issued);
    let mut qualifying = certificate_tier(&cert).map(|_| issued);
    let roll = rng.gen_range(0..100_000);
    if roll < CERTIFICATE_REVOKED.0 {
        let revoked = day_in(rng, plus(issued, 1).max(YEAR_START), LAST_DAY);
        write_certificate(files, p, &cert, revoked)?;
    } else if roll < CERTIFICATE_REVOKED.0 + CERTIFICATE_REPLACED.0 {
        write_certificate(files, p, &cert, None)?;
        let from = plus(issued, 30).max(YEAR_START);
        if let Some(later) = day_in(rng, from, p.last_day()) {
            let graver = graver_certificate(&cert, later);
            qualifying = qualifying.or(certificate_tier(&graver).map(|_| later));
            write_certificate(files, p, &graver, None)?;
        }
    } else {
        write_certificate(files, p, &cert, None)?;
    }
    Ok(Some(Certified { qualifying, issued }))
}

/// A later certificate of the same categories, one grade graver (disabilities worsen).
pub(super) fn graver_certificate(cert: &Certificate, issued: NaiveDate) -> Certificate {
    Certificate {
        lines: cert.lines.iter().map(|&(c, g)| (c, g.saturating_sub(1).max(1))).collect(),
        multiple: cert.multiple,
        issued,
    }
}

pub(super) fn write_certificate(
    files: &mut Files,
    p: &Person,
    cert: &Certificate,
    revoked: Option<NaiveDate>,
) -> anyhow::Result<()> {
    for &(category, grade) in &cert.lines {
        let row = vec![
            p.id.clone(),
            category.to_string(),
            grade.to_string(),
            cert.multiple.to_string(),
            cert.issued.to_string(),
            text(revoked),
        ];
        files.write(RegistryFile::DisabilityCerts, row)?;
    }
    Ok(())
}

/// Write the person's assessments; the date of the first severe one, if any.
pub(super) fn write_assessments(
    rng: &mut ChaCha8Rng,
    files: &mut Files,
    p: &Person,
) -> anyhow::Result<Option<NaiveDate>> {
    let share = match p.age {
        ..80 => ASSESSED_60_79,
        80..90 => ASSESSED_80_89,
        _ => ASSESSED_90_PLUS,
    };
    if !share.hit(rng) {
        return Ok(None);
    }
    let Some(first) = day_in(rng, ASSESSMENTS_FROM, p.last_day()) else {
        return Ok(None);
    };
    let mut severe = write_assessment(rng, files, p, first)?;
    if REASSESSED.hit(rng) {
        if let Some(second) = day_in(rng, plus(first, 90), p.last_day()) {
            severe = severe.or(write_assessment(rng, files, p, second)?);
        }
    }
    Ok(severe)
}

pub(super) fn write_assessment(
    rng: &mut ChaCha8Rng,
    files: &mut Files,
    p: &Person,
    day: NaiveDate,
) -> anyhow::Result<Option<NaiveDate>> {
    let result = pick(rng, &RESULTS);
    let row = vec![p.id.clone(), day.to_string(), result.to_string()];
    files.write(RegistryFile::Assessments, row)?;
    Ok((result == AssessmentResult::Severe).then_some(day))
}

/// Write certificates, assessments and care applications; whether the person qualifies for care.
pub(super) fn write_care(rng: &mut ChaCha8Rng, files: &mut Files, p: &Person) -> anyhow::Result<bool> {
    let certified = write_certificates(rng, files, p)?;
    let severe = write_assessments(rng, files, p)?;
    let qualifying = certified.as_ref().and_then(|c| c.qualifying);
    if let Some(since) = qualifying {
        if CARE_APPROVED_CERTIFICATE.hit(rng) {
            if let Some(applied) = applied_on(rng, p, since) {
                write_application(rng, files, p, Allowance::Care, applied, Decision::Approved)?;
                return Ok(true);
            }
        }
    } else if let Some(c) = &certified {
        if CARE_REJECTED_NOT_QUALIFYING.hit(rng) {
            if let Some(applied) = applied_on(rng, p, c.issued) {
                write_decided(rng, files, p, Allowance::Care, applied, Decision::Rejected)?;
                // One care application at most besides re-applications: keys stay distinct, and
                // a severe assessment counts as an application anyway (T5).
                return Ok(severe.is_some());
            }
        }
    }
    if let Some(assessed) = severe {
        // They applied, then were assessed: the application comes up to 30 days before.
        if CARE_APPROVED_ASSESSED.hit(rng) {
            let lo = p.applies_from(minus(assessed, 30));
            if let Some(applied) = day_in(rng, lo, assessed) {
                write_application(rng, files, p, Allowance::Care, applied, Decision::Approved)?;
            }
        }
    }
    Ok(qualifying.is_some() || severe.is_some())
}

// ---------------------------------------------------------------------------------------------
// Hardship, exclusions, suspensions.

pub(super) fn write_hardship(rng: &mut ChaCha8Rng, files: &mut Files, p: &Person) -> anyhow::Result<()> {
    if !HOUSEHOLD.hit(rng) {
        return Ok(());
    }
    let from = if rng.gen_range(0..100) < 85 {
        day_in(rng, STATUSES_FROM, minus(POLICY_START, 1).min(p.last_day()))
    } else {
        day_in(rng, POLICY_START, p.last_day())
    };
    let Some(from) = from else {
        return Ok(());
    };
    let status = pick(rng, &STATUSES);
    let to = if STATUS_ENDS.hit(rng) { day_in(rng, from.max(YEAR_START), LAST_DAY) } else { None };
    write_period(files, RegistryFile::HouseholdStatus, p, status, from, to)?;
    if SECOND_STATUS.hit(rng) {
        // Another status (the key holds it), starting later and still open.
        let others: Vec<(HouseholdStatus, u32)> = STATUSES.iter().copied().filter(|s| s.0 != status).collect();
        let next = pick(rng, &others);
        if let Some(later) = day_in(rng, plus(from, 30).max(YEAR_START), p.last_day()) {
            write_period(files, RegistryFile::HouseholdStatus, p, next, later, None)?;
        }
    }
    write_hardship_application(rng, files, p, from)
}

pub(super) fn write_hardship_application(
    rng: &mut ChaCha8Rng,
    files: &mut Files,
    p: &Person,
    since: NaiveDate,
) -> anyhow::Result<()> {
    let roll = rng.gen_range(0..100_000);
    let decision = if roll < HARDSHIP_APPROVED.0 {
        Decision::Approved
    } else if roll < HARDSHIP_APPROVED.0 + HARDSHIP_REJECTED.0 {
        Decision::Rejected
    } else {
        return Ok(());
    };
    match applied_on(rng, p, since) {
        Some(applied) => write_application(rng, files, p, Allowance::Hardship, applied, decision),
        None => Ok(()),
    }
}

pub(super) fn write_exclusion(rng: &mut ChaCha8Rng, files: &mut Files, p: &Person, care: bool) -> anyhow::Result<()> {
    let (share, kinds) = if care { (EXCLUDED_CARE, &EXCLUSIONS_CARE) } else { (EXCLUDED_OTHERS, &EXCLUSIONS_OTHERS) };
    if !share.hit(rng) {
        return Ok(());
    }
    let kind = pick(rng, kinds);
    let Some(from) = day_in(rng, EXCLUSIONS_FROM, p.last_day()) else {
        return Ok(());
    };
    let to = if EXCLUSION_ENDS.hit(rng) { day_in(rng, from.max(POLICY_START), LAST_DAY) } else { None };
    write_period(files, RegistryFile::Exclusions, p, kind, from, to)
}

pub(super) fn write_suspension(rng: &mut ChaCha8Rng, files: &mut Files, p: &Person) -> anyhow::Result<()> {
    if !SUSPENDED.hit(rng) {
        return Ok(());
    }
    let reason = pick(rng, &SUSPENSION_REASONS);
    let Some(from) = day_in(rng, POLICY_START, p.last_day()) else {
        return Ok(());
    };
    let to = if SUSPENSION_ENDS.hit(rng) {
        Some(plus(from, rng.gen_range(30..=180))).filter(|d| *d <= LAST_DAY)
    } else {
        None
    };
    write_period(files, RegistryFile::Suspensions, p, reason, from, to)
}

pub(super) fn write_period(
    files: &mut Files,
    file: RegistryFile,
    p: &Person,
    kind: impl std::fmt::Display,
    from: NaiveDate,
    to: Option<NaiveDate>,
) -> anyhow::Result<()> {
    let row = vec![p.id.clone(), kind.to_string(), from.to_string(), text(to)];
    files.write(file, row)
}
