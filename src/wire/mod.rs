//! Wire formats: zero-copy frame views and representations, no state and no decisions.
