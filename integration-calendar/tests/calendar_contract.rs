//! The calendar contract (`integration_testkit::contract::calendar`), passed by both adapters:
//! CalDAV against the real Radicale, Google Calendar against the testkit's
//! `FakeGoogleCalendar`.

use std::sync::Arc;

use async_trait::async_trait;
use integration_calendar::Calendar;
use integration_core::{BuildContext, ConnectionId, Domain, IntegrationConfig, ProviderId, TenantId};
use integration_testkit::contract::calendar::CalendarFixture;
use integration_testkit::fake::google_calendar::{FakeGoogleCalendar, PRIMARY};
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

mod caldav {
    integration_testkit::calendar_contract_suite!(super::CalDavFixture);
}

struct GoogleFixture {
    _fake: FakeGoogleCalendar,
    adapter: Arc<dyn Calendar>,
}

#[async_trait]
impl CalendarFixture for GoogleFixture {
    async fn start() -> Option<Self> {
        let fake = FakeGoogleCalendar::start().await;
        let (tenant, connection) = ids();
        let adapter =
            integration_calendar::build(&fake.config(tenant, connection), &BuildContext::default()).expect("built");
        Some(Self { _fake: fake, adapter })
    }

    fn calendar(&self) -> Arc<dyn Calendar> {
        self.adapter.clone()
    }

    async fn writable(&self) -> String {
        PRIMARY.to_owned()
    }
}

mod google {
    integration_testkit::calendar_contract_suite!(super::GoogleFixture);
}
