//! The X12 reader and writer: what is written reads back the same with any delimiters; any
//! input gives segments or an error naming where, never a panic.

#![allow(clippy::unwrap_used)]

use integration_benefits::x12::{self, Delimiters, Limits, Segment, X12Error};
use proptest::prelude::*;

const ISA: &str =
    "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *260101*1200*^*00501*000000007*0*T*:~";

fn isa() -> Segment {
    x12::read(ISA.as_bytes(), &Limits::default()).expect("the ISA reads").segments.remove(0)
}

fn delimiters() -> impl Strategy<Value = Delimiters> {
    let pool: Vec<char> = "*|~:>^!#$%&+;<=?@\\`{}\n".chars().collect();
    proptest::sample::subsequence(pool, 4)
        .prop_shuffle()
        .prop_flat_map(|d| {
            let d = d.clone();
            any::<bool>().prop_map(move |with_repetition| Delimiters {
                element: d[0],
                sub_element: d[1],
                segment: d[2],
                repetition: with_repetition.then_some(d[3]),
            })
        })
        .prop_filter("usable delimiters", |d| d.check().is_ok())
}

fn value() -> impl Strategy<Value = String> {
    // Values X12 can carry: letters, digits, spaces inside, and punctuation none of the pools use.
    "[A-Z0-9][A-Za-z0-9 .,'()/-]{0,12}"
}

fn segments() -> impl Strategy<Value = Vec<Segment>> {
    let segment = ("[A-Z][A-Z0-9]{1,2}", proptest::collection::vec(proptest::collection::vec(value(), 1..3), 0..8))
        .prop_filter("not an envelope id", |(id, _)| id != "ISA")
        .prop_map(|(id, elements)| {
            elements.into_iter().fold(Segment::new(id), |s, components| {
                if components.len() == 1 { s.el(components[0].clone()) } else { s.composite(components) }
            })
        });
    proptest::collection::vec(segment, 0..20)
}

proptest! {
    #[test]
    fn what_is_written_reads_back_the_same(delimiters in delimiters(), body in segments()) {
        let mut all = vec![isa()];
        all.extend(body);
        let text = x12::write(&all, &delimiters).expect("safe values write");
        let read = x12::read(text.as_bytes(), &Limits::default()).expect("what we write reads");
        prop_assert_eq!(read.delimiters, delimiters);
        prop_assert_eq!(&read.segments[1..], &all[1..]);
        // ISA11 and ISA16 now declare the delimiters in use.
        prop_assert_eq!(read.segments[0].element(16), delimiters.sub_element.to_string());
    }

    #[test]
    fn any_bytes_give_segments_or_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = x12::read(&bytes, &Limits::default());
    }

    #[test]
    fn any_text_after_an_isa_gives_segments_or_an_error(tail in "[A-Z0-9*~:^\n ]{0,300}") {
        let text = format!("{ISA}{tail}");
        if let Ok(read) = x12::read(text.as_bytes(), &Limits::default()) {
            let _ = x12::open(&read);
        }
    }
}

#[test]
fn a_value_holding_a_delimiter_is_refused_naming_segment_and_element() {
    let segments = vec![isa(), Segment::new("NM1").el("IL").el("1").el("SMITH*JONES")];
    let e: X12Error = x12::write(&segments, &Delimiters::default()).unwrap_err();
    assert_eq!((e.position, e.segment.as_deref(), e.element), (Some(2), Some("NM1"), Some(3)));
    assert!(e.to_string().starts_with("segment 2 (NM1), element NM103:"), "{e}");
}

#[test]
fn line_breaks_a_bom_and_blanks_between_segments_are_tolerated() {
    let text = format!("\u{feff}\r\n{ISA}\r\nGS*BE*A*B*20260101*1200*7*X*005010X220A1~\r\n  ST*834*0001~\n\n");
    let read = x12::read(text.as_bytes(), &Limits::default()).unwrap();
    let ids: Vec<&str> = read.segments.iter().map(Segment::id).collect();
    assert_eq!(ids, ["ISA", "GS", "ST"]);
    assert_eq!(read.segments[1].element(8), "005010X220A1");
}

#[test]
fn a_segment_without_an_id_is_named_by_its_position() {
    let text = format!("{ISA}GS*BE~*oops~");
    let e = x12::read(text.as_bytes(), &Limits::default()).unwrap_err();
    assert!(e.message.starts_with("segment 3 has no segment id"), "{e}");
}

#[test]
fn a_file_not_starting_with_isa_says_what_it_starts_with() {
    let e = x12::read(b"<html>hello</html>", &Limits::default()).unwrap_err();
    assert!(e.to_string().contains("does not start with an ISA segment"), "{e}");
    assert!(e.to_string().contains("<html>"), "{e}");
}

#[test]
fn limits_bound_what_is_read() {
    let many = format!("{ISA}{}", "N4*X~".repeat(100));
    let limits = Limits { max_segments: 50, ..Limits::default() };
    let e = x12::read(many.as_bytes(), &limits).unwrap_err();
    assert!(e.message.contains("more than 50 segments"), "{e}");
    let e = x12::read(many.as_bytes(), &Limits { max_bytes: 10, ..Limits::default() }).unwrap_err();
    assert!(e.message.contains("above the limit"), "{e}");
}

#[test]
fn envelopes_are_checked_segment_by_segment() {
    let good = format!(
        "{ISA}GS*BE*A*B*20260101*1200*7*X*005010X220A1~ST*834*0001*005010X220A1~BGN*00*1~SE*3*0001~GE*1*7~IEA*1*000000007~"
    );
    let env = x12::open(&x12::read(good.as_bytes(), &Limits::default()).unwrap()).unwrap();
    assert_eq!(env.control, "000000007");
    assert_eq!(env.groups[0].transactions[0].body.len(), 1);

    let cases = [
        (good.replace("SE*3*0001", "SE*4*0001"), "SE", 1),
        (good.replace("SE*3*0001", "SE*3*0002"), "SE", 2),
        (good.replace("GE*1*7", "GE*2*7"), "GE", 1),
        (good.replace("GE*1*7", "GE*1*8"), "GE", 2),
        (good.replace("IEA*1*000000007", "IEA*1*000000008"), "IEA", 2),
    ];
    for (text, segment, element) in cases {
        let e = x12::open(&x12::read(text.as_bytes(), &Limits::default()).unwrap()).unwrap_err();
        assert_eq!((e.segment.as_deref(), e.element), (Some(segment), Some(element)), "{e}");
    }
    let truncated = good.replace("IEA*1*000000007~", "");
    let e = x12::open(&x12::read(truncated.as_bytes(), &Limits::default()).unwrap()).unwrap_err();
    assert!(e.message.contains("before its IEA"), "{e}");
}
