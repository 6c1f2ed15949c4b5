//! `leaderboard simulate`: realistic synthetic activity, written as NDJSON or sent live into Kafka.

use crate::cli::produce::{LiveTraffic, simulate_into_kafka};
use anyhow::{Context, Result, bail};
use std::io::{BufWriter, Write};
use std::path::PathBuf;

/// The arguments of `simulate`.
#[derive(clap::Args)]
pub struct SimulateArgs {
    /// Where to write the events (NDJSON).
    #[arg(long, required_unless_present = "brokers", conflicts_with = "brokers")]
    pub out: Option<PathBuf>,
    /// Send the events live to Kafka instead, at --rate events per second.
    #[arg(long)]
    pub brokers: Option<String>,
    /// Topic for --brokers.
    #[arg(long, default_value = "activity", requires = "brokers")]
    pub topic: String,
    /// Events per second for --brokers.
    #[arg(long, default_value_t = 1000, requires = "brokers")]
    pub rate: u32,
    /// Partitions of the topic if --brokers has to create it.
    #[arg(long, default_value_t = 3, requires = "brokers")]
    pub partitions: u32,
    /// Where to write the matching organisation file (CSV).
    #[arg(long)]
    pub org_out: Option<PathBuf>,
    /// First simulated local day.
    #[arg(long, default_value = "2016-06-01")]
    pub from: chrono::NaiveDate,
    /// Number of days.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// Who is simulated.
    #[command(flatten)]
    pub population: Population,
}

/// Who is simulated: how many branches and people, and the random seed (`simulate` and `demo`).
#[derive(Debug, Clone, Copy, clap::Args)]
pub struct Population {
    /// Number of branches (from 12 on, the last two are out of scope).
    #[arg(long, default_value_t = 11)]
    pub branches: u32,
    /// Users per branch.
    #[arg(long, default_value_t = 50)]
    pub users_per_branch: u32,
    /// Random seed: the same seed gives the same activity.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// Runs `simulate`.
pub async fn simulate(args: &SimulateArgs) -> Result<()> {
    if args.population.branches == 0 || args.population.users_per_branch == 0 || args.days == 0 {
        bail!("--branches, --users-per-branch and --days must be at least 1");
    }
    let spec = ingest::simulate::SimulationSpec {
        from: args.from,
        days: args.days,
        branches: args.population.branches,
        users_per_branch: args.population.users_per_branch,
        seed: args.population.seed,
        zone: chrono_tz::Asia::Shanghai,
    };
    if let Some(org) = &args.org_out {
        std::fs::write(
            org,
            ingest::simulate::organisation_csv(args.population.branches),
        )
        .with_context(|| format!("cannot write {}", org.display()))?;
    }
    match (&args.out, &args.brokers) {
        (Some(out), _) => simulate_to_file(&spec, out),
        (None, Some(brokers)) => {
            let traffic = LiveTraffic {
                brokers: brokers.clone(),
                topic: args.topic.clone(),
                partitions: args.partitions,
                rate: args.rate,
            };
            let sent = simulate_into_kafka(spec, &traffic).await?;
            eprintln!("sent {sent} events to {}", args.topic);
            Ok(())
        }
        (None, None) => bail!("pass --out FILE or --brokers HOST:PORT"),
    }
}

fn simulate_to_file(spec: &ingest::SimulationSpec, out_path: &std::path::Path) -> Result<()> {
    let file = std::fs::File::create(out_path)
        .with_context(|| format!("cannot create {}", out_path.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, file);
    let mut written = 0u64;
    let mut error = None;
    ingest::simulate::simulate(spec, |event| {
        if error.is_some() {
            return;
        }
        let line = schemas::encode_event(&event, spec.zone);
        if let Err(e) = serde_json::to_writer(&mut out, &line)
            .map_err(anyhow::Error::from)
            .and_then(|_| Ok(out.write_all(b"\n")?))
        {
            error = Some(e);
        }
        written += 1;
    });
    if let Some(e) = error {
        return Err(e.context(format!("writing {}", out_path.display())));
    }
    out.flush()?;
    eprintln!("wrote {written} events to {}", out_path.display());
    Ok(())
}
