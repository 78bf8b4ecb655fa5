//! 834 files back into [`Enrollment`]s: ours, and other senders' — what the model does not
//! hold is kept as text on the member ([`Member::unmodelled`]), never dropped.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use super::{Address, Coverage, Enrollment, Gender, Maintenance, Member, Party, PersonName, Purpose, Relationship};
use crate::x12::{self, Delimiters, Limits, Segment, Transaction, X12Error};

/// Reads every 834 transaction set in `input` (an interchange, envelopes checked).
///
/// # Errors
/// An [`X12Error`] naming the segment (its position in the file) and element that could not be
/// read: a broken envelope, a missing `BGN`, `INS` or `NM1`, an unknown maintenance code, a date
/// that is not a date.
pub fn read(input: &[u8], limits: &Limits) -> Result<Vec<Enrollment>, X12Error> {
    let interchange = x12::read(input, limits)?;
    let envelope = x12::open(&interchange)?;
    let mut out = Vec::new();
    for group in &envelope.groups {
        for tx in group.transactions.iter().filter(|t| t.set_id == "834") {
            out.push(transaction(tx)?);
        }
    }
    Ok(out)
}

/// One 834 transaction set's body into an [`Enrollment`].
///
/// # Errors
/// As [`read`].
pub fn transaction(tx: &Transaction) -> Result<Enrollment, X12Error> {
    let mut e = Enrollment::default();
    let mut segments = tx.body.iter().enumerate().map(|(i, s)| (tx.position + 1 + i, s)).peekable();
    let Some((at, bgn)) = segments.next().filter(|(_, s)| s.id() == "BGN") else {
        return Err(X12Error::at(tx.position + 1, "BGN", "an 834 starts with BGN after its ST"));
    };
    e.reference = bgn.element(2).to_owned();
    e.created = NaiveDateTime::new(date(bgn, at, 3)?, time(bgn, at, 4)?);
    e.purpose = Purpose::from_code(bgn.element(8))
        .ok_or_else(|| X12Error::at(at, "BGN", format!("{:?} is not 2, 4 or RX", bgn.element(8))).element(8))?;
    let mut member: Option<Member> = None;
    let mut in_name = false;
    for (at, s) in segments {
        let Some(m) = member.as_mut() else {
            match (s.id(), s.element(1)) {
                ("REF", "38") => e.master_policy = Some(s.element(2).to_owned()),
                ("DTP", "007") => e.effective = Some(date(s, at, 3)?),
                ("QTY", _) | ("DTP", _) => {}
                ("N1", "P5") => e.sponsor = party(s),
                ("N1", "IN") => e.insurer = party(s),
                ("INS", _) => {
                    member = Some(ins(s, at)?);
                    in_name = false;
                }
                _ => {}
            }
            continue;
        };
        match (s.id(), s.element(1)) {
            ("INS", _) => {
                e.members.extend(member.replace(ins(s, at)?));
                in_name = false;
            }
            ("REF", "0F") if m.coverages.is_empty() => m.subscriber_id = s.element(2).to_owned(),
            ("REF", "1L") if m.coverages.is_empty() => m.policy = Some(s.element(2).to_owned()),
            ("REF", q) if m.coverages.is_empty() && !in_name => {
                m.references.push((q.to_owned(), s.element(2).to_owned()))
            }
            ("DTP", q) if m.coverages.is_empty() && !in_name => {
                let d = date(s, at, 3)?;
                let dates = &mut m.dates;
                match q {
                    "303" => dates.maintenance_effective = Some(d),
                    "336" => dates.hired = Some(d),
                    "337" => dates.employment_ended = Some(d),
                    "356" => dates.eligibility_begins = Some(d),
                    "357" => dates.eligibility_ends = Some(d),
                    other => m.other_dates.push((other.to_owned(), d)),
                }
            }
            ("NM1", "IL") if m.coverages.is_empty() => {
                in_name = true;
                m.name = PersonName {
                    last: s.element(3).to_owned(),
                    first: s.element(4).to_owned(),
                    middle: s.get(5).map(str::to_owned),
                };
                m.national_id = (s.element(8) == "34").then(|| s.element(9).to_owned());
            }
            ("PER", "IP") if in_name && m.coverages.is_empty() => {
                for pair in [3, 5, 7] {
                    match s.element(pair) {
                        "EM" => m.email = s.get(pair + 1).map(str::to_owned),
                        "HP" | "TE" | "WP" | "CP" if m.phone.is_none() => m.phone = s.get(pair + 1).map(str::to_owned),
                        _ => {}
                    }
                }
            }
            ("N3", _) if in_name && m.coverages.is_empty() => {
                m.address = Some(Address {
                    line1: s.element(1).to_owned(),
                    line2: s.get(2).map(str::to_owned),
                    ..Address::default()
                });
            }
            ("N4", _) if in_name && m.coverages.is_empty() => {
                let a = m.address.get_or_insert_with(Address::default);
                a.city = s.element(1).to_owned();
                a.region = s.get(2).map(str::to_owned);
                a.postal_code = s.get(3).map(str::to_owned);
                a.country = s.get(4).map(str::to_owned);
            }
            ("DMG", _) if in_name && m.coverages.is_empty() => {
                if s.element(1) == "D8" {
                    m.birth_date = Some(date(s, at, 2)?);
                }
                m.gender = match s.element(3) {
                    "F" => Gender::Female,
                    "M" => Gender::Male,
                    _ => Gender::Unknown,
                };
                m.marital_status = s.get(4).map(str::to_owned);
            }
            ("HD", _) => {
                in_name = false;
                m.coverages.push(Coverage {
                    maintenance: maintenance(s, at, 1)?,
                    line: s.element(3).to_owned(),
                    plan: s.get(4).map(str::to_owned),
                    tier: s.get(5).map(str::to_owned),
                    ..Coverage::default()
                });
            }
            ("DTP", q) if m.coverages.last().is_some_and(|c| c.unmodelled.is_empty()) => {
                let d = date(s, at, 3)?;
                let Some(coverage) = m.coverages.last_mut() else { continue };
                match q {
                    "348" => coverage.begins = Some(d),
                    "349" => coverage.ends = Some(d),
                    "303" => coverage.maintenance_effective = Some(d),
                    _ => coverage.unmodelled.push(text(s)),
                }
            }
            _ => match m.coverages.last_mut() {
                Some(coverage) => coverage.unmodelled.push(text(s)),
                None => m.unmodelled.push(text(s)),
            },
        }
    }
    e.members.extend(member);
    for (i, m) in e.members.iter().enumerate() {
        if m.subscriber_id.is_empty() {
            return Err(X12Error::new(format!("member {} has no REF*0F subscriber id", i + 1)));
        }
        if m.name.last.is_empty() {
            return Err(X12Error::new(format!("member {} ({}) has no NM1*IL name", i + 1, m.subscriber_id)));
        }
    }
    Ok(e)
}

fn ins(s: &Segment, at: usize) -> Result<Member, X12Error> {
    Ok(Member {
        relationship: Relationship::from_code(s.element(2)),
        maintenance: maintenance(s, at, 3)?,
        reason: s.get(4).map(str::to_owned),
        benefit_status: s.get(5).map(str::to_owned),
        medicare: s.get(6).map(str::to_owned),
        cobra_event: s.get(7).map(str::to_owned),
        employment_status: s.get(8).map(str::to_owned),
        student: s.get(9).map(str::to_owned),
        handicapped: s.get(10).map(str::to_owned),
        birth_sequence: s.get(17).map(str::to_owned),
        ..Member::default()
    })
}

fn party(s: &Segment) -> Party {
    Party { name: s.element(2).to_owned(), id_qualifier: s.element(3).to_owned(), id: s.element(4).to_owned() }
}

fn maintenance(s: &Segment, at: usize, n: usize) -> Result<Maintenance, X12Error> {
    Maintenance::from_code(s.element(n)).ok_or_else(|| {
        X12Error::at(at, s.id(), format!("{:?} is not a maintenance code (001, 021, 024, 025, 030)", s.element(n)))
            .element(n)
    })
}

fn date(s: &Segment, at: usize, n: usize) -> Result<NaiveDate, X12Error> {
    let v = s.element(n);
    NaiveDate::parse_from_str(v, "%Y%m%d")
        .ok()
        .filter(|_| v.len() == 8)
        .ok_or_else(|| X12Error::at(at, s.id(), format!("{v:?} is not a CCYYMMDD date")).element(n))
}

fn time(s: &Segment, at: usize, n: usize) -> Result<NaiveTime, X12Error> {
    let v = s.element(n);
    let parsed = match v.len() {
        4 => NaiveTime::parse_from_str(v, "%H%M").ok(),
        6 => NaiveTime::parse_from_str(v, "%H%M%S").ok(),
        _ => None,
    };
    parsed.ok_or_else(|| X12Error::at(at, s.id(), format!("{v:?} is not an HHMM time")).element(n))
}

/// A segment as text with the default delimiters (for what the model does not hold).
fn text(s: &Segment) -> String {
    let mut out = String::new();
    match crate::x12::write(std::slice::from_ref(s), &Delimiters::default()) {
        Ok(t) => out.push_str(t.trim_end()),
        // A value holding `*`, `:` or `~` (read with other delimiters): kept readable all the same.
        Err(_) => {
            out.push_str(s.id());
            for n in 1..=s.len() {
                out.push('*');
                out.push_str(&s.components(n).join(":"));
            }
            out.push('~');
        }
    }
    out
}
