//! The event loops that replace asyncio's own under CPython's asyncio library: what each
//! does differently (phases, stop, clock, timer order, exception handling), each rule
//! citing its clause in `specs/uvloop/` or `specs/rloop/`.

pub mod rloop;
pub mod uvloop;
