//! ASC X12 interchanges: a tolerant reader, a writer that refuses what it cannot write, the
//! ISA / GS / ST envelopes with their counts and control numbers, and the TA1 and 999
//! acknowledgements a receiver answers with.
//!
//! ```
//! use integration_benefits::x12::{self, Delimiters, Segment};
//!
//! let text = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       \
//!             *260101*1200*^*00501*000000001*0*P*:~GS*BE*S*R*20260101*1200*1*X*005010X220A1~\
//!             ST*834*0001*005010X220A1~BGN*00*1*20260101*1200****2~SE*3*0001~GE*1*1~IEA*1*000000001~";
//! let interchange = x12::read(text.as_bytes(), &x12::Limits::default())?;
//! assert_eq!(interchange.delimiters, Delimiters::default());
//! let bgn = &interchange.segments[3];
//! assert_eq!((bgn.id(), bgn.element(8)), ("BGN", "2"));
//!
//! // Written back with other delimiters (the ISA declaring them), then read again: the same segments.
//! let pipes = Delimiters { element: '|', sub_element: '>', segment: '\n', repetition: None };
//! let written = x12::write(&interchange.segments, &pipes)?;
//! let reread = x12::read(written.as_bytes(), &x12::Limits::default())?;
//! assert_eq!(reread.delimiters, pipes);
//! assert_eq!(reread.segments[1..], interchange.segments[1..]);
//! # Ok::<(), x12::X12Error>(())
//! ```

mod ack;
mod control;
mod delimiters;
mod envelope;
mod error;
mod read;
mod segment;
mod write;

pub use ack::{
    AckStatus, ElementNote, FunctionalAck, InterchangeAck, SegmentNote, TransactionAck, element_error_text,
    segment_error_text,
};
pub use control::{ControlNumbers, StoredControlNumbers};
pub use delimiters::Delimiters;
pub use envelope::{Envelope, Group, GroupHeader, InterchangeHeader, Transaction, Usage, envelope, open};
pub use error::X12Error;
pub(crate) use read::segment_from_text;
pub use read::{Interchange, Limits, read};
pub use segment::Segment;
pub use write::write;
