//! The calendar contract (`integration_testkit::contract::calendar`), passed by every adapter:
//! CalDAV against the real Radicale, Google Calendar against the testkit's
//! `FakeGoogleCalendar`, Microsoft Graph against its `FakeGraphCalendar`.

#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use async_trait::async_trait;
use integration_calendar::Calendar;
use integration_core::{BuildContext, ConnectionId, Domain, IntegrationConfig, ProviderId, TenantId};
use integration_testkit::contract::calendar::CalendarFixture;
use integration_testkit::fake::google_calendar::{FakeGoogleCalendar, PRIMARY};
use integration_testkit::fake::graph_calendar::{DEFAULT_CALENDAR, FakeGraphCalendar};
use integration_testkit::peers::Radicale;

fn ids() -> (TenantId, ConnectionId) {
    (TenantId::new("acme").expect("tenant"), ConnectionId::new("calendar").expect("connection"))
}

struct CalDavFixture {
    radicale: Radicale,
    adapter: Arc<dyn Calendar>,
}

#[async_trait]
impl CalendarFixture for CalDavFixture {
    async fn start() -> Option<Self> {
        let radicale = Radicale::start()?;
        let (tenant, connection) = ids();
        let config = IntegrationConfig::new(tenant, connection, Domain::Calendar, ProviderId::new("caldav").ok()?)
            .with_setting("base_url", radicale.url())
            .with_setting("username", Radicale::USER.0)
            .with_secret("password", Radicale::USER.1);
        let adapter = integration_calendar::build(&config, &BuildContext::default()).expect("the typed build");
        Some(Self { radicale, adapter })
    }

    fn calendar(&self) -> Arc<dyn Calendar> {
        self.adapter.clone()
    }

    async fn writable(&self) -> String {
        self.radicale.make_calendar(Radicale::USER, "contract", "Contract").await
    }
}

/// A fixture for an adapter against one of the testkit's OAuth fakes: `$fake` started, the
/// adapter built from its configuration, `$writable` the calendar the contract writes to.
macro_rules! fake_fixture {
    ($name:ident, $fake:ty, $writable:expr) => {
        struct $name {
            _fake: $fake,
            adapter: Arc<dyn Calendar>,
        }

        #[async_trait]
        impl CalendarFixture for $name {
            async fn start() -> Option<Self> {
                let fake = <$fake>::start().await;
                let (tenant, connection) = ids();
                let config = fake.config(tenant, connection);
                let adapter = integration_calendar::build(&config, &BuildContext::default()).expect("built");
                Some(Self { _fake: fake, adapter })
            }

            fn calendar(&self) -> Arc<dyn Calendar> {
                self.adapter.clone()
            }

            async fn writable(&self) -> String {
                $writable.to_owned()
            }
        }
    };
}

fake_fixture!(GoogleFixture, FakeGoogleCalendar, PRIMARY);
fake_fixture!(GraphFixture, FakeGraphCalendar, DEFAULT_CALENDAR);

fn main() -> std::process::ExitCode {
    use integration_testkit::calendar_contract_suite as suite;
    use integration_testkit::harness::{self, Need};
    harness::run_groups(vec![
        (vec![Need::python("radicale")], suite!(trials "caldav", CalDavFixture)),
        (vec![], suite!(trials "google", GoogleFixture)),
        (vec![], suite!(trials "microsoft", GraphFixture)),
    ])
}
