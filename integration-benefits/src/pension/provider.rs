//! The [`Pension`] trait: one connection to a pension provider.

use std::sync::Arc;

use integration_core::{Integration, Result};

use super::{ConfirmationLayout, ContributionRun, FileLayout, PensionConfirmations};
use crate::delivery::DropBox;

/// One connection to a pension provider: its file format, its confirmation format, its drop
/// box.
pub trait Pension: Integration {
    /// The provider's contribution file format.
    fn layout(&self) -> &FileLayout;

    /// How the provider's confirmation files read.
    fn confirmations(&self) -> &ConfirmationLayout;

    /// The provider's drop box.
    fn drop_box(&self) -> Arc<dyn DropBox>;

    /// The file for `run`, numbered `control`: its name and contents. Stage it with the
    /// [`Outbox`](crate::delivery::Outbox).
    ///
    /// # Errors
    /// A line that does not resolve (see [`ContributionLine::resolve`](super::ContributionLine::resolve)).
    fn contributions(&self, run: &ContributionRun, control: u32) -> Result<(String, String)> {
        let employer: String = run.plan.employer_id.chars().filter(char::is_ascii_alphanumeric).collect();
        let name = format!("{employer}_{}_{control:09}.csv", run.period_end.format("%Y%m%d"));
        Ok((name, self.layout().render(run)?))
    }

    /// The confirmations as the outbox's answers.
    fn answer_reader(&self) -> PensionConfirmations {
        PensionConfirmations { layout: self.confirmations().clone() }
    }
}
