//! `asyncio.StreamReader`: its buffer, EOF, the transport's exception, and the reads
//! that wait for data. Chapter: `specs/asyncio/streams.toml`.
//!
//! Transcribes `Lib/asyncio/streams.py` (3.11-3.13 agree for one separator):
//! `feed_data`, `feed_eof`, `set_exception`, `_wakeup_waiter`, `_wait_for_data`,
//! `read`, `readexactly`, `readuntil`, `readline`, `at_eof`. A read is a coroutine
//! frame ([`Frame::StreamRead`]) that runs its checks, and when it must wait parks on
//! the reader's single waiter future; the network's deliveries (the scenario's
//! schedule, see `sim/`) arrive as timer callbacks at their virtual times.

use crate::asyncio::coroutine::{Frame, FrameOut, Input};
use crate::asyncio::world::{FutId, World};
use crate::core::exception::ExcId;
use crate::core::scenario::Arrival;
use crate::core::trace::EventKind;
use crate::core::value::Value;

/// One reader's state (`StreamReader` fields).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReaderState {
    /// `_buffer`.
    pub buffer: Vec<u8>,
    /// `_eof`.
    pub eof: bool,
    /// `_waiter`: the future a read waits on.
    pub waiter: Option<FutId>,
    /// `_exception`: set by the transport (a reset).
    pub exception: Option<ExcId>,
    /// `_limit`.
    pub limit: usize,
    /// `_paused`: it paused its transport's reading (buffer above twice the limit).
    pub paused: bool,
}

/// Which read.
#[derive(Clone, Debug, PartialEq)]
pub enum ReadOp {
    /// `read(n)`; n < 0 reads to EOF in blocks of `limit`.
    Read(i64),
    /// `readexactly(n)`.
    ReadExactly(i64),
    /// `readuntil(separator)`.
    ReadUntil(Vec<u8>),
    /// `readline()`: `readuntil(b'\n')` with its two `except` clauses.
    ReadLine,
}

/// Where a read is: its locals across waits.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadProgress {
    /// Past the opening checks (of the current inner `read` for `read(-1)`).
    pub started: bool,
    /// Waiting on the reader's waiter.
    pub waiting: bool,
    /// `readuntil`'s `offset`.
    pub offset: usize,
    /// `read(-1)`'s blocks so far.
    pub blocks: Vec<u8>,
}

/// What a read does next.
enum Step {
    Return(Vec<u8>),
    Raise(ExcId),
    Wait(&'static str),
}

impl World {
    fn reader(&self, name: &str) -> &ReaderState {
        &self.readers[name]
    }

    fn reader_mut(&mut self, name: &str) -> &mut ReaderState {
        self.readers.get_mut(name).expect("readers are validated")
    }

    /// Delivery `i` of a reader's schedule, at its time. The next one is scheduled
    /// only now, so a reader's arrivals stay in order even at equal times (equal
    /// deadlines are not first-in first-out in asyncio's timer heap); a connection
    /// delivers in order.
    pub(crate) fn stream_deliver_nth(&mut self, name: &str, i: usize) {
        let deliveries = &self.scenario.streams[name].deliveries;
        let arrival = deliveries[i].arrival();
        let next = deliveries.get(i + 1).map(|d| d.at);
        if self.sockets.contains_key(name) {
            self.socket_peer_sends(name, &arrival);
        } else {
            self.stream_deliver(name, &arrival);
        }
        if let Some(at) = next {
            self.call_at(
                at,
                crate::asyncio::world::TimerAction::Deliver(name.to_string(), i + 1),
            );
        }
    }

    /// One arrival.
    fn stream_deliver(&mut self, name: &str, arrival: &Arrival) {
        let what = match arrival {
            Arrival::Data { data } => {
                format!(
                    "data {}",
                    Value::Bytes {
                        bytes: data.clone()
                    }
                )
            }
            Arrival::Eof => "eof".into(),
            Arrival::Reset => "reset".into(),
        };
        if self.writers.get(name).is_some_and(|w| w.closing) {
            // A closing transport has stopped reading (`close()` removes its reader):
            // what still arrives is not delivered.
            self.emit_for(
                None,
                EventKind::Delivered {
                    reader: name.into(),
                    what: format!("dropped {what}"),
                },
            );
            return;
        }
        match arrival {
            Arrival::Data { data } => {
                let bytes = crate::core::value::bytes_of(data).unwrap_or_default();
                self.feed_data(name, &bytes);
            }
            // A connection's protocol: eof_received() feeds EOF (and keeps the
            // transport open); a reset is connection_lost(exc).
            Arrival::Eof => self.feed_eof(name),
            Arrival::Reset => {
                let e = self.new_exc(
                    "ConnectionResetError",
                    vec![Value::Str("Connection reset by peer".into())],
                );
                if self.writers.contains_key(name) {
                    self.connection_lost(name, Some(e));
                } else {
                    self.reader_set_exception(name, e);
                }
            }
        }
        // Recorded after the reader took it, so the rules it ran are cited on it; the
        // woken read resumes only in a later callback.
        self.emit_for(
            None,
            EventKind::Delivered {
                reader: name.into(),
                what,
            },
        );
    }

    /// `feed_data(data)`: empty data does nothing. Above twice the limit a reader
    /// with a transport pauses its reading.
    pub(crate) fn feed_data(&mut self, name: &str, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        self.cite(cite!("asyncio.streams.reader.data_wakes_waiter"));
        self.reader_mut(name).buffer.extend_from_slice(data);
        self.wakeup_waiter(name);
        let r = self.reader(name);
        if self.writers.contains_key(name) && !r.paused && r.buffer.len() > 2 * r.limit {
            self.cite(cite!("asyncio.streams.reader.pauses_transport_above_limit"));
            self.transport_pause_reading(name);
            self.reader_mut(name).paused = true;
        }
    }

    /// `_maybe_resume_transport()`: at or below the limit a paused reader resumes
    /// its transport's reading.
    fn maybe_resume_transport(&mut self, name: &str) {
        let r = self.reader(name);
        if r.paused && r.buffer.len() <= r.limit {
            self.cite(cite!("asyncio.streams.reader.pauses_transport_above_limit"));
            self.reader_mut(name).paused = false;
            self.transport_resume_reading(name);
        }
    }

    /// `feed_eof()`.
    pub(crate) fn feed_eof(&mut self, name: &str) {
        self.cite(cite!("asyncio.streams.reader.eof_wakes_waiter"));
        self.reader_mut(name).eof = true;
        self.wakeup_waiter(name);
    }

    /// `set_exception(exc)`: later reads raise it; a waiting read gets it now.
    fn reader_set_exception(&mut self, name: &str, e: ExcId) {
        self.cite(cite!("asyncio.streams.reader.exception_raised_by_reads"));
        let r = self.reader_mut(name);
        r.exception = Some(e);
        if let Some(w) = r.waiter.take() {
            if !self.cancelled(w) {
                self.future_set_exception(w, e);
            }
        }
    }

    /// `_wakeup_waiter()`.
    fn wakeup_waiter(&mut self, name: &str) {
        if let Some(w) = self.reader_mut(name).waiter.take() {
            if !self.cancelled(w) {
                self.future_set_result(w, Value::None);
            }
        }
    }

    /// `at_eof()`.
    pub(crate) fn at_eof(&mut self, name: &str) -> bool {
        self.cite(cite!("asyncio.streams.at_eof.buffer_empty_and_eof"));
        let r = self.reader(name);
        r.eof && r.buffer.is_empty()
    }

    /// Take the first `n` bytes of the buffer.
    fn take(&mut self, name: &str, n: usize) -> Vec<u8> {
        let buf = &mut self.reader_mut(name).buffer;
        let n = n.min(buf.len());
        buf.drain(..n).collect()
    }

    fn incomplete_read(&mut self, partial: Vec<u8>, expected: Option<i64>) -> ExcId {
        self.cite(cite!("exceptions.asyncio.incomplete_read_error.partial"));
        self.cite(cite!("exceptions.asyncio.incomplete_read_error.expected"));
        let shown = expected.map_or("undefined".to_string(), |n| n.to_string());
        let e = self.new_exc(
            "asyncio.IncompleteReadError",
            vec![Value::Str(format!(
                "{} bytes read on a total of {shown} expected bytes",
                partial.len()
            ))],
        );
        let attrs = &mut self.excs[e.0 as usize].attrs;
        attrs.insert("partial".into(), Value::from_bytes(&partial));
        attrs.insert("expected".into(), expected.map_or(Value::None, Value::Int));
        e
    }

    fn limit_overrun(&mut self, message: &str, consumed: usize) -> ExcId {
        self.cite(cite!("exceptions.asyncio.limit_overrun_error.consumed"));
        let e = self.new_exc(
            "asyncio.LimitOverrunError",
            vec![Value::Str(message.into())],
        );
        self.excs[e.0 as usize]
            .attrs
            .insert("consumed".into(), Value::Int(consumed as i64));
        e
    }

    /// Resume a read frame.
    pub(crate) fn resume_stream_read(
        &mut self,
        name: &str,
        op: &ReadOp,
        p: &mut ReadProgress,
        input: Input,
    ) -> FrameOut {
        if p.waiting {
            // `_wait_for_data`'s `finally: self._waiter = None`.
            p.waiting = false;
            self.reader_mut(name).waiter = None;
        }
        if let Input::Throw(e) = input {
            // The reset's exception, or a cancellation: the buffer is left as it is.
            if self.exc_is(e, "asyncio.CancelledError") {
                self.cite(cite!("asyncio.streams.reader.cancelled_wait_keeps_buffer"));
            }
            return FrameOut::Raise(e);
        }
        let step = match op {
            ReadOp::Read(n) => self.read_step(name, *n, p),
            ReadOp::ReadExactly(n) => self.readexactly_step(name, *n, p),
            ReadOp::ReadUntil(sep) => self.readuntil_step(name, sep, p),
            ReadOp::ReadLine => self.readline_step(name, p),
        };
        match step {
            Step::Return(data) => FrameOut::Return(Value::from_bytes(&data)),
            Step::Raise(e) => FrameOut::Raise(e),
            Step::Wait(func) => {
                // `_wait_for_data(func_name)`.
                if self.reader(name).waiter.is_some() {
                    self.cite(cite!(
                        "asyncio.streams.reader.concurrent_read_runtime_error"
                    ));
                    let e = self.new_exc(
                        "RuntimeError",
                        vec![Value::Str(format!(
                            "{func}() called while another coroutine is already waiting for incoming data"
                        ))],
                    );
                    return FrameOut::Raise(e);
                }
                // "Waiting for data while paused will make deadlock": resume first.
                if self.reader(name).paused {
                    self.reader_mut(name).paused = false;
                    self.transport_resume_reading(name);
                }
                let w = self.new_future("waiter");
                self.reader_mut(name).waiter = Some(w);
                p.waiting = true;
                FrameOut::Push(Frame::AwaitFuture { fut: w })
            }
        }
    }

    /// `read(n)`.
    fn read_step(&mut self, name: &str, n: i64, p: &mut ReadProgress) -> Step {
        if n < 0 {
            return self.read_all_step(name, p);
        }
        if !p.started {
            p.started = true;
            if let Some(e) = self.reader(name).exception {
                return Step::Raise(e);
            }
            if n == 0 {
                self.cite(cite!("asyncio.streams.read.zero"));
                return Step::Return(Vec::new());
            }
            let r = self.reader(name);
            if r.buffer.is_empty() && !r.eof {
                return Step::Wait("read");
            }
        }
        let data = self.take(name, n as usize);
        self.maybe_resume_transport(name);
        if data.is_empty() {
            self.cite(cite!("asyncio.streams.read.eof_empty"));
        } else {
            self.cite(cite!("asyncio.streams.read.up_to_n"));
        }
        Step::Return(data)
    }

    /// `read(-1)`: `read(self._limit)` until it returns b'', joined.
    fn read_all_step(&mut self, name: &str, p: &mut ReadProgress) -> Step {
        self.cite(cite!("asyncio.streams.read.all_until_eof"));
        loop {
            if !p.started {
                // A fresh inner read(limit): its opening checks.
                p.started = true;
                if let Some(e) = self.reader(name).exception {
                    return Step::Raise(e);
                }
                let r = self.reader(name);
                if r.buffer.is_empty() && !r.eof {
                    return Step::Wait("read");
                }
            }
            let limit = self.reader(name).limit;
            let block = self.take(name, limit);
            self.maybe_resume_transport(name);
            p.started = false;
            if block.is_empty() {
                return Step::Return(std::mem::take(&mut p.blocks));
            }
            p.blocks.extend(block);
        }
    }

    /// `readexactly(n)`.
    fn readexactly_step(&mut self, name: &str, n: i64, p: &mut ReadProgress) -> Step {
        if !p.started {
            p.started = true;
            if n < 0 {
                self.cite(cite!("asyncio.streams.readexactly.negative_value_error"));
                return Step::Raise(self.new_exc(
                    "ValueError",
                    vec![Value::Str(
                        "readexactly size can not be less than zero".into(),
                    )],
                ));
            }
            if let Some(e) = self.reader(name).exception {
                return Step::Raise(e);
            }
            if n == 0 {
                self.cite(cite!("asyncio.streams.readexactly.zero"));
                return Step::Return(Vec::new());
            }
        }
        let n = n as usize;
        if self.reader(name).buffer.len() < n {
            if self.reader(name).eof {
                self.cite(cite!("asyncio.streams.readexactly.eof_before_n"));
                let partial = std::mem::take(&mut self.reader_mut(name).buffer);
                return Step::Raise(self.incomplete_read(partial, Some(n as i64)));
            }
            return Step::Wait("readexactly");
        }
        self.cite(cite!("asyncio.streams.readexactly.returns_n"));
        let data = self.take(name, n);
        self.maybe_resume_transport(name);
        Step::Return(data)
    }

    /// `readuntil(separator)`.
    fn readuntil_step(&mut self, name: &str, sep: &[u8], p: &mut ReadProgress) -> Step {
        if !p.started {
            p.started = true;
            if sep.is_empty() {
                self.cite(cite!(
                    "asyncio.streams.readuntil.empty_separator_value_error"
                ));
                return Step::Raise(self.new_exc(
                    "ValueError",
                    vec![Value::Str(
                        "Separator should be at least one-byte string".into(),
                    )],
                ));
            }
            if let Some(e) = self.reader(name).exception {
                return Step::Raise(e);
            }
            p.offset = 0;
        }
        let limit = self.reader(name).limit;
        // One pass of `while True`: the loop's next pass is the resume after the wait.
        let buf = &self.reader(name).buffer;
        let buflen = buf.len();
        let mut found = None;
        if buflen - p.offset.min(buflen) >= sep.len() {
            found = find(buf, sep, p.offset);
            if found.is_none() {
                p.offset = buflen + 1 - sep.len();
                if p.offset > limit {
                    self.cite(cite!(
                        "asyncio.streams.readuntil.limit_overrun_keeps_buffer"
                    ));
                    let consumed = p.offset;
                    return Step::Raise(self.limit_overrun(
                        "Separator is not found, and chunk exceed the limit",
                        consumed,
                    ));
                }
            }
        }
        let Some(isep) = found else {
            if self.reader(name).eof {
                self.cite(cite!(
                    "asyncio.streams.readuntil.eof_incomplete_resets_buffer"
                ));
                let chunk = std::mem::take(&mut self.reader_mut(name).buffer);
                return Step::Raise(self.incomplete_read(chunk, None));
            }
            return Step::Wait("readuntil");
        };
        if isep > limit {
            self.cite(cite!(
                "asyncio.streams.readuntil.limit_overrun_keeps_buffer"
            ));
            return Step::Raise(
                self.limit_overrun("Separator is found, but chunk is longer than limit", isep),
            );
        }
        self.cite(cite!("asyncio.streams.readuntil.consumes_separator"));
        let data = self.take(name, isep + sep.len());
        self.maybe_resume_transport(name);
        Step::Return(data)
    }

    /// `readline()`: an IncompleteReadError returns its partial line; a
    /// LimitOverrunError drops the line (or the whole buffer) and becomes ValueError.
    fn readline_step(&mut self, name: &str, p: &mut ReadProgress) -> Step {
        match self.readuntil_step(name, b"\n", p) {
            Step::Raise(e) if self.exc_is(e, "asyncio.IncompleteReadError") => {
                let partial = match self.excs[e.0 as usize].attrs.get("partial") {
                    Some(Value::Bytes { bytes }) => {
                        crate::core::value::bytes_of(bytes).unwrap_or_default()
                    }
                    _ => Vec::new(),
                };
                if partial.is_empty() {
                    self.cite(cite!("asyncio.streams.readline.eof_empty"));
                } else {
                    self.cite(cite!("asyncio.streams.readline.partial_at_eof"));
                }
                Step::Return(partial)
            }
            Step::Raise(e) if self.exc_is(e, "asyncio.LimitOverrunError") => {
                self.cite(cite!("asyncio.streams.readline.overrun_value_error"));
                let consumed = match self.excs[e.0 as usize].attrs.get("consumed") {
                    Some(Value::Int(c)) => *c as usize,
                    _ => 0,
                };
                let message = self.excs[e.0 as usize].args.first().cloned();
                let buf = &mut self.reader_mut(name).buffer;
                if buf.get(consumed) == Some(&b'\n') {
                    buf.drain(..consumed + 1);
                } else {
                    buf.clear();
                }
                self.maybe_resume_transport(name);
                // `except LimitOverrunError as e: ... raise ValueError(e.args[0])`: the
                // overrun was raised (chained) inside readuntil and is handled here.
                self.chain_raised(e);
                let ve = self.new_exc("ValueError", message.into_iter().collect());
                self.chain_onto(ve, Some(e));
                Step::Raise(ve)
            }
            other => other,
        }
    }
}

/// `bytearray.find(sub, start)`.
fn find(hay: &[u8], needle: &[u8], start: usize) -> Option<usize> {
    if start > hay.len() {
        return None;
    }
    hay[start..]
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + start)
}

// ----- the write side: StreamWriter over the simulated transport ----------------------
//
// Transcribes `FlowControlMixin` (pause_writing, resume_writing, connection_lost,
// _drain_helper), `StreamReaderProtocol.connection_lost` / `eof_received` and
// `StreamWriter.drain` / `wait_closed`. The transport is the simulation's: `write`
// buffers (and is dropped once the transport is closing), the buffer above
// `high_water` pauses the protocol and at or below `low_water` resumes it, the peer
// takes bytes at its scheduled times, and `close()` loses the connection at once when
// the buffer is empty (with call_soon), else when the peer has taken the last byte.

/// A connection's write side.
#[derive(Clone, Debug, PartialEq)]
pub struct WriterState {
    /// Bytes in the transport's buffer.
    pub buffered: usize,
    /// Pause above this.
    pub high: usize,
    /// Resume at or below this.
    pub low: usize,
    /// `FlowControlMixin._paused`.
    pub paused: bool,
    /// `FlowControlMixin._connection_lost`.
    pub lost: bool,
    /// `_drain_waiters`.
    pub drain_waiters: Vec<FutId>,
    /// The transport is closing (`close()` called, or the connection was lost).
    pub closing: bool,
    /// `StreamReaderProtocol._closed`.
    pub closed: FutId,
}

/// Where a `drain()` is.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum DrainPhase {
    /// Not started.
    #[default]
    Start,
    /// After the `await sleep(0)` of a closing transport.
    Slept,
    /// Waiting on this drain waiter.
    Waiting(FutId),
}

impl World {
    /// Make the connections' write sides (when the run starts, as the adapter does).
    pub(crate) fn open_connections(&mut self) {
        let socket = self.scenario.delivery == crate::core::scenario::DeliveryMode::Socket;
        // Over sockets every stream is a connection; the peer's kernel takes every
        // write at once, so its consumption schedule does not apply.
        let specs: Vec<(String, crate::core::scenario::WriterSpec)> = self
            .scenario
            .streams
            .iter()
            .filter_map(|(n, s)| match (&s.writer, socket) {
                (Some(w), false) => Some((n.clone(), w.clone())),
                (w, true) => Some((
                    n.clone(),
                    crate::core::scenario::WriterSpec {
                        consumed: Vec::new(),
                        ..w.clone().unwrap_or_default()
                    },
                )),
                (None, false) => None,
            })
            .collect();
        if socket {
            self.open_sockets();
        }
        for (name, spec) in specs {
            let closed = self.new_future("closed");
            self.writers.insert(
                name.clone(),
                WriterState {
                    buffered: 0,
                    high: spec.high_water,
                    low: spec.low_water.unwrap_or(spec.high_water / 4),
                    paused: false,
                    lost: false,
                    drain_waiters: Vec::new(),
                    closing: false,
                    closed,
                },
            );
            if let Some(c) = spec.consumed.first() {
                self.call_at(
                    c.at,
                    crate::asyncio::world::TimerAction::Consume(name.clone(), 0),
                );
            }
        }
    }

    fn writer_mut(&mut self, name: &str) -> &mut WriterState {
        self.writers.get_mut(name).expect("writers are validated")
    }

    /// `writer.write(data)`.
    pub(crate) fn stream_write(&mut self, name: &str, data: &[u8]) -> Result<(), ExcId> {
        if self.sockets.contains_key(name) {
            return self.socket_write(name, data);
        }
        let w = self.writer_mut(name);
        if w.closing || data.is_empty() {
            return Ok(());
        }
        w.buffered += data.len();
        if w.buffered > w.high && !w.paused {
            self.cite(cite!("asyncio.streams.drain.waits_while_paused"));
            self.writer_mut(name).paused = true;
        }
        Ok(())
    }

    /// The peer takes bytes: consumption `i` of the schedule; the next is scheduled now.
    pub(crate) fn stream_consume_nth(&mut self, name: &str, i: usize) {
        let spec = self.scenario.streams[name]
            .writer
            .clone()
            .unwrap_or_else(|| {
                unreachable!("a Consume timer exists only for a stream with a writer")
            });
        let bytes = spec.consumed[i].bytes;
        let w = self.writer_mut(name);
        let taken = bytes.min(w.buffered);
        w.buffered -= taken;
        let resume = w.paused && w.buffered <= w.low;
        let emptied_while_closing = w.closing && !w.lost && w.buffered == 0;
        self.emit_for(
            None,
            EventKind::Delivered {
                reader: name.into(),
                what: format!("peer took {taken} bytes"),
            },
        );
        if resume {
            // `resume_writing()`: every drain waiter is released.
            let w = self.writer_mut(name);
            w.paused = false;
            let waiters = w.drain_waiters.clone();
            for f in waiters {
                if !self.done(f) {
                    self.future_set_result(f, Value::None);
                }
            }
        }
        if emptied_while_closing {
            self.connection_lost(name, None);
        }
        if let Some(c) = spec.consumed.get(i + 1) {
            self.call_at(
                c.at,
                crate::asyncio::world::TimerAction::Consume(name.to_string(), i + 1),
            );
        }
    }

    /// `writer.close()`.
    pub(crate) fn stream_close(&mut self, name: &str) {
        let w = self.writer_mut(name);
        if w.closing {
            return;
        }
        w.closing = true;
        if self.sockets.contains_key(name) {
            self.socket_close(name);
        } else if self.writer_mut(name).buffered == 0 {
            self.call_soon_timer(crate::asyncio::world::TimerAction::ConnectionLost(
                name.to_string(),
                None,
            ));
        }
    }

    /// `StreamReaderProtocol.connection_lost(exc)` (and `FlowControlMixin`'s).
    pub(crate) fn connection_lost(&mut self, name: &str, exc: Option<ExcId>) {
        if self.writers[name].lost {
            return;
        }
        match exc {
            None => self.feed_eof(name),
            Some(e) => self.reader_set_exception(name, e),
        }
        let closed = self.writers[name].closed;
        if !self.done(closed) {
            match exc {
                None => self.future_set_result(closed, Value::None),
                Some(e) => {
                    self.future_set_exception(closed, e);
                    // StreamReaderProtocol.__del__ retrieves it: never reported.
                    self.fut_mut(closed).log_traceback = false;
                }
            }
        }
        let w = self.writer_mut(name);
        w.lost = true;
        w.closing = true;
        if !w.paused {
            return;
        }
        let waiters = w.drain_waiters.clone();
        for f in waiters {
            if !self.done(f) {
                match exc {
                    None => self.future_set_result(f, Value::None),
                    Some(e) => {
                        self.cite(cite!("asyncio.streams.drain.connection_lost"));
                        self.future_set_exception(f, e);
                    }
                }
            }
        }
    }

    /// `await writer.drain()`.
    pub(crate) fn resume_drain(
        &mut self,
        name: &str,
        phase: &mut DrainPhase,
        input: Input,
    ) -> FrameOut {
        if let DrainPhase::Waiting(w) = *phase {
            // `finally: self._drain_waiters.remove(waiter)`.
            self.writer_mut(name).drain_waiters.retain(|f| *f != w);
            return match input {
                Input::Throw(e) => FrameOut::Raise(e),
                _ => FrameOut::Return(Value::None),
            };
        }
        if let Input::Throw(e) = input {
            return FrameOut::Raise(e);
        }
        if *phase == DrainPhase::Start {
            if let Some(e) = self.readers[name].exception {
                self.cite(cite!("asyncio.streams.drain.reader_exception"));
                return FrameOut::Raise(e);
            }
            if self.writers[name].closing {
                *phase = DrainPhase::Slept;
                return FrameOut::YieldBare;
            }
        }
        // `_drain_helper()`.
        if self.writers[name].lost {
            self.cite(cite!("asyncio.streams.drain.connection_lost"));
            let e = self.new_exc(
                "ConnectionResetError",
                vec![Value::Str("Connection lost".into())],
            );
            return FrameOut::Raise(e);
        }
        if !self.writers[name].paused {
            return FrameOut::Return(Value::None);
        }
        self.cite(cite!("asyncio.streams.drain.waits_while_paused"));
        let w = self.new_future("drain waiter");
        self.writer_mut(name).drain_waiters.push(w);
        *phase = DrainPhase::Waiting(w);
        FrameOut::Push(Frame::AwaitFuture { fut: w })
    }

    /// `writer.wait_closed()`'s future.
    pub(crate) fn closed_future(&mut self, name: &str) -> FutId {
        self.cite(cite!("asyncio.streams.wait_closed.connection_error"));
        self.writers[name].closed
    }
}
