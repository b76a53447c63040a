//! `concurrent.futures` (`specs/concurrent_futures.toml`): the thread-side Future and
//! its bridge to asyncio.

pub mod future;
