//! Insurance and pension carriers: benefit enrollment as EDI X12 834 files, their TA1 and 999
//! acknowledgements, carrier profiles, SFTP delivery sent exactly once, and pension
//! contribution files.

#![cfg_attr(docsrs, feature(doc_cfg))]

#[cfg(feature = "sftp")]
#[cfg_attr(docsrs, doc(cfg(feature = "sftp")))]
pub mod adapters;
pub mod delivery;
pub mod enrollment;
pub mod insurance;
pub mod pension;
pub mod x12;
