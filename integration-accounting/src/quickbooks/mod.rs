//! QuickBooks Online (in progress).
