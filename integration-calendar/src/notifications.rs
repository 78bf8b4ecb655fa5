//! Push notifications of changed events — Google Calendar's watch channels, Microsoft Graph's
//! subscriptions — kept alive:
//! a channel is renewed before it expires, and one that lapsed is made again and named, so the
//! host fills the gap with an incremental sync (a notification carries no data: what changed
//! is always read by the sync).

use chrono::{DateTime, Duration, Utc};
use integration_core::domain::OperationKey;
use integration_core::{ErrorKind, Result};
use serde::{Deserialize, Serialize};

use crate::calendar::Calendar;

/// A channel watching one calendar's events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Channel {
    /// The channel's id (ours).
    pub id: String,
    /// The provider's id for what it watches (needed to stop it).
    pub resource_id: String,
    /// The calendar watched.
    pub calendar_id: String,
    /// When the provider stops sending.
    pub expires_at: Option<DateTime<Utc>>,
}

/// What [`renew`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Renewal {
    /// The channels to keep: those not due, and the new ones.
    pub channels: Vec<Channel>,
    /// Calendars whose channel had lapsed before it was renewed: notifications may have been
    /// missed, so sync their events.
    pub lapsed: Vec<String>,
}

/// A fresh channel id for `calendar_id` at `now`: a digest, at most 64 characters of
/// `[0-9a-f]` (what Google accepts).
pub fn channel_id(calendar_id: &str, now: DateTime<Utc>) -> Result<String> {
    let nanos = now.timestamp_nanos_opt().unwrap_or_default();
    Ok(OperationKey::new(format!("channel {calendar_id} {nanos}"))?.for_provider(64))
}

/// Renews the channels of `channels` that expire within `margin` of `now`: each is extended in
/// place where the provider can ([`Calendar::renew_watch`]: Graph subscriptions), else made
/// again (`address`, `token`, for `ttl`) before the old one is stopped, so no change falls
/// between them; one already expired is made again and its calendar named in
/// [`Renewal::lapsed`].
///
/// # Errors
/// The provider's error for a channel it would not make (the channels renewed so far are
/// lost with it: call again).
pub async fn renew(
    calendar: &(dyn Calendar + 'static),
    channels: Vec<Channel>,
    (address, token, ttl): (&str, &str, Duration),
    now: DateTime<Utc>,
    margin: Duration,
) -> Result<Renewal> {
    let mut out = Renewal::default();
    for channel in channels {
        let due = channel.expires_at.is_none_or(|at| at <= now + margin);
        if !due {
            out.channels.push(channel);
            continue;
        }
        let lapsed = channel.expires_at.is_none_or(|at| at <= now);
        if lapsed {
            out.lapsed.push(channel.calendar_id.clone());
        } else {
            match calendar.renew_watch(&channel, ttl).await {
                Ok(renewed) => {
                    out.channels.push(renewed);
                    continue;
                }
                Err(e) if matches!(e.kind(), ErrorKind::Unsupported | ErrorKind::NotFound) => {}
                Err(e) => return Err(e),
            }
        }
        let fresh = calendar.watch(&channel.calendar_id, address, token, ttl).await?;
        match calendar.stop_watching(&channel).await {
            Ok(()) => {}
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) => {
                tracing::warn!(channel = %channel.id, error = %e, "an old channel could not be stopped; it lapses on its own")
            }
        }
        out.channels.push(fresh);
    }
    Ok(out)
}
