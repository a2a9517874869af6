//! One QuickJS runtime: the sandbox a transform runs in. It has the language and JSON, and no
//! filesystem, network, timers or clock (`Date` is not there): what a script sees is what the
//! event carries. Each call runs under a wall-clock deadline and the runtime's memory limit; a
//! script that loops or allocates without end is stopped, and the runtime is rebuilt afterwards
//! so whatever it left behind cannot affect the next call.
//!
//! A script is evaluated once per runtime and version, wrapped in a function so that its
//! top-level names stay its own: `handler` of one script never meets another's.

use rquickjs::context::{EvalOptions, intrinsic};
use rquickjs::{CatchResultExt, CaughtError, Context, Function, Persistent, Runtime};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// A script as loaded from `transforms/NAME.js`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    pub name: String,
    /// Where it came from, for error messages.
    pub file: String,
    pub source: String,
    /// Changes whenever the script is reloaded with a different text.
    pub version: u64,
}

/// Why a script did not produce an answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The script does not compile or defines no `handler` function (file and line).
    #[error("{0}")]
    Compile(String),
    /// `handler` threw: the exception's message and where.
    #[error("{0}")]
    Threw(String),
    #[error("ran longer than {} ms", .0.as_millis())]
    TimedOut(Duration),
    #[error("exceeded its memory limit of {0} MiB")]
    OutOfMemory(usize),
    /// Every sandbox thread is taken and the queue is full: tried again later.
    #[error("every transform thread is busy")]
    Busy,
}

/// The QuickJS intrinsics a transform gets: no `Date`, no `Promise` (nothing to wait for).
type Intrinsics = (
    intrinsic::Eval,
    intrinsic::Json,
    intrinsic::RegExp,
    intrinsic::MapSet,
    intrinsic::TypedArrays,
    intrinsic::RegExpCompiler,
);

/// Wraps a script so its names are local, and returns the function a call goes through:
/// JSON text in, JSON text out. The script starts on the first line, so line numbers in
/// errors are the file's own.
fn wrapped(source: &str) -> String {
    format!(
        "(function () {{ {source}\n;\
         if (typeof handler !== 'function') throw new Error('defines no function handler(event)');\
         return function (input) {{\
           const result = handler(JSON.parse(input));\
           if (result === undefined) throw new Error('handler returned nothing: return an object, or null to skip');\
           return JSON.stringify(result);\
         }}; }})()"
    )
}

/// An exception a call ended with, as read inside the context.
struct Thrown {
    message: String,
    /// The script (or QuickJS itself) threw `null`.
    null: bool,
}

pub struct Sandbox {
    runtime: Runtime,
    context: Context,
    /// When the current call must stop, in nanoseconds since `epoch`; 0 when idle.
    deadline: Arc<AtomicU64>,
    epoch: Instant,
    memory_mb: usize,
    runners: HashMap<String, (u64, Persistent<Function<'static>>)>,
}

impl Sandbox {
    pub fn new(memory_mb: usize) -> Result<Sandbox, String> {
        let runtime = Runtime::new().map_err(|err| format!("QuickJS runtime: {err}"))?;
        runtime.set_memory_limit(memory_mb * 1024 * 1024);
        let deadline = Arc::new(AtomicU64::new(0));
        let epoch = Instant::now();
        let watched = deadline.clone();
        runtime.set_interrupt_handler(Some(Box::new(move || {
            let due = watched.load(Ordering::Relaxed);
            due != 0 && epoch.elapsed().as_nanos() as u64 > due
        })));
        let context = Context::custom::<Intrinsics>(&runtime)
            .map_err(|err| format!("QuickJS context: {err}"))?;
        Ok(Sandbox {
            runtime,
            context,
            deadline,
            epoch,
            memory_mb,
            runners: HashMap::new(),
        })
    }

    /// Compiles `script` in a throwaway sandbox: what `check-config` and a reload report.
    pub fn check(script: &Script, memory_mb: usize) -> Result<(), Failure> {
        let mut sandbox = Sandbox::new(memory_mb).map_err(Failure::Compile)?;
        sandbox.runner(script, Duration::from_secs(1)).map(drop)
    }

    /// Runs `script`'s handler on `input` (the event as JSON) within `limit`: the returned
    /// value as JSON.
    pub fn call(
        &mut self,
        script: &Script,
        input: &str,
        limit: Duration,
    ) -> Result<String, Failure> {
        let result = self.runner(script, limit).and_then(|runner| {
            self.context.with(|ctx| {
                let function = runner
                    .restore(&ctx)
                    .map_err(|err| Failure::Threw(err.to_string()))?;
                self.arm(limit);
                let answer = function.call::<_, String>((input,)).catch(&ctx);
                self.disarm();
                Ok(answer.map_err(|caught| Thrown {
                    message: describe(&caught, &script.file),
                    null: matches!(&caught, CaughtError::Value(value) if value.is_null()),
                }))
            })
        });
        let result = result.and_then(|answer| answer.map_err(|thrown| self.failure(thrown, limit)));
        if matches!(result, Err(Failure::TimedOut(_) | Failure::OutOfMemory(_))) {
            self.rebuild();
        }
        result
    }

    /// The compiled runner of `script`, evaluating it if this sandbox has not seen this version.
    fn runner(
        &mut self,
        script: &Script,
        limit: Duration,
    ) -> Result<Persistent<Function<'static>>, Failure> {
        if let Some((version, runner)) = self.runners.get(&script.name)
            && *version == script.version
        {
            return Ok(runner.clone());
        }
        let runner = self.context.with(|ctx| {
            let mut options = EvalOptions::default();
            options.filename = Some(script.file.clone());
            options.strict = false;
            self.arm(limit);
            let evaluated = ctx
                .eval_with_options::<Function, _>(wrapped(&script.source), options)
                .catch(&ctx);
            self.disarm();
            match evaluated {
                Ok(function) => Ok(Persistent::save(&ctx, function)),
                Err(caught) => Err(Failure::Compile(describe(&caught, &script.file))),
            }
        })?;
        self.runners
            .insert(script.name.clone(), (script.version, runner.clone()));
        Ok(runner)
    }

    fn arm(&self, limit: Duration) {
        let due = (self.epoch.elapsed() + limit).as_nanos() as u64;
        self.deadline.store(due.max(1), Ordering::Relaxed);
    }

    fn disarm(&self) {
        self.deadline.store(0, Ordering::Relaxed);
    }

    /// What a call's exception means. Out of memory, QuickJS may not even manage to build
    /// its "out of memory" error and throws `null` instead (and by the time the call returns,
    /// the heap the script built is freed, so usage cannot tell): a thrown `null` is read as
    /// the memory limit. A script's own `throw null` reads the same; it is rare, and the only
    /// cost is the message.
    fn failure(&self, thrown: Thrown, limit: Duration) -> Failure {
        if thrown.message.contains("interrupted") {
            Failure::TimedOut(limit)
        } else if thrown.null || thrown.message.contains("out of memory") {
            Failure::OutOfMemory(self.memory_mb)
        } else {
            Failure::Threw(thrown.message)
        }
    }

    /// A fresh runtime after a call was stopped: it may have left the heap full or half-built
    /// state behind.
    fn rebuild(&mut self) {
        if let Ok(fresh) = Sandbox::new(self.memory_mb) {
            *self = fresh;
        }
    }
}

impl Drop for Sandbox {
    /// Persistent handles must go before their runtime does.
    fn drop(&mut self) {
        self.runners.clear();
        self.runtime.run_gc();
    }
}

/// An exception as one line: its message and the first frame of the script's own file.
fn describe(caught: &CaughtError, file: &str) -> String {
    match caught {
        CaughtError::Exception(exception) => {
            let message = exception.message().unwrap_or_else(|| "exception".into());
            let frame = exception
                .stack()
                .unwrap_or_default()
                .lines()
                .map(str::trim)
                .find(|line| line.contains(file))
                .map(|line| line.trim_start_matches("at ").to_owned());
            match frame {
                Some(frame) => format!(
                    "{message} ({})",
                    frame
                        .trim_start_matches("<anonymous> (")
                        .trim_end_matches(')')
                ),
                None => message,
            }
        }
        CaughtError::Value(value) => match value.as_string().and_then(|s| s.to_string().ok()) {
            Some(text) => format!("threw {text:?}"),
            None => format!("threw a {}", value.type_name()),
        },
        CaughtError::Error(err) => err.to_string(),
    }
}
