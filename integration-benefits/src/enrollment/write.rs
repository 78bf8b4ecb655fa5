//! An [`Enrollment`] to 834 segments, checked against the implementation guide and the
//! carrier's profile first — so what the carrier would reject is refused here, naming the
//! member and the element.

use chrono::{NaiveDate, NaiveDateTime};
use unicode_normalization::UnicodeNormalization;

use super::{CarrierProfile, Enrollment, Maintenance, Member, Purpose, Relationship, Sender};
use crate::x12::{self, Delimiters, GroupHeader, InterchangeHeader, Segment, X12Error};

/// `HD03` insurance lines the guide allows.
const LINES: &[&str] = &[
    "AG", "AH", "AJ", "AK", "DCP", "DEN", "EPO", "FAC", "HE", "HLT", "HMO", "LTC", "LTD", "MM", "MOD", "PDG", "POS",
    "PPO", "PRA", "STD", "UR", "VIS",
];
/// `HD05` coverage tiers the guide allows.
const TIERS: &[&str] = &[
    "CHD", "DEP", "E1D", "E2D", "E3D", "E5D", "E6D", "E7D", "E8D", "E9D", "ECH", "EMP", "ESP", "FAM", "IND", "SPC",
    "SPO", "TWO",
];
/// `INS08` employment statuses the guide allows.
const EMPLOYMENT: &[&str] = &["AC", "AO", "AU", "FT", "L1", "PT", "RT", "TE"];
/// `INS05` benefit statuses.
const BENEFIT_STATUS: &[&str] = &["A", "C", "S", "T"];
/// `INS02` relationship codes.
const RELATIONSHIPS: &[&str] = &[
    "01", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13", "14", "15", "16", "17", "18", "19", "23",
    "24", "25", "26", "31", "38", "53", "60", "D2", "G8", "G9",
];
/// Member `REF` qualifiers besides `0F` and `1L`.
const MEMBER_REFERENCES: &[&str] = &["17", "23", "3H", "4A", "6O", "ABB", "D3", "DX", "F6", "P5", "Q4", "QQ", "ZZ"];

/// The body (between `ST` and `SE`) of the 834 for `enrollment`, following `profile`.
///
/// # Errors
/// An [`X12Error`] naming the segment and element (and, in its message, the member) that the
/// guide or the profile would refuse: a missing subscriber id or name, a code outside the
/// guide's list, a value too long, a character X12 cannot carry, a coverage with no date.
pub fn body(enrollment: &Enrollment, profile: &CarrierProfile) -> Result<Vec<Segment>, X12Error> {
    if let Some(max) = profile.max_members.filter(|max| enrollment.members.len() > *max) {
        return Err(X12Error::new(format!(
            "{} members, above the {max} {} takes in one file: split the batch",
            enrollment.members.len(),
            profile.carrier
        )));
    }
    let t = Text { uppercase: profile.uppercase };
    let mut out = Vec::with_capacity(8 + enrollment.members.len() * 12);
    out.push(
        Segment::new("BGN")
            .el("00")
            .el(t.id("BGN", 2, &enrollment.reference, 50, "the file's reference")?)
            .el(enrollment.created.format("%Y%m%d").to_string())
            .el(enrollment.created.format("%H%M").to_string())
            .el("")
            .el("")
            .el("")
            .el(enrollment.purpose.code()),
    );
    if let Some(policy) = &enrollment.master_policy {
        out.push(Segment::new("REF").el("38").el(t.id("REF", 2, policy, 50, "the master policy")?));
    }
    if let Some(date) = enrollment.effective {
        out.push(dtp("007", date));
    }
    if enrollment.purpose != Purpose::Changes && profile.counts_in_full_files {
        let employees = enrollment.members.iter().filter(|m| m.relationship == Relationship::Subscriber).count();
        let all = enrollment.members.len();
        out.push(Segment::new("QTY").el("ET").el(employees.to_string()));
        out.push(Segment::new("QTY").el("DT").el((all - employees).to_string()));
        out.push(Segment::new("QTY").el("TO").el(all.to_string()));
    }
    for (id, party, qualifiers) in
        [("P5", &enrollment.sponsor, &["FI", "24", "94"]), ("IN", &enrollment.insurer, &["FI", "94", "XV"])]
    {
        if !qualifiers.contains(&party.id_qualifier.as_str()) {
            return Err(X12Error::in_segment(
                "N1",
                format!("N1*{id}: the id qualifier {:?} is not one of {qualifiers:?}", party.id_qualifier),
            )
            .element(3));
        }
        let name = t.text("N1", 2, &party.name, 60, "the party's name")?;
        let party_id = t.id("N1", 4, &party.id, 80, "the party's id")?;
        if party_id.len() < 2 {
            return Err(X12Error::in_segment(
                "N1",
                format!("N1*{id}: the id {party_id:?} is shorter than 2 characters"),
            )
            .element(4));
        }
        out.push(Segment::new("N1").el(id).el(name).el(&party.id_qualifier).el(party_id));
    }
    for (i, member) in enrollment.members.iter().enumerate() {
        member_segments(&mut out, member, i + 1, profile, &t)?;
    }
    Ok(out)
}

/// The whole interchange for `enrollment` — `ISA` to `IEA`, one group, one transaction set —
/// as text, with interchange and group control number `control`, written at `at`.
///
/// # Errors
/// As [`body`], and an [`X12Error`] when the sender's or carrier's ids do not fit the `ISA`.
pub fn interchange(
    enrollment: &Enrollment,
    sender: &Sender,
    profile: &CarrierProfile,
    control: u32,
    at: NaiveDateTime,
) -> Result<String, X12Error> {
    let header = InterchangeHeader {
        sender_qualifier: sender.qualifier.clone(),
        sender_id: sender.id.clone(),
        receiver_qualifier: profile.receiver_qualifier.clone(),
        receiver_id: profile.receiver_id.clone(),
        ack_requested: profile.ack_requested,
        usage: profile.usage,
    };
    let group = GroupHeader::enrollment(&sender.application_sender, &profile.application_receiver);
    let segments =
        x12::envelope(&header, &group, control, control, at, &profile.delimiters, &[body(enrollment, profile)?])?;
    x12::write(&segments, &profile.delimiters)
}

fn member_segments(
    out: &mut Vec<Segment>,
    m: &Member,
    n: usize,
    profile: &CarrierProfile,
    t: &Text,
) -> Result<(), X12Error> {
    let who = format!("member {n} (subscriber {:?}, relationship {})", m.subscriber_id, m.relationship.code());
    let fail = |segment: &str, element: usize, what: String| {
        X12Error::in_segment(segment, format!("{who}: {what}")).element(element)
    };
    let in_list = |segment: &str, element: usize, value: &str, list: &[&str], what: &str| {
        if list.contains(&value) {
            Ok(value.to_owned())
        } else {
            Err(fail(segment, element, format!("{what} {value:?} is not one of the guide's codes {list:?}")))
        }
    };
    let rel = in_list("INS", 2, m.relationship.code(), RELATIONSHIPS, "the relationship")?;
    let reason = m.reason.clone().unwrap_or_else(|| profile.reasons.for_maintenance(m.maintenance).to_owned());
    let status = in_list("INS", 5, m.benefit_status.as_deref().unwrap_or("A"), BENEFIT_STATUS, "the benefit status")?;
    let employment = match &m.employment_status {
        Some(s) => in_list("INS", 8, s, EMPLOYMENT, "the employment status")?,
        None => String::new(),
    };
    let subscriber = m.relationship == Relationship::Subscriber;
    out.push(
        Segment::new("INS")
            .el(if subscriber { "Y" } else { "N" })
            .el(rel)
            .el(m.maintenance.code())
            .el(t.id("INS", 4, &reason, 3, "the reason").map_err(|e| fail("INS", 4, e.message))?)
            .el(status)
            .opt(m.medicare.as_deref())
            .opt(m.cobra_event.as_deref())
            .el(employment)
            .opt(m.student.as_deref())
            .opt(m.handicapped.as_deref())
            .el("")
            .el("")
            .el("")
            .el("")
            .el("")
            .el("")
            .opt(m.birth_sequence.as_deref()),
    );
    if m.subscriber_id.trim().is_empty() {
        return Err(fail("REF", 2, "no subscriber id (REF*0F is required on every member)".into()));
    }
    out.push(
        Segment::new("REF")
            .el("0F")
            .el(t.id("REF", 2, &m.subscriber_id, 50, "the subscriber id").map_err(|e| fail("REF", 2, e.message))?),
    );
    if let Some(policy) = &m.policy {
        out.push(
            Segment::new("REF")
                .el("1L")
                .el(t.id("REF", 2, policy, 50, "the policy").map_err(|e| fail("REF", 2, e.message))?),
        );
    }
    for (qualifier, value) in &m.references {
        in_list("REF", 1, qualifier, MEMBER_REFERENCES, "the reference qualifier")?;
        out.push(
            Segment::new("REF")
                .el(qualifier)
                .el(t.id("REF", 2, value, 50, "the reference").map_err(|e| fail("REF", 2, e.message))?),
        );
    }
    for required in &profile.member_references {
        let present = (required == "1L" && m.policy.is_some()) || m.references.iter().any(|(q, _)| q == required);
        if !present {
            return Err(fail("REF", 1, format!("{} asks for REF*{required} on every member", profile.carrier)));
        }
    }
    let d = &m.dates;
    for (q, date) in [
        ("303", d.maintenance_effective),
        ("336", d.hired),
        ("337", d.employment_ended),
        ("356", d.eligibility_begins),
        ("357", d.eligibility_ends),
    ] {
        if let Some(date) = date {
            out.push(dtp(q, date));
        }
    }
    for (q, date) in &m.other_dates {
        out.push(dtp(q, *date));
    }
    let last = t.text("NM1", 3, &m.name.last, 60, "the last name").map_err(|e| fail("NM1", 3, e.message))?;
    if last.is_empty() {
        return Err(fail("NM1", 3, "no last name".into()));
    }
    let mut nm1 = Segment::new("NM1")
        .el("IL")
        .el("1")
        .el(last)
        .el(t.text("NM1", 4, &m.name.first, 35, "the first name").map_err(|e| fail("NM1", 4, e.message))?)
        .el(match &m.name.middle {
            Some(mid) => t.text("NM1", 5, mid, 25, "the middle name").map_err(|e| fail("NM1", 5, e.message))?,
            None => String::new(),
        });
    match &m.national_id {
        Some(id) => {
            nm1 = nm1
                .el("")
                .el("")
                .el("34")
                .el(t.id("NM1", 9, id, 80, "the national id").map_err(|e| fail("NM1", 9, e.message))?);
        }
        None if profile.require_national_id => {
            return Err(fail("NM1", 9, format!("{} asks for a national id on every member", profile.carrier)));
        }
        None => {}
    }
    out.push(nm1);
    let mut contacts = Vec::new();
    if let Some(phone) = &m.phone {
        let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
        if digits.len() < 7 {
            return Err(fail("PER", 4, format!("the phone number {phone:?} has fewer than 7 digits")));
        }
        contacts.push(("HP", digits));
    }
    if let Some(email) = &m.email {
        contacts.push(("EM", t.id("PER", 6, email, 256, "the email").map_err(|e| fail("PER", 4, e.message))?));
    }
    if !contacts.is_empty() {
        let per = contacts.into_iter().fold(Segment::new("PER").el("IP").el(""), |s, (q, v)| s.el(q).el(v));
        out.push(per);
    }
    match &m.address {
        Some(a) => {
            let mut n3 = Segment::new("N3")
                .el(t.text("N3", 1, &a.line1, 55, "the address").map_err(|e| fail("N3", 1, e.message))?);
            if let Some(line2) = &a.line2 {
                n3 = n3.el(t.text("N3", 2, line2, 55, "the address").map_err(|e| fail("N3", 2, e.message))?);
            }
            out.push(n3);
            let postal = a.postal_code.as_deref().map(|p| p.chars().filter(|c| !c.is_whitespace()).collect::<String>());
            out.push(
                Segment::new("N4")
                    .el(t.text("N4", 1, &a.city, 30, "the city").map_err(|e| fail("N4", 1, e.message))?)
                    .opt(a.region.as_deref().map(str::to_uppercase))
                    .opt(postal.map(|p| p.to_uppercase()))
                    .opt(a.country.as_deref().filter(|c| *c != "US").map(str::to_uppercase)),
            );
        }
        None if subscriber && profile.require_subscriber_address => {
            return Err(fail("N3", 1, format!("{} asks for the subscriber's address", profile.carrier)));
        }
        None => {}
    }
    match m.birth_date {
        Some(born) => out.push(
            Segment::new("DMG")
                .el("D8")
                .el(born.format("%Y%m%d").to_string())
                .el(m.gender.code())
                .opt(m.marital_status.as_deref()),
        ),
        None if profile.require_birth_date && m.maintenance != Maintenance::Terminate => {
            return Err(fail("DMG", 2, format!("{} asks for every member's birth date", profile.carrier)));
        }
        None => {}
    }
    unmodelled(out, &m.unmodelled).map_err(|e| X12Error { message: format!("{who}: {}", e.message), ..e })?;
    for (c, coverage) in m.coverages.iter().enumerate() {
        let which = format!("coverage {} ({})", c + 1, coverage.line);
        let line = in_list("HD", 3, &coverage.line, LINES, &format!("{which}: the insurance line"))?;
        let tier = match &coverage.tier {
            Some(tier) => in_list("HD", 5, tier, TIERS, &format!("{which}: the tier"))?,
            None => String::new(),
        };
        let plan = match &coverage.plan {
            Some(p) => {
                t.text("HD", 4, p, 50, "the plan").map_err(|e| fail("HD", 4, format!("{which}: {}", e.message)))?
            }
            None => String::new(),
        };
        out.push(Segment::new("HD").el(coverage.maintenance.code()).el("").el(line).el(plan).el(tier));
        let dates: Vec<_> = [("348", coverage.begins), ("349", coverage.ends), ("303", coverage.maintenance_effective)]
            .into_iter()
            .filter_map(|(q, d)| d.map(|d| dtp(q, d)))
            .collect();
        if dates.is_empty() {
            return Err(fail(
                "DTP",
                3,
                format!(
                    "{which} has no date: the 834 needs its benefit begin (348), end (349) or maintenance date (303)"
                ),
            ));
        }
        out.extend(dates);
        unmodelled(out, &coverage.unmodelled)
            .map_err(|e| X12Error { message: format!("{who}: {}", e.message), ..e })?;
    }
    Ok(())
}

/// Segments kept as text (read from another sender's file), parsed back with the default
/// delimiters they were written with.
fn unmodelled(out: &mut Vec<Segment>, segments: &[String]) -> Result<(), X12Error> {
    for text in segments {
        out.push(crate::x12::segment_from_text(text, &Delimiters::default())?);
    }
    Ok(())
}

fn dtp(qualifier: &str, date: NaiveDate) -> Segment {
    Segment::new("DTP").el(qualifier).el("D8").el(date.format("%Y%m%d").to_string())
}

/// Turns what people type into what X12 carries: accents taken off (`É` → `E`), a few letters
/// spelled out (`ß` → `SS`), blanks collapsed, capitals when the carrier wants them.
struct Text {
    uppercase: bool,
}

impl Text {
    /// A name or address: normalized as above; anything else non-ASCII is refused.
    fn text(&self, segment: &str, element: usize, value: &str, max: usize, what: &str) -> Result<String, X12Error> {
        let mut out = String::with_capacity(value.len());
        for c in value.nfkd() {
            match c {
                c if unicode_normalization::char::is_combining_mark(c) => {}
                c if c.is_ascii() => out.push(c),
                'ß' => out.push_str("ss"),
                'æ' => out.push_str("ae"),
                'Æ' => out.push_str("AE"),
                'œ' => out.push_str("oe"),
                'Œ' => out.push_str("OE"),
                'ø' => out.push('o'),
                'Ø' => out.push('O'),
                'ł' => out.push('l'),
                'Ł' => out.push('L'),
                'đ' => out.push('d'),
                'Đ' => out.push('D'),
                '\u{2019}' | '\u{2018}' => out.push('\''),
                '\u{2013}' | '\u{2014}' => out.push('-'),
                c if c.is_whitespace() => out.push(' '),
                other => {
                    return Err(X12Error::in_segment(
                        segment,
                        format!("{what} {value:?} holds {other:?}, which X12's character set cannot carry"),
                    )
                    .element(element));
                }
            }
        }
        let collapsed = out.split_whitespace().collect::<Vec<_>>().join(" ");
        let out = if self.uppercase { collapsed.to_uppercase() } else { collapsed };
        if out.chars().count() > max {
            return Err(X12Error::in_segment(segment, format!("{what} {value:?} is longer than {max} characters"))
                .element(element));
        }
        Ok(out)
    }

    /// An identifier: trimmed, never changed otherwise; anything non-ASCII refused.
    fn id(&self, segment: &str, element: usize, value: &str, max: usize, what: &str) -> Result<String, X12Error> {
        let v = value.trim();
        if let Some(c) = v.chars().find(|c| !c.is_ascii() || c.is_ascii_control()) {
            return Err(X12Error::in_segment(segment, format!("{what} {value:?} holds {c:?}")).element(element));
        }
        if v.len() > max {
            return Err(X12Error::in_segment(segment, format!("{what} {value:?} is longer than {max} characters"))
                .element(element));
        }
        Ok(v.to_owned())
    }
}
