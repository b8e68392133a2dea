//! The project a command works on: its directory, the provider catalog, loading an environment
//! with diagnostics, opening its state store, and making a plan — the steps `validate`, `plan`,
//! `apply`, `destroy` and `graph` share.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;

use super::output::{Reported, use_color};
use crate::addr::{AddrSelector, ResourceAddr};
use crate::engine;
use crate::graph::ConfigGraph;
use crate::plan::diff::{PlanInputs, PlanOptions, make_plan};
use crate::plan::{Plan, PlanMode, StateRef};
use crate::providers::{Catalog, ProviderSet};
use crate::spec::diagnostic::{Diagnostic, Sources};
use crate::spec::load::load_environment_telling_backend;
use crate::spec::model::{Backend, Environment};
use crate::state::local::LocalStore;
use crate::state::s3::S3Store;
use crate::state::{LockInfo, State, StateLock, StateStore, default_state_path};
use crate::value::Value;

pub struct Context {
    pub dir: PathBuf,
    /// Shared with the thread that loads the spec while the state is read.
    pub catalog: Arc<Catalog>,
    pub color: bool,
}

/// A loaded, graphed environment.
pub struct Loaded {
    pub env: Environment,
    pub graph: ConfigGraph,
    pub sources: Sources,
}

/// A plan made from an environment, with what apply needs next.
pub struct Planned {
    pub plan: Plan,
    /// The state after refresh: what apply starts from.
    pub state: State,
    pub providers: ProviderSet,
    pub store: Box<dyn StateStore>,
    /// Held until the command ends.
    pub _lock: Box<dyn StateLock>,
}

impl Planned {
    /// Releases the state lock and the providers (which print their API call summaries as
    /// they go) and leaves the plan and state to the end of the process, which is near:
    /// freeing them tree by tree costs a tenth of a large plan's run time, and the operating
    /// system takes the memory back at once.
    pub fn release(self) {
        let Planned {
            plan,
            state,
            providers,
            store,
            _lock,
        } = self;
        drop(_lock);
        drop(providers);
        drop(store);
        std::mem::forget((plan, state));
    }
}

/// Flags shared by the commands that plan.
#[derive(Debug, Clone, clap::Args)]
pub struct PlanFlags {
    /// Read the cloud before planning (default true); `--refresh=false` plans from state alone.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub refresh: bool,
    /// How long to wait for a state lock held by someone else, e.g. 30s or 2m (default: fail at once).
    #[arg(long, value_parser = parse_duration, default_value = "0s", value_name = "DURATION")]
    pub lock_timeout: Duration,
    /// Replace this instance even if nothing forces it (repeatable).
    #[arg(long = "replace", value_name = "ADDRESS")]
    pub replace: Vec<ResourceAddr>,
    /// Plan only this address and what it depends on (repeatable; `module.NAME` targets
    /// everything in the module). The plan warns that it is partial.
    #[arg(long = "target", value_name = "ADDRESS")]
    pub target: Vec<AddrSelector>,
    /// Only read the cloud: the plan records in state what changed outside cairn, and changes
    /// nothing in the cloud.
    #[arg(long)]
    pub refresh_only: bool,
    /// How many provider operations run at once.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub parallelism: usize,
}

pub use crate::spec::duration::parse_duration;

impl Context {
    pub fn new(chdir: Option<&Path>, no_color: bool) -> anyhow::Result<Context> {
        let dir = match chdir {
            Some(d) => d.to_path_buf(),
            None => std::env::current_dir().context("reading the current directory")?,
        };
        if !dir.is_dir() {
            anyhow::bail!("{} is not a directory", dir.display());
        }
        Ok(Context {
            dir,
            catalog: Arc::new(crate::providers::builtin_catalog()),
            color: use_color(no_color),
        })
    }

    /// Loads and graphs an environment, printing warnings; errors come back rendered.
    pub fn load(&self, env: &str) -> anyhow::Result<Loaded> {
        load_graphed(&self.dir, env, &self.catalog, |_| {})
    }

    /// [`Context::load`], and side by side with it the state's lock and the state: the state's
    /// location is known as soon as the environment file is read, and reading a large state
    /// takes about as long as loading the modules of its spec. Errors in the spec come first:
    /// they are reported without waiting for a lock.
    async fn load_with_state(
        &self,
        env: &str,
        operation: &str,
        lock_timeout: Duration,
    ) -> anyhow::Result<(
        Loaded,
        Box<dyn StateStore>,
        Box<dyn StateLock>,
        Option<State>,
    )> {
        let (backend_tx, backend_rx) = tokio::sync::oneshot::channel::<Backend>();
        let mut loading = {
            let (dir, env, catalog) = (self.dir.clone(), env.to_string(), self.catalog.clone());
            tokio::task::spawn_blocking(move || {
                load_graphed(&dir, &env, &catalog, |backend| {
                    let _ = backend_tx.send(backend.clone());
                })
            })
        };
        let state = async {
            // No backend: the environment file has errors, which the loader reports.
            let backend = backend_rx.await.ok()?;
            let store = self.store(env, &backend);
            let read = lock_and_read(&*store, operation, lock_timeout).await;
            Some((store, read))
        };
        tokio::pin!(state);
        let joined = |joined: Result<anyhow::Result<Loaded>, tokio::task::JoinError>| {
            joined.map_err(|e| anyhow::anyhow!("loading the environment failed: {e}"))?
        };
        let (loaded, state) = tokio::select! {
            loaded = &mut loading => {
                let loaded = joined(loaded)?;
                (loaded, state.await)
            }
            state = &mut state => (joined(loading.await)?, state),
        };
        // A spec that loaded had its backend handed over; should that ever change, the state
        // is read after the load instead of not at all.
        let (store, read) = match state {
            Some(state) => state,
            None => {
                let store = self.store(env, &loaded.env.backend);
                let read = lock_and_read(&*store, operation, lock_timeout).await;
                (store, read)
            }
        };
        let (lock, stored) = read?;
        Ok((loaded, store, lock, stored))
    }

    pub fn store(&self, env: &str, backend: &Backend) -> Box<dyn StateStore> {
        let path = match backend {
            Backend::Local { path: Some(p) } => self.dir.join(p),
            Backend::Local { path: None } => default_state_path(&self.dir, env),
            Backend::S3(location) => {
                return Box::new(S3Store::new(location.clone(), env.to_string()));
            }
        };
        let display = path
            .strip_prefix(&self.dir)
            .unwrap_or(&path)
            .display()
            .to_string();
        Box::new(LocalStore::new(path, display, env.to_string()))
    }

    /// The plan of an environment as if nothing existed yet, without touching state or the
    /// cloud: what `validate` checks and `graph` draws.
    pub async fn plan_from_scratch(&self, loaded: &Loaded) -> anyhow::Result<Plan> {
        let empty = State::new(&loaded.env.name);
        let plan = make_plan(
            PlanInputs {
                env: &loaded.env,
                graph: &loaded.graph,
                schemas: &self.catalog.schemas,
                prior_state: StateRef::of(None),
                refreshed: &empty,
                live: &BTreeMap::new(),
                providers: None,
            },
            &PlanOptions {
                mode: crate::plan::PlanMode::Normal,
                replace: Vec::new(),
            },
        )
        .await
        .map_err(|d| diagnostics_error(&loaded.sources, &d))?;
        Ok(plan)
    }

    /// The environment's provider instances; a bad setting points at its provider block.
    fn providers(
        &self,
        loaded: &Loaded,
        configs: &[crate::providers::ProviderConfig],
    ) -> anyhow::Result<ProviderSet> {
        let mut set = ProviderSet::default();
        for config in configs {
            match self.catalog.instantiate(config) {
                Ok(provider) => {
                    set.instances.insert(config.key(), provider);
                }
                Err(e) => {
                    // Only a declared block has settings that can be wrong.
                    let Some(block) = loaded
                        .env
                        .providers
                        .iter()
                        .find(|b| b.key() == config.key())
                    else {
                        anyhow::bail!("provider `{}`: {}", config.key(), e.message);
                    };
                    let d = Diagnostic::error_at(e.message, &block.span);
                    return Err(diagnostics_error(&loaded.sources, &[d]).into());
                }
            }
        }
        Ok(set)
    }

    /// Lock, read state, refresh, diff: the first half of `plan`, `apply` and `destroy`.
    pub async fn plan(
        &self,
        env: &str,
        flags: &PlanFlags,
        options: &PlanOptions,
        operation: &str,
    ) -> anyhow::Result<(Loaded, Planned)> {
        let (loaded, store, lock, stored) = self
            .load_with_state(env, operation, flags.lock_timeout)
            .await?;
        let prior_state = StateRef::of(stored.as_ref());
        let mut state = stored.unwrap_or_else(|| State::new(env));
        // Renames first: refresh and diff then see each moved object under its new address.
        let moved = crate::plan::moved::resolve_moves(&loaded.env, &mut state)
            .map_err(|d| diagnostics_error(&loaded.sources, &d))?;

        // Providers come from the spec's provider blocks, evaluated without touching resources.
        let configs = crate::spec::evaluate::provider_configs(&loaded.env)
            .map_err(|d| diagnostics_error(&loaded.sources, &d))?;
        let providers = self.providers(&loaded, &configs)?;

        // Only a refresh can drift, and only then is the state before it needed: a copy of a
        // large state costs a tenth of a plan without refresh.
        let mut prior = None;
        let mut gone = Vec::new();
        let mut live = BTreeMap::new();
        if flags.refresh && !state.resources.is_empty() {
            let refreshed = engine::refresh(
                &state,
                &providers,
                &engine::RefreshOptions {
                    parallelism: flags.parallelism.max(1),
                    retry: engine::RetryPolicy::default(),
                    // A request in flight lands within seconds; this is ten.
                    settle: Duration::from_secs(10),
                },
            )
            .await?;
            prior = Some(std::mem::replace(&mut state, refreshed.state));
            live = refreshed.live;
            gone = refreshed.gone;
        }
        let mut plan = make_plan(
            PlanInputs {
                env: &loaded.env,
                graph: &loaded.graph,
                schemas: &self.catalog.schemas,
                prior_state,
                refreshed: &state,
                live: &live,
                providers: Some(&providers),
            },
            options,
        )
        .await
        .map_err(|d| diagnostics_error(&loaded.sources, &d))?;
        plan.moved = moved;
        if let Some(prior) = &prior {
            plan.drift = crate::plan::drift::detect(prior, &state, &gone, &self.catalog.schemas);
        }
        if options.mode == PlanMode::RefreshOnly {
            // Nothing is planned against the cloud; the drift is the whole plan.
            plan.changes.clear();
            plan.outputs.clear();
        }
        if !flags.target.is_empty() {
            crate::plan::target::restrict_to_targets(&mut plan, &flags.target);
        }
        // A saved plan must find this state again without reading the YAML.
        match &loaded.env.backend {
            Backend::Local { path } => {
                plan.prior_state.path = path.as_ref().map(|p| p.to_string_lossy().into_owned());
            }
            Backend::S3(location) => plan.prior_state.s3 = Some(location.clone()),
        }
        Ok((
            loaded,
            Planned {
                plan,
                state,
                providers,
                store,
                _lock: lock,
            },
        ))
    }
}

/// Takes the state's lock for `operation`, then reads the state.
pub async fn lock_and_read(
    store: &dyn StateStore,
    operation: &str,
    lock_timeout: Duration,
) -> anyhow::Result<(Box<dyn StateLock>, Option<State>)> {
    let lock = store
        .lock(LockInfo::for_current_process(operation), lock_timeout)
        .await
        .map_err(lock_error)?;
    let stored = store.load().await?;
    Ok((lock, stored))
}

/// Loads and graphs an environment, printing warnings; errors come back rendered. `on_backend`
/// as in [`load_environment_telling_backend`].
fn load_graphed(
    dir: &Path,
    env: &str,
    catalog: &Catalog,
    on_backend: impl FnOnce(&Backend),
) -> anyhow::Result<Loaded> {
    let loaded = load_environment_telling_backend(dir, env, &catalog.schemas, on_backend);
    let sources = loaded.sources;
    let (errors, warnings): (Vec<Diagnostic>, Vec<Diagnostic>) = loaded
        .diagnostics
        .into_iter()
        .partition(Diagnostic::is_error);
    for w in &warnings {
        eprint!("{}", sources.render(w));
    }
    let Some(environment) = loaded.env.filter(|_| errors.is_empty()) else {
        return Err(diagnostics_error(&sources, &errors).into());
    };
    let graph = ConfigGraph::build(&environment).map_err(|d| diagnostics_error(&sources, &d))?;
    Ok(Loaded {
        env: environment,
        graph,
        sources,
    })
}

pub fn diagnostics_error(sources: &Sources, diags: &[Diagnostic]) -> Reported {
    let mut text = String::new();
    for d in diags {
        text.push_str(&sources.render(d));
        text.push('\n');
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    if errors > 1 {
        text.push_str(&format!("error: found {errors} problems\n"));
    }
    Reported(text)
}

/// A held lock is reported with who holds it and since when.
pub fn lock_error(err: crate::state::StateError) -> anyhow::Error {
    match &err {
        crate::state::StateError::Locked {
            holder,
            environment,
        } => {
            let unlock = if holder.is_unknown() {
                String::new()
            } else {
                format!(
                    ";\n  if that run died and left its lock behind, `cairn force-unlock {} -e {environment}` removes it",
                    holder.id
                )
            };
            anyhow::anyhow!(
                "{err}\n  held by: {holder}\n  wait for it to finish, or retry with --lock-timeout 60s{unlock}"
            )
        }
        _ => err.into(),
    }
}

/// A value for a terminal: secrets masked.
pub fn show_value(value: &Value) -> String {
    match value {
        Value::String(s) => format!("{s:?}"),
        other => other.to_string(),
    }
}
