//! The `herald` command line: parses arguments, sets up logging, loads the config and hands
//! over to the library.

use std::path::PathBuf;
use std::process::ExitCode;
#[cfg(feature = "console")]
use std::time::Duration;

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use herald::app::App;
use herald::commands::{self, DeadLetterAction, MessagesAction, SendArgs, SubscribersAction};
use herald::config::Config;
use tracing_subscriber::EnvFilter;

/// herald: live football data in, notifications out, everywhere at once.
#[derive(Debug, Parser)]
#[command(version, about)]
struct Cli {
    /// Config file (TOML). Without one herald runs its built-in demo.
    #[arg(long, short, global = true, env = "HERALD_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the service: poll sources, deliver notifications, serve the page and the stream.
    Run,
    /// Apply database migrations and exit.
    Migrate,
    /// Validate the configuration and print what would run.
    CheckConfig,
    /// Play a recorded match (a fixture directory) through the pipeline and print the messages.
    #[cfg(feature = "console")]
    Replay {
        /// The fixture directory (with manifest.json and steps/).
        dir: PathBuf,
        /// How many times faster than real time.
        #[arg(long, default_value_t = 60.0)]
        speed: f64,
        /// The longest pause between two steps.
        #[arg(long, default_value = "30s", value_parser = humantime::parse_duration)]
        max_gap: Duration,
        /// Locale of the printed messages (en, pt-BR).
        #[arg(long)]
        locale: Option<String>,
    },
    /// List deliveries that were given up on, or queue them again.
    DeadLetters {
        /// Queue this dead letter again.
        #[arg(long, conflicts_with = "retry_all")]
        retry: Option<i64>,
        /// Queue every dead letter again.
        #[arg(long)]
        retry_all: bool,
        /// How many to list.
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Send, schedule, list, inspect, cancel or purge messages, through the running herald's
    /// messages API.
    Messages {
        /// herald's base URL (default: http://<http.listen>).
        #[arg(long, global = true)]
        url: Option<String>,
        /// An API token (default: http.admin_token).
        #[arg(long, global = true, env = "HERALD_TOKEN", hide_env_values = true)]
        token: Option<String>,
        #[command(subcommand)]
        action: MessagesCommand,
    },
    /// Push match snapshots from a file (or - for stdin) to the running herald, as a
    /// producer would (POST /api/v1/ingest).
    Ingest {
        /// The file: pushes, bare snapshots, arrays of them, or one per line.
        file: std::path::PathBuf,
        /// The push source of bare snapshots (default: the only one).
        #[arg(long)]
        source: Option<String>,
        /// herald's base URL (default: http://<http.listen>).
        #[arg(long)]
        url: Option<String>,
        /// An API token with the ingest scope (default: http.admin_token).
        #[arg(long, env = "HERALD_TOKEN", hide_env_values = true)]
        token: Option<String>,
    },
    /// List, add, remove or export subscribers (SMS numbers, chats).
    Subscribers {
        /// The sink instance (default: the only twilio sink).
        #[arg(long, global = true)]
        sink: Option<String>,
        #[command(subcommand)]
        action: SubscribersCommand,
    },
}

#[derive(Debug, Subcommand)]
enum MessagesCommand {
    /// Send a message now, or at --at.
    Send {
        /// The text.
        body: String,
        /// A headline.
        #[arg(long)]
        title: Option<String>,
        /// A recipient as sink:address (sms:+14155552671, tg:-100123), or a stream's sink
        /// id alone (sse); repeat for several.
        #[arg(long = "to")]
        to: Vec<String>,
        /// When to send it (RFC 3339: 2026-06-11T18:00:00Z).
        #[arg(long)]
        at: Option<String>,
        /// Instead of --to: whoever follows this topic.
        #[arg(long)]
        topic: Option<String>,
        /// Instead of --to: whoever follows this team (repeat).
        #[arg(long = "team")]
        teams: Vec<String>,
        /// Only followers of these kinds or groups (repeat).
        #[arg(long = "kind")]
        kinds: Vec<String>,
        /// Locale of every delivery.
        #[arg(long)]
        locale: Option<String>,
        /// An idempotency key: sending again with it sends nothing more.
        #[arg(long)]
        key: Option<String>,
    },
    /// List messages, newest first.
    List {
        /// scheduled, queued, sending, delivered, failed or cancelled.
        #[arg(long)]
        status: Option<String>,
        /// How many.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// Where the previous page ended.
        #[arg(long)]
        cursor: Option<String>,
    },
    /// Show a message and each of its deliveries.
    Show {
        /// The message id.
        id: String,
    },
    /// Cancel what is not sent yet.
    Cancel {
        /// The message id.
        id: String,
    },
    /// Delete finished messages: delivered, failed or cancelled.
    Purge {
        /// delivered, failed or cancelled.
        #[arg(long)]
        status: String,
    },
}

#[derive(Debug, Subcommand)]
enum SubscribersCommand {
    /// Print every subscription (of --sink, or of all sinks).
    List,
    /// Subscribe a number or chat, active at once: you vouch for its consent.
    Add {
        /// A phone number (SMS) or a chat id.
        recipient: String,
        /// A team or competition to follow (repeat for several; none: everything).
        #[arg(long = "follow")]
        follow: Vec<String>,
        /// A kind or group to receive (goals, cards, …; repeat; none: all).
        #[arg(long = "kind")]
        kinds: Vec<String>,
        /// Locale of its notifications (en, pt-BR).
        #[arg(long)]
        locale: Option<String>,
    },
    /// Remove every subscription of a number or chat.
    Remove {
        /// A phone number (SMS) or a chat id.
        recipient: String,
    },
    /// Print every subscription as CSV.
    Export,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Commands that print their own output keep the logs to warnings.
    let quiet = !matches!(cli.command, Command::Run | Command::Migrate);
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(if quiet { "warn" } else { "info" }));
    tracing_subscriber::fmt()
        .fmt_fields(herald::logs::Redacted::default())
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    herald::app::install_crypto_provider();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    #[cfg(feature = "console")]
    if let Command::Replay {
        dir,
        speed,
        max_gap,
        locale,
    } = &cli.command
    {
        return commands::replay(dir, *speed, *max_gap, locale.clone()).await;
    }
    let config = Config::load(cli.config.as_deref(), std::env::vars())?;
    match cli.command {
        Command::Run => {
            let app = App::builder(config).build().await?;
            app.run(herald::shutdown_signal()).await
        }
        Command::Migrate => {
            let applied = commands::migrate(&config).await?;
            println!("{applied} migration(s) applied");
            Ok(())
        }
        Command::CheckConfig => {
            print!("{}", commands::describe(&config));
            Ok(())
        }
        Command::DeadLetters {
            retry,
            retry_all,
            limit,
        } => {
            let action = match (retry, retry_all) {
                (Some(id), _) => DeadLetterAction::Retry(id),
                (None, true) => DeadLetterAction::RetryAll,
                (None, false) => DeadLetterAction::List { limit },
            };
            print!("{}", commands::dead_letters(&config, action).await?);
            Ok(())
        }
        Command::Messages { url, token, action } => {
            let remote = commands::Remote::new(&config, url, token.map(Into::into))?;
            let action = match action {
                MessagesCommand::Send {
                    body,
                    title,
                    to,
                    at,
                    topic,
                    teams,
                    kinds,
                    locale,
                    key,
                } => MessagesAction::Send(Box::new(SendArgs {
                    body,
                    title,
                    to,
                    at,
                    topic,
                    teams,
                    kinds,
                    locale,
                    key,
                })),
                MessagesCommand::List {
                    status,
                    limit,
                    cursor,
                } => MessagesAction::List {
                    status,
                    limit,
                    cursor,
                },
                MessagesCommand::Show { id } => MessagesAction::Show { id },
                MessagesCommand::Cancel { id } => MessagesAction::Cancel { id },
                MessagesCommand::Purge { status } => MessagesAction::Purge { status },
            };
            print!("{}", commands::messages(&remote, action).await?);
            Ok(())
        }
        Command::Ingest {
            file,
            source,
            url,
            token,
        } => {
            let remote = commands::Remote::new(&config, url, token.map(Into::into))?;
            let text = if file.as_os_str() == "-" {
                std::io::read_to_string(std::io::stdin()).context("cannot read stdin")?
            } else {
                std::fs::read_to_string(&file)
                    .with_context(|| format!("cannot read {}", file.display()))?
            };
            print!(
                "{}",
                commands::ingest(&remote, &text, source.as_deref()).await?
            );
            Ok(())
        }
        Command::Subscribers { sink, action } => {
            let action = match action {
                SubscribersCommand::List => SubscribersAction::List,
                SubscribersCommand::Export => SubscribersAction::Export,
                SubscribersCommand::Add {
                    recipient,
                    follow,
                    kinds,
                    locale,
                } => SubscribersAction::Add {
                    recipient,
                    follow,
                    kinds,
                    locale,
                },
                SubscribersCommand::Remove { recipient } => SubscribersAction::Remove { recipient },
            };
            print!(
                "{}",
                commands::subscribers(&config, sink.as_deref(), action).await?
            );
            Ok(())
        }
        #[cfg(feature = "console")]
        Command::Replay { .. } => Ok(()),
    }
}
