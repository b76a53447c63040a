//! A connection's socket transport, for scenarios whose delivery is `socket`: what the
//! kernel holds for the reader, when the loop's selector sees it, and the transport's
//! read, pause, close and fatal-error paths. Chapter: `specs/asyncio/streams.toml`
//! (`asyncio.streams.socket.*`).
//!
//! Transcribes `_SelectorSocketTransport` and `_SelectorTransport` of
//! `Lib/asyncio/selector_events.py` (3.11-3.13 agree on these paths) and the selector
//! half of `BaseEventLoop._run_once`; for uvloop, `UVStream` / `UVBaseTransport` of
//! uvloop 0.23 (`handles/stream.pyx`, `handles/basetransport.pyx`) over libuv's
//! `uv__stream_io` / `uv__read`; for rloop, `TCPTransport`, `TCPReadHandle`,
//! `ScheduledIO` and the loop's `step` of rloop 0.5.0 (`src/tcp.rs`, `src/io.rs`,
//! `src/event_loop.rs` of its sdist) over mio's edge-triggered epoll. The peer is the adapter's end of a loopback TCP
//! connection: at each scheduled delivery it sends the bytes, a FIN (EOF) or an RST
//! (reset); it never reads. How many queued bytes one `recv` returns is the kernel's
//! choice, so it is a choice point (every non-empty prefix; canonical: all of them).

use crate::asyncio::world::{Handle, TimerAction, TimerId, World};
use crate::core::exception::ExcId;
use crate::core::scenario::Arrival;
use crate::core::trace::EventKind;
use crate::core::value::Value;

/// One connection's socket, as the loop's transport and the kernel see it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SocketState {
    /// Bytes the peer sent that no `recv` has taken yet (the kernel's receive queue).
    pub queued: Vec<u8>,
    /// The peer's FIN is queued behind them: `recv` returns b'' once they are taken.
    pub fin: bool,
    /// The peer's RST arrived and no call has returned its error yet: the next `send`,
    /// or the next `recv` once the queue is empty, fails with ECONNRESET.
    pub reset_pending: bool,
    /// The selector's registered reader handle (`_add_reader`); None when not reading.
    pub reader: Option<TimerId>,
    /// `_paused` (`pause_reading()`).
    pub paused: bool,
    /// `_conn_lost`: `connection_lost` is scheduled.
    pub conn_lost: bool,
    /// `_call_connection_lost` closed the socket: what the peer sends now is refused.
    pub closed: bool,
    /// rloop: an edge-triggered event is pending for the next poll (something arrived;
    /// the socket stays registered until the connection is lost).
    pub edge: bool,
    /// rloop: `ScheduledIO`'s READY_R, a readable event taken while reading was
    /// paused (disarmed); resuming schedules a read for it.
    pub ready_r: bool,
    /// rloop: the RST's error was returned (and swallowed) by a read: later reads
    /// return 0 (EOF) and later writes fail with EPIPE.
    pub reset_seen: bool,
}

impl World {
    /// The connections, opened (and reading) before `main` starts, as the adapter's
    /// set-up does: `loop.create_connection(sock=...)` runs `connection_made` and then
    /// `_add_reader` with `call_soon`, and the adapter waits for both.
    pub(crate) fn open_sockets(&mut self) {
        let names: Vec<String> = self.scenario.streams.keys().cloned().collect();
        for name in names {
            let reader = self.new_handle(TimerAction::ReadReady(name.clone()));
            self.sockets.insert(
                name,
                SocketState {
                    reader: Some(reader),
                    ..Default::default()
                },
            );
        }
    }

    /// The peer sends delivery `arrival` (its send, shutdown or abortive close).
    pub(crate) fn socket_peer_sends(&mut self, name: &str, arrival: &Arrival) {
        let what = match arrival {
            Arrival::Data { data } => format!(
                "sent data {}",
                Value::Bytes {
                    bytes: data.clone()
                }
            ),
            Arrival::Eof => "sent eof".into(),
            Arrival::Reset => "sent reset".into(),
        };
        self.emit_for(
            None,
            EventKind::Delivered {
                reader: name.into(),
                what,
            },
        );
        let s = self.socket_mut(name);
        if s.closed {
            // The reader's socket is gone: the kernel answers with an RST, nothing arrives.
            return;
        }
        match arrival {
            Arrival::Data { data } => {
                s.queued
                    .extend(crate::core::value::bytes_of(data).unwrap_or_default());
            }
            Arrival::Eof => s.fin = true,
            Arrival::Reset => s.reset_pending = true,
        }
        if !s.conn_lost {
            s.edge = true;
        }
    }

    fn socket_mut(&mut self, name: &str) -> &mut SocketState {
        self.sockets
            .get_mut(name)
            .expect("socket delivery opens a socket per stream")
    }

    /// The sockets the selector reports readable now: registered for reading, and
    /// the kernel holds bytes, a FIN or an error for them.
    pub(crate) fn sockets_ready(&self) -> Vec<String> {
        self.sockets
            .iter()
            .filter(|(_, s)| {
                s.reader.is_some()
                    && !s.closed
                    && (!s.queued.is_empty() || s.fin || s.reset_pending)
            })
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// `_process_events`: queue each ready socket's reader handle, in the order the
    /// selector lists them (any order: epoll lists files as they became ready).
    pub(crate) fn queue_io_handlers(&mut self, mut ready: Vec<String>) {
        if !ready.is_empty() {
            self.cite(cite!("asyncio.streams.socket.ready_before_timers"));
        }
        while !ready.is_empty() {
            let k = self.choose(ready.len());
            let name = ready.remove(k);
            if let Some(h) = self.sockets[&name].reader {
                self.ready.push_back(Handle::Timer(h));
            }
        }
    }

    /// asyncio's registered reader handle: `_read_ready__data_received`.
    pub(crate) fn socket_read_ready(&mut self, name: &str) {
        if self.sockets[name].conn_lost {
            return;
        }
        self.socket_recv_once(name);
    }

    /// uvloop: libuv's `uv__stream_io` for a readable socket, in the poll phase; the
    /// protocol is called right there, not through the ready queue. `uv__read` reads
    /// once: the scenarios' bytes never fill its buffer, and a short read ends it (the
    /// rest, the EOF or the error, waits for the next poll). libuv 1.52 takes POLLHUP
    /// as EOF only without POLLIN, which a TCP socket after an RST always has.
    pub(crate) fn uv_stream_io(&mut self, name: &str) {
        self.cite(cite!("uvloop.streams.read.in_poll_phase"));
        self.socket_recv_once(name);
    }

    /// One `recv(max_size)` on a readable socket and what the protocol gets from it
    /// (asyncio and libuv both read once per readiness): the kernel may return any
    /// non-empty prefix of the queued bytes; with none queued, the RST's error (a
    /// fatal error) or the FIN (EOF).
    fn socket_recv_once(&mut self, name: &str) {
        let s = &self.sockets[name];
        let (queued, reset_pending, fin) = (s.queued.len(), s.reset_pending, s.fin);
        if queued > 0 {
            self.cite(cite!("asyncio.streams.socket.data_chunking"));
            let short = self.choose(queued);
            let data: Vec<u8> = self
                .socket_mut(name)
                .queued
                .drain(..queued - short)
                .collect();
            self.protocol_data_received(name, &data);
        } else if reset_pending {
            self.socket_mut(name).reset_pending = false;
            let e = self.connection_reset_error();
            self.socket_fatal_error(name, e);
        } else if fin {
            self.protocol_eof_received(name);
        }
    }

    /// `StreamReaderProtocol.data_received(data)`: the reader is fed.
    fn protocol_data_received(&mut self, name: &str, data: &[u8]) {
        self.feed_data(name, data);
        // Recorded after the reader took it, so the rules it ran are cited on it.
        self.emit_for(
            None,
            EventKind::Delivered {
                reader: name.into(),
                what: format!("received data {}", Value::from_bytes(data)),
            },
        );
    }

    /// The transport read EOF: `StreamReaderProtocol.eof_received()` feeds it and
    /// returns True, so the transport stays open for writing and only stops reading.
    fn protocol_eof_received(&mut self, name: &str) {
        self.socket_remove_reader(name);
        self.cite(cite!("asyncio.streams.socket.eof_keeps_transport_open"));
        self.feed_eof(name);
        self.emit_for(
            None,
            EventKind::Delivered {
                reader: name.into(),
                what: "received eof".into(),
            },
        );
    }

    /// `ConnectionResetError(ECONNRESET)` as `recv` or `send` raise it on Linux.
    fn connection_reset_error(&mut self) -> ExcId {
        self.new_exc(
            "ConnectionResetError",
            vec![
                Value::Int(104),
                Value::Str("Connection reset by peer".into()),
            ],
        )
    }

    /// `_fatal_error(exc)` for an OSError: no report to the exception handler (debug
    /// mode logs it at DEBUG), then `_force_close(exc)`.
    fn socket_fatal_error(&mut self, name: &str, exc: ExcId) {
        self.cite(cite!("asyncio.streams.socket.reset_loses_connection"));
        if self.sockets[name].conn_lost {
            return;
        }
        let w = self
            .writers
            .get_mut(name)
            .expect("every socket has a writer");
        if !w.closing {
            w.closing = true;
            self.socket_remove_reader(name);
        }
        self.socket_mut(name).conn_lost = true;
        self.call_soon_timer(TimerAction::ConnectionLost(name.to_string(), Some(exc)));
    }

    /// `loop._remove_reader(fd)`: the registered handle is cancelled (a queued copy
    /// of it is then skipped).
    fn socket_remove_reader(&mut self, name: &str) {
        if let Some(h) = self.socket_mut(name).reader.take() {
            self.cancel_timer(h);
        }
    }

    /// `transport.pause_reading()` (StreamReader.feed_data above twice its limit).
    pub(crate) fn transport_pause_reading(&mut self, name: &str) {
        let closing = self.writers.get(name).is_some_and(|w| w.closing);
        let Some(s) = self.sockets.get_mut(name) else {
            return; // The simulated transport ignores it.
        };
        if closing || s.paused {
            return;
        }
        s.paused = true;
        self.socket_remove_reader(name);
    }

    /// `transport.resume_reading()`: a fresh reader handle is registered.
    pub(crate) fn transport_resume_reading(&mut self, name: &str) {
        let closing = self.writers.get(name).is_some_and(|w| w.closing);
        let Some(s) = self.sockets.get_mut(name) else {
            return;
        };
        if closing || !s.paused {
            return;
        }
        s.paused = false;
        let h = self.new_handle(TimerAction::ReadReady(name.to_string()));
        if let Some(old) = self.socket_mut(name).reader.replace(h) {
            self.cancel_timer(old);
        }
        // rloop (`arm_r`, `consume_ready_r`): an event taken while paused is read now,
        // by a handle queued like call_soon.
        if self.profile.event_loop == crate::core::profile::EventLoop::Rloop
            && std::mem::take(&mut self.socket_mut(name).ready_r)
        {
            self.cite(cite!("rloop.streams.resume_reads_event_taken_while_paused"));
            self.call_soon_timer(TimerAction::ReadReady(name.to_string()));
        }
    }

    /// `transport.close()` of a socket transport (its write buffer is always empty:
    /// the peer's kernel takes every write the scenarios make).
    pub(crate) fn socket_close(&mut self, name: &str) {
        if self.profile.event_loop == crate::core::profile::EventLoop::Rloop {
            // rloop calls connection_lost(None) inside close() (once per transport).
            self.cite(cite!("rloop.streams.connection_lost_inside_call"));
            self.socket_remove_reader(name);
            self.rloop_call_conn_lost(name, None);
            return;
        }
        self.cite(cite!("asyncio.streams.socket.close_stops_reading"));
        self.socket_remove_reader(name);
        self.socket_mut(name).conn_lost = true;
        self.call_soon_timer(TimerAction::ConnectionLost(name.to_string(), None));
    }

    /// `transport.write(data)` of a socket transport: dropped once the connection is
    /// lost; a pending RST makes the send fail (ECONNRESET), which loses the
    /// connection; otherwise the kernel takes it all. uvloop refuses any write once
    /// `connection_lost` has run (its handle is closed): RuntimeError.
    pub(crate) fn socket_write(&mut self, name: &str, data: &[u8]) -> Result<(), ExcId> {
        let s = &self.sockets[name];
        if self.profile.event_loop == crate::core::profile::EventLoop::Uvloop && s.closed {
            self.cite(cite!("uvloop.streams.write_after_close_raises"));
            return Err(self.new_exc(
                "RuntimeError",
                vec![Value::Str(
                    "unable to perform operation on <TCPTransport closed=True reading=False>; the handler is closed"
                        .into(),
                )],
            ));
        }
        if self.profile.event_loop == crate::core::profile::EventLoop::Rloop {
            return self.rloop_socket_write(name, data);
        }
        if data.is_empty() || s.conn_lost {
            return Ok(());
        }
        if s.reset_pending {
            self.socket_mut(name).reset_pending = false;
            let e = self.connection_reset_error();
            self.socket_fatal_error(name, e);
        }
        Ok(())
    }

    /// `_call_connection_lost(exc)`: the protocol's `connection_lost(exc)`, then the
    /// socket is closed.
    pub(crate) fn call_connection_lost(&mut self, name: &str, exc: Option<ExcId>) {
        if self.sockets.contains_key(name) {
            let what = match exc {
                None => "connection lost".to_string(),
                Some(e) => format!("connection lost {}", self.exc_view(e)),
            };
            self.connection_lost(name, exc);
            // Under the current task when a call (rloop's close or write) runs it.
            self.emit(EventKind::Delivered {
                reader: name.into(),
                what,
            });
            // rloop's socket lives as long as its transport object (the writer).
            if self.profile.event_loop != crate::core::profile::EventLoop::Rloop {
                self.socket_mut(name).closed = true;
            }
        } else {
            self.connection_lost(name, exc);
        }
    }
}

// ----- loop.sendfile over a connection's transport -----------------------------------

impl World {
    /// `await loop.sendfile(transport, io.BytesIO(...), fallback=False)`: what it
    /// raises (a BytesIO has no file descriptor, so no native sendfile, and the
    /// fallback, which reads the file in a thread, is off).
    pub(crate) fn loop_sendfile(&mut self, name: &str) -> ExcId {
        match self.profile.event_loop {
            // Neither loop overrides AbstractEventLoop.sendfile.
            crate::core::profile::EventLoop::Uvloop => {
                self.cite(cite!("uvloop.loop.sendfile.not_implemented"));
                return self.new_exc("NotImplementedError", Vec::new());
            }
            crate::core::profile::EventLoop::Rloop => {
                self.cite(cite!("rloop.loop.sendfile.not_implemented"));
                return self.new_exc("NotImplementedError", Vec::new());
            }
            crate::core::profile::EventLoop::Asyncio => {}
        }
        if self.writers[name].closing {
            self.cite(cite!("asyncio.streams.sendfile.transport_closing"));
            return self.new_exc(
                "RuntimeError",
                vec![Value::Str("Transport is closing".into())],
            );
        }
        if !self.sockets.contains_key(name) {
            // The simulated transport has no `_sendfile_compatible`: UNSUPPORTED.
            self.cite(cite!("asyncio.streams.sendfile.unsupported_transport"));
            return self.new_exc(
                "RuntimeError",
                vec![Value::Str(
                    "sendfile is not supported for transport <SimTransport>".into(),
                )],
            );
        }
        // `_sendfile_native`: reading paused around `sock_sendfile(..., fallback=False)`,
        // whose native path refuses a file without fileno(); the empty-write waiter is
        // a future done at once.
        let was_reading = !self.sockets[name].paused;
        self.transport_pause_reading(name);
        let waiter = self.new_future("empty waiter");
        self.future_set_result(waiter, Value::None);
        self.cite(cite!("asyncio.threads.sock_sendfile.not_available"));
        let e = self.new_exc(
            "asyncio.SendfileNotAvailableError",
            vec![Value::Str("not a regular file".into())],
        );
        // `except (AttributeError, io.UnsupportedOperation) as err: raise
        // SendfileNotAvailableError(...)`: BytesIO.fileno() raised UnsupportedOperation.
        let unsupported =
            self.new_exc("io.UnsupportedOperation", vec![Value::Str("fileno".into())]);
        self.chain_raised(unsupported);
        self.chain_onto(e, Some(unsupported));
        if was_reading {
            self.transport_resume_reading(name);
        }
        e
    }
}

// ----- rloop: TCPTransport over mio --------------------------------------------------

impl World {
    /// rloop's poll (`handle_io_tcps`): each socket with a pending event, in the order
    /// epoll lists them (any order), gets a fresh `TCPReadHandle` if reading is armed,
    /// else its READY_R flag is set.
    pub(crate) fn rloop_poll_io(&mut self) -> Vec<Handle> {
        let mut ready: Vec<String> = self
            .sockets
            .iter()
            .filter(|(_, s)| s.edge)
            .map(|(name, _)| name.clone())
            .collect();
        let mut handles = Vec::new();
        while !ready.is_empty() {
            let k = self.choose(ready.len());
            let name = ready.remove(k);
            let s = self.socket_mut(&name);
            s.edge = false;
            if s.reader.is_some() {
                let h = self.new_handle(TimerAction::ReadReady(name));
                handles.push(Handle::Timer(h));
            } else {
                s.ready_r = true;
            }
        }
        handles
    }

    /// `TCPTransport.call_conn_lost(err)`: once per transport, connection_lost(err)
    /// right now; the socket is then unregistered (no more events).
    fn rloop_call_conn_lost(&mut self, name: &str, exc: Option<ExcId>) {
        if std::mem::replace(&mut self.socket_mut(name).conn_lost, true) {
            return;
        }
        self.call_connection_lost(name, exc);
        self.socket_mut(name).edge = false;
    }

    /// `TCPReadHandle.run`: read until the kernel has nothing more (edge-triggered),
    /// so every queued byte comes in one `data_received`; a read of 0 then is EOF
    /// (`eof_received`, reading stops); a read error ends the loop and is dropped.
    pub(crate) fn rloop_read_ready(&mut self, name: &str) {
        if self.sockets[name].conn_lost {
            return;
        }
        self.cite(cite!("rloop.streams.reads_until_would_block"));
        let s = self.socket_mut(name);
        let data: Vec<u8> = std::mem::take(&mut s.queued);
        let eof = if s.fin || s.reset_seen {
            true
        } else {
            if s.reset_pending {
                self.cite(cite!("rloop.streams.read_error_dropped"));
                let s = self.socket_mut(name);
                s.reset_pending = false;
                s.reset_seen = true;
            }
            false
        };
        if !data.is_empty() {
            self.protocol_data_received(name, &data);
        }
        if eof {
            // `recv_eof`: reading stops (disarmed), eof_received() keeps it open.
            self.protocol_eof_received(name);
        }
    }

    /// `TCPTransport.write` (`try_write`): a failed `write(2)` calls
    /// `connection_lost(RuntimeError(<the OS error>))` right there (the first time);
    /// nothing checks that the transport is closing, and its socket stays open.
    fn rloop_socket_write(&mut self, name: &str, data: &[u8]) -> Result<(), ExcId> {
        if data.is_empty() {
            return Ok(());
        }
        let s = self.socket_mut(name);
        let message = if s.reset_pending {
            s.reset_pending = false;
            s.reset_seen = true;
            "Connection reset by peer (os error 104)"
        } else if s.reset_seen {
            "Broken pipe (os error 32)"
        } else {
            return Ok(());
        };
        self.cite(cite!("rloop.streams.write_error_runtime_error"));
        self.cite(cite!("rloop.streams.connection_lost_inside_call"));
        if !self.writers[name].closing {
            self.writers.get_mut(name).expect("a writer").closing = true;
            self.socket_remove_reader(name);
        }
        if !self.sockets[name].conn_lost {
            let e = self.new_exc("RuntimeError", vec![Value::Str(message.into())]);
            self.rloop_call_conn_lost(name, Some(e));
        }
        Ok(())
    }
}
