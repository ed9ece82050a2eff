//! `tcmu-mmc`: the daemon (no subcommand, or `run`) and its command-line tools.
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use tcmu_mmc::daemon;
use tcmu_mmc::media::{self, state};

/// Virtual DVD/CD writers for Linux LIO, served over TCMU from image files.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// Directory for the pid file and the control socket.
    #[arg(long, default_value = "/run/tcmu-mmc", global = true)]
    run_dir: PathBuf,
    /// The daemon opens media only under these directories (repeat for several; symlinks
    /// leading outside are refused). Default: anywhere.
    #[arg(long = "media-dir", value_name = "DIR", global = true)]
    media_dirs: Vec<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve every TCMU device of subtype "mmc" (the default).
    Run {
        /// Do not offer targetcli's user:mmc backstores on the system D-Bus.
        #[arg(long)]
        no_dbus: bool,
    },
    /// List the drives: device, profile, tray, disc state, image, capacity and used blocks.
    /// Live from the running daemon; drives it does not serve are read from their files
    /// (never opened for writing).
    Status {
        /// Print JSON (an array of drives) instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Make targetcli's saved configuration safe to restore while tcmu-runner runs: put
    /// `nl_reply_supported=-1` into the control string of every user:mmc backstore in it
    /// (rtslib's saveconfig drops it). The systemd unit runs it before target.service.
    SaveconfigPrepare {
        /// The file `targetctl restore` reads.
        #[arg(default_value = "/etc/target/saveconfig.json")]
        file: PathBuf,
    },
    /// Create and inspect disc images.
    Disc {
        #[command(subcommand)]
        action: DiscAction,
    },
}

#[derive(Subcommand, Debug)]
enum DiscAction {
    /// Create a blank disc: an empty image and its recorded type.
    Create {
        /// dvd+r, dvd+r-dl, dvd-r, dvd-r-dl, dvd+rw, dvd-ram, dvd-rw or cd-rw.
        #[arg(long = "type", value_name = "TYPE")]
        kind: String,
        /// Capacity in 2048-byte blocks (default: the type's usual size).
        #[arg(long)]
        capacity: Option<u32>,
        /// The image file to create (it must not exist).
        file: PathBuf,
    },
    /// Describe an image as the drive would load it.
    Info { file: PathBuf },
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    let result = match cli.command.unwrap_or(Command::Run { no_dbus: false }) {
        Command::Run { no_dbus } => {
            let opts = daemon::Options {
                run_dir: cli.run_dir,
                dbus: !no_dbus,
                media_dirs: cli.media_dirs,
                ..Default::default()
            };
            daemon::run(opts).map_err(|e| e.to_string())
        }
        Command::Status { json } => {
            let (drives, daemon_up) =
                daemon::status::collect(&cli.run_dir, std::path::Path::new("/sys/kernel/config"));
            if json {
                serde_json::to_string_pretty(&drives)
                    .map(|j| println!("{j}"))
                    .map_err(|e| e.to_string())
            } else {
                print!("{}", daemon::status::table(&drives, daemon_up));
                Ok(())
            }
        }
        Command::SaveconfigPrepare { file } => {
            daemon::saveconfig::prepare_file(&file).map(|changed| {
                if changed.is_empty() {
                    println!("{}: nothing to change", file.display());
                } else {
                    println!(
                        "{}: nl_reply_supported=-1 set for {}",
                        file.display(),
                        changed.join(", ")
                    );
                }
            })
        }
        Command::Disc {
            action:
                DiscAction::Create {
                    kind,
                    capacity,
                    file,
                },
        } => state::kind_from_name(&kind)
            .ok_or_else(|| format!("unknown disc type {kind:?}"))
            .and_then(|k| media::create_blank(&file, k, capacity))
            .map(|m| {
                println!(
                    "created blank {} of {} blocks in {}",
                    state::kind_name(m.kind()),
                    m.capacity(),
                    file.display()
                )
            }),
        Command::Disc {
            action: DiscAction::Info { file },
        } => media::describe(&file).map(|line| println!("{line}")),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tcmu-mmc: {e}");
            ExitCode::FAILURE
        }
    }
}
