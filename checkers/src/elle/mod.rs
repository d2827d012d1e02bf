//! Elle-style isolation checker (being written).
