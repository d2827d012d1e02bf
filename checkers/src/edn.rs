//! Jepsen EDN reader (being written).
