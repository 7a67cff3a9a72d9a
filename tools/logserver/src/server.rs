//! Starting and stopping the server on its own thread, for synchronous callers.

use std::future::{poll_fn, Future};
use std::io;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::Poll;
use std::thread::JoinHandle;
use std::time::Duration;

use thiserror::Error;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::config::{Config, ConfigError};
use crate::faults::FaultPlan;
use crate::http::{serve_connection, App};
use crate::stats::{Counters, Stats};
use crate::store::{Store, StoreError};

/// Why the server could not start.
#[derive(Debug, Error)]
pub enum StartError {
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The database could not be opened.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The operating system's error.
        source: io::Error,
    },
    /// The async runtime or its thread could not be created.
    #[error("cannot start the server's runtime: {0}")]
    Runtime(io::Error),
}

/// Entry point: see [`Server::start`].
#[derive(Debug)]
pub struct Server;

impl Server {
    /// Validates `config`, opens the store, binds the listen address, and serves on a
    /// background thread with its own single-threaded tokio runtime. Returns once the
    /// socket is listening, so requests can be sent straight away.
    pub fn start(config: Config) -> Result<RunningServer, StartError> {
        config.validate()?;
        let store = Arc::new(Store::open(&config.storage)?);
        let bind_error = |source| StartError::Bind {
            addr: config.listen,
            source,
        };
        let listener = StdListener::bind(config.listen).map_err(bind_error)?;
        let addr = listener.local_addr().map_err(bind_error)?;
        listener.set_nonblocking(true).map_err(bind_error)?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(StartError::Runtime)?;
        let counters = Arc::new(Counters::default());
        let app = Arc::new(App {
            store: Arc::clone(&store),
            counters: Arc::clone(&counters),
            faults: Mutex::new(FaultPlan::new(&config.faults)),
            body_limit: config.body_limit,
            log_requests: config.log_requests,
        });
        let (stop, stopped) = oneshot::channel();
        let thread = std::thread::Builder::new()
            .name(format!("logserver {addr}"))
            .spawn(move || {
                runtime.block_on(accept_loop(listener, app, stopped));
                // Dropping the runtime ends open connections and waits for any SQLite
                // write in progress, so a shut-down server leaves no half-done work.
                drop(runtime);
            })
            .map_err(StartError::Runtime)?;
        Ok(RunningServer {
            addr,
            store,
            counters,
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

/// Accepts connections until `stopped` fires (or its sender is dropped).
async fn accept_loop(listener: StdListener, app: Arc<App>, mut stopped: oneshot::Receiver<()>) {
    let listener = match TcpListener::from_std(listener) {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("sockstatlog-logserver: cannot register the listening socket: {error}");
            return;
        }
    };
    loop {
        let next = poll_fn(|cx| {
            if Pin::new(&mut stopped).poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            listener.poll_accept(cx).map(Some)
        })
        .await;
        match next {
            None => return,
            Some(Ok((stream, _peer))) => {
                let _ = stream.set_nodelay(true);
                tokio::spawn(serve_connection(Arc::clone(&app), stream));
            }
            Some(Err(error)) => {
                // E.g. out of file descriptors: back off instead of spinning.
                eprintln!("sockstatlog-logserver: accept failed: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// A server started by [`Server::start`]. Shuts down when dropped.
#[derive(Debug)]
pub struct RunningServer {
    addr: SocketAddr,
    store: Arc<Store>,
    counters: Arc<Counters>,
    stop: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl RunningServer {
    /// The address it listens on (with the actual port when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://{addr}`, e.g. `http://127.0.0.1:40123`: the logtail base URL for clients.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The entries of log `(collection, public_id)` in arrival order, exactly as received.
    ///
    /// # Panics
    /// If the database cannot be read; use [`RunningServer::try_entries`] to handle that.
    pub fn entries(&self, collection: &str, public_id: &str) -> Vec<String> {
        self.try_entries(collection, public_id)
            .unwrap_or_else(|error| panic!("reading log {collection}/{public_id}: {error}"))
    }

    /// Like [`RunningServer::entries`], returning storage errors.
    pub fn try_entries(
        &self,
        collection: &str,
        public_id: &str,
    ) -> Result<Vec<String>, StoreError> {
        self.store.entries(collection, public_id)
    }

    /// The counters since this server started.
    pub fn stats(&self) -> Stats {
        self.counters.snapshot()
    }

    /// Stops accepting, closes open connections, and waits for the server thread to end.
    pub fn shutdown(mut self) {
        self.stop_and_join();
    }

    /// Blocks until the server thread ends, which only happens if it fails to start
    /// serving; a binary uses this to run until it is killed.
    pub fn wait(mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }

    fn stop_and_join(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}
