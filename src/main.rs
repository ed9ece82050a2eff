//! `tcmu-mmc`: the daemon (no subcommand) and its command-line tools.
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

use tcmu_mmc::daemon;

/// Virtual DVD/CD writers for Linux LIO, served over TCMU from image files.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    /// Directory for the pid file.
    #[arg(long, default_value = "/run/tcmu-mmc")]
    run_dir: PathBuf,
}

fn main() -> ExitCode {
    env_logger::Builder::from_env(env_logger::Env::default().default_filter_or("info")).init();
    let cli = Cli::parse();
    let opts = daemon::Options {
        run_dir: cli.run_dir,
        ..Default::default()
    };
    match daemon::run(opts) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
