//! `lcc-runtime`: bytecode VM, constraint ABI, agents. Empty until issue 7.
