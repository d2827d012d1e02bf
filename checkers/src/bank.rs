//! Bank checker (being written).
