//! Path globs with real `**` semantics, for forbidden paths and include/exclude rules.
