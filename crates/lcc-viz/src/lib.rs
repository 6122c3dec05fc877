//! `lcc-viz`: interaction diagrams (DOT/SVG) from the typed IR. Empty until issue 5.
