//! CPU topology (placeholder, being written).
