//! What each adapter declares about reading ahead: the HRIS listings change nothing at the
//! provider, so the sync engine may read the next page while it writes one — except ADP's
//! employees, whose next page of changes deletes the queue message before it.

use integration_hris::Adapter;
use integration_hris::adp::Adp;
use integration_hris::bamboohr::BambooHr;
use integration_hris::workday::Workday;

fn read_ahead<A: Adapter>() -> Vec<(String, bool)> {
    let descriptor = A::describe().expect("a valid descriptor");
    descriptor.streams.iter().map(|s| (s.name.clone(), s.read_ahead)).collect()
}

#[test]
fn every_hris_stream_reads_ahead_but_adp_employees() {
    for (adapter, streams) in [("bamboohr", read_ahead::<BambooHr>()), ("workday", read_ahead::<Workday>())] {
        assert!(!streams.is_empty(), "{adapter}");
        assert!(streams.iter().all(|(_, ahead)| *ahead), "{adapter}: {streams:?}");
    }
    let adp = read_ahead::<Adp>();
    for (name, ahead) in &adp {
        assert_eq!(*ahead, name != "employees", "adp {name}: {adp:?}");
    }
    assert!(adp.iter().any(|(name, _)| name == "employees"), "{adp:?}");
}
