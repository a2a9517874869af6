//! Builds the running gateway from a config: store, sources, writer, the two listeners;
//! and takes it down gracefully.

use crate::activity::Activity;
use crate::admin::{self, AdminState, AdminToken};
use crate::config::{Config, ListenerTlsConfig};
use crate::console::{self, Console, Runtime};
use crate::consume::{self, ConsumeState};
use crate::delivery::{self, ConsumerWake, RemoteWake, Wakers};
use crate::health::{self, HealthState};
use crate::ingest::body_budget::BodyBudget;
use crate::ingest::next_request::{ConnectionWatch, watch_next_request};
use crate::ingest::shedding::{ServedConnections, close_shed_connections};
use crate::ingest::writer::{CommitHook, CommitWriter, WriterOptions};
use crate::ingest::{self, DedupCache, IngestState};
use crate::metrics;
use crate::problem::Problem;
use crate::redis_link::RedisLink;
use crate::reload::Reloader;
use crate::replays::{ReplayApi, ReplayRunner};
use crate::retention;
use crate::startup;
use crate::store::Store;
use crate::telemetry;
use crate::tls::reload::CertificateReloader;
use crate::tls::server::ListenerCertificate;
use actix_web::dev::{Server, ServerHandle};
use actix_web::http::StatusCode;
use actix_web::{App, HttpResponse, HttpServer, middleware, web};
use anyhow::Context;
use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// Which parts of hookgate this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Role {
    /// Ingest, admin and delivery workers.
    #[default]
    All,
    /// The public ingest listener (and the admin listener).
    Ingest,
    /// The delivery workers (and the admin listener).
    Worker,
}

impl Role {
    fn ingests(self) -> bool {
        matches!(self, Role::All | Role::Ingest)
    }

    fn delivers(self) -> bool {
        matches!(self, Role::All | Role::Worker)
    }
}

/// How `serve` starts.
#[derive(Debug, Clone, Copy, Default)]
pub struct ServeOptions {
    pub role: Role,
    /// Skip applying pending migrations at start.
    pub no_migrate: bool,
    /// Create the database named in `database.url` when the server does not have it.
    pub create_database: bool,
    /// Sizing of the group-commit writer; its `max_queue_wait` is taken from the config's
    /// `[server] max_queue_wait_ms`.
    pub writer: WriterOptions,
}

/// Connections of the delivery queue's own pool (claims, attempt records, leases), beside
/// `database.max_connections` for everything else.
const DELIVERY_QUEUE_CONNECTIONS: u32 = 4;

/// Connections the admin listener (operators, scrapers) keeps open at once.
const ADMIN_MAX_CONNECTIONS: usize = 1024;

/// How long a new connection has to send its first request's head; a kept-alive ingest
/// connection has as long again after its idle allowance for each later one.
const HEAD_TIMEOUT: Duration = Duration::from_secs(5);

/// How long in-flight requests get to finish at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(30);
/// How long startup waits for Postgres to accept the migrations.
const STARTUP_DB_WAIT: Duration = Duration::from_secs(60);

/// A started gateway: listeners bound, tasks running, until [`Application::shutdown_token`]
/// is cancelled.
pub struct Application {
    ingest_addr: Option<SocketAddr>,
    admin_addr: SocketAddr,
    servers: Vec<(Server, &'static str)>,
    reloader: Reloader,
    store: Store,
    writer_tasks: JoinSet<()>,
    writer_shutdown: CancellationToken,
    background_tasks: JoinSet<()>,
    background_shutdown: CancellationToken,
    shutdown: CancellationToken,
}

impl Application {
    /// Connects, migrates (unless told not to), binds both listeners and starts every task
    /// of `options.role`.
    pub async fn build(
        config: Config,
        config_path: &Path,
        options: ServeOptions,
    ) -> anyhow::Result<Application> {
        let sources = Arc::new(startup::load_sources(&config, config_path)?);
        let transforms = Arc::new(startup::load_transforms(&config, config_path)?);
        for warning in &sources.secret_warnings {
            tracing::warn!("{}: {warning}", config_path.display());
        }
        // Before the database: a listener that cannot serve its certificate stops `serve` at
        // once, not after migrations.
        let ingest_files = config
            .server
            .tls
            .as_ref()
            .filter(|_| options.role.ingests());
        let ingest_tls = listener_certificate("server.tls", ingest_files, config_path)?;
        let admin_tls = listener_certificate(
            "server.admin_tls",
            config.server.admin_tls.as_ref(),
            config_path,
        )?;
        if options.create_database {
            create_database_if_missing(&config.database.url).await?;
        }
        let store = Store::connect_lazy(&config.database.url, config.database.max_connections)
            .context("invalid database.url")?;
        if !options.no_migrate {
            migrate_when_reachable(&store).await?;
        }
        let redis = config
            .redis
            .as_ref()
            .and_then(|r| {
                r.url
                    .as_deref()
                    .map(|url| RedisLink::new(url, &r.key_prefix, r.ca_file.as_deref()))
            })
            .transpose()
            .context("invalid redis.url")?;

        let shutdown = CancellationToken::new();
        let background_shutdown = CancellationToken::new();
        let mut background_tasks = JoinSet::new();
        let activity = Activity::default();
        let queue_store = Store::connect_lazy_relaxed(
            &config.database.url,
            DELIVERY_QUEUE_CONNECTIONS.min(config.database.max_connections),
        )
        .context("invalid database.url")?;
        let consumers = ConsumerWake::default();
        let (local_wakers, inline, circuits) = if options.role.delivers() {
            let delivery = delivery::start(
                &config,
                &queue_store,
                redis.as_ref(),
                &activity,
                &transforms,
                &background_shutdown,
                consumers.clone(),
            )?;
            background_tasks = delivery.tasks;
            background_tasks.spawn(retention::run(
                store.clone(),
                config.retention.days,
                background_shutdown.clone(),
            ));
            (
                delivery.wakers,
                Some(delivery.inline),
                Some(delivery.circuits),
            )
        } else {
            (Wakers::consumers_only(consumers.clone()), None, None)
        };
        background_tasks.spawn(crate::partitions::keep_ahead(
            store.clone(),
            background_shutdown.clone(),
        ));
        background_tasks.spawn(crate::activity::keep_flushing(
            activity.clone(),
            store.clone(),
            background_shutdown.clone(),
        ));
        // Workers, and the long polls of pull consumers (served by every role), hear of
        // commits made by other processes.
        let serves_pull = config.destinations.iter().any(|d| d.is_pull());
        if options.role.delivers() || serves_pull {
            background_tasks.spawn(delivery::listen_for_work(
                store.clone(),
                local_wakers.clone(),
                background_shutdown.clone(),
            ));
        }
        let (remote_wake, notifier) = RemoteWake::start(store.clone(), background_shutdown.clone());
        background_tasks.spawn(async move {
            let _ = notifier.await;
        });
        let admin = web::Data::new(AdminState {
            store: store.clone(),
            sources: sources.clone(),
            token: AdminToken::new(config.admin.token.as_deref()),
            wakers: local_wakers.clone(),
            remote_wake: remote_wake.clone(),
            blocking_destinations: config
                .destinations
                .iter()
                .filter(|d| d.dead_head_blocks())
                .map(|d| d.id.clone())
                .collect(),
        });
        let consume = web::Data::new(ConsumeState::new(
            &config,
            queue_store,
            consumers,
            remote_wake.clone(),
            shutdown.clone(),
        ));
        let console = web::Data::new(Console::new(
            config.admin.token.as_deref(),
            config.admin.secure_cookies,
            Runtime {
                destinations: config.destinations.clone(),
                circuits,
            },
        ));
        background_tasks.spawn(admin::keep_stats_rollup(
            store.clone(),
            background_shutdown.clone(),
        ));
        let on_commit: CommitHook = Arc::new(move |pending: usize| {
            if pending > 0 {
                local_wakers.wake_all();
                remote_wake.mark();
            }
        });

        let destination_ids: Vec<String> =
            config.destinations.iter().map(|d| d.id.clone()).collect();
        if options.role.delivers() {
            let runner = ReplayRunner {
                store: store.clone(),
                destinations: destination_ids.clone(),
                wake: on_commit.clone(),
                shutdown: background_shutdown.clone(),
            };
            background_tasks.spawn(runner.run());
        }

        let writer_shutdown = CancellationToken::new();
        let writer_options = WriterOptions {
            max_queue_wait: Duration::from_millis(config.server.max_queue_wait_ms),
            linger: config.server.commit_linger(),
            ..options.writer
        };
        let (writer, writer_tasks) = CommitWriter::spawn(
            store.clone(),
            writer_options,
            on_commit,
            writer_shutdown.clone(),
        );
        let health = web::Data::new(HealthState {
            store: store.clone(),
            redis: redis.clone(),
        });

        let mut servers = Vec::new();
        let mut ingest_addr = None;
        if options.role.ingests() {
            let retention = Duration::from_secs(u64::from(config.retention.days) * 86_400);
            let state = web::Data::new(IngestState {
                sources,
                store: store.clone(),
                writer,
                dedup: redis.map(|redis| DedupCache::new(redis, retention)),
                max_body_bytes: config.server.max_body_bytes,
                body_budget: BodyBudget::new(config.server.max_inflight_body_bytes),
                inline,
                trust_forwarded_headers: config.server.trust_forwarded_headers,
                request_timeout: Duration::from_millis(config.server.request_timeout_ms),
                activity: activity.clone(),
            });
            let listener = bind(&config.server.listen, "server.listen")?;
            ingest_addr = Some(listener.local_addr()?);
            let health = health.clone();
            let keep_alive = Duration::from_millis(config.server.keep_alive_ms);
            let limits = ConnectionLimits {
                keep_alive,
                connections: Connections::Ingest {
                    served: ServedConnections::new(
                        config.server.max_connections,
                        crate::config::cpus(),
                    ),
                    next_request_within: keep_alive + HEAD_TIMEOUT,
                },
            };
            let server = start_server(listener, ingest_tls.as_ref(), limits, move |cfg| {
                cfg.app_data(state.clone())
                    .app_data(health.clone())
                    .configure(ingest::routes)
                    .configure(health::routes);
            })?;
            servers.push((server, "ingest"));
        }

        background_tasks.spawn(metrics::refresh_queue_gauges(
            store.clone(),
            destination_ids.clone(),
            background_shutdown.clone(),
        ));
        let replay_api = web::Data::new(ReplayApi {
            store: store.clone(),
            destinations: destination_ids,
        });
        let listener = bind(&config.server.admin_listen, "server.admin_listen")?;
        let admin_addr = listener.local_addr()?;
        let server = start_server(
            listener,
            admin_tls.as_ref(),
            ConnectionLimits {
                keep_alive: Duration::from_millis(config.server.keep_alive_ms),
                connections: Connections::AtMost(ADMIN_MAX_CONNECTIONS),
            },
            move |cfg| {
                cfg.app_data(health.clone())
                    .app_data(replay_api.clone())
                    .app_data(admin.clone())
                    .app_data(console.clone())
                    .app_data(consume.clone())
                    .configure(health::routes)
                    .configure(metrics::routes)
                    .configure(admin::routes)
                    .configure(consume::routes)
                    .configure(console::routes);
            },
        )?;
        servers.push((server, "admin"));

        tracing::info!(?ingest_addr, %admin_addr, role = ?options.role, "hookgate started");
        Ok(Application {
            ingest_addr,
            admin_addr,
            servers,
            reloader: Reloader {
                certificates: CertificateReloader::new(ingest_tls.into_iter().chain(admin_tls)),
                transforms,
            },
            store,
            writer_tasks,
            writer_shutdown,
            background_tasks,
            background_shutdown,
            shutdown,
        })
    }

    /// The bound ingest address, when this process ingests.
    pub fn ingest_addr(&self) -> Option<SocketAddr> {
        self.ingest_addr
    }

    /// The bound admin address.
    pub fn admin_addr(&self) -> SocketAddr {
        self.admin_addr
    }

    /// What `SIGHUP` reloads: the listeners' certificates and the transforms' scripts.
    pub fn reloader(&self) -> Reloader {
        self.reloader.clone()
    }

    /// Cancel this token to stop gracefully.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shutdown.clone()
    }

    /// Serves until the shutdown token is cancelled or a listener fails; then stops taking
    /// requests, lets in-flight ones finish, flushes the commit queue and closes the pool.
    pub async fn run(mut self) -> anyhow::Result<()> {
        let mut running = JoinSet::new();
        let mut handles: Vec<ServerHandle> = Vec::new();
        for (server, name) in self.servers.drain(..) {
            handles.push(server.handle());
            running.spawn(async move { (name, server.await) });
        }
        let failure = tokio::select! {
            () = self.shutdown.cancelled() => None,
            Some(Ok((name, result))) = running.join_next() => {
                Some(anyhow::anyhow!("{name} listener stopped: {result:?}"))
            }
        };
        tracing::info!("shutting down: finishing in-flight requests");
        for handle in &handles {
            handle.stop(true).await;
        }
        self.writer_shutdown.cancel();
        while self.writer_tasks.join_next().await.is_some() {}
        self.background_shutdown.cancel();
        while self.background_tasks.join_next().await.is_some() {}
        self.store.close().await;
        tracing::info!("hookgate stopped");
        failure.map_or(Ok(()), Err)
    }
}

/// The certificate of the listener configured at `key`, when it serves TLS; an unusable file
/// is an error naming its key and path.
fn listener_certificate(
    key: &'static str,
    files: Option<&ListenerTlsConfig>,
    config_path: &Path,
) -> anyhow::Result<Option<Arc<ListenerCertificate>>> {
    files
        .map(|files| ListenerCertificate::load(key, files))
        .transpose()
        .map_err(|finding| anyhow::anyhow!("{}: {finding}", config_path.display()))
}

/// Connections the kernel completes and queues for a listener while hookgate serves its
/// `max_connections` (the kernel caps it at `net.core.somaxconn`). The standard library
/// listens with 128: under a flood the connections beyond the cap plus those 128 had their
/// handshakes dropped and timed out instead of waiting their turn.
const LISTEN_BACKLOG: i32 = 4096;

fn bind(address: &str, key: &str) -> anyhow::Result<TcpListener> {
    let listener = TcpListener::bind(address)
        .with_context(|| format!("cannot listen on {address} ({key})"))?;
    // Listening again on a listening socket only changes its backlog.
    socket2::SockRef::from(&listener)
        .listen(LISTEN_BACKLOG)
        .with_context(|| format!("cannot set the backlog of {address} ({key})"))?;
    Ok(listener)
}

/// How many connections a listener keeps and for how long.
struct ConnectionLimits {
    /// How long a connection may stay idle between requests.
    keep_alive: Duration,
    connections: Connections,
}

/// Which connections a listener serves.
enum Connections {
    /// At most this many open at once (at least one per worker); the rest wait unaccepted.
    AtMost(usize),
    /// The ingest listener's: beyond `served`'s connections a few are accepted to be shed
    /// (see [`ingest::shedding`]), and a served connection whose next request head is not
    /// complete `next_request_within` after its last answer is closed (see
    /// [`ingest::next_request`]).
    Ingest {
        served: ServedConnections,
        next_request_within: Duration,
    },
}

/// Starts an HTTP server on `listener` with the shared middleware and 404 handler around the
/// routes `configure` registers, over TLS when `tls` is given, within `limits`.
fn start_server(
    listener: TcpListener,
    tls: Option<&Arc<ListenerCertificate>>,
    limits: ConnectionLimits,
    configure: impl Fn(&mut web::ServiceConfig) + Send + Clone + 'static,
) -> anyhow::Result<Server> {
    let workers = crate::config::cpus();
    let ingest = matches!(limits.connections, Connections::Ingest { .. });
    let max_connections = match &limits.connections {
        Connections::AtMost(max) => *max,
        Connections::Ingest { served, .. } => served.accepted_at_once(),
    };
    let server = HttpServer::new(move || {
        App::new()
            .wrap(middleware::Condition::new(
                ingest,
                middleware::from_fn(close_shed_connections),
            ))
            .wrap(middleware::Condition::new(
                ingest,
                middleware::from_fn(watch_next_request),
            ))
            .wrap(middleware::from_fn(telemetry::request_id))
            .configure(configure.clone())
            .default_service(web::to(not_found))
    })
    .workers(workers)
    .max_connections(max_connections.div_ceil(workers))
    .keep_alive(limits.keep_alive)
    .client_request_timeout(HEAD_TIMEOUT)
    .shutdown_timeout(SHUTDOWN_GRACE.as_secs())
    .disable_signals();
    let server = match limits.connections {
        Connections::Ingest {
            served,
            next_request_within,
        } => server.on_connect(move |io, extensions| {
            if served.admit(extensions) {
                ConnectionWatch::attach(io, extensions, next_request_within);
            }
        }),
        Connections::AtMost(_) => server,
    };
    let server = match tls {
        Some(certificate) => server.listen_rustls_0_23(listener, certificate.server_config())?,
        None => server.listen(listener)?,
    };
    Ok(server.run())
}

async fn not_found() -> HttpResponse {
    Problem::new(StatusCode::NOT_FOUND, "not_found", "No such route").response()
}

/// Creates the configured database when it is missing, and says so.
pub async fn create_database_if_missing(url: &str) -> anyhow::Result<()> {
    if Store::create_database_if_missing(url)
        .await
        .context("creating the database named in database.url")?
    {
        tracing::info!("created the database named in database.url");
    }
    Ok(())
}

/// Applies migrations, waiting (with backoff) for Postgres to come up first.
async fn migrate_when_reachable(store: &Store) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        match store.migrate().await {
            Ok(()) => return Ok(()),
            Err(err) if err.is_tls_refusal() => {
                return Err(err).context("connecting to the database over TLS");
            }
            Err(err) if started.elapsed() < STARTUP_DB_WAIT => {
                tracing::warn!(error = %err, "database not ready; retrying migrations");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(5));
            }
            Err(err) => return Err(err).context("applying migrations"),
        }
    }
}
